// Locks under the three protocols and proxy execution, against hand-derived schedules
// (DESIGN.md §5-6). The invariant checker is on in every run (sim_harness.h).
#include <gtest/gtest.h>

#include <sstream>

#include "sim_harness.h"

namespace proxysim {
namespace {

using testing::SimResult;

SimResult run(const std::string& json, int cpus, const std::string& protocol,
              const std::string& costs = "zero") {
  return testing::simulate(json, cpus, costs, 1, -1, 0, protocol);
}

int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1))
    ++n;
  return n;
}

// The textbook inversion on one CPU, zero costs. low (FIFO 10) locks m at 0 and needs 10 ms
// inside; high (FIFO 30) wants m at 2 ms and then runs 1 ms; mid (FIFO 20) arrives at 3 ms and
// runs 50 ms.
//   none:  low runs 0-2, high blocks at 2, low runs 2-3, mid runs 3-53, low 53-61 (8 ms left),
//          high 61-62: high's activation = 62 - 2 = 60 ms?  No: high's release is its delay
//          (2 ms) and low had run 2 ms of 10 before, 1 ms more before mid: 7 ms left after mid,
//          so low unlocks at 53 + 7 = 60 and high ends at 61: 61 - 2 = 59 ms.
//   pi / proxy: low runs 2-10 on high's priority (mid cannot preempt), high 10-11: 9 ms.
constexpr const char* kClassic = R"({"global": {"duration": 1}, "tasks": {
    "low":  {"policy": "SCHED_FIFO", "priority": 10, "loop": 1,
             "lock": "m", "run": 10000, "unlock": "m"},
    "high": {"policy": "SCHED_FIFO", "priority": 30, "delay": 2000, "loop": 1,
             "lock": "m", "run": 1000, "unlock": "m"},
    "mid":  {"policy": "SCHED_FIFO", "priority": 20, "delay": 3000, "loop": 1, "run": 50000}}})";

TEST(Locking, ClassicInversionNone) {
  auto r = run(kClassic, 1, "none");
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.task("high").response_ns.max, 59 * kNsPerMs);
  EXPECT_EQ(r.task("high").lock_wait_ns.max, 58 * kNsPerMs);  // blocked 2 -> 60
  // While mid ran 3-53 nobody of high's chain (low) ran.
  EXPECT_EQ(r.task("high").owner_starved_ns, 50 * kNsPerMs);
}

TEST(Locking, ClassicInversionSolvedByPiAndEveryProxyStage) {
  for (const char* p : {"pi", "proxy", "proxy:single-rq", "proxy:migrate"}) {
    auto r = run(kClassic, 1, p);
    ASSERT_TRUE(r.status.is_ok()) << p << ": " << r.status.message();
    EXPECT_EQ(r.task("high").response_ns.max, 9 * kNsPerMs) << p;
    EXPECT_EQ(r.task("high").owner_starved_ns, 0) << p;
    EXPECT_EQ(r.task("mid").response_ns.max, 58 * kNsPerMs) << p;  // 3 -> 61
  }
}

TEST(Locking, PiEmitsSetprioBoostAndDeboost) {
  auto r = run(kClassic, 1, "pi");
  ASSERT_TRUE(r.status.is_ok());
  // low (prio 89) inherits high's 69 at 2 ms and drops back at its unlock at 10 ms.
  EXPECT_NE(
      r.trace.find("     0.002000: sched_pi_setprio: comm=low-0 pid=1000 oldprio=89 newprio=69"),
      std::string::npos);
  EXPECT_NE(
      r.trace.find("     0.010000: sched_pi_setprio: comm=low-0 pid=1000 oldprio=69 newprio=89"),
      std::string::npos);
  EXPECT_EQ(count(r.trace, "sched_pi_setprio:"), 2);
}

// switched_from_rt(): an owner deboosted out of the RT class that was its CPU's last RT task
// lets that CPU pull RT work queued elsewhere (rt_mutex_setprio() runs the balance callback
// before it returns). 2 CPUs, zero costs:
//   0 ms  owner (fair, CPU 1) takes m; r (FIFO 40) starts on CPU 0 and sleeps 3 ms;
//   1 ms  waiter (FIFO 80, CPU 0) blocks on m: owner runs at prio 19;  2 ms  hog (FIFO 90,
//   CPU 0) runs 30 ms;  3 ms  r wakes: CPU 0 runs hog, CPU 1 the boosted owner, so r waits
//   queued on CPU 0;  10 ms owner unlocks and drops to prio 120 with no RT task left on CPU 1:
//   CPU 1 pulls r, which runs 10-15 ms.
// Without the pull r waits for hog: 32-37 ms (response 34 ms instead of 12 ms).
TEST(Locking, PiDeboostOutOfRtPullsRtWork) {
  const std::string json = R"({"tasks": {
    "owner": {"loop": 1, "cpus": [1], "lock": "m", "run": 10000, "unlock": "m", "run2": 10000,
              "sleep": 100000},
    "waiter": {"loop": 1, "policy": "SCHED_FIFO", "priority": 80, "cpus": [0], "delay": 1000,
               "lock": "m", "run": 1000, "unlock": "m", "sleep": 100000},
    "hog": {"loop": 1, "policy": "SCHED_FIFO", "priority": 90, "cpus": [0], "delay": 2000,
            "run": 30000, "sleep": 100000},
    "r": {"loop": 1, "policy": "SCHED_FIFO", "priority": 40, "delay": 3000, "run": 5000,
          "sleep": 100000}},
    "global": {"duration": 1}})";
  auto r = run(json, 2, "pi");
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_NE(r.trace.find("     0.010000: sched_migrate_task: comm=r-3 pid=1003 prio=59 "
                         "orig_cpu=0 dest_cpu=1"),
            std::string::npos)
      << r.trace;
  EXPECT_EQ(r.task("r").migrations[static_cast<size_t>(MigrateReason::kRtPull)], 1);
  EXPECT_EQ(r.task("r").response_ns.max, 12 * kNsPerMs);  // 3 -> 15 ms
}

// A remote reschedule takes an IPI (DESIGN.md §3), even when a cancelled timer of the target CPU
// was due in between. hi on CPU 0 boosts lo, preempted on CPU 1 by mid, at ~949.999 ms; lo
// runs on CPU 1 one IPI latency later. fz's one short run on CPU 1 at t = 0 started CPU 1's
// fair server, whose zero-laxity timer (due at 950 ms) was cancelled when fz slept: with lazy
// cancellation that stale timer still popped at 950 ms as an interrupt of CPU 1 and ran its
// pending reschedule there, 1 us before the IPI. Default costs (IPI 2 us).
TEST(Locking, RemoteBoostReschedulesThroughTheIpiNotACancelledTimer) {
  const std::string json = R"({"global": {"duration": 1}, "tasks": {
    "fz": {"cpus": [1], "run": 1000, "sleep": 5000000},
    "lo": {"cpus": [1], "policy": "SCHED_FIFO", "priority": 10, "delay": 10000, "lock": "m",
           "run": 1500000, "unlock": "m", "sleep": 1000000},
    "mid": {"cpus": [1], "policy": "SCHED_FIFO", "priority": 20, "delay": 500000,
            "run": 1000000, "sleep": 1000000},
    "hi": {"cpus": [0], "policy": "SCHED_FIFO", "priority": 30, "delay": 949989, "lock": "m",
           "run": 100, "unlock": "m", "sleep": 1000000}}})";
  struct Times : Observer {
    Time boost = -1, lo_in = -1;
    void on_pi_setprio(Time t, int, const TaskRef& p, int oldprio, int newprio) override {
      if (p.comm == "lo-1" && newprio < oldprio && boost < 0) boost = t;
    }
    void on_sched_switch(Time t, int cpu, const TaskRef&, SwitchState, const TaskRef& next,
                         const TaskRef&) override {
      if (cpu == 1 && next.comm == "lo-1" && boost >= 0 && lo_in < 0) lo_in = t;
    }
  } times;
  Workload w;
  ASSERT_TRUE(load_workload_from_string(json, "test.json", LoadOptions{}, &w).is_ok());
  SimOptions opt;
  opt.nr_cpus = 2;
  opt.protocol = "pi";
  opt.check = true;
  RunStats stats;
  ASSERT_TRUE(run_simulation(w, opt, {&times}, &stats).is_ok());
  ASSERT_GT(times.boost, 949 * kNsPerMs);
  ASSERT_LT(times.boost, 950 * kNsPerMs);
  EXPECT_EQ(times.lo_in, times.boost + opt.costs.ipi_latency);
}

TEST(Locking, ProxyRunsOwnerOnDonorContextAndSplitsAccounting) {
  auto r = run(kClassic, 1, "proxy");
  ASSERT_TRUE(r.status.is_ok());
  // From 2 to 10 ms low runs as curr with high as donor: 8 ms donated by high, 8 ms of proxy
  // time for low, and low's CPU time (10 ms) includes them (sum_exec_runtime goes to curr).
  EXPECT_EQ(r.task("high").donated_ns, 8 * kNsPerMs);
  EXPECT_EQ(r.task("low").proxy_ns, 8 * kNsPerMs);
  EXPECT_EQ(r.task("low").cpu_time_ns, 10 * kNsPerMs);
  EXPECT_EQ(r.task("high").cpu_time_ns, 1 * kNsPerMs);
  EXPECT_EQ(r.metrics.cpus[0].proxy_ns, 8 * kNsPerMs);
  // The unlock hands m to the donor that was running low.
  EXPECT_NE(r.trace.find("proxysim: action=handoff donor=high-1-1001 task=low-0-1000"),
            std::string::npos);
  // high blocked (prev_state=S: rt-app's mutexes are futexes, as the real kernel shows) and
  // stayed queued as a donor.
  EXPECT_NE(r.trace.find("prev_comm=high-1 prev_pid=1001 prev_prio=69 prev_state=S"),
            std::string::npos);
}

// Inversion among fair tasks (weights: nice 19 = 15, nice 0 = 1024, nice -10 = 9548). The owner
// (custom slice 3 ms, so that the waiter's shorter slice preempts it at once: PREEMPT_SHORT)
// locks m at 0 with 2 ms of critical section to go; the waiter blocks on m at 0 and then needs
// 1 ms; 4 busy nice-0 tasks share the CPU. The fluid model of the issue gives
//   without proxy: C (w_L + n w_M) / w_L + C_H (w_H + n w_M) / w_H = 548.1 + 1.43 = 549.6 ms
//   with proxy:    C (w_H + w_L + n w_M) / (w_H + w_L) + 1.43        = 2.86 + 1.43 = 4.29 ms.
// EEVDF without HRTICK serves in tick quanta (4 ms): with proxy the donor's weight gets the
// owner picked at once and 2 ms + 1 ms complete before the first tick can preempt, 3 ms (within
// one tick of the fluid 4.29 ms): the owner runs 0-2 ms on the waiter's context and unlocks,
// handing m to the waiter; the waiter has paid those 2 ms in virtual time (the donor is charged)
// and is not eligible, so a busy task runs to the tick (4 ms) and the waiter then runs 4-5 ms:
// 5 ms. Without proxy the nice-19 owner, at zero lag, is picked as soon as it is the only
// eligible task: after each busy task has had one 4 ms quantum (16 ms); it runs its 2 ms and
// unlocks at 18 ms, waking the waiter, which preempts it on the way back from the unlock and runs
// 1 ms: 19 ms. The fluid 549.6 ms holds only when the critical section spans many turns (next
// test); PI, which lends no nice value, must equal none.
constexpr const char* kFair = R"({"global": {"duration": 2}, "tasks": {
    "owner":  {"priority": 19, "dl-runtime": 3000, "loop": 1, "lock": "m", "run": 2000,
               "unlock": "m"},
    "waiter": {"priority": -10, "loop": 1, "lock": "m", "run": 1000, "unlock": "m"},
    "busy":   {"instance": 4, "priority": 0, "run": 1000000}}})";

TEST(Locking, FairInversionProxyNearFluidModel) {
  auto none = run(kFair, 1, "none");
  auto pi = run(kFair, 1, "pi");
  auto proxy = run(kFair, 1, "proxy");
  ASSERT_TRUE(none.status.is_ok() && pi.status.is_ok() && proxy.status.is_ok());
  Time fluid_proxy = 4290 * kNsPerUs;
  EXPECT_NEAR(proxy.task("waiter").response_ns.max, fluid_proxy, 4 * kNsPerMs);  // one tick
  EXPECT_EQ(pi.task("waiter").response_ns.max, none.task("waiter").response_ns.max);
  EXPECT_EQ(proxy.task("waiter").response_ns.max, 5 * kNsPerMs);
  EXPECT_EQ(none.task("waiter").response_ns.max, 19 * kNsPerMs);
  EXPECT_GT(none.task("waiter").response_ns.max, 3 * proxy.task("waiter").response_ns.max);
}

TEST(Locking, FairInversionLongCriticalSectionApproachesFluidModel) {
  // One busy nice-0 task, a 20 ms critical section. Fluid: 20 ms (15 + 1024) / 15 = 1385 ms.
  // In tick quanta the owner runs 4 ms per turn, each followed by 4 ms x 1024 / 15 = 273 ms of
  // the busy task: its 5th quantum ends between 4 x 277 = 1108 ms and 5 x 277 = 1385 ms.
  // With proxy the owner runs on the donor's weight 9548 + 15 against 1024: about
  // 20 ms x 10587 / 9563 = 22 ms, and the waiter's own 1 ms: within a tick of 23 ms.
  const char* json = R"({"global": {"duration": 3}, "tasks": {
      "owner":  {"priority": 19, "dl-runtime": 3000, "loop": 1, "lock": "m", "run": 20000,
                 "unlock": "m"},
      "waiter": {"priority": -10, "loop": 1, "lock": "m", "run": 1000, "unlock": "m"},
      "busy":   {"priority": 0, "run": 1000000}}})";
  auto none = run(json, 1, "none");
  auto proxy = run(json, 1, "proxy");
  ASSERT_TRUE(none.status.is_ok() && proxy.status.is_ok());
  EXPECT_GE(none.task("waiter").response_ns.max, 1100 * kNsPerMs);
  EXPECT_LE(none.task("waiter").response_ns.max, 1400 * kNsPerMs);
  EXPECT_NEAR(proxy.task("waiter").response_ns.max, 23 * kNsPerMs, 4 * kNsPerMs);
}

// ksched_football (kernel/sched/test_ksched_football.c in the proxy series): per CPU a low
// (FIFO 2) holding L_i, a mid (FIFO 3) holding M_i and blocked on L_i, a high (FIFO 10) blocked
// on M_i; offense (FIFO 5) must never run; fans (FIFO 15) run and sleep.
std::string football(int n) {
  std::ostringstream j;
  j << R"({"global": {"duration": 1}, "tasks": {)";
  for (int i = 0; i < n; ++i)
    j << "\"low" << i << R"(": {"policy": "SCHED_FIFO", "priority": 2, "loop": 1, "lock": "L)" << i
      << R"(", "run": 2000000, "unlock": "L)" << i << "\"},";
  for (int i = 0; i < n; ++i)
    j << "\"mid" << i << R"(": {"policy": "SCHED_FIFO", "priority": 3, "delay": 1000, "loop": 1,)"
      << R"("lock": "M)" << i << R"(", "lock2": "L)" << i << R"(", "unlock2": "L)" << i
      << R"(", "unlock": "M)" << i << "\"},";
  for (int i = 0; i < n; ++i)
    j << "\"high" << i << R"(": {"policy": "SCHED_FIFO", "priority": 10, "delay": 2000,)"
      << R"("loop": 1, "lock": "M)" << i << R"(", "unlock": "M)" << i << "\"},";
  j << R"("offense": {"instance": )" << n
    << R"(, "policy": "SCHED_FIFO", "priority": 5, "delay": 3000, "run": 1000000},)";
  j << R"("fan": {"instance": )" << n
    << R"(, "policy": "SCHED_FIFO", "priority": 15, "delay": 3000, "run": 500, "sleep": 2000}}})";
  return j.str();
}

Time offense_time(const SimResult& r) {
  Time t = 0;
  for (const auto& task : r.metrics.tasks)
    if (task.name.rfind("offense", 0) == 0) t += task.cpu_time_ns;
  return t;
}

TEST(Locking, FootballOffenseNeverRunsUnderPiAndProxy) {
  for (int n : {2, 4}) {
    for (const char* p : {"pi", "proxy:full"}) {
      auto r = testing::simulate(football(n), n, "default", 1, -1, 0, p);
      ASSERT_TRUE(r.status.is_ok()) << n << " " << p << ": " << r.status.message();
      EXPECT_EQ(offense_time(r), 0) << n << " CPUs, " << p;
    }
    auto none = testing::simulate(football(n), n, "default", 1, -1, 0, "none");
    ASSERT_TRUE(none.status.is_ok()) << none.status.message();
    EXPECT_GT(offense_time(none), 100 * kNsPerMs) << n << " CPUs, none";
  }
}

// A cross-CPU chain: the owner is pinned to CPU 1 among two busy tasks; the waiter (FIFO 50)
// is pinned to CPU 0. single-rq cannot proxy a remote owner (the waiter sleeps until the owner
// finishes on its own); migrate and full move the donor to CPU 1 (migration "proxy"), run the
// owner there, and after the handoff return the waiter to CPU 0 (migration "return").
constexpr const char* kCross = R"({"global": {"duration": 1}, "tasks": {
    "owner": {"priority": 19, "cpus": [1], "loop": 1, "lock": "m", "run": 20000, "unlock": "m"},
    "busy":  {"instance": 2, "cpus": [1], "delay": 500, "run": 1000000},
    "waiter": {"policy": "SCHED_FIFO", "priority": 50, "cpus": [0], "delay": 1000, "loop": 1,
               "lock": "m", "run": 1000, "unlock": "m"}}})";

TEST(Locking, CrossCpuChainNeedsDonorMigration) {
  auto single = run(kCross, 2, "proxy:single-rq");
  ASSERT_TRUE(single.status.is_ok()) << single.status.message();
  EXPECT_EQ(single.task("waiter").activations, 0);  // still waiting after 1 s
  for (const char* p : {"proxy:migrate", "proxy:full"}) {
    auto r = run(kCross, 2, p);
    ASSERT_TRUE(r.status.is_ok()) << p << ": " << r.status.message();
    const TaskMetrics& w = r.task("waiter");
    EXPECT_EQ(w.activations, 1) << p;
    // The owner got the CPU at the 4 ms tick (the waiter spun on it from 1 ms until then),
    // ran its 20 ms on the waiter's context, and the waiter ran 1 ms back on CPU 0.
    EXPECT_LE(w.response_ns.max, 25 * kNsPerMs) << p;
    EXPECT_EQ(w.migrations[static_cast<int>(MigrateReason::kProxy)], 1) << p;
    EXPECT_EQ(w.migrations[static_cast<int>(MigrateReason::kReturn)], 1) << p;
    EXPECT_GT(w.donated_ns, 15 * kNsPerMs) << p;
    EXPECT_NE(r.trace.find("proxysim: action=return donor=waiter-3-1003"), std::string::npos);
  }
}

// A sleeping owner: it takes m and sleeps 10 ms inside; the waiter (FIFO) blocks on m at 1 ms.
// single-rq and migrate deactivate the donor (it sleeps until the unlock wakes it); full parks
// it on the owner and activates it on the owner's CPU when the owner wakes at 10 ms, so that the
// owner runs its last 5 ms on the waiter's context even against a busy FIFO 20 task.
TEST(Locking, SleepingOwnerParksAndActivatesDonor) {
  const char* json = R"({"global": {"duration": 1}, "tasks": {
      "owner": {"priority": 0, "loop": 1, "lock": "m", "sleep": 10000, "run": 5000,
                "unlock": "m"},
      "hog": {"policy": "SCHED_FIFO", "priority": 20, "delay": 2000, "loop": 1, "run": 100000},
      "waiter": {"policy": "SCHED_FIFO", "priority": 50, "delay": 1000, "loop": 1,
                 "lock": "m", "run": 1000, "unlock": "m"}}})";
  auto full = run(json, 1, "proxy:full");
  ASSERT_TRUE(full.status.is_ok()) << full.status.message();
  EXPECT_NE(full.trace.find("proxysim: action=park donor=waiter"), std::string::npos);
  EXPECT_NE(full.trace.find("proxysim: action=activate donor=waiter"), std::string::npos);
  // owner wakes at 10 ms, runs 5 ms as proxy (the hog cannot preempt FIFO 50), waiter 1 ms:
  // 16 ms - 1 ms release = 15 ms.
  EXPECT_EQ(full.task("waiter").response_ns.max, 15 * kNsPerMs);
  auto mig = run(json, 1, "proxy:migrate");
  ASSERT_TRUE(mig.status.is_ok()) << mig.status.message();
  EXPECT_NE(mig.trace.find("proxysim: action=block donor=waiter"), std::string::npos);
  // Without parking the owner, woken at 10 ms, waits for the FIFO hog (2 -> 102 ms).
  EXPECT_GT(mig.task("waiter").response_ns.max, 100 * kNsPerMs);
}

TEST(Locking, AbBaDeadlockIsReportedUnderEveryProtocol) {
  const char* json = R"({"global": {"duration": 1}, "tasks": {
      "a": {"loop": 1, "lock": "m0", "run": 2000, "lock2": "m1", "unlock2": "m1",
            "unlock": "m0"},
      "b": {"loop": 1, "delay": 1000, "lock": "m1", "run": 2000, "lock2": "m0",
            "unlock2": "m0", "unlock": "m1"}}})";
  for (const std::string& p : known_protocols()) {
    auto r = run(json, 2, p);
    EXPECT_EQ(r.status.code(), StatusCode::kWorkloadFailed) << p;
    const std::string& m = r.status.message();
    EXPECT_NE(m.find("deadlock at "), std::string::npos) << p << ": " << m;
    for (const char* name : {"b-1 waits for m0", "held by a-0", "waits for m1 held by b-1"})
      EXPECT_NE(m.find(name), std::string::npos) << p << ": " << m;
    ASSERT_EQ(r.metrics.deadlocks.size(), 1u) << p;
    EXPECT_EQ(r.metrics.deadlocks[0], m) << p;
  }
}

TEST(Locking, UnlockOfAMutexNotHeldFailsTheWorkload) {
  auto r = run(R"({"global": {"duration": 1}, "tasks": {
      "t": {"loop": 1, "run": 1000, "unlock": "m"}}})",
               1, "none");
  EXPECT_EQ(r.status.code(), StatusCode::kWorkloadFailed);
  EXPECT_NE(
      r.status.message().find("t-0: unlock of mutex \"m\" at 1000000 ns, which it does not hold"),
      std::string::npos)
      << r.status.message();
}

TEST(Locking, MutexHandoffAfterAStolenLock) {
  // struct mutex with default costs and spinning off, 4 CPUs, every task FIFO 10 on its own CPU.
  // o holds m 0-2 ms. w blocks on m at 0.5 ms. o's unlock at 2 ms wakes w, whose IPI and idle
  // exit take 12 us; s1, running on CPU 2, locks m at 2.005 ms and steals it. w, finding m
  // taken, sets MUTEX_FLAG_HANDOFF and sleeps again. s1 unlocks at ~5 ms and the lock goes
  // straight to w, so s2, which locks m 10 us after that unlock, cannot steal it again: it
  // waits for w's 1 ms critical section.
  const char* json = R"({"global": {"duration": 1}, "tasks": {
      "o": {"policy": "SCHED_FIFO", "priority": 10, "cpus": [0], "loop": 1,
            "lock": "m", "run": 2000, "unlock": "m", "run2": 5000},
      "w": {"policy": "SCHED_FIFO", "priority": 10, "cpus": [1], "delay": 500, "loop": 1,
            "lock": "m", "run": 1000, "unlock": "m"},
      "s1": {"policy": "SCHED_FIFO", "priority": 10, "cpus": [2], "delay": 1000, "loop": 1,
             "run": 995, "lock": "m", "run2": 3000, "unlock": "m"},
      "s2": {"policy": "SCHED_FIFO", "priority": 10, "cpus": [3], "delay": 1000, "loop": 1,
             "run": 3998, "lock": "m", "run2": 100, "unlock": "m"}}})";
  auto r = testing::simulate(json, 4, "default", 1, -1, 0, "none", /*mutex_spin=*/false);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  // s1 took m without waiting (stole it), w waited once, s2 waited for w.
  EXPECT_EQ(r.task("s1").lock_wait_ns.count, 0);
  EXPECT_EQ(r.task("w").lock_wait_ns.count, 1);
  EXPECT_EQ(r.task("s2").lock_wait_ns.count, 1);
  EXPECT_GT(r.task("s2").lock_wait_ns.max, 900 * kNsPerUs);  // w's critical section
}

TEST(Locking, DonorLoadOptionChangesWhatLoadBalancingSees) {
  // Four donors keep blocking on m, held most of the time by an owner pinned to CPU 0; three
  // busy tasks float. With the kernel's behaviour (count) the queued blocked donors make CPU 0
  // look loaded, so balancing keeps the busy tasks off it and they share CPU 1 more; ignoring
  // donor load (--donor-load ignore) lets them use CPU 0 when its chain is idle.
  const char* json = R"({"global": {"duration": 2}, "tasks": {
      "owner": {"priority": 0, "cpus": [0], "lock": "m", "run": 50000, "unlock": "m",
                "run2": 1000},
      "donor": {"instance": 4, "delay": 1000, "lock": "m", "run": 100, "unlock": "m",
                "sleep": 500},
      "busy":  {"instance": 3, "run": 1000000}}})";
  SimOptions opt;
  opt.nr_cpus = 2;
  opt.protocol = "proxy";
  auto count = testing::simulate_opts(json, opt);
  opt.donor_load = false;
  auto ignore = testing::simulate_opts(json, opt);
  ASSERT_TRUE(count.status.is_ok()) << count.status.message();
  ASSERT_TRUE(ignore.status.is_ok()) << ignore.status.message();
  auto busy = [](const SimResult& r) {
    Time t = 0;
    for (const auto& task : r.metrics.tasks)
      if (task.name.rfind("busy", 0) == 0) t += task.cpu_time_ns;
    return t;
  };
  EXPECT_GT(busy(ignore), busy(count) + 100 * kNsPerMs);
}

TEST(Locking, LockReleasedDuringTheWalkLetsTheDonorRunAfterReturn) {
  // O (FIFO 50, CPU 0) holds m 0-2 ms. W (FIFO 10) and then D (FIFO 20), both pinned to CPU 1,
  // block on m and migrate to CPU 0 as donors (O outranks them there). At 2 ms O unlocks,
  // which wakes the first waiter W (return migration to CPU 1, IPI 12 us), and sleeps. CPU 0
  // then picks D: the walk finds m free (released, not handed to D), so D leaves the blocked
  // state through the waking gate and returns to CPU 1 with W. D outranks W there, takes m
  // first (2.014 ms) and W waits for D's 1 ms: D done at 3.016, W at 4.018.
  const char* json = R"({"global": {"duration": 1}, "tasks": {
      "O": {"policy": "SCHED_FIFO", "priority": 50, "cpus": [0], "loop": 1,
            "lock": "m", "run": 2000, "unlock": "m", "sleep": 3000},
      "W": {"policy": "SCHED_FIFO", "priority": 10, "cpus": [1], "delay": 500, "loop": 1,
            "lock": "m", "run": 1000, "unlock": "m"},
      "D": {"policy": "SCHED_FIFO", "priority": 20, "cpus": [1], "delay": 700, "loop": 1,
            "lock": "m", "run": 1000, "unlock": "m"}}})";
  auto r = testing::simulate(json, 2, "default", 1, -1, 0, "proxy:migrate", /*mutex_spin=*/false);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  const TaskMetrics& d = r.task("D");
  EXPECT_EQ(d.migrations[static_cast<int>(MigrateReason::kProxy)], 1);
  EXPECT_EQ(d.migrations[static_cast<int>(MigrateReason::kReturn)], 1);
  EXPECT_NE(r.trace.find("0.002002: tracing_mark_write: proxysim: action=return donor=D-2-1002"),
            std::string::npos);
  EXPECT_EQ(d.response_ns.max, 3016 * kNsPerUs - 700 * kNsPerUs);
  EXPECT_EQ(r.task("W").response_ns.max, 4018 * kNsPerUs - 500 * kNsPerUs);
}

}  // namespace
}  // namespace proxysim
