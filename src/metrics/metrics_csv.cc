// CSV writers of RunMetrics (see metrics_csv.h; columns in docs/metrics.md). Deterministic
// functions of RunMetrics: wall_s is left out.
#include "metrics/metrics_csv.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace proxysim {
namespace {

using Buf = fmt::memory_buffer;

void put(Buf& b, std::string_view s) { b.append(s.data(), s.data() + s.size()); }
void put_int(Buf& b, int64_t v) { fmt::format_to(std::back_inserter(b), ",{}", v); }

// The row prefix: the run's protocol and a comma, when asked for.
void begin_row(Buf& b, const RunMetrics& run, bool protocol_column) {
  if (protocol_column) {
    put(b, csv_field(run.protocol));
    b.push_back(',');
  }
}

void header(Buf& b, bool protocol_column, std::string_view columns) {
  if (protocol_column) put(b, "protocol,");
  put(b, columns);
  b.push_back('\n');
}

std::string text(const Buf& b) { return std::string(b.data(), b.size()); }

}  // namespace

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string runs_csv(const std::vector<RunMetrics>& runs) {
  Buf b;
  put(b, "protocol,nr_cpus,seed,sim_time_ns,events,deadlocks\n");
  for (const RunMetrics& r : runs) {
    put(b, csv_field(r.protocol));
    fmt::format_to(std::back_inserter(b), ",{},{},{},{},{}\n", r.nr_cpus, r.seed, r.stats.sim_time,
                   r.stats.events, r.deadlocks.size());
  }
  return text(b);
}

std::string tasks_csv(const std::vector<RunMetrics>& runs, bool protocol_column) {
  Buf b;
  std::string cols =
      "name,pid,policy,prio,cpu_time_ns,donated_ns,proxy_ns,activations,"
      "response_ns.min,response_ns.mean,response_ns.p50,response_ns.p99,response_ns.max,"
      "wakeup_latency_ns.mean,wakeup_latency_ns.p99,wakeup_latency_ns.max,"
      "lock_wait_ns.total,lock_wait_ns.max,lock_wait_ns.count,owner_starved_ns,deadline_misses";
  for (int r = 0; r < kNrMigrateReasons; ++r)
    cols += fmt::format(",migrations.{}", migrate_reason_name(static_cast<MigrateReason>(r)));
  cols += ",migrations.total,switches.voluntary,switches.involuntary";
  header(b, protocol_column, cols);
  for (const RunMetrics& run : runs) {
    for (const TaskMetrics& t : run.tasks) {
      begin_row(b, run, protocol_column);
      put(b, csv_field(t.name));
      put_int(b, t.pid);
      b.push_back(',');
      put(b, csv_field(policy_name(t.policy)));
      for (int64_t v :
           {static_cast<int64_t>(t.prio), t.cpu_time_ns, t.donated_ns, t.proxy_ns, t.activations,
            t.response_ns.min, t.response_ns.mean, t.response_ns.p50, t.response_ns.p99,
            t.response_ns.max, t.wakeup_latency_ns.mean, t.wakeup_latency_ns.p99,
            t.wakeup_latency_ns.max, t.lock_wait_ns.total, t.lock_wait_ns.max, t.lock_wait_ns.count,
            t.owner_starved_ns, t.deadline_misses})
        put_int(b, v);
      for (int64_t v : t.migrations) put_int(b, v);
      put_int(b, t.migrations_total);
      put_int(b, t.switches_voluntary);
      put_int(b, t.switches_involuntary);
      b.push_back('\n');
    }
  }
  return text(b);
}

std::string cpus_csv(const std::vector<RunMetrics>& runs, bool protocol_column) {
  Buf b;
  header(b, protocol_column, "cpu,busy_ns,idle_ns,proxy_ns");
  for (const RunMetrics& run : runs) {
    for (const CpuMetrics& c : run.cpus) {
      begin_row(b, run, protocol_column);
      fmt::format_to(std::back_inserter(b), "{},{},{},{}\n", c.cpu, c.busy_ns, c.idle_ns,
                     c.proxy_ns);
    }
  }
  return text(b);
}

std::string activations_csv(const std::vector<RunMetrics>& runs, bool protocol_column) {
  Buf b;
  header(b, protocol_column,
         "task,pid,activation,phase,pass,phase_loop,start_ns,end_ns,response_ns,deadline_ns,"
         "missed,run_ns,wu_lat_ns,c_duration_ns,c_period_ns");
  for (const RunMetrics& run : runs) {
    // Task ids are dense but a task that never appeared in an event has no TaskMetrics.
    std::vector<const TaskMetrics*> by_id;
    for (const TaskMetrics& t : run.tasks) {
      if (t.id >= static_cast<int>(by_id.size())) by_id.resize(static_cast<size_t>(t.id) + 1);
      by_id[static_cast<size_t>(t.id)] = &t;
    }
    for (const ActivationRecord& rec : run.activation_log) {
      const TaskMetrics* t = rec.task_id >= 0 && rec.task_id < static_cast<int>(by_id.size())
                                 ? by_id[static_cast<size_t>(rec.task_id)]
                                 : nullptr;
      const Activation& a = rec.a;
      begin_row(b, run, protocol_column);
      put(b, csv_field(t ? std::string_view(t->name) : std::string_view()));
      put_int(b, t ? t->pid : 0);
      fmt::format_to(std::back_inserter(b), ",{},{},{},{},{},{},{},", a.index, a.phase, a.pass,
                     a.phase_loop, a.start, a.end, a.end - a.start);
      bool has_deadline = a.deadline != kTimeNever;
      if (has_deadline) fmt::format_to(std::back_inserter(b), "{}", a.deadline);
      fmt::format_to(std::back_inserter(b), ",{},{},{},{},{}\n",
                     has_deadline && a.end > a.deadline ? 1 : 0, a.run_ns, a.wu_lat, a.c_duration,
                     a.c_period);
    }
  }
  return text(b);
}

Status write_metrics_csv(const std::string& dir, const std::vector<RunMetrics>& runs,
                         bool protocol_column) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status::invalid(
        fmt::format("--csv {}: cannot create the directory: {}", dir, ec.message()));
  if (!std::filesystem::is_directory(dir, ec))
    return Status::invalid(fmt::format("--csv {}: not a directory", dir));
  const std::pair<const char*, std::string> files[] = {
      {"runs.csv", runs_csv(runs)},
      {"tasks.csv", tasks_csv(runs, protocol_column)},
      {"cpus.csv", cpus_csv(runs, protocol_column)},
      {"activations.csv", activations_csv(runs, protocol_column)},
  };
  for (const auto& [name, body] : files) {
    std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream f(path, std::ios::binary);
    f << body;
    f.close();
    if (!f) return Status::invalid(fmt::format("--csv {}: cannot write {}", dir, path));
  }
  return Status::ok();
}

}  // namespace proxysim
