// The rt-app JSON loader: syntax first (json.cc), then meaning, reporting every problem found.
//
// What rt-app itself does is the reference (scheduler-tools/rt-app, src/rt-app_parse_config.c,
// HEAD and tag v1.0); where this loader is stricter than rt-app (unknown keys, missing timer
// fields, out-of-range values that rt-app passes on to a failing syscall) it says so in the
// message. Key tables: kTaskKeys below, kGlobalKeys in global.cc, kEvents in events.cc.
#include "proxysim/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <system_error>

#include "workload/json.h"
#include "workload/loader_internal.h"

namespace proxysim {
namespace workload {
namespace {

// Highest CPU number + 1 accepted in "cpus".
constexpr int64_t kMaxCpus = 4096;

SourceLoc loc_of(const Field& f) { return {f.key_pos.line, f.key_pos.column, f.path}; }

// ---- task and phase keys ----------------------------------------------------------------------

enum class Support : uint8_t {
  kNo,       // not a key of this object (rt-app ignores it here)
  kYes,      // read by read_task / read_phase / read_sched
  kNotYet,   // rt-app grammar the simulator does not model yet: an error
  kIgnored,  // accepted with a warning: no effect on scheduling
};

// Non-event keys of task (thread) and phase objects. A task without "phases" is its own single
// phase and takes the task keys.
struct KeySpec {
  std::string_view name;
  Support task;
  Support phase;
};
constexpr KeySpec kTaskKeys[] = {
    {"instance", Support::kYes, Support::kNo},
    {"delay", Support::kYes, Support::kNo},
    {"phases", Support::kYes, Support::kNo},
    {"loop", Support::kYes, Support::kYes},
    {"cpus", Support::kYes, Support::kYes},
    {"policy", Support::kYes, Support::kNotYet},  // HEAD: phase-level changes
    {"priority", Support::kYes, Support::kNotYet},
    {"dl-runtime", Support::kYes, Support::kNotYet},
    {"dl-period", Support::kYes, Support::kNotYet},
    {"dl-deadline", Support::kYes, Support::kNotYet},
    {"period", Support::kYes, Support::kNo},    // legacy name of dl-period (thread object)
    {"deadline", Support::kYes, Support::kNo},  // legacy name of dl-deadline (thread object)
    {"util_min", Support::kNotYet, Support::kNotYet},
    {"util_max", Support::kNotYet, Support::kNotYet},
    {"taskgroup", Support::kNotYet, Support::kNotYet},
    {"nodes_membind", Support::kIgnored, Support::kIgnored},
};

enum class Scope : uint8_t { kTask, kPhase };

std::vector<std::string_view> known_names(Scope scope) {
  std::vector<std::string_view> names;
  for (const KeySpec& k : kTaskKeys)
    if ((scope == Scope::kTask ? k.task : k.phase) != Support::kNo) names.push_back(k.name);
  for (std::string_view e : {"run", "runtime", "sleep", "timer", "yield", "lock", "unlock", "wait",
                             "signal", "broad", "sync", "suspend", "resume", "barrier"})
    names.push_back(e);
  return names;
}

// A key of a task or phase that is neither read by the code nor an event.
void leftover_key(Loader& l, const Field& f, Scope scope) {
  const KeySpec* k = nullptr;
  for (const KeySpec& s : kTaskKeys)
    if (s.name == f.key) k = &s;
  Support support = k == nullptr ? Support::kNo : scope == Scope::kTask ? k->task : k->phase;
  std::string key = json::quote(f.key);
  switch (support) {
    case Support::kYes: return;
    case Support::kNotYet:
      if (f.key == "taskgroup" && f.value->is_string() && f.value->text.empty())
        return;  // "" means no taskgroup (tutorial)
      l.diag->error(
          f.key_pos, f.path,
          "key " + key + (scope == Scope::kPhase ? " in a phase" : "") + " is not simulated yet");
      return;
    case Support::kIgnored:
      l.diag->warning(f.key_pos, f.path,
                      "key " + key + " is ignored (NUMA memory binding is not simulated)");
      return;
    case Support::kNo:
      if (k != nullptr) {
        l.diag->error(f.key_pos, f.path,
                      "key " + key + " belongs to the task object; rt-app ignores it in a phase");
      } else {
        l.diag->error(f.key_pos, f.path, unknown_key(f.key, known_names(scope)));
      }
      return;
  }
}

// The events and remaining keys of a task or phase object, in file order. Events go to
// `events`; with events == nullptr (a task that has "phases") they are reported as ignored.
// Returns the number of event keys seen, valid or not.
int read_body(Loader& l, ObjectView& obj, Scope scope, EventContext* ctx,
              std::vector<Event>* events) {
  int n = 0;
  for (Field& f : obj.fields()) {
    if (f.used) continue;
    if (const EventSpec* ev = match_event(f.key)) {
      ++n;
      if (events == nullptr) {
        l.diag->error(f.key_pos, f.path,
                      "event " + json::quote(f.key) +
                          " outside \"phases\" is ignored by rt-app (move it into a phase)");
      } else {
        read_event(*ev, f, ctx, events);
      }
      continue;
    }
    leftover_key(l, f, scope);
  }
  return n;
}

// "loop": -1 (forever) or > 0. rt-app counts up to the value, so 0 and other negatives would
// never end or never start.
bool read_loop(Loader& l, const Field& f, int* out) {
  int64_t v = 0;
  if (!read_int(f, l.diag, &v)) return false;
  if (v == -1 || v > 0) {
    *out = static_cast<int>(v);
    return true;
  }
  l.diag->error(f.value->pos, f.path, "loop must be -1 (forever) or > 0, got " + f.value->text);
  return false;
}

// "cpus": an array of CPU numbers (rt-app), or a single number.
bool read_cpus(Loader& l, const Field& f, CpuMask* out) {
  const json::Value& v = *f.value;
  auto one = [&](const json::Value& c, const std::string& path) {
    int64_t cpu = -1;
    if (!c.is_integer()) {
      l.diag->error(c.pos, path, "expected a CPU number, got " + json::describe(c));
      return false;
    }
    if (!c.get_int64(&cpu) || cpu < 0 || cpu >= kMaxCpus) {
      l.diag->error(
          c.pos, path,
          "CPU " + c.text + " out of range (expected 0.." + std::to_string(kMaxCpus - 1) + ")");
      return false;
    }
    out->set(static_cast<int>(cpu));
    l.wl->max_cpu_named = std::max(l.wl->max_cpu_named, static_cast<int>(cpu));
    return true;
  };
  if (v.is_number()) return one(v, f.path);
  if (!v.is_array()) {
    l.diag->error(v.pos, f.path, "expected an array of CPU numbers, got " + json::describe(v));
    return false;
  }
  if (v.items.empty()) {
    l.diag->error(v.pos, f.path, "empty CPU list");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < v.items.size(); ++i)
    ok = one(v.items[i], f.path + "[" + std::to_string(i) + "]") && ok;
  return ok;
}

// ---- tasks and phases -------------------------------------------------------------------------

void read_phase(Loader& l, const Field& pf, EventContext* ctx, TaskSpec* t) {
  if (!pf.value->is_object()) {
    l.diag->error(pf.value->pos, pf.path,
                  "expected an object (a phase), got " + json::describe(*pf.value));
    return;
  }
  ObjectView obj(*pf.value, pf.path, l.diag);
  Phase p;
  p.name = std::string(pf.key);
  p.loc = loc_of(pf);
  if (Field* f = obj.take("loop")) read_loop(l, *f, &p.loop);
  if (Field* f = obj.take("cpus")) {
    CpuMask m;
    if (read_cpus(l, *f, &m)) p.cpus = std::move(m);
  }
  if (read_body(l, obj, Scope::kPhase, ctx, &p.events) == 0)
    l.diag->error(pf.key_pos, pf.path, "phase without any event (rt-app: \"No events found\")");
  check_relocks(p.events, *l.wl, l.diag);
  t->phases.push_back(std::move(p));
}

void read_task(Loader& l, const Field& tf) {
  Diagnostics* d = l.diag;
  if (!tf.value->is_object()) {
    d->error(tf.value->pos, tf.path,
             "expected an object (a task), got " + json::describe(*tf.value));
    return;
  }
  ObjectView obj(*tf.value, tf.path, d);
  TaskSpec t;
  t.name = std::string(tf.key);
  t.loc = loc_of(tf);
  EventContext ctx{d, l.wl, &l.timers, &l.mutexes, static_cast<int>(l.wl->tasks.size())};

  if (Field* f = obj.take("instance")) {
    int64_t n = 0;
    if (read_int(*f, d, &n)) {
      if (n < 0) {
        d->error(f->value->pos, f->path, "instance must be >= 0, got " + f->value->text);
      } else {
        t.instances = static_cast<int>(n);
        if (n == 0)
          d->warning(f->value->pos, f->path,
                     "\"instance\": 0 defines the task without starting it (only a \"fork\" "
                     "event would start it)");
      }
    }
  }
  if (Field* f = obj.take("delay")) read_us(*f, d, &t.delay);
  if (Field* f = obj.take("cpus")) {
    CpuMask m;
    if (read_cpus(l, *f, &m)) t.cpus = std::move(m);
  }
  read_sched(l, obj, tf, &t.sched);
  int loop = 0;
  Field* loop_f = obj.take("loop");
  bool has_loop = loop_f != nullptr && read_loop(l, *loop_f, &loop);
  Field* phases_f = obj.take("phases");

  if (phases_f != nullptr) {
    // "loop" repeats the whole phase list (default -1: forever); each phase has its own loop.
    t.loop = has_loop ? loop : -1;
    read_body(l, obj, Scope::kTask, &ctx, nullptr);
    if (expect_object(*phases_f, d)) {
      ObjectView phases(*phases_f->value, phases_f->path, d);
      if (phases.fields().empty())
        d->error(phases_f->value->pos, phases_f->path, "no phase defined");
      for (Field& pf : phases.fields()) read_phase(l, pf, &ctx, &t);
    }
  } else {
    // The task object is its single phase. rt-app HEAD reads "loop" as that phase's loop and
    // then runs the task once when "loop" is given, forever otherwise; modelled here as the
    // same number of passes of the task (identical schedule; only rt-app's thread_loop and
    // phase_loop marker counters are swapped). rt-app 1.0 keeps "loop" as the phase loop and
    // repeats the task forever, so "loop": 1 never ends there (measured).
    Phase p;
    p.loc = t.loc;
    if (l.opt.rtapp_1_0) {
      p.loop = has_loop ? loop : 1;
      t.loop = -1;
    } else {
      t.loop = has_loop ? loop : -1;
    }
    if (read_body(l, obj, Scope::kTask, &ctx, &p.events) == 0)
      d->error(tf.key_pos, tf.path,
               "task without any event (rt-app: \"No events found\"; put events such as \"run\" "
               "in the task or in \"phases\")");
    check_relocks(p.events, *l.wl, d);
    t.phases.push_back(std::move(p));
  }
  l.wl->tasks.push_back(std::move(t));
}

void read_tasks(Loader& l, const Field& f) {
  if (!expect_object(f, l.diag)) return;
  ObjectView tasks(*f.value, f.path, l.diag);
  if (tasks.fields().empty()) l.diag->error(f.value->pos, f.path, "no task defined");
  for (Field& tf : tasks.fields()) read_task(l, tf);
}

// "resources": {"name": {"type": "mutex"}, ...}, rt-app 1.0's declaration of the objects that
// events use, "kept for backward compatibility" (HEAD still reads it: parse_resources). rt-app
// exits on a type that string_to_resource does not know. Mutexes are registered (rt-app shares
// them with the lock/unlock events of the same name); the other types declare condition
// variables, timers and so on, which have no effect until an event uses the name, so they are
// accepted and ignored.
void read_resources(Loader& l, const Field& f) {
  Diagnostics* d = l.diag;
  if (!f.value->is_object()) {
    // rt-app skips a "resources" that is not an object.
    d->warning(f.value->pos, f.path,
               "expected an object (name: {\"type\": ...}), got " + json::describe(*f.value) +
                   ", ignored");
    return;
  }
  static constexpr std::string_view kTypes[] = {"mutex", "wait",  "signal", "broadcast",
                                                "sync",  "sleep", "run",    "timer"};
  ObjectView resources(*f.value, f.path, d);
  for (Field& rf : resources.fields()) {
    if (!rf.value->is_object()) {
      d->error(rf.value->pos, rf.path,
               "expected an object such as {\"type\": \"mutex\"} (a resource), got " +
                   json::describe(*rf.value));
      continue;
    }
    ObjectView obj(*rf.value, rf.path, d);
    Field* tf = obj.take("type");
    for (Field& other : obj.fields())
      if (!other.used)
        d->warning(
            other.key_pos, other.path,
            "unknown key " + json::quote(other.key) + " in a resource (expected type), ignored");
    if (tf == nullptr) {
      d->error(rf.key_pos, rf.path,
               "resource without \"type\" (mutex, wait, signal, broadcast, sync, sleep, run or "
               "timer)");
      continue;
    }
    std::string type;
    if (!read_string(*tf, d, &type)) continue;
    if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) {
      d->error(tf->value->pos, tf->path,
               "unknown resource type " + json::quote(type) +
                   " (expected mutex, wait, signal, broadcast, sync, sleep, run or timer)");
      continue;
    }
    if (type != "mutex") continue;
    if (rf.key.empty()) {
      d->error(rf.key_pos, rf.path, "empty mutex name");
      continue;
    }
    l.mutexes.index(std::string(rf.key), l.wl);
  }
}

bool before(json::Position a, json::Position b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

void load(Loader& l, const json::Value& root) {
  if (!root.is_object()) {
    l.diag->error(root.pos, "",
                  "expected an object holding \"tasks\", got " + json::describe(root));
    return;
  }
  ObjectView top(root, "", l.diag);
  Field* global = top.take("global");
  Field* tasks = top.take("tasks");
  Field* resources = top.take("resources");
  for (Field& f : top.fields())
    if (!f.used)
      l.diag->warning(f.key_pos, f.path,
                      unknown_key(f.key, {"tasks", "global", "resources"}) + ", ignored");
  if (global != nullptr) read_global(l, *global);  // first: it sets default_policy
  // Workload::mutexes lists names in order of first appearance in the file.
  bool resources_first =
      resources != nullptr && (tasks == nullptr || before(resources->key_pos, tasks->key_pos));
  if (resources_first) read_resources(l, *resources);
  if (tasks == nullptr)
    l.diag->error(root.pos, "", "missing \"tasks\" (the object that defines the tasks)");
  else
    read_tasks(l, *tasks);
  if (resources != nullptr && !resources_first) read_resources(l, *resources);
  settle_timer_modes(l.wl, l.diag);
}

}  // namespace
}  // namespace workload

Status load_workload_from_string(const std::string& text, const std::string& name,
                                 const LoadOptions& opt, Workload* out) {
  try {
    *out = Workload();
    out->file = name;
    workload::json::Value root;
    workload::json::SyntaxError err;
    if (!workload::json::parse(text, &root, &err))
      return Status::invalid(name + ":" + std::to_string(err.pos.line) + ":" +
                             std::to_string(err.pos.column) + ": syntax error: " + err.message);
    workload::Diagnostics diag(name);
    workload::Loader loader{opt, &diag, out, {}, {}};
    workload::load(loader, root);
    out->warnings = diag.warning_lines();
    if (diag.has_errors()) return Status::invalid(diag.error_text(opt.max_errors));
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(name + ": internal error while loading: " + e.what());
  }
}

Status load_workload(const std::string& path, const LoadOptions& opt, Workload* out) {
  try {
    std::string text;
    struct Closer {
      void operator()(std::FILE* f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> fp(std::fopen(path.c_str(), "rb"));
    if (fp == nullptr) {
      int err = errno;
      return Status::invalid(path + ": cannot open: " + std::generic_category().message(err));
    }
    char buf[65536];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), fp.get())) > 0) text.append(buf, n);
    if (std::ferror(fp.get())) {
      int err = errno;
      return Status::invalid(path + ": cannot read: " + std::generic_category().message(err));
    }
    return load_workload_from_string(text, path, opt, out);
  } catch (const std::exception& e) {
    return Status::internal(path + ": internal error while loading: " + e.what());
  }
}

}  // namespace proxysim