// The built-in demo of `proxysim demo`: three priority-inversion scenarios (rt-app JSON), each
// run under several protocols and compared.
#pragma once

#include <string>
#include <vector>

namespace proxysim {

struct DemoScenario {
  const char* name;
  const char* explanation;  // two sentences printed before the comparison
  int cpus;
  std::vector<std::string> protocols;
  const char* json;
};

inline const std::vector<DemoScenario>& demo_scenarios() {
  static const std::vector<DemoScenario> k = {
      {"classic RT inversion (1 CPU)",
       "low (FIFO 10) holds m when high (FIFO 30) needs it; mid (FIFO 20) then runs 50 ms and, "
       "with a plain mutex, keeps low and therefore high off the CPU.\nPriority inheritance "
       "boosts low, and proxy execution runs low on high's scheduling context: high waits only "
       "for the rest of the critical section.",
       1,
       {"none", "pi", "proxy"},
       R"json({
  "global": { "duration": 1 },
  "tasks": {
    "low":  { "policy": "SCHED_FIFO", "priority": 10, "loop": 1,
              "lock": "m", "run": 10000, "unlock": "m" },
    "high": { "policy": "SCHED_FIFO", "priority": 30, "delay": 2000, "loop": 1,
              "lock": "m", "run": 1000, "unlock": "m" },
    "mid":  { "policy": "SCHED_FIFO", "priority": 20, "delay": 3000, "loop": 1, "run": 50000 }
  }
})json"},
      {"inversion among fair tasks (1 CPU)",
       "A nice 19 owner holds m for 10 ms among four busy nice-0 tasks, and a nice -10 task "
       "needs m every 100 ms: the owner gets about 15/4111 of the CPU, so the waiter waits for "
       "seconds.\nrt_mutex PI does not lend nice values, so pi is no better; proxy execution "
       "runs the owner on the waiter's weight and the wait drops to the critical section.",
       1,
       {"none", "pi", "proxy"},
       R"json({
  "global": { "duration": 3 },
  "tasks": {
    "owner":  { "priority": 19, "lock": "m", "run": 10000, "unlock": "m", "sleep": 20000 },
    "waiter": { "priority": -10, "delay": 1000, "lock": "m", "run": 1000, "unlock": "m",
                "timer": { "ref": "unique", "period": 100000 } },
    "busy":   { "instance": 4, "priority": 0, "run": 1000000 }
  }
})json"},
      {"cross-CPU chain (2 CPUs)",
       "waiter (FIFO 50, CPU 0) needs m, held by a nice 19 owner pinned to CPU 1 among two busy "
       "tasks: single-runqueue proxy execution (Linux 6.17) cannot help a remote owner and the "
       "waiter just sleeps.\nWith donor migration (proxy:full) the waiter's context moves to "
       "CPU 1, runs the owner there and, once it has the lock, returns to CPU 0.",
       2,
       {"none", "pi", "proxy:single-rq", "proxy:full"},
       R"json({
  "global": { "duration": 1 },
  "tasks": {
    "owner":  { "priority": 19, "cpus": [1], "loop": 1, "lock": "m", "run": 20000, "unlock": "m" },
    "busy":   { "instance": 2, "cpus": [1], "delay": 500, "run": 1000000 },
    "waiter": { "policy": "SCHED_FIFO", "priority": 50, "cpus": [0], "delay": 1000, "loop": 1,
                "lock": "m", "run": 1000, "unlock": "m" }
  }
})json"},
  };
  return k;
}

}  // namespace proxysim
