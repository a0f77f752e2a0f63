// Writers of RunMetrics: the metrics JSON (DESIGN.md §8) and the human summary table.
// Both are deterministic functions of RunMetrics (wall_s aside, which --no-wall drops).
#include <fmt/format.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <string_view>

#include "metrics/metrics.h"

namespace proxysim {
namespace {

using JsonWriter = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void key(JsonWriter& w, std::string_view k) {
  w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

void str(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void write_task(JsonWriter& w, const TaskMetrics& t) {
  w.StartObject();
  key(w, "name");
  str(w, t.name);
  key(w, "pid");
  w.Int(t.pid);
  key(w, "policy");
  str(w, policy_name(t.policy));
  key(w, "prio");
  w.Int(t.prio);
  key(w, "cpu_time_ns");
  w.Int64(t.cpu_time_ns);
  key(w, "donated_ns");
  w.Int64(t.donated_ns);
  key(w, "proxy_ns");
  w.Int64(t.proxy_ns);
  key(w, "activations");
  w.Int64(t.activations);
  key(w, "response_ns");
  w.StartObject();
  key(w, "min");
  w.Int64(t.response_ns.min);
  key(w, "mean");
  w.Int64(t.response_ns.mean);
  key(w, "p50");
  w.Int64(t.response_ns.p50);
  key(w, "p99");
  w.Int64(t.response_ns.p99);
  key(w, "max");
  w.Int64(t.response_ns.max);
  w.EndObject();
  key(w, "wakeup_latency_ns");
  w.StartObject();
  key(w, "mean");
  w.Int64(t.wakeup_latency_ns.mean);
  key(w, "p99");
  w.Int64(t.wakeup_latency_ns.p99);
  key(w, "max");
  w.Int64(t.wakeup_latency_ns.max);
  w.EndObject();
  key(w, "lock_wait_ns");
  w.StartObject();
  key(w, "total");
  w.Int64(t.lock_wait_ns.total);
  key(w, "max");
  w.Int64(t.lock_wait_ns.max);
  key(w, "count");
  w.Int64(t.lock_wait_ns.count);
  w.EndObject();
  key(w, "owner_starved_ns");
  w.Int64(t.owner_starved_ns);
  key(w, "deadline_misses");
  w.Int64(t.deadline_misses);
  key(w, "migrations");
  w.StartObject();
  for (int r = 0; r < kNrMigrateReasons; ++r) {
    key(w, migrate_reason_name(static_cast<MigrateReason>(r)));
    w.Int64(t.migrations[static_cast<size_t>(r)]);
  }
  key(w, "total");
  w.Int64(t.migrations_total);
  w.EndObject();
  key(w, "switches");
  w.StartObject();
  key(w, "voluntary");
  w.Int64(t.switches_voluntary);
  key(w, "involuntary");
  w.Int64(t.switches_involuntary);
  w.EndObject();
  w.EndObject();
}

void write_run(JsonWriter& w, const RunMetrics& run, const JsonOptions& opt) {
  w.StartObject();
  key(w, "protocol");
  str(w, run.protocol);
  key(w, "nr_cpus");
  w.Int(run.nr_cpus);
  key(w, "seed");
  w.Uint64(run.seed);
  key(w, "sim_time_ns");
  w.Int64(run.stats.sim_time);
  key(w, "events");
  w.Uint64(run.stats.events);
  if (opt.wall) {
    key(w, "wall_s");
    w.Double(run.stats.wall_s);
  }
  key(w, "deadlocks");
  w.StartArray();
  for (const std::string& d : run.deadlocks) str(w, d);
  w.EndArray();
  key(w, "tasks");
  w.StartArray();
  for (const TaskMetrics& t : run.tasks) write_task(w, t);
  w.EndArray();
  key(w, "cpus");
  w.StartArray();
  for (const CpuMetrics& c : run.cpus) {
    w.StartObject();
    key(w, "cpu");
    w.Int(c.cpu);
    key(w, "busy_ns");
    w.Int64(c.busy_ns);
    key(w, "idle_ns");
    w.Int64(c.idle_ns);
    key(w, "proxy_ns");
    w.Int64(c.proxy_ns);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void setup(JsonWriter& w) {
  w.SetIndent(' ', 2);
  w.SetMaxDecimalPlaces(6);  // wall_s: microseconds are plenty
}

// ---- summary table ----

// "FIFO/10" (rt priority), "OTHER/0" (nice), "DL".
std::string policy_prio(Policy p, int prio) {
  switch (p) {
    case Policy::kFifo: return fmt::format("FIFO/{}", 99 - prio);
    case Policy::kRr: return fmt::format("RR/{}", 99 - prio);
    case Policy::kNormal: return fmt::format("OTHER/{}", prio - 120);
    case Policy::kBatch: return fmt::format("BATCH/{}", prio - 120);
    case Policy::kIdle: return fmt::format("IDLE/{}", prio - 120);
    case Policy::kDeadline: return "DL";
  }
  return "?";
}

// ns -> "12.345" ms (truncated to µs).
std::string ms3(int64_t ns) {
  std::string sign = ns < 0 ? "-" : "";
  if (ns < 0) ns = -ns;
  return fmt::format("{}{}.{:03}", sign, ns / kNsPerMs, (ns % kNsPerMs) / kNsPerUs);
}

// A duration with its unit: "850.2us" below 1 ms, else "12.345ms" (truncated).
std::string duration(int64_t ns) {
  if (ns < 0) return "-" + duration(-ns);
  if (ns < kNsPerMs) return fmt::format("{}.{}us", ns / kNsPerUs, (ns % kNsPerUs) / 100);
  return ms3(ns) + "ms";
}

// part / whole as "45.2%", rounded to the nearest 0.1 %.
std::string percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "-";
  while (part > INT64_MAX / 2000 || whole > INT64_MAX / 2000) {
    part /= 2;
    whole /= 2;
  }
  int64_t permille = (part * 1000 + whole / 2) / whole;
  return fmt::format("{}.{}%", permille / 10, permille % 10);
}

// A compact duration of at most 6 characters below 10^5 s, truncated to 3 significant digits:
// "0", "850ns", "8.50us", "45.6us", "135us", "1.06ms", "12.3ms", "1.23s", "1234s".
std::string compact(int64_t ns) {
  if (ns < 0) return "-" + compact(-ns);
  if (ns == 0) return "0";
  if (ns < kNsPerUs) return fmt::format("{}ns", ns);
  int64_t unit = ns < kNsPerMs ? kNsPerUs : ns < kNsPerSec ? kNsPerMs : kNsPerSec;
  std::string_view suffix = unit == kNsPerUs ? "us" : unit == kNsPerMs ? "ms" : "s";
  int64_t whole = ns / unit;
  int64_t frac = ns % unit;
  if (whole < 10) return fmt::format("{}.{:02}{}", whole, frac * 100 / unit, suffix);
  if (whole < 100) return fmt::format("{}.{}{}", whole, frac * 10 / unit, suffix);
  return fmt::format("{}{}", whole, suffix);
}

// Rows of cells; column 0 (and columns flagged in `left`) left-aligned, others right-aligned;
// two spaces between columns, no trailing spaces.
void append_table(std::string* out, const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& left) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto it = std::back_inserter(*out);
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      bool l = i < left.size() && left[i];
      size_t pad = width[i] - row[i].size();
      if (!l) line.append(pad, ' ');
      line += row[i];
      if (l && i + 1 < row.size()) line.append(pad, ' ');
    }
    fmt::format_to(it, "{}\n", line);
  }
}

}  // namespace

std::string metrics_json(const RunMetrics& run, const JsonOptions& opt) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  setup(w);
  write_run(w, run, opt);
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

std::string metrics_json(const std::vector<RunMetrics>& runs, const JsonOptions& opt) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  setup(w);
  w.StartObject();
  key(w, "runs");
  w.StartArray();
  for (const RunMetrics& run : runs) write_run(w, run, opt);
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

std::string summary_table(const RunMetrics& run) {
  std::string out = fmt::format("protocol {}  cpus {}  seed {}  simulated {} s  events {}\n",
                                run.protocol, run.nr_cpus, run.seed,
                                fmt::format("{}.{:06}", run.stats.sim_time / kNsPerSec,
                                            (run.stats.sim_time % kNsPerSec) / kNsPerUs),
                                run.stats.events);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"task", "pid", "policy", "cpu ms", "acts", "resp p50", "resp p99", "resp max",
                  "wake max", "migr", "dl miss"});
  for (const TaskMetrics& t : run.tasks) {
    bool acts = t.activations > 0;
    bool wakes = t.wakeup_latency_ns.count > 0;
    rows.push_back(
        {t.name, fmt::format("{}", t.pid), policy_prio(t.policy, t.prio), ms3(t.cpu_time_ns),
         fmt::format("{}", t.activations), acts ? duration(t.response_ns.p50) : "-",
         acts ? duration(t.response_ns.p99) : "-", acts ? duration(t.response_ns.max) : "-",
         wakes ? duration(t.wakeup_latency_ns.max) : "-", fmt::format("{}", t.migrations_total),
         fmt::format("{}", t.deadline_misses)});
  }
  append_table(&out, rows, {true, false, true});
  rows.clear();
  rows.push_back({"cpu", "busy", "busy ms", "proxy ms"});
  for (const CpuMetrics& c : run.cpus) {
    rows.push_back({fmt::format("{}", c.cpu), percent(c.busy_ns, c.busy_ns + c.idle_ns),
                    ms3(c.busy_ns), ms3(c.proxy_ns)});
  }
  out += "\n";
  append_table(&out, rows, {true});
  return out;
}

std::string summary_table(const std::vector<RunMetrics>& runs) {
  std::string out;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i > 0) out += "\n";
    out += summary_table(runs[i]);
  }
  return out;
}

std::string compare_table(const std::vector<RunMetrics>& runs) {
  std::string out;
  size_t pw = 0;
  for (const RunMetrics& r : runs) pw = std::max(pw, r.protocol.size());
  for (const RunMetrics& r : runs) {
    out += fmt::format("{:<{}}  simulated {}.{:06} s  events {}  deadlocks {}\n", r.protocol, pw,
                       r.stats.sim_time / kNsPerSec, (r.stats.sim_time % kNsPerSec) / kNsPerUs,
                       r.stats.events, r.deadlocks.size());
  }
  if (runs.empty()) return out;

  // Rows: the union of the runs' tasks, matched by (id, name), ordered by id (then by first
  // appearance).
  struct Row {
    int id;
    std::string name;
  };
  std::vector<Row> rows;
  for (const RunMetrics& r : runs) {
    for (const TaskMetrics& t : r.tasks) {
      auto same = [&](const Row& row) { return row.id == t.id && row.name == t.name; };
      if (std::find_if(rows.begin(), rows.end(), same) == rows.end())
        rows.push_back({t.id, t.name});
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.id < b.id; });

  constexpr size_t kCols = 6;
  static constexpr std::array<std::string_view, kCols> kHeads = {"r.p99", "r.max", "lk.max",
                                                                 "starv", "cpu",   "migr"};
  const size_t ncols = kCols * runs.size();
  // cells[0] is the header row; cells[1 + i] belongs to rows[i].
  std::vector<std::vector<std::string>> cells(rows.size() + 1);
  for (size_t g = 0; g < runs.size(); ++g) {
    for (std::string_view h : kHeads) cells[0].emplace_back(h);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string>& c = cells[i + 1];
    for (const RunMetrics& r : runs) {
      auto it = std::find_if(r.tasks.begin(), r.tasks.end(), [&](const TaskMetrics& t) {
        return t.id == rows[i].id && t.name == rows[i].name;
      });
      if (it == r.tasks.end()) {
        c.insert(c.end(), kCols, "-");
        continue;
      }
      const TaskMetrics& t = *it;
      bool acts = t.activations > 0;
      bool waits = t.lock_wait_ns.count > 0 || t.lock_wait_ns.max > 0;
      c.push_back(acts ? compact(t.response_ns.p99) : "-");
      c.push_back(acts ? compact(t.response_ns.max) : "-");
      c.push_back(waits ? compact(t.lock_wait_ns.max) : "-");
      c.push_back(compact(t.owner_starved_ns));
      c.push_back(compact(t.cpu_time_ns));
      c.push_back(fmt::format("{}", t.migrations_total));
    }
  }
  std::vector<size_t> width(ncols, 0);
  for (const auto& row : cells) {
    for (size_t k = 0; k < ncols; ++k) width[k] = std::max(width[k], row[k].size());
  }
  // A protocol name wider than its group widens the group's first column.
  std::vector<size_t> span(runs.size());
  for (size_t g = 0; g < runs.size(); ++g) {
    size_t w = kCols - 1;
    for (size_t k = 0; k < kCols; ++k) w += width[g * kCols + k];
    if (runs[g].protocol.size() > w) {
      width[g * kCols] += runs[g].protocol.size() - w;
      w = runs[g].protocol.size();
    }
    span[g] = w;
  }
  size_t nw = 4;  // "task"
  for (const Row& row : rows) nw = std::max(nw, row.name.size());

  auto emit = [&out](std::string line) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  out += "\n";
  std::string line(nw, ' ');
  for (size_t g = 0; g < runs.size(); ++g)
    line += fmt::format(" | {:<{}}", runs[g].protocol, span[g]);
  emit(line);
  for (size_t i = 0; i < cells.size(); ++i) {
    line = fmt::format("{:<{}}", i == 0 ? std::string_view("task") : rows[i - 1].name, nw);
    for (size_t k = 0; k < ncols; ++k) {
      line += k % kCols == 0 ? " | " : " ";
      line += fmt::format("{:>{}}", cells[i][k], width[k]);
    }
    emit(line);
  }
  return out;
}

}  // namespace proxysim
