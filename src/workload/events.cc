#include "workload/events.h"

#include <algorithm>
#include <set>

#include "proxysim/types.h"

namespace proxysim::workload {

// One rt-app event.
struct EventSpec {
  std::string_view name;
  bool (*read)(const Field& f, EventContext* ctx, Event* e);
  bool after_1_0;  // not an event of rt-app 1.0
};

namespace {

// run, runtime, sleep: a non-negative integer of microseconds (rt-app: json_type_int, else
// "Unknown or mismatch event type").
bool read_duration(const Field& f, EventContext* ctx, Event* e) {
  return read_us(f, ctx->diag, &e->duration);
}

bool read_run(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kRun;
  return read_duration(f, ctx, e);
}

bool read_runtime(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kRuntime;
  return read_duration(f, ctx, e);
}

bool read_sleep(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kSleep;
  return read_duration(f, ctx, e);
}

// timer: {"ref": name, "period": us, "mode": "relative" | "absolute"}. rt-app defaults a
// missing ref to "unknown" and a missing period to 0; both are almost certainly mistakes, so
// they are required here. rt-app's default mode is "relative" (HEAD and 1.0:
// get_string_value_from(obj, "mode", TRUE, "relative"); tutorial: "By default they work in
// relative mode").
bool read_timer(const Field& f, EventContext* ctx, Event* e) {
  Diagnostics* d = ctx->diag;
  e->kind = EventKind::kTimer;
  e->timer_absolute = false;
  if (!expect_object(f, d)) return false;
  ObjectView obj(*f.value, f.path, d);
  bool ok = true;

  std::string ref;
  if (Field* r = obj.take("ref")) {
    ok = read_string(*r, d, &ref) && ok;
  } else {
    d->error(f.value->pos, f.path, "timer without \"ref\" (the name of the timer)");
    ok = false;
  }

  if (Field* p = obj.take("period")) {
    int64_t us = 0;
    if (read_int(*p, d, &us)) {
      if (us > 0) {
        e->duration = us * kNsPerUs;
      } else {
        d->error(p->value->pos, p->path, "timer period must be > 0 us, got " + p->value->text);
        ok = false;
      }
    } else {
      ok = false;
    }
  } else {
    d->error(f.value->pos, f.path, "timer without \"period\" (in microseconds)");
    ok = false;
  }

  if (Field* m = obj.take("mode")) {
    std::string mode;
    if (!read_string(*m, d, &mode)) {
      ok = false;
    } else if (mode == "absolute") {
      e->timer_absolute = true;
    } else if (mode != "relative") {
      d->error(m->value->pos, m->path,
               "unknown timer mode " + json::quote(mode) + " (expected relative or absolute)");
      ok = false;
    }
  }

  for (Field& other : obj.fields()) {
    if (other.used) continue;
    d->error(other.key_pos, other.path,
             "unknown key " + json::quote(other.key) + " in timer (expected ref, period or mode)");
    ok = false;
  }
  if (ok) e->resource = ctx->tables->timers.index(ref, ctx->task_index, ctx->workload);
  return ok;
}

// yield: the value is not used ("String can be empty").
bool read_yield(const Field&, EventContext*, Event* e) {
  e->kind = EventKind::kYield;
  return true;
}

// The name of an object of kind `what` (rt-app: a string, else "Unknown or mismatch event
// type"). rt-app would also take "" as a name; an empty name is almost certainly a mistake here.
bool read_name(const Field& f, Diagnostics* d, std::string_view what, std::string* out) {
  if (!read_string(f, d, out)) return false;
  if (!out->empty()) return true;
  d->error(f.value->pos, f.path,
           "expected the name of a " + std::string(what) + ", got an empty string");
  return false;
}

// lock, unlock: the name of a mutex.
bool read_mutex(const Field& f, EventContext* ctx, Event* e) {
  std::string name;
  if (!read_name(f, ctx->diag, "mutex", &name)) return false;
  e->resource = ctx->tables->mutexes.index(name, &ctx->workload->mutexes);
  return true;
}

bool read_lock(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kLock;
  return read_mutex(f, ctx, e);
}

bool read_unlock(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kUnlock;
  return read_mutex(f, ctx, e);
}

// wait, sync: {"ref": condition variable, "mutex": mutex}. rt-app defaults both names to
// "unknown"; a missing one is almost certainly a mistake, so both are required here. The
// condition variable is registered before the mutex, as rt-app does.
bool read_cond_wait(const Field& f, EventContext* ctx, Event* e, std::string_view what) {
  Diagnostics* d = ctx->diag;
  if (!expect_object(f, d)) return false;
  ObjectView obj(*f.value, f.path, d);
  bool ok = true;
  std::string ref, mutex;
  if (Field* r = obj.take("ref")) {
    ok = read_name(*r, d, "condition variable", &ref) && ok;
  } else {
    d->error(f.value->pos, f.path,
             std::string(what) + " without \"ref\" (the name of the condition variable)");
    ok = false;
  }
  if (Field* m = obj.take("mutex")) {
    ok = read_name(*m, d, "mutex", &mutex) && ok;
  } else {
    d->error(f.value->pos, f.path,
             std::string(what) + " without \"mutex\" (the mutex held around the wait)");
    ok = false;
  }
  for (Field& other : obj.fields()) {
    if (other.used) continue;
    d->error(other.key_pos, other.path,
             "unknown key " + json::quote(other.key) + " in " + std::string(what) +
                 " (expected ref or mutex)");
    ok = false;
  }
  if (!ok) return false;
  e->resource = ctx->tables->condvars.index(ref, &ctx->workload->condvars);
  e->resource2 = ctx->tables->mutexes.index(mutex, &ctx->workload->mutexes);
  return true;
}

bool read_wait(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kWait;
  return read_cond_wait(f, ctx, e, "wait");
}

bool read_sync(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kSync;
  return read_cond_wait(f, ctx, e, "sync");
}

// signal, broad: the name of a condition variable.
bool read_condvar(const Field& f, EventContext* ctx, Event* e) {
  std::string name;
  if (!read_name(f, ctx->diag, "condition variable", &name)) return false;
  e->resource = ctx->tables->condvars.index(name, &ctx->workload->condvars);
  return true;
}

bool read_signal(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kSignal;
  return read_condvar(f, ctx, e);
}

bool read_broad(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kBroadcast;
  return read_condvar(f, ctx, e);
}

// `line 3`, or `line 3, column 20` when `there` is on the line of `here`.
std::string place(const SourceLoc& there, const SourceLoc& here) {
  std::string at = "line " + std::to_string(there.line);
  if (there.line == here.line) at += ", column " + std::to_string(there.column);
  return at;
}

// barrier: the name of a barrier. rt-app counts its parties while parsing: each barrier event
// adds the "instance" of its task (rt-app_parse_config.c: `waiting += tdata->num_instances`), so
// a task that uses one barrier twice counts its threads twice, and the barrier then waits for
// more arrivals than there are threads. Counted the same way here, with a warning.
bool read_barrier(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kBarrier;
  std::string name;
  if (!read_name(f, ctx->diag, "barrier", &name)) return false;
  Workload* wl = ctx->workload;
  int idx = ctx->tables->barriers.index(name, &wl->barriers);
  wl->barrier_parties.resize(wl->barriers.size(), 0);
  int& counted = wl->barrier_parties[static_cast<size_t>(idx)];
  int64_t parties = int64_t{counted} + ctx->task_instances;
  if (parties > kIntMax) {
    if (counted != kIntMax)  // once per barrier
      ctx->diag->error(f.value->pos, f.path,
                       "barrier " + json::quote(name) + " counts more than " +
                           std::to_string(kIntMax) + " parties");
    counted = static_cast<int>(kIntMax);
    return false;
  }
  counted = static_cast<int>(parties);
  e->resource = idx;
  SourceLoc here{f.key_pos.line, f.key_pos.column, f.path};
  auto [it, first] = ctx->tables->barrier_uses.emplace(std::make_pair(ctx->task_index, idx), here);
  if (!first && ctx->task_instances > 0)
    ctx->diag->warning(f.key_pos, f.path,
                       "barrier " + json::quote(name) + " is used again by this task (first at " +
                           place(it->second, here) +
                           "): rt-app counts every use as more parties, so the barrier waits for "
                           "more arrivals than there are threads and they deadlock there");
  return true;
}

// suspend: rt-app HEAD ignores the value and suspends the thread on its own name (since 2025,
// commit 32fcddf); rt-app 1.0 suspends on the name given, and its workgen completes a "suspend"
// written without a value with the enclosing thread's name. Both give the thread's name for a
// bare or empty "suspend", which is read so, with a warning where rt-app 1.0 would need workgen.
// A name that is not the thread's is used as written with rt_app_1_0, and replaced by the
// thread's name (with a warning) otherwise.
bool read_suspend(const Field& f, EventContext* ctx, Event* e) {
  Diagnostics* d = ctx->diag;
  e->kind = EventKind::kSuspend;
  const json::Value& v = *f.value;
  const std::string own(ctx->task_name);
  std::string name = own;
  if (v.bare) {
    d->warning(f.key_pos, f.path,
               "\"suspend\" without a value: read as the thread's own name " + json::quote(own) +
                   "; rt-app needs workgen (rt-app 1.0) to complete it, since json-c rejects a "
                   "key without a value");
  } else if (!v.is_string()) {
    d->error(v.pos, f.path,
             "expected a string (the name of the thread to suspend), got " + json::describe(v));
    return false;
  } else if (v.text.empty()) {
    if (ctx->rtapp_1_0)
      d->warning(v.pos, f.path,
                 "empty \"suspend\": read as the thread's own name " + json::quote(own) +
                     "; rt-app 1.0 itself would wait for a resume of \"\" (its workgen only "
                     "completes a \"suspend\" written without a value)");
  } else if (v.text != own) {
    if (ctx->rtapp_1_0)
      name = v.text;
    else
      d->warning(v.pos, f.path,
                 "rt-app HEAD ignores the name given to \"suspend\": the thread waits for a "
                 "resume of its own name " +
                     json::quote(own) + " (rt-app 1.0, and --rt-app-1.0, wait for a resume of " +
                     json::quote(v.text) + ")");
  }
  e->resource = ctx->tables->suspends.index(name, &ctx->workload->suspends);
  return true;
}

// resume: the name of the thread(s) to wake (rt-app broadcasts the condition variable of that
// name).
bool read_resume(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kResume;
  std::string name;
  if (!read_name(f, ctx->diag, "thread to resume", &name)) return false;
  e->resource = ctx->tables->suspends.index(name, &ctx->workload->suspends);
  return true;
}

// sem_post, sem_wait: the name of a semaphore (both events of one name use one semaphore).
bool read_semaphore(const Field& f, EventContext* ctx, Event* e) {
  std::string name;
  if (!read_name(f, ctx->diag, "semaphore", &name)) return false;
  e->resource = ctx->tables->semaphores.index(name, &ctx->workload->semaphores);
  return true;
}

bool read_sem_post(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kSemPost;
  return read_semaphore(f, ctx, e);
}

bool read_sem_wait(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kSemWait;
  return read_semaphore(f, ctx, e);
}

// mem, iorun: a number of bytes (rt-app: json_type_int).
bool read_bytes(const Field& f, Diagnostics* d, int64_t* out) {
  int64_t n = 0;
  if (!read_int(f, d, &n)) return false;
  if (n < 0) {
    d->error(f.value->pos, f.path, "expected a number of bytes >= 0, got " + f.value->text);
    return false;
  }
  *out = n;
  return true;
}

bool read_mem(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kMem;
  return read_bytes(f, ctx->diag, &e->amount);
}

bool read_iorun(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kIoRun;
  return read_bytes(f, ctx->diag, &e->amount);
}

// Bytes of memory traffic counted per pointer hop of a memrun "chase": one cache line.
constexpr int64_t kChaseBytesPerHop = 64;

// memrun (HEAD): {"type": "read" | "write" | "chase", "size": buffer bytes, "count": n,
// "stride": bytes (chase, default 64), "pattern": "random" | "sequential" (chase, default
// random), "ref": name of a buffer shared across threads}. Modelled as a kMem event:
//  - read, write: rt-app touches `count` bytes one at a time, wrapping around the buffer of
//    `size` bytes (rt-app.c memread/memwrite), so amount = count (not size * count);
//  - chase: `count` dependent loads, one per hop through a chain laid every `stride` bytes
//    (memchase_run); amount = count * 64, a cache line per hop. The latency of dependent misses,
//    which makes a real chase much slower than this when the buffer exceeds the caches, is not
//    modelled: all memory traffic runs at the one rate of SimOptions::mem_bytes_per_s.
// Checked as rt-app does: type, size and count are required; memrun events sharing a "ref" must
// agree on size (and stride and pattern for chase). Stricter: size > 0 (rt-app divides by it),
// and a chase buffer holding at least two positions (rt-app builds no chain otherwise and the
// event does nothing).
bool read_memrun(const Field& f, EventContext* ctx, Event* e) {
  Diagnostics* d = ctx->diag;
  e->kind = EventKind::kMem;
  if (!expect_object(f, d)) return false;
  ObjectView obj(*f.value, f.path, d);
  bool ok = true;
  auto missing = [&](std::string_view key, std::string_view what) {
    d->error(f.value->pos, f.path,
             "memrun without " + json::quote(key) + " (" + std::string(what) + ")");
    ok = false;
  };

  std::string type;
  if (Field* t = obj.take("type")) {
    if (!read_string(*t, d, &type)) {
      ok = false;
    } else if (type != "read" && type != "write" && type != "chase") {
      d->error(t->value->pos, t->path,
               "unknown memrun type " + json::quote(type) + " (expected read, write or chase)");
      ok = false;
    }
  } else {
    missing("type", "read, write or chase");
  }
  bool chase = type == "chase";

  int64_t size = 0;
  Field* size_f = obj.take("size");
  if (size_f == nullptr) {
    missing("size", "the buffer size in bytes");
  } else if (!read_int(*size_f, d, &size)) {
    ok = false;
  } else if (size <= 0) {
    d->error(size_f->value->pos, size_f->path,
             "memrun size must be > 0 bytes, got " + size_f->value->text);
    ok = false;
  }

  int64_t count = 0;
  if (Field* c = obj.take("count")) {
    ok = read_bytes(*c, d, &count) && ok;
  } else {
    missing("count", "bytes to access, or hops for chase");
  }

  int64_t stride = 64;
  bool random = true;
  Field* stride_f = obj.take("stride");
  Field* pattern_f = obj.take("pattern");
  if (stride_f != nullptr) {
    if (!read_int(*stride_f, d, &stride)) {
      ok = false;
    } else if (chase && stride < 8) {
      d->error(stride_f->value->pos, stride_f->path,
               "memrun stride must be >= 8 bytes (a pointer at every chain position), got " +
                   stride_f->value->text);
      ok = false;
    }
  }
  if (pattern_f != nullptr) {
    std::string pattern;
    if (!read_string(*pattern_f, d, &pattern)) {
      ok = false;
    } else if (pattern == "sequential") {
      random = false;
    } else if (pattern != "random") {
      d->error(
          pattern_f->value->pos, pattern_f->path,
          "unknown memrun pattern " + json::quote(pattern) + " (expected random or sequential)");
      ok = false;
    }
  }
  if (!chase && !type.empty())
    for (Field* x : {stride_f, pattern_f})
      if (x != nullptr)
        d->warning(x->key_pos, x->path,
                   json::quote(x->key) + " is ignored for memrun type " + type +
                       " (it only shapes a chase)");

  std::string ref;
  if (Field* r = obj.take("ref")) ok = read_name(*r, d, "shared memrun buffer", &ref) && ok;

  for (Field& other : obj.fields()) {
    if (other.used) continue;
    d->error(other.key_pos, other.path,
             "unknown key " + json::quote(other.key) +
                 " in memrun (expected type, size, count, stride, pattern or ref)");
    ok = false;
  }
  if (!ok) return false;

  if (chase && size / stride < 2) {
    d->error(f.value->pos, f.path,
             "memrun chase needs size >= 2 * stride (" + std::to_string(size) + " < 2 * " +
                 std::to_string(stride) + "): rt-app builds no chain and the event does nothing");
    return false;
  }
  if (!ref.empty()) {
    MemrunBuffer shape{size, chase ? stride : 0, chase ? random : true, f.value->pos};
    auto [it, first] = ctx->tables->memrun_refs.emplace(std::make_pair(ref, type), shape);
    const MemrunBuffer& b = it->second;
    if (!first && (b.size != shape.size || b.stride != shape.stride || b.random != shape.random)) {
      d->error(f.value->pos, f.path,
               "memrun ref " + json::quote(ref) + " names a buffer of another " +
                   (chase ? "size, stride or pattern" : "size") + " (" +
                   two_places(b.pos, f.value->pos) +
                   "); rt-app requires memrun events sharing a ref to agree");
      return false;
    }
  }
  e->amount = chase ? count * kChaseBytesPerHop : count;
  return true;
}

// fork: the name of a task, resolved by finish_events once every task is known (rt-app looks it
// up when the event runs).
bool read_fork(const Field& f, EventContext* ctx, Event* e) {
  e->kind = EventKind::kFork;
  std::string name;
  if (!read_name(f, ctx->diag, "task", &name)) return false;
  e->resource = static_cast<int>(ctx->tables->forks.size());
  ctx->tables->forks.push_back({std::move(name), f.value->pos, f.path, ctx->task_index});
  return true;
}

// rt-app HEAD's events[] in its order (1.0's list is the same without "memrun", "fork",
// "sem_post" and "sem_wait"). Only "runtime"/"run" and "memrun"/"mem" overlap as prefixes, and
// the longer name comes first (rt-app's parse_task_event_data tests them in that order too).
constexpr EventSpec kEvents[] = {
    {"lock", read_lock, false},        {"unlock", read_unlock, false},
    {"wait", read_wait, false},        {"signal", read_signal, false},
    {"broad", read_broad, false},      {"sync", read_sync, false},
    {"sleep", read_sleep, false},      {"runtime", read_runtime, false},
    {"run", read_run, false},          {"timer", read_timer, false},
    {"suspend", read_suspend, false},  {"resume", read_resume, false},
    {"memrun", read_memrun, true},     {"mem", read_mem, false},
    {"iorun", read_iorun, false},      {"yield", read_yield, false},
    {"barrier", read_barrier, false},  {"fork", read_fork, true},
    {"sem_post", read_sem_post, true}, {"sem_wait", read_sem_wait, true},
};

}  // namespace

int TimerTable::index(const std::string& ref, int task_index, Workload* wl) {
  bool unique = ref.starts_with("unique");
  auto key = std::make_pair(unique ? task_index : -1, ref);
  auto it = index_.find(key);
  if (it != index_.end()) return it->second;
  int idx = static_cast<int>(wl->timers.size());
  wl->timers.push_back({ref, unique});
  index_.emplace(std::move(key), idx);
  return idx;
}

int NameTable::index(const std::string& name, std::vector<std::string>* names) {
  auto [it, inserted] = index_.emplace(name, static_cast<int>(names->size()));
  if (inserted) names->push_back(name);
  return it->second;
}

const EventSpec* match_event(std::string_view key) {
  for (const EventSpec& spec : kEvents)
    if (key.starts_with(spec.name)) return &spec;
  return nullptr;
}

std::string_view event_name(const EventSpec& spec) { return spec.name; }

std::vector<std::string_view> event_names() {
  std::vector<std::string_view> names;
  for (const EventSpec& spec : kEvents) names.push_back(spec.name);
  return names;
}

void read_event(const EventSpec& spec, const Field& f, EventContext* ctx, std::vector<Event>* out) {
  if (spec.after_1_0 && ctx->rtapp_1_0) {
    ctx->diag->error(f.key_pos, f.path,
                     "event " + json::quote(spec.name) + " does not exist in rt-app 1.0");
    return;
  }
  Event e;
  e.key = std::string(f.key);
  e.loc = {f.key_pos.line, f.key_pos.column, f.path};
  if (spec.read(f, ctx, &e)) out->push_back(std::move(e));
}

namespace {

template <typename Fn>
void for_each_event(Workload* wl, Fn&& fn) {
  for (size_t t = 0; t < wl->tasks.size(); ++t)
    for (Phase& p : wl->tasks[t].phases)
      for (Event& e : p.events) fn(static_cast<int>(t), e);
}

json::Position pos_of(const SourceLoc& loc) { return {loc.line, loc.column}; }

}  // namespace

void finish_events(Workload* wl, EventTables* tables, const std::vector<std::string>& failed_tasks,
                   const std::vector<json::Position>& instance_pos, Diagnostics* diag) {
  // Fork targets.
  std::map<std::string_view, int> task_index;
  std::vector<std::string_view> names;
  for (size_t t = 0; t < wl->tasks.size(); ++t) {
    task_index.emplace(wl->tasks[t].name, static_cast<int>(t));
    names.push_back(wl->tasks[t].name);
  }
  std::vector<bool> forked(wl->tasks.size(), false);
  for_each_event(wl, [&](int, Event& e) {
    if (e.kind != EventKind::kFork) return;
    const ForkRef& ref = tables->forks[static_cast<size_t>(e.resource)];
    e.resource = -1;
    auto it = task_index.find(ref.target);
    if (it != task_index.end()) {
      e.resource = it->second;
      forked[static_cast<size_t>(it->second)] = true;
    } else if (std::find(failed_tasks.begin(), failed_tasks.end(), ref.target) ==
               failed_tasks.end()) {
      diag->error(
          ref.pos, ref.path,
          "fork of unknown task " + json::quote(ref.target) + did_you_mean(ref.target, names));
    }
  });

  for (size_t t = 0; t < wl->tasks.size(); ++t) {
    const TaskSpec& task = wl->tasks[t];
    if (task.instances == 0 && !forked[t] && t < instance_pos.size())
      diag->warning(instance_pos[t], task.loc.path + ".instance",
                    "\"instance\": 0 and no \"fork\" event starts this task: it never runs");
    if (!forked[t]) continue;
    for (const Phase& p : task.phases)
      for (const Event& e : p.events)
        if (e.kind == EventKind::kBarrier) {
          diag->warning(pos_of(e.loc), e.loc.path,
                        "barrier " + json::quote(wl->barriers[static_cast<size_t>(e.resource)]) +
                            " in a task that \"fork\" starts: rt-app counts only the threads "
                            "started with the workload among its parties (barrier can't be used "
                            "with fork)");
        }
  }

  // Objects that can only block: a wait nobody signals, a resume of a name nobody suspends on
  // (lost) and a suspend nobody resumes, a sem_wait on a semaphore nobody posts.
  std::set<int> signalled, suspended, resumed, posted;
  for_each_event(wl, [&](int, Event& e) {
    switch (e.kind) {
      case EventKind::kSignal:
      case EventKind::kBroadcast:
      case EventKind::kSync: signalled.insert(e.resource); break;
      case EventKind::kSuspend: suspended.insert(e.resource); break;
      case EventKind::kResume: resumed.insert(e.resource); break;
      case EventKind::kSemPost: posted.insert(e.resource); break;
      default: break;
    }
  });
  std::set<std::pair<EventKind, int>> reported;
  for_each_event(wl, [&](int, Event& e) {
    auto once = [&](const std::set<int>& needed, const std::vector<std::string>& objects,
                    std::string_view what, std::string_view consequence) {
      if (needed.count(e.resource) || !reported.emplace(e.kind, e.resource).second) return;
      std::string text =
          std::string(what) + " " + json::quote(objects[static_cast<size_t>(e.resource)]);
      if (!consequence.starts_with(":")) text += " ";
      diag->warning(pos_of(e.loc), e.loc.path, text + std::string(consequence));
    };
    switch (e.kind) {
      case EventKind::kWait:
        once(signalled, wl->condvars, "condition variable",
             "is never signalled (no signal, broad or sync): the wait blocks forever");
        break;
      case EventKind::kSuspend:
        once(resumed, wl->suspends, "no \"resume\" of",
             "anywhere: the thread stays suspended forever");
        break;
      case EventKind::kResume:
        once(suspended, wl->suspends, "no thread suspends on", ": this resume wakes nobody");
        break;
      case EventKind::kSemWait:
        once(posted, wl->semaphores, "semaphore",
             "is never posted (no sem_post): the sem_wait blocks forever");
        break;
      default: break;
    }
  });
}

void settle_timer_modes(Workload* wl, Diagnostics* diag) {
  // First absolute use of each timer, if any.
  std::vector<const Event*> first_absolute(wl->timers.size(), nullptr);
  auto for_each_timer_event = [wl](auto&& fn) {
    for (TaskSpec& t : wl->tasks)
      for (Phase& p : t.phases)
        for (Event& e : p.events)
          if (e.kind == EventKind::kTimer && e.resource >= 0) fn(e);
  };
  for_each_timer_event([&](Event& e) {
    const Event*& first = first_absolute[static_cast<size_t>(e.resource)];
    if (e.timer_absolute && first == nullptr) first = &e;
  });
  for_each_timer_event([&](Event& e) {
    const Event* first = first_absolute[static_cast<size_t>(e.resource)];
    if (first == nullptr || e.timer_absolute) return;
    const std::string& name = wl->timers[static_cast<size_t>(e.resource)].name;
    diag->warning({e.loc.line, e.loc.column}, e.loc.path,
                  "timer " + json::quote(name) + " is also used with \"mode\": \"absolute\" (" +
                      place(first->loc, e.loc) +
                      "); rt-app keeps one mode per timer, so this use is absolute too");
    e.timer_absolute = true;
  });
}

void check_relocks(const std::vector<Event>& events, const Workload& wl, Diagnostics* diag) {
  std::map<int, const Event*> held;  // mutex -> the lock event holding it
  for (const Event& e : events) {
    if (e.kind == EventKind::kUnlock) held.erase(e.resource);
    if (e.kind != EventKind::kLock) continue;
    auto [it, inserted] = held.emplace(e.resource, &e);
    if (inserted) continue;
    const Event& first = *it->second;
    diag->warning({e.loc.line, e.loc.column}, e.loc.path,
                  "mutex " + json::quote(wl.mutexes[static_cast<size_t>(e.resource)]) +
                      " is locked again without an unlock since " + place(first.loc, e.loc) + " (" +
                      first.loc.path + "): mutexes are not recursive, so the task deadlocks here");
  }
}

}  // namespace proxysim::workload
