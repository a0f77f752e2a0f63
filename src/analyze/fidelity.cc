#include "analyze/fidelity.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "analyze/analyze.h"
#include "analyze/capture.h"
#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"

namespace proxysim {
namespace {

std::string comm_of(const std::string& name) { return name.substr(0, 15); }

// The relative deadline the simulation gives each task's activations (docs/metrics.md): the
// DEADLINE task's dl-deadline, else the period of the first timer of its phases.
std::map<std::string, Time> deadlines(const Workload& w) {
  std::map<std::string, Time> out;
  for (const TaskSpec& t : w.tasks) {
    if (t.sched.policy == Policy::kDeadline && t.sched.dl_deadline > 0) {
      out[comm_of(t.name)] = t.sched.dl_deadline;
      continue;
    }
    for (const Phase& p : t.phases) {
      for (const Event& e : p.events) {
        if (e.kind == EventKind::kTimer && !out.count(comm_of(t.name)))
          out[comm_of(t.name)] = e.duration;
      }
    }
  }
  return out;
}

// CPU time the kernel gave rt-app's `run` events per nominal ns: Σ measured / Σ nominal over
// every "executing <run event>" span of the workload's threads. rt-app's run is a calibrated
// loop count (run µs × 1000 / pLoad), so this is the speed the loop really ran at.
double measure_scale(const Workload& w, const std::vector<EventSpan>& spans, int64_t* n) {
  double cpu = 0, nominal = 0;
  *n = 0;
  for (const EventSpan& s : spans) {
    for (const TaskSpec& t : w.tasks) {
      if (comm_of(t.name) != s.comm) continue;
      if (s.phase < 0 || static_cast<size_t>(s.phase) >= t.phases.size()) continue;
      const Phase& p = t.phases[static_cast<size_t>(s.phase)];
      if (s.event < 0 || static_cast<size_t>(s.event) >= p.events.size()) continue;
      const Event& e = p.events[static_cast<size_t>(s.event)];
      if (e.kind != EventKind::kRun || e.duration <= 0) continue;
      cpu += static_cast<double>(s.cpu_ns);
      nominal += static_cast<double>(e.duration);
      ++*n;
    }
  }
  return nominal > 0 ? cpu / nominal : 1.0;
}

struct Row {
  std::string task, metric, kernel, sim, diff;
  bool flagged = false;
};

std::string fmt_ms(int64_t ns) { return fmt::format("{:.3f}", static_cast<double>(ns) / 1e6); }

}  // namespace

int fidelity_main(const FidelityOptions& opt) {
  Workload w;
  LoadOptions lo;
  lo.rtapp_1_0 = true;  // Debian's rt-app is 1.0
  Status s = load_workload(opt.workload, lo, &w);
  if (!s.is_ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return s.exit_code();
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  int ncpu = opt.cpus > 0 ? opt.cpus : static_cast<int>(online);

  std::string trace = opt.trace;
  std::string tmpdir;
  if (trace.empty()) {
    char tmpl[] = "/tmp/proxysim-fidelity-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 3;
    tmpdir = tmpl;
    CaptureOptions co;
    co.workload = opt.workload;
    co.out = opt.keep.empty() ? tmpdir + "/trace" : opt.keep + ".trace";
    co.dat = opt.keep.empty() ? "" : opt.keep + ".dat";
    if (ncpu < online) co.prefix = {"taskset", "-c", fmt::format("0-{}", ncpu - 1)};
    co.quiet = true;
    CaptureResult cr;
    Status cs = capture_workload(co, &cr);
    if (!cs.is_ok()) {
      std::fprintf(stderr, "proxysim: %s\n", cs.message().c_str());
      std::error_code ec;
      std::filesystem::remove_all(tmpdir, ec);
      return cs.exit_code();
    }
    trace = co.out;
  }
  AnalyzeOptions ao;
  ao.trace = trace;
  ao.deadline_by_comm = deadlines(w);
  AnalyzeResult ar;
  s = analyze_trace(ao, &ar);
  if (!tmpdir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(tmpdir, ec);
  }
  if (!s.is_ok()) {
    std::fprintf(stderr, "proxysim: %s\n", s.message().c_str());
    return s.exit_code();
  }

  int64_t nspans = 0;
  double scale = opt.run_scale > 0 ? opt.run_scale : measure_scale(w, ar.report.spans, &nspans);
  Workload ws = w;
  int64_t ppm = std::llround(scale * 1e6);
  for (TaskSpec& t : ws.tasks)
    for (Phase& p : t.phases)
      for (Event& e : p.events)
        if (e.kind == EventKind::kRun) e.duration = e.duration * ppm / 1000000;
  SimOptions so;
  so.nr_cpus = ncpu;
  so.protocol = w.pi_enabled ? "pi" : "none";
  MetricsCollector mc;
  std::vector<Observer*> obs{&mc};
  RunStats st;
  Status ss = run_simulation(ws, so, obs, &st);
  RunMetrics sim = mc.result(st);
  if (!ss.is_ok() && ss.code() != StatusCode::kWorkloadFailed) {
    std::fprintf(stderr, "proxysim: simulation: %s\n", ss.message().c_str());
    return ss.exit_code();
  }
  RunMetrics& kern = ar.metrics;
  sim.protocol = "proxysim:" + so.protocol;

  // Rows: per workload task (matched by comm), the metrics both sides measure.
  std::vector<Row> rows;
  Time kern_workload_cpu = 0;
  const double tol = opt.tolerance / 100.0;
  auto add = [&](const std::string& task, const std::string& metric, int64_t k, int64_t v,
                 bool time) {
    Row r;
    r.task = task;
    r.metric = metric;
    r.kernel = time ? fmt_ms(k) : std::to_string(k);
    r.sim = time ? fmt_ms(v) : std::to_string(v);
    int64_t floor = time ? opt.floor_us * kNsPerUs : 1;
    if (v != 0) {
      double d = static_cast<double>(k - v) / static_cast<double>(v);
      r.diff = fmt::format("{:+.1f} %", d * 100);
      r.flagged = std::fabs(d) > tol && std::llabs(k - v) > floor;
    } else {
      r.diff = k == 0 ? "0 %" : "n/a";
      r.flagged = std::llabs(k - v) > floor;
    }
    rows.push_back(r);
  };
  std::vector<std::string> names;
  for (const TaskSpec& t : w.tasks) names.push_back(comm_of(t.name));
  for (const std::string& n : names) {
    const TaskMetrics* k = nullptr;
    const TaskMetrics* v = nullptr;
    for (const TaskMetrics& t : kern.tasks)
      if (t.name == n && (k == nullptr || t.cpu_time_ns > k->cpu_time_ns)) k = &t;
    for (const TaskMetrics& t : sim.tasks)
      if (t.name.substr(0, 15) == n && v == nullptr) v = &t;
    if (k == nullptr || v == nullptr) {
      Row r;
      r.task = n;
      r.metric = "present";
      r.kernel = k ? "yes" : "no";
      r.sim = v ? "yes" : "no";
      r.diff = "-";
      r.flagged = true;
      rows.push_back(r);
      continue;
    }
    kern_workload_cpu += k->cpu_time_ns;
    add(n, "cpu ms", k->cpu_time_ns, v->cpu_time_ns, true);
    if (k->activations > 0 || v->activations > 0) {
      add(n, "activations", k->activations, v->activations, false);
      add(n, "resp p50 ms", k->response_ns.p50, v->response_ns.p50, true);
      add(n, "resp p99 ms", k->response_ns.p99, v->response_ns.p99, true);
      add(n, "resp max ms", k->response_ns.max, v->response_ns.max, true);
      if (ao.deadline_by_comm.count(n))
        add(n, "deadline misses", k->deadline_misses, v->deadline_misses, false);
    }
    add(n, "wake p50 ms", k->wakeup_latency_ns.p50, v->wakeup_latency_ns.p50, true);
    add(n, "preempted", k->switches_involuntary, v->switches_involuntary, false);
    add(n, "migrations", k->migrations_total, v->migrations_total, false);
  }

  // What the simulation cannot know, measured where the trace shows it.
  Time busy = 0;
  for (const CpuMetrics& c : kern.cpus) busy += c.busy_ns;
  Time other = busy - kern_workload_cpu - ar.report.untraced_ns;
  struct utsname u;
  uname(&u);
  std::string bw = std::filesystem::path(opt.workload).filename().string();
  int nflag = 0;
  for (const Row& r : rows) nflag += r.flagged;

  if (opt.markdown) {
    for (const Row& r : rows)
      std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", bw.c_str(), r.task.c_str(),
                  r.metric.c_str(), r.kernel.c_str(), r.sim.c_str(), r.diff.c_str(),
                  r.flagged ? "**>tol**" : "");
  } else {
    std::printf("fidelity %s: kernel %s (%s), %d CPUs; proxysim --protocol %s, same CPUs\n",
                opt.workload.c_str(), u.release, u.machine, ncpu, so.protocol.c_str());
    std::printf(
        "rt-app run calibration: the kernel ran `run` loops at %.3f ns of CPU per nominal "
        "ns (%s); the simulation's run events are scaled by it\n",
        scale,
        opt.run_scale > 0 ? "given with --run-scale"
                          : fmt::format("measured over {} run events", nspans).c_str());
    size_t wt = 4, wm = 6, wk = 6, wv = 8;
    for (const Row& r : rows) {
      wt = std::max(wt, r.task.size());
      wm = std::max(wm, r.metric.size());
      wk = std::max(wk, r.kernel.size());
      wv = std::max(wv, r.sim.size());
    }
    std::printf("\n%-*s  %-*s  %*s  %*s  %9s\n", static_cast<int>(wt), "task", static_cast<int>(wm),
                "metric", static_cast<int>(wk), "kernel", static_cast<int>(wv), "proxysim", "diff");
    for (const Row& r : rows)
      std::printf("%-*s  %-*s  %*s  %*s  %9s%s\n", static_cast<int>(wt), r.task.c_str(),
                  static_cast<int>(wm), r.metric.c_str(), static_cast<int>(wk), r.kernel.c_str(),
                  static_cast<int>(wv), r.sim.c_str(), r.diff.c_str(),
                  r.flagged ? "  <-- beyond tolerance" : "");
    std::printf(
        "\n%d of %zu figures differ by more than %.0f %% (and %lld us / 1 count).\n"
        "diff = (kernel - proxysim) / proxysim.\n\n"
        "What the simulation cannot know (it models only the workload's threads):\n"
        "  - other processes: they ran %s ms of CPU time during the capture (%.1f %% of the "
        "traced CPU time); rt-app's main thread and start-up are among them;\n"
        "  - untraced time (events whose task the switches do not explain): %s ms;\n"
        "  - CPU frequency changes, SMT siblings and a hypervisor's steal time: only visible as "
        "the run calibration above (%.3f);\n"
        "  - timer and interrupt latency, RT throttling (sched_rt_runtime_us) and kernel "
        "threads.\n%s",
        nflag, rows.size(), opt.tolerance, static_cast<long long>(opt.floor_us),
        fmt_ms(other).c_str(),
        busy > 0 ? 100.0 * static_cast<double>(other) / static_cast<double>(busy) : 0.0,
        fmt_ms(ar.report.untraced_ns).c_str(), scale, ar.notes.c_str());
  }
  if (!opt.metrics.empty()) {
    std::ofstream f(opt.metrics, std::ios::binary);
    JsonOptions jo;
    jo.wall = false;
    f << metrics_json(std::vector<RunMetrics>{kern, sim}, jo);
  }
  return 0;
}

}  // namespace proxysim
