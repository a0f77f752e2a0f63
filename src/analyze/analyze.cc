#include "analyze/analyze.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <regex>

#include "metrics/metrics_csv.h"

namespace proxysim {

Status analyze_trace(const AnalyzeOptions& opt, AnalyzeResult* out) {
  std::regex re;
  if (!opt.comm.empty()) {
    try {
      re = std::regex(opt.comm, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Status::invalid(
          fmt::format("--comm {}: bad regular expression: {}", opt.comm, e.what()));
    }
  }
  Status s = read_trace(opt.trace, &out->data);
  if (!s.is_ok()) return s;
  const TraceData& d = out->data;
  out->partial = d.malformed > 0 || d.truncated || d.lost_events > 0;
  if (opt.strict && out->partial)
    return Status::invalid(
        fmt::format("{}: partial trace ({} undecodable records{}{}, {} lost events){}", opt.trace,
                    d.malformed, d.truncated ? ", cut off at the end" : "", "", d.lost_events,
                    d.first_malformed.empty() ? "" : "; first: " + d.first_malformed));

  ReplayOptions ro;
  ro.trace_name = opt.trace;
  ro.deadline_by_comm = opt.deadline_by_comm;
  MetricsCollector mc;
  mc.keep_activations(!opt.csv.empty());
  std::vector<Observer*> obs{&mc};
  replay_trace(d, ro, obs, &out->report);
  const ReplayReport& r = out->report;
  RunStats st;
  st.sim_time = r.span_ns;
  st.events = static_cast<uint64_t>(r.replayed);
  out->metrics = mc.result(st);
  if (!opt.comm.empty()) {
    std::vector<TaskMetrics> keep;
    for (TaskMetrics& t : out->metrics.tasks)
      if (std::regex_search(t.name, re)) keep.push_back(std::move(t));
    out->metrics.tasks = std::move(keep);
  }

  std::string& n = out->notes;
  n += fmt::format("trace {}: {}, {} CPUs, {}.{:06} s from kernel time {}.{:06} s, {} records\n",
                   opt.trace, d.format, d.nr_cpus, r.span_ns / kNsPerSec,
                   (r.span_ns % kNsPerSec) / kNsPerUs, r.origin_ns / kNsPerSec,
                   (r.origin_ns % kNsPerSec) / kNsPerUs, d.events.size());
  std::string skipped;
  for (const auto& [name, count] : d.skipped)
    skipped += fmt::format("{}{} {}", skipped.empty() ? "" : ", ", name, count);
  n += fmt::format("  skipped (events analyze does not use): {}\n",
                   skipped.empty() ? "none" : skipped);
  n += fmt::format(
      "  rt-app markers {}, activations {}; migrations of unknown cause {}; resyncs {} "
      "(untraced {}.{:03} ms)\n",
      r.markers, r.activations, r.unknown_migrations, r.resyncs, r.untraced_ns / kNsPerMs,
      (r.untraced_ns % kNsPerMs) / kNsPerUs);
  if (out->partial) {
    n += fmt::format("  PARTIAL RESULT: {} undecodable records skipped{}, {} lost events{}\n",
                     d.malformed, d.truncated ? " (the trace is cut off at the end)" : "",
                     d.lost_events,
                     d.first_malformed.empty() ? "" : "; first: " + d.first_malformed);
  }
  if (!opt.comm.empty())
    n += fmt::format("  tasks shown: comm matching /{}/ ({} tasks)\n", opt.comm,
                     out->metrics.tasks.size());
  out->data.events.clear();
  out->data.events.shrink_to_fit();
  return Status::ok();
}

int analyze_main(const AnalyzeOptions& opt) {
  AnalyzeResult res;
  Status s = analyze_trace(opt, &res);
  if (!s.is_ok()) {
    std::fprintf(stderr, "proxysim: %s\n", s.message().c_str());
    return s.exit_code();
  }
  if (!opt.metrics.empty()) {
    std::ofstream f(opt.metrics, std::ios::binary);
    JsonOptions jo;
    jo.wall = false;
    f << metrics_json(res.metrics, jo);
    f.close();
    if (!f) {
      std::fprintf(stderr, "proxysim: cannot write %s\n", opt.metrics.c_str());
      return 2;
    }
  }
  if (!opt.csv.empty()) {
    Status cs = write_metrics_csv(opt.csv, {res.metrics}, /*several=*/false);
    if (!cs.is_ok()) {
      std::fprintf(stderr, "proxysim: %s\n", cs.message().c_str());
      return cs.exit_code();
    }
  }
  if (!opt.quiet) {
    std::fputs(summary_table(res.metrics).c_str(), stdout);
    std::fputs("\n", stdout);
    std::fputs(res.notes.c_str(), stdout);
  }
  if (res.partial)
    std::fprintf(stderr,
                 "proxysim: %s: partial result (see the notes; --strict makes it an "
                 "error)\n",
                 opt.trace.c_str());
  return 0;
}

}  // namespace proxysim
