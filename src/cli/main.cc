// proxysim: the command-line front end. Parses options, loads the workload, runs the simulation
// with the requested observers and maps Status codes to exit codes (DESIGN.md §8).
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "analyze/analyze.h"
#include "analyze/capture.h"
#include "analyze/fidelity.h"
#include "check/stress.h"
#include "cli/demo.h"
#include "metrics/metrics.h"
#include "metrics/metrics_csv.h"
#include "metrics/rtapp_logs.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "report/html_report.h"
#include "trace/chrome_json_writer.h"
#include "trace/ftrace_writer.h"
#include "trace/trace_dat_writer.h"
#include "util/ordered_parallel.h"

namespace proxysim {
namespace {

struct CommonOptions {
  int cpus = 0;          // 0 = from the workload
  std::string protocol;  // empty: "pi" if the workload sets pi_enabled, else "none"
  bool no_mutex_spin = false;
  std::string donor_load = "count";
  std::string inject;  // a historical proxy bug switched back on (replaying a stress failure)
  std::string duration;
  uint64_t seed = 1;
  std::string costs = "default";
  int64_t jitter = 0;
  bool check = false;
  std::string trace;
  std::string metrics;
  std::string html;  // --html FILE: the interactive report (src/report/)
  bool quiet = false;
  bool no_wall = false;
  bool rtapp_1_0 = false;
  std::string rtapp_logs;  // `run --rtapp-logs DIR`: rt-app per-thread logs
  std::string trace_dat;   // `--trace-dat FILE`: trace-cmd trace.dat (compare: FILE.<protocol>)
  std::string csv;         // `--csv DIR`: tasks/cpus/runs/activations CSV
  std::string trace_json;  // `--trace-json FILE`: Chrome JSON trace (compare: FILE.<protocol>)
  bool stats = false;      // `--stats`: engine counters and wall time per phase on stderr
  int jobs = 1;            // `compare --jobs N`: protocols simulated at once (0: per hw thread)
};

// --stats: wall time per phase of `run`/`compare` and the engine's event count. Printed on
// stderr only, after everything else, so that no output file or stdout changes with it.
struct PhaseStats {
  using Clock = std::chrono::steady_clock;
  double load_s = 0;
  struct Run {
    std::string protocol;
    uint64_t events = 0;
    Time sim_time = 0;
    double simulate_s = 0;  // run_simulation(), observers (trace writers) included
  };
  std::vector<Run> runs;
  // `compare --jobs N` with N > 1: the runs overlap, so their simulate times add up to more
  // than the wall time they took; `parallel_s` is that wall time (0 when they ran in turn).
  int jobs = 1;
  double parallel_s = 0;
  // Everything in run/compare that is not run_simulation(): opening and closing the trace
  // files, collecting the metrics, writing the metrics JSON, CSV, HTML and the table.
  double output_s = 0;
  static double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }
};
PhaseStats g_stats;

// Peak resident set size of this process so far, in bytes (getrusage: Linux reports KiB).
uint64_t peak_rss_bytes() {
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

void print_stats() {
  uint64_t events = 0;
  double sim_s = 0;
  for (const PhaseStats::Run& r : g_stats.runs) {
    double rate = r.simulate_s > 0 ? static_cast<double>(r.events) / r.simulate_s : 0;
    std::fprintf(stderr,
                 "stats: %s: %llu events, %.3f s simulated in %.3f s wall (%.2f M events/s)\n",
                 r.protocol.c_str(), static_cast<unsigned long long>(r.events),
                 static_cast<double>(r.sim_time) / 1e9, r.simulate_s, rate / 1e6);
    events += r.events;
    sim_s += r.simulate_s;
  }
  double rate = sim_s > 0 ? static_cast<double>(events) / sim_s : 0;
  std::string parallel;
  if (g_stats.parallel_s > 0)
    parallel =
        fmt::format(" (the runs' sum; {} jobs: {:.3f} s elapsed, {:.2f} M events/s)", g_stats.jobs,
                    g_stats.parallel_s, static_cast<double>(events) / g_stats.parallel_s / 1e6);
  std::fprintf(stderr,
               "stats: total: %llu events, %.2f M events/s; wall load %.3f s, simulate %.3f s%s, "
               "output %.3f s; peak RSS %.1f MiB\n",
               static_cast<unsigned long long>(events), rate / 1e6, g_stats.load_s, sim_s,
               parallel.c_str(), g_stats.output_s,
               static_cast<double>(peak_rss_bytes()) / (1024.0 * 1024.0));
}

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
                  "lock protocol: none (struct mutex), pi (rt_mutex priority inheritance), "
                  "proxy (= proxy:full), proxy:single-rq, proxy:migrate; default: pi if the "
                  "workload sets global.pi_enabled, else none");
  app->add_option("--donor-load", o->donor_load,
                  "proxy execution: blocked donors count in their runqueue's PELT load and in "
                  "load balancing (count, as Linux) or not (ignore)")
      ->default_str("count");
  app->add_option("--inject", o->inject,
                  "switch a historical proxy-execution bug back on (stale-task-cpu, "
                  "dangling-donor, runnable-without-return, activate-livelock), e.g. to replay "
                  "a shrunk stress failure; never on by default");
  app->add_flag("--no-mutex-spin", o->no_mutex_spin,
                "turn off optimistic spinning of struct mutex waiters (none and proxy)");
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
  app->add_option("--html", o->html,
                  "write a self-contained interactive HTML report (timelines, lock bands, "
                  "migrations, latency histograms and CDFs; compare: all protocols on one page)");
  app->add_option("--trace-dat", o->trace_dat,
                  "write a trace-cmd trace.dat (version 6: trace-cmd report, KernelShark) to FILE "
                  "(compare: FILE.<protocol>)");
  app->add_flag("--quiet,-q", o->quiet, "print no summary table");
  app->add_flag("--no-wall", o->no_wall, "leave wall-clock fields out of the metrics");
  app->add_flag("--rt-app-1.0", o->rtapp_1_0,
                "rt-app 1.0 semantics where it differs from rt-app HEAD (task-level loop)");
  app->add_flag("--stats", o->stats,
                "print on stderr the events handled, events/s, wall time per phase (load, "
                "simulate, output) and peak RSS; changes no other output");
}

// `option NAME: unknown protocol (expected ...)` unless NAME is one of known_protocols().
Status check_protocol(const char* option, const std::string& name) {
  const auto& known = known_protocols();
  if (std::find(known.begin(), known.end(), name) != known.end()) return Status::ok();
  return Status::invalid(
      fmt::format("{} {}: unknown protocol (expected none, pi, proxy, proxy:single-rq, "
                  "proxy:migrate or proxy:full)",
                  option, name));
}

// `--jobs N` of compare and stress: `what` (protocols, seeds) run at once (src/util/).
void add_jobs(CLI::App* app, int* jobs, const char* what) {
  app->add_option("--jobs,-j", *jobs,
                  fmt::format("run up to N {} at once, one thread each (0: one per hardware "
                              "thread); the output is the same for every N but for wall times",
                              what))
      ->check(CLI::Range(0, 1024))
      ->default_str("1");
}

// Runs `w` under `protocol` with the common options. On success fills *out; *timing gets the
// run's events and simulate time once it has run. Touches nothing shared, so that `compare --jobs`
// can run it on several threads: the progress line is for one run at a time only (`o.jobs <= 1`).
Status simulate_one(const Workload& w, const CommonOptions& o, const std::string& protocol,
                    const std::string& trace_path, RunMetrics* out,
                    std::optional<PhaseStats::Run>* timing, TimelineCollector* timeline = nullptr) {
  SimOptions opt;
  opt.nr_cpus = o.cpus > 0 ? o.cpus : (w.max_cpu_named >= 0 ? w.max_cpu_named + 1 : 4);
  opt.seed = o.seed;
  opt.check = o.check;
  if (Status ps = check_protocol("--protocol", protocol); !ps.is_ok()) return ps;
  opt.protocol = protocol;
  opt.mutex_spin = !o.no_mutex_spin;
  opt.inject = o.inject;
  if (o.donor_load != "count" && o.donor_load != "ignore")
    return Status::invalid(fmt::format("--donor-load {}: expected count or ignore", o.donor_load));
  opt.donor_load = o.donor_load == "count";
  if (!o.duration.empty() && !parse_seconds(o.duration, &opt.duration))
    return Status::invalid(
        fmt::format("--duration {}: expected seconds, e.g. 2 or 0.5", o.duration));
  std::string err;
  if (!CostModel::parse(o.costs, &opt.costs, &err)) return Status::invalid(err);
  if (o.jitter > 0) opt.costs.jitter_max = o.jitter;
  if (!o.quiet && o.jobs <= 1 && isatty(STDERR_FILENO)) {
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
  metrics.keep_activations(!o.csv.empty());
  // With nothing to print or write from them (-q and no --metrics, --csv or --html) the
  // metrics are not collected: on the 16-CPU mix they cost 20 % more instructions.
  if (!o.quiet || !o.metrics.empty() || !o.csv.empty() || !o.html.empty())
    observers.push_back(&metrics);
  std::unique_ptr<FtraceWriter> trace;
  if (!trace_path.empty()) {
    Status s = FtraceWriter::open(trace_path, &trace);
    if (!s.is_ok()) return s;
    observers.push_back(trace.get());
  }
  if (timeline != nullptr) observers.push_back(timeline);
  std::unique_ptr<TraceDatWriter> trace_dat;
  if (!o.trace_dat.empty()) {
    Status ds = TraceDatWriter::open(o.trace_dat, &trace_dat);
    if (!ds.is_ok()) return ds;
    observers.push_back(trace_dat.get());
  }
  std::unique_ptr<RtappLogWriter> rtapp_logs;
  if (!o.rtapp_logs.empty()) {
    Status ls = RtappLogWriter::open(o.rtapp_logs, w, &rtapp_logs);
    if (!ls.is_ok()) return ls;
    observers.push_back(rtapp_logs.get());
  }
  std::unique_ptr<ChromeJsonWriter> trace_json;
  if (!o.trace_json.empty()) {
    Status js = ChromeJsonWriter::open(o.trace_json, &trace_json);
    if (!js.is_ok()) return js;
    observers.push_back(trace_json.get());
  }
  RunStats stats;
  auto t_sim = PhaseStats::Clock::now();
  Status s = run_simulation(w, opt, observers, &stats);
  *timing = PhaseStats::Run{protocol, stats.events, stats.sim_time, PhaseStats::since(t_sim)};
  if (opt.progress) std::fprintf(stderr, "\r%40s\r", "");
  // Close every output writer; the run's status wins, then the first close error.
  auto close_into = [&s](auto& writer) {
    if (!writer) return;
    Status c = writer->close();
    if (s.is_ok() && !c.is_ok()) s = c;
  };
  close_into(trace);
  close_into(trace_dat);
  close_into(rtapp_logs);
  close_into(trace_json);
  *out = metrics.result(stats);
  return s;
}

std::string default_protocol(const Workload& w, const CommonOptions& o) {
  return o.protocol.empty() ? (w.pi_enabled ? "pi" : "none") : o.protocol;
}

int write_metrics(const CommonOptions& o, const std::vector<RunMetrics>& runs, bool several) {
  if (o.metrics.empty()) return 0;
  JsonOptions jo;
  jo.wall = !o.no_wall;
  Status ws;
  std::string text = several ? metrics_json(runs, jo) : metrics_json(runs.front(), jo);
  if (!write_file(o.metrics, text, &ws)) return report(ws);
  return 0;
}

int write_csv(const CommonOptions& o, const std::vector<RunMetrics>& runs, bool several) {
  if (o.csv.empty()) return 0;
  return report(write_metrics_csv(o.csv, runs, several));
}

// --html: one page for all `runs` (their timelines collected alongside), if asked for.
int write_html(const Workload& w, const CommonOptions& o, const std::vector<RunMetrics>& runs,
               std::vector<TimelineCollector>& timelines) {
  if (o.html.empty()) return 0;
  std::vector<ReportRun> report_runs;
  for (size_t i = 0; i < runs.size() && i < timelines.size(); ++i)
    report_runs.push_back(ReportRun{runs[i], timelines[i].take()});
  Status ws;
  if (!write_file(o.html, html_report(report_runs, ReportInfo{w.file, o.seed}), &ws))
    return report(ws);
  return 0;
}

int run_workload(const Workload& w, const CommonOptions& o) {
  // One vector for the writers, not `{m}` at each call: that copied every task's metrics
  // three times (1M tasks: 3 x 344 MB of copies).
  std::vector<RunMetrics> runs(1);
  RunMetrics& m = runs.front();
  std::vector<TimelineCollector> timeline(1);
  std::optional<PhaseStats::Run> timing;
  Status s = simulate_one(w, o, default_protocol(w, o), o.trace, &m, &timing,
                          o.html.empty() ? nullptr : &timeline[0]);
  if (o.stats && timing) g_stats.runs.push_back(*timing);
  if (s.code() == StatusCode::kWorkloadFailed && !m.deadlocks.empty()) {
    // A deadlock is a result: report it, keep the metrics that name it, exit 1.
    if (int rc = write_metrics(o, runs, false)) return rc;
    if (int rc = write_csv(o, runs, false)) return rc;
    if (int rc = write_html(w, o, runs, timeline)) return rc;
    return report(s);
  }
  if (!s.is_ok()) return report(s);
  if (int rc = write_metrics(o, runs, false)) return rc;
  if (int rc = write_csv(o, runs, false)) return rc;
  if (int rc = write_html(w, o, runs, timeline)) return rc;
  if (!o.quiet) std::fputs(summary_table(m).c_str(), stdout);
  return 0;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// `compare`: the same workload under each protocol; one side-by-side table, one JSON. With
// `--jobs N` up to N protocols are simulated at once; everything is still reported in the
// order of `protocols`, so the output does not depend on N.
int compare_workload(const Workload& w, const CommonOptions& o,
                     const std::vector<std::string>& protocols) {
  // Every name first: a typo in the last one should not cost the runs before it.
  for (const std::string& p : protocols)
    if (Status ps = check_protocol("--protocols", p); !ps.is_ok()) return report(ps);
  struct Slot {
    RunMetrics metrics;
    std::optional<PhaseStats::Run> timing;
    Status status;
  };
  std::vector<Slot> slots(protocols.size());
  std::vector<TimelineCollector> timelines(o.html.empty() ? 0 : protocols.size());
  std::vector<RunMetrics> runs;
  int rc = 0;
  int jobs = std::min(resolve_jobs(o.jobs), static_cast<int>(protocols.size()));
  auto t0 = PhaseStats::Clock::now();
  bool failed = false;
  run_ordered(
      protocols.size(), jobs,
      [&](size_t i) {
        const std::string& p = protocols[i];
        std::string trace;
        if (!o.trace.empty()) trace = o.trace + "." + p;
        CommonOptions po = o;  // per-protocol output files
        po.jobs = jobs;
        if (!o.trace_dat.empty()) po.trace_dat = o.trace_dat + "." + p;
        if (!o.trace_json.empty()) po.trace_json = o.trace_json + "." + p;
        slots[i].status = simulate_one(w, po, p, trace, &slots[i].metrics, &slots[i].timing,
                                       o.html.empty() ? nullptr : &timelines[i]);
      },
      [&](size_t i) {
        Slot& slot = slots[i];
        if (o.stats && slot.timing) g_stats.runs.push_back(*slot.timing);
        const Status& s = slot.status;
        if (s.code() == StatusCode::kInvalidInput || s.code() == StatusCode::kInternal) {
          rc = report(s);
          failed = true;
          return false;
        }
        if (!s.is_ok()) {
          std::fprintf(stderr, "proxysim: %s: %s\n", protocols[i].c_str(), s.message().c_str());
          rc = std::max(rc, s.exit_code());
        }
        runs.push_back(std::move(slot.metrics));
        return true;
      });
  if (jobs > 1) {
    g_stats.jobs = jobs;
    g_stats.parallel_s += PhaseStats::since(t0);
  }
  if (failed) return rc;
  if (int wrc = write_metrics(o, runs, true)) return wrc;
  if (int wrc = write_csv(o, runs, true)) return wrc;
  if (int wrc = write_html(w, o, runs, timelines)) return wrc;
  if (!o.quiet) std::fputs(compare_table(runs).c_str(), stdout);
  return rc;
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
      "with mutexes under plain, priority-inheritance and proxy-execution protocols; it runs "
      "rt-app workloads.\nExit codes: 0 ok, 1 the workload failed (deadlock, unlock of a mutex "
      "not held, DL admission), 2 usage or invalid input, 3 internal error or invariant "
      "violation (stress: a failed run)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "proxysim 0.1");

  CommonOptions run_o, demo_o, val_o;
  std::string run_file, val_file;
  CLI::App* run = app.add_subcommand("run", "simulate an rt-app JSON workload");
  run->add_option("FILE", run_file, "rt-app JSON workload")->required();
  add_common(run, &run_o);
  run->add_option("--rtapp-logs", run_o.rtapp_logs,
                  "write rt-app's per-thread logs (rt-app-<task>-<idx>.log) into DIR, created if "
                  "missing (see docs/rtapp-logs.md)")
      ->type_name("DIR");
  run->add_option("--trace-json", run_o.trace_json,
                  "write a Chrome JSON trace (Perfetto UI, speedscope; see docs/trace.md) to FILE")
      ->type_name("FILE");
  run->add_option("--csv", run_o.csv,
                  "write tasks.csv, cpus.csv, runs.csv and activations.csv into DIR, created if "
                  "missing (columns in docs/metrics.md)")
      ->type_name("DIR");

  CLI::App* validate = app.add_subcommand("validate", "check a workload and print its warnings");
  validate->add_option("FILE", val_file, "rt-app JSON workload")->required();
  validate->add_flag("--rt-app-1.0", val_o.rtapp_1_0, "rt-app 1.0 semantics");

  CommonOptions cmp_o;
  std::string cmp_file, cmp_protocols = "none,pi,proxy";
  CLI::App* compare = app.add_subcommand(
      "compare", "simulate a workload under several protocols and compare them side by side");
  compare->add_option("FILE", cmp_file, "rt-app JSON workload")->required();
  compare
      ->add_option("--protocols", cmp_protocols,
                   "comma-separated protocols (with --trace F, each run writes F.<protocol>)")
      ->default_str("none,pi,proxy");
  add_common(compare, &cmp_o);
  add_jobs(compare, &cmp_o.jobs, "protocols");
  compare
      ->add_option("--trace-json", cmp_o.trace_json,
                   "write each run's Chrome JSON trace to FILE.<protocol>")
      ->type_name("FILE");
  compare
      ->add_option("--csv", cmp_o.csv,
                   "write the CSV files of every run into DIR, with a protocol column")
      ->type_name("DIR");

  StressOptions st;
  uint64_t st_seed = 0;
  std::string st_protocols, st_duration = "0.2";
  CLI::App* stress = app.add_subcommand(
      "stress",
      "run seeded random workloads under every protocol with jitter and the invariant checker");
  stress->add_option("--seeds", st.seeds, "number of seeds (from 1, or from --seed)")
      ->default_str("100");
  stress->add_option("--seed", st_seed, "one seed only (or the first one with --seeds)");
  stress->add_option("--protocols", st_protocols, "comma-separated protocols (default: all)");
  stress->add_option("--time-budget", st.time_budget_s,
                     "stop starting new seeds after this many wall seconds");
  stress->add_option("--inject", st.inject,
                     "switch a historical proxy bug back on: stale-task-cpu, dangling-donor, "
                     "runnable-without-return, activate-livelock");
  stress->add_option("--duration", st_duration, "simulated seconds per run")->default_str("0.2");
  stress->add_option("--jitter", st.jitter, "jitter of cross-CPU latencies, ns")
      ->default_str("20000");
  stress->add_flag("--shrink", st.shrink,
                   "reduce the first failure to a minimal workload and write it as rt-app JSON");
  stress->add_option("--shrink-out", st.shrink_out, "file for the shrunk workload");
  add_jobs(stress, &st.jobs, "seeds");

  CLI::App* demo = app.add_subcommand(
      "demo", "run the built-in priority-inversion scenarios under each protocol and compare");
  add_common(demo, &demo_o);

  AnalyzeOptions an_o;
  CLI::App* analyze = app.add_subcommand(
      "analyze",
      "the same per-task and per-CPU metrics for a real kernel trace (tracefs text "
      "or trace.dat; see docs/analyze.md)");
  analyze->add_option("TRACE", an_o.trace, "tracefs text trace or trace-cmd trace.dat")->required();
  analyze->add_option("--metrics", an_o.metrics, "write metrics JSON to FILE");
  analyze
      ->add_option("--csv", an_o.csv, "write the metrics as CSV files into DIR (see --csv of run)")
      ->type_name("DIR");
  analyze->add_option("--comm", an_o.comm, "show only tasks whose comm matches this regex");
  analyze->add_flag("--strict", an_o.strict,
                    "a partial trace (undecodable records, cut-off end, lost events) is an error");
  analyze->add_flag("--quiet,-q", an_o.quiet, "print no table");

  CaptureOptions cap_o;
  CLI::App* capture = app.add_subcommand(
      "capture",
      "run a workload with rt-app on this kernel and record its scheduler events "
      "(root; private tracefs instance; see docs/analyze.md)");
  capture->add_option("WORKLOAD", cap_o.workload, "rt-app JSON workload")->required();
  capture->add_option("-o,--output", cap_o.out, "tracefs text trace to write")->required();
  capture->add_option("--dat", cap_o.dat, "also write a trace.dat (trace-cmd extract)");
  capture->add_option("--rt-app", cap_o.rtapp, "rt-app binary")->default_str("rt-app");
  capture->add_option("--buffer-kb", cap_o.buffer_kb, "per-CPU trace buffer, KiB")
      ->default_str("16384");

  FidelityOptions fid_o;
  CLI::App* fidelity = app.add_subcommand(
      "fidelity",
      "capture a workload on this kernel, simulate it on as many CPUs and compare "
      "the per-task metrics (root; see docs/fidelity.md)");
  fidelity->add_option("WORKLOAD", fid_o.workload, "rt-app JSON workload")->required();
  fidelity->add_option("--cpus", fid_o.cpus,
                       "CPUs (default: this machine's; fewer runs rt-app "
                       "under taskset)");
  fidelity->add_option("--tolerance", fid_o.tolerance, "flag differences beyond this %")
      ->default_str("10");
  fidelity
      ->add_option("--floor-us", fid_o.floor_us,
                   "never flag time figures that differ by less than this many us")
      ->default_str("200");
  fidelity->add_option("--keep", fid_o.keep, "keep the capture as PREFIX.trace and PREFIX.dat");
  fidelity->add_option("--trace", fid_o.trace, "use this captured trace instead of capturing");
  fidelity->add_option("--run-scale", fid_o.run_scale,
                       "CPU ns per nominal run ns (default: measured from rt-app's markers)");
  fidelity->add_option("--metrics", fid_o.metrics, "write {\"runs\": [kernel, proxysim]} JSON");
  fidelity->add_flag("--markdown", fid_o.markdown, "print the rows as markdown table lines");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*run || *compare) {
    const CommonOptions& o = *run ? run_o : cmp_o;
    auto t0 = PhaseStats::Clock::now();
    Workload w;
    if (int rc = load(*run ? run_file : cmp_file, o, &w)) return rc;
    g_stats.load_s = PhaseStats::since(t0);
    auto t1 = PhaseStats::Clock::now();
    int rc = 0;
    if (*run) {
      rc = run_workload(w, o);
    } else {
      std::vector<std::string> protocols = split_list(cmp_protocols);
      if (protocols.empty()) return report(Status::invalid("--protocols: empty list"));
      rc = compare_workload(w, o, protocols);
    }
    if (o.stats) {
      g_stats.output_s = PhaseStats::since(t1);
      if (g_stats.parallel_s > 0)
        g_stats.output_s -= g_stats.parallel_s;
      else
        for (const PhaseStats::Run& r : g_stats.runs) g_stats.output_s -= r.simulate_s;
      std::fflush(stdout);
      print_stats();
    }
    return rc;
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
  if (*stress) {
    bool one_seed = stress->count("--seed") > 0 && stress->count("--seeds") == 0;
    if (stress->count("--seed")) st.first_seed = st_seed;
    if (one_seed) st.seeds = 1;
    st.protocols = split_list(st_protocols);
    if (!parse_seconds(st_duration, &st.duration))
      return report(Status::invalid("--duration: expected seconds, e.g. 0.2"));
    return run_stress(st, std::cout);
  }
  if (*analyze) return analyze_main(an_o);
  if (*capture) return capture_main(cap_o);
  if (*fidelity) return fidelity_main(fid_o);
  if (*demo) {
    int rc = 0;
    int n = 0;
    for (const DemoScenario& sc : demo_scenarios()) {
      Workload w;
      Status s = load_workload_from_string(sc.json, "demo.json", LoadOptions{}, &w);
      if (!s.is_ok()) return report(s);
      CommonOptions o = demo_o;
      if (o.cpus == 0) o.cpus = sc.cpus;
      o.metrics.clear();
      o.html.clear();
      std::printf("%s== demo %d: %s\n%s\n\n", n ? "\n" : "", n + 1, sc.name, sc.explanation);
      ++n;
      std::fflush(stdout);
      rc = std::max(rc, compare_workload(w, o, sc.protocols));
    }
    return rc;
  }
  return 2;
}
