// Whole-run benchmarks: fixed, seeded workloads simulated end to end; reports scheduler events
// (events taken off the event queue and handled) per second of wall time.
//   ./build/proxysim_bench --benchmark_filter=Mixed16
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <string>

#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "sim/event_queue.h"
#include "trace/ftrace_writer.h"
#include "workloads.h"

namespace proxysim {
namespace {

enum class Observe { kNone, kMetrics, kTrace };

void run_bench(benchmark::State& state, const std::string& json, int cpus, Observe what,
               const std::string& protocol = "none", Time duration = -1) {
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
    opt.protocol = protocol;
    opt.duration = duration;
    MetricsCollector m;
    std::unique_ptr<FtraceWriter> trace;
    std::vector<Observer*> obs;
    if (what == Observe::kMetrics) obs.push_back(&m);
    if (what == Observe::kTrace) {
      // The text trace, written in full (buffered) to /dev/null.
      Status ts = FtraceWriter::open("/dev/null", &trace);
      if (!ts.is_ok()) state.SkipWithError(ts.message().c_str());
      obs.push_back(trace.get());
    }
    RunStats stats;
    Status r = run_simulation(w, opt, obs, &stats);
    if (trace) (void)trace->close();
    if (!r.is_ok()) state.SkipWithError(r.message().c_str());
    events += stats.events;
  }
  state.counters["events"] =
      benchmark::Counter(static_cast<double>(events) / static_cast<double>(state.iterations()));
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["ns_per_event"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  // The process's peak so far: it includes the benchmarks that ran before this one (run one
  // benchmark alone with --benchmark_filter, or see BM_Memory* in bench_mem.cc, which measure
  // each run in a child process).
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["peak_rss_MiB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
}

void BM_Mixed16_NoMetrics(benchmark::State& state) {
  run_bench(state, bench::mixed16(), 16, Observe::kNone);
}
void BM_Mixed16_Metrics(benchmark::State& state) {
  run_bench(state, bench::mixed16(), 16, Observe::kMetrics);
}
// Tracing cost: the same run writing the full ftrace text trace (target: <= 3x untraced).
void BM_Mixed16_Trace(benchmark::State& state) {
  run_bench(state, bench::mixed16(), 16, Observe::kTrace);
}
BENCHMARK(BM_Mixed16_NoMetrics)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mixed16_Metrics)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mixed16_Trace)->Unit(benchmark::kMillisecond);

// The SCHED_DEADLINE set of issue 8: bench::dl_set (workloads.h), 4 CPUs, 100 s.
void BM_DlSet4Cpus100s(benchmark::State& state) {
  run_bench(state, bench::dl_set(), 4, Observe::kNone);
}
BENCHMARK(BM_DlSet4Cpus100s)->Unit(benchmark::kMillisecond);

// Scale (state.range: cpus, tasks, simulated ms): bench::random_fair (workloads.h).
void BM_ScaleFair(benchmark::State& state) {
  const int cpus = static_cast<int>(state.range(0));
  const int tasks = static_cast<int>(state.range(1));
  run_bench(state, bench::random_fair(tasks, 42), cpus, Observe::kNone, "none",
            state.range(2) * kNsPerMs);
}
// 1,024 CPUs x 100,000 tasks (issue 8: 10 simulated s in <= 60 s, <= 1 GiB), at smaller sizes
// and shorter simulated times too; per-event cost vs tasks per rq and vs CPUs.
BENCHMARK(BM_ScaleFair)
    ->Args({1, 10, 10000})
    ->Args({1, 1000, 1000})
    ->Args({4, 40, 2000})
    ->Args({16, 160, 1000})
    ->Args({64, 640, 500})
    ->Args({256, 2560, 200})
    ->Args({1024, 10240, 100})
    ->Args({1024, 100000, 100})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Tasks per runqueue: n CPU-bound fair tasks on one CPU (EEVDF tree of n), 0.2 simulated s.
void BM_FairPerRq(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::string json = R"({"tasks": {"hog": {"instance": )" + std::to_string(n) +
                     R"(, "run": 100000, "sleep": 10}}})";
  run_bench(state, json, 1, Observe::kNone, "none", 200 * kNsPerMs);
}
BENCHMARK(BM_FairPerRq)
    ->Arg(10)
    ->Arg(1000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Proxy execution on ksched_football (bench::football): proxy walks the chains at each pick of a
// high task; pi boosts instead. Per-event cost of proxy vs the same run under pi.
void BM_FootballPi(benchmark::State& state) {
  run_bench(state, bench::football(8), 8, Observe::kNone, "pi");
}
void BM_FootballProxy(benchmark::State& state) {
  run_bench(state, bench::football(8), 8, Observe::kNone, "proxy");
}
BENCHMARK(BM_FootballPi)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FootballProxy)->Unit(benchmark::kMillisecond);

// n fire-once timers pending (tasks' sleep timers); each pop re-arms the popped slot.
void BM_EventQueuePushPop(benchmark::State& state) {
  EventQueue q;
  Rng rng(1);
  const int n = static_cast<int>(state.range(0));
  q.add_fire_once(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    q.arm(EventQueue::kFireOnce | static_cast<EventQueue::Slot>(i),
          static_cast<Time>(rng.below(1000000)), EvKind::kHrtimer, i);
  Time t = 0;
  for (auto _ : state) {
    SimEvent e = q.pop();
    t = e.time;
    q.arm(e.slot, t + static_cast<Time>(rng.below(1000000)), EvKind::kHrtimer, e.a);
  }
  benchmark::DoNotOptimize(t);
}
BENCHMARK(BM_EventQueuePushPop)->Arg(16)->Arg(1024)->Arg(65536)->Arg(262144);

}  // namespace
}  // namespace proxysim

BENCHMARK_MAIN();
