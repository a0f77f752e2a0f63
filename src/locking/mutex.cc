// Workload mutexes under the three kernel lock behaviours (DESIGN.md §5):
//  - none and proxy: struct mutex (kernel/locking/mutex.c): FIFO waiters, the unlocker wakes the
//    first waiter (through a wake_q, i.e. after the wait_lock is dropped), a running task may
//    steal the lock before the woken waiter runs, a woken first waiter that finds the lock taken
//    sets MUTEX_FLAG_HANDOFF so that the next unlock hands the lock to it, and optimistic
//    spinning while the owner runs. With proxy execution the unlocker hands the lock straight to
//    its blocked donor when that donor waits on this lock.
//  - pi: rt_mutex (kernel/locking/rtmutex.c): waiters ordered by priority, the owner inherits
//    the top waiter's priority (transitively along the chain), deboost at unlock, the steal
//    rule, SCHED_DEADLINE inheritance. Fair waiters count as DEFAULT_PRIO: no nice inheritance.
#include <fmt/format.h>

#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {

bool parse_protocol(const std::string& s, Protocol* out) {
  if (s == "none")
    *out = Protocol::kNone;
  else if (s == "pi")
    *out = Protocol::kPi;
  else if (s == "proxy" || s == "proxy:full")
    *out = Protocol::kProxyFull;
  else if (s == "proxy:single-rq")
    *out = Protocol::kProxySingleRq;
  else if (s == "proxy:migrate")
    *out = Protocol::kProxyMigrate;
  else
    return false;
  return true;
}

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kNone: return "none";
    case Protocol::kPi: return "pi";
    case Protocol::kProxySingleRq: return "proxy:single-rq";
    case Protocol::kProxyMigrate: return "proxy:migrate";
    case Protocol::kProxyFull: return "proxy:full";
  }
  return "?";
}

namespace {

constexpr int kDefaultPrio = 120;  // DEFAULT_PRIO

// __waiter_prio(): RT and DL waiters by their prio, every fair waiter as DEFAULT_PRIO.
int waiter_prio(const Task* p) { return p->prio < 100 ? p->prio : kDefaultPrio; }

// rt_waiter_node_less(): by prio; DL waiters by deadline; then FIFO.
bool waiter_less(const Task* a, const Task* b) {
  int pa = waiter_prio(a), pb = waiter_prio(b);
  if (pa != pb) return pa < pb;
  if (pa < 0 && a->dl.deadline != b->dl.deadline) return a->dl.deadline < b->dl.deadline;
  return a->waiter_seq < b->waiter_seq;
}

void erase(std::vector<Task*>& v, Task* p) {
  auto it = std::find(v.begin(), v.end(), p);
  if (it != v.end()) v.erase(it);
}

}  // namespace

void Kernel::lock_acquired(Rq& rq, Task* p, Mutex* m) {
  m->owner = p;
  erase(m->waiters, p);
  if (p->blocked_on == m) p->blocked_on = nullptr;
  if (p->contending == m) p->contending = nullptr;
  p->held.push_back(m);
  for (Observer* o : obs_) o->on_lock_acquire(now_, rq.cpu, ref(p), m->id, m->name);
  // rt_mutex: the new owner inherits from the waiters still queued.
  if (protocol_ == Protocol::kPi && !m->waiters.empty()) pi_adjust_chain(p);
}

// Reports a blocked_on cycle through m as a workload failure (exit code 1), naming every task
// and lock in it. Returns true if p waiting on m would close a cycle.
bool Kernel::detect_deadlock(Task* p, Mutex* m) {
  std::string cycle = fmt::format("{} waits for {}", p->name, m->name);
  Mutex* cur = m;
  for (size_t guard = 0; guard <= tasks_.size() && cur; ++guard) {
    Task* owner = cur->owner;
    if (!owner) return false;
    cycle += fmt::format(" held by {}", owner->name);
    if (owner == p) {
      std::string msg = fmt::format("deadlock at {} ns: {}", now_, cycle);
      report_deadlock(msg);
      return true;
    }
    // A spinner waits as surely as a sleeper: AB-BA between two spinners is a deadlock too.
    cur = owner->blocked_on ? owner->blocked_on : owner->spinning_on;
    if (cur) cycle += fmt::format(", which waits for {}", cur->name);
  }
  return false;
}

// mutex_lock() / rt_mutex_lock() by p, the current task of rq. Returns true when p holds m.
// Otherwise p either spins (p->spinning_on, stays running) or waits (p->blocked_on = m, state
// TASK_UNINTERRUPTIBLE; the caller reschedules).
bool Kernel::mutex_lock(Rq& rq, Task* p, int id, bool retry) {
  Mutex* m = &mutexes_[id];
  if (p->spinning_on) {
    erase(p->spinning_on->spinners, p);
    p->spinning_on = nullptr;
  }
  if (m->owner == p) {
    if (retry) return true;  // handed over while we waited
    detect_deadlock(p, m);   // recursive locking of a non-recursive mutex
    return false;
  }
  if (!m->owner) {
    bool can_take;
    if (protocol_ == Protocol::kPi) {
      // try_to_take_rt_mutex(): the top waiter, or a task that may steal from it.
      Task* top = m->waiters.empty() ? nullptr : m->waiters.front();
      can_take = !top || top == p || waiter_less(p, top) ||
                 (waiter_prio(p) == waiter_prio(top) && waiter_prio(p) >= 100);
    } else {
      // __mutex_trylock(): anyone, unless a handoff to the first waiter is pending.
      can_take = !m->handoff || (!m->waiters.empty() && m->waiters.front() == p);
    }
    if (can_take) {
      if (m->handoff && !m->waiters.empty() && m->waiters.front() == p) m->handoff = false;
      lock_acquired(rq, p, m);
      return true;
    }
  }
  if (p->contending != m) {
    // The first failed attempt of this lock event: lock_wait starts here.
    p->contending = m;
    Task* holder = m->owner ? m->owner : (m->waiters.empty() ? p : m->waiters.front());
    for (Observer* o : obs_) o->on_lock_contend(now_, rq.cpu, ref(p), m->id, m->name, ref(holder));
  }
  if (m->owner && detect_deadlock(p, m)) return false;
  if (m->owner && m->owner->state == TaskState::kDead) {
    std::string msg = fmt::format("deadlock at {} ns: {} waits for {}, held by {} which has exited",
                                  now_, p->name, m->name, m->owner->name);
    report_deadlock(msg);
    return false;
  }
  const bool queued = std::find(m->waiters.begin(), m->waiters.end(), p) != m->waiters.end();
  // mutex_optimistic_spin(): spin while the owner runs on its CPU (struct mutex only). The
  // spinner burns its CPU; it retries when the owner unlocks, and gives up and sleeps when the
  // owner leaves the CPU (see context_switch()).
  if (protocol_ != Protocol::kPi && opt_.mutex_spin && m->owner && m->owner->on_cpu &&
      cpu_rq(m->owner->cpu).curr == m->owner && !rq.need_resched) {
    p->spinning_on = m;
    m->spinners.push_back(p);
    return false;
  }
  if (!queued) {
    if (protocol_ == Protocol::kPi) {
      p->waiter_seq = ++waiter_seq_;
      m->waiters.insert(std::upper_bound(m->waiters.begin(), m->waiters.end(), p, waiter_less), p);
    } else {
      m->waiters.push_back(p);
    }
  } else if (protocol_ != Protocol::kPi && m->waiters.front() == p && m->owner) {
    // __mutex_trylock_or_handoff(first): a woken first waiter that lost the race.
    m->handoff = true;
  }
  p->blocked_on = m;
  p->state = TaskState::kSleeping;
  if (protocol_ == Protocol::kPi && m->owner) pi_adjust_chain(m->owner);
  resched_curr(rq);
  return false;
}

// mutex_unlock() by p. A task unlocking what it does not hold fails the workload (exit 1).
void Kernel::mutex_unlock(Rq& rq, Task* p, int id) {
  Mutex* m = &mutexes_[id];
  if (m->owner != p) {
    std::string msg =
        fmt::format("{}: unlock of mutex \"{}\" at {} ns, which it does not hold (owner: {})",
                    p->name, m->name, now_, m->owner ? m->owner->name : std::string("none"));
    if (workload_status_.is_ok()) workload_status_ = Status::workload_failed(msg);
    return;
  }
  erase(p->held, m);
  m->owner = nullptr;
  for (Observer* o : obs_) o->on_lock_release(now_, rq.cpu, ref(p), m->id, m->name);
  if (protocol_ == Protocol::kPi) rt_mutex_setprio(p, pi_top_waiter(p));  // deboost
  release_spinners(m);  // they are running: they retry at once
  Task* next = nullptr;
  bool handoff = false;
  if (is_proxy() && p->blocked_donor && p->blocked_donor->blocked_on == m) {
    next = p->blocked_donor;  // hand the lock to the donor that was running us
    handoff = true;
    for (Observer* o : obs_)
      o->on_proxy(now_, rq.cpu, ProxyAction::kHandoff, ref(next), ref(p), rq.cpu, next->cpu);
  } else {
    if (!m->waiters.empty()) next = m->waiters.front();
    handoff = next && m->handoff && protocol_ != Protocol::kPi && m->waiters.front() == next;
  }
  p->blocked_donor = nullptr;
  // A proxy that releases a lock may have left its donor's chain: pick again.
  if (rq.donor != p && rq.curr == p) resched_curr(rq);
  if (!next) return;
  if (handoff) {
    m->handoff = false;
    lock_acquired(rq, next, m);
  }
  wake_waiter(rq, next);
}

// The wake_q wakeup of a waiter after unlock: it leaves the blocked state and runs (and, if it
// was not handed the lock, retries).
void Kernel::wake_waiter(Rq& rq, Task* w) {
  w->blocked_on = nullptr;
  if (w->sleeping_owner) {
    erase(w->sleeping_owner->blocked_head, w);
    w->sleeping_owner = nullptr;
  }
  if (w->state == TaskState::kSleeping) try_to_wake_up(w, rq.cpu, WF_TTWU);
}

// The owner left its CPU: mutex_spin_on_owner() gives up; each spinner retries now and, the
// owner not running, goes to sleep on the wait list.
void Kernel::stop_spinners_of(Task* owner) {
  for (Mutex* m : owner->held) release_spinners(m);
}

// Every task spinning on m's owner stops spinning and retries its lock event now (each is the
// current task of its CPU: a fresh work event there runs its program).
void Kernel::release_spinners(Mutex* m) {
  for (Task* s : m->spinners) {
    s->spinning_on = nullptr;
    eq_.arm(cpu_slot(s->cpu, kSlotWork), now_, EvKind::kWorkDone, s->cpu);
    cpu_rq(s->cpu).work_rearmed = true;
  }
  m->spinners.clear();
}

// A deadlock is a result of the workload: observers hear of it and the run ends with exit 1.
void Kernel::report_deadlock(const std::string& msg) {
  for (Observer* o : obs_) o->on_deadlock(now_, msg);
  if (workload_status_.is_ok()) workload_status_ = Status::workload_failed(msg);
}

// task_top_pi_waiter(): the highest-priority waiter over every lock p holds.
Task* Kernel::pi_top_waiter(Task* p) {
  Task* top = nullptr;
  for (Mutex* m : p->held)
    if (!m->waiters.empty() && (!top || waiter_less(m->waiters.front(), top)))
      top = m->waiters.front();
  return top;
}

// rt_mutex_adjust_prio_chain(), iteratively: recompute the owner's effective priority, and if
// the owner itself waits on an rt_mutex, requeue it there and continue with that lock's owner.
void Kernel::pi_adjust_chain(Task* owner) {
  for (size_t guard = 0; owner && guard <= tasks_.size(); ++guard) {
    rt_mutex_setprio(owner, pi_top_waiter(owner));
    Mutex* next = owner->blocked_on;
    if (!next) return;
    erase(next->waiters, owner);
    next->waiters.insert(
        std::upper_bound(next->waiters.begin(), next->waiters.end(), owner, waiter_less), owner);
    owner = next->owner;
  }
}

// rt_mutex_setprio(): p's effective prio becomes min(normal_prio, pi_task->prio); the class
// follows the prio (DL, RT, or back to its own). A boosted DEADLINE owner is not throttled.
void Kernel::rt_mutex_setprio(Task* p, Task* pi_task) {
  int prio = p->normal_prio;
  if (pi_task && pi_task->prio < prio) prio = pi_task->prio;
  if (prio == p->prio && !(prio < 0 && pi_task && p->pi_task != pi_task)) {
    p->pi_task = pi_task;
    return;
  }
  SchedClass* cls;
  if (prio < 0)
    cls = dl_.get();
  else if (prio < 100)
    cls = rt_.get();
  else
    cls = p->policy == Policy::kDeadline ? dl_.get()
          : is_rt_policy(p->policy)      ? rt_.get()
                                         : fair_.get();
  Rq& rq = task_rq(p);
  if (cls == fair_.get() && p->sched_class == cls) {
    // Fair to fair: the weight follows static_prio, not prio; only the number changes (as in
    // the kernel, where a nice -10 waiter "boosts" a nice 19 owner to prio 110 for nothing).
    int oldprio = p->prio;
    p->prio = prio;
    p->pi_task = pi_task;
    for (Observer* o : obs_) o->on_pi_setprio(now_, ctx_cpu_, ref(p), oldprio, prio);
    if (task_on_rq_migrating(p)) in_flight_prio_changed(p, oldprio);
    return;
  }
  if (cls != p->sched_class && p->se.sched_delayed) {
    // A delayed-dequeue sleeper leaving fair finishes its dequeue first (Linux 6.12 "sched: Fix
    // delayed_dequeue vs switched_from_fair()").
    p->sched_class->dequeue_task(rq, p, DEQUEUE_SLEEP | DEQUEUE_DELAYED);
    p->on_rq = 0;
  }
  bool queued = task_on_rq_queued(p);
  bool running = rq.donor == p;
  if (queued) {
    if (running) update_curr(rq);
    p->sched_class->dequeue_task(rq, p, DEQUEUE_SAVE);
  }
  if (running) p->sched_class->put_prev_task(rq, p, p);
  int oldprio = p->prio;
  p->prio = prio;
  p->pi_task = pi_task;
  int en_flags = ENQUEUE_RESTORE;
  if (prio < 0 && p->policy != Policy::kDeadline) {
    // A non-DEADLINE task boosted by a DEADLINE waiter runs with the waiter's parameters.
    DlEntity& dl = p->dl;
    dl.dl_runtime = pi_task->dl.dl_runtime;
    dl.dl_deadline = pi_task->dl.dl_deadline;
    dl.dl_period = pi_task->dl.dl_period;
    dl.task = p;
    dl.deadline = pi_task->dl.deadline;
    dl.runtime = pi_task->dl.dl_runtime;
    dl.dl_throttled = false;
  }
  p->dl.dl_boosted = prio < 0 && pi_task != nullptr && pi_task->prio < 0 && p != pi_task;
  const SchedClass* prev_class = p->sched_class;
  p->sched_class = cls;
  for (Observer* o : obs_) o->on_pi_setprio(now_, ctx_cpu_, ref(p), oldprio, prio);
  if (task_on_rq_migrating(p)) in_flight_prio_changed(p, oldprio);
  if (queued) {
    p->sched_class->enqueue_task(rq, p, en_flags);
    p->on_rq = kTaskOnRqQueued;
  }
  if (running) {
    p->sched_class->set_next_task(rq, p, true);
    if (prio > oldprio) resched_curr(rq);  // deboosted: something else may run now
  } else if (queued) {
    wakeup_preempt(rq, p, 0);
  }
  // check_class_changed(): switched_from_*() / switched_to_*() / prio_changed_*() queue balance
  // callbacks, which __balance_callbacks() runs before rt_mutex_setprio() unlocks the rq. A
  // deboosted owner that was the rq's last RT (DL) task lets it pull RT (DL) work waiting on
  // other CPUs; a boosted queued task may overload its rq and be pushed.
  if (!queued) return;
  bool pull_rt = false, pull_dl = false;
  if (prev_class != cls) {
    pull_rt = prev_class == rt_.get() && rq.rt.rt_nr_running == 0;  // switched_from_rt()
    pull_dl = prev_class == dl_.get() && rq.dl.dl_nr_running == 0;  // switched_from_dl()
    if (rq.curr != p && p->nr_cpus_allowed > 1) {                   // switched_to_rt/dl()
      if (cls == rt_.get()) push_rt_tasks(rq);
      if (cls == dl_.get()) push_dl_tasks(rq);
    }
  } else if (running) {
    pull_rt = cls == rt_.get() && oldprio < prio;  // prio_changed_rt(): the donor lowered
    pull_dl = cls == dl_.get() && rq.dl.earliest_dl() < p->dl.deadline;  // prio_changed_dl()
  }
  if (pull_rt) pull_rt_task(rq);
  if (pull_dl) pull_dl_task(rq);
}

}  // namespace proxysim
