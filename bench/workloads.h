// Workload generators shared by the benchmark files.
#pragma once

#include <cstdint>
#include <string>

#include "sim/event_queue.h"

namespace proxysim::bench {

// Scale: `tasks` fair tasks of mixed nice, each looping run U[50,2000] us / sleep U[1,50] ms.
// Random but fixed per task index and seed, so one workload per size. Each run/sleep pair is
// one rt-app phase; a task has 4 of them.
inline std::string random_fair(int tasks, uint64_t seed) {
  Rng rng(seed);
  std::string json = R"({"tasks": {)";
  for (int i = 0; i < tasks; ++i) {
    json += (i ? ",\"t" : "\"t") + std::to_string(i) + R"(": {"priority": )" +
            std::to_string(static_cast<int>(rng.below(11)) - 5) + R"(, "phases": {)";
    for (int ph = 0; ph < 4; ++ph)
      json += (ph ? ",\"p" : "\"p") + std::to_string(ph) + R"(": {"run": )" +
              std::to_string(50 + rng.below(1950)) + R"(, "sleep": )" +
              std::to_string(1000 + rng.below(49000)) + "}";
    json += "}}";
  }
  return json + "}}";
}

// Many instanced sleepers, the way a user writes a million threads with rt-app: `defs` task
// definitions of `instances` threads each. A definition runs U[50,500] us, then sleeps
// U[2,20] s, after an initial delay U[0,1] s (spreads the start); random but fixed per
// definition index and seed. At 1,000 x 1,000 threads that is ~25 CPUs of demand: mostly
// sleeping on 64 CPUs. (Sleeps of 0.1-2 s would ask for ~260 CPUs: an overloaded system.)
inline std::string instanced_sleepers(int defs, int instances, uint64_t seed) {
  Rng rng(seed);
  std::string json = R"({"tasks": {)";
  for (int i = 0; i < defs; ++i) {
    json += (i ? ",\"s" : "\"s") + std::to_string(i) + R"(": {"instance": )" +
            std::to_string(instances) + R"(, "delay": )" + std::to_string(rng.below(1000000)) +
            R"(, "run": )" + std::to_string(50 + rng.below(451)) + R"(, "sleep": )" +
            std::to_string(2000000 + rng.below(18000001)) + "}";
  }
  return json + "}}";
}

// 16 CPUs: 4 DL tasks, 8 periodic FIFO/RR tasks, 32 fair tasks of mixed nice, for 10 s.
inline std::string mixed16() {
  return R"({"global": {"duration": 10}, "tasks": {
    "dl": {"instance": 4, "policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-period": 10000,
           "run": 1500, "timer": {"ref": "unique", "period": 10000}},
    "rt": {"instance": 4, "policy": "SCHED_FIFO", "priority": 40, "run": 300,
           "timer": {"ref": "unique", "period": 2000}},
    "rr": {"instance": 4, "policy": "SCHED_RR", "priority": 20, "run": 5000, "sleep": 15000},
    "web": {"instance": 16, "priority": 0, "run": 800, "sleep": 1200},
    "batch": {"instance": 8, "priority": 5, "run": 20000, "sleep": 500},
    "bg": {"instance": 8, "priority": 15, "run": 100000}}})";
}

// The SCHED_DEADLINE set of issue 8 (4 CPUs): periods 5..50 ms, runtime 0.3 x period (the
// job's run 100 us shorter), for 100 s.
inline std::string dl_set() {
  std::string json = R"({"global": {"duration": 100}, "tasks": {)";
  const int periods[] = {5, 7, 10, 12, 15, 20, 25, 30, 40, 50};
  for (int i = 0; i < 10; ++i) {
    int p = periods[i] * 1000;
    json += (i ? "," : "") + std::string("\"dl") + std::to_string(i) +
            R"(": {"policy": "SCHED_DEADLINE", "dl-runtime": )" + std::to_string(p * 3 / 10) +
            R"(, "dl-period": )" + std::to_string(p) + R"(, "run": )" +
            std::to_string(p * 3 / 10 - 100) + R"(, "timer": {"ref": "unique", "period": )" +
            std::to_string(p) + "}}";
  }
  return json + "}}";
}

// ksched_football (tests/unit/locking_test.cc) on n CPUs, 1 s: per CPU a chain
// high -> M_i -> mid -> L_i -> low; offense hogs and fans that wake and sleep.
inline std::string football(int n) {
  std::string j = R"({"global": {"duration": 1}, "tasks": {)";
  for (int i = 0; i < n; ++i) {
    std::string s = std::to_string(i);
    j += "\"low" + s + R"(": {"policy": "SCHED_FIFO", "priority": 2, "loop": 1, "lock": "L)" + s +
         R"(", "run": 2000000, "unlock": "L)" + s + "\"},";
    j += "\"mid" + s + R"(": {"policy": "SCHED_FIFO", "priority": 3, "delay": 1000, "loop": 1, )" +
         R"("lock": "M)" + s + R"(", "lock2": "L)" + s + R"(", "unlock2": "L)" + s +
         R"(", "unlock": "M)" + s + "\"},";
    j += "\"high" + s +
         R"(": {"policy": "SCHED_FIFO", "priority": 10, "delay": 2000, "loop": 1, )" +
         R"("lock": "M)" + s + R"(", "unlock": "M)" + s + "\"},";
  }
  j += R"("offense": {"instance": )" + std::to_string(n) +
       R"(, "policy": "SCHED_FIFO", "priority": 5, "delay": 3000, "run": 1000000},)";
  j += R"("fan": {"instance": )" + std::to_string(n) +
       R"(, "policy": "SCHED_FIFO", "priority": 15, "delay": 3000, "run": 500, "sleep": 2000}}})";
  return j;
}
}  // namespace proxysim::bench
