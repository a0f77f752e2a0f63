// --stats (issue 8) only adds lines on stderr: stdout and every output file (--trace, --metrics
// without wall time, --trace-json, --csv, --html) are byte-identical with and without it, for
// `run` and `compare`, including a run that ends in a deadlock (exit 1). `compare --jobs N`
// gives the outputs of `--jobs 1` for every N.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace proxysim {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct CliRun {
  int status = -1;
  std::string stdout_text, stderr_text;
  std::vector<std::pair<std::string, std::string>> files;  // (name relative to dir, bytes)
};

// Runs `proxysim ARGS OUTPUTS(dir)` in a fresh directory `dir`, capturing stdout, stderr and
// every file the run wrote there.
template <class Outputs>
CliRun run_in_dir(const std::string& args, Outputs outputs) {
  char tmpl[] = "/tmp/proxysim-cli-XXXXXX";
  const char* base = mkdtemp(tmpl);
  EXPECT_NE(base, nullptr);
  fs::path dir(base);
  std::string cmd = std::string(PROXYSIM_BINARY) + " " + args + outputs(dir) + " >" +
                    (dir / "stdout").string() + " 2>" + (dir / "stderr").string();
  CliRun r;
  r.status = std::system(cmd.c_str());
  r.stdout_text = slurp(dir / "stdout");
  r.stderr_text = slurp(dir / "stderr");
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "stdout" && e.path().filename() != "stderr")
      paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) r.files.emplace_back(fs::relative(p, dir).string(), slurp(p));
  fs::remove_all(dir);
  return r;
}

// Every output option pointing into the run's directory.
CliRun run_cli(const std::string& args, bool stats) {
  return run_in_dir(args, [stats](const fs::path& dir) {
    return " --no-wall --trace " + (dir / "t.trace").string() + " --metrics " +
           (dir / "m.json").string() + " --trace-json " + (dir / "t.json").string() + " --csv " +
           (dir / "csv").string() + " --html " + (dir / "r.html").string() +
           (stats ? " --stats" : "");
  });
}

void expect_same_outputs(const std::string& args, int want_exit, size_t want_files,
                         size_t want_run_lines) {
  CliRun plain = run_cli(args, false);
  CliRun with = run_cli(args, true);
  EXPECT_EQ(WEXITSTATUS(plain.status), want_exit) << args;
  EXPECT_EQ(WEXITSTATUS(with.status), want_exit) << args;
  EXPECT_FALSE(plain.stdout_text.empty() && want_exit == 0);
  EXPECT_EQ(plain.stdout_text, with.stdout_text) << args;
  ASSERT_EQ(plain.files.size(), want_files) << args;
  ASSERT_EQ(with.files.size(), plain.files.size()) << args;
  for (size_t i = 0; i < plain.files.size(); ++i) {
    EXPECT_EQ(plain.files[i].first, with.files[i].first);
    EXPECT_FALSE(plain.files[i].second.empty()) << plain.files[i].first;
    EXPECT_TRUE(plain.files[i].second == with.files[i].second)
        << args << ": " << plain.files[i].first << " differs with --stats";
  }
  // stderr: the plain run's text, then one "stats: <protocol>:" line per run and a total line.
  EXPECT_EQ(plain.stderr_text.find("stats:"), std::string::npos);
  ASSERT_EQ(with.stderr_text.compare(0, plain.stderr_text.size(), plain.stderr_text), 0)
      << with.stderr_text;
  std::string extra = with.stderr_text.substr(plain.stderr_text.size());
  size_t lines = 0;
  for (char c : extra) lines += c == '\n';
  EXPECT_EQ(lines, want_run_lines + 1) << extra;
  EXPECT_NE(extra.find("stats: total: "), std::string::npos) << extra;
  EXPECT_NE(extra.find("M events/s"), std::string::npos) << extra;
  EXPECT_NE(extra.find("peak RSS"), std::string::npos) << extra;
  EXPECT_NE(extra.find("wall load"), std::string::npos) << extra;
}

const std::string kDir = std::string(PROXYSIM_SOURCE_DIR) + "/";

TEST(CliStats, RunOutputsUnchanged) {
  // trace, metrics, trace-json, html and the four CSV files.
  expect_same_outputs("run " + kDir + "examples/proxy-chain.json --protocol proxy --check", 0, 8,
                      1);
}

TEST(CliStats, CompareOutputsUnchanged) {
  // compare writes FILE.<protocol> for the traces: 2 x 3 traces + metrics + html + 4 CSV.
  expect_same_outputs("compare " + kDir + "tests/scenarios/cross-cpu-chain.json --cpus 2", 0, 12,
                      3);
}

TEST(CliStats, DeadlockedRunOutputsUnchanged) {
  expect_same_outputs("run " + kDir + "tests/scenarios/abba-deadlock.json", 1, 8, 1);
}

// -q with no --metrics, --csv or --html collects no metrics (nothing would read them): the
// trace, stdout, stderr and the exit code are those of the same run that writes metrics,
// for a run that ends in a deadlock too (exit 1, its message on stderr).
CliRun run_quiet(const std::string& args, bool with_metrics) {
  CliRun r = run_in_dir(args, [with_metrics](const fs::path& dir) {
    return " -q --stats --trace " + (dir / "t.trace").string() +
           (with_metrics ? " --metrics " + (dir / "m.json").string() : "");
  });
  // The trace only: the metrics file is what one of the two runs adds.
  std::erase_if(r.files, [](const auto& f) { return f.first != "t.trace"; });
  return r;
}

TEST(CliQuiet, NoMetricsCollectedChangesNothingElse) {
  for (const std::string& args :
       {"run " + kDir + "examples/proxy-chain.json --protocol proxy --check",
        "run " + kDir + "tests/scenarios/abba-deadlock.json",
        "compare " + kDir + "tests/scenarios/cross-cpu-chain.json --cpus 2"}) {
    CliRun without = run_quiet(args, false);
    CliRun with = run_quiet(args, true);
    EXPECT_EQ(WEXITSTATUS(without.status), WEXITSTATUS(with.status)) << args;
    EXPECT_EQ(without.stdout_text, with.stdout_text) << args;
    EXPECT_EQ(without.files, with.files) << args;
    // stderr: the same but for the wall-clock figures of the stats lines.
    auto strip = [](std::string t) {
      std::string out;
      std::istringstream in(t);
      for (std::string line; std::getline(in, line);)
        out += line.rfind("stats:", 0) == 0 ? line.substr(0, line.find(" events")) : line;
      return out;
    };
    EXPECT_EQ(strip(without.stderr_text), strip(with.stderr_text)) << args;
  }
  EXPECT_EQ(
      WEXITSTATUS(run_quiet("run " + kDir + "tests/scenarios/abba-deadlock.json", false).status),
      1);
}

// `compare --jobs N` (issue 8): the protocols run at once on N threads, and stdout, stderr,
// every output file and the exit code are those of `--jobs 1`.
void expect_same_with_jobs(const std::string& args, int want_exit, size_t want_files) {
  CliRun one = run_cli(args + " --jobs 1", false);
  EXPECT_EQ(WEXITSTATUS(one.status), want_exit) << args;
  EXPECT_EQ(one.files.size(), want_files) << args;
  for (const char* jobs : {"2", "3", "0"}) {
    CliRun many = run_cli(args + " --jobs " + jobs, false);
    EXPECT_EQ(many.status, one.status) << args << " --jobs " << jobs;
    EXPECT_EQ(many.stdout_text, one.stdout_text) << args << " --jobs " << jobs;
    EXPECT_EQ(many.stderr_text, one.stderr_text) << args << " --jobs " << jobs;
    ASSERT_EQ(many.files.size(), one.files.size()) << args << " --jobs " << jobs;
    for (size_t i = 0; i < one.files.size(); ++i) {
      EXPECT_EQ(many.files[i].first, one.files[i].first);
      EXPECT_TRUE(many.files[i].second == one.files[i].second)
          << args << " --jobs " << jobs << ": " << one.files[i].first << " differs";
    }
  }
}

TEST(CliJobs, CompareOutputsDoNotDependOnJobs) {
  // 5 protocols: 2 x 5 traces + metrics + html + 4 CSV.
  expect_same_with_jobs("compare " + kDir +
                            "tests/scenarios/cross-cpu-chain.json --cpus 2 --protocols "
                            "none,pi,proxy:single-rq,proxy:migrate,proxy",
                        0, 16);
  // Every protocol deadlocks (exit 1, one message per protocol on stderr, in protocol order).
  expect_same_with_jobs("compare " + kDir + "tests/scenarios/abba-deadlock.json --protocols " +
                            "none,pi,proxy,proxy:migrate",
                        1, 14);
}

TEST(CliJobs, StatsSayHowManyJobsRanAndTheElapsedTime) {
  CliRun r = run_in_dir(
      "compare " + kDir + "tests/scenarios/cross-cpu-chain.json --cpus 2 -q --stats --jobs 2",
      [](const fs::path&) { return std::string(); });
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("(the runs' sum; 2 jobs: "), std::string::npos) << r.stderr_text;
  CliRun one = run_in_dir("compare " + kDir +
                              "tests/scenarios/cross-cpu-chain.json --cpus 2 -q "
                              "--stats --jobs 1",
                          [](const fs::path&) { return std::string(); });
  EXPECT_EQ(one.stderr_text.find("jobs"), std::string::npos) << one.stderr_text;
}

TEST(CliJobs, AnUnknownProtocolIsRefusedBeforeAnyRun) {
  CliRun r = run_cli("compare " + kDir + "tests/scenarios/cross-cpu-chain.json --cpus 2 " +
                         "--protocols none,pi,bogus --jobs 2",
                     false);
  EXPECT_EQ(WEXITSTATUS(r.status), 2);
  EXPECT_NE(r.stderr_text.find("--protocols bogus: unknown protocol"), std::string::npos)
      << r.stderr_text;
  EXPECT_TRUE(r.files.empty()) << r.files.size() << " files written, first " << r.files[0].first;
  for (const char* bad : {"-1", "1025", "two"}) {
    CliRun b =
        run_cli("compare " + kDir + "tests/scenarios/cross-cpu-chain.json --jobs " + bad, false);
    EXPECT_EQ(WEXITSTATUS(b.status), 2) << bad;
    EXPECT_NE(b.stderr_text.find("--jobs"), std::string::npos) << b.stderr_text;
  }
}

}  // namespace
}  // namespace proxysim
