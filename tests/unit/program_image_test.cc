// The program image (PhaseImage) carries each phase's rt-app c_duration/c_period into every
// activation record, phase by phase, as the interpreter crosses phases and passes.
#include <gtest/gtest.h>

#include <vector>

#include "proxysim/loader.h"
#include "proxysim/observer.h"
#include "proxysim/sim.h"

namespace proxysim {
namespace {

struct Activations : Observer {
  std::vector<Activation> seen;
  void on_activation(const TaskRef&, const Activation& a) override { seen.push_back(a); }
};

TEST(ProgramImage, ActivationsCarryTheirPhasesNominalWorkAndPeriod) {
  // p0: run 2 ms + runtime 1 ms under a 10 ms timer (c_duration 3 ms, c_period 10 ms);
  // p1: run 0.5 ms, sleep 1 ms (c_duration 0.5 ms, no timer). Two passes of 2 + 1 iterations.
  const char* json = R"({"tasks": {"t": {"loop": 2, "phases": {
      "p0": {"loop": 2, "run": 2000, "runtime": 1000, "timer": {"ref": "tick", "period": 10000}},
      "p1": {"loop": 1, "run": 500, "sleep": 1000}}}},
    "global": {"duration": 1}})";
  Workload w;
  ASSERT_TRUE(load_workload_from_string(json, "test.json", {}, &w).is_ok());
  SimOptions opt;
  opt.nr_cpus = 1;
  opt.check = true;
  Activations obs;
  RunStats stats;
  ASSERT_TRUE(run_simulation(w, opt, {&obs}, &stats).is_ok());
  ASSERT_EQ(obs.seen.size(), 6u);  // (2 + 1) iterations x 2 passes
  const int want_phase[6] = {0, 0, 1, 0, 0, 1};
  for (size_t i = 0; i < obs.seen.size(); ++i) {
    const Activation& a = obs.seen[i];
    EXPECT_EQ(a.phase, want_phase[i]) << i;
    EXPECT_EQ(a.pass, static_cast<int>(i / 3)) << i;
    EXPECT_EQ(a.c_duration, a.phase == 0 ? 3 * kNsPerMs : 500 * kNsPerUs) << i;
    EXPECT_EQ(a.c_period, a.phase == 0 ? 10 * kNsPerMs : 0) << i;
  }
}

}  // namespace
}  // namespace proxysim
