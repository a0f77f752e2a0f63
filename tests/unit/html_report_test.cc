// TimelineCollector and the HTML report: hand-derived timelines of small scenarios, agreement
// with MetricsCollector, determinism and escaping. The page itself is tested in headless
// Chromium by tests/browser/ (make test-browser).
#include "report/html_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "report/timeline.h"

namespace proxysim {
namespace {

constexpr Time kMs = kNsPerMs;

// tests/scenarios/classic-inversion.json.
const char* kClassicInversion = R"({ "global": { "duration": 1 },
  "tasks": {
    "low":  { "policy": "SCHED_FIFO", "priority": 10, "loop": 1, "lock": "m", "run": 10000,
              "unlock": "m" },
    "high": { "policy": "SCHED_FIFO", "priority": 30, "delay": 2000, "loop": 1, "lock": "m",
              "run": 1000, "unlock": "m" },
    "mid":  { "policy": "SCHED_FIFO", "priority": 20, "delay": 3000, "loop": 1,
              "run": 50000 } } })";

// A 3-CPU mix with locks, migrations and jitter (1 s), for the agreement checks.
const char* kMix = R"({ "global": { "duration": 1 },
  "tasks": {
    "rt": { "instance": 3, "policy": "SCHED_FIFO", "priority": 40, "run": 300, "lock": "a",
            "run1": 200, "unlock": "a", "timer": { "ref": "unique", "period": 3000 } },
    "fair": { "instance": 5, "run": 900, "lock": "a", "run1": 400, "unlock": "a",
              "lock1": "b", "run2": 100, "unlock1": "b", "sleep": 2000 },
    "hog": { "instance": 2, "run": 20000, "sleep": 5000 } } })";

struct SimRun {
  Status status;
  RunMetrics metrics;
  Timeline timeline;
};

SimRun simulate(const char* json, int cpus, const std::string& protocol, bool zero_costs,
                Time jitter = 0) {
  SimRun r;
  Workload w;
  r.status = load_workload_from_string(json, "test.json", LoadOptions{}, &w);
  if (!r.status.is_ok()) return r;
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.protocol = protocol;
  opt.check = true;
  if (zero_costs) opt.costs = CostModel::zero();
  opt.costs.jitter_max = jitter;
  MetricsCollector metrics;
  TimelineCollector timeline;
  RunStats stats;
  r.status = run_simulation(w, opt, {&metrics, &timeline}, &stats);
  r.metrics = metrics.result(stats);
  r.timeline = timeline.take();
  return r;
}

int id_of(const Timeline& tl, const std::string& name) {
  for (const TimelineTask& t : tl.tasks)
    if (t.name == name) return t.id;
  ADD_FAILURE() << "no task " << name;
  return -2;
}

TEST(Timeline, ClassicInversionUnderProxy) {
  SimRun r = simulate(kClassicInversion, 1, "proxy", /*zero_costs=*/true);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  const Timeline& tl = r.timeline;
  int low = id_of(tl, "low-0"), high = id_of(tl, "high-1"), mid = id_of(tl, "mid-2");
  ASSERT_EQ(tl.cpus.size(), 1u);
  // Zero costs, one CPU: low runs from 0 and takes m; high arrives at 2 ms, blocks on m and,
  // being the highest, is picked as donor: low runs on high's context until it has run its
  // 10 ms (at 10 ms) and unlocks, handing m to high, which preempts it on the way back from the
  // unlock. high then runs 1 ms (to 11 ms) and exits; mid, woken at 3 ms, runs its 50 ms from
  // 11 to 61 ms; low then finishes its iteration (no work left) and exits at 61 ms (a
  // zero-length run, which the timeline leaves out). Each slice ends as its switch-out says.
  const std::vector<Slice> want = {
      {0, 2 * kMs, low, low, 89, SliceEnd::kRunnable},
      {2 * kMs, 10 * kMs, low, high, 89, SliceEnd::kRunnable},
      {10 * kMs, 11 * kMs, high, high, 69, SliceEnd::kDead},
      {11 * kMs, 61 * kMs, mid, mid, 79, SliceEnd::kDead},
  };
  ASSERT_EQ(tl.cpus[0].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Slice& s = tl.cpus[0][i];
    SCOPED_TRACE(i);
    EXPECT_EQ(s.start, want[i].start);
    EXPECT_EQ(s.end, want[i].end);
    EXPECT_EQ(s.task, want[i].task);
    EXPECT_EQ(s.donor, want[i].donor);
    EXPECT_EQ(s.prio, want[i].prio);
    EXPECT_EQ(s.how, want[i].how);
  }
  // Bands, by (task, start): low holds m 0-10 ms; high waits 2-10 ms, then holds 10-11 ms.
  ASSERT_EQ(tl.bands.size(), 3u);
  EXPECT_EQ(tl.bands[0].task, low);
  EXPECT_EQ(tl.bands[0].kind, LockBand::kHold);
  EXPECT_EQ(tl.bands[0].start, 0);
  EXPECT_EQ(tl.bands[0].end, 10 * kMs);
  EXPECT_EQ(tl.bands[1].task, high);
  EXPECT_EQ(tl.bands[1].kind, LockBand::kWait);
  EXPECT_EQ(tl.bands[1].start, 2 * kMs);
  EXPECT_EQ(tl.bands[1].end, 10 * kMs);
  EXPECT_EQ(tl.bands[2].kind, LockBand::kHold);
  EXPECT_EQ(tl.bands[2].start, 10 * kMs);
  EXPECT_EQ(tl.bands[2].end, 11 * kMs);
  ASSERT_EQ(tl.locks.size(), 1u);
  EXPECT_EQ(tl.locks[0], "m");
  EXPECT_TRUE(tl.migrations.empty());
  EXPECT_EQ(tl.end, 61 * kMs);
  // Response times: low 61 ms (0 -> 61), high 9 ms (2 -> 11), mid 58 ms (3 -> 61).
  EXPECT_EQ(tl.tasks[static_cast<size_t>(low)].response, std::vector<int64_t>{61 * kMs});
  EXPECT_EQ(tl.tasks[static_cast<size_t>(high)].response, std::vector<int64_t>{9 * kMs});
  EXPECT_EQ(tl.tasks[static_cast<size_t>(mid)].response, std::vector<int64_t>{58 * kMs});
}

TEST(Timeline, PiBoostSplitsTheSliceByPrio) {
  SimRun r = simulate(kClassicInversion, 1, "pi", /*zero_costs=*/true);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  const Timeline& tl = r.timeline;
  int low = id_of(tl, "low-0");
  // Under PI, low is boosted to high's prio 69 while high waits (2 -> 10 ms): its own context,
  // its slice split at the boost. No slice has another donor.
  bool boosted = false;
  for (const Slice& s : tl.cpus[0]) {
    EXPECT_EQ(s.donor, s.task);
    if (s.task == low && s.start == 2 * kMs) {
      boosted = true;
      EXPECT_EQ(s.prio, 69);
      EXPECT_EQ(s.end, 10 * kMs);
    }
  }
  EXPECT_TRUE(boosted);
}

// Everything the report shows agrees with the metrics: CPU time per task is the sum of its
// slices, proxy time the sum of its slices on another context, and the latency and response
// samples summarise to the metrics' distributions.
TEST(Timeline, AgreesWithMetrics) {
  for (const char* protocol : {"none", "pi", "proxy:migrate", "proxy"}) {
    SCOPED_TRACE(protocol);
    SimRun r = simulate(kMix, 3, protocol, /*zero_costs=*/false, /*jitter=*/20000);
    ASSERT_TRUE(r.status.is_ok()) << r.status.message();
    const Timeline& tl = r.timeline;
    std::vector<Time> cpu(tl.tasks.size()), proxy(tl.tasks.size()), donated(tl.tasks.size());
    for (const std::vector<Slice>& slices : tl.cpus) {
      Time prev_end = 0;
      for (const Slice& s : slices) {
        ASSERT_GE(s.start, prev_end);
        ASSERT_LT(s.start, s.end);
        prev_end = s.end;
        cpu[static_cast<size_t>(s.task)] += s.end - s.start;
        if (s.donor != s.task) {
          proxy[static_cast<size_t>(s.task)] += s.end - s.start;
          donated[static_cast<size_t>(s.donor)] += s.end - s.start;
        }
      }
    }
    int64_t migrations = 0;
    for (const TaskMetrics& m : r.metrics.tasks) {
      size_t i = static_cast<size_t>(m.id);
      SCOPED_TRACE(m.name);
      EXPECT_EQ(cpu[i], m.cpu_time_ns);
      EXPECT_EQ(proxy[i], m.proxy_ns);
      EXPECT_EQ(donated[i], m.donated_ns);
      Distribution wl = summarize(tl.tasks[i].wakeup_latency);
      EXPECT_EQ(wl.count, m.wakeup_latency_ns.count);
      EXPECT_EQ(wl.mean, m.wakeup_latency_ns.mean);
      EXPECT_EQ(wl.p99, m.wakeup_latency_ns.p99);
      EXPECT_EQ(wl.max, m.wakeup_latency_ns.max);
      Distribution rt = summarize(tl.tasks[i].response);
      EXPECT_EQ(rt.count, m.activations);
      EXPECT_EQ(rt.p50, m.response_ns.p50);
      EXPECT_EQ(rt.max, m.response_ns.max);
      migrations += m.migrations_total;
    }
    EXPECT_EQ(static_cast<int64_t>(tl.migrations.size()), migrations);
    EXPECT_GT(migrations, 0);
    if (std::string(protocol) == "proxy") {
      EXPECT_GT(
          r.metrics.cpus[0].proxy_ns + r.metrics.cpus[1].proxy_ns + r.metrics.cpus[2].proxy_ns, 0);
    }
  }
}

TEST(HtmlReport, DeterministicAndSelfContained) {
  SimRun a = simulate(kMix, 3, "proxy", false, 20000);
  SimRun b = simulate(kMix, 3, "proxy", false, 20000);
  ASSERT_TRUE(a.status.is_ok() && b.status.is_ok());
  std::string ha = html_report({ReportRun{a.metrics, a.timeline}}, ReportInfo{"mix.json", 1});
  std::string hb = html_report({ReportRun{b.metrics, b.timeline}}, ReportInfo{"mix.json", 1});
  EXPECT_EQ(ha, hb);
  EXPECT_EQ(ha.rfind("<!DOCTYPE html>", 0), 0u);
  // Nothing is loaded from anywhere: no external script, style sheet or URL.
  EXPECT_EQ(ha.find("src="), std::string::npos);
  EXPECT_EQ(ha.find("href="), std::string::npos);
  EXPECT_EQ(ha.find("http"), std::string::npos);
  EXPECT_NE(ha.find("id=\"proxysim-data\""), std::string::npos);
}

TEST(HtmlReport, DataIsEscapedForTheScriptElement) {
  Timeline tl;
  tl.protocol = "none";
  tl.nr_cpus = 1;
  tl.end = 5;
  TimelineTask t;
  t.id = 0;
  t.name = "a</script>\"&";
  tl.tasks.push_back(t);
  tl.cpus.push_back({Slice{1, 3, 0, 0, 120, SliceEnd::kRunEnd}});
  RunMetrics m;
  std::string json = report_data_json({ReportRun{m, tl}}, ReportInfo{"<w>.json", 7});
  EXPECT_NE(json.find(R"("name":"a\u003c/script\u003e\"\u0026")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("workload":"\u003cw\u003e.json","seed":7)"), std::string::npos);
  // The slice: gap 1 from 0, duration 2, task 0, donor 0, prio 120, end kind 5.
  EXPECT_NE(json.find(R"("cpus":[[1,2,0,0,120,5]])"), std::string::npos) << json;
  std::string html = html_report({ReportRun{m, tl}}, ReportInfo{"<w>.json", 7});
  EXPECT_NE(html.find("<title>proxysim: &lt;w&gt;.json (none)</title>"), std::string::npos);
}

TEST(HtmlReport, LargeDistributionsKeepQuantiles) {
  Timeline tl;
  tl.protocol = "none";
  TimelineTask t;
  t.id = 0;
  t.name = "t";
  // 4000 samples 1..4000 (ns): more than kReportQuantiles = 2000, so the minimum and the 2000
  // nearest-rank quantiles ceil(i * 4000 / 2000) = 2i are kept: 1, 2, 4, ..., 4000, coded as
  // 1 then steps 1, 2, 2, ..., 2.
  for (int64_t v = 4000; v >= 1; --v) t.response.push_back(v);
  tl.tasks.push_back(t);
  std::string json = report_data_json({ReportRun{RunMetrics{}, tl}}, ReportInfo{});
  size_t at = json.find(
      R"("rt":{"n":4000,"min":1,"mean":2001,"p50":2000,"p99":3960,"max":4000,"q":[1,1,2,2,)");
  ASSERT_NE(at, std::string::npos) << json.substr(0, 400);
  size_t q = json.find("\"q\":[", at) + 5;
  size_t end = json.find(']', q);
  std::string list = json.substr(q, end - q);
  EXPECT_EQ(std::count(list.begin(), list.end(), ','), 2000);  // 2001 values
}

}  // namespace
}  // namespace proxysim
