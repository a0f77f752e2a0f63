// Runs a workload in-process with the invariant checker on, capturing metrics and the ftrace
// text trace, for the scenario unit tests.
#pragma once

#include <cstdio>
#include <string>

#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "trace/ftrace_writer.h"

namespace proxysim::testing {

struct SimResult {
  Status status;
  RunMetrics metrics;
  std::string trace;

  // The thread named `name`, or the one thread of task `name` (rt-app names it name-<index>).
  const TaskMetrics& task(const std::string& name) const {
    for (const TaskMetrics& t : metrics.tasks)
      if (t.name == name) return t;
    const TaskMetrics* found = nullptr;
    for (const TaskMetrics& t : metrics.tasks) {
      if (t.name.size() <= name.size() + 1 || t.name.compare(0, name.size(), name) != 0 ||
          t.name[name.size()] != '-' ||
          t.name.find_first_not_of("0123456789", name.size() + 1) != std::string::npos)
        continue;
      if (found) {
        ADD_FAILURE() << "task " << name << " has several threads";
        break;
      }
      found = &t;
    }
    if (found) return *found;
    static TaskMetrics none;
    ADD_FAILURE() << "no task " << name;
    return none;
  }
};

// Runs `json` with exactly `opt` (the checker is forced on).
inline SimResult simulate_opts(const std::string& json, SimOptions opt) {
  SimResult r;
  Workload w;
  r.status = load_workload_from_string(json, "test.json", LoadOptions{}, &w);
  if (!r.status.is_ok()) return r;
  opt.check = true;
  std::FILE* f = std::tmpfile();
  MetricsCollector metrics;
  FtraceWriter trace(f);
  RunStats stats;
  r.status = run_simulation(w, opt, {&metrics, &trace}, &stats);
  trace.close();
  std::fflush(f);
  std::rewind(f);
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.trace.append(buf, n);
  std::fclose(f);
  stats.wall_s = 0;
  r.metrics = metrics.result(stats);
  return r;
}

inline SimResult simulate(const std::string& json, int cpus, const std::string& costs = "zero",
                          uint64_t seed = 1, Time duration = -1, Time jitter = 0,
                          const std::string& protocol = "none", bool mutex_spin = true) {
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.seed = seed;
  opt.duration = duration;
  opt.protocol = protocol;
  opt.mutex_spin = mutex_spin;
  std::string err;
  if (!CostModel::parse(costs, &opt.costs, &err)) {
    SimResult r;
    r.status = Status::invalid(err);
    return r;
  }
  opt.costs.jitter_max = jitter;
  return simulate_opts(json, opt);
}

}  // namespace proxysim::testing
