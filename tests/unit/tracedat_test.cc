// --trace-dat: the trace.dat that proxysim writes, read back by Debian's `trace-cmd report`,
// holds the text trace's events one for one (same timestamps, CPUs, contexts, flags, event
// names and field values). Also: the embedded formats are the kernel's, the file is
// deterministic, and `compare` writes FILE.<protocol>.
//
// Needs trace-cmd (Debian package trace-cmd; `make deps` installs it). Without it the
// comparisons report themselves SKIPPED (GTEST_SKIP; ctest shows them as skipped). The binary
// used can be overridden with PROXYSIM_TRACE_CMD (a path that does not exist also skips).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "trace/tracefs_formats.h"

namespace proxysim {
namespace {

namespace fs = std::filesystem;

const std::string kSource = PROXYSIM_SOURCE_DIR;
const std::string kBinary = PROXYSIM_BINARY;

// One event as both tools print it, after normalisation.
struct Event {
  int64_t usecs = 0;  // timestamp in microseconds (truncated)
  int cpu = 0;
  std::string context;  // "<comm>-<pid>" of the task current on the CPU
  std::string flags;    // irqs-off, need-resched, hardirq/softirq, preempt-depth, migrate-disable
  std::string name;     // event name, e.g. sched_switch, tracing_mark_write
  std::string args;     // the event's fields as its print fmt shows them
  std::string line;     // the original line, for messages

  auto key() const { return std::tie(usecs, cpu, context, flags, name, args); }
  bool operator==(const Event& o) const { return key() == o.key(); }
};

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(' ');
  size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command, returns its stdout and sets *rc to its exit status.
std::string run(const std::string& cmd, int* rc) {
  std::string out;
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *rc = -1;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

std::string trace_cmd() {
  const char* env = std::getenv("PROXYSIM_TRACE_CMD");
  if (env != nullptr) return access(env, X_OK) == 0 ? env : "";
  for (const char* p : {"/usr/bin/trace-cmd", "/usr/local/bin/trace-cmd"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

// The text trace (docs/trace.md):
//   `%16s-%-7d [%03d] %5s %5lu.%06lu: <event>: <args>`
std::vector<Event> parse_text(const std::string& text, uint64_t* header_entries) {
  std::vector<Event> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::string kEntries = "# entries-in-buffer/entries-written: ";
    if (line.rfind(kEntries, 0) == 0) *header_entries = std::stoull(line.substr(kEntries.size()));
    if (line.empty() || line[0] == '#') continue;
    Event e;
    e.line = line;
    size_t open = line.find(" [");
    e.context = trim(line.substr(0, open));
    // "<comm>-<pid>" is padded on the right ("%-7d"): drop the padding.
    e.cpu = std::stoi(line.substr(open + 2, 3));
    e.flags = line.substr(open + 7, 5);
    size_t colon = line.find(": ", open + 13);
    std::string ts = trim(line.substr(open + 13, colon - (open + 13)));
    size_t dot = ts.find('.');
    e.usecs = std::stoll(ts.substr(0, dot)) * 1000000 + std::stoll(ts.substr(dot + 1));
    size_t name_end = line.find(": ", colon + 2);
    e.name = line.substr(colon + 2, name_end - (colon + 2));
    e.args = line.substr(name_end + 2);
    v.push_back(e);
  }
  return v;
}

// `trace-cmd report -N -t -l`: no plugins (so each event prints with its format's print fmt, as
// the kernel's text does; the sched_switch plugin would print `low:1000 [89] S ==> ...`), full
// nanosecond timestamps (-t), latency flags (-l):
//   `%16s-%-5d %3d<5 flags> %5lu.%09lu: <event>: <padding><args>`
// Normalised here, as the two formats legitimately differ:
//   - timestamps: nanoseconds, truncated to microseconds as the text trace prints them;
//   - trace_marker writes: trace-cmd names the record by its event, `print`, and prints its
//     print fmt "%ps: %s" (`tracing_mark_write: <text>`); the kernel's text shows the same
//     record as `tracing_mark_write: <text>`;
//   - padding: trace-cmd pads the event name to 20 columns and the CPU to 3.
std::vector<Event> parse_report(const std::string& text) {
  std::vector<Event> v;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("cpus=", 0) == 0 || line.empty()) continue;
    Event e;
    e.line = line;
    // The timestamp ends at the first ": " after the flags; the context and CPU precede it.
    size_t colon = line.find(": ");
    size_t ts_start = line.rfind(' ', colon - 1);
    std::string ts = line.substr(ts_start + 1, colon - ts_start - 1);
    size_t dot = ts.find('.');
    e.usecs = std::stoll(ts.substr(0, dot)) * 1000000 + std::stoll(ts.substr(dot + 1, 6));
    std::string head = trim(line.substr(0, ts_start));  // "<comm>-<pid>   <cpu><flags>"
    size_t sp = head.find_last_of(' ');
    std::string cpu_flags = head.substr(sp + 1);
    e.flags = cpu_flags.substr(cpu_flags.size() - 5);
    e.cpu = std::stoi(cpu_flags.substr(0, cpu_flags.size() - 5));
    e.context = trim(head.substr(0, sp));
    size_t name_end = line.find(": ", colon + 2);
    if (name_end == std::string::npos) name_end = line.size();
    e.name = line.substr(colon + 2, name_end - (colon + 2));
    e.args = name_end < line.size() ? trim(line.substr(name_end + 2)) : "";
    const std::string kMark = "tracing_mark_write: ";
    if (e.name == "print" && e.args.rfind(kMark, 0) == 0) {
      e.name = "tracing_mark_write";
      e.args = e.args.substr(kMark.size());
    }
    v.push_back(e);
  }
  return v;
}

// trace-cmd merges the per-CPU buffers by timestamp; events of different CPUs in the same
// microsecond have no order the two files must share (the text trace lists them in simulation
// order, trace-cmd by nanosecond then CPU). Within a CPU both keep record order: a stable sort
// by (microsecond, CPU) gives both lists the same canonical order.
void canonical_order(std::vector<Event>* v) {
  std::stable_sort(v->begin(), v->end(), [](const Event& a, const Event& b) {
    return std::tie(a.usecs, a.cpu) < std::tie(b.usecs, b.cpu);
  });
}

class TraceDat : public ::testing::Test {
 protected:
  void SetUp() override {
    tc_ = trace_cmd();
    if (tc_.empty()) GTEST_SKIP() << "trace-cmd not installed (Debian package trace-cmd)";
    dir_ = fs::temp_directory_path() /
           ("proxysim-tracedat-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Runs proxysim `cmd` on the scenario with `args`, writing --trace and --trace-dat to dir_.
  void simulate(const std::string& cmd, const std::string& scenario, const std::string& args,
                const std::string& out, int want_rc = 0) {
    std::string c = kBinary + " " + cmd + " " + kSource + "/tests/scenarios/" + scenario +
                    ".json --check -q " + args + " --trace " + (dir_ / out).string() +
                    ".trace --trace-dat " + (dir_ / out).string() + ".dat 2>&1";
    int rc = 0;
    std::string o = run(c, &rc);
    ASSERT_EQ(rc, want_rc) << c << "\n" << o;
  }

  // Compares `<base>.trace` with `trace-cmd report` of `<base>.dat`; returns the event counts
  // by name.
  std::map<std::string, int> compare(const std::string& base) {
    std::map<std::string, int> count;
    uint64_t header_entries = 0;
    std::vector<Event> text = parse_text(read_file(dir_ / (base + ".trace")), &header_entries);
    int rc = 0;
    std::string cmd = tc_ + " report -N -t -l -i " + (dir_ / (base + ".dat")).string() + " 2>&1";
    std::string report = run(cmd, &rc);
    EXPECT_EQ(rc, 0) << cmd << "\n" << report.substr(0, 2000);
    std::vector<Event> dat = parse_report(report);
    EXPECT_EQ(text.size(), header_entries);
    EXPECT_EQ(dat.size(), text.size()) << base;
    canonical_order(&text);
    canonical_order(&dat);
    size_t n = std::min(text.size(), dat.size());
    size_t same = 0;
    for (; same < n; ++same) {
      if (!(text[same] == dat[same])) {
        ADD_FAILURE() << base << ": event " << same << " differs\n  text:      " << text[same].line
                      << "\n  trace-cmd: " << dat[same].line;
        break;
      }
      ++count[text[same].name];
    }
    std::printf("%s: %zu of %zu events equal\n", base.c_str(), same, text.size());
    return count;
  }

  std::string tc_;
  fs::path dir_;
};

// One CPU, PI: switches, wakeups, sched_pi_setprio, lock markers and prio counters.
TEST_F(TraceDat, ClassicInversionUnderPiMatchesTextTrace) {
  simulate("run", "classic-inversion", "--cpus 1 --costs zero --protocol pi", "ci-pi");
  auto n = compare("ci-pi");
  // Derivation: low boosts 89 -> 69 when high blocks on m, and unboosts at unlock: 2 setprio.
  EXPECT_EQ(n["sched_pi_setprio"], 2);
  EXPECT_EQ(n["sched_process_exit"], 3);  // low, mid, high
  EXPECT_GT(n["tracing_mark_write"], 0);
}

// Proxy execution on 2 CPUs: proxy and return migrations (sched_migrate_task, whose comm is a
// __data_loc string in 6.18), "proxy for" slices, proxysim: decision markers.
TEST_F(TraceDat, CrossCpuChainUnderProxyMatchesTextTrace) {
  simulate("run", "cross-cpu-chain", "--cpus 2 --protocol proxy", "chain");
  auto n = compare("chain");
  EXPECT_GT(n["sched_migrate_task"], 0);
  EXPECT_GT(n["sched_switch"], 0);
  EXPECT_GT(n["sched_waking"], 0);
  EXPECT_GT(n["sched_wakeup"], 0);
}

// 3 CPUs with jitter: many migrations, several pages per CPU, all the classes.
TEST_F(TraceDat, MixedClassesOnThreeCpusMatchesTextTrace) {
  simulate("run", "mixed-classes", "--cpus 3 --seed 3 --jitter 5000", "mixed");
  auto n = compare("mixed");
  EXPECT_GT(n["sched_migrate_task"], 10);
  EXPECT_GT(fs::file_size(dir_ / "mixed.dat"), 3 * 4096u * 3);  // > 3 pages per CPU
}

// Gaps of 0.95 s on a CPU need TIME_EXTEND entries (time_delta has 27 bits: 134 ms).
TEST_F(TraceDat, LongGapsUseTimeExtendAndKeepTimestamps) {
  simulate("run", "fair-server", "--cpus 1", "fs");
  auto n = compare("fs");
  EXPECT_GE(n["sched_switch"], 5);
}

// A deadlock ends the run (exit 1) with a `proxysim: deadlock` marker of 114 characters: a
// record over 112 bytes, whose length goes in array[0] (type_len 0).
TEST_F(TraceDat, DeadlockMarkerOverSmallRecordSizeMatchesTextTrace) {
  simulate("run", "abba-deadlock", "--cpus 2 --protocol proxy", "abba", /*want_rc=*/1);
  auto n = compare("abba");
  EXPECT_GE(n["tracing_mark_write"], 1);
}

// compare writes FILE.<protocol> per protocol, like --trace; each matches its text trace.
TEST_F(TraceDat, CompareWritesOneFilePerProtocol) {
  simulate("compare", "classic-inversion", "--cpus 1 --costs zero --protocols none,proxy", "cmp");
  for (const char* p : {"none", "proxy"}) {
    ASSERT_TRUE(fs::exists(dir_ / (std::string("cmp.dat.") + p))) << p;
    fs::rename(dir_ / (std::string("cmp.dat.") + p), dir_ / (std::string("cmp-") + p + ".dat"));
    fs::rename(dir_ / (std::string("cmp.trace.") + p), dir_ / (std::string("cmp-") + p + ".trace"));
    auto n = compare(std::string("cmp-") + p);
    EXPECT_GT(n["sched_switch"], 0) << p;
  }
}

// Same input and seed: byte-identical trace.dat.
TEST_F(TraceDat, SameSeedGivesIdenticalFile) {
  simulate("run", "mixed-classes", "--cpus 3 --seed 3 --jitter 5000", "a");
  simulate("run", "mixed-classes", "--cpus 3 --seed 3 --jitter 5000", "b");
  EXPECT_EQ(read_file(dir_ / "a.dat"), read_file(dir_ / "b.dat"));
}

struct FormatFile {
  const char* name;
  std::string_view text;
  int id;  // -1: not an event format
};
const FormatFile kFormats[] = {
    {"header_page", tracefs::kHeaderPage, -1},
    {"header_event", tracefs::kHeaderEvent, -1},
    {"print.format", tracefs::kPrintFormat, tracefs::kPrintId},
    {"sched_switch.format", tracefs::kSchedSwitchFormat, tracefs::kSchedSwitchId},
    {"sched_waking.format", tracefs::kSchedWakingFormat, tracefs::kSchedWakingId},
    {"sched_wakeup.format", tracefs::kSchedWakeupFormat, tracefs::kSchedWakeupId},
    {"sched_wakeup_new.format", tracefs::kSchedWakeupNewFormat, tracefs::kSchedWakeupNewId},
    {"sched_migrate_task.format", tracefs::kSchedMigrateTaskFormat, tracefs::kSchedMigrateTaskId},
    {"sched_process_exit.format", tracefs::kSchedProcessExitFormat, tracefs::kSchedProcessExitId},
    {"sched_pi_setprio.format", tracefs::kSchedPiSetprioFormat, tracefs::kSchedPiSetprioId},
};

// The embedded formats are byte for byte the kernel's files in the project's shared reference
// (skipped when that directory is absent, e.g. in a clone without it).
TEST(TraceDatFormats, EmbeddedFormatsAreTheReferenceFiles) {
  fs::path ref = fs::path(kSource) / ".." / "shared" / "reference" / "tracefs-formats";
  if (!fs::exists(ref)) GTEST_SKIP() << ref << " not present";
  for (const FormatFile& f : kFormats) {
    EXPECT_EQ(read_file(ref / f.name), std::string(f.text)) << f.name;
  }
}

// The event ids (common_type) the writer puts in its records are those the formats declare.
TEST(TraceDatFormats, EventIdsAreTheFormatsIds) {
  for (const FormatFile& f : kFormats) {
    if (f.id < 0) continue;
    std::string line = "\nID: " + std::to_string(f.id) + "\n";
    EXPECT_NE(f.text.find(line), std::string_view::npos) << f.name;
  }
}

}  // namespace
}  // namespace proxysim
