// Micro-benchmarks of single scheduler operations, written against the internal headers
// (issue 8): EEVDF enqueue/dequeue/pick on one cfs_rq, one PELT entity update,
// find_proxy_task() on blocked_on chains, and the RT/DL CPU searches. A Kernel is constructed
// (and for PELT run briefly so that the clock is not 0); the entities are built by hand and
// driven through the class ops or the public Kernel functions, never run as a simulation.
//   ./build/proxysim_bench --benchmark_filter='BM_Eevdf|BM_Pelt|BM_FindProxy|BM_Find(Lowest|Later)'
// Whole-run counterparts: BM_ProxyChainRun (chains in a workload) and BM_ScaleSteady (the
// steady-state time per event: two durations of one workload, the difference divided).
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kernel/kernel.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "sim/event_queue.h"
#include "workloads.h"

namespace proxysim {
namespace {

// A fair task as make_task()/sched_fork() would set it up, on `cpu`, not queued.
TaskPtr make_fair(Kernel& k, int id, int nice, int cpu, Rng& rng) {
  TaskPtr t = k.new_task();
  t->id = id;
  t->pid = 1000 + id;
  t->comm = t->name = "t" + std::to_string(id);
  t->policy = Policy::kNormal;
  t->static_prio = t->normal_prio = t->prio = 120 + nice;
  t->sched_class = k.fair();
  t->state = TaskState::kRunning;
  t->cpu = t->wake_cpu = cpu;
  t->set_cpus(CpuMask::all(k.nr_cpus()), k.nr_cpus());
  t->se.heap_prio = static_cast<uint32_t>(rng.next());
  k.fair_set_load_weight(t.get());
  k.fair_init_new(k.cpu_rq(cpu), t.get());
  return t;
}

// A kernel whose clock stands at 1 s: one sleeping task pinned to CPU 0 ran for 1 simulated
// second, so CPU 1 is empty and PELT sees real time deltas.
struct ClockedKernel {
  Workload w;
  std::unique_ptr<Kernel> k;
  bool ok = false;
  explicit ClockedKernel(int cpus) {
    Status s = load_workload_from_string(
        R"({"global": {"duration": 1}, "tasks": {"s": {"cpus": [0], "run": 10, "sleep": 5000000}}})",
        "micro.json", LoadOptions{}, &w);
    if (!s.is_ok()) return;
    SimOptions opt;
    opt.nr_cpus = cpus;
    k = std::make_unique<Kernel>(w, opt, std::vector<Observer*>{});
    RunStats st;
    ok = k->run(&st).is_ok() && k->now() > 0;
  }
};

// EEVDF: n entities of mixed nice queued on CPU 1's cfs_rq (no curr).
struct FairRq {
  ClockedKernel ck{2};
  std::vector<TaskPtr> tasks;  // after ck: destroyed before the kernel's task arena
  Rq* rq = nullptr;
  explicit FairRq(int n) {
    if (!ck.ok) return;
    Kernel& k = *ck.k;
    rq = &k.cpu_rq(1);
    Rng rng(7);
    for (int i = 0; i < n; ++i) {
      tasks.push_back(make_fair(k, 100 + i, static_cast<int>(rng.below(11)) - 5, 1, rng));
      Task* p = tasks.back().get();
      k.fair()->enqueue_task(*rq, p, ENQUEUE_INITIAL);
      p->on_rq = kTaskOnRqQueued;
    }
  }
};

void set_counters(benchmark::State& state, double ops_per_iter) {
  state.counters["ns_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * ops_per_iter,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// pick_task() (pick_eevdf(): descent of the augmented treap to the eligible entity with the
// earliest deadline) on a tree of n; the tree does not change between picks.
void BM_EevdfPick(benchmark::State& state) {
  FairRq f(static_cast<int>(state.range(0)));
  if (!f.rq) {
    state.SkipWithError("setup failed");
    return;
  }
  SchedClass* fair = f.ck.k->fair();
  for (auto _ : state) benchmark::DoNotOptimize(fair->pick_task(*f.rq));
  set_counters(state, 1);
}
// dequeue_task() of a random queued entity followed by its enqueue_task() (a requeue that keeps
// its lag and relative deadline, as a migration or a policy change does). One op = the pair.
void BM_EevdfDequeueEnqueue(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  FairRq f(n);
  if (!f.rq) {
    state.SkipWithError("setup failed");
    return;
  }
  SchedClass* fair = f.ck.k->fair();
  Rng rng(3);
  std::vector<Task*> order(4096);
  for (Task*& p : order) p = f.tasks[rng.below(static_cast<uint64_t>(n))].get();
  size_t i = 0;
  for (auto _ : state) {
    Task* p = order[i++ & 4095];
    fair->dequeue_task(*f.rq, p, 0);
    fair->enqueue_task(*f.rq, p, 0);
  }
  set_counters(state, 1);
  // A random entity of a large tree is a cache miss per level: the tree's footprint.
  state.counters["tree_MiB"] = static_cast<double>(n) * sizeof(Task) / (1024.0 * 1024.0);
}
// The pick and the dequeue of the picked entity, then its enqueue (a wakeup placement: it comes
// back with its lag at the current average vruntime). One op = pick + dequeue + enqueue.
void BM_EevdfPickDequeueEnqueue(benchmark::State& state) {
  FairRq f(static_cast<int>(state.range(0)));
  if (!f.rq) {
    state.SkipWithError("setup failed");
    return;
  }
  SchedClass* fair = f.ck.k->fair();
  for (auto _ : state) {
    Task* p = fair->pick_task(*f.rq);
    fair->dequeue_task(*f.rq, p, DEQUEUE_SLEEP | DEQUEUE_SPECIAL);
    fair->enqueue_task(*f.rq, p, ENQUEUE_WAKEUP);
  }
  set_counters(state, 1);
}
BENCHMARK(BM_EevdfPick)->Arg(10)->Arg(1000)->Arg(100000);
BENCHMARK(BM_EevdfDequeueEnqueue)->Arg(10)->Arg(1000)->Arg(100000);
BENCHMARK(BM_EevdfPickDequeueEnqueue)->Arg(10)->Arg(1000)->Arg(100000);

// PELT: update_load_avg_se() of one queued entity whose last update lies 1 us..64 ms back
// (random, so 0..62 periods are decayed), plus the cfs_rq update it triggers (already current).
void BM_PeltUpdateSe(benchmark::State& state) {
  ClockedKernel ck(2);
  if (!ck.ok) {
    state.SkipWithError("setup failed");
    return;
  }
  Kernel& k = *ck.k;
  Rng rng(5);
  auto t = make_fair(k, 100, 0, 1, rng);
  t->se.on_rq = true;
  t->se.avg.last_update_time = static_cast<uint64_t>(k.now() - 100 * kNsPerMs);
  Rq& rq = k.cpu_rq(1);
  std::vector<uint64_t> back(4096);
  for (uint64_t& b : back) b = 1000 + rng.below(64 * kNsPerMs);
  const uint64_t now = static_cast<uint64_t>(k.now());
  size_t i = 0;
  for (auto _ : state) {
    t->se.avg.last_update_time = now - back[i++ & 4095];
    k.update_load_avg_se(rq, t.get());
    benchmark::DoNotOptimize(t->se.avg.util_avg);
  }
  set_counters(state, 1);
}
BENCHMARK(BM_PeltUpdateSe);

// find_proxy_task() on a chain donor -> m0 -> t1 -> m1 -> ... -> t_len (runnable owner), all
// queued on CPU 0 under proxy:full; the walk returns the last owner and changes nothing but its
// blocked_donor. len = number of blocked_on hops.
void BM_FindProxyTask(benchmark::State& state) {
  const int len = static_cast<int>(state.range(0));
  Workload w;
  for (int i = 0; i < len; ++i) w.mutexes.push_back("m" + std::to_string(i));
  SimOptions opt;
  opt.nr_cpus = 2;
  opt.protocol = "proxy";
  Kernel k(w, opt, {});
  Rng rng(9);
  std::vector<Task*> chain;
  for (int i = 0; i <= len; ++i) {
    k.tasks().push_back(make_fair(k, i, 0, 0, rng));
    Task* p = k.tasks().back().get();
    p->on_rq = kTaskOnRqQueued;
    p->se.on_rq = true;
    chain.push_back(p);
  }
  for (int i = 0; i < len; ++i) {
    Mutex* m = &k.mutexes()[static_cast<size_t>(i)];
    chain[static_cast<size_t>(i)]->blocked_on = m;
    m->waiters.push_back(chain[static_cast<size_t>(i)]);
    m->owner = chain[static_cast<size_t>(i) + 1];
    m->owner->held.push_back(m);
  }
  Rq& rq = k.cpu_rq(0);
  Task* donor = chain.front();
  if (k.find_proxy_task(rq, donor) != chain.back()) {
    state.SkipWithError("chain walk did not end at the owner");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(k.find_proxy_task(rq, donor));
  set_counters(state, 1);
  state.counters["ns_per_hop"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * len,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FindProxyTask)->Arg(1)->Arg(4)->Arg(16)->Arg(64);

// Counters of the CPU-search benchmarks: ns per search and per CPU searched.
void set_search_counters(benchmark::State& state, int cpus) {
  set_counters(state, 1);
  state.counters["ns_per_cpu"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * cpus,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// RT push/pull search: find_lowest_rq() for a FIFO-50 task allowed everywhere, over `cpus`
// CPUs. busy = 0: every CPU idle (all tie); 1: each CPU has an RT task of random priority
// queued (rt.highest_prio set by hand, then the cpupri index updated), so some are below the
// task and some not.
void BM_FindLowestRq(benchmark::State& state) {
  const int cpus = static_cast<int>(state.range(0));
  const bool busy = state.range(1) != 0;
  Workload w;
  SimOptions opt;
  opt.nr_cpus = cpus;
  Kernel k(w, opt, {});
  Rng rng(11);
  Task p;
  p.id = 1;
  p.policy = Policy::kFifo;
  p.rt_priority = 50;
  p.prio = p.normal_prio = 99 - 50;
  p.set_cpus(CpuMask::all(cpus), cpus);
  p.cpu = 0;
  if (busy)
    for (int c = 0; c < cpus; ++c) {
      k.cpu_rq(c).rt.highest_prio = static_cast<int>(rng.below(100));
      k.cpu_rq(c).nr_running = 1;
      k.cpupri_update(k.cpu_rq(c));  // the index the search reads
    }
  for (auto _ : state) benchmark::DoNotOptimize(k.find_lowest_rq(&p, 0));
  set_search_counters(state, cpus);
}
// DL push/pull search: find_later_rq() for a DL task over `cpus` CPUs. busy = 0: every CPU
// free of DL tasks; 1: each CPU has one DL task queued with a random deadline (the task's own
// deadline is the median), so no CPU is free and the latest deadline wins.
void BM_FindLaterRq(benchmark::State& state) {
  const int cpus = static_cast<int>(state.range(0));
  const bool busy = state.range(1) != 0;
  Workload w;
  SimOptions opt;
  opt.nr_cpus = cpus;
  Kernel k(w, opt, {});
  Rng rng(13);
  std::vector<Task> others(static_cast<size_t>(cpus));
  Task p;
  p.id = 1;
  p.policy = Policy::kDeadline;
  p.prio = -1;
  p.set_cpus(CpuMask::all(cpus), cpus);
  p.cpu = 0;
  p.dl.deadline = 500 * kNsPerMs;
  if (busy)
    for (int c = 0; c < cpus; ++c) {
      Task& o = others[static_cast<size_t>(c)];
      o.dl.task = &o;
      o.dl.deadline = static_cast<Time>(rng.below(1000)) * kNsPerMs;
      k.cpu_rq(c).dl.queue.push_back(&o.dl);
      k.cpu_rq(c).dl.dl_nr_running = 1;
      k.dl_busy_update(k.cpu_rq(c));  // the index the search reads
    }
  for (auto _ : state) benchmark::DoNotOptimize(k.find_later_rq(&p));
  set_search_counters(state, cpus);
  for (int c = 0; c < cpus; ++c) {
    k.cpu_rq(c).dl.queue.clear();
    k.cpu_rq(c).dl.dl_nr_running = 0;
  }
}
BENCHMARK(BM_FindLowestRq)->ArgsProduct({{4, 16, 64, 256, 1024}, {0, 1}});
BENCHMARK(BM_FindLaterRq)->ArgsProduct({{4, 16, 64, 256, 1024}, {0, 1}});

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Runs w on `cpus` CPUs for `dur` simulated ns; returns wall ns, sets *cpu_ns (this thread's CPU
// time, less disturbed by other load on a shared machine) and *events.
double timed_run(const Workload& w, int cpus, Time dur, const std::string& protocol,
                 uint64_t* events, double* cpu_ns, Status* st) {
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.duration = dur;
  opt.protocol = protocol;
  RunStats stats;
  const double c0 = thread_cpu_ns();
  auto t0 = std::chrono::steady_clock::now();
  *st = run_simulation(w, opt, {}, &stats);
  auto t1 = std::chrono::steady_clock::now();
  *cpu_ns = thread_cpu_ns() - c0;
  *events = stats.events;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

// Steady-state time per event: the same workload for T1 and T2 simulated ms; task creation and
// the start-up transient cancel out of (wall(T2) - wall(T1)) / (events(T2) - events(T1)).
void steady(benchmark::State& state, const std::string& json, int cpus, Time t1, Time t2,
            const std::string& protocol = "none") {
  Workload w;
  Status s = load_workload_from_string(json, "bench.json", LoadOptions{}, &w);
  if (!s.is_ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  double w1 = 0, w2 = 0, c1 = 0, c2 = 0;
  uint64_t e1 = 0, e2 = 0;
  for (auto _ : state) {
    Status r1, r2;
    w1 = timed_run(w, cpus, t1, protocol, &e1, &c1, &r1);
    w2 = timed_run(w, cpus, t2, protocol, &e2, &c2, &r2);
    if (!r1.is_ok() || !r2.is_ok()) {
      state.SkipWithError("run failed");
      return;
    }
  }
  state.counters["events_T1"] = static_cast<double>(e1);
  state.counters["events_T2"] = static_cast<double>(e2);
  state.counters["wall_T1_ms"] = w1 / 1e6;
  state.counters["wall_T2_ms"] = w2 / 1e6;
  state.counters["ns_per_event_steady"] = e2 > e1 ? (w2 - w1) / static_cast<double>(e2 - e1) : 0.0;
  state.counters["cpu_ns_per_event_steady"] =
      e2 > e1 ? (c2 - c1) / static_cast<double>(e2 - e1) : 0.0;
  state.counters["ns_per_event_T2"] = e2 ? w2 / static_cast<double>(e2) : 0.0;
}

// state.range: cpus, tasks, T1 ms, T2 ms.
void BM_ScaleSteady(benchmark::State& state) {
  steady(state, bench::random_fair(static_cast<int>(state.range(1)), 42),
         static_cast<int>(state.range(0)), state.range(2) * kNsPerMs, state.range(3) * kNsPerMs);
}
BENCHMARK(BM_ScaleSteady)
    ->Args({1, 10, 10000, 200000})
    ->Args({4, 40, 2000, 40000})
    ->Args({16, 160, 1000, 10000})
    ->Args({64, 640, 500, 3000})
    ->Args({256, 2560, 200, 1000})
    ->Args({1024, 10240, 100, 500})
    ->Args({1024, 100000, 100, 300})
    ->Args({1, 1000, 1000, 20000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// n CPU hogs on one CPU (a cfs_rq of n): steady state between T1 and T2.
void BM_FairPerRqSteady(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  steady(state,
         R"({"tasks": {"hog": {"instance": )" + std::to_string(n) +
             R"(, "run": 100000, "sleep": 10}}})",
         1, state.range(1) * kNsPerMs, state.range(2) * kNsPerMs);
}
BENCHMARK(BM_FairPerRqSteady)
    ->Args({10, 200, 100200})
    ->Args({1000, 200, 20200})
    ->Args({100000, 200, 2200})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Proxy chains in a whole run, 1 CPU, proxy:full: task i holds m_i, runs 100 us and then takes
// m_{i+1} (held by task i+1); the last task holds m_len for 20 ms. So chains of up to `len`
// hops form repeatedly and every pick of a blocked donor walks one. chained = 0: the same tasks
// take a private second mutex instead (no waiting, no chain). Steady-state ns/event of each.
std::string chain_json(int len, bool chained) {
  std::string j = R"({"tasks": {)";
  for (int i = 0; i <= len; ++i) {
    std::string s = std::to_string(i);
    if (i) j += ",";
    if (i == len) {
      j += "\"c" + s + R"(": {"lock": "m)" + s + R"(", "run": 20000, "unlock": "m)" + s +
           R"(", "sleep": 100})";
      continue;
    }
    std::string second = chained ? "m" + std::to_string(i + 1) : "x" + s;
    j += "\"c" + s + R"(": {"lock": "m)" + s + R"(", "run": 100, "lock2": ")" + second +
         R"(", "run2": 50, "unlock2": ")" + second + R"(", "unlock": "m)" + s +
         R"(", "sleep": 100})";
  }
  return j + "}}";
}
void BM_ProxyChainRun(benchmark::State& state) {
  const int len = static_cast<int>(state.range(0));
  steady(state, chain_json(len, state.range(1) != 0), 1, 200 * kNsPerMs, 10200 * kNsPerMs, "proxy");
}
BENCHMARK(BM_ProxyChainRun)
    ->ArgsProduct({{1, 4, 16, 64}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace proxysim
