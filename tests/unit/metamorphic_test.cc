// Metamorphic checks (issue 5): relations between runs that must hold without knowing the
// expected values themselves.
#include <gtest/gtest.h>

#include <sstream>

#include "check/stress.h"
#include "sim_harness.h"

namespace proxysim {
namespace {

// The trace without the lock/proxy markers (which differ by protocol by design).
std::string sched_lines(const std::string& trace) {
  std::istringstream in(trace);
  std::string line, out;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#' && line.find("tracing_mark_write") == std::string::npos)
      out += line + "\n";
  return out;
}

TEST(Metamorphic, UncontendedLocksGiveTheSameScheduleUnderEveryProtocol) {
  // Every task has its own mutex: no lock is ever contended, so the protocols cannot differ.
  const char* json = R"({"global": {"duration": 1}, "tasks": {
      "a": {"policy": "SCHED_FIFO", "priority": 10, "lock": "ma", "run": 3000, "unlock": "ma",
            "timer": {"ref": "unique", "period": 10000}},
      "b": {"priority": -5, "lock": "mb", "run": 7000, "unlock": "mb", "sleep": 2000},
      "c": {"priority": 5, "lock": "mc", "run": 20000, "unlock": "mc", "sleep": 1000},
      "d": {"policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-period": 20000,
            "lock": "md", "run": 1500, "unlock": "md", "timer": {"ref": "unique", "period": 20000}}}})";
  auto base = testing::simulate(json, 2, "default", 1, -1, 5000, "none");
  ASSERT_TRUE(base.status.is_ok()) << base.status.message();
  for (const std::string& p : known_protocols()) {
    auto r = testing::simulate(json, 2, "default", 1, -1, 5000, p);
    ASSERT_TRUE(r.status.is_ok()) << p;
    EXPECT_EQ(sched_lines(r.trace), sched_lines(base.trace)) << p;
  }
}

TEST(Metamorphic, SplittingARunLeavesTheScheduleIdentical) {
  const char* whole = R"({"global": {"duration": 1}, "tasks": {
      "x": {"priority": 0, "run": 6000, "sleep": 1000},
      "y": {"policy": "SCHED_RR", "priority": 3, "run": 25000, "sleep": 9000},
      "z": {"priority": 7, "run": 4000, "timer": {"ref": "unique", "period": 8000}}}})";
  const char* split = R"({"global": {"duration": 1}, "tasks": {
      "x": {"priority": 0, "run": 3000, "run2": 3000, "sleep": 1000},
      "y": {"policy": "SCHED_RR", "priority": 3, "run": 12500, "run2": 12500, "sleep": 9000},
      "z": {"priority": 7, "run": 2000, "run2": 2000, "timer": {"ref": "unique", "period": 8000}}}})";
  auto a = testing::simulate(whole, 2, "default", 3, -1, 10000);
  auto b = testing::simulate(split, 2, "default", 3, -1, 10000);
  ASSERT_TRUE(a.status.is_ok() && b.status.is_ok());
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_GT(a.trace.size(), 5000u);
}

TEST(Metamorphic, ATaskThatNeverStartsChangesNothingElse) {
  // The extra task is defined last (forked last) and sleeps past the end: with zero costs its
  // instantaneous start cannot move anyone else.
  const std::string tasks = R"("a": {"priority": 0, "run": 5000, "sleep": 3000},
      "b": {"policy": "SCHED_FIFO", "priority": 20, "run": 1000,
            "timer": {"ref": "unique", "period": 7000}},
      "c": {"priority": 10, "run": 30000})";
  auto base = testing::simulate(R"({"global": {"duration": 1}, "tasks": {)" + tasks + "}}", 2);
  auto more = testing::simulate(R"({"global": {"duration": 1}, "tasks": {)" + tasks +
                                    R"(, "late": {"delay": 5000000, "run": 1000}}})",
                                2);
  ASSERT_TRUE(base.status.is_ok() && more.status.is_ok());
  for (const char* n : {"a", "b", "c"}) {
    const TaskMetrics& x = base.task(n);
    const TaskMetrics& y = more.task(n);
    EXPECT_EQ(x.cpu_time_ns, y.cpu_time_ns) << n;
    EXPECT_EQ(x.activations, y.activations) << n;
    EXPECT_EQ(x.response_ns.max, y.response_ns.max) << n;
    EXPECT_EQ(x.response_ns.p50, y.response_ns.p50) << n;
  }
}

TEST(Metamorphic, CpuTimePlusIdleTimeIsCpusTimesDuration) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    int cpus;
    std::string json = stress_workload(seed, &cpus);
    for (const char* p : {"none", "pi", "proxy"}) {
      auto r = testing::simulate(json, cpus, "default", seed, 100 * kNsPerMs, 10000, p);
      if (!r.status.is_ok()) continue;  // deadlocks end early; covered by the stress test
      Time tasks = 0, idle = 0;
      for (const auto& t : r.metrics.tasks) tasks += t.cpu_time_ns;
      for (const auto& c : r.metrics.cpus) idle += c.idle_ns;
      EXPECT_EQ(tasks + idle, cpus * r.metrics.stats.sim_time) << "seed " << seed << " " << p;
    }
  }
}

}  // namespace
}  // namespace proxysim
