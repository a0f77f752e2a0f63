// Whole-simulation tests of the kernel model against values derived by hand (DESIGN.md §4).
// Every run has the invariant checker on (sim_harness.h).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "sim_harness.h"

namespace proxysim {
namespace {

using testing::simulate;

// Trace lines of one event kind, e.g. "sched_switch".
std::vector<std::string> lines_of(const std::string& trace, const std::string& event) {
  std::vector<std::string> out;
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#' && line.find(": " + event + ": ") != std::string::npos)
      out.push_back(line);
  return out;
}

// The timestamp of a trace line, in µs.
int64_t ts_us(const std::string& line) {
  std::smatch m;
  std::regex re(R"((\d+)\.(\d{6}): )");
  if (!std::regex_search(line, m, re)) return -1;
  return std::stoll(m[1]) * 1000000 + std::stoll(m[2]);
}

TEST(Fair, NiceZeroAndFiveShareOneCpuByWeight) {
  // Two always-running tasks on one CPU. EEVDF gives each a share proportional to its weight:
  // sched_prio_to_weight[nice 0] = 1024, [nice 5] = 335, so over 10 s nice 0 gets
  // 10 s * 1024 / 1359 = 7.5350 s and nice 5 gets 2.4650 s. The issue asks for 2 %; the
  // slices are 0.75 ms and ticks 4 ms, so the error of a 10 s run is far smaller.
  auto r = simulate(R"({"global": {"duration": 10}, "tasks": {
      "n0": {"priority": 0, "run": 1000000}, "n5": {"priority": 5, "run": 1000000}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  double n0 = static_cast<double>(r.task("n0").cpu_time_ns);
  double n5 = static_cast<double>(r.task("n5").cpu_time_ns);
  EXPECT_EQ(r.task("n0").cpu_time_ns + r.task("n5").cpu_time_ns, 10 * kNsPerSec);
  EXPECT_NEAR(n0 / n5, 1024.0 / 335.0, 0.02 * 1024.0 / 335.0);
  EXPECT_NEAR(n0, 10e9 * 1024 / 1359, 0.002 * 10e9);
}

TEST(Fair, EqualTasksAlternateBySlice) {
  // Two nice-0 tasks on one CPU: each gets half (5 s of 10 s) to within one slice.
  auto r = simulate(R"({"global": {"duration": 10}, "tasks": {
      "a": {"run": 1000000}, "b": {"run": 1000000}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_NEAR(r.task("a").cpu_time_ns, 5 * kNsPerSec, 4 * kNsPerMs);
}

TEST(Rt, FifoPreemptsFairImmediatelyOnWakeup) {
  // `fifo` sleeps 10 ms (delay) then runs 1 ms every 10 ms on the CPU `fair` keeps busy.
  // With zero costs it must be switched in at the very instant it wakes, each time: wakeup
  // latency 0 and response = its 1 ms of work.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "fair": {"run": 1000000},
      "fifo": {"policy": "SCHED_FIFO", "priority": 10, "delay": 10000,
               "run": 1000, "timer": {"ref": "unique", "period": 10000}}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  const TaskMetrics& f = r.task("fifo");
  EXPECT_EQ(f.wakeup_latency_ns.max, 0);
  EXPECT_EQ(f.response_ns.max, 1 * kNsPerMs);
  EXPECT_EQ(f.response_ns.min, 1 * kNsPerMs);
  // Activations at 10, 20, ..., 990 ms: 99 of them, all complete within the 1 s run.
  EXPECT_EQ(f.activations, 99);
  auto waking = lines_of(r.trace, "sched_waking");
  auto switches = lines_of(r.trace, "sched_switch");
  ASSERT_FALSE(waking.empty());
  EXPECT_EQ(ts_us(waking.front()), 10000);
  bool found = false;
  for (const auto& s : switches)
    if (s.find("next_comm=fifo") != std::string::npos && ts_us(s) > 0) {
      EXPECT_EQ(ts_us(s), 10000);
      EXPECT_NE(s.find("prev_comm=fair"), std::string::npos);
      EXPECT_NE(s.find("prev_state=R"), std::string::npos);
      found = true;
      break;
    }
  EXPECT_TRUE(found);
}

TEST(Rt, RoundRobinPairAlternatesEvery100ms) {
  // Two SCHED_RR tasks of one priority on one CPU: RR_TIMESLICE = 100 ms = 25 ticks at HZ=250,
  // decremented at each tick; ticks fall on multiples of 4 ms, so switches happen at exactly
  // 100, 200, ..., 900 ms, alternating.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "rr": {"instance": 2, "policy": "SCHED_RR", "priority": 10, "run": 1000000}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  auto sw = lines_of(r.trace, "sched_switch");
  ASSERT_EQ(sw.size(), 10u);  // the first switch from idle, then 9 round-robin switches
  for (int k = 1; k <= 9; ++k) {
    EXPECT_EQ(ts_us(sw[k]), k * 100000) << sw[k];
    const char* next = (k % 2) ? "next_comm=rr-1" : "next_comm=rr-0";
    EXPECT_NE(sw[k].find(next), std::string::npos) << sw[k];
  }
  EXPECT_EQ(r.task("rr-0").cpu_time_ns, 500 * kNsPerMs);
}

TEST(Rt, PreemptedLowerPriorityTaskIsPushedToIdleCpu) {
  // `high` (FIFO 20) wakes at 10 ms on CPU 0, where `low` (FIFO 10) runs; CPU 1 is idle.
  // select_task_rq_rt() keeps high on CPU 0 (low has lower priority), high preempts at once,
  // and put_prev_task_rt() pushes the preempted low to the idle CPU 1 (push_rt_task()).
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "high": {"policy": "SCHED_FIFO", "priority": 20, "delay": 10000, "loop": 1, "run": 5000},
      "low": {"policy": "SCHED_FIFO", "priority": 10, "run": 1000000}}})",
                    2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.task("high").wakeup_latency_ns.max, 0);
  EXPECT_EQ(r.task("low").migrations[static_cast<int>(MigrateReason::kRtPush)], 1);
  auto mig = lines_of(r.trace, "sched_migrate_task");
  ASSERT_EQ(mig.size(), 1u);
  EXPECT_EQ(ts_us(mig[0]), 10000);
  EXPECT_NE(mig[0].find("comm=low-1 pid=1001 prio=89 orig_cpu=0 dest_cpu=1"), std::string::npos);
  // low lost no time: 1 s on two CPUs minus nothing (zero costs).
  EXPECT_EQ(r.task("low").cpu_time_ns, 1 * kNsPerSec);
}

TEST(Rt, WokenHigherPriorityTaskGoesToIdleCpuInsteadOfQueueing) {
  // `t` (FIFO 20) last ran on CPU 0, where `hog` (FIFO 50, pinned) now runs. At each wakeup
  // select_task_rq_rt() finds the hog of higher priority and places t on the idle CPU 1.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "hog": {"policy": "SCHED_FIFO", "priority": 50, "cpus": [0], "run": 1000000},
      "t": {"policy": "SCHED_FIFO", "priority": 20, "run": 1000,
            "timer": {"ref": "unique", "period": 10000}}}})",
                    2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.task("t").wakeup_latency_ns.max, 0);
  EXPECT_EQ(r.task("t").response_ns.max, 1 * kNsPerMs);
  EXPECT_EQ(r.task("hog").cpu_time_ns, 1 * kNsPerSec);
}

TEST(Deadline, GetsItsBudgetEveryPeriodNextToAnRtHog) {
  // A 2 ms / 10 ms DEADLINE task running 2 ms per 10 ms period on the CPU of a FIFO 50 hog.
  // DL outranks RT, so each job runs at once: 200 activations in 2 s, each with response
  // exactly 2 ms, no deadline misses, and 400 ms of CPU time; the hog gets the other 1600 ms.
  auto r = simulate(R"({"global": {"duration": 2}, "tasks": {
      "hog": {"policy": "SCHED_FIFO", "priority": 50, "run": 1000000},
      "dl": {"policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-period": 10000,
             "run": 2000, "timer": {"ref": "unique", "period": 10000}}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  const TaskMetrics& dl = r.task("dl");
  EXPECT_EQ(dl.activations, 200);
  EXPECT_EQ(dl.deadline_misses, 0);
  EXPECT_EQ(dl.response_ns.max, 2 * kNsPerMs);
  EXPECT_EQ(dl.cpu_time_ns, 400 * kNsPerMs);
  EXPECT_EQ(r.task("hog").cpu_time_ns, 1600 * kNsPerMs);
}

TEST(Deadline, OverrunIsThrottledAndReplenished) {
  // A job that wants 5 ms of a 2 ms / 10 ms reservation is throttled when its budget runs out
  // (detected at the next tick, HRTICK being off by default) and continues in later periods:
  // over 1 s it gets at most 100 periods x 2 ms plus one tick of overrun per throttle.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "fair": {"run": 1000000},
      "dl": {"policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-period": 10000,
             "run": 1000000}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  Time dl = r.task("dl").cpu_time_ns;
  EXPECT_GE(dl, 200 * kNsPerMs);
  EXPECT_LE(dl, 400 * kNsPerMs);
  EXPECT_GT(r.task("fair").cpu_time_ns, 550 * kNsPerMs);
}

// Linux 6.7+: one pushable DEADLINE task makes its rq overloaded, and dl_task_timer() tries
// push_dl_task() after queueing a replenished task back. Each job (3 ms of a 2 ms / 10 ms
// reservation) is throttled once; at its replenishment the pinned fair hog is running, so the
// task is queued but not running, and the other CPU has no DEADLINE work: it is pushed there.
// With one throttle per 10 ms job, 1 s gives about 100 pushes (the kernel: 116 in 2 s of
// examples/fidelity/dl-overload.json); without the push it never moves.
TEST(Deadline, ReplenishedTaskIsPushedToACpuWithoutDeadlineWork) {
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "dl": {"policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-period": 10000,
             "run": 3000, "timer": {"ref": "unique", "period": 10000}},
      "hog0": {"cpus": [0], "run": 1000000},
      "hog1": {"cpus": [1], "run": 1000000}}})",
                    2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_GE(r.task("dl").migrations_total, 30);
  EXPECT_GT(r.task("dl").migrations[static_cast<size_t>(MigrateReason::kDlPush)], 0);
}

TEST(Deadline, OverAdmittedSetIsRejected) {
  // Two CPUs admit Σ runtime/period <= 0.95 x 2 = 1.9. Three 7/10 tasks sum to 2.1: the
  // first two (1.4) pass, the third is refused, and the run fails with exit code 1.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "d": {"instance": 3, "policy": "SCHED_DEADLINE", "dl-runtime": 7000, "dl-period": 10000,
            "run": 1000, "timer": {"ref": "unique", "period": 10000}}}})",
                    2);
  EXPECT_EQ(r.status.code(), StatusCode::kWorkloadFailed);
  EXPECT_EQ(r.status.exit_code(), 1);
  EXPECT_NE(r.status.message().find("d-2: sched_setattr(SCHED_DEADLINE) failed: admission"),
            std::string::npos)
      << r.status.message();
}

TEST(Deadline, RestrictedAffinityIsRefused) {
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "d": {"policy": "SCHED_DEADLINE", "dl-runtime": 1000, "dl-period": 10000, "cpus": [0],
            "run": 500}}})",
                    2);
  EXPECT_EQ(r.status.code(), StatusCode::kWorkloadFailed);
}

TEST(Deadline, FairServerGivesFairTasksFivePercentUnderAnRtHog) {
  // A FIFO busy loop and a fair busy loop on one CPU. The fair dl_server (50 ms every 1 s,
  // deferred) waits until its zero-laxity point 950 ms into each period, then runs the fair
  // task for its 50 ms: [0.95, 1.0], [1.95, 2.0], [2.95, 3.0], [3.95, 4.0] -> 200 ms of 4 s.
  auto r = simulate(R"({"global": {"duration": 4}, "tasks": {
      "hog": {"policy": "SCHED_FIFO", "priority": 50, "run": 1000000},
      "fair": {"run": 1000000}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  Time fair = r.task("fair").cpu_time_ns;
  EXPECT_NEAR(fair, 200 * kNsPerMs, 40 * kNsPerMs);  // the issue's 5 % +- 1 % of 4 s
  EXPECT_EQ(fair, 200 * kNsPerMs);                   // and exactly, with zero costs
  auto sw = lines_of(r.trace, "sched_switch");
  bool at_950 = false;
  for (const auto& s : sw)
    if (s.find("next_comm=fair") != std::string::npos && ts_us(s) == 950000) at_950 = true;
  EXPECT_TRUE(at_950);
}

TEST(Balance, SpreadsFourBusyTasksOverFourCpus) {
  // Four busy tasks start pinned to CPU 0 for 10 ms of work each (done by ~40 ms), then are
  // free. Newidle/NOHZ balancing must give each CPU one task within a few balance intervals
  // (4 ms idle interval on 4 CPUs): from 100 ms on, every CPU is busy, so each CPU is busy
  // > 90 % of the second and each task gets > 90 % of a CPU.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "t": {"instance": 4, "phases": {
          "pinned": {"cpus": [0], "run": 10000},
          "free": {"run": 1000000}}}}})",
                    4, "default");
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  for (const CpuMetrics& c : r.metrics.cpus) EXPECT_GT(c.busy_ns, 900 * kNsPerMs) << c.cpu;
  for (const TaskMetrics& t : r.metrics.tasks) EXPECT_GT(t.cpu_time_ns, 900 * kNsPerMs) << t.name;
  int lb = 0;
  for (const TaskMetrics& t : r.metrics.tasks)
    lb += static_cast<int>(t.migrations[static_cast<int>(MigrateReason::kNewidle)] +
                           t.migrations[static_cast<int>(MigrateReason::kNohzBalance)] +
                           t.migrations[static_cast<int>(MigrateReason::kLoadBalance)]);
  EXPECT_GE(lb, 3);
}

constexpr const char* kMix = R"({"global": {"duration": 1}, "tasks": {
    "dl": {"policy": "SCHED_DEADLINE", "dl-runtime": 3000, "dl-period": 20000, "run": 2500,
           "timer": {"ref": "unique", "period": 20000}},
    "rt": {"policy": "SCHED_FIFO", "priority": 30, "run": 700, "sleep": 3000},
    "rr": {"instance": 2, "policy": "SCHED_RR", "priority": 5, "run": 20000, "sleep": 30000},
    "f": {"instance": 5, "priority": 3, "run": 9000, "sleep": 2000},
    "b": {"policy": "SCHED_BATCH", "run": 50000}}})";

TEST(Determinism, SameSeedSameBytes) {
  // With jitter on, every cross-CPU latency comes from the seeded PRNG: the same seed must give
  // byte-identical traces and metrics, and another seed a different schedule.
  auto a = simulate(kMix, 3, "default", 7, -1, 20000);
  auto b = simulate(kMix, 3, "default", 7, -1, 20000);
  auto c = simulate(kMix, 3, "default", 8, -1, 20000);
  ASSERT_TRUE(a.status.is_ok()) << a.status.message();
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(metrics_json(a.metrics, {false}), metrics_json(b.metrics, {false}));
  EXPECT_NE(a.trace, c.trace);
  EXPECT_GT(a.trace.size(), 10000u);
}

TEST(Trace, EveryLineMatchesPerfettoPattern) {
  // The systrace line pattern of Perfetto's text importer.
  auto r = simulate(kMix, 3, "default");
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  std::regex re(
      R"(-(\d+)\s+\(?\s*(\d+|-+)?\)?\s?\[(\d+)\]\s*[a-zA-Z0-9.]{0,5}\s+(\d+\.\d+):\s+(\S+):)");
  std::istringstream in(r.trace);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(std::regex_search(line, re)) << line;
    ++n;
  }
  EXPECT_GT(n, 1000);
  EXPECT_EQ(r.trace.rfind("# tracer: nop\n", 0), 0u);
}

TEST(Accounting, CpuTimeAddsUpAndMatchesBusyTime) {
  auto r = simulate(kMix, 3, "default");
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  Time tasks = 0, busy = 0;
  for (const auto& t : r.metrics.tasks) tasks += t.cpu_time_ns;
  for (const auto& c : r.metrics.cpus) {
    busy += c.busy_ns;
    EXPECT_EQ(c.busy_ns + c.idle_ns, 1 * kNsPerSec);
  }
  EXPECT_EQ(tasks, busy);
}

TEST(Workload, RunsForeverWithoutDurationIsAnError) {
  auto r = simulate(R"({"tasks": {"t": {"run": 1000}}})", 1);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidInput);
}

TEST(Workload, FiniteLoopsEndTheRun) {
  // duration -1 (default): the run ends when every task has finished. 3 x (1 ms run + 1 ms
  // sleep) = 6 ms, the last sleep included (the task exits when it returns from it).
  auto r = simulate(R"({"tasks": {"t": {"loop": 3, "run": 1000, "sleep": 1000}}})", 1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.metrics.stats.sim_time, 6 * kNsPerMs);
  EXPECT_EQ(r.task("t").activations, 3);
  EXPECT_EQ(r.task("t").cpu_time_ns, 3 * kNsPerMs);
  EXPECT_EQ(lines_of(r.trace, "sched_process_exit").size(), 1u);
}

TEST(Workload, ALoopThatConsumesNoTimeIsAWorkloadError) {
  // Only a yield, or only lock/unlock: the thread would spin forever at one instant (rt-app too);
  // the run stops with exit 1 rather than an internal error or a hang.
  for (const char* json : {R"({"global": {"duration": 1}, "tasks": {"t": {"yield": ""}}})",
                           R"({"global": {"duration": 1}, "tasks": {
                               "t": {"lock": "m", "unlock": "m"}}})"}) {
    auto r = simulate(json, 1);
    EXPECT_EQ(r.status.code(), StatusCode::kWorkloadFailed) << json;
    EXPECT_NE(r.status.message().find("without consuming time"), std::string::npos)
        << r.status.message();
  }
}

}  // namespace
}  // namespace proxysim
