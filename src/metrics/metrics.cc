// MetricsCollector: event -> metric bookkeeping. Output writers are in metrics_output.cc.
#include "metrics/metrics.h"

#include <algorithm>
#include <utility>

namespace proxysim {

int64_t percentile_nearest_rank(const std::vector<int64_t>& sorted, int p) {
  // rank = ceil(p * n / 100), at least 1 (1-based).
  int64_t n = static_cast<int64_t>(sorted.size());
  int64_t rank = (static_cast<int64_t>(p) * n + 99) / 100;
  rank = std::clamp<int64_t>(rank, 1, n);
  return sorted[static_cast<size_t>(rank - 1)];
}

Distribution summarize(std::vector<int64_t> samples) {
  Distribution d;
  if (samples.empty()) return d;
  std::sort(samples.begin(), samples.end());
  d.count = static_cast<int64_t>(samples.size());
  d.min = samples.front();
  d.max = samples.back();
  int64_t sum = 0;
  for (int64_t s : samples) sum += s;
  // Round to nearest, halves away from zero, in integers.
  int64_t q = sum / d.count;
  int64_t r = sum % d.count;
  if (2 * (r < 0 ? -r : r) >= d.count) q += sum < 0 ? -1 : 1;
  d.mean = q;
  d.p50 = percentile_nearest_rank(samples, 50);
  d.p99 = percentile_nearest_rank(samples, 99);
  return d;
}

void MetricsCollector::on_start(const RunInfo& info) {
  protocol_ = std::string(info.protocol);
  nr_cpus_ = info.nr_cpus;
  seed_ = info.seed;
  if (nr_cpus_ > 0) cpu_state(nr_cpus_ - 1);
}

MetricsCollector::TaskState* MetricsCollector::touch_new(const TaskRef& p, std::string_view name) {
  size_t i = static_cast<size_t>(p.id);
  if (i >= tasks_.size()) tasks_.grow_to(i + 1);
  TaskState& ts = tasks_[i];
  ts.seen = true;
  ts.name.assign(name);
  ts.name_src = name.data();
  ts.pid = p.pid;
  ts.policy = p.policy;
  ts.prio = p.prio;
  return &ts;
}

MetricsCollector::CpuState& MetricsCollector::cpu_state(int cpu) {
  size_t i = static_cast<size_t>(cpu < 0 ? 0 : cpu);
  while (cpus_.size() <= i) {
    cpus_.emplace_back();
    cpus_.back().since = origin_;
  }
  return cpus_[i];
}

void MetricsCollector::close_interval(CpuState& c, Time t) {
  Time dt = t - c.since;
  c.since = t;
  if (dt <= 0) return;
  if (c.curr < 0) {
    c.idle += dt;
    return;
  }
  c.busy += dt;
  tasks_[static_cast<size_t>(c.curr)].cpu_time += dt;
  if (c.donor >= 0 && c.donor != c.curr) {
    c.proxy += dt;
    tasks_[static_cast<size_t>(c.curr)].proxy += dt;
    tasks_[static_cast<size_t>(c.donor)].donated += dt;
  }
}

void MetricsCollector::on_task_new(Time, const TaskRef& p) { touch(p); }

void MetricsCollector::on_sched_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                                       const TaskRef& next, const TaskRef& next_donor) {
  touch(next_donor);
  TaskState* p = touch(prev);  // TaskTable never moves a state: both pointers stay valid
  TaskState* n = touch(next);
  CpuState& c = cpu_state(cpu);
  close_interval(c, t);
  bool same = prev.id == next.id;  // only the donor changed (proxy pick of the same curr)
  if (p != nullptr && !same) {
    if (prev_state == SwitchState::kRunnable) {
      ++p->involuntary;
    } else {
      ++p->voluntary;
    }
    if (p->on_cpu == cpu) p->on_cpu = -1;
  }
  c.curr = next.id < 0 ? -1 : next.id;
  c.donor = c.curr < 0 ? -1 : (next_donor.id < 0 ? c.curr : next_donor.id);
  if (n != nullptr && !same) {
    n->on_cpu = cpu;
    if (n->waking_since != kTimeNever) {
      n->wakeup_latency.push_back(t - n->waking_since);
      n->waking_since = kTimeNever;
    }
  }
  // Who runs changed: owner chains may have started or stopped running.
  if (!same && !waiters_.empty()) update_starved(t);
}

void MetricsCollector::on_sched_waking(Time t, int, const TaskRef& p, int) {
  TaskState* ts = touch(p);
  // A wakeup of a task that is still curr somewhere (it had not yet scheduled out) is no wait.
  if (ts == nullptr || ts->on_cpu >= 0) return;
  if (ts->waking_since == kTimeNever) ts->waking_since = t;
}

void MetricsCollector::on_sched_wakeup(Time t, int, const TaskRef& p, int, bool is_new) {
  TaskState* ts = touch(p);
  // The kernel emits no sched_waking for a new task: its wait starts at sched_wakeup_new.
  if (ts == nullptr || !is_new || ts->on_cpu >= 0) return;
  if (ts->waking_since == kTimeNever) ts->waking_since = t;
}

void MetricsCollector::on_sched_migrate(Time, int, const TaskRef& p, int, int,
                                        MigrateReason reason) {
  TaskState* ts = touch(p);
  if (ts == nullptr) return;
  int r = static_cast<int>(reason);
  if (r >= 0 && r < kNrMigrateReasons) ++ts->migrations[static_cast<size_t>(r)];
  ++ts->migrations_total;
}

void MetricsCollector::on_activation(const TaskRef& p, const Activation& a) {
  TaskState* ts = touch(p);
  if (ts == nullptr) return;
  ++ts->activations;
  ts->response.push_back(a.end - a.start);
  if (a.deadline != kTimeNever && a.end > a.deadline) ++ts->deadline_misses;
  if (keep_activations_) activation_log_.push_back(ActivationRecord{p.id, a});
}

int MetricsCollector::lock_owner(int lock) const {
  if (lock < 0 || static_cast<size_t>(lock) >= owner_.size()) return -1;
  return owner_[static_cast<size_t>(lock)];
}

bool MetricsCollector::owner_starved(const TaskState& w) const {
  int o = lock_owner(w.wait_lock);
  if (o < 0) return false;  // the lock is free (released, not yet taken): nobody to wait for
  // The chain has at most tasks_.size() distinct tasks: one more step means a cycle (deadlock),
  // in which nobody runs.
  for (size_t steps = 0; steps <= tasks_.size(); ++steps) {
    const TaskState& ot = tasks_[static_cast<size_t>(o)];
    if (ot.on_cpu >= 0) return false;
    o = lock_owner(ot.wait_lock);
    if (o < 0) return true;  // end of the chain: its last owner runs nowhere
  }
  return true;
}

void MetricsCollector::update_starved(Time t) {
  for (int id : waiters_) {
    TaskState& w = tasks_[static_cast<size_t>(id)];
    bool starved = owner_starved(w);
    if (starved && w.starved_since == kTimeNever) {
      w.starved_since = t;
    } else if (!starved && w.starved_since != kTimeNever) {
      w.owner_starved += t - w.starved_since;
      w.starved_since = kTimeNever;
    }
  }
}

void MetricsCollector::end_wait(int id, Time t, bool acquired) {
  TaskState& w = tasks_[static_cast<size_t>(id)];
  if (w.wait_lock < 0) return;
  Time d = t - w.wait_since;
  w.lock_wait.total += d;
  w.lock_wait.max = std::max(w.lock_wait.max, d);
  if (acquired) ++w.lock_wait.count;
  if (w.starved_since != kTimeNever) {
    w.owner_starved += t - w.starved_since;
    w.starved_since = kTimeNever;
  }
  w.wait_lock = -1;
  auto it = std::find(waiters_.begin(), waiters_.end(), id);
  if (it != waiters_.end()) {
    *it = waiters_.back();
    waiters_.pop_back();
  }
}

void MetricsCollector::on_lock_contend(Time t, int, const TaskRef& p, int lock, std::string_view,
                                       const TaskRef& owner) {
  touch(owner);
  TaskState* ts = touch(p);
  if (ts == nullptr || lock < 0) return;
  // Ownership comes from acquire/release only: the `owner` a contend names need not hold the
  // lock (while a handoff is pending the model names the first waiter).
  if (ts->wait_lock != lock) {  // a repeated contend (lost a steal, waits again) continues
    if (ts->wait_lock >= 0) end_wait(p.id, t, /*acquired=*/false);
    ts->wait_lock = lock;
    ts->wait_since = t;
    ts->starved_since = kTimeNever;
    waiters_.push_back(p.id);
  }
  update_starved(t);
}

void MetricsCollector::on_lock_acquire(Time t, int, const TaskRef& p, int lock, std::string_view) {
  TaskState* ts = touch(p);
  if (ts == nullptr || lock < 0) return;
  size_t l = static_cast<size_t>(lock);
  if (l >= owner_.size()) owner_.resize(l + 1, -1);
  if (ts->wait_lock == lock) end_wait(p.id, t, /*acquired=*/true);
  owner_[l] = p.id;
  if (!waiters_.empty()) update_starved(t);
}

void MetricsCollector::on_lock_release(Time t, int, const TaskRef& p, int lock, std::string_view) {
  touch(p);
  if (lock < 0 || static_cast<size_t>(lock) >= owner_.size()) return;
  // Only the owner's release frees it (a handoff may already have made the waiter owner).
  if (owner_[static_cast<size_t>(lock)] == p.id) owner_[static_cast<size_t>(lock)] = -1;
  if (!waiters_.empty()) update_starved(t);
}

void MetricsCollector::on_deadlock(Time, std::string_view message) {
  deadlocks_.emplace_back(message);
}

void MetricsCollector::on_finish(Time t) {
  for (CpuState& c : cpus_) close_interval(c, t);
  // Waits still open count in total and max (not in count): a wait that never ends, e.g. in a
  // deadlock or an unbounded inversion, must not vanish from the metrics.
  while (!waiters_.empty()) end_wait(waiters_.back(), t, /*acquired=*/false);
}

RunMetrics MetricsCollector::result(const RunStats& stats) const {
  RunMetrics r;
  r.protocol = protocol_;
  r.nr_cpus = nr_cpus_;
  r.seed = seed_;
  r.stats = stats;
  r.deadlocks = deadlocks_;
  size_t seen = 0;
  for (size_t i = 0; i < tasks_.size(); ++i) seen += tasks_[i].seen;
  r.tasks.reserve(seen);
  for (size_t i = 0; i < tasks_.size(); ++i) {
    const TaskState& ts = tasks_[i];
    if (!ts.seen) continue;
    TaskMetrics m;
    m.id = static_cast<int>(i);
    m.name = ts.name;
    m.pid = ts.pid;
    m.policy = ts.policy;
    m.prio = ts.prio;
    m.cpu_time_ns = ts.cpu_time;
    m.donated_ns = ts.donated;
    m.proxy_ns = ts.proxy;
    m.activations = ts.activations;
    m.response_ns = summarize(ts.response);
    m.wakeup_latency_ns = summarize(ts.wakeup_latency);
    m.lock_wait_ns = ts.lock_wait;
    m.owner_starved_ns = ts.owner_starved;
    m.deadline_misses = ts.deadline_misses;
    m.migrations = ts.migrations;
    m.migrations_total = ts.migrations_total;
    m.switches_voluntary = ts.voluntary;
    m.switches_involuntary = ts.involuntary;
    r.tasks.push_back(std::move(m));
  }
  for (size_t i = 0; i < cpus_.size(); ++i) {
    const CpuState& c = cpus_[i];
    r.cpus.push_back(CpuMetrics{static_cast<int>(i), c.busy, c.idle, c.proxy});
  }
  r.activation_log = activation_log_;
  return r;
}

}  // namespace proxysim
