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

// touch() copies a name only when its storage changes (observer.h's TaskRef contract); a trace
// replay first meets a task as "<...>" and renames it to new storage: the metrics keep the last
// name, also when every name has the same length.
TEST(MetricsCollector, RenameToNewStorageIsSeen) {
  MetricsCollector m;
  m.on_start(RunInfo{1, 1, "none", "x.json"});
  const std::string first = "<...>", second = "wkr-1", third = "wkr-2";
  m.on_task_new(0, TaskRef{0, 10, first, 120, Policy::kNormal});
  m.on_sched_switch(10, 0, kIdle, SwitchState::kRunnable, TaskRef{0, 10, second, 120}, kIdle);
  m.on_sched_switch(20, 0, TaskRef{0, 10, third, 120}, SwitchState::kSleeping, kIdle, kIdle);
  m.on_finish(30);
  RunMetrics r = m.result(RunStats{});
  ASSERT_EQ(r.tasks.size(), 1u);
  EXPECT_EQ(r.tasks[0].name, "wkr-2");
  EXPECT_EQ(r.tasks[0].cpu_time_ns, 10);
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

// Scenario L (locks), 2 CPUs, times in µs, finish at 100. H (id 0, pid 20), M (id 1, pid 21),
// L (id 2, pid 22), X (id 3, pid 23); m0, m1, m2 are locks 0, 1, 2.
//   CPU0: 0 idle->L; 12 L->H (S); 20 H->idle (S); 50 idle->L with donor H (L runs for H);
//         65 L->H (R); 72 H->L (S).
//   CPU1: 2 idle->X; 5 X->M (R); 30 M->X (R); 45 X->idle (S).
//   Locks: 1 L takes m0; 3 X takes m1; 10 L contends m1 (owner X); 15 H contends m0 (owner L);
//   6 M takes m2; 35 L contends m1 again (still the same wait); 40 X releases m1, L acquires
//   it (handoff); 60 L releases m0, H acquires it; 70 H contends m2 (owner M);
//   80 M contends m0 (owner H): H -> m2 -> M -> m0 -> H is a cycle; deadlock reported at 80.
void feed_scenario_locks(MetricsCollector& m, std::string_view protocol) {
  TaskRef h{0, 20, "H", 69, Policy::kFifo};
  TaskRef mm{1, 21, "M", 79, Policy::kFifo};
  TaskRef l{2, 22, "L", 89, Policy::kFifo};
  TaskRef x{3, 23, "X", 120, Policy::kNormal};
  m.on_start(RunInfo{2, 5, protocol, "l.json"});
  for (const TaskRef& t : {h, mm, l, x}) m.on_task_new(0, t);
  m.on_sched_switch(0, 0, kIdle, SwitchState::kRunnable, l, l);
  m.on_lock_acquire(1 * kUs, 0, l, 0, "m0");
  m.on_sched_switch(2 * kUs, 1, kIdle, SwitchState::kRunnable, x, x);
  m.on_lock_acquire(3 * kUs, 1, x, 1, "m1");
  m.on_sched_switch(5 * kUs, 1, x, SwitchState::kRunnable, mm, mm);
  m.on_lock_acquire(6 * kUs, 1, mm, 2, "m2");
  m.on_lock_contend(10 * kUs, 0, l, 1, "m1", x);
  m.on_sched_switch(12 * kUs, 0, l, SwitchState::kSleeping, h, h);
  m.on_lock_contend(15 * kUs, 0, h, 0, "m0", l);
  m.on_sched_switch(20 * kUs, 0, h, SwitchState::kSleeping, kIdle, kIdle);
  m.on_sched_switch(30 * kUs, 1, mm, SwitchState::kRunnable, x, x);
  m.on_lock_contend(35 * kUs, 1, l, 1, "m1", x);
  m.on_lock_release(40 * kUs, 1, x, 1, "m1");
  m.on_lock_acquire(40 * kUs, 1, l, 1, "m1");
  m.on_sched_switch(45 * kUs, 1, x, SwitchState::kSleeping, kIdle, kIdle);
  m.on_sched_switch(50 * kUs, 0, kIdle, SwitchState::kRunnable, l, h);
  m.on_lock_release(60 * kUs, 0, l, 0, "m0");
  m.on_lock_acquire(60 * kUs, 0, h, 0, "m0");
  m.on_sched_switch(65 * kUs, 0, l, SwitchState::kRunnable, h, h);
  m.on_lock_contend(70 * kUs, 0, h, 2, "m2", mm);
  m.on_sched_switch(72 * kUs, 0, h, SwitchState::kSleeping, l, l);
  m.on_lock_contend(80 * kUs, 1, mm, 0, "m0", h);
  m.on_deadlock(80 * kUs, "deadlock detected: H -> m2 -> M -> m0 -> H");
  m.on_sched_migrate(90 * kUs, 0, h, 0, 1, MigrateReason::kProxy);
  m.on_sched_migrate(90 * kUs, 1, h, 1, 0, MigrateReason::kReturn);
  m.on_sched_migrate(90 * kUs, 0, mm, 1, 0, MigrateReason::kProxy);
  // H: responses 60 µs and 1234567 ns; L: 45678 ns.
  m.on_activation(h, Activation{0, 0, 0, 60 * kUs, kTimeNever, 0});
  m.on_activation(h, Activation{0, 1, 0, 1'234'567, kTimeNever, 0});
  m.on_activation(l, Activation{0, 0, 0, 45'678, kTimeNever, 0});
  m.on_finish(100 * kUs);
}

TEST(MetricsCollector, LockWaitOwnerStarvedDeadlocks) {
  MetricsCollector m;
  feed_scenario_locks(m, "none");
  RunMetrics r = m.result(RunStats{100 * kUs, 42, 0.5});
  ASSERT_EQ(r.tasks.size(), 4u);
  const TaskMetrics& h = r.tasks[0];
  const TaskMetrics& mm = r.tasks[1];
  const TaskMetrics& l = r.tasks[2];
  const TaskMetrics& x = r.tasks[3];
  // L waits m1 from 10 (the contend at 35 continues it) to the acquire at 40: 30, one contended
  // acquisition. Its chain is X alone: X is off-CPU from 5 to 30, on from 30: starved [10, 30).
  EXPECT_EQ(l.lock_wait_ns.total, 30 * kUs);
  EXPECT_EQ(l.lock_wait_ns.max, 30 * kUs);
  EXPECT_EQ(l.lock_wait_ns.count, 1);
  EXPECT_EQ(l.owner_starved_ns, 20 * kUs);
  // H waits m0 [15, 60) = 45 (acquired), then m2 [70, 100) = 30 (open at the end: in total and
  // max, not in count). Starved:
  //   [15, 30): chain L (off CPU since 12) -> m1 -> X (off since 5): nobody runs      15
  //   [30, 40): X runs                                                                 0
  //   [40, 50): m1 handed to L; chain L alone, off CPU                                10
  //   [50, 60): L runs (as H's proxy: curr counts)                                     0
  //   [60, 70): not waiting
  //   [70, 100): chain M (off since 30); from 80 the cycle M -> m0 -> H -> m2 -> M    30
  EXPECT_EQ(h.lock_wait_ns.total, 75 * kUs);
  EXPECT_EQ(h.lock_wait_ns.max, 45 * kUs);
  EXPECT_EQ(h.lock_wait_ns.count, 1);
  EXPECT_EQ(h.owner_starved_ns, 55 * kUs);
  // M waits m0 [80, 100), never acquired; the cycle H -> M -> H ... runs nowhere: starved 20.
  EXPECT_EQ(mm.lock_wait_ns.total, 20 * kUs);
  EXPECT_EQ(mm.lock_wait_ns.max, 20 * kUs);
  EXPECT_EQ(mm.lock_wait_ns.count, 0);
  EXPECT_EQ(mm.owner_starved_ns, 20 * kUs);
  EXPECT_EQ(x.lock_wait_ns.total, 0);
  EXPECT_EQ(x.lock_wait_ns.count, 0);
  EXPECT_EQ(x.owner_starved_ns, 0);
  // CPU time: L [0,12) + [50,65) + [72,100) = 55 with proxy [50,65) = 15 donated by H;
  // H [12,20) + [65,72) = 15; M [5,30) = 25; X [2,5) + [30,45) = 18.
  EXPECT_EQ(l.cpu_time_ns, 55 * kUs);
  EXPECT_EQ(l.proxy_ns, 15 * kUs);
  EXPECT_EQ(h.donated_ns, 15 * kUs);
  EXPECT_EQ(h.cpu_time_ns, 15 * kUs);
  EXPECT_EQ(mm.cpu_time_ns, 25 * kUs);
  EXPECT_EQ(x.cpu_time_ns, 18 * kUs);
  // Migrations by the new reasons.
  EXPECT_EQ(h.migrations[static_cast<size_t>(MigrateReason::kProxy)], 1);
  EXPECT_EQ(h.migrations[static_cast<size_t>(MigrateReason::kReturn)], 1);
  EXPECT_EQ(h.migrations_total, 2);
  EXPECT_EQ(mm.migrations[static_cast<size_t>(MigrateReason::kProxy)], 1);
  EXPECT_EQ(mm.migrations_total, 1);
  ASSERT_EQ(r.deadlocks.size(), 1u);
  EXPECT_EQ(r.deadlocks[0], "deadlock detected: H -> m2 -> M -> m0 -> H");
  // on_finish() twice changes nothing (the open waits were closed by the first).
  m.on_finish(100 * kUs);
  EXPECT_EQ(m.result(RunStats{}).tasks[0].lock_wait_ns.total, 75 * kUs);
  // JSON: H's lock fields, migrations by reason with the new keys, the deadlock message.
  std::string json = metrics_json(r, JsonOptions{false});
  EXPECT_NE(json.find("      \"lock_wait_ns\": {\n"
                      "        \"total\": 75000,\n"
                      "        \"max\": 45000,\n"
                      "        \"count\": 1\n"
                      "      },\n"
                      "      \"owner_starved_ns\": 55000,\n"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("        \"affinity\": 0,\n"
                      "        \"proxy\": 1,\n"
                      "        \"return\": 1,\n"
                      "        \"unknown\": 0,\n"
                      "        \"total\": 2\n"),
            std::string::npos)
      << json;
  EXPECT_NE(
      json.find("  \"deadlocks\": [\n    \"deadlock detected: H -> m2 -> M -> m0 -> H\"\n  ],"),
      std::string::npos)
      << json;
}

// A release by a task that no longer owns the lock (the handoff already made the waiter owner)
// does not free it; a lock released with its waiter not yet woken is no owner starvation.
// 1 CPU, µs: A (id 0) holds m0 from 0; B (id 1) contends at 10 (A off CPU: starved from 10);
// at 20 B acquires first (handoff reported before the release), then A's release at 20 must keep
// B as owner; C (id 2) contends m0 at 30 (owner B, off CPU) -> starved [30, 40); at 40 B
// releases (lock free: C not starved although nobody runs); finish at 50.
TEST(MetricsCollector, OwnerStarvedFreeLockAndHandoffOrder) {
  MetricsCollector m;
  TaskRef a{0, 1, "A", 120, Policy::kNormal};
  TaskRef b{1, 2, "B", 120, Policy::kNormal};
  TaskRef c{2, 3, "C", 120, Policy::kNormal};
  m.on_start(RunInfo{1, 1, "none", ""});
  m.on_lock_acquire(0, 0, a, 0, "m0");
  m.on_lock_contend(10 * kUs, 0, b, 0, "m0", a);
  m.on_lock_acquire(20 * kUs, 0, b, 0, "m0");
  m.on_lock_release(20 * kUs, 0, a, 0, "m0");
  m.on_lock_contend(30 * kUs, 0, c, 0, "m0", b);
  m.on_lock_release(40 * kUs, 0, b, 0, "m0");
  m.on_finish(50 * kUs);
  RunMetrics r = m.result(RunStats{50 * kUs, 1, 0});
  ASSERT_EQ(r.tasks.size(), 3u);
  EXPECT_EQ(r.tasks[1].lock_wait_ns.total, 10 * kUs);
  EXPECT_EQ(r.tasks[1].lock_wait_ns.count, 1);
  EXPECT_EQ(r.tasks[1].owner_starved_ns, 10 * kUs);
  // C waits [30, 50) (open at the end), starved only [30, 40).
  EXPECT_EQ(r.tasks[2].lock_wait_ns.total, 20 * kUs);
  EXPECT_EQ(r.tasks[2].lock_wait_ns.count, 0);
  EXPECT_EQ(r.tasks[2].owner_starved_ns, 10 * kUs);
}

// compare_table: scenario L as "none"; as "pi" with H changed (lock max 9999 ns, not starved,
// 2.5 s of CPU) and no deadlock; as "proxy:single-rq" without X and with an extra task Y (id 4).
// Compact values (truncated, 3 significant digits): 1234567 -> 1.23ms, 45000 -> 45.0us,
// 45678 -> 45.6us, 9999 -> 9.99us, 2.5e9 -> 2.50s, 123456789 -> 123ms, 999 -> 999ns, 0 -> 0.
// Every group's columns: widths 6 6 6 6 6 4 (values of 6 characters, "migr" 4) + 5 separating
// spaces = 39; the task column is 4 wide ("task"); groups start with " | ".
TEST(MetricsOutput, CompareTableSideBySide) {
  std::vector<RunMetrics> runs(3);
  {
    MetricsCollector m;
    feed_scenario_locks(m, "none");
    runs[0] = m.result(RunStats{100 * kUs, 42, 0.5});
  }
  runs[1] = runs[0];
  runs[1].protocol = "pi";
  runs[1].stats.events = 40;
  runs[1].deadlocks.clear();
  runs[1].tasks[0].lock_wait_ns.max = 9'999;
  runs[1].tasks[0].owner_starved_ns = 0;
  runs[1].tasks[0].cpu_time_ns = 2'500'000'000;
  runs[2] = runs[0];
  runs[2].protocol = "proxy:single-rq";
  runs[2].stats = RunStats{2'500'000'000, 1'234'567, 0};
  runs[2].tasks.pop_back();  // X
  TaskMetrics y;
  y.id = 4;
  y.name = "Y";
  y.cpu_time_ns = 999;
  y.activations = 1;
  y.response_ns = summarize({123'456'789});
  y.migrations_total = 12;
  runs[2].tasks.push_back(y);
  std::string expected =
      "none             simulated 0.000100 s  events 42  deadlocks 1\n"
      "pi               simulated 0.000100 s  events 40  deadlocks 0\n"
      "proxy:single-rq  simulated 2.500000 s  events 1234567  deadlocks 1\n"
      "\n"
      "     | none" +
      std::string(35, ' ') + " | pi" + std::string(37, ' ') +
      " | proxy:single-rq\n"
      "task |  r.p99  r.max lk.max  starv    cpu migr |  r.p99  r.max lk.max  starv    cpu migr"
      " |  r.p99  r.max lk.max  starv    cpu migr\n"
      "H    | 1.23ms 1.23ms 45.0us 55.0us 15.0us    2 | 1.23ms 1.23ms 9.99us      0  2.50s    2"
      " | 1.23ms 1.23ms 45.0us 55.0us 15.0us    2\n"
      "M    |      -      - 20.0us 20.0us 25.0us    1 |      -      - 20.0us 20.0us 25.0us    1"
      " |      -      - 20.0us 20.0us 25.0us    1\n"
      "L    | 45.6us 45.6us 30.0us 20.0us 55.0us    0 | 45.6us 45.6us 30.0us 20.0us 55.0us    0"
      " | 45.6us 45.6us 30.0us 20.0us 55.0us    0\n"
      "X    |      -      -      -      0 18.0us    0 |      -      -      -      0 18.0us    0"
      " |      -      -      -      -      -    -\n"
      "Y    |      -      -      -      -      -    - |      -      -      -      -      -    -"
      " |  123ms  123ms      -      0  999ns   12\n";
  EXPECT_EQ(compare_table(runs), expected);
  EXPECT_EQ(compare_table({}), "");
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
        "proxy": 0,
        "return": 0,
        "unknown": 0,
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
