#include "analyze/replay.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <unordered_map>

namespace proxysim {
namespace {

Policy policy_of_prio(int prio) {
  if (prio < 0) return Policy::kDeadline;
  if (prio < 100) return Policy::kFifo;  // FIFO and RR look the same in a trace
  return Policy::kNormal;
}

SwitchState switch_state(const std::string& s) {
  if (s.empty() || s[0] == 'R') return SwitchState::kRunnable;
  if (s[0] == 'D') return SwitchState::kUninterruptible;
  if (s[0] == 'X' || s[0] == 'Z') return SwitchState::kDead;
  return SwitchState::kSleeping;  // S, T, t, P, I and combinations
}

// rt-app's trace markers, 1.0 and HEAD. Returns the kind: 0 none, 1 iteration begins, 2 event
// starts (*event set), 3 iteration ends; *phase/*loop/*step for 1 and 3.
int parse_rtapp_marker(const std::string& text, int* event, int* loop, int* phase, int* step) {
  int ind = 0;
  int n = 0;
  // rt-app 1.0 (rt-app.c): "[%d] begins loop %d phase %d step %d", "[%d] executing %d",
  // "[%d] end loop %d phase %d step %d".
  if (std::sscanf(text.c_str(), "[%d] begins loop %d phase %d step %d%n", &ind, loop, phase, step,
                  &n) == 4 &&
      n > 0)
    return 1;
  if (std::sscanf(text.c_str(), "[%d] end loop %d phase %d step %d%n", &ind, loop, phase, step,
                  &n) == 4 &&
      n > 0)
    return 3;
  if (std::sscanf(text.c_str(), "[%d] executing %d%n", &ind, event, &n) == 2 && n > 0) return 2;
  // HEAD: "rtapp_loop: event=start thread_loop=%d phase=%d phase_loop=%d", "event=end ...",
  // "rtapp_event: id=%d type=%d desc=%s".
  if (std::sscanf(text.c_str(), "rtapp_loop: event=start thread_loop=%d phase=%d phase_loop=%d%n",
                  loop, phase, step, &n) == 3 &&
      n > 0)
    return 1;
  if (std::sscanf(text.c_str(), "rtapp_loop: event=end thread_loop=%d phase=%d phase_loop=%d%n",
                  loop, phase, step, &n) == 3 &&
      n > 0)
    return 3;
  if (std::sscanf(text.c_str(), "rtapp_event: id=%d%n", event, &n) == 1 && n > 0) return 2;
  return 0;
}

constexpr int kUntracedPid = -1;

class Replayer {
 public:
  Replayer(const TraceData& d, const ReplayOptions& o, const std::vector<Observer*>& obs,
           ReplayReport* r)
      : data_(d), opt_(o), obs_(obs), rep_(r) {}

  void run() {
    const std::vector<RawEvent>& ev = data_.events;
    origin_ = ev.front().t;
    rep_->origin_ns = origin_;
    rep_->nr_cpus = data_.nr_cpus;
    rep_->span_ns = ev.back().t - origin_;
    dominant_prios();
    RunInfo info;
    info.nr_cpus = data_.nr_cpus;
    info.protocol = "kernel";
    info.workload_file = opt_.trace_name;
    for (Observer* o : obs_) o->on_start(info);
    cpus_.resize(static_cast<size_t>(data_.nr_cpus));
    idle_names_.resize(cpus_.size());  // TaskRef::comm of idle points into these: never resized
    for (size_t i = 0; i < cpus_.size(); ++i) idle_names_[i] = "swapper/" + std::to_string(i);
    initial_currs();
    for (const RawEvent& e : ev) handle(e);
    Time end = ev.back().t - origin_;
    // Close the CPU-time spans still open.
    for (auto& [pid, a] : acts_) close_span(pid, a, end);
    for (Observer* o : obs_) o->on_finish(end);
  }

 private:
  struct Task {
    int id = -1;
    int pid = 0;
    std::string_view comm;  // a literal or an entry of comm_pool_
    int prio = 120;
    int on_cpu = -1;          // CPU where the replay has it as curr, or -1
    Time cpu_total = 0;       // CPU time so far (closed intervals)
    Time running_since = -1;  // start of the open interval, when on_cpu >= 0
    bool waking = false;      // sched_waking seen, wakeup not yet
    Time woken_at = -1;       // last sched_wakeup (or _new) time and CPU
    int woken_cpu = -1;
  };
  struct Cpu {
    int curr = -2;  // pid of curr; -2 before the first event; 0 idle; -1 "(untraced)"
    Time verified = 0;
  };
  // Per task: rt-app activation bookkeeping (markers).
  struct Act {
    bool in_iter = false;
    Time start = 0;
    Time last_exec = -1;
    Time timed_wake = -1;  // first hardirq wakeup after last_exec
    Time release = -1;     // release of the next iteration (a timed sleep ended the last one)
    int phase = 0, loop = 0, step = 0;
    int64_t index = 0;
    int span_event = -1;  // open span: "executing" index, or -1
    Time span_cpu0 = 0;
    Time span_t0 = 0;
  };

  Time rel(Time t) const { return t - origin_; }

  void dominant_prios() {
    std::unordered_map<int, std::map<int, int64_t>> seen;
    for (const RawEvent& e : data_.events) {
      if (e.kind == RawEvent::kSwitch) ++seen[e.next_pid][e.next_prio];
    }
    for (auto& [pid, m] : seen) {
      int best = 120;
      int64_t n = -1;
      for (auto& [prio, c] : m) {
        if (c > n) {
          n = c;
          best = prio;
        }
      }
      dominant_[pid] = best;
    }
  }

  Task* task(int pid, const std::string* comm, int prio_hint) {
    if (pid == 0) return nullptr;
    auto it = by_pid_.find(pid);
    Task* t;
    if (it == by_pid_.end()) {
      tasks_.emplace_back();
      t = &tasks_.back();
      t->id = static_cast<int>(tasks_.size()) - 1;
      t->pid = pid;
      auto d = dominant_.find(pid);
      t->prio = d != dominant_.end() ? d->second : prio_hint;
      t->comm = pid == kUntracedPid ? "(untraced)" : "<...>";
      by_pid_[pid] = t;
    } else {
      t = it->second;
    }
    if (comm != nullptr && !comm->empty() && *comm != "<...>" && pid != kUntracedPid) {
      std::string_view c = std::string_view(*comm).substr(0, 15);
      if (c != t->comm) t->comm = comm_pool_.emplace_back(c);  // TaskRef: renames get new storage
    }
    return t;
  }

  TaskRef ref(const Task* t, int cpu) const {
    TaskRef r;
    if (t == nullptr) {
      r.id = -1;
      r.pid = 0;
      r.comm = idle_names_[static_cast<size_t>(cpu)];
      r.prio = 120;
      return r;
    }
    r.id = t->id;
    r.pid = t->pid == kUntracedPid ? -1 : t->pid;
    r.comm = t->comm;
    r.prio = t->prio;
    r.policy = policy_of_prio(t->prio);
    return r;
  }

  Task* by_pid(int pid) {
    if (pid == 0) return nullptr;
    return task(pid, nullptr, 120);
  }

  // Emits a switch on `cpu` from its curr to `next_pid` at relative time t.
  void emit_switch(Time t, int cpu, SwitchState state, int next_pid) {
    Cpu& c = cpus_[static_cast<size_t>(cpu)];
    Task* prev = c.curr > 0 || c.curr == kUntracedPid ? by_pid(c.curr) : nullptr;
    Task* next = next_pid != 0 ? by_pid(next_pid) : nullptr;
    // A task switched in here while the replay still has it as curr elsewhere: that CPU lost a
    // switch; credit it to "(untraced)" from its last verified event.
    if (next != nullptr && next->on_cpu >= 0 && next->on_cpu != cpu && next_pid != kUntracedPid) {
      int other = next->on_cpu;
      Cpu& o = cpus_[static_cast<size_t>(other)];
      Time at = std::min(o.verified, t);
      ++rep_->resyncs;
      rep_->untraced_ns += t - at;  // upper bound: ends at the next event there
      emit_switch(at, other, SwitchState::kRunnable, kUntracedPid);
    }
    if (prev != nullptr) {
      prev->cpu_total += t - prev->running_since;
      prev->on_cpu = -1;
    }
    if (next != nullptr) {
      next->on_cpu = cpu;
      next->running_since = t;
      next->waking = false;
    }
    TaskRef pr = ref(prev, cpu);
    TaskRef nr = ref(next, cpu);
    for (Observer* o : obs_) o->on_sched_switch(t, cpu, pr, state, nr, nr);
    c.curr = next_pid;
    c.verified = t;
  }

  void initial_currs() {
    std::vector<bool> done(cpus_.size(), false);
    size_t left = cpus_.size();
    for (const RawEvent& e : data_.events) {
      if (left == 0) break;
      size_t c = static_cast<size_t>(e.cpu);
      if (done[c]) continue;
      done[c] = true;
      --left;
      int pid = e.kind == RawEvent::kSwitch ? e.prev_pid : e.ctx_pid;
      const std::string& comm = e.kind == RawEvent::kSwitch ? e.prev_comm : e.ctx_comm;
      cpus_[c].curr = 0;
      if (pid != 0) {
        task(pid, &comm, e.kind == RawEvent::kSwitch ? e.prev_prio : 120);
        emit_switch(0, static_cast<int>(c), SwitchState::kRunnable, pid);
      }
    }
    for (Cpu& c : cpus_) {
      if (c.curr == -2) c.curr = 0;
    }
  }

  // The event's context task is `pid` but the replay has another curr on `cpu`.
  void resync(Time t, int cpu, int pid) {
    Cpu& c = cpus_[static_cast<size_t>(cpu)];
    Task* n = by_pid(pid);
    // An idle CPU that got a task queued by a wakeup runs it at once: the missing switch out of
    // idle is put at that wakeup.
    if (c.curr == 0 && n != nullptr && n->woken_cpu == cpu && n->woken_at >= c.verified &&
        n->woken_at <= t && n->on_cpu < 0) {
      emit_switch(n->woken_at, cpu, SwitchState::kRunnable, pid);
      return;
    }
    ++rep_->resyncs;
    if (t > c.verified && c.curr != kUntracedPid) {
      rep_->untraced_ns += t - c.verified;
      emit_switch(c.verified, cpu, SwitchState::kRunnable, kUntracedPid);
    } else if (c.curr == kUntracedPid) {
      rep_->untraced_ns += t - c.verified;
    }
    emit_switch(t, cpu, SwitchState::kRunnable, pid);
  }

  Time cpu_now(const Task* t, Time now) const {
    return t->cpu_total + (t->on_cpu >= 0 ? now - t->running_since : 0);
  }

  void close_span(int pid, Act& a, Time t) {
    if (a.span_event < 0) return;
    Task* tk = by_pid(pid);
    EventSpan s;
    s.pid = pid;
    s.comm = tk->comm;
    s.phase = a.phase;
    s.event = a.span_event;
    s.cpu_ns = cpu_now(tk, t) - a.span_cpu0;
    s.wall_ns = t - a.span_t0;
    rep_->spans.push_back(std::move(s));
    a.span_event = -1;
  }

  void marker(const RawEvent& e, Time t) {
    ++rep_->markers;
    int event = 0, loop = 0, phase = 0, step = 0;
    int k = parse_rtapp_marker(e.text, &event, &loop, &phase, &step);
    if (k == 0 || e.ctx_pid == 0) return;
    Task* tk = by_pid(e.ctx_pid);
    Act& a = acts_[e.ctx_pid];
    close_span(e.ctx_pid, a, t);
    if (k == 1) {
      a.in_iter = true;
      a.start = a.release >= 0 ? a.release : t;
      a.release = -1;
      a.last_exec = -1;
      a.timed_wake = -1;
      a.phase = phase;
      a.loop = loop;
      a.step = step;
    } else if (k == 2) {
      a.last_exec = t;
      a.timed_wake = -1;
      a.span_event = event;
      a.span_cpu0 = cpu_now(tk, t);
      a.span_t0 = t;
    } else if (k == 3 && a.in_iter) {
      a.in_iter = false;
      Activation act;
      act.phase = a.phase;
      act.index = a.index++;
      act.start = a.start;
      act.pass = a.loop;
      act.phase_loop = a.step;
      // The iteration ended in a timed sleep (its last event was woken by a timer, in hardirq
      // context): its work ended when that event began; the sleep's end releases the next one.
      if (a.timed_wake >= 0 && a.last_exec >= 0) {
        act.end = a.last_exec;
        a.release = a.timed_wake;
      } else {
        act.end = t;
      }
      auto d = opt_.deadline_by_comm.find(std::string(tk->comm));
      if (d != opt_.deadline_by_comm.end()) act.deadline = act.start + d->second;
      ++rep_->activations;
      TaskRef r = ref(tk, e.cpu);
      for (Observer* o : obs_) o->on_activation(r, act);
    }
  }

  MigrateReason migrate_reason(const RawEvent& e, const Task* tk) const {
    if (tk != nullptr && tk->waking) return MigrateReason::kWakeup;  // between waking and wakeup
    if (e.ctx_comm.rfind("migration/", 0) == 0) return MigrateReason::kUnknown;  // stopper
    int prio = e.prev_prio;
    bool by_dest = e.cpu == e.target_cpu;
    bool by_orig = e.cpu == e.orig_cpu;
    if (prio < 0)
      return by_orig   ? MigrateReason::kDlPush
             : by_dest ? MigrateReason::kDlPull
                       : MigrateReason::kUnknown;
    if (prio < 100)
      return by_orig   ? MigrateReason::kRtPush
             : by_dest ? MigrateReason::kRtPull
                       : MigrateReason::kUnknown;
    if (by_dest) return MigrateReason::kLoadBalance;
    if (!by_orig) return MigrateReason::kNohzBalance;
    return MigrateReason::kUnknown;
  }

  void handle(const RawEvent& e) {
    Time t = rel(e.t);
    if (e.cpu < 0 || static_cast<size_t>(e.cpu) >= cpus_.size()) return;
    Cpu& c = cpus_[static_cast<size_t>(e.cpu)];
    int ctx = e.kind == RawEvent::kSwitch ? e.prev_pid : e.ctx_pid;
    if (e.kind == RawEvent::kOther) {
      ++rep_->skipped;
    } else {
      ++rep_->replayed;
    }
    if (c.curr != ctx) {
      const std::string& comm = e.kind == RawEvent::kSwitch ? e.prev_comm : e.ctx_comm;
      if (ctx != 0) task(ctx, &comm, e.kind == RawEvent::kSwitch ? e.prev_prio : 120);
      resync(t, e.cpu, ctx);
    }
    c.verified = t;
    switch (e.kind) {
      case RawEvent::kSwitch: {
        task(e.prev_pid, &e.prev_comm, e.prev_prio);
        task(e.next_pid, &e.next_comm, e.next_prio);
        emit_switch(t, e.cpu, switch_state(e.prev_state), e.next_pid);
        break;
      }
      case RawEvent::kWaking: {
        Task* tk = task(e.prev_pid, &e.prev_comm, e.prev_prio);
        if (tk == nullptr) break;
        tk->waking = true;
        auto a = acts_.find(e.prev_pid);
        if (e.hardirq && a != acts_.end() && a->second.in_iter && a->second.last_exec >= 0 &&
            a->second.timed_wake < 0)
          a->second.timed_wake = t;
        TaskRef r = ref(tk, e.cpu);
        for (Observer* o : obs_) o->on_sched_waking(t, e.cpu, r, e.target_cpu);
        break;
      }
      case RawEvent::kWakeup:
      case RawEvent::kWakeupNew: {
        Task* tk = task(e.prev_pid, &e.prev_comm, e.prev_prio);
        if (tk == nullptr) break;
        tk->waking = false;
        tk->woken_at = t;
        tk->woken_cpu = e.target_cpu;
        TaskRef r = ref(tk, e.cpu);
        bool is_new = e.kind == RawEvent::kWakeupNew;
        if (is_new)
          for (Observer* o : obs_) o->on_task_new(t, r);
        for (Observer* o : obs_) o->on_sched_wakeup(t, e.cpu, r, e.target_cpu, is_new);
        break;
      }
      case RawEvent::kMigrate: {
        Task* tk = task(e.prev_pid, &e.prev_comm, e.prev_prio);
        if (tk == nullptr) break;
        MigrateReason why = migrate_reason(e, tk);
        if (why == MigrateReason::kUnknown) ++rep_->unknown_migrations;
        TaskRef r = ref(tk, e.cpu);
        for (Observer* o : obs_) o->on_sched_migrate(t, e.cpu, r, e.orig_cpu, e.target_cpu, why);
        break;
      }
      case RawEvent::kPiSetprio: {
        Task* tk = task(e.prev_pid, &e.prev_comm, e.prev_prio);
        if (tk == nullptr) break;
        TaskRef r = ref(tk, e.cpu);
        for (Observer* o : obs_) o->on_pi_setprio(t, e.cpu, r, e.prev_prio, e.next_prio);
        break;
      }
      case RawEvent::kExit: {
        Task* tk = task(e.prev_pid, &e.prev_comm, e.prev_prio);
        if (tk == nullptr) break;
        TaskRef r = ref(tk, e.cpu);
        for (Observer* o : obs_) o->on_process_exit(t, e.cpu, r);
        break;
      }
      case RawEvent::kMarker: marker(e, t); break;
      case RawEvent::kOther: break;
    }
  }

  const TraceData& data_;
  const ReplayOptions& opt_;
  const std::vector<Observer*>& obs_;
  ReplayReport* rep_;
  Time origin_ = 0;
  std::deque<Task> tasks_;
  std::deque<std::string> comm_pool_;  // every comm a task had; TaskRef::comm points into it
  std::unordered_map<int, Task*> by_pid_;
  std::unordered_map<int, int> dominant_;
  std::vector<Cpu> cpus_;
  std::map<int, Act> acts_;
  std::vector<std::string> idle_names_;
};

}  // namespace

void replay_trace(const TraceData& data, const ReplayOptions& opt,
                  const std::vector<Observer*>& observers, ReplayReport* report) {
  *report = ReplayReport{};
  if (data.events.empty() || data.nr_cpus <= 0) return;
  Replayer(data, opt, observers, report).run();
}

}  // namespace proxysim
