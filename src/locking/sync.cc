// rt-app's other synchronisation events, with pthread semantics (DESIGN.md §5): condition
// variables (wait/signal/broad/sync, with their mutex), barriers, suspend/resume, counting
// semaphores. A task waiting on any of these sleeps (it is not a proxy donor: proxy execution
// concerns mutex owners only) and is woken through try_to_wake_up() by the task that releases
// it, on that task's CPU.
#include <fmt/format.h>

#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {

void Kernel::sync_init() {
  condvars_.assign(w_.condvars.size(), {});
  barriers_.assign(w_.barriers.size(), {});
  for (size_t i = 0; i < barriers_.size(); ++i)
    barriers_[i].parties = i < w_.barrier_parties.size() ? w_.barrier_parties[i] : 1;
  suspends_.assign(w_.suspends.size(), {});
  semaphores_.assign(w_.semaphores.size(), {});
}

void Kernel::sync_sleep(Rq& rq, Task* p, std::vector<Task*>* queue) {
  queue->push_back(p);
  p->state = TaskState::kSleeping;
  p->sync_wait = queue;
  resched_curr(rq);
}

void Kernel::sync_wake(Rq& rq, Task* w) {
  w->sync_wait = nullptr;
  try_to_wake_up(w, rq.cpu, WF_TTWU);
}

// Wakes the longest waiter of `q` (pthread_cond_signal, sem_post); returns false if none.
bool Kernel::sync_wake_one(Rq& rq, std::vector<Task*>* q) {
  if (q->empty()) return false;
  Task* w = q->front();
  q->erase(q->begin());
  sync_wake(rq, w);
  return true;
}

void Kernel::sync_wake_all(Rq& rq, std::vector<Task*>* q) {
  std::vector<Task*> all;
  all.swap(*q);
  for (Task* w : all) sync_wake(rq, w);
}

// The event at p's current position, one of the synchronisation kinds. Returns true when the
// event is complete and the program may go on; false when p sleeps (or spins, or is blocked on
// the mutex it re-takes after a condvar wait) and will come back here when it runs again.
bool Kernel::sync_event(Rq& rq, Task* p, const Event& e) {
  ProgramState& s = p->prog;
  auto cond_wait = [&](int cond, int mutex) -> bool {
    // pthread_cond_wait(): the mutex must be held; it is released while waiting and taken
    // again before returning.
    Mutex* m = &mutexes_[mutex];
    if (m->owner != p) {
      if (workload_status_.is_ok())
        workload_status_ = Status::workload_failed(fmt::format(
            "{}: {} on condvar \"{}\" at {} ns without holding its mutex \"{}\" (pthread would "
            "fail with EPERM; rt-app exits)",
            p->name, e.key, w_.condvars[cond], now_, m->name));
      return true;
    }
    s.sync_stage = 1;
    mutex_unlock(rq, p, mutex);
    sync_sleep(rq, p, &condvars_[cond].waiters);
    return false;
  };
  switch (e.kind) {
    case EventKind::kSignal: sync_wake_one(rq, &condvars_[e.resource].waiters); return true;
    case EventKind::kBroadcast: sync_wake_all(rq, &condvars_[e.resource].waiters); return true;
    case EventKind::kWait:
    case EventKind::kSync:
      if (s.sync_stage == 0) {
        if (e.kind == EventKind::kSync) sync_wake_one(rq, &condvars_[e.resource].waiters);
        return cond_wait(e.resource, e.resource2);
      }
      // Woken: take the mutex again (stage 2 = retrying the lock).
      if (mutex_lock(rq, p, e.resource2, /*retry=*/s.sync_stage == 2)) {
        s.sync_stage = 0;
        return true;
      }
      s.sync_stage = 2;
      return false;
    case EventKind::kBarrier: {
      Barrier& b = barriers_[e.resource];
      if (s.sync_stage == 1) {  // released by the last arrival
        s.sync_stage = 0;
        return true;
      }
      if (++b.arrived >= b.parties) {
        b.arrived = 0;
        sync_wake_all(rq, &b.waiters);
        return true;
      }
      s.sync_stage = 1;
      sync_sleep(rq, p, &b.waiters);
      return false;
    }
    case EventKind::kSuspend:
      if (s.sync_stage == 1) {
        s.sync_stage = 0;
        return true;
      }
      s.sync_stage = 1;
      sync_sleep(rq, p, &suspends_[e.resource].waiters);
      return false;
    case EventKind::kResume: sync_wake_all(rq, &suspends_[e.resource].waiters); return true;
    case EventKind::kSemPost: {
      Semaphore& sem = semaphores_[e.resource];
      if (!sync_wake_one(rq, &sem.waiters)) ++sem.value;  // a woken waiter takes the unit
      return true;
    }
    case EventKind::kSemWait: {
      Semaphore& sem = semaphores_[e.resource];
      if (s.sync_stage == 1) {  // handed a unit by sem_post
        s.sync_stage = 0;
        return true;
      }
      if (sem.value > 0) {
        --sem.value;
        return true;
      }
      s.sync_stage = 1;
      sync_sleep(rq, p, &sem.waiters);
      return false;
    }
    default: return true;
  }
}

// When every live task sleeps with nothing left that could wake one (no timer, no IPI, no
// migration in flight), the workload is deadlocked: name who waits for what.
void Kernel::report_global_deadlock() {
  std::string who;
  for (auto& t : tasks_) {
    Task* p = t.get();
    if (p->state == TaskState::kDead || p->state == TaskState::kNew) continue;
    if (!who.empty()) who += ", ";
    const Event& e = p->prog.current_event();
    if (p->blocked_on)
      who += fmt::format("{} waits for mutex {}", p->name, p->blocked_on->name);
    else
      who += fmt::format("{} waits in \"{}\"", p->name, e.key);
  }
  report_deadlock(
      fmt::format("deadlock at {} ns: every task waits and nothing can wake one: {}", now_, who));
}

}  // namespace proxysim
