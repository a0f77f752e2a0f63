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
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace proxysim {
namespace {

TaskRef task(int id, int pid, std::string_view comm, int prio, Policy policy) {
  return TaskRef{id, pid, comm, prio, policy};
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

TEST(FtraceWriter, LongCommTruncatedCurrentTrackedDonorChangeSilent) {
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
    w.on_sched_switch(7, 0, b, SwitchState::kRunnable, b, a);  // donor change only: no line
    w.write_marker(8, 0, "x\ny");                              // inner newline -> space
  }
  std::vector<std::string> lines = lines_of(read_stream(f));
  ASSERT_EQ(lines.size(), 12u + 4u);  // 12 header lines
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
            "               b-8       [000] ...1.     0.000000: tracing_mark_write: x y");
  // 4 entries: "4/4" -> 37 + 3 + 7 = 47 chars, reserved 37 + 31 + 7 = 75: 28 spaces.
  EXPECT_EQ(lines[2], "# entries-in-buffer/entries-written: 4/4   #P:1" + std::string(28, ' '));
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
