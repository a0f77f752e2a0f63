// The "global" object of rt-app workloads (rt-app_parse_config.c parse_global).
#include <strings.h>

#include <algorithm>

#include "workload/loader_internal.h"

namespace proxysim::workload {

bool read_policy(Loader& l, const Field& f, Policy* out) {
  std::string s;
  if (!read_string(f, l.diag, &s)) return false;
  if (!parse_policy(s, out)) {
    l.diag->error(f.value->pos, f.path,
                  "unknown policy " + json::quote(s) +
                      " (expected SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_FIFO, SCHED_RR or "
                      "SCHED_DEADLINE)");
    return false;
  }
  if (l.opt.rtapp_1_0 && (*out == Policy::kBatch || *out == Policy::kIdle)) {
    l.diag->error(f.value->pos, f.path,
                  "policy " + s +
                      " is unknown to rt-app 1.0 (it accepts SCHED_OTHER, SCHED_FIFO, SCHED_RR or "
                      "SCHED_DEADLINE)");
    return false;
  }
  return true;
}

namespace {

void global_duration(Loader& l, const Field& f) {
  int64_t s = 0;
  if (!read_int(f, l.diag, &s)) return;
  if (s == -1) {
    l.wl->duration = -1;
  } else if (s > 0) {
    l.wl->duration = s * kNsPerSec;
  } else {
    l.diag->error(
        f.value->pos, f.path,
        "duration must be -1 (until every task has finished) or > 0 seconds, got " + f.value->text);
  }
}

void global_default_policy(Loader& l, const Field& f) {
  Policy p = Policy::kNormal;
  if (read_policy(l, f, &p)) l.wl->default_policy = p;
}

void global_pi_enabled(Loader& l, const Field& f) {
  bool b = false;
  if (read_bool(f, l.diag, &b)) l.wl->pi_enabled = b;
}

// "CPUn" (calibrate on CPU n) or an integer (ns per loop, skips calibration). The simulator has
// no calibration; the value is only checked.
void global_calibration(Loader& l, const Field& f) {
  const json::Value& v = *f.value;
  int64_t x = 0;
  if (v.is_number()) {
    read_int(f, l.diag, &x);
    return;
  }
  bool ok = v.is_string() && v.text.size() > 3 && v.text.starts_with("CPU") &&
            v.text.find_first_not_of("0123456789", 3) == std::string::npos;
  if (!ok)
    l.diag->error(v.pos, f.path,
                  "expected \"CPUn\" or an integer (ns per loop), got " + json::describe(v));
}

// An integer (MB of log buffer) or "file", "disable", "auto" (rt-app compares with strcmp).
void global_log_size(Loader& l, const Field& f) {
  const json::Value& v = *f.value;
  int64_t x = 0;
  if (v.is_number()) {
    read_int(f, l.diag, &x);
    return;
  }
  if (v.is_string() && (v.text == "file" || v.text == "disable" || v.text == "auto")) return;
  l.diag->error(
      v.pos, f.path,
      "expected an integer (MB) or \"file\", \"disable\" or \"auto\", got " + json::describe(v));
}

// rt-app 1.0: a boolean. HEAD: a boolean (deprecated) or a comma-separated list of categories,
// matched without case (rt-app_utils.c ftrace_setup).
void global_ftrace(Loader& l, const Field& f) {
  const json::Value& v = *f.value;
  if (v.is_bool()) return;
  if (l.opt.rtapp_1_0 || !v.is_string()) {
    l.diag->error(v.pos, f.path,
                  std::string(l.opt.rtapp_1_0 ? "expected true or false (rt-app 1.0)"
                                              : "expected a string of categories or a boolean") +
                      ", got " + json::describe(v));
    return;
  }
  static constexpr std::string_view kCategories[] = {"main",  "task",  "loop",
                                                     "event", "stats", "none"};
  std::string_view rest = v.text;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view cat = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (cat.empty()) continue;  // strtok skips empty tokens
    bool known = std::any_of(std::begin(kCategories), std::end(kCategories), [&](auto c) {
      return c.size() == cat.size() && strncasecmp(c.data(), cat.data(), c.size()) == 0;
    });
    if (!known) {
      l.diag->error(v.pos, f.path,
                    "unknown ftrace category " + json::quote(cat) +
                        " (expected main, task, loop, event, stats or none)");
      return;
    }
  }
}

void global_bool(Loader& l, const Field& f) {
  bool b = false;
  read_bool(f, l.diag, &b);
}

void global_string(Loader& l, const Field& f) {
  std::string s;
  read_string(f, l.diag, &s);
}

void global_int(Loader& l, const Field& f) {
  int64_t x = 0;
  read_int(f, l.diag, &x);
}

// Keys of "global". Those that only matter on a real machine (calibration, logs, ftrace,
// memory) are type-checked and otherwise ignored.
struct GlobalKey {
  std::string_view name;
  void (*read)(Loader& l, const Field& f);
};
constexpr GlobalKey kGlobalKeys[] = {
    {"duration", global_duration},     {"default_policy", global_default_policy},
    {"pi_enabled", global_pi_enabled}, {"calibration", global_calibration},
    {"lock_pages", global_bool},       {"logdir", global_string},
    {"log_basename", global_string},   {"log_size", global_log_size},
    {"ftrace", global_ftrace},         {"gnuplot", global_bool},
    {"io_device", global_string},      {"mem_buffer_size", global_int},
    {"cumulative_slack", global_bool},
};

}  // namespace

void read_global(Loader& l, const Field& f) {
  if (!expect_object(f, l.diag)) return;
  ObjectView g(*f.value, f.path, l.diag);
  std::vector<std::string_view> names;
  for (const GlobalKey& k : kGlobalKeys) names.push_back(k.name);
  for (Field& gf : g.fields()) {
    auto it = std::find_if(std::begin(kGlobalKeys), std::end(kGlobalKeys),
                           [&](const GlobalKey& k) { return k.name == gf.key; });
    if (it == std::end(kGlobalKeys)) {
      l.diag->warning(gf.key_pos, gf.path, unknown_key(gf.key, names) + ", ignored");
      continue;
    }
    it->read(l, gf);
  }
}

}  // namespace proxysim::workload
