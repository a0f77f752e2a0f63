// The stress campaign and its injected faults (issue 5): a few hundred seeds across every
// protocol pass, and each historical bug switched back on is caught by the checker, naming the
// invariant it broke, on the same seeds.
#include "check/stress.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "proxysim/sim.h"

namespace proxysim {
namespace {

std::string run(StressOptions o, int* rc) {
  std::ostringstream out;
  *rc = run_stress(o, out);
  return out.str();
}

TEST(Stress, SeedsPassUnderEveryProtocol) {
  StressOptions o;
  o.seeds = 300;
  int rc;
  std::string out = run(o, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("300 seeds x 5 protocols: 1500 runs, 0 failed"), std::string::npos) << out;
}

struct FaultCase {
  const char* fault;
  const char* invariant;  // a phrase of the violation the checker must report
};

class StressFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(StressFault, IsCaughtAndTheSameSeedsPassWithoutIt) {
  StressOptions o;
  o.seeds = 500;
  o.protocols = {"proxy:migrate", "proxy:full"};
  o.inject = GetParam().fault;
  int rc;
  std::string out = run(o, &rc);
  EXPECT_EQ(rc, 3) << out.substr(0, 2000);
  EXPECT_NE(out.find(GetParam().invariant), std::string::npos) << out.substr(0, 2000);
  o.inject.clear();
  std::string clean = run(o, &rc);
  EXPECT_EQ(rc, 0) << clean.substr(0, 2000);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, StressFault,
    ::testing::Values(
        // The owner is taken for this CPU's while ttwu moves it: it runs on two CPUs' books.
        FaultCase{"stale-task-cpu", "has cpu"},
        // The rq keeps a donor that left it; the task then runs elsewhere while referenced.
        FaultCase{"dangling-donor", "invariant violated"},
        // A woken donor runs where only its scheduling context was allowed.
        FaultCase{"runnable-without-return", "outside its affinity"},
        // Activation from the live list never ends.
        FaultCase{"activate-livelock", "live-lock"}),
    [](const ::testing::TestParamInfo<FaultCase>& i) {
      std::string n = i.param.fault;
      for (char& c : n)
        if (c == '-') c = '_';
      return n;
    });

TEST(Stress, UnknownFaultIsAUsageError) {
  StressOptions o;
  o.seeds = 1;
  o.inject = "no-such-bug";
  int rc;
  std::string out = run(o, &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("unknown fault"), std::string::npos) << out;
}

TEST(Stress, ShrinkWritesASmallerWorkloadThatStillFails) {
  StressOptions o;
  o.seeds = 50;
  o.protocols = {"proxy:full"};
  o.inject = "runnable-without-return";
  o.shrink = true;
  o.shrink_out = ::testing::TempDir() + "shrunk.json";
  int rc;
  std::string out = run(o, &rc);
  ASSERT_EQ(rc, 3);
  EXPECT_NE(out.find("shrunk to"), std::string::npos) << out;
}

// --jobs (issue 8): seeds on several threads, reported in seed order: the same lines as one job,
// failures, the first failure's shrink and the summary included (but for its wall time).
TEST(Stress, JobsGiveTheOutputOfOneJob) {
  auto without_wall = [](std::string out) {
    size_t last = out.rfind(", ");  // "..., 0.3 s" ends the summary line
    return last == std::string::npos ? out : out.substr(0, last);
  };
  StressOptions o;
  o.seeds = 60;
  o.protocols = {"proxy:migrate", "proxy:full"};
  o.inject = "stale-task-cpu";
  o.shrink = true;
  o.shrink_out = ::testing::TempDir() + "shrunk-jobs1.json";
  int rc1;
  std::string one = run(o, &rc1);
  ASSERT_EQ(rc1, 3);
  ASSERT_NE(one.find("60 seeds x 2 protocols: 120 runs, "), std::string::npos) << one;
  std::ifstream f1(o.shrink_out);
  std::string shrunk1((std::istreambuf_iterator<char>(f1)), std::istreambuf_iterator<char>());
  for (int jobs : {2, 3}) {
    o.jobs = jobs;
    o.shrink_out = ::testing::TempDir() + "shrunk-jobs" + std::to_string(jobs) + ".json";
    int rc;
    std::string many = run(o, &rc);
    EXPECT_EQ(rc, rc1);
    // The shrunk file's name is in the output: compare with it put back.
    std::string renamed = many;
    for (size_t at; (at = renamed.find(o.shrink_out)) != std::string::npos;)
      renamed.replace(at, o.shrink_out.size(), ::testing::TempDir() + "shrunk-jobs1.json");
    EXPECT_EQ(without_wall(renamed), without_wall(one)) << "jobs " << jobs;
    std::ifstream f(o.shrink_out);
    std::string shrunk((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_FALSE(shrunk.empty());
    EXPECT_EQ(shrunk, shrunk1) << "jobs " << jobs;
  }
}

}  // namespace
}  // namespace proxysim
