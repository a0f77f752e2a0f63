// rt-app per-thread logs (--rtapp-logs): file names, header and line format as rt-app prints them,
// and hand-derived lines for small schedules (zero costs, one CPU, checker on).
#include "metrics/rtapp_logs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "proxysim/loader.h"
#include "proxysim/sim.h"

namespace proxysim {
namespace {

struct LogRun {
  Status status;
  std::map<std::string, std::string> files;  // file name -> contents
};

LogRun run_logs(const std::string& json, Time duration, int cpus = 1) {
  LogRun r;
  Workload w;
  r.status = load_workload_from_string(json, "test.json", LoadOptions{}, &w);
  if (!r.status.is_ok()) return r;
  char tmpl[] = "/tmp/proxysim-rtapp-logs-XXXXXX";
  const char* base = mkdtemp(tmpl);
  EXPECT_NE(base, nullptr);
  if (!base) return r;
  const std::string dir = std::string(base) + "/logs";  // created by open()
  std::unique_ptr<RtappLogWriter> logs;
  r.status = RtappLogWriter::open(dir, w, &logs);
  if (!r.status.is_ok()) return r;
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.duration = duration;
  opt.costs = CostModel::zero();
  opt.check = true;
  RunStats stats;
  r.status = run_simulation(w, opt, {logs.get()}, &stats);
  Status c = logs->close();
  if (r.status.is_ok()) r.status = c;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    r.files[e.path().filename().string()] = ss.str();
  }
  std::filesystem::remove_all(base);
  return r;
}

const char* kHeader =
    "#idx     perf      run   period           start             end          rel_st      slack "
    "c_duration   c_period     wu_lat\n";

TEST(RtappLogs, HeaderAndLineFormatAreRtApps) {
  EXPECT_EQ(RtappLogWriter::header(), kHeader);
  RtappLogLine l{3,    92164,  19935, 98965,  504549567051, 504549666016,
                 2443, -78701, 20000, 100000, 266};
  // log_timing(): "%4d %8lu %8lu %8lu %15llu %15llu %15llu %10ld %10lu %10lu %10lu\n"
  EXPECT_EQ(RtappLogWriter::format_line(l),
            "   3    92164    19935    98965    504549567051    504549666016            2443     "
            "-78701      20000     100000        266\n");
  EXPECT_EQ(RtappLogWriter::to_us(1499), 1);
  EXPECT_EQ(RtappLogWriter::to_us(1500), 2);
  EXPECT_EQ(RtappLogWriter::to_us(-1500), -2);
  EXPECT_EQ(RtappLogWriter::to_us(-1499), -1);
}

TEST(RtappLogs, PeriodicRunTwoEveryTen) {
  // run 2 ms, timer 10 ms: iteration k starts at 10k ms, its timer event is reached at 10k + 2
  // (slack 8 ms) and returns at 10(k + 1). At 45 ms the fifth iteration is in its timer wait:
  // rt-app cancels the thread there and logs four lines.
  LogRun r = run_logs(R"({"tasks": {"periodic": {
      "run": 2000, "timer": {"ref": "unique", "period": 10000}}}})",
                      45 * kNsPerMs);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  ASSERT_EQ(r.files.size(), 1u);
  ASSERT_TRUE(r.files.count("rt-app-periodic-0.log"));
  EXPECT_EQ(r.files["rt-app-periodic-0.log"],
            std::string(kHeader) +
                "   0     2000     2000    10000               0           10000               0 "
                "      8000       2000      10000          0\n"
                "   0     2000     2000    10000           10000           20000           10000 "
                "      8000       2000      10000          0\n"
                "   0     2000     2000    10000           20000           30000           20000 "
                "      8000       2000      10000          0\n"
                "   0     2000     2000    10000           30000           40000           30000 "
                "      8000       2000      10000          0\n");
}

TEST(RtappLogs, WakeupLatencyAndSlackUnderAnRtTask) {
  // hi (FIFO) runs 1 ms every 5 ms. lo (fair) starts after a 0.5 ms delay, runs 2 ms every
  // 10 ms from t_first = 0.5 ms: it first runs at 1 ms, when hi is done; each of its timers
  // (10.5, 20.5 ms) expires while hi runs (10-11, 20-21), so it runs at 11 and 21 ms:
  // wu_lat 500 µs, slack = 10.5 - 3 = 7.5 ms.
  LogRun r = run_logs(R"({"tasks": {
      "hi": {"policy": "SCHED_FIFO", "priority": 50,
             "run": 1000, "timer": {"ref": "unique", "period": 5000}},
      "lo": {"delay": 500, "run": 2000, "timer": {"ref": "unique", "period": 10000}}}})",
                      22 * kNsPerMs);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.files["rt-app-lo-1.log"],
            std::string(kHeader) +
                "   1     2000     2000    10000            1000           11000            1000 "
                "      7500       2000      10000        500\n"
                "   1     2000     2000    10000           11000           21000           11000 "
                "      7500       2000      10000        500\n");
  std::string hi = r.files["rt-app-hi-0.log"];
  EXPECT_EQ(std::count(hi.begin(), hi.end(), '\n'), 5) << hi;  // header + 0-5 ... 15-20 ms
  EXPECT_NE(hi.find("   0     1000     1000     5000           15000           20000           "
                    "15000       4000       1000       5000          0\n"),
            std::string::npos)
      << hi;
}

TEST(RtappLogs, OverrunGivesNegativeSlackInBothTimerModes) {
  // run 12 ms against a 10 ms timer: the timer has expired when it is reached, so the iteration
  // ends at once (wu_lat 0). Relative mode restarts the timer from then (slack -2 ms each
  // time); absolute mode keeps its grid (slack -2, -4 ms).
  LogRun r = run_logs(R"({"tasks": {
      "rel": {"loop": 2, "run": 12000, "timer": {"ref": "unique", "period": 10000}},
      "abs": {"loop": 2, "cpus": [1],
              "run": 12000, "timer": {"ref": "unique", "period": 10000, "mode": "absolute"}}}})",
                      -1, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.files["rt-app-rel-0.log"],
            std::string(kHeader) +
                "   0    12000    12000    12000               0           12000               0 "
                "     -2000      12000      10000          0\n"
                "   0    12000    12000    12000           12000           24000           12000 "
                "     -2000      12000      10000          0\n");
  EXPECT_EQ(r.files["rt-app-abs-1.log"],
            std::string(kHeader) +
                "   1    12000    12000    12000               0           12000               0 "
                "     -2000      12000      10000          0\n"
                "   1    12000    12000    12000           12000           24000           12000 "
                "     -4000      12000      10000          0\n");
}

TEST(RtappLogs, FiniteLoopLogsTheLastIterationAtExit) {
  // Two iterations of run 1 ms + sleep 3 ms, then the thread exits when its last sleep returns
  // (at 8 ms): rt-app logs both. A sleep gives no slack and no wu_lat (timers only).
  LogRun r = run_logs(R"({"tasks": {"t": {"loop": 2, "run": 1000, "sleep": 3000}}})", -1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  EXPECT_EQ(r.files["rt-app-t-0.log"],
            std::string(kHeader) +
                "   0     1000     1000     4000               0            4000               0 "
                "         0       1000          0          0\n"
                "   0     1000     1000     4000            4000            8000            4000 "
                "         0       1000          0          0\n");
}

TEST(RtappLogs, FileNamesFollowRtAppThreadNames) {
  // rt-app HEAD names threads <task>-<index over all threads> and forks
  // <task>-<index>-<nnnn>; a task with "instance": 0 has no thread (and no log) until forked.
  LogRun r = run_logs(R"({"tasks": {
      "w": {"instance": 2, "loop": 1, "run": 100},
      "child": {"instance": 0, "loop": 1, "run": 100},
      "parent": {"loop": 2, "fork": "child", "run": 100}}})",
                      -1, 2);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  std::vector<std::string> names;
  for (const auto& [name, text] : r.files) {
    names.push_back(name);
    EXPECT_EQ(text.rfind(kHeader, 0), 0u) << name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"rt-app-child-3-0000.log", "rt-app-child-4-0001.log",
                                      "rt-app-parent-2.log", "rt-app-w-0.log", "rt-app-w-1.log"}));
  EXPECT_NE(r.files["rt-app-w-1.log"].find("\n   1      100      100 "), std::string::npos)
      << r.files["rt-app-w-1.log"];
}

TEST(RtappLogs, UnwritableDirectoryIsAClearError) {
  Workload w;
  ASSERT_TRUE(
      load_workload_from_string(R"({"tasks": {"t": {"run": 1}}})", "t.json", LoadOptions{}, &w)
          .is_ok());
  std::unique_ptr<RtappLogWriter> logs;
  Status s = RtappLogWriter::open("/proc/version/logs", w, &logs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message().find("--rtapp-logs /proc/version/logs"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace proxysim
