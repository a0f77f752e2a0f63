// The public entry point: run one workload under one set of options.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proxysim/observer.h"
#include "proxysim/status.h"
#include "proxysim/types.h"
#include "proxysim/workload.h"

namespace proxysim {

// Latencies of the simulated machine. Defaults are documented in README.md ("Cost model");
// `--costs zero` sets them all to zero for analytic checks.
struct CostModel {
  Time context_switch = 2 * kNsPerUs;  // CPU time of one context switch, charged to next
  Time ipi_latency = 2 * kNsPerUs;     // send -> handler on the target CPU
  Time idle_exit = 10 * kNsPerUs;      // extra delay when the target CPU was idle
  Time migration = 5 * kNsPerUs;       // a migrating task is in flight this long
  Time timer_slack = 50 * kNsPerUs;    // default task timer slack (fair tasks; RT/DL use 0)
  Time jitter_max = 0;                 // --jitter: cross-CPU latencies + U[0, jitter_max]

  static CostModel zero() { return {0, 0, 0, 0, 0, 0}; }
  // "default", "zero", or a comma list "ctxsw=2000,ipi=1000,idle_exit=0,migration=0,slack=0".
  static bool parse(const std::string& spec, CostModel* out, std::string* error);
};

struct SimOptions {
  int nr_cpus = 4;
  uint64_t seed = 1;
  Time duration = -1;  // overrides the workload's duration when >= 0
  int hz = 250;        // tick frequency (CONFIG_HZ)
  CostModel costs;
  bool check = false;             // run the invariant checker after every event
  std::string protocol = "none";  // none, pi, proxy (= proxy:full), proxy:single-rq, proxy:migrate
  bool mutex_spin = true;
  bool donor_load = true;
  // A historical proxy-execution bug switched back on, to show the checker catches it
  // (stale-task-cpu, dangling-donor, runnable-without-return, activate-livelock); empty = none.
  std::string inject;
  // rt-app "mem"/"memrun" as CPU work and "iorun" as a blocking write (bytes per second).
  int64_t mem_bytes_per_s = 10'000'000'000;  // 10 GB/s: memset bandwidth of one core
  int64_t io_bytes_per_s = 500'000'000;      // 500 MB/s: a fast SSD
  // PELT and load balancing view of blocked donors (proxy execution). true (default, as in
  // Linux): a blocked donor stays enqueued and counts in its runqueue's load and runnable
  // averages, so a chain's load lands on the owner's CPU. false (--donor-load ignore): blocked
  // donors count for nothing there; compare both to measure the effect (an open upstream
  // question, "CFS/PELT load handling").         // optimistic spinning of struct mutex
  // (--no-mutex-spin) Called now and then from the event loop (every ~1M events) with the simulated
  // time and the end time (-1 if open-ended); the CLI uses it for a progress line on a terminal.
  std::function<void(Time now, Time end)> progress;
};

// The protocols `--protocol` accepts, in the order `compare` lists them by default.
const std::vector<std::string>& known_protocols();
// The fault names --inject accepts.
const std::vector<std::string>& known_faults();

// Counters the engine reports about itself (not scheduling metrics).
struct RunStats {
  Time sim_time = 0;
  uint64_t events = 0;  // events taken off the event queue and handled
  double wall_s = 0;
};

// Runs `w` to completion (or its duration). Observers receive every event in order.
// Returns kWorkloadFailed for workload errors (DL admission, ...), kInternal for invariant
// violations, with a message naming time, CPU and tasks.
Status run_simulation(const Workload& w, const SimOptions& opt,
                      const std::vector<Observer*>& observers, RunStats* stats);

}  // namespace proxysim
