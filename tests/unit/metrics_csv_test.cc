// --csv: the CSV files hold the same numbers as the metrics JSON. Both are parsed here (RapidJSON,
// and a small RFC 4180 reader) and compared field by field, column name = JSON path; the
// per-activation rows are checked against the task's response distribution and miss count.
#include "metrics/metrics_csv.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "proxysim/loader.h"
#include "proxysim/sim.h"

namespace proxysim {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::string>;

// RFC 4180: fields separated by ',', records by '\n' (or "\r\n"), a quoted field may hold ',',
// '\n' and '""' for one '"'. Fails the test on a malformed input.
std::vector<Row> parse_csv(const std::string& text) {
  std::vector<Row> rows;
  Row row;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      EXPECT_TRUE(field.empty() && !was_quoted) << "quote inside an unquoted field at " << i;
      quoted = was_quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      was_quoted = false;
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      was_quoted = false;
    } else {
      EXPECT_FALSE(was_quoted) << "text after a closing quote at " << i;
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(row.empty() && field.empty()) << "last line without a newline";
  for (const Row& r : rows) EXPECT_EQ(r.size(), rows.front().size()) << "ragged row";
  return rows;
}

int64_t to_int(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  EXPECT_TRUE(ec == std::errc() && p == s.data() + s.size()) << "not an integer: '" << s << "'";
  return v;
}

// The value at dotted `path` ("response_ns.p99") of object `o`.
const rapidjson::Value* at_path(const rapidjson::Value& o, const std::string& path) {
  const rapidjson::Value* v = &o;
  std::istringstream in(path);
  for (std::string part; std::getline(in, part, '.');) {
    if (!v->IsObject() || !v->HasMember(part.c_str())) return nullptr;
    v = &(*v)[part.c_str()];
  }
  return v;
}

// Every column of every row equals the JSON value at that path in the matching array element.
// `rows` (header first) hold the rows of one run; the protocol column is compared with the run.
void expect_rows_match(const std::vector<Row>& rows, const rapidjson::Value& run,
                       const char* array) {
  ASSERT_FALSE(rows.empty());
  const Row& header = rows.front();
  const rapidjson::Value& items = run[array];
  ASSERT_EQ(rows.size() - 1, items.Size()) << array;
  int compared = 0;
  for (size_t r = 1; r < rows.size(); ++r) {
    for (size_t c = 0; c < header.size(); ++c) {
      SCOPED_TRACE(std::string(array) + " row " + std::to_string(r) + " column " + header[c]);
      if (header[c] == "protocol") {
        EXPECT_EQ(rows[r][c], run["protocol"].GetString());
        continue;
      }
      const rapidjson::Value* v =
          at_path(items[static_cast<rapidjson::SizeType>(r - 1)], header[c]);
      ASSERT_NE(v, nullptr) << "no JSON field " << header[c];
      if (v->IsString())
        EXPECT_EQ(rows[r][c], v->GetString());
      else
        EXPECT_EQ(to_int(rows[r][c]), v->GetInt64());
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
}

// Every JSON leaf of a task (but none of a distribution left out by design) has a column.
void expect_all_task_fields(const Row& header, const rapidjson::Value& task,
                            const std::string& prefix = "") {
  for (auto m = task.MemberBegin(); m != task.MemberEnd(); ++m) {
    std::string path = prefix + m->name.GetString();
    if (m->value.IsObject()) {
      expect_all_task_fields(header, m->value, path + ".");
      continue;
    }
    EXPECT_NE(std::find(header.begin(), header.end(), path), header.end())
        << "tasks.csv lacks " << path;
  }
}

// The rows of `rows` (header first) whose protocol column is `protocol`, header kept.
std::vector<Row> rows_of(const std::vector<Row>& rows, const std::string& protocol) {
  std::vector<Row> out{rows.front()};
  for (size_t r = 1; r < rows.size(); ++r)
    if (rows[r][0] == protocol) out.push_back(rows[r]);
  return out;
}

size_t column(const Row& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  EXPECT_NE(it, header.end()) << name;
  return static_cast<size_t>(it - header.begin());
}

// Per-activation rows agree with the task's JSON: count, response distribution, misses.
void expect_activations_match(const std::vector<Row>& rows, const rapidjson::Value& run) {
  const Row& h = rows.front();
  size_t pid_c = column(h, "pid"), start_c = column(h, "start_ns"), end_c = column(h, "end_ns"),
         resp_c = column(h, "response_ns"), dl_c = column(h, "deadline_ns"),
         miss_c = column(h, "missed"), task_c = column(h, "task");
  for (const rapidjson::Value& t : run["tasks"].GetArray()) {
    SCOPED_TRACE(t["name"].GetString());
    std::vector<int64_t> resp;
    int64_t misses = 0;
    for (size_t r = 1; r < rows.size(); ++r) {
      if (to_int(rows[r][pid_c]) != t["pid"].GetInt64()) continue;
      EXPECT_EQ(rows[r][task_c], t["name"].GetString());
      int64_t start = to_int(rows[r][start_c]), end = to_int(rows[r][end_c]);
      EXPECT_EQ(to_int(rows[r][resp_c]), end - start);
      resp.push_back(end - start);
      bool missed = !rows[r][dl_c].empty() && end > to_int(rows[r][dl_c]);
      EXPECT_EQ(to_int(rows[r][miss_c]), missed ? 1 : 0);
      misses += missed;
    }
    EXPECT_EQ(static_cast<int64_t>(resp.size()), t["activations"].GetInt64());
    EXPECT_EQ(misses, t["deadline_misses"].GetInt64());
    Distribution d = summarize(resp);
    const rapidjson::Value& j = t["response_ns"];
    EXPECT_EQ(d.min, j["min"].GetInt64());
    EXPECT_EQ(d.mean, j["mean"].GetInt64());
    EXPECT_EQ(d.p50, j["p50"].GetInt64());
    EXPECT_EQ(d.p99, j["p99"].GetInt64());
    EXPECT_EQ(d.max, j["max"].GetInt64());
  }
}

RunMetrics simulate(const std::string& file, int cpus, const std::string& protocol,
                    const std::string& costs, Time duration) {
  Workload w;
  Status s = load_workload(file, LoadOptions{}, &w);
  EXPECT_TRUE(s.is_ok()) << s.message();
  SimOptions opt;
  opt.nr_cpus = cpus;
  opt.protocol = protocol;
  opt.duration = duration;
  opt.check = true;
  std::string err;
  EXPECT_TRUE(CostModel::parse(costs, &opt.costs, &err)) << err;
  MetricsCollector m;
  m.keep_activations(true);
  RunStats stats;
  s = run_simulation(w, opt, {&m}, &stats);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return m.result(stats);
}

void expect_round_trip(const std::vector<RunMetrics>& runs, bool several) {
  rapidjson::Document doc;
  std::string json = several ? metrics_json(runs, JsonOptions{false})
                             : metrics_json(runs.front(), JsonOptions{false});
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError());
  std::vector<Row> tasks = parse_csv(tasks_csv(runs, several));
  std::vector<Row> cpus = parse_csv(cpus_csv(runs, several));
  std::vector<Row> acts = parse_csv(activations_csv(runs, several));
  std::vector<Row> run_rows = parse_csv(runs_csv(runs));
  ASSERT_EQ(run_rows.size(), runs.size() + 1);
  for (size_t i = 0; i < runs.size(); ++i) {
    const rapidjson::Value& run = several ? doc["runs"][static_cast<rapidjson::SizeType>(i)]
                                          : static_cast<const rapidjson::Value&>(doc);
    std::string protocol = run["protocol"].GetString();
    SCOPED_TRACE(protocol);
    // runs.csv: one row per run, every column a run-level JSON field except `deadlocks`,
    // which is the length of the JSON array.
    const Row& h = run_rows.front();
    for (size_t c = 0; c < h.size(); ++c) {
      const std::string& cell = run_rows[i + 1][c];
      if (h[c] == "protocol")
        EXPECT_EQ(cell, protocol);
      else if (h[c] == "deadlocks")
        EXPECT_EQ(to_int(cell), static_cast<int64_t>(run["deadlocks"].Size()));
      else
        EXPECT_EQ(to_int(cell), run[h[c].c_str()].GetInt64()) << h[c];
    }
    expect_all_task_fields(tasks.front(), run["tasks"][0]);
    expect_rows_match(several ? rows_of(tasks, protocol) : tasks, run, "tasks");
    expect_rows_match(several ? rows_of(cpus, protocol) : cpus, run, "cpus");
    expect_activations_match(several ? rows_of(acts, protocol) : acts, run);
  }
  if (!several) {
    EXPECT_EQ(tasks.front().front(), "name");  // no protocol column for one run
    EXPECT_EQ(acts.front().front(), "task");
  }
}

const std::string kScenarios = std::string(PROXYSIM_SOURCE_DIR) + "/tests/scenarios/";
const std::string kExamples = std::string(PROXYSIM_SOURCE_DIR) + "/examples/";

TEST(MetricsCsv, FieldQuotingFollowsRfc4180) {
  EXPECT_EQ(csv_field("low"), "low");
  EXPECT_EQ(csv_field("a b;c"), "a b;c");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field(""), "");
  std::vector<Row> rows = parse_csv("a," + csv_field("x,\"y\"\nz") + ",c\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{"a", "x,\"y\"\nz", "c"}));
}

TEST(MetricsCsv, CompareRunsRoundTripIntoTheMetricsJson) {
  std::vector<RunMetrics> runs;
  for (const char* p : {"none", "pi", "proxy"})
    runs.push_back(simulate(kScenarios + "classic-inversion.json", 1, p, "zero", -1));
  expect_round_trip(runs, true);
  // The inversion itself shows in the CSV: under proxy, low ran 8 ms on high's context
  // (high blocks at 2 ms, low's remaining 8 ms of its 10 ms section run as its proxy).
  std::vector<Row> tasks = parse_csv(tasks_csv(runs, true));
  size_t proxy_c = column(tasks.front(), "proxy_ns");
  bool found = false;
  for (const Row& r : tasks)
    if (r[0] == "proxy" && r[1] == "low-0") {
      EXPECT_EQ(r[proxy_c], "8000000");
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST(MetricsCsv, DeadlineAndMultiCpuRunsRoundTrip) {
  // Deadlines and misses, several CPUs, migrations, default costs.
  expect_round_trip(
      {simulate(kExamples + "deadline-set.json", 2, "none", "default", kNsPerSec / 2)}, false);
  expect_round_trip(
      {simulate(kScenarios + "mixed-classes.json", 3, "proxy", "default", kNsPerSec / 2)}, false);
  expect_round_trip({simulate(kExamples + "periodic-rt.json", 2, "pi", "default", kNsPerSec)},
                    false);
}

TEST(MetricsCsv, DeadlineColumnIsEmptyWithoutDeadline) {
  RunMetrics r = simulate(kScenarios + "classic-inversion.json", 1, "none", "zero", -1);
  std::vector<Row> acts = parse_csv(activations_csv({r}, false));
  size_t dl = column(acts.front(), "deadline_ns");
  ASSERT_GT(acts.size(), 1u);
  for (size_t i = 1; i < acts.size(); ++i) EXPECT_EQ(acts[i][dl], "");
}

TEST(MetricsCsv, CliWritesTheFourFiles) {
  char tmpl[] = "/tmp/proxysim-csv-XXXXXX";
  const char* base = mkdtemp(tmpl);
  ASSERT_NE(base, nullptr);
  const std::string dir = std::string(base) + "/out";
  const std::string json = std::string(base) + "/m.json";
  std::string cmd = std::string(PROXYSIM_BINARY) + " compare " + kScenarios +
                    "classic-inversion.json --cpus 1 --costs zero --protocols none,proxy -q "
                    "--no-wall --metrics " +
                    json + " --csv " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto slurp = [](const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  rapidjson::Document doc;
  doc.Parse(slurp(json).c_str());
  ASSERT_FALSE(doc.HasParseError());
  std::vector<Row> tasks = parse_csv(slurp(dir + "/tasks.csv"));
  std::vector<Row> cpus = parse_csv(slurp(dir + "/cpus.csv"));
  std::vector<Row> acts = parse_csv(slurp(dir + "/activations.csv"));
  EXPECT_EQ(parse_csv(slurp(dir + "/runs.csv")).size(), 3u);
  ASSERT_EQ(doc["runs"].Size(), 2u);
  for (const rapidjson::Value& run : doc["runs"].GetArray()) {
    std::string protocol = run["protocol"].GetString();
    expect_rows_match(rows_of(tasks, protocol), run, "tasks");
    expect_rows_match(rows_of(cpus, protocol), run, "cpus");
    expect_activations_match(rows_of(acts, protocol), run);
  }
  fs::remove_all(base);
}

}  // namespace
}  // namespace proxysim
