// The rt-app JSON loader: syntax first (json.cc), then meaning, reporting every problem found.
//
// What rt-app itself does is the reference (scheduler-tools/rt-app, src/rt-app_parse_config.c,
// HEAD and tag v1.0); where this loader is stricter than rt-app (unknown keys, missing timer
// fields, out-of-range values that rt-app passes on to a failing syscall) it says so in the
// message. Key tables: kTaskKeys below, kGlobalKeys in global.cc, kEvents in events.cc.
#include "proxysim/loader.h"

#include <sys/stat.h>

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

bool before(json::Position a, json::Position b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

// ---- task and phase keys ----------------------------------------------------------------------

// Non-event keys of task (thread) and phase objects, and where rt-app reads them. A task without
// "phases" is its own single phase and takes the task keys.
struct KeySpec {
  std::string_view name;
  bool task;
  bool phase;
};
// clang-format off
constexpr KeySpec kTaskKeys[] = {
    {"instance", true, false},
    {"delay", true, false},
    {"phases", true, false},
    {"loop", true, true},
    {"cpus", true, true},
    {"policy", true, true},  // phase level: HEAD
    {"priority", true, true},
    {"dl-runtime", true, true},
    {"dl-period", true, true},
    {"dl-deadline", true, true},
    {"period", true, false},    // legacy name of dl-period (thread object)
    {"deadline", true, false},  // legacy name of dl-deadline (thread object)
    {"util_min", true, true},   // HEAD; util_min to nodes_membind: see read_unmodelled
    {"util_max", true, true},
    {"taskgroup", true, true},
    {"nodes_membind", true, true},
};
// clang-format on

// Keys of the legacy pre-0.3 thread grammar ("exec", "period", "lock_order" and a per-thread
// "resources" with durations; doc/examples/merge, taskset.json), which neither rt-app 1.0 nor
// HEAD reads. "period" is also HEAD's legacy name of "dl-period" in a thread object, so it marks
// the old grammar only in a phase.
constexpr std::string_view kLegacyKeys[] = {"exec", "lock_order", "resources"};

// Most threads one workload may start (sum of "instance").
constexpr int64_t kMaxThreads = 1048576;  // 2^20

enum class Scope : uint8_t { kTask, kPhase };

std::vector<std::string_view> known_names(Scope scope) {
  std::vector<std::string_view> names;
  for (const KeySpec& k : kTaskKeys)
    if (scope == Scope::kTask ? k.task : k.phase) names.push_back(k.name);
  for (std::string_view e : event_names()) names.push_back(e);
  return names;
}

// A key of a task or phase that is neither read by the code nor an event.
void leftover_key(Loader& l, const Field& f, Scope scope) {
  const KeySpec* k = nullptr;
  for (const KeySpec& s : kTaskKeys)
    if (s.name == f.key) k = &s;
  if (k == nullptr) {
    l.diag->error(f.key_pos, f.path, unknown_key(f.key, known_names(scope)));
  } else if (scope == Scope::kPhase && !k->phase) {
    l.diag->error(
        f.key_pos, f.path,
        "key " + json::quote(f.key) + " belongs to the task object; rt-app ignores it in a phase");
  }
}

// The first key of the legacy pre-0.3 grammar in the "tasks" object `tasks`, in file order, or
// nullptr. Reads the raw members (no duplicate-key warnings: this only decides which grammar the
// file is written in).
struct LegacyKey {
  const json::Member* member = nullptr;
  std::string path;
};
LegacyKey find_legacy(const json::Value& tasks) {
  LegacyKey first;
  auto consider = [&](const json::Member& m, const std::string& parent, bool phase) {
    bool legacy =
        std::find(std::begin(kLegacyKeys), std::end(kLegacyKeys), m.key) != std::end(kLegacyKeys) ||
        (phase && m.key == "period");
    if (!legacy) return;
    if (first.member == nullptr || before(m.key_pos, first.member->key_pos)) {
      first.member = &m;
      first.path = join_path(parent, m.key);
    }
  };
  if (!tasks.is_object()) return first;
  for (const json::Member& t : tasks.members) {
    if (!t.value.is_object()) continue;
    std::string tpath = join_path("tasks", t.key);
    for (const json::Member& m : t.value.members) {
      consider(m, tpath, false);
      if (m.key != "phases" || !m.value.is_object()) continue;
      for (const json::Member& p : m.value.members) {
        if (!p.value.is_object()) continue;
        std::string ppath = join_path(join_path(tpath, "phases"), p.key);
        for (const json::Member& pm : p.value.members) consider(pm, ppath, true);
      }
    }
  }
  return first;
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

// util_min, util_max, taskgroup and nodes_membind (task or phase level): checked as rt-app
// does, then ignored with a warning, since the simulator has no utilization clamping, group
// scheduling or NUMA. Returns the field of a non-empty "taskgroup", if any.
const Field* read_unmodelled(Loader& l, ObjectView& obj) {
  Diagnostics* d = l.diag;
  for (std::string_view key : {"util_min", "util_max"}) {
    Field* f = obj.take(key);
    int64_t v = 0;
    if (f == nullptr || !read_int(*f, d, &v)) continue;
    if (v < -1 || v > 1024) {
      d->error(f->value->pos, f->path,
               json::quote(key) + " must be -1 (unchanged) or 0..1024, got " + f->value->text);
      continue;
    }
    d->warning(f->key_pos, f->path,
               "key " + json::quote(key) + " is ignored (utilization clamping is not simulated)");
  }
  const Field* group = nullptr;
  if (Field* f = obj.take("taskgroup")) {
    std::string name;
    if (read_string(*f, d, &name) && !name.empty()) {  // "" means no taskgroup (tutorial)
      if (name[0] != '/') {
        d->error(f->value->pos, f->path,
                 "taskgroup " + json::quote(name) + " must start with \"/\" (rt-app exits)");
      } else {
        group = f;
        d->warning(f->key_pos, f->path,
                   "key \"taskgroup\" is ignored (group scheduling is not simulated: the task "
                   "runs in the root group)");
      }
    }
  }
  if (Field* f = obj.take("nodes_membind"))
    d->warning(f->key_pos, f->path,
               "key \"nodes_membind\" is ignored (NUMA memory binding is not simulated)");
  return group;
}

// rt-app refuses a taskgroup for a thread whose policy is not a fair one
// (check_taskgroup_policy_dep, "No taskgroup support for policy").
void check_taskgroup(Loader& l, const json::Value* group, Policy policy, const Field& where,
                     bool* reported) {
  if (group == nullptr || is_fair_policy(policy) || *reported) return;
  *reported = true;
  l.diag->error(where.key_pos, where.path,
                "taskgroup " + json::quote(group->text) + " with " +
                    std::string(policy_name(policy)) +
                    ": rt-app supports taskgroups only for SCHED_OTHER, SCHED_BATCH and "
                    "SCHED_IDLE (\"No taskgroup support for policy\")");
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

// Per task while it is read: the scheduling parameters and taskgroup in effect as its phases
// start for the first time.
struct TaskState {
  SchedParams sched;
  const json::Value* group = nullptr;  // the value of the "taskgroup" in effect (in the DOM)
  bool group_reported = false;
};

void read_phase(Loader& l, const Field& pf, EventContext* ctx, TaskState* state, TaskSpec* t) {
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
  p.sched = read_phase_sched(l, obj, pf, state->sched);
  if (p.sched) state->sched = *p.sched;
  const Field* group = read_unmodelled(l, obj);
  if (group != nullptr) state->group = group->value;
  check_taskgroup(l, state->group, state->sched.policy, group != nullptr ? *group : pf,
                  &state->group_reported);
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
    l.failed_tasks.emplace_back(tf.key);
    return;
  }
  ObjectView obj(*tf.value, tf.path, d);
  TaskSpec t;
  t.name = std::string(tf.key);
  t.loc = loc_of(tf);
  json::Position instance_pos;

  if (Field* f = obj.take("instance")) {
    int64_t n = 0;
    if (read_int(*f, d, &n)) {
      if (n < 0) {
        d->error(f->value->pos, f->path, "instance must be >= 0, got " + f->value->text);
      } else {
        t.instances = static_cast<int>(n);
        instance_pos = f->value->pos;
      }
    }
  }
  bool under_cap = l.threads <= kMaxThreads;
  if (t.instances > 0 && under_cap) {
    // rt-app names the thread (HEAD: <task>-<index>) with pthread_setname_np(), which refuses names
    // over 15 characters (TASK_COMM_LEN - 1): those threads keep the process's comm, "rt-app".
    // rt-app 1.0 names every instance <task>.
    std::string last =
        l.opt.rtapp_1_0 ? t.name : t.name + "-" + std::to_string(l.threads + t.instances - 1);
    if (last.size() > 15)
      d->warning(tf.key_pos, tf.path,
                 "thread name " + json::quote(last) +
                     " is longer than 15 characters: rt-app cannot set it, so the kernel (and "
                     "proxysim's traces) show the thread as \"rt-app\"; tables use the full name");
  }
  l.threads += t.instances;
  if (under_cap && l.threads > kMaxThreads) {
    const Field* f = obj.peek("instance");
    d->error(f ? f->value->pos : tf.key_pos, f ? f->path : tf.path,
             "this task brings the threads started by the workload to " +
                 std::to_string(l.threads) + ", more than the " + std::to_string(kMaxThreads) +
                 " the simulator supports");
  }
  if (Field* f = obj.take("delay")) read_us(*f, d, &t.delay);
  if (Field* f = obj.take("cpus")) {
    CpuMask m;
    if (read_cpus(l, *f, &m)) t.cpus = std::move(m);
  }
  read_sched(l, obj, tf, &t.sched);
  TaskState state;
  state.sched = t.sched;
  if (const Field* group = read_unmodelled(l, obj)) {
    state.group = group->value;
    check_taskgroup(l, state.group, t.sched.policy, *group, &state.group_reported);
  }
  int loop = 0;
  Field* loop_f = obj.take("loop");
  bool has_loop = loop_f != nullptr && read_loop(l, *loop_f, &loop);
  Field* phases_f = obj.take("phases");
  EventContext ctx{
      d,      l.wl,       &l.tables, l.opt.rtapp_1_0, static_cast<int>(l.wl->tasks.size()),
      tf.key, t.instances};

  if (phases_f != nullptr) {
    // "loop" repeats the whole phase list (default -1: forever); each phase has its own loop.
    t.loop = has_loop ? loop : -1;
    read_body(l, obj, Scope::kTask, &ctx, nullptr);
    if (expect_object(*phases_f, d)) {
      ObjectView phases(*phases_f->value, phases_f->path, d);
      if (phases.fields().empty())
        d->error(phases_f->value->pos, phases_f->path, "no phase defined");
      t.phases.reserve(phases.fields().size());
      for (Field& pf : phases.fields()) read_phase(l, pf, &ctx, &state, &t);
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
  l.instance_pos.push_back(instance_pos);
}

void read_tasks(Loader& l, const Field& f) {
  if (!expect_object(f, l.diag)) return;
  ObjectView tasks(*f.value, f.path, l.diag);
  if (tasks.fields().empty()) l.diag->error(f.value->pos, f.path, "no task defined");
  l.wl->tasks.reserve(tasks.fields().size());
  for (Field& tf : tasks.fields()) {
    read_task(l, tf);
    // Nothing refers to the task's subtree once it is read (messages are formatted, names
    // copied; the keys stay): free it, so that the Workload reuses its memory. The DOM is
    // load_workload_from_string()'s own, non-const root: the const_cast is sound.
    json::release(const_cast<json::Value*>(tf.value));
  }
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
    l.tables.mutexes.index(std::string(rf.key), &l.wl->mutexes);
  }
}

void load(Loader& l, const json::Value& root) {
  if (!root.is_object()) {
    l.diag->error(root.pos, "",
                  "expected an object holding \"tasks\", got " + json::describe(root));
    return;
  }
  // A file in the legacy grammar gets that one message: everything else in it would only be
  // noise.
  for (const json::Member& m : root.members) {
    if (m.key != "tasks") continue;
    LegacyKey legacy = find_legacy(m.value);
    if (legacy.member == nullptr) continue;
    l.diag->error(legacy.member->key_pos, legacy.path,
                  json::quote(legacy.member->key) +
                      " belongs to rt-app's legacy pre-0.3 grammar (exec, period, lock_order, "
                      "per-thread resources), which rt-app 1.0 and later do not read; describe "
                      "the task with events such as \"run\", \"sleep\", \"timer\" and "
                      "\"lock\"");
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
  finish_events(l.wl, &l.tables, l.failed_tasks, l.instance_pos, l.diag);
}

}  // namespace
}  // namespace workload

namespace {

// Parses `text`, then loads the document. With `owned` the text is freed once parsed (before the
// Workload is built: the peak memory of a large file is the larger of the two, not their sum).
Status load_text(const std::string& text, std::string* owned, const std::string& name,
                 const LoadOptions& opt, Workload* out) {
  *out = Workload();
  out->file = name;
  out->rtapp_1_0 = opt.rtapp_1_0;
  Status status = Status::ok();
  {
    workload::json::Value root;
    workload::json::SyntaxError err;
    if (!workload::json::parse(text, &root, &err))
      return Status::invalid(name + ":" + std::to_string(err.pos.line) + ":" +
                             std::to_string(err.pos.column) + ": syntax error: " + err.message);
    if (owned != nullptr) std::string().swap(*owned);
    workload::Diagnostics diag(name);
    workload::Loader loader{opt, &diag, out, {}, {}, {}, 0};
    workload::load(loader, root);
    out->warnings = diag.warning_lines();
    if (diag.has_errors()) status = Status::invalid(diag.error_text(opt.max_errors));
  }
  return status;
}

}  // namespace

Status load_workload_from_string(const std::string& text, const std::string& name,
                                 const LoadOptions& opt, Workload* out) {
  try {
    return load_text(text, nullptr, name, opt, out);
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
    struct stat st {};
    if (fstat(fileno(fp.get()), &st) == 0 && st.st_size > 0)
      text.reserve(static_cast<size_t>(st.st_size));  // no doubling (a pipe has no size)
    char buf[65536];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), fp.get())) > 0) text.append(buf, n);
    if (std::ferror(fp.get())) {
      int err = errno;
      return Status::invalid(path + ": cannot read: " + std::generic_category().message(err));
    }
    return load_text(text, &text, path, opt, out);
  } catch (const std::exception& e) {
    return Status::internal(path + ": internal error while loading: " + e.what());
  }
}

}  // namespace proxysim