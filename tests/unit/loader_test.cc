// Tests of the rt-app JSON loader: what valid workloads become, and the exact message of every
// kind of invalid input.
#include "proxysim/loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#ifndef PROXYSIM_SOURCE_DIR
#define PROXYSIM_SOURCE_DIR "."
#endif

namespace proxysim {
namespace {

namespace fs = std::filesystem;

Status load(const std::string& text, Workload* w, const LoadOptions& opt = {}) {
  return load_workload_from_string(text, "t.json", opt, w);
}

// Loads `text`, which must be valid.
Workload valid(const std::string& text, const LoadOptions& opt = {}) {
  Workload w;
  Status s = load(text, &w, opt);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return w;
}

// The message of loading `text`, which must be invalid input.
std::string errors(const std::string& text, const LoadOptions& opt = {}) {
  Workload w;
  Status s = load(text, &w, opt);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << s.message();
  return s.message();
}

std::string warnings(const std::string& text, const LoadOptions& opt = {}) {
  Workload w;
  Status s = load(text, &w, opt);
  std::string all;
  for (const std::string& line : w.warnings) all += line + "\n";
  return all;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LoadOptions rtapp_1_0() {
  LoadOptions o;
  o.rtapp_1_0 = true;
  return o;
}

// ---- valid workloads --------------------------------------------------------------------------

TEST(LoaderTest, DefaultsAndDurations) {
  // ("runtime1": a bare "runtime" would also set the slice, see LegacyRuntimeKeyAlsoSetsTheSlice)
  Workload w = valid(R"({"tasks": {"t": {"run": 10, "sleep": 20, "runtime1": 30}}})");
  EXPECT_EQ(w.file, "t.json");
  EXPECT_EQ(w.duration, -1);
  EXPECT_EQ(w.default_policy, Policy::kNormal);
  EXPECT_FALSE(w.pi_enabled);
  EXPECT_EQ(w.max_cpu_named, -1);
  EXPECT_TRUE(w.warnings.empty());
  ASSERT_EQ(w.tasks.size(), 1u);
  const TaskSpec& t = w.tasks[0];
  EXPECT_EQ(t.name, "t");
  EXPECT_EQ(t.instances, 1);
  EXPECT_EQ(t.loop, -1);
  EXPECT_EQ(t.delay, 0);
  EXPECT_FALSE(t.cpus.has_value());
  EXPECT_EQ(t.sched.policy, Policy::kNormal);
  EXPECT_EQ(t.sched.nice, 0);
  EXPECT_EQ(t.sched.dl_runtime, 0);
  ASSERT_EQ(t.phases.size(), 1u);
  const Phase& p = t.phases[0];
  EXPECT_EQ(p.loop, 1);
  EXPECT_FALSE(p.cpus.has_value());
  EXPECT_FALSE(p.sched.has_value());
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0].kind, EventKind::kRun);
  EXPECT_EQ(p.events[0].duration, 10 * kNsPerUs);
  EXPECT_EQ(p.events[1].kind, EventKind::kSleep);
  EXPECT_EQ(p.events[1].duration, 20 * kNsPerUs);
  EXPECT_EQ(p.events[2].kind, EventKind::kRuntime);
  EXPECT_EQ(p.events[2].duration, 30 * kNsPerUs);
}

TEST(LoaderTest, Global) {
  Workload w = valid(R"({
  "global": {"duration": 6, "default_policy": "SCHED_FIFO", "pi_enabled": true,
             "calibration": "CPU0", "lock_pages": false, "logdir": "./", "log_basename": "x",
             "log_size": "file", "ftrace": "main,Task,loop", "gnuplot": true,
             "io_device": "/dev/null", "mem_buffer_size": 4194304, "cumulative_slack": false},
  "tasks": {"t": {"run": 1}}
})");
  EXPECT_EQ(w.duration, 6 * kNsPerSec);
  EXPECT_EQ(w.default_policy, Policy::kFifo);
  EXPECT_TRUE(w.pi_enabled);
  EXPECT_EQ(w.tasks[0].sched.policy, Policy::kFifo);
  EXPECT_EQ(w.tasks[0].sched.rt_priority, 10);  // rt-app's DEFAULT_THREAD_PRIORITY
  valid(R"({"global": {"calibration": 128, "log_size": 2, "ftrace": false, "duration": -1},
            "tasks": {"t": {"run": 1}}})");
}

TEST(LoaderTest, UnknownGlobalAndTopLevelKeysAreWarnings) {
  EXPECT_EQ(
      warnings(R"({"tasks": {"t": {"run": 1}}, "global": {"frag": 1, "duraton": 2},
  "resources": {"m": {"type": "mutex"}}, "tsks": 1})"),
      "t.json:1:41: warning: global.frag: unknown key \"frag\", ignored\n"
      "t.json:1:52: warning: global.duraton: unknown key \"duraton\" (did you mean "
      "\"duration\"?), ignored\n"
      "t.json:2:42: warning: tsks: unknown key \"tsks\" (did you mean \"tasks\"?), ignored\n");
}

TEST(LoaderTest, EventsMatchByPrefixInRtAppOrder) {
  Workload w = valid(
      R"({"tasks": {"t": {"run1": 1, "runtime2": 2, "running": 3, "sleep_long": 4,
                          "timer0": {"ref": "a", "period": 5}, "yield_now": "", "runtimeX": 6}}})");
  const std::vector<Event>& ev = w.tasks[0].phases[0].events;
  ASSERT_EQ(ev.size(), 7u);
  EXPECT_EQ(ev[0].kind, EventKind::kRun);
  EXPECT_EQ(ev[0].key, "run1");
  EXPECT_EQ(ev[1].kind, EventKind::kRuntime);  // "runtime" is checked before "run"
  EXPECT_EQ(ev[2].kind, EventKind::kRun);
  EXPECT_EQ(ev[3].kind, EventKind::kSleep);
  EXPECT_EQ(ev[4].kind, EventKind::kTimer);
  EXPECT_EQ(ev[4].duration, 5 * kNsPerUs);
  EXPECT_EQ(ev[5].kind, EventKind::kYield);
  EXPECT_EQ(ev[6].kind, EventKind::kRuntime);
  EXPECT_EQ(ev[6].key, "runtimeX");
}

TEST(LoaderTest, LockAndUnlock) {
  // Keys match by prefix: "unlock1" is an unlock (it does not start with "lock").
  Workload w = valid(R"({"tasks": {
  "a": {"lock_b": "mb", "lock": "ma", "run": 1, "unlock1": "ma", "unlockB": "mb"},
  "b": {"phases": {
    "p1": {"lock": "mc", "run": 1},
    "p2": {"run": 1, "unlock": "mc", "lockma": "ma", "unlock_again": "ma"}}}
}})");
  EXPECT_EQ(w.mutexes, (std::vector<std::string>{"mb", "ma", "mc"}));  // order of first use
  const std::vector<Event>& a = w.tasks[0].phases[0].events;
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0].kind, EventKind::kLock);
  EXPECT_EQ(a[0].key, "lock_b");
  EXPECT_EQ(a[0].resource, 0);
  EXPECT_EQ(a[1].kind, EventKind::kLock);
  EXPECT_EQ(a[1].resource, 1);
  EXPECT_EQ(a[2].kind, EventKind::kRun);
  EXPECT_EQ(a[3].kind, EventKind::kUnlock);
  EXPECT_EQ(a[3].key, "unlock1");
  EXPECT_EQ(a[3].resource, 1);
  EXPECT_EQ(a[3].loc.path, "tasks.a.unlock1");
  EXPECT_EQ(a[4].kind, EventKind::kUnlock);
  EXPECT_EQ(a[4].resource, 0);
  // Mutexes are shared across tasks and phases by name; locking in one phase and unlocking in
  // the next is fine (rt-app allows it; the simulator checks the unlock at run time).
  const TaskSpec& b = w.tasks[1];
  EXPECT_EQ(b.phases[0].events[0].kind, EventKind::kLock);
  EXPECT_EQ(b.phases[0].events[0].resource, 2);
  EXPECT_EQ(b.phases[1].events[1].kind, EventKind::kUnlock);
  EXPECT_EQ(b.phases[1].events[1].resource, 2);
  EXPECT_EQ(b.phases[1].events[2].kind, EventKind::kLock);
  EXPECT_EQ(b.phases[1].events[2].resource, 1);
  EXPECT_EQ(b.phases[1].events[3].kind, EventKind::kUnlock);
  EXPECT_TRUE(w.warnings.empty());
  // An unlock with no lock before it is left to the simulator; so is rt-app 1.0's reading.
  w = valid(R"({"tasks": {"t": {"unlock": "m", "run": 1}}})", rtapp_1_0());
  EXPECT_EQ(w.mutexes, (std::vector<std::string>{"m"}));
  EXPECT_EQ(w.tasks[0].phases[0].events[0].kind, EventKind::kUnlock);
  EXPECT_TRUE(w.warnings.empty());
  // Without any mutex, the list is empty.
  EXPECT_TRUE(valid(R"({"tasks": {"t": {"run": 1}}})").mutexes.empty());
}

TEST(LoaderTest, RelockingAHeldMutexIsAWarning) {
  Workload w = valid(R"({"tasks": {"t": {"phases": {
  "p": {"lock": "m", "run": 1, "lock2": "n", "lock3": "m", "unlock": "m"},
  "q": {"lock": "m", "unlock": "m", "lock2": "m", "unlock2": "m", "run": 1}}}}})");
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0],
            "t.json:2:46: warning: tasks.t.phases.p.lock3: mutex \"m\" is locked again without an "
            "unlock since line 2, column 9 (tasks.t.phases.p.lock): mutexes are not recursive, "
            "so the task deadlocks here");
  // The lock stays in the workload: the simulator shows the deadlock.
  EXPECT_EQ(w.tasks[0].phases[0].events[3].kind, EventKind::kLock);
  EXPECT_EQ(
      warnings(R"({"tasks": {"t": {
  "lock": "m",
  "run": 1,
  "lock_again": "m"}}})"),
      "t.json:4:3: warning: tasks.t.lock_again: mutex \"m\" is locked again without an unlock "
      "since line 2 (tasks.t.lock): mutexes are not recursive, so the task deadlocks here\n");
  // Holding a mutex across phases (or phase iterations) is not checked statically.
  EXPECT_EQ(warnings(R"({"tasks": {"t": {"phases": {"p": {"lock": "m", "run": 1},
  "q": {"lock": "m", "run": 1}}}}})"),
            "");
}

TEST(LoaderTest, ResourcesSection) {
  // rt-app 1.0's legacy declarations: mutexes are registered (in file order, shared with the
  // lock/unlock events of the same name); the other types are accepted and ignored.
  Workload w = valid(R"({
  "resources": {"r1": {"type": "mutex"}, "c": {"type": "wait"}, "t": {"type": "timer"},
                "r0": {"type": "mutex"}, "b": {"type": "broadcast"}, "s": {"type": "sync"},
                "g": {"type": "signal"}, "z": {"type": "sleep"}, "x": {"type": "run"}},
  "tasks": {"a": {"lock": "r0", "lock2": "new", "run": 1, "unlock2": "new", "unlock": "r0"}}
})");
  EXPECT_EQ(w.mutexes, (std::vector<std::string>{"r1", "r0", "new"}));
  EXPECT_EQ(w.tasks[0].phases[0].events[0].resource, 1);
  EXPECT_EQ(w.tasks[0].phases[0].events[1].resource, 2);
  EXPECT_TRUE(w.warnings.empty());
  EXPECT_TRUE(w.timers.empty());
  // After "tasks" in the file, its new names come after those of the events.
  w = valid(R"({"tasks": {"a": {"lock": "m1", "run": 1, "unlock": "m1"}},
  "resources": {"m0": {"type": "mutex"}, "m1": {"type": "mutex"}}})",
            rtapp_1_0());
  EXPECT_EQ(w.mutexes, (std::vector<std::string>{"m1", "m0"}));
  // Keys other than "type" (the pre-0.3 "target") and a "resources" that is not an object are
  // ignored by rt-app: warnings.
  EXPECT_EQ(warnings(R"({"resources": {"trig": {"type": "signal", "target": "wait"}},
  "tasks": {"a": {"run": 1}}})"),
            "t.json:1:43: warning: resources.trig.target: unknown key \"target\" in a resource "
            "(expected type), ignored\n");
  EXPECT_EQ(warnings(R"({"resources": [], "tasks": {"a": {"run": 1}}})"),
            "t.json:1:15: warning: resources: expected an object (name: {\"type\": ...}), got an "
            "array, ignored\n");
}

TEST(LoaderTest, DuplicateKeysKeepLastValueAtFirstPlace) {
  // Measured with rt-app 1.0: one run of 50000 us, then the sleep.
  const std::string text = R"({"tasks": {"t": {
  "run": 1000,
  "sleep": 1000,
  "run": 50000
}}})";
  Workload w = valid(text);
  const std::vector<Event>& ev = w.tasks[0].phases[0].events;
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, EventKind::kRun);
  EXPECT_EQ(ev[0].duration, 50000 * kNsPerUs);
  EXPECT_EQ(ev[0].loc.line, 2);
  EXPECT_EQ(ev[1].kind, EventKind::kSleep);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0],
            "t.json:4:3: warning: tasks.t.run: duplicate key \"run\" (lines 2 and 4): rt-app "
            "keeps the last value, at the place of the first key");
  // Same line: columns tell them apart. Duplicate tasks collapse the same way.
  w = valid(R"({"tasks": {"a": {"run": 1}, "b": {"run": 2}, "a": {"sleep": 3}}})");
  ASSERT_EQ(w.tasks.size(), 2u);
  EXPECT_EQ(w.tasks[0].name, "a");
  EXPECT_EQ(w.tasks[0].phases[0].events[0].kind, EventKind::kSleep);
  EXPECT_EQ(w.warnings[0],
            "t.json:1:46: warning: tasks.a: duplicate key \"a\" (line 1, columns 12 and 46): "
            "rt-app keeps the last value, at the place of the first key");
}

TEST(LoaderTest, CommentsAndTrailingCommas) {
  Workload w = valid(R"({
  /* block comment */
  "tasks": {
    "t": {
      "run": 10, // line comment
      "cpus": [0, 1,],
    },
  },
})");
  EXPECT_EQ(w.tasks[0].phases[0].events.size(), 1u);
  EXPECT_EQ(*w.tasks[0].cpus, CpuMask::of({0, 1}));
}

TEST(LoaderTest, TimersSharedUniqueAndModes) {
  Workload w = valid(R"({"tasks": {
  "a": {"phases": {
    "p1": {"run": 1, "timer": {"ref": "tick", "period": 100}},
    "p2": {"run": 1, "timer": {"ref": "unique", "period": 100, "mode": "relative"}},
    "p3": {"run": 1, "timer": {"ref": "unique", "period": 200}},
    "p4": {"run": 1, "timer": {"ref": "uniqueB", "period": 100, "mode": "absolute"}}}},
  "b": {"run": 1, "timer": {"ref": "tick", "period": 100}, "timer2": {"ref": "unique", "period": 5}}
}})");
  ASSERT_EQ(w.timers.size(), 4u);
  EXPECT_EQ(w.timers[0].name, "tick");
  EXPECT_FALSE(w.timers[0].unique);
  EXPECT_EQ(w.timers[1].name, "unique");
  EXPECT_TRUE(w.timers[1].unique);
  EXPECT_EQ(w.timers[2].name, "uniqueB");
  EXPECT_EQ(w.timers[3].name, "unique");  // another task: its own timer
  const TaskSpec& a = w.tasks[0];
  EXPECT_EQ(a.phases[0].events[1].resource, 0);
  EXPECT_EQ(a.phases[1].events[1].resource, 1);
  EXPECT_EQ(a.phases[2].events[1].resource, 1);  // same unique name in one task: same timer
  EXPECT_EQ(a.phases[2].events[1].duration, 200 * kNsPerUs);
  EXPECT_EQ(a.phases[3].events[1].resource, 2);
  EXPECT_EQ(w.tasks[1].phases[0].events[1].resource, 0);  // "tick" is shared across tasks
  EXPECT_EQ(w.tasks[1].phases[0].events[2].resource, 3);
  // rt-app's default mode is relative.
  EXPECT_FALSE(a.phases[0].events[1].timer_absolute);
  EXPECT_FALSE(a.phases[1].events[1].timer_absolute);
  EXPECT_TRUE(a.phases[3].events[1].timer_absolute);
  EXPECT_TRUE(w.warnings.empty());
}

TEST(LoaderTest, OneAbsoluteUseMakesTheWholeTimerAbsolute) {
  Workload w = valid(R"({"tasks": {
  "a": {"run": 1, "timer": {"ref": "tick", "period": 100}},
  "b": {"run": 1, "timer": {"ref": "tick", "period": 100, "mode": "absolute"}}
}})");
  EXPECT_TRUE(w.tasks[0].phases[0].events[1].timer_absolute);
  EXPECT_TRUE(w.tasks[1].phases[0].events[1].timer_absolute);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0],
            "t.json:2:19: warning: tasks.a.timer: timer \"tick\" is also used with \"mode\": "
            "\"absolute\" (line 3); rt-app keeps one mode per timer, so this use is absolute too");
}

TEST(LoaderTest, PhasesLoopsAndCpus) {
  Workload w = valid(R"({"tasks": {"t": {
  "cpus": [2, 3],
  "loop": 4,
  "delay": 1500,
  "instance": 3,
  "phases": {
    "light": {"loop": 10, "cpus": 0, "run": 1000, "sleep": 9000},
    "heavy": {"loop": -1, "run": 9000, "sleep": 1000}
  }
}}})");
  const TaskSpec& t = w.tasks[0];
  EXPECT_EQ(t.instances, 3);
  EXPECT_EQ(t.loop, 4);
  EXPECT_EQ(t.delay, 1500 * kNsPerUs);
  EXPECT_EQ(*t.cpus, CpuMask::of({2, 3}));
  ASSERT_EQ(t.phases.size(), 2u);
  EXPECT_EQ(t.phases[0].name, "light");
  EXPECT_EQ(t.phases[0].loop, 10);
  EXPECT_EQ(*t.phases[0].cpus, CpuMask::of({0}));
  EXPECT_EQ(t.phases[1].name, "heavy");
  EXPECT_EQ(t.phases[1].loop, -1);
  EXPECT_FALSE(t.phases[1].cpus.has_value());  // inherits the task's affinity
  EXPECT_EQ(w.max_cpu_named, 3);
  // Without "loop", a task with phases repeats them forever; phases default to one pass.
  w = valid(R"({"tasks": {"t": {"phases": {"p": {"run": 1}}}}})");
  EXPECT_EQ(w.tasks[0].loop, -1);
  EXPECT_EQ(w.tasks[0].phases[0].loop, 1);
}

TEST(LoaderTest, LoopWithoutPhasesHeadAndRtApp10) {
  const std::string text = R"({"tasks": {"t": {"loop": 5, "run": 1}}})";
  // HEAD: the task object runs "loop" times, then the task ends.
  Workload w = valid(text);
  EXPECT_EQ(w.tasks[0].loop, 5);
  EXPECT_EQ(w.tasks[0].phases[0].loop, 1);
  // rt-app 1.0: the phase runs "loop" times, and the task repeats forever.
  w = valid(text, rtapp_1_0());
  EXPECT_EQ(w.tasks[0].loop, -1);
  EXPECT_EQ(w.tasks[0].phases[0].loop, 5);
  // Without "loop" both run forever.
  for (const LoadOptions& o : {LoadOptions{}, rtapp_1_0()}) {
    w = valid(R"({"tasks": {"t": {"run": 1}}})", o);
    EXPECT_EQ(w.tasks[0].loop, -1);
    EXPECT_EQ(w.tasks[0].phases[0].loop, 1);
  }
}

TEST(LoaderTest, Priorities) {
  Workload w = valid(R"({"tasks": {
  "o": {"priority": -20, "run": 1},
  "b": {"policy": "SCHED_BATCH", "priority": 19, "run": 1},
  "i": {"policy": "SCHED_IDLE", "run": 1},
  "f": {"policy": "SCHED_FIFO", "run": 1},
  "r": {"policy": "SCHED_RR", "priority": 99, "run": 1}
}})");
  EXPECT_EQ(w.tasks[0].sched.nice, -20);
  EXPECT_EQ(w.tasks[1].sched.policy, Policy::kBatch);
  EXPECT_EQ(w.tasks[1].sched.nice, 19);
  EXPECT_EQ(w.tasks[2].sched.policy, Policy::kIdle);
  EXPECT_EQ(w.tasks[3].sched.rt_priority, 10);
  EXPECT_EQ(w.tasks[4].sched.policy, Policy::kRr);
  EXPECT_EQ(w.tasks[4].sched.rt_priority, 99);
}

TEST(LoaderTest, DeadlineParametersDefaults) {
  // HEAD: period defaults to runtime, deadline to period (custom-slice.json relies on it).
  Workload w = valid(R"({"tasks": {
  "r": {"policy": "SCHED_DEADLINE", "dl-runtime": 2000, "run": 1},
  "rp": {"policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-period": 10000, "run": 1},
  "all": {"policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-deadline": 5000,
          "dl-period": 10000, "run": 1}
}})");
  auto dl = [&](int i) {
    const SchedParams& s = w.tasks[static_cast<size_t>(i)].sched;
    return std::vector<Time>{s.dl_runtime, s.dl_deadline, s.dl_period};
  };
  EXPECT_EQ(dl(0), (std::vector<Time>{2000000, 2000000, 2000000}));
  EXPECT_EQ(dl(1), (std::vector<Time>{2000000, 10000000, 10000000}));
  EXPECT_EQ(dl(2), (std::vector<Time>{2000000, 5000000, 10000000}));
  EXPECT_TRUE(w.warnings.empty());
}

TEST(LoaderTest, CustomSliceForFairTasks) {
  Workload w = valid(R"({"tasks": {"o": {"dl-runtime": 3000, "run": 1}}})");
  EXPECT_EQ(w.tasks[0].sched.dl_runtime, 3000 * kNsPerUs);
  EXPECT_TRUE(w.warnings.empty());
  // rt-app 1.0 has no custom slice; rt-app HEAD sets it for OTHER and BATCH only.
  EXPECT_EQ(warnings(R"({"tasks": {"o": {"dl-runtime": 3000, "run": 1}}})", rtapp_1_0()),
            "t.json:1:18: warning: tasks.o.dl-runtime: \"dl-runtime\" is ignored for "
            "SCHED_OTHER by rt-app 1.0\n");
  EXPECT_EQ(warnings(R"({"tasks": {"i": {"policy": "SCHED_IDLE", "dl-runtime": 3, "run": 1}}})"),
            "t.json:1:42: warning: tasks.i.dl-runtime: \"dl-runtime\" is ignored for "
            "SCHED_IDLE\n");
  EXPECT_EQ(warnings(R"({"tasks": {"f": {"policy": "SCHED_FIFO", "dl-period": 3, "run": 1}}})"),
            "t.json:1:42: warning: tasks.f.dl-period: \"dl-period\" is ignored for "
            "SCHED_FIFO\n");
}

TEST(LoaderTest, LegacyRuntimeKeyAlsoSetsTheSlice) {
  // rt-app HEAD reads a thread-level "runtime" as the legacy name of "dl-runtime" too.
  Workload w = valid(R"({"tasks": {"o": {"runtime": 3000, "sleep": 10}}})");
  EXPECT_EQ(w.tasks[0].sched.dl_runtime, 3000 * kNsPerUs);
  EXPECT_EQ(w.tasks[0].phases[0].events[0].kind, EventKind::kRuntime);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0],
            "t.json:1:18: warning: tasks.o.runtime: \"runtime\" at task level is also rt-app's "
            "legacy name of \"dl-runtime\": this task gets a custom slice of 3000 us");
  // Any other spelling of the event is not a legacy key.
  w = valid(R"({"tasks": {"o": {"runtime0": 3000, "sleep": 10}}})");
  EXPECT_EQ(w.tasks[0].sched.dl_runtime, 0);
  EXPECT_TRUE(w.warnings.empty());
}

TEST(LoaderTest, SourceLocations) {
  Workload w = valid(R"({"tasks": {
  "low": {
    "phases": {
      "p1": {
        "run": 10
      }
    }
  }
}})");
  const TaskSpec& t = w.tasks[0];
  EXPECT_EQ(t.loc.line, 2);
  EXPECT_EQ(t.loc.column, 3);
  EXPECT_EQ(t.loc.path, "tasks.low");
  EXPECT_EQ(t.phases[0].loc.line, 4);
  EXPECT_EQ(t.phases[0].loc.column, 7);
  EXPECT_EQ(t.phases[0].loc.path, "tasks.low.phases.p1");
  const Event& e = t.phases[0].events[0];
  EXPECT_EQ(e.loc.line, 5);
  EXPECT_EQ(e.loc.column, 9);
  EXPECT_EQ(e.loc.path, "tasks.low.phases.p1.run");
  // Columns count characters, not bytes.
  w = valid("{\"tasks\": {\"\xC3\xA9t\xC3\xA9\": {\"run\": 1}}}");
  EXPECT_EQ(w.tasks[0].phases[0].events[0].loc.column, 20);
}

TEST(LoaderTest, InstanceZeroIsAWarningUnlessForked) {
  EXPECT_EQ(warnings(R"({"tasks": {"t": {"instance": 0, "run": 1}}})"),
            "t.json:1:30: warning: tasks.t.instance: \"instance\": 0 and no \"fork\" event starts "
            "this task: it never runs\n");
  EXPECT_EQ(warnings(R"({"tasks": {"t": {"instance": 0, "run": 1}, "u": {"fork": "t"}}})"), "");
}

TEST(LoaderTest, EveryEventKind) {
  Workload w = valid(R"({"tasks": {
  "a": {"lock": "m", "wait": {"ref": "c", "mutex": "m"}, "unlock": "m", "signal": "c2",
        "broad": "c", "sync": {"mutex": "m2", "ref": "c2"}, "barrier": "b", "suspend": "a",
        "resume": "c", "sem_post": "s", "sem_wait": "s", "mem": 4096, "iorun": 100,
        "memrun": {"type": "write", "size": 1024, "count": 5000}, "fork": "d", "yield": "",
        "run": 1},
  "c": {"instance": 2, "barrier": "b", "suspend": "", "resume": "a", "run": 1},
  "d": {"instance": 0, "run": 1}
}})");
  EXPECT_TRUE(w.warnings.empty()) << w.warnings[0];
  // Names in order of first use, one list per kind of object.
  EXPECT_EQ(w.mutexes, (std::vector<std::string>{"m", "m2"}));
  EXPECT_EQ(w.condvars, (std::vector<std::string>{"c", "c2"}));
  EXPECT_EQ(w.barriers, (std::vector<std::string>{"b"}));
  EXPECT_EQ(w.barrier_parties, (std::vector<int>{3}));  // a, and the 2 instances of c
  EXPECT_EQ(w.suspends, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(w.semaphores, (std::vector<std::string>{"s"}));
  const std::vector<Event>& ev = w.tasks[0].phases[0].events;
  struct Expect {
    EventKind kind;
    int resource, resource2;
    int64_t amount;
  };
  const std::vector<Expect> expected = {
      {EventKind::kLock, 0, -1, 0},      {EventKind::kWait, 0, 0, 0},
      {EventKind::kUnlock, 0, -1, 0},    {EventKind::kSignal, 1, -1, 0},
      {EventKind::kBroadcast, 0, -1, 0}, {EventKind::kSync, 1, 1, 0},
      {EventKind::kBarrier, 0, -1, 0},   {EventKind::kSuspend, 0, -1, 0},
      {EventKind::kResume, 1, -1, 0},    {EventKind::kSemPost, 0, -1, 0},
      {EventKind::kSemWait, 0, -1, 0},   {EventKind::kMem, -1, -1, 4096},
      {EventKind::kIoRun, -1, -1, 100},  {EventKind::kMem, -1, -1, 5000},
      {EventKind::kFork, 2, -1, 0},      {EventKind::kYield, -1, -1, 0},
      {EventKind::kRun, -1, -1, 0},
  };
  ASSERT_EQ(ev.size(), expected.size());
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].kind, expected[i].kind) << ev[i].key;
    EXPECT_EQ(ev[i].resource, expected[i].resource) << ev[i].key;
    EXPECT_EQ(ev[i].resource2, expected[i].resource2) << ev[i].key;
    EXPECT_EQ(ev[i].amount, expected[i].amount) << ev[i].key;
  }
  // c suspends on its own name and resumes a.
  const std::vector<Event>& c = w.tasks[1].phases[0].events;
  EXPECT_EQ(c[1].kind, EventKind::kSuspend);
  EXPECT_EQ(c[1].resource, 1);
  EXPECT_EQ(c[2].kind, EventKind::kResume);
  EXPECT_EQ(c[2].resource, 0);
}

TEST(LoaderTest, NewEventsMatchByPrefixInRtAppOrder) {
  Workload w = valid(R"({"tasks": {"t": {
  "waiting": {"ref": "c", "mutex": "m"}, "signal_x": "c", "broadcast": "c",
  "synced": {"ref": "c", "mutex": "m"}, "barrier2": "b", "suspend1": "", "resume_all": "t",
  "sem_post1": "s", "sem_wait_x": "s", "memrun1": {"type": "read", "size": 8, "count": 3},
  "mem1": 7, "memory": 9, "iorun_disk": 5, "forked": "t", "run": 1}}})");
  std::vector<EventKind> kinds;
  for (const Event& e : w.tasks[0].phases[0].events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds,
            (std::vector<EventKind>{EventKind::kWait, EventKind::kSignal, EventKind::kBroadcast,
                                    EventKind::kSync, EventKind::kBarrier, EventKind::kSuspend,
                                    EventKind::kResume, EventKind::kSemPost, EventKind::kSemWait,
                                    EventKind::kMem, EventKind::kMem, EventKind::kMem,
                                    EventKind::kIoRun, EventKind::kFork, EventKind::kRun}));
  // "memrun1" is a memrun (its count), not a "mem" (which would need an integer).
  EXPECT_EQ(w.tasks[0].phases[0].events[9].amount, 3);
  EXPECT_EQ(w.tasks[0].phases[0].events[10].amount, 7);
  EXPECT_EQ(w.tasks[0].phases[0].events[11].amount, 9);
}

TEST(LoaderTest, MemrunAmounts) {
  // read and write touch `count` bytes; a chase makes `count` hops of one 64-byte cache line.
  Workload w = valid(R"({"tasks": {"t": {
  "memrun": {"type": "read", "size": 4096, "count": 100000},
  "memrun1": {"type": "write", "size": 65536, "count": 10, "ref": "shared"},
  "memrun2": {"type": "chase", "size": 33554432, "count": 1000, "stride": 128,
              "pattern": "sequential", "ref": "shared"},
  "memrun3": {"type": "chase", "size": 128, "count": 5}},
  "u": {"memrun": {"type": "write", "size": 65536, "count": 1, "ref": "shared"}}}})");
  const std::vector<Event>& ev = w.tasks[0].phases[0].events;
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].amount, 100000);
  EXPECT_EQ(ev[1].amount, 10);
  EXPECT_EQ(ev[2].amount, 64000);
  EXPECT_EQ(ev[3].amount, 320);
  for (const Event& e : ev) EXPECT_EQ(e.kind, EventKind::kMem);
  EXPECT_TRUE(w.warnings.empty());
  EXPECT_EQ(warnings(R"({"tasks": {"t": {"memrun": {"type": "read", "size": 8, "count": 1,
  "stride": 64, "pattern": "random"}}}})"),
            "t.json:2:3: warning: tasks.t.memrun.stride: \"stride\" is ignored for memrun type "
            "read (it only shapes a chase)\n"
            "t.json:2:17: warning: tasks.t.memrun.pattern: \"pattern\" is ignored for memrun type "
            "read (it only shapes a chase)\n");
}

TEST(LoaderTest, BarrierPartiesCountThreadsPerUse) {
  // rt-app adds the task's "instance" for every barrier event that names the barrier.
  Workload w = valid(R"({"tasks": {
  "a": {"instance": 3, "phases": {"p": {"barrier": "x", "run": 1}, "q": {"barrier": "y"}}},
  "b": {"instance": 2, "barrier": "x", "run": 1},
  "c": {"instance": 0, "barrier": "y", "run": 1},
  "d": {"barrier": "y", "barrier2": "x", "run": 1}
}})");
  EXPECT_EQ(w.barriers, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(w.barrier_parties, (std::vector<int>{6, 4}));
  EXPECT_EQ(w.tasks[3].phases[0].events[0].resource, 1);
  EXPECT_EQ(w.tasks[3].phases[0].events[1].resource, 0);
  // A task that uses a barrier twice counts twice: a deadlock, as in rt-app.
  w = valid(R"({"tasks": {
  "e": {"phases": {"p": {"barrier": "z", "run": 1}, "q": {"barrier1": "z", "run": 1}}},
  "f": {"barrier": "z", "run": 1}}})");
  EXPECT_EQ(w.barrier_parties, (std::vector<int>{3}));
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0],
            "t.json:2:59: warning: tasks.e.phases.q.barrier1: barrier \"z\" is used again by this "
            "task (first at line 2, column 26): rt-app counts every use as more parties, so the "
            "barrier waits for more arrivals than there are threads and they deadlock there");
  // Forked threads are not parties (rt-app: barrier can't be used with fork).
  EXPECT_EQ(warnings(R"({"tasks": {"a": {"instance": 0, "barrier": "x", "run": 1},
  "b": {"barrier": "x", "fork": "a", "run": 1}}})"),
            "t.json:1:33: warning: tasks.a.barrier: barrier \"x\" in a task that \"fork\" starts: "
            "rt-app counts only the threads started with the workload among its parties (barrier "
            "can't be used with fork)\n");
}

TEST(LoaderTest, ForkTargets) {
  // The task is resolved by name once every task is known: it may come later in the file.
  Workload w = valid(R"({"tasks": {
  "parent": {"phases": {"p": {"fork": "child", "run": 1}, "q": {"fork1": "parent", "run": 1}}},
  "child": {"instance": 0, "run": 10}}})");
  EXPECT_EQ(w.tasks[0].phases[0].events[0].kind, EventKind::kFork);
  EXPECT_EQ(w.tasks[0].phases[0].events[0].resource, 1);
  EXPECT_EQ(w.tasks[0].phases[1].events[0].resource, 0);
  EXPECT_EQ(w.tasks[1].instances, 0);
  EXPECT_TRUE(w.warnings.empty());
}

TEST(LoaderTest, SuspendNamesHeadAndRtApp10) {
  const std::string text = R"({"tasks": {
  "a": {"suspend": "a", "run": 1, "resume": "b"},
  "b": {"suspend": "", "run": 1, "resume": "grp"},
  "c": {"suspend": "grp", "run": 1, "resume": "a"}}})";
  // HEAD: every thread suspends on its own name; the value is ignored.
  Workload w = valid(text);
  EXPECT_EQ(w.suspends, (std::vector<std::string>{"a", "b", "grp", "c"}));
  EXPECT_EQ(w.tasks[2].phases[0].events[0].resource, 3);
  EXPECT_EQ(w.warnings, (std::vector<std::string>{
                            "t.json:3:34: warning: tasks.b.resume: no thread suspends on \"grp\": "
                            "this resume wakes nobody",
                            "t.json:4:9: warning: tasks.c.suspend: no \"resume\" of \"c\" "
                            "anywhere: the thread stays suspended forever",
                            "t.json:4:20: warning: tasks.c.suspend: rt-app HEAD ignores the name "
                            "given to \"suspend\": the thread waits for a resume of its own name "
                            "\"c\" (rt-app 1.0, and --rt-app-1.0, wait for a resume of \"grp\")"}));
  // rt-app 1.0: the name given; an empty one is not completed by workgen.
  w = valid(text, rtapp_1_0());
  EXPECT_EQ(w.suspends, (std::vector<std::string>{"a", "b", "grp"}));
  EXPECT_EQ(w.tasks[2].phases[0].events[0].resource, 2);
  EXPECT_EQ(w.warnings, (std::vector<std::string>{
                            "t.json:3:20: warning: tasks.b.suspend: empty \"suspend\": read as the "
                            "thread's own name \"b\"; rt-app 1.0 itself would wait for a resume "
                            "of \"\" (its workgen only completes a \"suspend\" written without a "
                            "value)"}));
}

TEST(LoaderTest, BareSuspendAsWorkgenCompletesIt) {
  // video-*.json: `"suspend",` without a value is the enclosing thread's name (workgen 1.0).
  const std::string text = R"({"tasks": {
  "sf": {"suspend", "run": 1},
  "ev": {"phases": {"p": {"run": 1, "resume": "sf", "suspend"}}},
  "x": {"resume": "ev", /* c */ "suspend_2" /* c */ , "run": 1}}})";
  for (const LoadOptions& o : {LoadOptions{}, rtapp_1_0()}) {
    Workload w = valid(text, o);
    EXPECT_EQ(w.suspends, (std::vector<std::string>{"sf", "ev", "x"}));
    EXPECT_EQ(w.tasks[0].phases[0].events[0].kind, EventKind::kSuspend);
    EXPECT_EQ(w.tasks[0].phases[0].events[0].loc.column, 10);
    EXPECT_EQ(w.tasks[1].phases[0].events[2].kind, EventKind::kSuspend);
    EXPECT_EQ(w.tasks[1].phases[0].events[2].resource, 1);
    EXPECT_EQ(w.tasks[2].phases[0].events[1].resource, 2);
    EXPECT_EQ(w.tasks[2].phases[0].events[2].loc.column, 55);  // after the insertion
    ASSERT_EQ(w.warnings.size(), 4u);  // 3 bare suspends, and nobody resumes x
    EXPECT_EQ(w.warnings[0],
              "t.json:2:10: warning: tasks.sf.suspend: \"suspend\" without a value: read as the "
              "thread's own name \"sf\"; rt-app needs workgen (rt-app 1.0) to complete it, since "
              "json-c rejects a key without a value");
  }
  // Other keys without a value stay syntax errors, placed in the original text.
  EXPECT_EQ(errors(R"({"tasks": {"t": {"suspend", "run", "sleep": 1}}})"),
            "t.json:1:34: syntax error: Missing a colon after a name of object member.");
  EXPECT_EQ(errors(R"({"tasks": {"t": {"suspend", "run": 1 "sleep": 1}}})"),
            "t.json:1:38: syntax error: Missing a comma or '}' after an object member.");
  // A "suspend" string that is a value is not a key.
  EXPECT_EQ(errors(R"({"tasks": {"t": {"resume": "suspend", "x"}}})"),
            "t.json:1:42: syntax error: Missing a colon after a name of object member.");
  // Without a value, "suspend" means nothing elsewhere.
  EXPECT_EQ(errors(R"({"tasks": {"t": {"lock": "suspend", "run": 1, "policy": {"suspend"}}}})"),
            "t.json:1:57: tasks.t.policy: expected a string, got an object");
}

TEST(LoaderTest, StaticallyBlockedObjectsAreWarnings) {
  EXPECT_EQ(warnings(R"({"tasks": {
  "a": {"lock": "m", "wait": {"ref": "c", "mutex": "m"}, "unlock": "m", "sem_wait": "s"},
  "b": {"resume": "nobody", "run": 1, "wait": {"ref": "c", "mutex": "m"}}}})"),
            "t.json:2:22: warning: tasks.a.wait: condition variable \"c\" is never signalled (no "
            "signal, broad or sync): the wait blocks forever\n"
            "t.json:2:73: warning: tasks.a.sem_wait: semaphore \"s\" is never posted (no "
            "sem_post): the sem_wait blocks forever\n"
            "t.json:3:9: warning: tasks.b.resume: no thread suspends on \"nobody\": this resume "
            "wakes nobody\n");
}

TEST(LoaderTest, PhaseSchedulingChanges) {
  Workload w = valid(R"({"tasks": {"t": {"policy": "SCHED_FIFO", "priority": 20, "phases": {
  "p0": {"run": 1},
  "p1": {"priority": 30, "run": 1},
  "p2": {"policy": "SCHED_OTHER", "run": 1},
  "p3": {"priority": -5, "dl-runtime": 3000, "run": 1},
  "p4": {"priority": 5, "run": 1},
  "p5": {"policy": "SCHED_DEADLINE", "dl-runtime": 1000, "dl-period": 10000, "run": 1},
  "p6": {"dl-runtime": 2000, "dl-deadline": 5000, "dl-period": 10000, "run": 1},
  "p7": {"policy": "SCHED_RR", "run": 1}}}}})");
  EXPECT_TRUE(w.warnings.empty()) << w.warnings[0];
  const std::vector<Phase>& p = w.tasks[0].phases;
  EXPECT_EQ(w.tasks[0].sched.policy, Policy::kFifo);
  EXPECT_EQ(w.tasks[0].sched.rt_priority, 20);
  EXPECT_FALSE(p[0].sched.has_value());
  ASSERT_TRUE(p[1].sched && p[2].sched && p[3].sched && p[4].sched && p[5].sched && p[6].sched &&
              p[7].sched);
  // Without "policy", the policy in effect (rt-app's "same").
  EXPECT_EQ(p[1].sched->policy, Policy::kFifo);
  EXPECT_EQ(p[1].sched->rt_priority, 30);
  // With "policy" and no "priority", that policy's default.
  EXPECT_EQ(p[2].sched->policy, Policy::kNormal);
  EXPECT_EQ(p[2].sched->nice, 0);
  EXPECT_EQ(p[3].sched->policy, Policy::kNormal);
  EXPECT_EQ(p[3].sched->nice, -5);
  EXPECT_EQ(p[3].sched->dl_runtime, 3000 * kNsPerUs);
  EXPECT_EQ(p[4].sched->nice, 5);
  EXPECT_EQ(p[4].sched->dl_runtime, 3000 * kNsPerUs);  // SCHED_FLAG_KEEP_PARAMS keeps the slice
  EXPECT_EQ(p[5].sched->policy, Policy::kDeadline);
  EXPECT_EQ(p[5].sched->dl_runtime, 1000 * kNsPerUs);
  EXPECT_EQ(p[5].sched->dl_deadline, 10000 * kNsPerUs);
  EXPECT_EQ(p[5].sched->dl_period, 10000 * kNsPerUs);
  EXPECT_EQ(p[6].sched->policy, Policy::kDeadline);
  EXPECT_EQ(p[6].sched->dl_deadline, 5000 * kNsPerUs);
  EXPECT_EQ(p[7].sched->policy, Policy::kRr);
  EXPECT_EQ(p[7].sched->rt_priority, 10);
  // dl-* alone on a fair or RT thread: rt-app changes nothing.
  w = valid(R"({"tasks": {"t": {"phases": {"p": {"dl-runtime": 1000, "run": 1}}}}})");
  EXPECT_FALSE(w.tasks[0].phases[0].sched.has_value());
  EXPECT_EQ(w.warnings,
            (std::vector<std::string>{
                "t.json:1:35: warning: tasks.t.phases.p.dl-runtime: \"dl-runtime\" is ignored for "
                "SCHED_OTHER in a phase without \"policy\" or \"priority\" (rt-app changes "
                "nothing then)"}));
  // rt-app 1.0 reads no scheduling key in a phase.
  w = valid(R"({"tasks": {"t": {"phases": {"p": {"policy": "SCHED_FIFO", "run": 1}}}}})",
            rtapp_1_0());
  EXPECT_FALSE(w.tasks[0].phases[0].sched.has_value());
  EXPECT_EQ(w.warnings, (std::vector<std::string>{
                            "t.json:1:35: warning: tasks.t.phases.p.policy: \"policy\" in a phase "
                            "is ignored by rt-app 1.0 (phase-level scheduling changes came "
                            "later)"}));
}

TEST(LoaderTest, UnmodelledKeysAreWarnings) {
  EXPECT_EQ(warnings(R"({"tasks": {"t": {"nodes_membind": [0], "taskgroup": "", "util_min": 128,
  "phases": {"p": {"util_max": -1, "taskgroup": "/tg1", "run": 1}}}}})"),
            "t.json:1:18: warning: tasks.t.nodes_membind: key \"nodes_membind\" is ignored (NUMA "
            "memory binding is not simulated)\n"
            "t.json:1:57: warning: tasks.t.util_min: key \"util_min\" is ignored (utilization "
            "clamping is not simulated)\n"
            "t.json:2:20: warning: tasks.t.phases.p.util_max: key \"util_max\" is ignored "
            "(utilization clamping is not simulated)\n"
            "t.json:2:36: warning: tasks.t.phases.p.taskgroup: key \"taskgroup\" is ignored (group "
            "scheduling is not simulated: the task runs in the root group)\n");
}

TEST(LoaderTest, DeepNestingWithinTheLimitIsFine) {
  std::string deep = std::string(250, '[') + std::string(250, ']');
  valid(R"({"tasks": {"t": {"run": 1, "yield": )" + deep + "}}}");
}

// ---- invalid workloads: exact messages ---------------------------------------------------------

TEST(LoaderErrorTest, SyntaxErrors) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"run": 1 "sleep": 2}}})"),
            "t.json:1:27: syntax error: Missing a comma or '}' after an object member.");
  EXPECT_EQ(errors(""), "t.json:1:1: syntax error: The document is empty.");
  EXPECT_EQ(errors("{\"tasks\": {\n  \"a\": {\"run\": 1}}}\n}"),
            "t.json:3:1: syntax error: The document root must not be followed by other values.");
  EXPECT_EQ(errors("{\"tasks\": /* never closed"),
            "t.json:1:26: syntax error: Unspecific syntax error.");
  EXPECT_EQ(errors("{\"tasks\": {\"a\": {\"run\": \"\xFF\"}}}"),
            "t.json:1:26: syntax error: Invalid encoding in string.");
  EXPECT_EQ(errors(std::string(100000, '[')),
            "t.json:1:257: syntax error: nesting deeper than 256 levels");
}

TEST(LoaderErrorTest, Structure) {
  EXPECT_EQ(errors("[1, 2]"),
            "t.json:1:1: (root): expected an object holding \"tasks\", got an array");
  EXPECT_EQ(errors(R"({"global": {}})"),
            "t.json:1:1: (root): missing \"tasks\" (the object that defines the tasks)");
  EXPECT_EQ(errors(R"({"tasks": {}})"), "t.json:1:11: tasks: no task defined");
  EXPECT_EQ(errors(R"({"tasks": []})"), "t.json:1:11: tasks: expected an object, got an array");
  EXPECT_EQ(errors(R"({"tasks": {"a": {"phases": {}}, "b": {"phases": 3}, "c": 5,
  "d": {"phases": {"x": 1}}}})"),
            "t.json:1:28: tasks.a.phases: no phase defined\n"
            "t.json:1:49: tasks.b.phases: expected an object, got number 3\n"
            "t.json:1:58: tasks.c: expected an object (a task), got number 5\n"
            "t.json:2:25: tasks.d.phases.x: expected an object (a phase), got number 1");
  EXPECT_EQ(errors(R"({"tasks": {"a": {"phases": {"p": {"loop": 2}}}, "b": {"loop": 3}}})"),
            "t.json:1:29: tasks.a.phases.p: phase without any event (rt-app: \"No events "
            "found\")\n"
            "t.json:1:49: tasks.b: task without any event (rt-app: \"No events found\"; put "
            "events such as \"run\" in the task or in \"phases\")");
  EXPECT_EQ(errors(R"({"tasks": {"a": {"run": 1, "phases": {"p": {"sleep": 1}}}}})"),
            "t.json:1:18: tasks.a.run: event \"run\" outside \"phases\" is ignored by rt-app "
            "(move it into a phase)");
}

TEST(LoaderErrorTest, UnknownPolicy) {
  EXPECT_EQ(errors(R"({"tasks": {
  "low": {
    "policy": "SCHED_FIFOO", "run": 10
  }
}})"),
            "t.json:3:15: tasks.low.policy: unknown policy \"SCHED_FIFOO\" (expected SCHED_OTHER, "
            "SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR or SCHED_DEADLINE)");
  EXPECT_EQ(errors(R"({"global": {"default_policy": "SCHED_BATCH"}, "tasks": {"t": {"run": 1}}})",
                   rtapp_1_0()),
            "t.json:1:31: global.default_policy: policy SCHED_BATCH is unknown to rt-app 1.0 (it "
            "accepts SCHED_OTHER, SCHED_FIFO, SCHED_RR or SCHED_DEADLINE)");
}

TEST(LoaderErrorTest, Events) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"wait": "c", "sync": {"ref": "c"}, "wait2": {"mutex": "m",
  "ref": "", "x": 1}, "signal": 3, "broad": "", "barrier": [], "resume": "", "sem_post": null,
  "sem_wait": "", "mem": -1, "iorun": 1.5, "fork": "", "suspend": 5, "run": 1}}})"),
            "t.json:1:26: tasks.a.wait: expected an object, got string \"c\"\n"
            "t.json:1:39: tasks.a.sync: sync without \"mutex\" (the mutex held around the wait)\n"
            "t.json:2:10: tasks.a.wait2.ref: expected the name of a condition variable, got an "
            "empty string\n"
            "t.json:2:14: tasks.a.wait2.x: unknown key \"x\" in wait (expected ref or mutex)\n"
            "t.json:2:33: tasks.a.signal: expected a string, got number 3\n"
            "t.json:2:45: tasks.a.broad: expected the name of a condition variable, got an empty "
            "string\n"
            "t.json:2:60: tasks.a.barrier: expected a string, got an array\n"
            "t.json:2:74: tasks.a.resume: expected the name of a thread to resume, got an empty "
            "string\n"
            "t.json:2:90: tasks.a.sem_post: expected a string, got null\n"
            "t.json:3:15: tasks.a.sem_wait: expected the name of a semaphore, got an empty string\n"
            "t.json:3:26: tasks.a.mem: expected a number of bytes >= 0, got -1\n"
            "t.json:3:39: tasks.a.iorun: expected an integer, got number 1.5\n"
            "t.json:3:52: tasks.a.fork: expected the name of a task, got an empty string\n"
            "t.json:3:67: tasks.a.suspend: expected a string (the name of the thread to suspend), "
            "got number 5");
}

TEST(LoaderErrorTest, Memrun) {
  EXPECT_EQ(
      errors(R"({"tasks": {"a": {"memrun": {},
  "memrun1": {"type": "copy", "size": 0, "count": -1},
  "memrun2": {"type": "chase", "size": 100, "count": 1, "stride": 64},
  "memrun3": {"type": "chase", "size": 4096, "count": 1, "stride": 4, "pattern": "zig", "foo": 1},
  "memrun4": {"type": "read", "size": 10, "count": 1, "ref": "r"},
  "memrun5": {"type": "read", "size": 20, "count": 1, "ref": "r"},
  "memrun6": {"type": "write", "size": 20, "count": 1, "ref": "r"}, "mem": {}}}})"),
      "t.json:1:28: tasks.a.memrun: memrun without \"type\" (read, write or chase)\n"
      "t.json:1:28: tasks.a.memrun: memrun without \"size\" (the buffer size in bytes)\n"
      "t.json:1:28: tasks.a.memrun: memrun without \"count\" (bytes to access, or hops for "
      "chase)\n"
      "t.json:2:23: tasks.a.memrun1.type: unknown memrun type \"copy\" (expected read, write "
      "or chase)\n"
      "t.json:2:39: tasks.a.memrun1.size: memrun size must be > 0 bytes, got 0\n"
      "t.json:2:51: tasks.a.memrun1.count: expected a number of bytes >= 0, got -1\n"
      "t.json:3:14: tasks.a.memrun2: memrun chase needs size >= 2 * stride (100 < 2 * 64): "
      "rt-app builds no chain and the event does nothing\n"
      "t.json:4:68: tasks.a.memrun3.stride: memrun stride must be >= 8 bytes (a pointer at "
      "every chain position), got 4\n"
      "t.json:4:82: tasks.a.memrun3.pattern: unknown memrun pattern \"zig\" (expected random "
      "or sequential)\n"
      "t.json:4:89: tasks.a.memrun3.foo: unknown key \"foo\" in memrun (expected type, size, "
      "count, stride, pattern or ref)\n"
      "t.json:6:14: tasks.a.memrun5: memrun ref \"r\" names a buffer of another size (lines 5 "
      "and 6); rt-app requires memrun events sharing a ref to agree\n"
      "t.json:7:76: tasks.a.mem: expected an integer, got an object");
}

TEST(LoaderErrorTest, Fork) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"fork": "thread1", "fork2": "zzz", "run": 1},
  "thread2": {"run": 1}}})"),
            "t.json:1:26: tasks.a.fork: fork of unknown task \"thread1\" (did you mean "
            "\"thread2\"?)\n"
            "t.json:1:46: tasks.a.fork2: fork of unknown task \"zzz\"");
  // A task that failed to load has its own message.
  EXPECT_EQ(errors(R"({"tasks": {"a": {"fork": "b", "run": 1}, "b": 5}})"),
            "t.json:1:47: tasks.b: expected an object (a task), got number 5");
}

TEST(LoaderErrorTest, EventsAfterRtApp10) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"fork": "a", "memrun": {"type": "read", "size": 1,
  "count": 1}, "sem_post": "s", "sem_wait": "s", "run": 1}}})",
                   rtapp_1_0()),
            "t.json:1:18: tasks.a.fork: event \"fork\" does not exist in rt-app 1.0\n"
            "t.json:1:31: tasks.a.memrun: event \"memrun\" does not exist in rt-app 1.0\n"
            "t.json:2:16: tasks.a.sem_post: event \"sem_post\" does not exist in rt-app 1.0\n"
            "t.json:2:33: tasks.a.sem_wait: event \"sem_wait\" does not exist in rt-app 1.0");
}

TEST(LoaderErrorTest, PhaseScheduling) {
  EXPECT_EQ(errors(R"({"tasks": {"t": {"phases": {
  "a": {"priority": 25, "run": 1},
  "b": {"policy": "SCHED_FIFOO", "run": 1},
  "c": {"policy": "SCHED_DEADLINE", "dl-runtime": 5000, "dl-deadline": 3000, "run": 1},
  "d": {"policy": "SCHED_DEADLINE", "run": 1},
  "e": {"policy": "SCHED_RR", "priority": 0, "run": 1},
  "f": {"dl-period": -1, "run": 1}}}}})"),
            "t.json:2:21: tasks.t.phases.a.priority: nice 25 out of range for SCHED_OTHER "
            "(expected -20..19)\n"
            "t.json:3:19: tasks.t.phases.b.policy: unknown policy \"SCHED_FIFOO\" (expected "
            "SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR or SCHED_DEADLINE)\n"
            "t.json:4:19: tasks.t.phases.c: SCHED_DEADLINE needs dl-runtime <= dl-deadline <= "
            "dl-period, got 5000 us, 3000 us, 5000 us\n"
            "t.json:5:19: tasks.t.phases.d: SCHED_DEADLINE needs \"dl-runtime\" > 0 "
            "(microseconds)\n"
            "t.json:6:43: tasks.t.phases.e.priority: priority 0 out of range for SCHED_RR "
            "(expected 1..99)\n"
            "t.json:7:22: tasks.t.phases.f.dl-period: expected microseconds >= 0, got -1");
}

TEST(LoaderErrorTest, Taskgroups) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"taskgroup": "tg", "util_min": 2000, "run": 1},
  "b": {"policy": "SCHED_FIFO", "taskgroup": "/tg", "run": 1},
  "c": {"taskgroup": "/tg", "phases": {"p": {"run": 1}, "q": {"policy": "SCHED_RR", "run": 1}}},
  "d": {"phases": {"p": {"taskgroup": "/x", "run": 1}, "q": {"policy": "SCHED_FIFO", "run": 1}}}}})"),
            "t.json:1:31: tasks.a.taskgroup: taskgroup \"tg\" must start with \"/\" (rt-app "
            "exits)\n"
            "t.json:1:49: tasks.a.util_min: \"util_min\" must be -1 (unchanged) or 0..1024, got "
            "2000\n"
            "t.json:2:33: tasks.b.taskgroup: taskgroup \"/tg\" with SCHED_FIFO: rt-app supports "
            "taskgroups only for SCHED_OTHER, SCHED_BATCH and SCHED_IDLE (\"No taskgroup support "
            "for policy\")\n"
            "t.json:3:57: tasks.c.phases.q: taskgroup \"/tg\" with SCHED_RR: rt-app supports "
            "taskgroups only for SCHED_OTHER, SCHED_BATCH and SCHED_IDLE (\"No taskgroup support "
            "for policy\")\n"
            "t.json:4:56: tasks.d.phases.q: taskgroup \"/x\" with SCHED_FIFO: rt-app supports "
            "taskgroups only for SCHED_OTHER, SCHED_BATCH and SCHED_IDLE (\"No taskgroup support "
            "for policy\")");
}

TEST(LoaderErrorTest, LegacyGrammarIsOneMessage) {
  // taskset.json and examples/merge: one error at the first legacy key, nothing else (not even
  // the other errors or warnings of the file).
  Workload w;
  Status s = load(R"({"global": {"duration": 0, "frag": 1}, "tasks": {
  "ThreadA": {"priority": -19, "lock_order": ["r0"], "exec": 5000,
              "resources": {"r0": {"duration": 1000}}},
  "ThreadB": {"exec": 300}}})",
                  &w);
  EXPECT_EQ(s.message(),
            "t.json:2:32: tasks.ThreadA.lock_order: \"lock_order\" belongs to rt-app's legacy "
            "pre-0.3 grammar (exec, period, lock_order, per-thread resources), which rt-app 1.0 "
            "and later do not read; describe the task with events such as \"run\", \"sleep\", "
            "\"timer\" and \"lock\"");
  EXPECT_TRUE(w.warnings.empty());
  // In a phase, "period" too; per-thread "resources" in any form.
  EXPECT_EQ(errors(R"({"tasks": {"t": {"phases": {"p": {"run": 1, "period": 24000}}}}})"),
            "t.json:1:45: tasks.t.phases.p.period: \"period\" belongs to rt-app's legacy pre-0.3 "
            "grammar (exec, period, lock_order, per-thread resources), which rt-app 1.0 and later "
            "do not read; describe the task with events such as \"run\", \"sleep\", \"timer\" and "
            "\"lock\"");
  EXPECT_EQ(errors(R"({"tasks": {"t": {"run": 1, "resources": ["m"]}}})").substr(0, 61),
            "t.json:1:28: tasks.t.resources: \"resources\" belongs to rt-app");
  // At task level "period" is HEAD's legacy name of "dl-period".
  EXPECT_EQ(warnings(R"({"tasks": {"t": {"run": 1, "period": 100}}})"),
            "t.json:1:28: warning: tasks.t.period: \"period\" is ignored for SCHED_OTHER\n");
}

TEST(LoaderErrorTest, Robustness) {
  // NUL bytes would end RapidJSON's input early.
  EXPECT_EQ(errors(std::string("{\"tasks\": {\"t\": {\"run\": 1}}}\0junk", 33)),
            "t.json:1:29: syntax error: NUL byte in the text (binary data?)");
  EXPECT_EQ(errors("\x89PNG\r\n\x1a\n\x01\x02"), "t.json:1:1: syntax error: Invalid value.");
  EXPECT_EQ(errors("   \n\t"), "t.json:2:2: syntax error: The document is empty.");
  EXPECT_EQ(errors(R"({"tasks": {"t": {"run": 1e3, "sleep": 99999999999999999999,
  "instance": 2147483648, "mem": -0.0}}})"),
            "t.json:1:25: tasks.t.run: expected an integer, got number 1e3\n"
            "t.json:1:39: tasks.t.sleep: integer 99999999999999999999 out of range (rt-app reads "
            "a 32-bit int)\n"
            "t.json:2:15: tasks.t.instance: integer 2147483648 out of range (rt-app reads a 32-bit "
            "int)\n"
            "t.json:2:34: tasks.t.mem: expected an integer, got number -0.0");
  // Threads are capped, per task and over all tasks.
  EXPECT_EQ(errors(R"({"tasks": {"t": {"instance": 2000000, "run": 1}}})"),
            "t.json:1:30: tasks.t.instance: this task brings the threads started by the workload "
            "to 2000000, more than the 1048576 the simulator supports");
  EXPECT_EQ(errors(R"({"tasks": {"a": {"instance": 600000, "run": 1}, "b": {"run": 1},
  "c": {"instance": 448576, "run": 1}, "d": {"instance": 5, "run": 1}}})"),
            "t.json:2:21: tasks.c.instance: this task brings the threads started by the workload "
            "to 1048577, more than the 1048576 the simulator supports");
  // Long lines stay linear: 200000 values on one line.
  std::string many = R"({"tasks": {"t": {"run": 1, "yield": [)";
  for (int i = 0; i < 200000; ++i) many += i ? ",\"x\"" : "\"x\"";
  valid(many + "]}}}");
}

TEST(LoaderErrorTest, Mutexes) {
  // rt-app needs a string ("Unknown or mismatch event type"); an empty name is refused here.
  EXPECT_EQ(errors(R"({"tasks": {"a": {"lock": 1, "run": 1, "unlock": "", "lock2": {"ref": "m"},
  "unlock2": null}}})"),
            "t.json:1:26: tasks.a.lock: expected a string, got number 1\n"
            "t.json:1:49: tasks.a.unlock: expected the name of a mutex, got an empty string\n"
            "t.json:1:62: tasks.a.lock2: expected a string, got an object\n"
            "t.json:2:14: tasks.a.unlock2: expected a string, got null");
  // rt-app exits on a resource type it does not know ("Invalid type of resource").
  EXPECT_EQ(errors(R"({"resources": {"a": {"type": "semaphore"}, "b": "mutex", "c": {},
  "d": {"type": 1}, "": {"type": "mutex"}}, "tasks": {"t": {"run": 1}}})"),
            "t.json:1:30: resources.a.type: unknown resource type \"semaphore\" (expected mutex, "
            "wait, signal, broadcast, sync, sleep, run or timer)\n"
            "t.json:1:49: resources.b: expected an object such as {\"type\": \"mutex\"} (a "
            "resource), got string \"mutex\"\n"
            "t.json:1:58: resources.c: resource without \"type\" (mutex, wait, signal, broadcast, "
            "sync, sleep, run or timer)\n"
            "t.json:2:17: resources.d.type: expected a string, got number 1\n"
            "t.json:2:21: resources.: empty mutex name");
}

TEST(LoaderErrorTest, UnknownKeysWithHints) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"polcy": "SCHED_FIFO", "slep": 5, "run": 1, "Run": 3,
  "zzz": 1, "prioirty": 3, "sem_pst": "s", "dl_runtime": 5, "semaphore": "s",
  "phases": {"p": {"plicy": "SCHED_RR", "lop": 2, "instanc": 2, "run": 1}}}}})"),
            "t.json:1:18: tasks.a.polcy: unknown key \"polcy\" (did you mean \"policy\"?)\n"
            "t.json:1:41: tasks.a.slep: unknown key \"slep\" (did you mean \"sleep\"?)\n"
            "t.json:1:52: tasks.a.run: event \"run\" outside \"phases\" is ignored by rt-app "
            "(move it into a phase)\n"
            "t.json:1:62: tasks.a.Run: unknown key \"Run\" (did you mean \"run\"?)\n"
            "t.json:2:3: tasks.a.zzz: unknown key \"zzz\"\n"
            "t.json:2:13: tasks.a.prioirty: unknown key \"prioirty\" (did you mean "
            "\"priority\"?)\n"
            "t.json:2:28: tasks.a.sem_pst: unknown key \"sem_pst\" (did you mean \"sem_post\"?)\n"
            "t.json:2:44: tasks.a.dl_runtime: unknown key \"dl_runtime\" (did you mean "
            "\"dl-runtime\"?)\n"
            "t.json:2:61: tasks.a.semaphore: unknown key \"semaphore\"\n"
            "t.json:3:20: tasks.a.phases.p.plicy: unknown key \"plicy\" (did you mean "
            "\"policy\"?)\n"
            "t.json:3:41: tasks.a.phases.p.lop: unknown key \"lop\" (did you mean \"loop\"?)\n"
            "t.json:3:51: tasks.a.phases.p.instanc: unknown key \"instanc\"");
}

TEST(LoaderErrorTest, Values) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"run": -1, "sleep": "10", "runtime": 1.5,
  "run2": 3000000000, "run3": 99999999999999999999999, "instance": -1, "delay": -5}}})"),
            "t.json:1:25: tasks.a.run: expected a duration in microseconds >= 0, got -1\n"
            "t.json:1:38: tasks.a.sleep: expected an integer, got string \"10\"\n"
            "t.json:1:55: tasks.a.runtime: expected an integer, got number 1.5\n"
            "t.json:2:11: tasks.a.run2: integer 3000000000 out of range (rt-app reads a 32-bit "
            "int)\n"
            "t.json:2:31: tasks.a.run3: integer 99999999999999999999999 out of range (rt-app "
            "reads a 32-bit int)\n"
            "t.json:2:68: tasks.a.instance: instance must be >= 0, got -1\n"
            "t.json:2:81: tasks.a.delay: expected a duration in microseconds >= 0, got -5");
  EXPECT_EQ(errors(R"({"tasks": {"n": {"priority": 20, "run": 1},
  "f": {"policy": "SCHED_RR", "priority": 0, "run": 1}}, "global": {"duration": 0}})"),
            "t.json:1:30: tasks.n.priority: nice 20 out of range for SCHED_OTHER (expected "
            "-20..19)\n"
            "t.json:2:43: tasks.f.priority: priority 0 out of range for SCHED_RR (expected 1..99)\n"
            "t.json:2:81: global.duration: duration must be -1 (until every task has finished) "
            "or > 0 seconds, got 0");
}

TEST(LoaderErrorTest, LoopsAndCpus) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"loop": 0, "run": 1, "cpus": [0, 4096, -1, "2"]},
  "b": {"cpus": [], "run": 1}, "c": {"cpus": "0-3", "run": 1},
  "d": {"phases": {"p": {"loop": -2, "run": 1}}}}})"),
            "t.json:1:26: tasks.a.loop: loop must be -1 (forever) or > 0, got 0\n"
            "t.json:1:51: tasks.a.cpus[1]: CPU 4096 out of range (expected 0..4095)\n"
            "t.json:1:57: tasks.a.cpus[2]: CPU -1 out of range (expected 0..4095)\n"
            "t.json:1:61: tasks.a.cpus[3]: expected a CPU number, got string \"2\"\n"
            "t.json:2:17: tasks.b.cpus: empty CPU list\n"
            "t.json:2:46: tasks.c.cpus: expected an array of CPU numbers, got string \"0-3\"\n"
            "t.json:3:34: tasks.d.phases.p.loop: loop must be -1 (forever) or > 0, got -2");
}

TEST(LoaderErrorTest, Timers) {
  EXPECT_EQ(errors(R"({"tasks": {"a": {"timer": {}, "timer1": {"ref": 1, "period": 10,
  "mode": "abs", "foo": 1}, "timer2": 5, "timer3": {"ref": "t", "period": 0}}}})"),
            "t.json:1:27: tasks.a.timer: timer without \"ref\" (the name of the timer)\n"
            "t.json:1:27: tasks.a.timer: timer without \"period\" (in microseconds)\n"
            "t.json:1:49: tasks.a.timer1.ref: expected a string, got number 1\n"
            "t.json:2:11: tasks.a.timer1.mode: unknown timer mode \"abs\" (expected relative or "
            "absolute)\n"
            "t.json:2:18: tasks.a.timer1.foo: unknown key \"foo\" in timer (expected ref, period "
            "or mode)\n"
            "t.json:2:39: tasks.a.timer2: expected an object, got number 5\n"
            "t.json:2:75: tasks.a.timer3.period: timer period must be > 0 us, got 0");
}

TEST(LoaderErrorTest, Deadline) {
  EXPECT_EQ(errors(R"({"tasks": {"d": {"policy": "SCHED_DEADLINE", "run": 1},
  "e": {"policy": "SCHED_DEADLINE", "dl-runtime": 5000, "dl-deadline": 3000,
        "dl-period": 10000, "run": 1},
  "f": {"policy": "SCHED_DEADLINE", "dl-runtime": 5000, "dl-period": 4000, "run": 1},
  "g": {"policy": "SCHED_DEADLINE", "dl-runtime": -5, "run": 1}}})"),
            "t.json:1:28: tasks.d: SCHED_DEADLINE needs \"dl-runtime\" > 0 (microseconds)\n"
            "t.json:2:19: tasks.e: SCHED_DEADLINE needs dl-runtime <= dl-deadline <= dl-period, "
            "got 5000 us, 3000 us, 10000 us\n"
            "t.json:4:19: tasks.f: SCHED_DEADLINE needs dl-runtime <= dl-deadline <= dl-period, "
            "got 5000 us, 4000 us, 4000 us\n"
            "t.json:5:51: tasks.g.dl-runtime: expected microseconds >= 0, got -5\n"
            "t.json:5:51: tasks.g.dl-runtime: SCHED_DEADLINE needs \"dl-runtime\" > 0 "
            "(microseconds)");
  // rt-app 1.0 leaves the deadline 0 when dl-deadline is absent.
  const std::string no_deadline =
      R"({"tasks": {"d": {"policy": "SCHED_DEADLINE", "dl-runtime": 1000, "run": 1}}})";
  valid(no_deadline);
  EXPECT_EQ(errors(no_deadline, rtapp_1_0()),
            "t.json:1:28: tasks.d: rt-app 1.0 leaves the deadline 0 when \"dl-deadline\" is "
            "absent and sched_setattr() fails (EINVAL); set \"dl-deadline\"");
}

TEST(LoaderErrorTest, Global) {
  EXPECT_EQ(errors(R"({"global": {"ftrace": "main,run", "calibration": "GPU0", "log_size": "big",
  "pi_enabled": 1, "logdir": 3}, "tasks": {"a": {"run": 1}}})"),
            "t.json:1:23: global.ftrace: unknown ftrace category \"run\" (expected main, task, "
            "loop, event, stats or none)\n"
            "t.json:1:50: global.calibration: expected \"CPUn\" or an integer (ns per loop), got "
            "string \"GPU0\"\n"
            "t.json:1:70: global.log_size: expected an integer (MB) or \"file\", \"disable\" or "
            "\"auto\", got string \"big\"\n"
            "t.json:2:17: global.pi_enabled: expected true or false, got number 1\n"
            "t.json:2:30: global.logdir: expected a string, got number 3");
  EXPECT_EQ(errors(R"({"global": {"ftrace": "main"}, "tasks": {"a": {"run": 1}}})", rtapp_1_0()),
            "t.json:1:23: global.ftrace: expected true or false (rt-app 1.0), got string \"main\"");
}

TEST(LoaderErrorTest, MaxErrors) {
  std::string text = R"({"tasks": {"a": {)";
  for (int i = 0; i < 5; ++i) text += "\"lock" + std::to_string(i) + "\": 1, ";
  text += "\"run\": 1}}}";
  LoadOptions opt;
  opt.max_errors = 2;
  EXPECT_EQ(errors(text, opt),
            "t.json:1:27: tasks.a.lock0: expected a string, got number 1\n"
            "t.json:1:39: tasks.a.lock1: expected a string, got number 1\n"
            "t.json: 3 more errors not shown");
}

TEST(LoaderErrorTest, MissingFile) {
  Workload w;
  Status s = load_workload("/nonexistent/w.json", LoadOptions{}, &w);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_EQ(s.message(), "/nonexistent/w.json: cannot open: No such file or directory");
}

// Random damage to a valid workload never crashes, throws or reports an internal error.
TEST(LoaderErrorTest, MutatedInputsNeverCrash) {
  const std::string base = R"({
  /* c */ "global": {"duration": 2, "default_policy": "SCHED_OTHER", "ftrace": "main"},
  "tasks": {
    "a": {"policy": "SCHED_DEADLINE", "dl-runtime": 100, "run": 10, "timer": {"ref": "t",
          "period": 1000, "mode": "absolute"}, "cpus": [0, 1]},
    "b": {"loop": 3, "phases": {"p": {"loop": 2, "run": 1, "sleep": 2, "yield": ""},
                                "q": {"runtime": 5, "timer": {"ref": "unique", "period": 9}}}},
    "c": {"lock": "m", "lock1": "n", "run": 3, "unlock1": "n", "lock2": "m", "unlock": "m"},
    "d": {"instance": 2, "phases": {"p": {"policy": "SCHED_BATCH", "priority": 5, "lock": "m",
          "wait": {"ref": "c", "mutex": "m"}, "unlock": "m", "barrier": "b", "suspend",
          "memrun": {"type": "chase", "size": 4096, "count": 9, "stride": 64, "ref": "r"}},
          "q": {"dl-runtime": 5, "signal": "c", "broad": "c", "sync": {"ref": "c", "mutex": "n"},
          "resume": "d", "sem_post": "s", "sem_wait": "s", "mem": 5, "iorun": 6, "fork": "e",
          "taskgroup": "/g", "util_min": 3}}},
    "e": {"instance": 0, "barrier": "b", "suspend": "x", "run": 1},
  },
  "resources": {"m": {"type": "mutex"}, "w": {"type": "wait"}},
})";
  const std::string alphabet = "{}[],:\"\\/*-+.0123456789eEtrufalsn \n\x01\xC3\xFF";
  {
    Workload w;
    ASSERT_TRUE(load(base, &w).is_ok());  // the base itself loads
  }
  std::mt19937 rng(1);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = rng() % text.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 4) {
        case 0: text.erase(at, 1); break;
        case 1: text.insert(at, 1, c); break;
        case 2: text[at] = c; break;
        case 3: text.resize(at); break;
      }
    }
    for (const LoadOptions& opt : {LoadOptions{}, rtapp_1_0()}) {
      Workload w;
      Status s = load(text, &w, opt);
      ASSERT_TRUE(s.is_ok() || s.code() == StatusCode::kInvalidInput) << s.message();
      ASSERT_TRUE(s.is_ok() || !s.message().empty());
    }
  }
}

// ---- files ------------------------------------------------------------------------------------

// tests/invalid/NAME.json must fail with exactly NAME.expected (as the CLI prints it).
TEST(LoaderFileTest, InvalidCorpus) {
  fs::path dir = fs::path(PROXYSIM_SOURCE_DIR) / "tests" / "invalid";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files) {
    fs::path expected = f;
    expected.replace_extension(".expected");
    Workload w;
    Status s = load_workload_from_string(read_file(f), f.filename().string(), LoadOptions{}, &w);
    EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << f;
    EXPECT_EQ(s.message() + "\n", read_file(expected)) << f;
    EXPECT_TRUE(w.warnings.empty()) << f;
  }
}

// examples/*.json load without error or warning.
TEST(LoaderFileTest, ExamplesAreValid) {
  fs::path dir = fs::path(PROXYSIM_SOURCE_DIR) / "examples";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++n;
    Workload w;
    Status s = load_workload(entry.path().string(), LoadOptions{}, &w);
    EXPECT_TRUE(s.is_ok()) << s.message();
    EXPECT_TRUE(w.warnings.empty()) << entry.path() << ": " << w.warnings[0];
  }
  EXPECT_GT(n, 0);
}

// rt-app's own doc/examples: set PROXYSIM_RTAPP_EXAMPLES to one or more such directories
// separated by ':' (upstream HEAD's doc/examples; Debian's /usr/share/doc/rt-app/examples of
// rt-app 1.0, which has fewer files). Every workload loads; those written for workgen (duplicate
// keys, bare "suspend") with warnings. Only the merge/ fragments fail: the threads are in the
// legacy pre-0.3 grammar (one message each), and global.json and resources.json hold no tasks.
// With rt-app 1.0 semantics, every error is about a construct rt-app 1.0 does not have.
TEST(LoaderFileTest, RtAppShippedExamples) {
  const char* env = std::getenv("PROXYSIM_RTAPP_EXAMPLES");
  if (env == nullptr) GTEST_SKIP() << "PROXYSIM_RTAPP_EXAMPLES not set";
  const std::vector<std::string> clean = {"cpufreq_governor_efficiency/calibration.json",
                                          "cpufreq_governor_efficiency/dvfs.json",
                                          "custom-slice.json",
                                          "template.json",
                                          "tutorial/example1.json",
                                          "tutorial/example2.json",
                                          "tutorial/example3.json",
                                          "tutorial/example4.json",
                                          "tutorial/example6.json",
                                          "tutorial/example7.json",
                                          "tutorial/example8.json",
                                          "tutorial/example9.json"};
  const std::vector<std::string> duplicates = {
      "browser-long.json",    "browser-short.json",     "mp3-long.json",   "mp3-short.json",
      "spreading-tasks.json", "tutorial/example5.json", "video-long.json", "video-short.json"};
  auto in = [](const std::vector<std::string>& list, const std::string& rel) {
    return std::find(list.begin(), list.end(), rel) != list.end();
  };
  auto any_line = [](const std::vector<std::string>& lines, const std::string& needle) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  std::istringstream dirs(env);
  for (std::string d; std::getline(dirs, d, ':');) {
    const fs::path dir(d);
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    int checked = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::string rel = fs::relative(entry.path(), dir).string();
      ++checked;
      Workload w;
      Status s = load_workload(entry.path().string(), LoadOptions{}, &w);
      if (rel.starts_with("merge/thread")) {
        EXPECT_EQ(s.message().find('\n'), std::string::npos) << rel << ": " << s.message();
        EXPECT_NE(s.message().find("legacy pre-0.3 grammar"), std::string::npos) << rel;
        continue;
      }
      if (rel.starts_with("merge/")) {
        EXPECT_NE(s.message().find("missing \"tasks\""), std::string::npos) << rel;
        continue;
      }
      EXPECT_TRUE(s.is_ok()) << rel << ": " << s.message();
      if (in(clean, rel)) {
        EXPECT_TRUE(w.warnings.empty()) << rel << ": " << w.warnings[0];
      }
      if (in(duplicates, rel)) {
        EXPECT_TRUE(any_line(w.warnings, "duplicate key")) << rel;
      }
      if (rel.starts_with("video-")) {
        EXPECT_TRUE(any_line(w.warnings, "\"suspend\" without a value")) << rel;
      }
      // rt-app 1.0.
      s = load_workload(entry.path().string(), rtapp_1_0(), &w);
      std::istringstream lines(s.message());
      for (std::string line; std::getline(lines, line);)
        EXPECT_NE(line.find("rt-app 1.0"), std::string::npos) << rel << ": " << line;
    }
    EXPECT_GE(checked, 24) << dir;
  }
}

}  // namespace
}  // namespace proxysim
