// Whole-run benchmarks: fixed, seeded workloads simulated end to end; reports scheduler events
// (events taken off the event queue and handled) per second of wall time.
//   ./build/proxysim_bench --benchmark_filter=Mixed16
#include <benchmark/benchmark.h>

#include <string>

#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "sim/event_queue.h"

namespace proxysim {
namespace {

// 16 CPUs: 4 DL tasks, 8 periodic FIFO/RR tasks, 32 fair tasks of mixed nice, for 10 s.
std::string mixed16() {
  return R"({"global": {"duration": 10}, "tasks": {
    "dl": {"instance": 4, "policy": "SCHED_DEADLINE", "dl-runtime": 2000, "dl-period": 10000,
           "run": 1500, "timer": {"ref": "unique", "period": 10000}},
    "rt": {"instance": 4, "policy": "SCHED_FIFO", "priority": 40, "run": 300,
           "timer": {"ref": "unique", "period": 2000}},
    "rr": {"instance": 4, "policy": "SCHED_RR", "priority": 20, "run": 5000, "sleep": 15000},
    "web": {"instance": 16, "priority": 0, "run": 800, "sleep": 1200},
    "batch": {"instance": 8, "priority": 5, "run": 20000, "sleep": 500},
    "bg": {"instance": 8, "priority": 15, "run": 100000}}})";
}

void run_bench(benchmark::State& state, const std::string& json, int cpus, bool metrics) {
  Workload w;
  Status s = load_workload_from_string(json, "bench.json", LoadOptions{}, &w);
  if (!s.is_ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  uint64_t events = 0;
  for (auto _ : state) {
    SimOptions opt;
    opt.nr_cpus = cpus;
    MetricsCollector m;
    std::vector<Observer*> obs;
    if (metrics) obs.push_back(&m);
    RunStats stats;
    Status r = run_simulation(w, opt, obs, &stats);
    if (!r.is_ok()) state.SkipWithError(r.message().c_str());
    events += stats.events;
  }
  state.counters["events"] =
      benchmark::Counter(static_cast<double>(events) / static_cast<double>(state.iterations()));
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_Mixed16_NoMetrics(benchmark::State& state) { run_bench(state, mixed16(), 16, false); }
void BM_Mixed16_Metrics(benchmark::State& state) { run_bench(state, mixed16(), 16, true); }
BENCHMARK(BM_Mixed16_NoMetrics)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mixed16_Metrics)->Unit(benchmark::kMillisecond);

// The SCHED_DEADLINE set of issue 8: periods 5..50 ms, runtime 0.3 x period, 4 CPUs, 100 s.
void BM_DlSet4Cpus100s(benchmark::State& state) {
  std::string json = R"({"global": {"duration": 100}, "tasks": {)";
  const int periods[] = {5, 7, 10, 12, 15, 20, 25, 30, 40, 50};
  for (int i = 0; i < 10; ++i) {
    int p = periods[i] * 1000;
    json += (i ? "," : "") + std::string("\"dl") + std::to_string(i) +
            R"(": {"policy": "SCHED_DEADLINE", "dl-runtime": )" + std::to_string(p * 3 / 10) +
            R"(, "dl-period": )" + std::to_string(p) + R"(, "run": )" +
            std::to_string(p * 3 / 10 - 100) + R"(, "timer": {"ref": "unique", "period": )" +
            std::to_string(p) + "}}";
  }
  json += "}}";
  run_bench(state, json, 4, false);
}
BENCHMARK(BM_DlSet4Cpus100s)->Unit(benchmark::kMillisecond);

void BM_EventQueuePushPop(benchmark::State& state) {
  EventQueue q;
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  for (int i = 0; i < n; ++i) q.push(static_cast<Time>(rng.below(1000000)), EvKind::kHrtimer, i);
  Time t = 0;
  for (auto _ : state) {
    SimEvent e = q.pop();
    t = e.time;
    q.push(t + static_cast<Time>(rng.below(1000000)), EvKind::kHrtimer, e.a);
  }
  benchmark::DoNotOptimize(t);
}
BENCHMARK(BM_EventQueuePushPop)->Arg(16)->Arg(1024)->Arg(65536);

}  // namespace
}  // namespace proxysim

BENCHMARK_MAIN();
