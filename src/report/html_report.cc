// The HTML report: the runs' data as compact JSON (docs/html-report.md) inside one page with the
// renderer's CSS and JavaScript.
#include "report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <string_view>

#include "report/report_css.h"
#include "report/report_js.h"
#include "util/json_string.h"

namespace proxysim {
namespace {

using Buf = fmt::memory_buffer;

// A JSON string literal, safe inside a <script> element.
void json_str(Buf& b, std::string_view s) { append_json_string(b, s, /*script_safe=*/true); }

// Text for HTML element content or a double-quoted attribute.
std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// {"n","min","mean","p50","p99","max","q"}: the summary of docs/metrics.md and the sorted
// samples (all of them up to kReportQuantiles, else the minimum and kReportQuantiles
// nearest-rank quantiles), delta-coded: q[0] is the first value, q[i] the step from q[i-1].
void distribution(Buf& b, const std::vector<int64_t>& samples) {
  Distribution d = summarize(samples);
  fmt::format_to(std::back_inserter(b),
                 "{{\"n\":{},\"min\":{},\"mean\":{},\"p50\":{},\"p99\":{},"
                 "\"max\":{},\"q\":[",
                 d.count, d.min, d.mean, d.p50, d.p99, d.max);
  std::vector<int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> q;
  auto n = static_cast<int64_t>(sorted.size());
  if (n <= kReportQuantiles) {
    q = sorted;
  } else {
    q.push_back(sorted.front());
    for (int64_t i = 1; i <= kReportQuantiles; ++i) {
      int64_t rank = (i * n + kReportQuantiles - 1) / kReportQuantiles;  // ceil(i * n / K)
      q.push_back(sorted[static_cast<size_t>(std::clamp<int64_t>(rank, 1, n) - 1)]);
    }
  }
  int64_t prev = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    fmt::format_to(std::back_inserter(b), "{}{}", i ? "," : "", q[i] - prev);
    prev = q[i];
  }
  b.append(std::string_view("]}"));
}

void task_json(Buf& b, const TimelineTask& t, const TaskMetrics* m) {
  b.append(std::string_view("{\"id\":"));
  fmt::format_to(std::back_inserter(b), "{},\"name\":", t.id);
  json_str(b, t.name);
  fmt::format_to(std::back_inserter(b), ",\"pid\":{},\"policy\":", t.pid);
  json_str(b, policy_name(t.policy));
  fmt::format_to(std::back_inserter(b), ",\"prio\":{}", t.prio);
  if (m != nullptr) {
    fmt::format_to(std::back_inserter(b),
                   ",\"m\":{{\"cpu_time\":{},\"proxy\":{},\"donated\":{},\"activations\":{},"
                   "\"lock_wait_total\":{},\"lock_wait_max\":{},\"lock_wait_count\":{},"
                   "\"owner_starved\":{},\"deadline_misses\":{},\"migrations\":{},"
                   "\"voluntary\":{},\"involuntary\":{}}}",
                   m->cpu_time_ns, m->proxy_ns, m->donated_ns, m->activations,
                   m->lock_wait_ns.total, m->lock_wait_ns.max, m->lock_wait_ns.count,
                   m->owner_starved_ns, m->deadline_misses, m->migrations_total,
                   m->switches_voluntary, m->switches_involuntary);
  }
  b.append(std::string_view(",\"wl\":"));
  distribution(b, t.wakeup_latency);
  b.append(std::string_view(",\"rt\":"));
  distribution(b, t.response);
  b.push_back('}');
}

void run_json(Buf& b, const ReportRun& r) {
  const Timeline& tl = r.timeline;
  const RunMetrics& m = r.metrics;
  b.append(std::string_view("{\"protocol\":"));
  json_str(b, tl.protocol);
  fmt::format_to(std::back_inserter(b), ",\"nr_cpus\":{},\"end\":{},\"events\":{},\"deadlocks\":[",
                 tl.nr_cpus, tl.end, m.stats.events);
  for (size_t i = 0; i < m.deadlocks.size(); ++i) {
    if (i) b.push_back(',');
    json_str(b, m.deadlocks[i]);
  }
  b.append(std::string_view("],\"tasks\":["));
  bool first = true;
  for (const TimelineTask& t : tl.tasks) {
    if (t.id < 0) continue;
    const TaskMetrics* tm = nullptr;
    for (const TaskMetrics& x : m.tasks)
      if (x.id == t.id) tm = &x;
    if (!first) b.push_back(',');
    first = false;
    task_json(b, t, tm);
  }
  b.append(std::string_view("],\"locks\":["));
  for (size_t i = 0; i < tl.locks.size(); ++i) {
    if (i) b.push_back(',');
    json_str(b, tl.locks[i]);
  }
  // Slices per CPU: gap from the previous slice's end (from 0 for the first), duration, task,
  // donor, prio, how it ended.
  b.append(std::string_view("],\"cpus\":["));
  for (size_t c = 0; c < tl.cpus.size(); ++c) {
    b.append(std::string_view(c ? ",[" : "["));
    Time prev_end = 0;
    for (size_t i = 0; i < tl.cpus[c].size(); ++i) {
      const Slice& s = tl.cpus[c][i];
      fmt::format_to(std::back_inserter(b), "{}{},{},{},{},{},{}", i ? "," : "", s.start - prev_end,
                     s.end - s.start, s.task, s.donor, s.prio, static_cast<int>(s.how));
      prev_end = s.end;
    }
    b.push_back(']');
  }
  // Lock bands: task, start as a step from the previous band's start, duration, lock, kind
  // (0 hold, 1 wait), depth.
  b.append(std::string_view("],\"bands\":["));
  Time prev = 0;
  for (size_t i = 0; i < tl.bands.size(); ++i) {
    const LockBand& l = tl.bands[i];
    fmt::format_to(std::back_inserter(b), "{}{},{},{},{},{},{}", i ? "," : "", l.task,
                   l.start - prev, l.end - l.start, l.lock, static_cast<int>(l.kind), l.depth);
    prev = l.start;
  }
  // Migrations: time step from the previous one, task, from, to, reason index.
  b.append(std::string_view("],\"migr\":["));
  prev = 0;
  for (size_t i = 0; i < tl.migrations.size(); ++i) {
    const Migration& g = tl.migrations[i];
    fmt::format_to(std::back_inserter(b), "{}{},{},{},{},{}", i ? "," : "", g.t - prev, g.task,
                   g.from, g.to, static_cast<int>(g.reason));
    prev = g.t;
  }
  b.append(std::string_view("]}"));
}

}  // namespace

std::string report_data_json(const std::vector<ReportRun>& runs, const ReportInfo& info) {
  Buf b;
  b.append(std::string_view("{\"version\":1,\"workload\":"));
  json_str(b, info.workload_file);
  fmt::format_to(std::back_inserter(b), ",\"seed\":{},\"reasons\":[", info.seed);
  for (int r = 0; r < static_cast<int>(MigrateReason::kCount); ++r) {
    if (r) b.push_back(',');
    json_str(b, migrate_reason_name(static_cast<MigrateReason>(r)));
  }
  b.append(std::string_view("],\"runs\":["));
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i) b.push_back(',');
    run_json(b, runs[i]);
  }
  b.append(std::string_view("]}"));
  return fmt::to_string(b);
}

std::string html_report(const std::vector<ReportRun>& runs, const ReportInfo& info) {
  std::string protocols;
  for (const ReportRun& r : runs) {
    if (!protocols.empty()) protocols += ", ";
    protocols += r.timeline.protocol;
  }
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>proxysim: {} ({})</title>\n", html_escape(info.workload_file),
                     html_escape(protocols));
  out += "<style>\n";
  out += kReportCss;
  out += "</style>\n</head>\n<body>\n";
  out += "<noscript>This report draws its timelines with JavaScript.</noscript>\n";
  out += "<div id=\"app\"></div>\n<div id=\"tooltip\" hidden></div>\n";
  out += "<script type=\"application/json\" id=\"proxysim-data\">";
  out += report_data_json(runs, info);
  out += "</script>\n<script>\n";
  out += kReportJs;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace proxysim
