// The built-in demo workload of `proxysim demo` (rt-app JSON).
#pragma once

namespace proxysim {

// A phone-like mix on 2 CPUs for 2 s: a SCHED_DEADLINE video decoder, a FIFO audio thread, a
// FIFO logger that hogs CPU 1 for stretches, interactive and batch fair tasks at several nice
// levels.
inline constexpr const char* kDemoWorkload = R"json({
  /* proxysim demo: every class on one small machine */
  "global": { "duration": 2, "default_policy": "SCHED_OTHER" },
  "tasks": {
    "video":  { "policy": "SCHED_DEADLINE", "dl-runtime": 4000, "dl-period": 16666,
                "dl-deadline": 16666,
                "run": 3000, "timer": { "ref": "unique", "period": 16666 } },
    "audio":  { "policy": "SCHED_FIFO", "priority": 50,
                "run": 500, "timer": { "ref": "unique", "period": 5000 } },
    "logger": { "policy": "SCHED_FIFO", "priority": 10, "cpus": [1],
                "run": 200000, "sleep": 300000 },
    "ui":     { "priority": -5, "run": 2000, "timer": { "ref": "unique", "period": 16666 } },
    "build":  { "instance": 3, "priority": 0, "run": 30000, "sleep": 1000 },
    "backup": { "priority": 10, "run": 50000 }
  }
})json";

}  // namespace proxysim
