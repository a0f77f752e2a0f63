// ChromeJsonWriter (--trace-json): schema-style rules of the Trace Event Format as Perfetto UI and
// speedscope need them (required fields per phase, slices nested per track, flows paired,
// counters numeric), checked on several runs, plus content checks on the classic inversion.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "metrics/metrics.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "trace/chrome_json_writer.h"

namespace proxysim {
namespace {

struct JsonRun {
  Status status;
  std::string text;
  RunMetrics metrics;
};

JsonRun run(const std::string& file, int cpus, const std::string& protocol,
            const std::string& costs, Time duration, Time jitter = 0) {
  JsonRun r;
  Workload w;
  r.status = load_workload(file, LoadOptions{}, &w);
  if (!r.status.is_ok()) return r;
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.protocol = protocol;
  opt.duration = duration;
  opt.check = true;
  std::string err;
  EXPECT_TRUE(CostModel::parse(costs, &opt.costs, &err)) << err;
  opt.costs.jitter_max = jitter;
  std::FILE* f = std::tmpfile();
  MetricsCollector metrics;
  ChromeJsonWriter json(f);
  RunStats stats;
  r.status = run_simulation(w, opt, {&metrics, &json}, &stats);
  EXPECT_TRUE(json.close().is_ok());
  std::rewind(f);
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.text.append(buf, n);
  std::fclose(f);
  r.metrics = metrics.result(stats);
  return r;
}

// µs with three decimals -> ns, exactly.
int64_t ns(const rapidjson::Value& v) { return std::llround(v.GetDouble() * 1000.0); }

struct Slice {
  int64_t ts, dur;
  std::string name, cat;
};
using Track = std::pair<int64_t, int64_t>;  // (pid, tid)

using Slices = std::map<Track, std::vector<Slice>>;

// Parses `text` into *out and checks the format's rules; fills *slices_out with the X slices
// per track.
void check_schema_into(const std::string& text, rapidjson::Document* out, Slices* slices_out) {
  rapidjson::Document& d = *out;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << "offset " << d.GetErrorOffset();
  Slices& slices = *slices_out;
  if (d.HasParseError()) return;
  EXPECT_TRUE(d.IsObject());
  EXPECT_STREQ(d["displayTimeUnit"].GetString(), "ns");
  EXPECT_TRUE(d["traceEvents"].IsArray());
  // Flow ends by id: (ph, cat, name, track, ts).
  std::map<int64_t, std::vector<std::tuple<char, std::string, std::string, Track, int64_t>>> flows;
  std::map<Track, int64_t> last_begin;
  int n = 0;
  for (const rapidjson::Value& e : d["traceEvents"].GetArray()) {
    SCOPED_TRACE("event " + std::to_string(n++));
    ASSERT_TRUE(e.IsObject());
    ASSERT_TRUE(e.HasMember("ph") && e["ph"].IsString());
    ASSERT_TRUE(e.HasMember("name") && e["name"].IsString());
    ASSERT_TRUE(e.HasMember("pid") && e["pid"].IsInt64());
    ASSERT_TRUE(e.HasMember("tid") && e["tid"].IsInt64());
    std::string ph = e["ph"].GetString();
    Track track{e["pid"].GetInt64(), e["tid"].GetInt64()};
    if (ph == "M") {
      ASSERT_TRUE(e["args"].IsObject());
      std::string name = e["name"].GetString();
      if (name == "process_name" || name == "thread_name")
        EXPECT_TRUE(e["args"]["name"].IsString());
      else if (name == "process_sort_index" || name == "thread_sort_index")
        EXPECT_TRUE(e["args"]["sort_index"].IsInt64());
      else
        ADD_FAILURE() << "unknown metadata " << name;
      continue;
    }
    ASSERT_TRUE(e.HasMember("ts") && e["ts"].IsNumber());
    int64_t ts = ns(e["ts"]);
    EXPECT_GE(ts, 0);
    if (ph == "X") {
      ASSERT_TRUE(e.HasMember("dur") && e["dur"].IsNumber());
      ASSERT_TRUE(e.HasMember("cat") && e["cat"].IsString());
      ASSERT_TRUE(e["args"].IsObject());
      int64_t dur = ns(e["dur"]);
      EXPECT_GT(dur, 0) << "zero-length slices are not written";
      // Slices are written when they end: per track, in begin order.
      auto it = last_begin.find(track);
      if (it != last_begin.end()) {
        EXPECT_GE(ts, it->second) << e["name"].GetString();
      }
      last_begin[track] = ts;
      slices[track].push_back(Slice{ts, dur, e["name"].GetString(), e["cat"].GetString()});
    } else if (ph == "C") {
      ASSERT_TRUE(e["args"].IsObject());
      EXPECT_GT(e["args"].MemberCount(), 0u);
      for (auto m = e["args"].MemberBegin(); m != e["args"].MemberEnd(); ++m)
        EXPECT_TRUE(m->value.IsNumber()) << m->name.GetString();
    } else if (ph == "s" || ph == "f") {
      ASSERT_TRUE(e.HasMember("id") && e["id"].IsInt64());
      ASSERT_TRUE(e.HasMember("cat") && e["cat"].IsString());
      if (ph == "f") {
        EXPECT_STREQ(e["bp"].GetString(), "e");
      }
      flows[e["id"].GetInt64()].emplace_back(ph[0], e["cat"].GetString(), e["name"].GetString(),
                                             track, ts);
    } else if (ph == "i") {
      ASSERT_TRUE(e.HasMember("s") && e["s"].IsString());
      std::string s = e["s"].GetString();
      EXPECT_TRUE(s == "t" || s == "p" || s == "g") << s;
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  // Nesting: sorted by (begin, longer first), each slice lies inside the enclosing open one or
  // after it (no partial overlap).
  for (auto& [track, v] : slices) {
    std::vector<Slice> s = v;
    std::stable_sort(s.begin(), s.end(), [](const Slice& a, const Slice& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.dur > b.dur;
    });
    std::vector<int64_t> ends;
    for (const Slice& x : s) {
      while (!ends.empty() && ends.back() <= x.ts) ends.pop_back();
      if (!ends.empty()) {
        EXPECT_LE(x.ts + x.dur, ends.back()) << "partial overlap on track " << track.first << "/"
                                             << track.second << ": " << x.name << " at " << x.ts;
      }
      ends.push_back(x.ts + x.dur);
    }
  }
  // Flows: exactly one s and one f with the same cat and name, s not after f, each inside an X
  // slice of its track (what "bp":"e" and the `s` binding need).
  auto enclosed = [&](const Track& t, int64_t ts) {
    for (const Slice& x : slices[t])
      if (x.ts <= ts && ts < x.ts + x.dur) return true;
    return false;
  };
  for (const auto& [id, ends] : flows) {
    SCOPED_TRACE("flow " + std::to_string(id));
    ASSERT_EQ(ends.size(), 2u);
    EXPECT_EQ(std::get<0>(ends[0]), 's');
    EXPECT_EQ(std::get<0>(ends[1]), 'f');
    EXPECT_EQ(std::get<1>(ends[0]), std::get<1>(ends[1]));
    EXPECT_EQ(std::get<2>(ends[0]), std::get<2>(ends[1]));
    EXPECT_LE(std::get<4>(ends[0]), std::get<4>(ends[1]));
    EXPECT_TRUE(enclosed(std::get<3>(ends[0]), std::get<4>(ends[0])));
    EXPECT_TRUE(enclosed(std::get<3>(ends[1]), std::get<4>(ends[1])));
  }
}

Slices check_schema(const std::string& text, rapidjson::Document* out) {
  Slices slices;
  check_schema_into(text, out, &slices);
  return slices;
}

const std::string kScenarios = std::string(PROXYSIM_SOURCE_DIR) + "/tests/scenarios/";
const std::string kExamples = std::string(PROXYSIM_SOURCE_DIR) + "/examples/";
const Track kCpu0{ChromeJsonWriter::kCpusPid, ChromeJsonWriter::kCpuTidBase};

// Counter values of `name` for the task with pid `pid`, as (ts, value) in file order.
std::vector<std::pair<int64_t, int64_t>> counter(const rapidjson::Document& d, int pid,
                                                 const std::string& name) {
  std::vector<std::pair<int64_t, int64_t>> v;
  for (const rapidjson::Value& e : d["traceEvents"].GetArray())
    if (std::string(e["ph"].GetString()) == "C" && e["pid"].GetInt() == pid &&
        name == e["name"].GetString())
      v.emplace_back(ns(e["ts"]), e["args"][name.c_str()].GetInt64());
  return v;
}

// The classic inversion on one CPU with zero costs: low (FIFO 10) takes m at 0 for 10 ms of
// work; high (FIFO 30) wakes at 2 ms and blocks on m; mid (FIFO 20) wakes at 3 ms.
TEST(ChromeJson, ProxyShowsTheOwnerRunningOnTheDonorsContext) {
  JsonRun r = run(kScenarios + "classic-inversion.json", 1, "proxy", "zero", -1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  rapidjson::Document d;
  auto slices = check_schema(r.text, &d);
  // high blocks at 2 ms and donates its context to low until low unlocks at 10 ms: one slice
  // of 8 ms on CPU 0, category "proxy"; mid never preempts it.
  std::vector<Slice> proxy;
  for (const Slice& s : slices[kCpu0])
    if (s.cat == "proxy") proxy.push_back(s);
  ASSERT_EQ(proxy.size(), 1u);
  EXPECT_EQ(proxy[0].name, "low-0 (proxy for high-1)");
  EXPECT_EQ(proxy[0].ts, 2 * kNsPerMs);
  EXPECT_EQ(proxy[0].dur, 8 * kNsPerMs);
  // The CPU track, in order: low 0-2, low for high 2-10, high 10-11, mid 11-61 ms.
  std::vector<std::string> names;
  for (const Slice& s : slices[kCpu0]) names.push_back(s.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"low-0", "low-0 (proxy for high-1)", "high-1", "mid-2"}));
  // The task tracks: low's "proxy for high", high's "donor to low", high's wait of 8 ms.
  const TaskMetrics* low = nullptr;
  const TaskMetrics* high = nullptr;
  for (const TaskMetrics& t : r.metrics.tasks) {
    if (t.name == "low-0") low = &t;
    if (t.name == "high-1") high = &t;
  }
  ASSERT_TRUE(low && high);
  auto has = [&](int pid, const std::string& name, int64_t ts, int64_t dur) {
    for (const auto& [track, v] : slices)
      if (track.first == pid)
        for (const Slice& s : v)
          if (s.name == name && s.ts == ts && s.dur == dur) return true;
    return false;
  };
  EXPECT_TRUE(has(low->pid, "proxy for high-1", 2 * kNsPerMs, 8 * kNsPerMs));
  EXPECT_TRUE(has(high->pid, "donor to low-0", 2 * kNsPerMs, 8 * kNsPerMs));
  EXPECT_TRUE(has(high->pid, "waits m", 2 * kNsPerMs, 8 * kNsPerMs));
  EXPECT_TRUE(has(low->pid, "holds m", 0, 10 * kNsPerMs));
  EXPECT_TRUE(has(high->pid, "holds m", 10 * kNsPerMs, 1 * kNsPerMs));
  // One proxy flow (high's donor slice -> the proxy CPU slice) and the wakeup flows.
  int proxy_flows = 0;
  for (const rapidjson::Value& e : d["traceEvents"].GetArray())
    if (std::string(e["ph"].GetString()) == "f" && std::string(e["cat"].GetString()) == "proxy") {
      ++proxy_flows;
      EXPECT_EQ(ns(e["ts"]), 2 * kNsPerMs);
      EXPECT_EQ(e["tid"].GetInt64(), kCpu0.second);
    }
  EXPECT_EQ(proxy_flows, 1);
  // Proxy execution changes no priority: low's prio counter stays 89.
  EXPECT_EQ(counter(d, low->pid, "prio"), (std::vector<std::pair<int64_t, int64_t>>{{0, 89}}));
}

TEST(ChromeJson, PiShowsTheBoostInThePrioCounter) {
  JsonRun r = run(kScenarios + "classic-inversion.json", 1, "pi", "zero", -1);
  ASSERT_TRUE(r.status.is_ok()) << r.status.message();
  rapidjson::Document d;
  auto slices = check_schema(r.text, &d);
  int low_pid = 0;
  for (const TaskMetrics& t : r.metrics.tasks)
    if (t.name == "low-0") low_pid = t.pid;
  // low runs at 89 (FIFO 10), inherits high's 69 (FIFO 30) when high blocks at 2 ms, and drops
  // back at its unlock at 10 ms.
  EXPECT_EQ(counter(d, low_pid, "prio"), (std::vector<std::pair<int64_t, int64_t>>{
                                             {0, 89}, {2 * kNsPerMs, 69}, {10 * kNsPerMs, 89}}));
  for (const Slice& s : slices[kCpu0]) EXPECT_EQ(s.cat, "sched");  // no proxy slice under PI
}

// Multi-CPU runs with migrations, DEADLINE tasks, jitter and a deadlock pass the rules, and the
// CPU slices of each task add up to its cpu_time_ns.
TEST(ChromeJson, SchemaHoldsOnMixedRunsAndSlicesMatchTheMetrics) {
  struct Case {
    std::string file;
    int cpus;
    std::string protocol;
    Time duration;
    Time jitter;
  };
  for (const Case& c : {Case{kScenarios + "mixed-classes.json", 3, "proxy", kNsPerSec / 2, 5000},
                        Case{kScenarios + "cross-cpu-chain.json", 2, "proxy:full", -1, 0},
                        Case{kScenarios + "cross-cpu-chain.json", 2, "proxy:migrate", -1, 0},
                        Case{kExamples + "deadline-set.json", 2, "none", kNsPerSec / 2, 0},
                        Case{kExamples + "proxy-chain.json", 3, "proxy", kNsPerSec / 2, 0},
                        Case{kScenarios + "abba-deadlock.json", 2, "proxy", -1, 0}}) {
    SCOPED_TRACE(c.file + " " + c.protocol);
    JsonRun r = run(c.file, c.cpus, c.protocol, "default", c.duration, c.jitter);
    ASSERT_TRUE(r.status.is_ok() || !r.metrics.deadlocks.empty()) << r.status.message();
    rapidjson::Document d;
    check_schema(r.text, &d);
    std::map<int64_t, int64_t> cpu_time;  // task pid -> Σ its CPU slices (args.pid)
    for (const rapidjson::Value& e : d["traceEvents"].GetArray())
      if (std::string(e["ph"].GetString()) == "X" &&
          e["pid"].GetInt() == ChromeJsonWriter::kCpusPid)
        cpu_time[e["args"]["pid"].GetInt64()] += ns(e["dur"]);
    for (const TaskMetrics& t : r.metrics.tasks)
      EXPECT_EQ(cpu_time[t.pid], t.cpu_time_ns) << t.name;
  }
}

// DEADLINE tasks get a runtime-left counter, fair tasks a PELT util_avg counter that rises above
// zero for a task that runs (batch: a CPU hog), others neither.
TEST(ChromeJson, RuntimeAndUtilCountersByClass) {
  JsonRun r = run(kScenarios + "mixed-classes.json", 3, "none", "default", kNsPerSec / 5);
  ASSERT_TRUE(r.status.is_ok());
  rapidjson::Document d;
  check_schema(r.text, &d);
  for (const TaskMetrics& t : r.metrics.tasks) {
    SCOPED_TRACE(t.name);
    auto dl = counter(d, t.pid, "dl_runtime_left_ns");
    auto util = counter(d, t.pid, "util_avg");
    EXPECT_EQ(!dl.empty(), t.policy == Policy::kDeadline);
    EXPECT_EQ(!util.empty(), is_fair_policy(t.policy));
    // The budget is 3 ms per 20 ms period: never above it, overrun by at most a tick (4 ms).
    for (const auto& [ts, v] : dl) {
      EXPECT_LE(v, 3 * kNsPerMs) << ts;
      EXPECT_GE(v, -4 * kNsPerMs) << ts;
    }
    if (t.policy == Policy::kDeadline) {
      EXPECT_GT(dl.size(), 2u);
    }
    for (const auto& [ts, v] : util) {
      EXPECT_GE(v, 0);
      EXPECT_LE(v, 1024);
    }
    if (t.name == "batch") {
      ASSERT_FALSE(util.empty());
      EXPECT_GT(util.back().second, 100);
    }
  }
}

TEST(ChromeJson, SameRunGivesTheSameBytes) {
  JsonRun a = run(kScenarios + "mixed-classes.json", 3, "proxy", "default", kNsPerSec / 5, 5000);
  JsonRun b = run(kScenarios + "mixed-classes.json", 3, "proxy", "default", kNsPerSec / 5, 5000);
  EXPECT_GT(a.text.size(), 1000u);
  EXPECT_EQ(a.text, b.text);
}

TEST(ChromeJson, NamesAreEscaped) {
  std::FILE* f = std::tmpfile();
  {
    ChromeJsonWriter w(f);
    TaskRef odd{0, 1000, "a\"b\\c\td", 120, Policy::kNormal};
    w.on_start(RunInfo{1, 1, "none", "x.json"});
    w.on_sched_switch(0, 0, TaskRef{}, SwitchState::kRunnable, odd, odd);
    w.on_finish(1000);
    ASSERT_TRUE(w.close().is_ok());
  }
  std::rewind(f);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  rapidjson::Document d;
  auto slices = check_schema(text, &d);
  ASSERT_EQ(slices[kCpu0].size(), 1u);
  EXPECT_EQ(slices[kCpu0][0].name, "a\"b\\c\td");
  EXPECT_EQ(slices[kCpu0][0].dur, 1000);
}

}  // namespace
}  // namespace proxysim
