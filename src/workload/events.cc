#include "workload/events.h"

#include "proxysim/types.h"

namespace proxysim::workload {

// One rt-app event. `read` is nullptr for events of the later grammar that the simulator does
// not model yet.
struct EventSpec {
  std::string_view name;
  bool (*read)(const Field& f, EventContext* ctx, Event* e);
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
  if (ok) e->resource = ctx->timers->index(ref, ctx->task_index, ctx->workload);
  return ok;
}

// yield: the value is not used ("String can be empty").
bool read_yield(const Field&, EventContext*, Event* e) {
  e->kind = EventKind::kYield;
  return true;
}

// lock, unlock: the name of a mutex (rt-app: a string, else "Unknown or mismatch event type").
// rt-app would also take "" as a name; an empty name is almost certainly a mistake here.
bool read_mutex(const Field& f, EventContext* ctx, Event* e) {
  std::string name;
  if (!read_string(f, ctx->diag, &name)) return false;
  if (name.empty()) {
    ctx->diag->error(f.value->pos, f.path, "expected the name of a mutex, got an empty string");
    return false;
  }
  e->resource = ctx->mutexes->index(name, ctx->workload);
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

// `line 3`, or `line 3, column 20` when `there` is on the line of `here`.
std::string place(const SourceLoc& there, const SourceLoc& here) {
  std::string at = "line " + std::to_string(there.line);
  if (there.line == here.line) at += ", column " + std::to_string(there.column);
  return at;
}

// rt-app HEAD's events[] in its order (1.0's list is the same up to "barrier", without
// "memrun"). Only "runtime"/"run" and "memrun"/"mem" overlap as prefixes, and the longer name
// comes first; "lock" is not a prefix of "unlock".
constexpr EventSpec kEvents[] = {
    {"lock", read_lock},  {"unlock", read_unlock}, {"wait", nullptr},     {"signal", nullptr},
    {"broad", nullptr},   {"sync", nullptr},       {"sleep", read_sleep}, {"runtime", read_runtime},
    {"run", read_run},    {"timer", read_timer},   {"suspend", nullptr},  {"resume", nullptr},
    {"memrun", nullptr},  {"mem", nullptr},        {"iorun", nullptr},    {"yield", read_yield},
    {"barrier", nullptr}, {"fork", nullptr},       {"sem_post", nullptr}, {"sem_wait", nullptr},
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

int MutexTable::index(const std::string& name, Workload* wl) {
  auto [it, inserted] = index_.emplace(name, static_cast<int>(wl->mutexes.size()));
  if (inserted) wl->mutexes.push_back(name);
  return it->second;
}

const EventSpec* match_event(std::string_view key) {
  for (const EventSpec& spec : kEvents)
    if (key.starts_with(spec.name)) return &spec;
  return nullptr;
}

std::string_view event_name(const EventSpec& spec) { return spec.name; }

void read_event(const EventSpec& spec, const Field& f, EventContext* ctx, std::vector<Event>* out) {
  if (spec.read == nullptr) {
    ctx->diag->error(f.key_pos, f.path,
                     "event " + json::quote(spec.name) + " is not simulated yet");
    return;
  }
  Event e;
  e.key = std::string(f.key);
  e.loc = {f.key_pos.line, f.key_pos.column, f.path};
  if (spec.read(f, ctx, &e)) out->push_back(std::move(e));
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
