// FtraceWriter: exact tracefs text for synthetic event sequences, header patching, and the line
// regex of Perfetto's systrace importer.
#include "trace/ftrace_writer.h"

// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> (std::function moves in
// regex_automaton.h) at -O1 with sanitizers; the code in question is libstdc++'s, not ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace proxysim {
namespace {

TaskRef task(int id, int pid, std::string_view comm, int prio, Policy policy) {
  return TaskRef{id, pid, comm, prio, policy, comm};
}
const TaskRef kIdle{};  // id -1, pid 0

std::string read_stream(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) v.push_back(line);
  return v;
}

// The kernel's legend (kernel/trace/trace.c print_func_help_header_irq, no TGID).
const char* const kLegend =
    "#\n"
    "#                                _-----=> irqs-off/BH-disabled\n"
    "#                               / _----=> need-resched\n"
    "#                              | / _---=> hardirq/softirq\n"
    "#                              || / _--=> preempt-depth\n"
    "#                              ||| / _-=> migrate-disable\n"
    "#                              |||| /     delay\n"
    "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
    "#              | |         |   |||||     |         |\n";

// Two CPUs: low (FIFO10 -> prio 89) wakes on CPU0; high (FIFO30 -> prio 69) is woken from CPU0
// onto CPU1 (migrated there), takes a marker, exits.
void feed_scenario(FtraceWriter& w) {
  TaskRef low = task(0, 1001, "low", 89, Policy::kFifo);
  TaskRef high = task(1, 1002, "high", 69, Policy::kFifo);
  w.on_start(RunInfo{2, 1, "none", "x.json"});
  w.on_task_new(0, low);
  w.on_task_new(0, high);
  w.on_sched_waking(1000, 0, low, 0);
  w.on_sched_wakeup(1500, 0, low, 0, /*is_new=*/true);
  w.on_sched_switch(2000, 0, kIdle, SwitchState::kRunnable, low, low);
  w.on_sched_waking(1'000'123'999, 0, high, 1);  // truncated to 1.000123
  w.on_sched_migrate(1'000'124'000, 0, high, 0, 1, MigrateReason::kWakeup);
  w.on_sched_wakeup(1'000'130'000, 1, high, 1, /*is_new=*/false);
  w.on_sched_switch(1'000'131'000, 1, kIdle, SwitchState::kRunnable, high, high);
  w.write_marker(1'000'132'000, 1, "B|1002|lock m0\n");
  w.on_sched_switch(2'000'000'000, 0, low, SwitchState::kSleeping, kIdle, kIdle);
  w.on_process_exit(12'345'678'901'234, 1, high);
  w.on_sched_switch(12'345'678'902'000, 1, high, SwitchState::kDead, kIdle, kIdle);
  w.on_finish(12'345'678'902'000);
}

// The 10 event lines of feed_scenario, derived from `%16s-%-7d [%03d] %5s %5lu.%06lu: `:
// "<idle>" is right-aligned in 16 (10 spaces), pid 0 left-aligned in 7, seconds right-aligned in
// 5 after one space ("    0" -> 5 spaces before the digit).
const char* const kScenarioLines =
    "          <idle>-0       [000] d..3.     0.000001: sched_waking: comm=low pid=1001 prio=89 "
    "target_cpu=000\n"
    "          <idle>-0       [000] d..3.     0.000001: sched_wakeup_new: comm=low pid=1001 "
    "prio=89 target_cpu=000\n"
    "          <idle>-0       [000] d..2.     0.000002: sched_switch: prev_comm=swapper/0 "
    "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=low next_pid=1001 next_prio=89\n"
    "             low-1001    [000] d..3.     1.000123: sched_waking: comm=high pid=1002 prio=69 "
    "target_cpu=001\n"
    "             low-1001    [000] d..3.     1.000124: sched_migrate_task: comm=high pid=1002 "
    "prio=69 orig_cpu=0 dest_cpu=1\n"
    "          <idle>-0       [001] d..3.     1.000130: sched_wakeup: comm=high pid=1002 prio=69 "
    "target_cpu=001\n"
    "          <idle>-0       [001] d..2.     1.000131: sched_switch: prev_comm=swapper/1 "
    "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=high next_pid=1002 next_prio=69\n"
    "            high-1002    [001] ...1.     1.000132: tracing_mark_write: B|1002|lock m0\n"
    "             low-1001    [000] d..2.     2.000000: sched_switch: prev_comm=low prev_pid=1001 "
    "prev_prio=89 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n"
    "            high-1002    [001] ..... 12345.678901: sched_process_exit: comm=high pid=1002 "
    "prio=69 group_dead=true\n"
    "            high-1002    [001] d..2. 12345.678902: sched_switch: prev_comm=high "
    "prev_pid=1002 prev_prio=69 prev_state=X ==> next_comm=swapper/1 next_pid=0 "
    "next_prio=120\n";

TEST(FtraceWriter, SeekableFileGetsPatchedHeaderAndExactLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    FtraceWriter w(f);
    feed_scenario(w);
    EXPECT_EQ(w.entries(), 11u);
    EXPECT_TRUE(w.close().is_ok());
  }
  // "# entries-in-buffer/entries-written: 11/11   #P:2" is 37 + 5 + 7 = 49 characters; the
  // reserved width is 37 + 31 ("999999999999999/999999999999999") + 7 = 75: 26 spaces of pad.
  std::string expected = "# tracer: nop\n#\n# entries-in-buffer/entries-written: 11/11   #P:2" +
                         std::string(26, ' ') + "\n" + kLegend + kScenarioLines;
  EXPECT_EQ(read_stream(f), expected);
  std::fclose(f);
}

TEST(FtraceWriter, PipeGetsUnknownCountsAndSameLines) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::FILE* wf = fdopen(fds[1], "w");
  ASSERT_NE(wf, nullptr);
  {
    FtraceWriter w(wf);
    feed_scenario(w);
    EXPECT_TRUE(w.close().is_ok());
  }
  std::fclose(wf);  // the writer did not own it
  std::FILE* rf = fdopen(fds[0], "r");
  std::string got;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, rf)) > 0) got.append(buf, n);
  std::fclose(rf);
  std::string expected = std::string("# tracer: nop\n#\n") +
                         "# entries-in-buffer/entries-written: ?/?   #P:2\n" + kLegend +
                         kScenarioLines;
  EXPECT_EQ(got, expected);
}

TEST(FtraceWriter, EveryEventLineMatchesPerfettoRegex) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    FtraceWriter w(f);
    feed_scenario(w);
  }  // the destructor closes (flushes and patches)
  // google/perfetto systrace_line_tokenizer (5-flag variant quoted in perfetto issue #500).
  const std::regex kPerfetto(
      R"(-(\d+)\s+\(?\s*(\d+|-+)?\)?\s?\[(\d+)\]\s*[a-zA-Z0-9.]{0,5}\s+(\d+\.\d+):\s+(\S+):)");
  int events = 0;
  for (const std::string& line : lines_of(read_stream(f))) {
    if (line.starts_with("#")) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, kPerfetto)) << line;
    ++events;
    if (events == 4) {  // low-1001 [000] ... 1.000123: sched_waking
      EXPECT_EQ(m[1], "1001");
      EXPECT_EQ(m[3], "000");
      EXPECT_EQ(m[4], "1.000123");
      EXPECT_EQ(m[5], "sched_waking");
    }
  }
  EXPECT_EQ(events, 11);
  std::fclose(f);
}

TEST(FtraceWriter, LongCommTruncatedCurrentTrackedDonorChangeOnlyMarker) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  TaskRef a = task(0, 7, "a_very_long_thread_name", 120, Policy::kNormal);
  TaskRef b = task(1, 8, "b", 100, Policy::kNormal);
  {
    FtraceWriter w(f);
    w.on_start(RunInfo{1, 1, "none", ""});
    w.on_sched_switch(5, 0, kIdle, SwitchState::kRunnable, a, a);
    w.on_sched_waking(6, 0, b, 0);  // current on CPU0 is a: truncated comm in column 1 too
    w.on_sched_switch(7, 0, a, SwitchState::kRunnable, b, b);
    // Donor change only: no sched_switch line, but b starts a "proxy for" slice (comm of the
    // donor truncated to 15 characters).
    w.on_sched_switch(7, 0, b, SwitchState::kRunnable, b, a);
    w.write_marker(8, 0, "x\ny");  // inner newline -> space
  }                                // closed without on_finish(): the slice stays open (no E line)
  std::vector<std::string> lines = lines_of(read_stream(f));
  ASSERT_EQ(lines.size(), 12u + 5u);  // 12 header lines
  EXPECT_EQ(lines[12],
            "          <idle>-0       [000] d..2.     0.000000: sched_switch: prev_comm=swapper/0 "
            "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a_very_long_thr next_pid=7 "
            "next_prio=120");
  EXPECT_EQ(lines[13],
            " a_very_long_thr-7       [000] d..3.     0.000000: sched_waking: comm=b pid=8 "
            "prio=100 target_cpu=000");
  EXPECT_EQ(lines[14],
            " a_very_long_thr-7       [000] d..2.     0.000000: sched_switch: "
            "prev_comm=a_very_long_thr prev_pid=7 prev_prio=120 prev_state=R ==> next_comm=b "
            "next_pid=8 next_prio=100");
  EXPECT_EQ(lines[15],
            "               b-8       [000] ...1.     0.000000: tracing_mark_write: B|8|proxy for "
            "a_very_long_thr");
  EXPECT_EQ(lines[16],
            "               b-8       [000] ...1.     0.000000: tracing_mark_write: x y");
  // 5 entries: "5/5" -> 37 + 3 + 7 = 47 chars, reserved 37 + 31 + 7 = 75: 28 spaces.
  EXPECT_EQ(lines[2], "# entries-in-buffer/entries-written: 5/5   #P:1" + std::string(28, ' '));
  std::fclose(f);
}

TEST(FtraceWriter, OpenPathFlushesLargeOutputAndPatchesCount) {
  std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("proxysim_ftrace_" + std::to_string(getpid()));
  std::unique_ptr<FtraceWriter> w;
  ASSERT_TRUE(FtraceWriter::open(p.string(), &w).is_ok());
  TaskRef a = task(0, 42, "spin", 120, Policy::kNormal);
  w->on_start(RunInfo{4, 9, "none", ""});
  // 40000 wakings of ~100 bytes each: ~4 MB, several 1 MiB flushes before the patch.
  constexpr int kN = 40000;
  for (int i = 0; i < kN; ++i) w->on_sched_waking(Time{i} * 1000, i % 4, a, 3);
  w->on_finish(Time{kN} * 1000);
  ASSERT_TRUE(w->close().is_ok());
  w.reset();
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> lines = lines_of(ss.str());
  std::filesystem::remove(p);
  ASSERT_EQ(lines.size(), 12u + kN);
  // "40000/40000": 37 + 11 + 7 = 55 chars; reserved 75: 20 spaces.
  EXPECT_EQ(lines[2],
            "# entries-in-buffer/entries-written: 40000/40000   #P:4" + std::string(20, ' '));
  // Last event: i = 39999 at 39.999 ms on CPU 3 (idle there).
  EXPECT_EQ(lines.back(),
            "          <idle>-0       [003] d..3.     0.039999: sched_waking: comm=spin pid=42 "
            "prio=120 target_cpu=003");
}

// Lock, PI and proxy markers on 2 CPUs (times in ns; every line below is 0.00000N s since the
// microseconds are truncated). low (id 0, pid 1001, prio 89), high (id 1, pid 1002, prio 69),
// mid (id 2, pid 1003, prio 120). Cookies are pid * 2^32 + 2 * lock + (waits ? 1 : 0):
//   1001 * 2^32 = 4299262263296 -> low holds m0 ...296, low holds m1 (lock 1) ...298;
//   1002 * 2^32 = 4303557230592 -> high holds m0 ...592, high waits m0 ...593.
void feed_lock_scenario(FtraceWriter& w) {
  TaskRef low = task(0, 1001, "low", 89, Policy::kFifo);
  TaskRef high = task(1, 1002, "high", 69, Policy::kFifo);
  TaskRef mid = task(2, 1003, "mid", 120, Policy::kNormal);
  w.on_start(RunInfo{2, 1, "proxy", "x.json"});
  w.on_sched_switch(1000, 0, kIdle, SwitchState::kRunnable, low, low);
  w.on_lock_acquire(2000, 0, low, 0, "m0");
  w.on_lock_acquire(2500, 0, low, 1, "m1");
  w.on_sched_switch(3000, 1, kIdle, SwitchState::kRunnable, high, high);
  w.on_lock_contend(4000, 1, high, 0, "m0", low);
  w.on_pi_setprio(4000, 1, low, 89, 69);
  w.on_proxy(4000, 1, ProxyAction::kMigrate, high, low, 1, 0);
  w.on_sched_switch(5000, 1, high, SwitchState::kSleeping, kIdle, kIdle);
  w.on_sched_switch(6000, 0, low, SwitchState::kRunnable, low, high);  // low runs for high
  w.on_sched_switch(6500, 0, low, SwitchState::kRunnable, low, mid);   // donor -> mid: E, B
  w.on_sched_switch(6600, 0, low, SwitchState::kRunnable, low, mid);   // no change: nothing
  w.on_lock_release(7000, 0, low, 1, "m1");
  w.on_lock_release(8000, 0, low, 0, "m0");
  w.on_lock_acquire(8000, 0, high, 0, "m0");  // handoff: the wait ends, the hold starts
  w.on_pi_setprio(8000, 0, low, 69, 89);
  w.on_proxy(8000, 0, ProxyAction::kHandoff, high, low, 0, 0);
  w.on_sched_switch(9000, 0, low, SwitchState::kRunnable, high, high);  // E before the switch
  w.on_deadlock(9500, "deadlock detected: a -> m0 -> b\n");  // on CPU 0, trailing newline cut
  w.on_finish(10000);  // high still holds m0: F on CPU 0, in high's context
}

const char* const kLockScenarioLines =
    "          <idle>-0       [000] d..2.     0.000001: sched_switch: prev_comm=swapper/0 "
    "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=low next_pid=1001 next_prio=89\n"
    "             low-1001    [000] ...1.     0.000002: tracing_mark_write: "
    "S|1001|holds m0|4299262263296\n"
    "             low-1001    [000] ...1.     0.000002: tracing_mark_write: "
    "S|1001|holds m1|4299262263298\n"
    "          <idle>-0       [001] d..2.     0.000003: sched_switch: prev_comm=swapper/1 "
    "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=high next_pid=1002 next_prio=69\n"
    "            high-1002    [001] ...1.     0.000004: tracing_mark_write: "
    "S|1002|waits m0|4303557230593\n"
    "            high-1002    [001] d..3.     0.000004: sched_pi_setprio: comm=low pid=1001 "
    "oldprio=89 newprio=69\n"
    "            high-1002    [001] ...1.     0.000004: tracing_mark_write: C|1001|prio|69\n"
    "            high-1002    [001] ...1.     0.000004: tracing_mark_write: proxysim: "
    "action=migrate donor=high-1002 task=low-1001 from_cpu=1 to_cpu=0\n"
    "            high-1002    [001] d..2.     0.000005: sched_switch: prev_comm=high "
    "prev_pid=1002 prev_prio=69 prev_state=S ==> next_comm=swapper/1 next_pid=0 "
    "next_prio=120\n"
    "             low-1001    [000] ...1.     0.000006: tracing_mark_write: B|1001|proxy for "
    "high\n"
    "             low-1001    [000] ...1.     0.000006: tracing_mark_write: E|1001\n"
    "             low-1001    [000] ...1.     0.000006: tracing_mark_write: B|1001|proxy for "
    "mid\n"
    "             low-1001    [000] ...1.     0.000007: tracing_mark_write: "
    "F|1001|holds m1|4299262263298\n"
    "             low-1001    [000] ...1.     0.000008: tracing_mark_write: "
    "F|1001|holds m0|4299262263296\n"
    "             low-1001    [000] ...1.     0.000008: tracing_mark_write: "
    "F|1002|waits m0|4303557230593\n"
    "             low-1001    [000] ...1.     0.000008: tracing_mark_write: "
    "S|1002|holds m0|4303557230592\n"
    "             low-1001    [000] d..3.     0.000008: sched_pi_setprio: comm=low pid=1001 "
    "oldprio=69 newprio=89\n"
    "             low-1001    [000] ...1.     0.000008: tracing_mark_write: C|1001|prio|89\n"
    "             low-1001    [000] ...1.     0.000008: tracing_mark_write: proxysim: "
    "action=handoff donor=high-1002 task=low-1001 from_cpu=0 to_cpu=0\n"
    "             low-1001    [000] ...1.     0.000009: tracing_mark_write: E|1001\n"
    "             low-1001    [000] d..2.     0.000009: sched_switch: prev_comm=low "
    "prev_pid=1001 prev_prio=89 prev_state=R ==> next_comm=high next_pid=1002 next_prio=69\n"
    "            high-1002    [000] ...1.     0.000009: tracing_mark_write: proxysim: deadlock "
    "deadlock detected: a -> m0 -> b\n"
    "            high-1002    [000] ...1.     0.000010: tracing_mark_write: "
    "F|1002|holds m0|4303557230592\n";

TEST(FtraceWriter, LockPiAndProxyMarkersExactLines) {
  EXPECT_EQ(FtraceWriter::lock_cookie(1001, 0, false), 4299262263296);
  EXPECT_EQ(FtraceWriter::lock_cookie(1002, 0, true), 4303557230593);
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    FtraceWriter w(f);
    feed_lock_scenario(w);
    EXPECT_EQ(w.entries(), 23u);
    w.on_finish(10000);  // idempotent: nothing is open any more
    EXPECT_EQ(w.entries(), 23u);
  }
  std::string got = read_stream(f);
  std::fclose(f);
  size_t body = got.find(kLegend);
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(got.substr(body + std::string(kLegend).size()), kLockScenarioLines);
}

// Slices opened at a switch-in as proxy, a lock name with the atrace separator, a wait that moves
// to another lock, and on_finish() closing everything. 1 CPU; a (id 0, pid 7), b (id 1, pid 8).
// Cookies: 7 * 2^32 = 30064771072; waits lock 3 -> + 7; waits lock 4 -> + 9.
TEST(FtraceWriter, SanitizedNamesAndSlicesClosedAtFinish) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  TaskRef a = task(0, 7, "a", 120, Policy::kNormal);
  TaskRef b = task(1, 8, "b", 120, Policy::kNormal);
  {
    FtraceWriter w(f);
    w.on_start(RunInfo{1, 1, "proxy", ""});
    w.on_sched_switch(10'000, 0, kIdle, SwitchState::kRunnable, a, b);  // switch line, then B
    w.on_lock_contend(20'000, 0, a, 3, "x|y", b);  // '|' would split the atrace fields
    w.on_lock_contend(30'000, 0, a, 3, "x|y", b);  // still waiting: nothing
    w.on_lock_contend(35'000, 0, a, 4, "c", b);    // moves to lock 4: F, then S
    w.on_finish(40'000);                           // E|7 (CPU 0), then F of the wait
  }
  std::vector<std::string> lines = lines_of(read_stream(f));
  std::fclose(f);
  const std::vector<std::string> expected = {
      "          <idle>-0       [000] d..2.     0.000010: sched_switch: prev_comm=swapper/0 "
      "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=7 next_prio=120",
      "               a-7       [000] ...1.     0.000010: tracing_mark_write: B|7|proxy for b",
      "               a-7       [000] ...1.     0.000020: tracing_mark_write: "
      "S|7|waits x_y|30064771079",
      "               a-7       [000] ...1.     0.000035: tracing_mark_write: "
      "F|7|waits x_y|30064771079",
      "               a-7       [000] ...1.     0.000035: tracing_mark_write: "
      "S|7|waits c|30064771081",
      "               a-7       [000] ...1.     0.000040: tracing_mark_write: E|7",
      "               a-7       [000] ...1.     0.000040: tracing_mark_write: "
      "F|7|waits c|30064771081",
  };
  ASSERT_EQ(lines.size(), 12u + expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(lines[12 + i], expected[i]) << i;
}

// Every line of both scenarios matches Perfetto's line regex, and every atrace payload parses the
// way Perfetto's ParseSystraceTracePoint() reads it (systrace_parser.h): B|tgid|name, E|tgid,
// C|tgid|name|int64, S/F|tgid|name|int64 cookie. B/E carry the pid of the line's own task (the
// slice goes on that thread's track); S/F balance per (tgid, name, cookie).
TEST(FtraceWriter, MarkersMatchPerfettoLineRegexAndAtraceSyntax) {
  const std::regex kPerfetto(
      R"(-(\d+)\s+\(?\s*(\d+|-+)?\)?\s?\[(\d+)\]\s*[a-zA-Z0-9.]{0,5}\s+(\d+\.\d+):\s+(\S+):)");
  const std::regex kBegin(R"(B\|(\d+)\|[^|].*)");
  const std::regex kEnd(R"(E\|(\d+))");
  const std::regex kCounter(R"(C\|\d+\|[^|]+\|-?\d+)");
  const std::regex kAsync(R"(([SF])\|(\d+)\|([^|]+)\|(-?\d+))");
  const std::regex kProxysim(
      R"(proxysim: (action=[a-z]+ donor=\S+-\d+ task=\S+-\d+ from_cpu=-?\d+ to_cpu=-?\d+|deadlock .*))");
  for (auto feed : {&feed_scenario, &feed_lock_scenario}) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    {
      FtraceWriter w(f);
      feed(w);
    }
    std::map<std::string, int> open_async;
    int markers = 0;
    for (const std::string& line : lines_of(read_stream(f))) {
      if (line.starts_with("#")) continue;
      std::smatch m;
      ASSERT_TRUE(std::regex_search(line, m, kPerfetto)) << line;
      if (m[5] != "tracing_mark_write") continue;
      ++markers;
      std::string line_pid = m[1];
      std::string payload = line.substr(line.find("tracing_mark_write: ") + 20);
      std::smatch p;
      if (std::regex_match(payload, p, kBegin) || std::regex_match(payload, p, kEnd)) {
        EXPECT_EQ(p[1], line_pid) << line;
      } else if (std::regex_match(payload, p, kAsync)) {
        std::string key = std::string(p[2]) + "|" + std::string(p[3]) + "|" + std::string(p[4]);
        open_async[key] += p[1] == "S" ? 1 : -1;
        EXPECT_GE(open_async[key], 0) << line;
        EXPECT_LE(open_async[key], 1) << line;
      } else {
        EXPECT_TRUE(std::regex_match(payload, kCounter) || std::regex_match(payload, kProxysim) ||
                    payload == "B|1002|lock m0")
            << line;
      }
    }
    for (const auto& [key, n] : open_async) EXPECT_EQ(n, 0) << key;  // all closed at finish
    EXPECT_GT(markers, 0);
    std::fclose(f);
  }
}

TEST(FtraceWriter, OpenFailureNamesThePath) {
  std::unique_ptr<FtraceWriter> w;
  Status s = FtraceWriter::open("/nonexistent-dir/x/trace.txt", &w);
  EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
  EXPECT_NE(s.message().find("/nonexistent-dir/x/trace.txt: cannot open trace file"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(w, nullptr);
}

}  // namespace
}  // namespace proxysim
