// The stress generator and runner (see stress.h).
#include "check/stress.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <ostream>
#include <vector>

#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "sim/event_queue.h"
#include "util/ordered_parallel.h"

namespace proxysim {
namespace {

// A generated workload in a form the shrinker can cut down and render again.
struct GenPhase {
  int cpu = -1;  // phase affinity: one CPU, or -1 for the task's default
  int loop = 1;
  std::vector<std::pair<std::string, std::string>> events;  // key, JSON value
};
struct GenTask {
  std::string params;  // "policy": ..., "priority": ..., (JSON members, with trailing comma)
  int loop = -1;
  std::vector<GenPhase> phases;
};
struct GenWorkload {
  int cpus = 1;
  std::vector<GenTask> tasks;
};

std::string render(const GenWorkload& w) {
  std::string j = R"({"global": {"duration": -1}, "tasks": {)";
  for (size_t t = 0; t < w.tasks.size(); ++t) {
    const GenTask& task = w.tasks[t];
    j += fmt::format("{}\"t{}\": {{{}\"loop\": {}, \"phases\": {{", t ? ", " : "", t, task.params,
                     task.loop);
    for (size_t p = 0; p < task.phases.size(); ++p) {
      const GenPhase& ph = task.phases[p];
      j += fmt::format("{}\"p{}\": {{\"loop\": {}", p ? ", " : "", p, ph.loop);
      if (ph.cpu >= 0) j += fmt::format(", \"cpus\": [{}]", ph.cpu);
      for (const auto& [k, v] : ph.events) j += fmt::format(", \"{}\": {}", k, v);
      j += "}";
    }
    j += "}}";
  }
  return j + "}}";
}

GenWorkload generate(uint64_t seed) {
  Rng rng(seed * 0x9e3779b97f4a7c15ULL + 17);
  GenWorkload w;
  w.cpus = 1 + static_cast<int>(rng.below(rng.below(4) == 0 ? 16 : 4));
  const int nlocks = 1 + static_cast<int>(rng.below(4));
  const int ntasks = 2 + static_cast<int>(rng.below(8));
  int dl_tasks = 0;
  for (int t = 0; t < ntasks; ++t) {
    GenTask task;
    bool dl = false;
    switch (rng.below(5)) {
      case 0:
        task.params = fmt::format(R"("policy": "SCHED_FIFO", "priority": {}, )", 1 + rng.below(98));
        break;
      case 1:
        task.params = fmt::format(R"("policy": "SCHED_RR", "priority": {}, )", 1 + rng.below(98));
        break;
      case 2:
        if (dl_tasks < w.cpus) {  // keep admission control happy: 0.1 CPU each at most
          ++dl_tasks;
          dl = true;
          task.params =
              fmt::format(R"("policy": "SCHED_DEADLINE", "dl-runtime": {}, "dl-period": {}, )",
                          500 + rng.below(1000), 20000);
          break;
        }
        [[fallthrough]];
      default:
        task.params = fmt::format(R"("priority": {}, )", static_cast<int>(rng.below(40)) - 20);
        if (rng.below(5) == 0) task.params += R"("policy": "SCHED_BATCH", )";
    }
    if (rng.below(3)) task.params += fmt::format(R"("delay": {}, )", rng.below(5000));
    task.loop = rng.below(6) == 0 ? 1 + static_cast<int>(rng.below(20)) : -1;
    const int nphases = 1 + static_cast<int>(rng.below(3));
    for (int p = 0; p < nphases; ++p) {
      GenPhase ph;
      if (!dl && rng.below(3) == 0) ph.cpu = static_cast<int>(rng.below(w.cpus));
      ph.loop = 1 + static_cast<int>(rng.below(4));
      int n = 0;
      auto key = [&](const char* base) { return fmt::format("{}{}", base, n++); };
      const int sections = 1 + static_cast<int>(rng.below(3));
      for (int s = 0; s < sections; ++s) {
        ph.events.emplace_back(key("run"), std::to_string(50 + rng.below(3000)));
        // A lock section, sometimes nested (locks taken in index order unless the seed asks
        // for the reverse: AB-BA deadlocks are part of the space explored).
        int a = static_cast<int>(rng.below(nlocks));
        ph.events.emplace_back(key("lock"), fmt::format("\"m{}\"", a));
        ph.events.emplace_back(key("run"), std::to_string(20 + rng.below(2000)));
        int b = static_cast<int>(rng.below(nlocks));
        bool nest = b != a && rng.below(2) && (b > a || rng.below(8) == 0);
        if (nest) {
          ph.events.emplace_back(key("lock"), fmt::format("\"m{}\"", b));
          if (rng.below(2)) ph.events.emplace_back(key("sleep"), std::to_string(rng.below(1500)));
          ph.events.emplace_back(key("run"), std::to_string(10 + rng.below(500)));
          ph.events.emplace_back(key("unlock"), fmt::format("\"m{}\"", b));
        }
        if (rng.below(4) == 0)
          ph.events.emplace_back(key("sleep"), std::to_string(rng.below(2000)));
        // Condition variables on the held mutex: a signal or broadcast, or (rarely, since a
        // wait nobody signals blocks for good) a wait.
        switch (rng.below(8)) {
          case 0:
            ph.events.emplace_back(key("signal"), fmt::format("\"c{}\"", rng.below(2)));
            break;
          case 1: ph.events.emplace_back(key("broad"), fmt::format("\"c{}\"", rng.below(2))); break;
          case 2:
            ph.events.emplace_back(
                key("wait"), fmt::format(R"({{"ref": "c{}", "mutex": "m{}"}})", rng.below(2), a));
            break;
          default: break;
        }
        ph.events.emplace_back(key("unlock"), fmt::format("\"m{}\"", a));
        if (rng.below(4) == 0) ph.events.emplace_back(key("yield"), "\"\"");
      }
      if (rng.below(2))
        ph.events.emplace_back(key("timer"), fmt::format(R"({{"ref": "unique", "period": {}}})",
                                                         2000 + rng.below(30000)));
      else
        ph.events.emplace_back(key("sleep"), std::to_string(100 + rng.below(5000)));
      task.phases.push_back(std::move(ph));
    }
    w.tasks.push_back(std::move(task));
  }
  return w;
}

struct Outcome {
  Status status;
  bool failed() const { return status.code() == StatusCode::kInternal; }
};

Outcome run_one(const std::string& json, int cpus, uint64_t seed, const std::string& protocol,
                const StressOptions& so) {
  Outcome out;
  Workload w;
  out.status =
      load_workload_from_string(json, fmt::format("stress-{}.json", seed), LoadOptions{}, &w);
  if (!out.status.is_ok()) {
    out.status = Status::internal("generated workload does not load: " + out.status.message());
    return out;
  }
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.seed = seed;
  opt.duration = so.duration;
  opt.check = true;
  opt.protocol = protocol;
  opt.costs.jitter_max = so.jitter;
  opt.inject = so.inject;
  RunStats stats;
  out.status = run_simulation(w, opt, {}, &stats);
  return out;
}

// Removes tasks, then phases, then events while the run keeps failing the same way.
GenWorkload shrink(GenWorkload w, uint64_t seed, const std::string& protocol,
                   const StressOptions& so) {
  auto fails = [&](const GenWorkload& c) {
    return run_one(render(c), c.cpus, seed, protocol, so).failed();
  };
  for (size_t t = 0; t < w.tasks.size() && w.tasks.size() > 1;) {
    GenWorkload c = w;
    c.tasks.erase(c.tasks.begin() + static_cast<long>(t));
    if (fails(c))
      w = std::move(c);
    else
      ++t;
  }
  for (size_t t = 0; t < w.tasks.size(); ++t) {
    for (size_t p = 0; p < w.tasks[t].phases.size() && w.tasks[t].phases.size() > 1;) {
      GenWorkload c = w;
      c.tasks[t].phases.erase(c.tasks[t].phases.begin() + static_cast<long>(p));
      if (fails(c))
        w = std::move(c);
      else
        ++p;
    }
  }
  for (size_t t = 0; t < w.tasks.size(); ++t) {
    for (size_t p = 0; p < w.tasks[t].phases.size(); ++p) {
      for (size_t e = 0;
           e < w.tasks[t].phases[p].events.size() && w.tasks[t].phases[p].events.size() > 1;) {
        GenWorkload c = w;
        auto& ev = c.tasks[t].phases[p].events;
        ev.erase(ev.begin() + static_cast<long>(e));
        if (fails(c))
          w = std::move(c);
        else
          ++e;
      }
    }
  }
  while (w.cpus > 1) {
    GenWorkload c = w;
    --c.cpus;
    bool ok = true;  // phase affinities must stay within the machine
    for (auto& task : c.tasks)
      for (auto& ph : task.phases) ok &= ph.cpu < c.cpus;
    if (!ok || !fails(c)) break;
    w = std::move(c);
  }
  return w;
}

}  // namespace

std::string stress_workload(uint64_t seed, int* cpus) {
  GenWorkload w = generate(seed);
  *cpus = w.cpus;
  return render(w);
}

int run_stress(const StressOptions& so, std::ostream& out) {
  std::vector<std::string> protocols = so.protocols;
  if (protocols.empty())
    protocols = {"none", "pi", "proxy:single-rq", "proxy:migrate", "proxy:full"};
  const auto t0 = std::chrono::steady_clock::now();
  auto over_budget = [&] {
    return so.time_budget_s > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >
               so.time_budget_s;
  };
  // One seed's runs, made by a worker (any thread); its report, made by emit() below in seed
  // order on this thread, is therefore the same for every --jobs.
  struct SeedRuns {
    bool skipped = false;  // the time budget ran out before the seed started
    GenWorkload w;
    std::vector<Outcome> outcomes;  // per protocol, up to the first invalid-input one
  };
  const int jobs = resolve_jobs(so.jobs);
  std::vector<SeedRuns> ring(ordered_window(jobs));
  uint64_t runs = 0, failures = 0, done_seeds = 0, workload_errors = 0;
  bool shrunk = false;
  int rc = 0;
  auto work = [&](size_t i) {
    SeedRuns& r = ring[i % ring.size()];
    r = SeedRuns{};
    if (over_budget()) {
      r.skipped = true;
      return;
    }
    const uint64_t seed = so.first_seed + i;
    r.w = generate(seed);
    std::string json = render(r.w);
    for (const std::string& p : protocols) {
      r.outcomes.push_back(run_one(json, r.w.cpus, seed, p, so));
      if (r.outcomes.back().status.code() == StatusCode::kInvalidInput) break;
    }
  };
  auto emit = [&](size_t i) {
    SeedRuns& r = ring[i % ring.size()];
    if (r.skipped) return false;
    const uint64_t seed = so.first_seed + i;
    for (size_t k = 0; k < r.outcomes.size(); ++k) {
      const Outcome& o = r.outcomes[k];
      const std::string& p = protocols[k];
      ++runs;
      if (o.status.code() == StatusCode::kInvalidInput) {
        out << fmt::format("proxysim stress: {}\n", o.status.message());
        rc = 2;
        return false;
      }
      if (o.status.code() == StatusCode::kWorkloadFailed) ++workload_errors;  // e.g. deadlock
      if (!o.failed()) continue;
      ++failures;
      out << fmt::format("seed {} protocol {} cpus {}: {}\n", seed, p, r.w.cpus,
                         o.status.message());
      if (so.shrink && !shrunk) {
        shrunk = true;
        GenWorkload small = shrink(r.w, seed, p, so);
        std::string path =
            so.shrink_out.empty() ? fmt::format("stress-{}-shrunk.json", seed) : so.shrink_out;
        std::ofstream f(path);
        f << "/* proxysim stress --seed " << seed << " --protocols " << p
          << (so.inject.empty() ? "" : " --inject " + so.inject) << ", shrunk: run with --cpus "
          << small.cpus << " --seed " << seed << " --protocol " << p << " --duration "
          << fmt::format("{}", static_cast<double>(so.duration) / 1e9) << " --jitter " << so.jitter
          << (so.inject.empty() ? "" : " --inject " + so.inject) << " --check */\n"
          << render(small) << "\n";
        out << fmt::format("  shrunk to {} tasks on {} CPUs: {}\n", small.tasks.size(), small.cpus,
                           path);
      }
    }
    out.flush();
    ++done_seeds;
    return true;
  };
  run_ordered(so.seeds, jobs, work, emit);
  if (rc) return rc;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out << fmt::format(
      "{} seeds x {} protocols: {} runs, {} failed, {} ended in a reported workload error "
      "(deadlock), {:.1f} s\n",
      done_seeds, protocols.size(), runs, failures, workload_errors, wall);
  return failures ? 3 : 0;
}

}  // namespace proxysim
