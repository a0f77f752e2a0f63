// MetricsCollector and its writers: hand-derived values for synthetic event sequences.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace proxysim {
namespace {

const TaskRef kIdle{};  // id -1, pid 0
constexpr Time kUs = kNsPerUs;

TEST(Distribution, EmptyIsAllZeros) {
  Distribution d = summarize({});
  EXPECT_EQ(d.count, 0);
  EXPECT_EQ(d.min, 0);
  EXPECT_EQ(d.mean, 0);
  EXPECT_EQ(d.p50, 0);
  EXPECT_EQ(d.p99, 0);
  EXPECT_EQ(d.max, 0);
}

TEST(Distribution, NearestRankAndRoundedMean) {
  // One sample: every rank is 1.
  Distribution one = summarize({7});
  EXPECT_EQ(one.min, 7);
  EXPECT_EQ(one.mean, 7);
  EXPECT_EQ(one.p50, 7);
  EXPECT_EQ(one.p99, 7);
  EXPECT_EQ(one.max, 7);

  // 1..100 shuffled: p50 = 50th smallest = 50, p99 = 99th = 99, mean 5050/100 = 50.5 -> 51.
  std::vector<int64_t> v;
  for (int i = 0; i < 100; ++i) v.push_back(i * 37 % 100 + 1);  // 37 is coprime with 100
  Distribution h = summarize(v);
  EXPECT_EQ(h.count, 100);
  EXPECT_EQ(h.min, 1);
  EXPECT_EQ(h.p50, 50);
  EXPECT_EQ(h.p99, 99);
  EXPECT_EQ(h.max, 100);
  EXPECT_EQ(h.mean, 51);

  // n = 3: p50 rank ceil(1.5) = 2, p99 rank ceil(2.97) = 3; mean 100/3 = 33.3 -> 33.
  Distribution three = summarize({60, 10, 30});
  EXPECT_EQ(three.p50, 30);
  EXPECT_EQ(three.p99, 60);
  EXPECT_EQ(three.mean, 33);

  // n = 200 (1..200): p99 rank ceil(198) = 198; p50 rank 100.
  std::vector<int64_t> w;
  for (int i = 1; i <= 200; ++i) w.push_back(i);
  EXPECT_EQ(summarize(w).p99, 198);
  EXPECT_EQ(summarize(w).p50, 100);

  // Halves round away from zero: -5 / 2 = -2.5 -> -3; 2 / 3 = 0.67 -> 1.
  EXPECT_EQ(summarize({-3, -2}).mean, -3);
  EXPECT_EQ(summarize({0, 1, 1}).mean, 1);
}

// Scenario A, 2 CPUs, times in µs:
//   A (id 0, pid 10, FIFO10 = prio 89), B (id 1, pid 11, nice -5 = prio 115), C (id 2, pid 12, DL).
//   t=10 waking A; t=15 CPU0 idle->A; t=20 wakeup_new B; t=30 CPU1 idle->B; t=40 waking A while
//   it runs (ignored); t=50 CPU0 A->idle (S); t=60 waking A; t=70 waking A again (already
//   pending); t=100 CPU0 idle->A; t=110 waking C; t=120 CPU1 B->C (R, preempted);
//   t=150 CPU1 C->B with donor C (C blocked, lends its context to B); t=170 CPU1 B->B with donor
//   B (only the donor changes); migrations at 180; finish at 200.
void feed_scenario_a(MetricsCollector& m) {
  TaskRef a{0, 10, "A", 89, Policy::kFifo};
  TaskRef b{1, 11, "B", 115, Policy::kNormal};
  TaskRef c{2, 12, "C", -1, Policy::kDeadline};
  m.on_start(RunInfo{2, 7, "proxy", "a.json"});
  m.on_task_new(0, a);
  m.on_task_new(0, b);
  m.on_task_new(0, c);
  m.on_sched_waking(10 * kUs, 1, a, 0);
  m.on_sched_switch(15 * kUs, 0, kIdle, SwitchState::kRunnable, a, a);
  m.on_sched_wakeup(20 * kUs, 1, b, 1, /*is_new=*/true);
  m.on_sched_switch(30 * kUs, 1, kIdle, SwitchState::kRunnable, b, b);
  m.on_sched_waking(40 * kUs, 1, a, 0);
  m.on_sched_switch(50 * kUs, 0, a, SwitchState::kSleeping, kIdle, kIdle);
  m.on_sched_waking(60 * kUs, 1, a, 0);
  m.on_sched_waking(70 * kUs, 1, a, 0);
  m.on_sched_switch(100 * kUs, 0, kIdle, SwitchState::kRunnable, a, a);
  m.on_sched_waking(110 * kUs, 0, c, 1);
  m.on_sched_switch(120 * kUs, 1, b, SwitchState::kRunnable, c, c);
  m.on_sched_switch(150 * kUs, 1, c, SwitchState::kSleeping, b, c);
  m.on_sched_switch(170 * kUs, 1, b, SwitchState::kRunnable, b, b);
  m.on_sched_migrate(180 * kUs, 0, a, 0, 1, MigrateReason::kRtPush);
  m.on_sched_migrate(180 * kUs, 0, a, 1, 0, MigrateReason::kRtPush);
  m.on_sched_migrate(180 * kUs, 1, b, 1, 0, MigrateReason::kWakeup);
  m.on_sched_migrate(180 * kUs, 1, b, 0, 1, MigrateReason::kLoadBalance);
  // A: responses 30, 10, 1060 µs; the last ends after its deadline (1260 > 250).
  m.on_activation(a, Activation{0, 0, 0, 30 * kUs, kTimeNever, 0});
  m.on_activation(a, Activation{0, 1, 100 * kUs, 110 * kUs, 120 * kUs, 0});
  m.on_activation(a, Activation{0, 2, 200 * kUs, 1260 * kUs, 250 * kUs, 0});
  // C: 45678 ns (deadline 46 µs: met), 51000 ns (end 101 µs > deadline 100 µs: missed).
  m.on_activation(c, Activation{0, 0, 0, 45'678, 46 * kUs, 0});
  m.on_activation(c, Activation{0, 1, 50 * kUs, 101 * kUs, 100 * kUs, 0});
  m.on_finish(200 * kUs);
}

TEST(MetricsCollector, ScenarioAValues) {
  MetricsCollector m;
  feed_scenario_a(m);
  RunMetrics r = m.result(RunStats{200 * kUs, 42, 0.5});
  EXPECT_EQ(r.protocol, "proxy");
  EXPECT_EQ(r.nr_cpus, 2);
  EXPECT_EQ(r.seed, 7u);
  ASSERT_EQ(r.tasks.size(), 3u);
  const TaskMetrics& a = r.tasks[0];
  const TaskMetrics& b = r.tasks[1];
  const TaskMetrics& c = r.tasks[2];
  EXPECT_EQ(a.name, "A");
  EXPECT_EQ(a.pid, 10);
  EXPECT_EQ(a.policy, Policy::kFifo);
  EXPECT_EQ(a.prio, 89);
  // A runs [15,50) + [100,200) = 35 + 100 = 135 µs.
  EXPECT_EQ(a.cpu_time_ns, 135 * kUs);
  // B runs [30,120) + [150,170) as C's proxy + [170,200) = 90 + 20 + 30 = 140 µs.
  EXPECT_EQ(b.cpu_time_ns, 140 * kUs);
  EXPECT_EQ(b.proxy_ns, 20 * kUs);
  EXPECT_EQ(b.donated_ns, 0);
  // C runs [120,150) = 30 µs, and donates [150,170) = 20 µs.
  EXPECT_EQ(c.cpu_time_ns, 30 * kUs);
  EXPECT_EQ(c.donated_ns, 20 * kUs);
  EXPECT_EQ(c.proxy_ns, 0);
  // Wakeup latency A: 15 - 10 = 5 and 100 - 60 = 40 (t=40 ignored: running; t=70: pending):
  // mean 22.5 -> 23 µs (halves away from zero), p99 = rank 2 = 40.
  EXPECT_EQ(a.wakeup_latency_ns.count, 2);
  EXPECT_EQ(a.wakeup_latency_ns.mean, 22'500);  // 45000 ns / 2: exact
  EXPECT_EQ(a.wakeup_latency_ns.p99, 40 * kUs);
  EXPECT_EQ(a.wakeup_latency_ns.max, 40 * kUs);
  // B: from sched_wakeup_new at 20 to switch-in at 30. C: 110 -> 120.
  EXPECT_EQ(b.wakeup_latency_ns.count, 1);
  EXPECT_EQ(b.wakeup_latency_ns.max, 10 * kUs);
  EXPECT_EQ(c.wakeup_latency_ns.count, 1);
  EXPECT_EQ(c.wakeup_latency_ns.mean, 10 * kUs);
  // Responses A: {30, 10, 1060} µs -> min 10, p50 rank 2 = 30, p99 rank 3 = 1060,
  // mean 1100000 / 3 = 366666.67 -> 366667 ns.
  EXPECT_EQ(a.activations, 3);
  EXPECT_EQ(a.response_ns.min, 10 * kUs);
  EXPECT_EQ(a.response_ns.p50, 30 * kUs);
  EXPECT_EQ(a.response_ns.p99, 1060 * kUs);
  EXPECT_EQ(a.response_ns.max, 1060 * kUs);
  EXPECT_EQ(a.response_ns.mean, 366'667);
  EXPECT_EQ(a.deadline_misses, 1);
  // C: {45678, 51000} -> mean 48339, p50 rank 1 = 45678, p99 rank 2 = 51000; one miss.
  EXPECT_EQ(c.response_ns.mean, 48'339);
  EXPECT_EQ(c.response_ns.p50, 45'678);
  EXPECT_EQ(c.response_ns.p99, 51'000);
  EXPECT_EQ(c.deadline_misses, 1);
  EXPECT_EQ(b.activations, 0);
  EXPECT_EQ(b.response_ns.max, 0);
  // Migrations.
  EXPECT_EQ(a.migrations[static_cast<size_t>(MigrateReason::kRtPush)], 2);
  EXPECT_EQ(a.migrations_total, 2);
  EXPECT_EQ(b.migrations[static_cast<size_t>(MigrateReason::kWakeup)], 1);
  EXPECT_EQ(b.migrations[static_cast<size_t>(MigrateReason::kLoadBalance)], 1);
  EXPECT_EQ(b.migrations_total, 2);
  EXPECT_EQ(c.migrations_total, 0);
  // Switches: A out sleeping at 50; B preempted at 120 (the B->B switch at 170 is no switch);
  // C out sleeping at 150.
  EXPECT_EQ(a.switches_voluntary, 1);
  EXPECT_EQ(a.switches_involuntary, 0);
  EXPECT_EQ(b.switches_voluntary, 0);
  EXPECT_EQ(b.switches_involuntary, 1);
  EXPECT_EQ(c.switches_voluntary, 1);
  // CPUs: CPU0 idle [0,15) + [50,100) = 65, busy 135; CPU1 idle [0,30) = 30, busy 170,
  // proxy [150,170) = 20.
  ASSERT_EQ(r.cpus.size(), 2u);
  EXPECT_EQ(r.cpus[0].busy_ns, 135 * kUs);
  EXPECT_EQ(r.cpus[0].idle_ns, 65 * kUs);
  EXPECT_EQ(r.cpus[0].proxy_ns, 0);
  EXPECT_EQ(r.cpus[1].busy_ns, 170 * kUs);
  EXPECT_EQ(r.cpus[1].idle_ns, 30 * kUs);
  EXPECT_EQ(r.cpus[1].proxy_ns, 20 * kUs);
  // Invariants: Σ task CPU time = Σ CPU busy time (135 + 140 + 30 = 135 + 170).
  EXPECT_EQ(a.cpu_time_ns + b.cpu_time_ns + c.cpu_time_ns, r.cpus[0].busy_ns + r.cpus[1].busy_ns);
}

TEST(MetricsCollector, SummaryTableScenarioA) {
  MetricsCollector m;
  feed_scenario_a(m);
  std::string got = summary_table(m.result(RunStats{200 * kUs, 42, 0.5}));
  // CPU0 busy 135/200 = 67.5 %, CPU1 170/200 = 85.0 %. C's p50 45678 ns -> "45.6us" (truncated).
  std::string expected =
      "protocol proxy  cpus 2  seed 7  simulated 0.000200 s  events 42\n"
      "task  pid  policy    cpu ms  acts  resp p50  resp p99  resp max  wake max  migr  dl miss\n"
      "A      10  FIFO/10    0.135     3    30.0us   1.060ms   1.060ms    40.0us     2        1\n"
      "B      11  OTHER/-5   0.140     0         -         -         -    10.0us     2        0\n"
      "C      12  DL         0.030     2    45.6us    51.0us    51.0us    10.0us     0        1\n"
      "\n"
      "cpu   busy  busy ms  proxy ms\n"
      "0    67.5%    0.135     0.000\n"
      "1    85.0%    0.170     0.020\n";
  EXPECT_EQ(got, expected);
}

// Scenario B, 1 CPU, ns: t (id 0, pid 5, SCHED_OTHER) woken at 100, runs [150, 400), sleeps;
// one activation [100, 400]; finish at 1000.
RunMetrics scenario_b(std::string_view protocol) {
  MetricsCollector m;
  TaskRef t{0, 5, "t", 120, Policy::kNormal};
  m.on_start(RunInfo{1, 3, protocol, ""});
  m.on_task_new(0, t);
  m.on_sched_waking(100, 0, t, 0);
  m.on_sched_switch(150, 0, kIdle, SwitchState::kRunnable, t, t);
  m.on_activation(t, Activation{0, 0, 100, 400, kTimeNever, 250});
  m.on_sched_switch(400, 0, t, SwitchState::kSleeping, kIdle, kIdle);
  m.on_finish(1000);
  return m.result(RunStats{1000, 7, 0.25});
}

// cpu_time 400 - 150 = 250; idle [0,150) + [400,1000) = 750; response 300; wakeup 50.
const char* const kScenarioBJsonNoWall = R"({
  "protocol": "none",
  "nr_cpus": 1,
  "seed": 3,
  "sim_time_ns": 1000,
  "events": 7,
  "deadlocks": [],
  "tasks": [
    {
      "name": "t",
      "pid": 5,
      "policy": "SCHED_OTHER",
      "prio": 120,
      "cpu_time_ns": 250,
      "donated_ns": 0,
      "proxy_ns": 0,
      "activations": 1,
      "response_ns": {
        "min": 300,
        "mean": 300,
        "p50": 300,
        "p99": 300,
        "max": 300
      },
      "wakeup_latency_ns": {
        "mean": 50,
        "p99": 50,
        "max": 50
      },
      "lock_wait_ns": {
        "total": 0,
        "max": 0,
        "count": 0
      },
      "owner_starved_ns": 0,
      "deadline_misses": 0,
      "migrations": {
        "wakeup": 0,
        "load_balance": 0,
        "newidle": 0,
        "nohz_balance": 0,
        "rt_push": 0,
        "rt_pull": 0,
        "dl_push": 0,
        "dl_pull": 0,
        "affinity": 0,
        "total": 0
      },
      "switches": {
        "voluntary": 1,
        "involuntary": 0
      }
    }
  ],
  "cpus": [
    {
      "cpu": 0,
      "busy_ns": 250,
      "idle_ns": 750,
      "proxy_ns": 0
    }
  ]
})";

TEST(MetricsJson, OneRunExactNoWall) {
  EXPECT_EQ(metrics_json(scenario_b("none"), JsonOptions{false}),
            std::string(kScenarioBJsonNoWall) + "\n");
}

TEST(MetricsJson, WallSecondsAfterEvents) {
  std::string s = metrics_json(scenario_b("none"));
  EXPECT_NE(s.find("  \"events\": 7,\n  \"wall_s\": 0.25,\n  \"deadlocks\": [],\n"),
            std::string::npos)
      << s;
}

TEST(MetricsJson, CompareWrapsRunsInOrder) {
  std::vector<RunMetrics> runs = {scenario_b("none"), scenario_b("pi")};
  runs[1].deadlocks.push_back("deadlock detected: a -> m0 -> b -> m1 -> a");
  std::string got = metrics_json(runs, JsonOptions{false});
  // Each run is the single-run text indented by 4 more spaces, inside {"runs": [...]}.
  auto indented = [](const std::string& run) {
    std::istringstream in(run);
    std::string out;
    for (std::string line; std::getline(in, line);)
      out += (out.empty() ? "" : "\n") + ("    " + line);
    return out;
  };
  std::string run0 = kScenarioBJsonNoWall;
  std::string run1 = run0;
  run1.replace(run1.find("\"none\""), 6, "\"pi\"");
  run1.replace(run1.find("\"deadlocks\": []"), 15,
               "\"deadlocks\": [\n    \"deadlock detected: a -> m0 -> b -> m1 -> a\"\n  ]");
  std::string expected =
      "{\n  \"runs\": [\n" + indented(run0) + ",\n" + indented(run1) + "\n  ]\n}\n";
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace proxysim
