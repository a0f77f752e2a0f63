// Every rt-app workload we ship or know of runs through the simulator (issue 3 item 4): the
// examples of Debian's rt-app 1.0 package (/usr/share/doc/rt-app/examples), those of upstream
// HEAD (PROXYSIM_RTAPP_EXAMPLES, directories separated by ':', set by CMake for the tests) and
// our own examples/. Each is loaded and simulated in-process for 2 s with the invariant checker
// on, on max(cpus named) + 1 CPUs or 4, under "pi" if the workload sets pi_enabled, else "none".
//
// Expected outcomes:
//  - current-grammar files: success;
//  - browser-*.json: they suspend on and resume group names ("Browser", "BrowserSub", ...) that
//    no thread is named after and, a resume nobody waits for being lost as with rt-app's
//    condvar, every thread ends up waiting: a reported deadlock (exit 1) naming each of them,
//    which is what rt-app does with these files when they do not go through workgen;
//  - merge/: fragments for merge.py in the legacy pre-0.3 grammar: the thread files fail with
//    the legacy-grammar message, global.json and resources.json for lack of "tasks".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "proxysim/loader.h"
#include "proxysim/sim.h"

namespace proxysim {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDebianExamples = "/usr/share/doc/rt-app/examples";

std::vector<fs::path> json_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

Status run_example(const fs::path& file) {
  Workload w;
  Status s = load_workload(file.string(), LoadOptions{}, &w);
  if (!s.is_ok()) return s;
  SimOptions opt;
  opt.nr_cpus = w.max_cpu_named >= 0 ? w.max_cpu_named + 1 : 4;
  opt.duration = 2 * kNsPerSec;
  opt.check = true;
  opt.protocol = w.pi_enabled ? "pi" : "none";  // as `proxysim run` chooses
  RunStats stats;
  return run_simulation(w, opt, {}, &stats);
}

// The deadlock report of browser-short/-long.json, after "deadlock at <t> ns: ".
const char* kBrowserDeadlock =
    "every task waits and nothing can wake one: BrowserMain-0 waits in \"suspend\", BrowserSub1-1 "
    "waits in \"suspend\", BrowserSub2-2 waits in \"suspend\", BrowserDisplay-3 waits in "
    "\"suspend\", Binder-dummy-4 waits in \"wait\", Binder-display-5 waits in \"suspend\", "
    "Event-Browser-6 waits in \"suspend\", Event-Display-7 waits in \"suspend\", Display-8 "
    "waits in \"suspend\"";

// Runs every JSON file under `dir` and checks its outcome; returns how many were run.
int check_examples(const fs::path& dir) {
  int n = 0;
  for (const fs::path& file : json_files(dir)) {
    const std::string rel = fs::relative(file, dir).string();
    SCOPED_TRACE(file.string());
    ++n;
    Status s = run_example(file);
    if (rel.starts_with("merge/")) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidInput) << s.message();
      if (rel.starts_with("merge/thread"))
        EXPECT_NE(s.message().find("legacy pre-0.3 grammar"), std::string::npos) << s.message();
      else
        EXPECT_NE(s.message().find("missing \"tasks\""), std::string::npos) << s.message();
      continue;
    }
    if (rel.starts_with("browser-")) {
      EXPECT_EQ(s.code(), StatusCode::kWorkloadFailed) << s.message();
      std::smatch m;
      const std::string& msg = s.message();
      if (!std::regex_match(msg, m, std::regex(R"(deadlock at (\d+) ns: (.*))"))) {
        ADD_FAILURE() << "not a deadlock report: " << msg;
        continue;
      }
      EXPECT_LT(std::stoll(m[1]), 2 * kNsPerSec);
      EXPECT_EQ(m[2].str(), kBrowserDeadlock);
      continue;
    }
    EXPECT_TRUE(s.is_ok()) << s.message();
  }
  return n;
}

TEST(Examples, DebianRtAppExamplesRun) {
  if (!fs::is_directory(kDebianExamples))
    GTEST_SKIP() << kDebianExamples << " absent (apt-get install rt-app)";
  // rt-app 1.0 ships 24 JSON files (top level, tutorial/, merge/, cpufreq_governor_efficiency/).
  EXPECT_GE(check_examples(kDebianExamples), 24);
}

TEST(Examples, UpstreamHeadExamplesRun) {
  const char* env = std::getenv("PROXYSIM_RTAPP_EXAMPLES");
  if (env == nullptr) GTEST_SKIP() << "PROXYSIM_RTAPP_EXAMPLES not set";
  std::istringstream dirs(env);
  int dirs_seen = 0;
  for (std::string d; std::getline(dirs, d, ':');) {
    if (d.empty()) continue;
    ASSERT_TRUE(fs::is_directory(d)) << d;
    ++dirs_seen;
    EXPECT_GE(check_examples(d), 24) << d;
  }
  EXPECT_GT(dirs_seen, 0);
}

TEST(Examples, OwnExamplesRun) {
  const fs::path dir = fs::path(PROXYSIM_SOURCE_DIR) / "examples";
  ASSERT_TRUE(fs::is_directory(dir));
  int n = 0;
  for (const fs::path& file : json_files(dir)) {
    SCOPED_TRACE(file.string());
    ++n;
    Status s = run_example(file);
    EXPECT_TRUE(s.is_ok()) << s.message();
  }
  EXPECT_GE(n, 3);
}

}  // namespace
}  // namespace proxysim
