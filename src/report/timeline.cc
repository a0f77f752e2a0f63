// TimelineCollector: observer events -> slices, lock bands, migrations and latency samples.
#include "report/timeline.h"

#include <algorithm>
#include <utility>

namespace proxysim {

void TimelineCollector::on_start(const RunInfo& info) {
  tl_.protocol = std::string(info.protocol);
  tl_.nr_cpus = info.nr_cpus;
  if (info.nr_cpus > 0) cpu(info.nr_cpus - 1);
}

void TimelineCollector::touch(const TaskRef& p) {
  if (p.id < 0) return;
  size_t i = static_cast<size_t>(p.id);
  if (i >= tl_.tasks.size()) {
    tl_.tasks.resize(i + 1);
    state_.resize(i + 1);
  }
  TimelineTask& t = tl_.tasks[i];
  if (t.id < 0) {  // first sight: its base attributes
    t.id = p.id;
    t.pid = p.pid;
    t.policy = p.policy;
    t.prio = p.prio;
  }
  // The whole thread name, as the metrics use it (comm is cut to 15 characters or "rt-app").
  std::string_view name = p.name.empty() ? p.comm : p.name;
  if (t.name != name) t.name.assign(name);
}

TimelineCollector::Open& TimelineCollector::cpu(int c) {
  size_t i = static_cast<size_t>(c < 0 ? 0 : c);
  if (i >= open_.size()) {
    open_.resize(i + 1);
    tl_.cpus.resize(i + 1);
  }
  return open_[i];
}

void TimelineCollector::close(int c, Time t, SliceEnd how) {
  Open& o = cpu(c);
  if (o.task >= 0 && t > o.since)
    tl_.cpus[static_cast<size_t>(c)].push_back(Slice{o.since, t, o.task, o.donor, o.prio, how});
  o.since = t;
}

void TimelineCollector::on_task_new(Time, const TaskRef& p) { touch(p); }

void TimelineCollector::on_sched_switch(Time t, int c, const TaskRef& prev, SwitchState prev_state,
                                        const TaskRef& next, const TaskRef& next_donor) {
  touch(prev);
  touch(next);
  touch(next_donor);
  bool same = prev.id == next.id;  // only the donor changed (proxy pick of the same curr)
  SliceEnd how = SliceEnd::kContinues;
  if (!same) {
    switch (prev_state) {
      case SwitchState::kRunnable: how = SliceEnd::kRunnable; break;
      case SwitchState::kSleeping: how = SliceEnd::kSleeping; break;
      case SwitchState::kDead: how = SliceEnd::kDead; break;
      case SwitchState::kUninterruptible: how = SliceEnd::kUninterruptible; break;
    }
  }
  close(c, t, how);
  Open& o = cpu(c);
  o.task = next.id < 0 ? -1 : next.id;
  o.donor = o.task < 0 ? -1 : (next_donor.id < 0 ? o.task : next_donor.id);
  o.prio = next.prio;
  if (same) return;
  if (prev.id >= 0 && state_[static_cast<size_t>(prev.id)].on_cpu == c)
    state_[static_cast<size_t>(prev.id)].on_cpu = -1;
  if (next.id >= 0) {
    TaskState& n = state_[static_cast<size_t>(next.id)];
    n.on_cpu = c;
    if (n.waking_since != kTimeNever) {
      tl_.tasks[static_cast<size_t>(next.id)].wakeup_latency.push_back(t - n.waking_since);
      n.waking_since = kTimeNever;
    }
  }
}

// Wakeup latency as MetricsCollector measures it (docs/metrics.md): from the first sched_waking
// (or sched_wakeup_new) of a task that is not curr anywhere to its next switch-in.
void TimelineCollector::on_sched_waking(Time t, int, const TaskRef& p, int) {
  touch(p);
  if (p.id < 0) return;
  TaskState& s = state_[static_cast<size_t>(p.id)];
  if (s.on_cpu < 0 && s.waking_since == kTimeNever) s.waking_since = t;
}

void TimelineCollector::on_sched_wakeup(Time t, int, const TaskRef& p, int, bool is_new) {
  touch(p);
  if (p.id < 0 || !is_new) return;
  TaskState& s = state_[static_cast<size_t>(p.id)];
  if (s.on_cpu < 0 && s.waking_since == kTimeNever) s.waking_since = t;
}

void TimelineCollector::on_sched_migrate(Time t, int, const TaskRef& p, int orig_cpu, int dest_cpu,
                                         MigrateReason reason) {
  touch(p);
  if (p.id < 0) return;
  tl_.migrations.push_back(Migration{t, p.id, orig_cpu, dest_cpu, reason});
}

void TimelineCollector::on_activation(const TaskRef& p, const Activation& a) {
  touch(p);
  if (p.id < 0) return;
  tl_.tasks[static_cast<size_t>(p.id)].response.push_back(a.end - a.start);
}

void TimelineCollector::note_lock(int lock, std::string_view name) {
  size_t l = static_cast<size_t>(lock);
  if (l >= tl_.locks.size()) tl_.locks.resize(l + 1);
  if (tl_.locks[l] != name) tl_.locks[l].assign(name);
}

void TimelineCollector::end_wait(int task, Time t) {
  TaskState& s = state_[static_cast<size_t>(task)];
  if (s.waiting < 0) return;
  tl_.bands[static_cast<size_t>(s.waiting)].end = t;
  s.waiting = -1;
}

void TimelineCollector::on_lock_contend(Time t, int, const TaskRef& p, int lock,
                                        std::string_view lock_name, const TaskRef& owner) {
  touch(p);
  touch(owner);
  if (p.id < 0 || lock < 0) return;
  note_lock(lock, lock_name);
  TaskState& s = state_[static_cast<size_t>(p.id)];
  // A repeated contend for the same lock (lost a steal, waits again) continues the wait.
  if (s.waiting >= 0 && tl_.bands[static_cast<size_t>(s.waiting)].lock == lock) return;
  end_wait(p.id, t);
  s.waiting = static_cast<int>(tl_.bands.size());
  tl_.bands.push_back(
      LockBand{t, kTimeNever, p.id, lock, LockBand::kWait, static_cast<int>(s.held.size())});
}

void TimelineCollector::on_lock_acquire(Time t, int, const TaskRef& p, int lock,
                                        std::string_view lock_name) {
  touch(p);
  if (p.id < 0 || lock < 0) return;
  note_lock(lock, lock_name);
  TaskState& s = state_[static_cast<size_t>(p.id)];
  if (s.waiting >= 0 && tl_.bands[static_cast<size_t>(s.waiting)].lock == lock) end_wait(p.id, t);
  s.held.push_back(tl_.bands.size());
  tl_.bands.push_back(
      LockBand{t, kTimeNever, p.id, lock, LockBand::kHold, static_cast<int>(s.held.size()) - 1});
}

void TimelineCollector::on_lock_release(Time t, int, const TaskRef& p, int lock,
                                        std::string_view lock_name) {
  touch(p);
  if (p.id < 0 || lock < 0) return;
  note_lock(lock, lock_name);
  TaskState& s = state_[static_cast<size_t>(p.id)];
  for (size_t i = s.held.size(); i-- > 0;) {
    LockBand& b = tl_.bands[s.held[i]];
    if (b.lock != lock) continue;
    b.end = t;
    s.held.erase(s.held.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
}

void TimelineCollector::on_pi_setprio(Time t, int, const TaskRef& p, int, int newprio) {
  touch(p);
  if (p.id < 0) return;
  // A boost or deboost of a running task splits its slice, so each slice has one prio.
  for (size_t c = 0; c < open_.size(); ++c) {
    Open& o = open_[c];
    if (o.task != p.id || o.prio == newprio) continue;
    close(static_cast<int>(c), t, SliceEnd::kContinues);
    o.prio = newprio;
  }
}

void TimelineCollector::on_finish(Time t) {
  tl_.end = t;
  for (size_t c = 0; c < open_.size(); ++c) close(static_cast<int>(c), t, SliceEnd::kRunEnd);
  for (LockBand& b : tl_.bands)
    if (b.end == kTimeNever) b.end = t;
  // Empty bands (acquired and released at one instant) stay: a lock taken uncontended in zero
  // time is still an event the reader may look for; the report draws them one pixel wide.
  std::stable_sort(tl_.bands.begin(), tl_.bands.end(), [](const LockBand& a, const LockBand& b) {
    return a.task != b.task ? a.task < b.task : a.start < b.start;
  });
}

Timeline TimelineCollector::take() {
  state_.clear();
  open_.clear();
  return std::move(tl_);
}

}  // namespace proxysim
