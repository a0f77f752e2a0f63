// proxysim: the command-line front end. Parses options, loads the workload, runs the simulation
// with the requested observers and maps Status codes to exit codes (DESIGN.md §8).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/demo.h"
#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "trace/ftrace_writer.h"

namespace proxysim {
namespace {

struct CommonOptions {
  int cpus = 0;  // 0 = from the workload
  std::string protocol = "none";
  std::string duration;
  uint64_t seed = 1;
  std::string costs = "default";
  int64_t jitter = 0;
  bool check = false;
  std::string trace;
  std::string metrics;
  bool quiet = false;
  bool no_wall = false;
  bool rtapp_1_0 = false;
};

int report(const Status& s) {
  if (!s.is_ok()) std::fprintf(stderr, "proxysim: %s\n", s.message().c_str());
  return s.exit_code();
}

// "2", "0.5", "1.25" seconds -> ns, exactly (no floating point).
bool parse_seconds(const std::string& s, Time* out) {
  size_t dot = s.find('.');
  std::string ip = s.substr(0, dot);
  std::string fp = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (ip.empty() && fp.empty()) return false;
  if (fp.size() > 9) return false;
  for (char c : ip + fp)
    if (c < '0' || c > '9') return false;
  Time v = ip.empty() ? 0 : std::stoll(ip);
  if (v > 1000000000) return false;
  Time frac = 0;
  if (!fp.empty()) {
    frac = std::stoll(fp);
    for (size_t i = fp.size(); i < 9; ++i) frac *= 10;
  }
  *out = v * kNsPerSec + frac;
  return true;
}

bool write_file(const std::string& path, const std::string& text, Status* err) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) {
    *err = Status::invalid(fmt::format("cannot write {}", path));
    return false;
  }
  return true;
}

void add_common(CLI::App* app, CommonOptions* o) {
  app->add_option("--cpus", o->cpus,
                  "number of CPUs (default: highest CPU named in the workload + 1, or 4)")
      ->check(CLI::Range(1, 4096));
  app->add_option("--protocol", o->protocol,
                  "lock protocol: none (the only one until locking lands)")
      ->default_str("none");
  app->add_option("--duration", o->duration,
                  "simulated seconds (decimal allowed), overriding global.duration");
  app->add_option("--seed", o->seed, "seed of the PRNG (printed in every output)")
      ->default_str("1");
  app->add_option("--costs", o->costs,
                  "cost model: default, zero, or a list such as "
                  "ctxsw=2000,ipi=2000,idle_exit=10000,migration=5000,slack=50000 (ns)")
      ->default_str("default");
  app->add_option("--jitter", o->jitter,
                  "add U[0, NS] of seeded random latency to every cross-CPU step")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--check", o->check,
                "run the invariant checker after every event (exit 3 on "
                "a violation)");
  app->add_option("--trace", o->trace, "write an ftrace text trace (tracefs format) to FILE");
  app->add_option("--metrics", o->metrics, "write metrics JSON to FILE");
  app->add_flag("--quiet,-q", o->quiet, "print no summary table");
  app->add_flag("--no-wall", o->no_wall, "leave wall-clock fields out of the metrics");
  app->add_flag("--rt-app-1.0", o->rtapp_1_0,
                "rt-app 1.0 semantics where it differs from rt-app HEAD (task-level loop)");
}

int run_workload(const Workload& w, const CommonOptions& o) {
  SimOptions opt;
  opt.nr_cpus = o.cpus > 0 ? o.cpus : (w.max_cpu_named >= 0 ? w.max_cpu_named + 1 : 4);
  opt.seed = o.seed;
  opt.check = o.check;
  if (o.protocol != "none")
    return report(Status::invalid(fmt::format(
        "--protocol {}: unknown protocol (this version models no locks; available: none)",
        o.protocol)));
  opt.protocol = o.protocol;
  if (!o.duration.empty() && !parse_seconds(o.duration, &opt.duration))
    return report(
        Status::invalid(fmt::format("--duration {}: expected seconds, e.g. 2 or 0.5", o.duration)));
  std::string err;
  if (!CostModel::parse(o.costs, &opt.costs, &err)) return report(Status::invalid(err));
  if (o.jitter > 0) opt.costs.jitter_max = o.jitter;
  if (!o.quiet && isatty(STDERR_FILENO)) {
    opt.progress = [](Time now, Time end) {
      if (end > 0)
        std::fprintf(stderr, "\r%6.2f / %.2f s simulated", static_cast<double>(now) / 1e9,
                     static_cast<double>(end) / 1e9);
      else
        std::fprintf(stderr, "\r%6.2f s simulated", static_cast<double>(now) / 1e9);
      std::fflush(stderr);
    };
  }

  std::vector<Observer*> observers;
  MetricsCollector metrics;
  observers.push_back(&metrics);
  std::unique_ptr<FtraceWriter> trace;
  if (!o.trace.empty()) {
    Status s = FtraceWriter::open(o.trace, &trace);
    if (!s.is_ok()) return report(s);
    observers.push_back(trace.get());
  }
  RunStats stats;
  Status s = run_simulation(w, opt, observers, &stats);
  if (opt.progress) std::fprintf(stderr, "\r%40s\r", "");
  if (trace) {
    Status c = trace->close();
    if (s.is_ok() && !c.is_ok()) s = c;
  }
  if (!s.is_ok()) return report(s);
  RunMetrics m = metrics.result(stats);
  if (!o.metrics.empty()) {
    JsonOptions jo;
    jo.wall = !o.no_wall;
    Status ws;
    if (!write_file(o.metrics, metrics_json(m, jo), &ws)) return report(ws);
  }
  if (!o.quiet) std::fputs(summary_table(m).c_str(), stdout);
  return 0;
}

int load(const std::string& file, const CommonOptions& o, Workload* w) {
  LoadOptions lo;
  lo.rtapp_1_0 = o.rtapp_1_0;
  Status s = load_workload(file, lo, w);
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return s.exit_code();
  }
  return 0;
}

}  // namespace
}  // namespace proxysim

int main(int argc, char** argv) {
  using namespace proxysim;
  CLI::App app{
      "proxysim: a deterministic simulator of the Linux SMP scheduler (EEVDF, RT, DEADLINE) "
      "that runs rt-app workloads.\nExit codes: 0 ok, 1 the workload failed (e.g. DL admission), "
      "2 usage or invalid input, 3 internal error or invariant violation."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "proxysim 0.1");

  CommonOptions run_o, demo_o, val_o;
  std::string run_file, val_file;
  CLI::App* run = app.add_subcommand("run", "simulate an rt-app JSON workload");
  run->add_option("FILE", run_file, "rt-app JSON workload")->required();
  add_common(run, &run_o);

  CLI::App* validate = app.add_subcommand("validate", "check a workload and print its warnings");
  validate->add_option("FILE", val_file, "rt-app JSON workload")->required();
  validate->add_flag("--rt-app-1.0", val_o.rtapp_1_0, "rt-app 1.0 semantics");

  CLI::App* demo = app.add_subcommand("demo", "run the built-in multi-class scenario");
  add_common(demo, &demo_o);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*run) {
    Workload w;
    if (int rc = load(run_file, run_o, &w)) return rc;
    return run_workload(w, run_o);
  }
  if (*validate) {
    Workload w;
    if (int rc = load(val_file, val_o, &w)) return rc;
    for (const std::string& warning : w.warnings) std::fprintf(stderr, "%s\n", warning.c_str());
    int threads = 0;
    for (const TaskSpec& t : w.tasks) threads += t.instances;
    std::printf("%s: valid: %zu task definitions, %d threads, duration %s\n", w.file.c_str(),
                w.tasks.size(), threads,
                w.duration < 0
                    ? "until all tasks finish"
                    : fmt::format("{} s", static_cast<double>(w.duration) / 1e9).c_str());
    return 0;
  }
  if (*demo) {
    Workload w;
    LoadOptions lo;
    Status s = load_workload_from_string(kDemoWorkload, "demo.json", lo, &w);
    if (!s.is_ok()) return report(s);
    if (demo_o.cpus == 0) demo_o.cpus = 2;
    std::printf(
        "proxysim demo: video (SCHED_DEADLINE 4/16.7 ms), audio (FIFO 50), logger (FIFO 10 "
        "pinned to CPU 1), ui (nice -5), 3 x build (nice 0), backup (nice 10) on %d "
        "CPUs for 2 s\n\n",
        demo_o.cpus);
    return run_workload(w, demo_o);
  }
  return 2;
}
