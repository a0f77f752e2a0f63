// rt-app's synchronisation and other events with hand-derived schedules (issue 3): suspend/
// resume, barriers, condition variables, semaphores, timers in relative mode, mem/iorun, fork
// and phase-level policy changes. Zero costs, checker on.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "sim_harness.h"

namespace proxysim {
namespace {

using testing::simulate;

// sched_switch lines as "time_us prev->next".
std::vector<std::string> switches(const std::string& trace) {
  std::vector<std::string> out;
  std::istringstream in(trace);
  std::string line;
  std::regex re(R"((\d+)\.(\d{6}): sched_switch: prev_comm=(\S+) .* next_comm=(\S+) )");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, re))
      out.push_back(std::to_string(std::stoll(m[1]) * 1000000 + std::stoll(m[2])) + " " +
                    m[3].str() + "->" + m[4].str());
  return out;
}

TEST(Sync, SuspendResumePingPong) {
  // b (defined first, so forked first) suspends at once; a runs 1 ms, resumes b and suspends;
  // b runs 1 ms, resumes a and suspends again; three rounds on one CPU. Both are FIFO of one
  // priority, so a resumed thread never preempts the resumer before it suspends: with fair
  // threads the wakee may preempt (EEVDF wakeup preemption) and the next resume is then lost
  // (rt-app's resume is a pthread_cond_broadcast), a deadlock rt-app would hit as well.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "b": {"policy": "SCHED_FIFO", "priority": 10, "loop": 3, "suspend": "b", "run": 1000,
            "resume": "a"},
      "a": {"policy": "SCHED_FIFO", "priority": 10, "loop": 3, "run": 1000, "resume": "b",
            "suspend": "a"}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  auto sw = switches(r.trace);
  // The threads are forked one after the other at t = 0: b runs first and suspends before a
  // exists, so the CPU idles for an instant.
  std::vector<std::string> want = {"0 swapper/0->b-0", "0 b-0->swapper/0", "0 swapper/0->a-1",
                                   "1000 a-1->b-0",    "2000 b-0->a-1",    "3000 a-1->b-0",
                                   "4000 b-0->a-1",    "5000 a-1->b-0",    "6000 b-0->a-1"};
  ASSERT_GE(sw.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(sw[i], want[i]) << i;
  EXPECT_EQ(r.task("a").cpu_time_ns, 3 * kNsPerMs);
  EXPECT_EQ(r.task("b").cpu_time_ns, 3 * kNsPerMs);
}

// A global deadlock (every task waits and nothing can wake one) is reported at the time of the
// last event, and also when the run would end before the time a cancelled timer was due. With
// lazily cancelled timers it was reported only once the stale fair-server timer had popped
// (950 ms here: the server's zero-laxity point), and not at all in a run ending before that.
TEST(Sync, GlobalDeadlockIsReportedWhenTheLastEventHappened) {
  const std::string json = R"({"global": {"duration": 3}, "tasks": {
      "a": {"run": 1000, "suspend": "x"}}})";
  for (Time duration : {Time{-1}, 500 * kNsPerMs}) {
    auto r = simulate(json, 1, "default", 1, duration);
    ASSERT_EQ(r.status.code(), StatusCode::kWorkloadFailed) << duration;
    ASSERT_EQ(r.metrics.deadlocks.size(), 1u);
    // a runs 1 ms from 2 us on (the first switch costs the context switch of the default costs)
    EXPECT_NE(r.metrics.deadlocks[0].find("deadlock at 1002000 ns"), std::string::npos)
        << r.metrics.deadlocks[0];
    EXPECT_EQ(r.metrics.stats.sim_time, 1002000) << duration;
  }
}

TEST(Sync, BarrierOfThreeReleasesTogether) {
  // Three threads on three CPUs run 1, 2 and 3 ms, meet at a barrier, then run 1 ms: all three
  // pass the barrier when the last arrives (3 ms) and finish at 4 ms.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "t1": {"loop": 1, "run": 1000, "barrier": "b", "run2": 1000},
      "t2": {"loop": 1, "run": 2000, "barrier": "b", "run2": 1000},
      "t3": {"loop": 1, "run": 3000, "barrier": "b", "run2": 1000}}})",
                    3);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  for (const char* t : {"t1", "t2", "t3"}) EXPECT_EQ(r.task(t).response_ns.max, 4 * kNsPerMs) << t;
  EXPECT_EQ(r.metrics.stats.sim_time, 4 * kNsPerMs);
}

TEST(Sync, SignalWakesExactlyOneWaiterBroadcastWakesAll) {
  // w1 and w2 wait on c (with m) from t = 0; s signals once at 5 ms and broadcasts at 10 ms.
  // Each waiter then runs 1 ms. w1 waited first, so the signal wakes w1 (done at 6 ms); w2
  // only leaves at the broadcast (done at 11 ms). 3 CPUs.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "w1": {"loop": 1, "lock": "m", "wait": {"ref": "c", "mutex": "m"}, "unlock": "m",
             "run": 1000},
      "w2": {"loop": 1, "delay": 100, "lock": "m", "wait": {"ref": "c", "mutex": "m"},
             "unlock": "m", "run": 1000},
      "s": {"loop": 1, "delay": 5000, "signal": "c", "sleep": 5000, "broad": "c"}}})",
                    3);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.task("w1").response_ns.max, 6 * kNsPerMs);
  EXPECT_EQ(r.task("w2").response_ns.max, 11 * kNsPerMs - 100 * kNsPerUs);
}

TEST(Sync, WaitWithoutTheMutexFailsTheWorkload) {
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "t": {"loop": 1, "wait": {"ref": "c", "mutex": "m"}}}})",
                    1);
  EXPECT_EQ(r.status.code(), StatusCode::kWorkloadFailed);
  EXPECT_NE(r.status.message().find("without holding its mutex \"m\""), std::string::npos)
      << r.status.message();
}

TEST(Sync, SemaphoreCountsPosts) {
  // p posts twice at 0 and once at 10 ms; c waits three times, each followed by 1 ms of work:
  // it passes the first two at once (0-1, 1-2 ms) and the third at 10 ms (done 11 ms).
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "p": {"loop": 1, "sem_post": "s", "sem_post2": "s", "sleep": 10000, "sem_post3": "s"},
      "c": {"loop": 3, "sem_wait": "s", "run": 1000}}})",
                    2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.task("c").activations, 3);
  EXPECT_EQ(r.metrics.stats.sim_time, 11 * kNsPerMs);
}

TEST(Sync, RelativeTimerRestartsAfterAnOverrun) {
  // Period 10 ms. The first iteration runs 15 ms and overruns its 10 ms expiry. Absolute mode
  // keeps the grid (next expiry 20 ms: the second iteration starts at 20 ms); relative mode
  // restarts from the overrun (15 ms), so the second starts at once and the third at 25 ms.
  const char* tmpl = R"({"global": {"duration": 1}, "tasks": {
      "t": {"loop": 3, "phases": {
          "long": {"loop": 1, "run": 15000, "timer": {"ref": "unique", "period": 10000, "mode": "MODE"}},
          "short": {"loop": 2, "run": 1000, "timer": {"ref": "unique", "period": 10000, "mode": "MODE"}}}}}})";
  auto with = [&](const std::string& mode) {
    std::string j = tmpl;
    for (size_t p; (p = j.find("MODE")) != std::string::npos;) j.replace(p, 4, mode);
    return simulate(j, 1, "zero", 1, 40 * kNsPerMs);
  };
  auto abs = with("absolute");
  auto rel = with("relative");
  ASSERT_TRUE(abs.status.is_ok() && rel.status.is_ok());
  auto wake_times = [](const std::string& trace) {
    std::vector<int64_t> t;
    std::istringstream in(trace);
    std::string line;
    std::regex re(R"((\d+)\.(\d{6}): sched_waking: comm=t-0 )");
    std::smatch m;
    while (std::getline(in, line))
      if (std::regex_search(line, m, re))
        t.push_back(std::stoll(m[1]) * 1000000 + std::stoll(m[2]));
    return t;
  };
  // absolute: 15 ms run ends after the 10 ms expiry, so the first timer does not sleep; the
  // short phase's timer then sleeps to 20 ms, then 30 ms.
  EXPECT_EQ(wake_times(abs.trace), (std::vector<int64_t>{20000, 30000}));
  // relative: the overrun resets the reference to 15 ms: wakes at 16+... the short phase runs
  // 15-16 ms and sleeps to 25 ms, then 35 ms.
  EXPECT_EQ(wake_times(rel.trace), (std::vector<int64_t>{25000, 35000}));
}

TEST(Sync, MemIsCpuWorkAndIorunBlocks) {
  // mem 10 MB at 10 GB/s = 1 ms of CPU; iorun 5 MB at 500 MB/s = a 10 ms blocking write.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "t": {"loop": 1, "mem": 10000000, "iorun": 5000000, "run": 1000}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.task("t").cpu_time_ns, 2 * kNsPerMs);
  EXPECT_EQ(r.metrics.stats.sim_time, 12 * kNsPerMs);
}

TEST(Sync, ForkStartsATaskDefinedWithInstanceZero) {
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "parent": {"loop": 2, "run": 1000, "fork": "child", "sleep": 5000},
      "child": {"instance": 0, "loop": 1, "run": 3000}}})",
                    2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  int children = 0;
  for (const auto& t : r.metrics.tasks)
    if (t.name.rfind("child", 0) == 0) {
      ++children;
      EXPECT_EQ(t.cpu_time_ns, 3 * kNsPerMs) << t.name;
    }
  EXPECT_EQ(children, 2);
}

// Thread names as rt-app HEAD gives them (src/rt-app.c thread_data_set_unique_name()): the
// index counts created threads over all tasks in file order, a forked thread adds the count of
// forks of its task so far (%04d); a name over 15 characters cannot be set with
// pthread_setname_np(), so the thread keeps the process comm "rt-app" in the trace.
TEST(Sync, ThreadsAreNamedAsRtAppHeadNamesThem) {
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "t": {"instance": 2, "loop": 1, "run": 1000},
      "parent": {"loop": 2, "run": 1000, "fork": "child", "sleep": 5000},
      "child": {"instance": 0, "loop": 1, "run": 1000},
      "a_very_long_thread": {"loop": 1, "run": 1000}}})",
                    2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  std::vector<std::string> names;
  for (const auto& t : r.metrics.tasks) names.push_back(t.name);
  // t-0, t-1, parent-2, a_very_long_thread-3 at start; parent forks at 1 ms (thread 4, fork 0)
  // and at 7 ms (thread 5, fork 1).
  EXPECT_EQ(names, (std::vector<std::string>{"t-0", "t-1", "parent-2", "a_very_long_thread-3",
                                             "child-4-0000", "child-5-0001"}));
  EXPECT_NE(r.trace.find("comm=rt-app pid=1003 "), std::string::npos);
  EXPECT_NE(r.trace.find("comm=t-1 pid=1001 "), std::string::npos);
  EXPECT_NE(r.trace.find("comm=child-5-0001 pid=1005 "), std::string::npos);
}

// rt-app 1.0 (Debian's) names every instance of a task by the task's key.
TEST(Sync, RtApp10NamesThreadsByTaskKey) {
  SimOptions opt;
  opt.nr_cpus = 2;
  LoadOptions lo;
  lo.rtapp_1_0 = true;
  auto r = testing::simulate_opts(R"({"global": {"duration": 1}, "tasks": {
      "t": {"instance": 2, "loop": 1, "run": 1000}, "u": {"loop": 1, "run": 1000}}})",
                                  opt, lo);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  std::vector<std::string> names;
  for (const auto& t : r.metrics.tasks) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"t", "t", "u"}));
  EXPECT_NE(r.trace.find("comm=t pid=1001 "), std::string::npos);
}

TEST(Sync, PhaseLevelPolicyChange) {
  // t runs fair in its first phase and SCHED_FIFO in the second: from then on the busy fair
  // task on its CPU gets nothing until t exits (the fair server's first 50 ms would only come
  // at 950 ms). One CPU, always busy, zero costs: busy gets 1000 - 510 = 490 ms.
  auto r = simulate(R"({"global": {"duration": 1}, "tasks": {
      "t": {"loop": 1, "phases": {
          "fair": {"run": 10000},
          "rt": {"policy": "SCHED_FIFO", "priority": 10, "run": 500000}}},
      "busy": {"run": 1000000}}})",
                    1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.task("t").cpu_time_ns, 510 * kNsPerMs);
  EXPECT_EQ(r.task("t").policy, Policy::kFifo);  // last seen
  EXPECT_EQ(r.task("busy").cpu_time_ns, 490 * kNsPerMs);
}

}  // namespace
}  // namespace proxysim
