// `proxysim stress`: seeded random workloads run under every protocol with jittered cross-CPU
// latencies and the invariant checker on, optionally with a historical proxy-execution bug
// switched back on (--inject) to show that the checker catches it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "proxysim/status.h"
#include "proxysim/types.h"

namespace proxysim {

struct StressOptions {
  uint64_t first_seed = 1;
  uint64_t seeds = 100;
  std::vector<std::string> protocols;  // empty: every known protocol
  double time_budget_s = 0;            // > 0: stop starting new seeds after this wall time
  std::string inject;                  // a fault name (see kernel/faults), or empty
  Time duration = 200 * kNsPerMs;      // simulated time per run
  Time jitter = 20 * kNsPerUs;         // --jitter of every run
  bool shrink = false;                 // reduce the first failure to a minimal workload
  std::string shrink_out;              // where to write it (rt-app JSON)
  int jobs = 1;                        // seeds run at once, one thread each; 0: per hw thread
};

// The workload of `seed`: rt-app JSON, and the CPU count to run it on.
std::string stress_workload(uint64_t seed, int* cpus);

// Runs the stress campaign; prints one line per failing (seed, protocol) to `out` and a summary
// line. Returns 3 if any run failed, 0 otherwise, 2 for bad options. With jobs > 1 the seeds
// run on several threads and are reported in seed order: the output is that of jobs = 1 but for
// the wall time of the summary line (and, with a time budget, how many seeds fit in it).
int run_stress(const StressOptions& opt, std::ostream& out);

}  // namespace proxysim
