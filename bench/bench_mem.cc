// Memory benchmarks: peak RSS of a whole run (generate the JSON text, load it, simulate with the
// MetricsCollector the CLI always attaches, build the metrics result), measured in a child
// process so that each measurement starts from the same small process instead of seeing the
// peak of the benchmarks that ran before it. The child reports through a pipe:
//   peak_rss_MiB       ru_maxrss of the child at the end (what `time -v` would show)
//   base_rss_MiB       ru_maxrss of the child right after fork() (the bench process itself)
//   load_peak_MiB      ru_maxrss after the workload is loaded (JSON text, DOM, Workload)
//   bytes_per_thread   (peak - base) / threads
//   events, wall_s     of the simulation
//   ./build/proxysim_bench --benchmark_filter=BM_Memory
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "workloads.h"

namespace proxysim {
namespace {

struct MemReport {
  int ok = 0;
  double base_kib = 0, load_kib = 0, peak_kib = 0;
  double events = 0, threads = 0, wall_s = 0;
};

double maxrss_kib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss);
}

// In the child: everything a `proxysim run FILE -q` does that holds memory. (The JSON text is
// generated first, written to a file and freed; its generation peaks far below the load.)
MemReport measure(const std::function<std::string()>& make_json, int cpus, Time duration) {
  MemReport r;
  r.base_kib = maxrss_kib();
  Workload w;
  {
    // Through a file, as `proxysim run FILE` reads it (the loader frees the text once parsed).
    char path[] = "/tmp/proxysim_bench_mem_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return r;
    {
      std::string json = make_json();
      bool written = write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size());
      close(fd);
      if (!written) return r;
    }
    Status s = load_workload(path, LoadOptions{}, &w);
    unlink(path);
    if (!s.is_ok()) return r;
  }
  r.load_kib = maxrss_kib();
  for (const TaskSpec& t : w.tasks) r.threads += t.instances;
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.duration = duration;
  MetricsCollector m;
  RunStats stats;
  auto t0 = std::chrono::steady_clock::now();
  if (!run_simulation(w, opt, {&m}, &stats).is_ok()) return r;
  RunMetrics result = m.result(stats);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  benchmark::DoNotOptimize(result.tasks.data());
  r.events = static_cast<double>(stats.events);
  r.peak_kib = maxrss_kib();
  r.ok = 1;
  return r;
}

void run_forked(benchmark::State& state, const std::function<std::string()>& make_json, int cpus,
                Time duration) {
  MemReport r;
  for (auto _ : state) {
    int fds[2];
    if (pipe(fds) != 0) {
      state.SkipWithError("pipe failed");
      return;
    }
    pid_t pid = fork();
    if (pid < 0) {
      state.SkipWithError("fork failed");
      return;
    }
    if (pid == 0) {
      close(fds[0]);
      MemReport c = measure(make_json, cpus, duration);
      ssize_t n = write(fds[1], &c, sizeof c);
      _exit(n == static_cast<ssize_t>(sizeof c) ? 0 : 1);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != static_cast<ssize_t>(sizeof r) || !r.ok) {
      state.SkipWithError("child run failed");
      return;
    }
  }
  state.counters["peak_rss_MiB"] = r.peak_kib / 1024.0;
  state.counters["base_rss_MiB"] = r.base_kib / 1024.0;
  state.counters["load_peak_MiB"] = r.load_kib / 1024.0;
  state.counters["bytes_per_thread"] = (r.peak_kib - r.base_kib) * 1024.0 / r.threads;
  state.counters["threads"] = r.threads;
  state.counters["events"] = r.events;
  state.counters["wall_s"] = r.wall_s;
}

// Issue 8: 1,000,000 mostly-sleeping threads on 64 CPUs in 2 GiB. state.range: task
// definitions, instances each, simulated ms (bench::instanced_sleepers).
void BM_MemoryInstanced(benchmark::State& state) {
  const int defs = static_cast<int>(state.range(0));
  const int inst = static_cast<int>(state.range(1));
  run_forked(
      state, [=] { return bench::instanced_sleepers(defs, inst, 7); }, 64,
      state.range(2) * kNsPerMs);
}
BENCHMARK(BM_MemoryInstanced)
    ->Args({100, 1000, 1000})
    ->Args({1000, 1000, 1000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Distinct specs: bench::random_fair, 100,000 definitions of one thread each on 1,024 CPUs
// (issue 8's 1 GiB case). state.range: cpus, tasks, simulated ms.
void BM_MemoryDistinct(benchmark::State& state) {
  const int tasks = static_cast<int>(state.range(1));
  run_forked(
      state, [=] { return bench::random_fair(tasks, 42); }, static_cast<int>(state.range(0)),
      state.range(2) * kNsPerMs);
}
BENCHMARK(BM_MemoryDistinct)
    ->Args({1024, 100000, 300})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace proxysim
