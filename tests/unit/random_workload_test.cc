// Randomized workloads under every protocol with jitter and the invariant checker on. A run may
// end in a reported deadlock (exit 1: the generator can build lock cycles) but never in an
// invariant violation or a hang. Each failure prints its seed; failing seeds become scenarios.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "sim/event_queue.h"
#include "sim_harness.h"

namespace proxysim {
namespace {

std::string random_workload(uint64_t seed, int* cpus) {
  Rng rng(seed);
  *cpus = 1 + static_cast<int>(rng.below(4));
  const int nlocks = 1 + static_cast<int>(rng.below(3));
  const int ntasks = 2 + static_cast<int>(rng.below(7));
  std::ostringstream j;
  j << R"({"global": {"duration": 1}, "tasks": {)";
  for (int t = 0; t < ntasks; ++t) {
    if (t) j << ",";
    j << "\"t" << t << "\": {";
    switch (rng.below(4)) {
      case 0: j << R"("policy": "SCHED_FIFO", "priority": )" << 1 + rng.below(60) << ","; break;
      case 1: j << R"("policy": "SCHED_RR", "priority": )" << 1 + rng.below(60) << ","; break;
      case 2:
        if (rng.below(3) == 0) {
          j << R"("policy": "SCHED_DEADLINE", "dl-runtime": 1000, "dl-period": )" << 10000 * *cpus
            << ",";
          break;
        }
        [[fallthrough]];
      default: j << R"("priority": )" << static_cast<int>(rng.below(40)) - 20 << ",";
    }
    if (rng.below(3) == 0) {
      int c = static_cast<int>(rng.below(*cpus));
      bool dl = j.str().rfind("SCHED_DEADLINE") != std::string::npos &&
                j.str().rfind("SCHED_DEADLINE") > j.str().rfind("\"t" + std::to_string(t));
      if (!dl) j << R"("cpus": [)" << c << "],";
    }
    if (rng.below(2)) j << R"("delay": )" << rng.below(3000) << ",";
    // Events: a few run/sleep and lock sections, nested in a fixed order (no cycles) unless
    // the seed asks for a reversed pair.
    int a = static_cast<int>(rng.below(nlocks));
    int b = static_cast<int>(rng.below(nlocks));
    j << R"("run": )" << 100 + rng.below(2000) << ",";
    j << R"("lock": "m)" << a << "\",";
    j << R"("run1": )" << 100 + rng.below(3000) << ",";
    if (b != a && rng.below(2)) {
      j << R"("lock1": "m)" << b << R"(", "sleep1": )" << rng.below(1000) << R"(, "unlock1": "m)"
        << b << "\",";
    }
    if (rng.below(3) == 0) j << R"("sleep2": )" << rng.below(2000) << ",";
    j << R"("unlock": "m)" << a << "\",";
    if (rng.below(2)) j << R"("yield": "",)";
    j << R"("timer": {"ref": "unique", "period": )" << 3000 + rng.below(20000) << "}}";
  }
  j << "}}";
  return j.str();
}

// PROXYSIM_RANDOM_SEEDS=N runs more seeds than the suite's 60 (e.g. 2000 for a soak).
TEST(Random, InvariantsHoldUnderEveryProtocol) {
  uint64_t seeds = 60;
  if (const char* env = std::getenv("PROXYSIM_RANDOM_SEEDS"))
    seeds = std::strtoull(env, nullptr, 10);
  int runs = 0, deadlocks = 0;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    int cpus;
    std::string json = random_workload(seed, &cpus);
    for (const std::string& p : known_protocols()) {
      auto r = testing::simulate(json, cpus, "default", seed, 200 * kNsPerMs, 20000, p);
      ++runs;
      if (r.status.code() == StatusCode::kWorkloadFailed &&
          r.status.message().find("deadlock") != std::string::npos) {
        ++deadlocks;
        continue;
      }
      if (r.status.code() == StatusCode::kWorkloadFailed &&
          r.status.message().find("admission") != std::string::npos)
        continue;
      ASSERT_TRUE(r.status.is_ok()) << "seed " << seed << " protocol " << p << " cpus " << cpus
                                    << ": " << r.status.message() << "\n"
                                    << json;
    }
  }
  EXPECT_EQ(runs, static_cast<int>(seeds * known_protocols().size()));
  EXPECT_LT(deadlocks, runs / 2);
}

}  // namespace
}  // namespace proxysim
