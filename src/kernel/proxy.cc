// Proxy execution (kernel/sched/core.c find_proxy_task() and friends; DESIGN.md §6).
//
// A task blocked on a mutex stays queued as a potential donor. When the class pick returns such
// a donor, find_proxy_task() follows donor -> blocked_on -> owner -> ... and returns the task to
// run as rq->curr while rq->donor keeps the donor's scheduling context. The stages:
//   proxy:single-rq (6.17)  the owner must be runnable on this rq; otherwise the donor really
//                           sleeps (proxy_deactivate()).
//   proxy:migrate   (7.1)   a remote owner: the donor migrates to the owner's CPU keeping its
//                           wake_cpu (proxy_migrate_task()); the wakeup path return-migrates it.
//   proxy:full              + the whole chain migrates at once, a sleeping owner gets the donor
//                           parked on it and activated on its CPU when it wakes, and the lock is
//                           handed to the blocked donor at unlock (mutex.cc).
//
// Everything here runs inside one event of the owning CPU, so the kernel's lock juggling and
// proxy_resched_idle() windows collapse: a task being migrated is dequeued before anything else
// can observe it, and the checker verifies after the event that no task is in two places.
#include <fmt/format.h>

#include "kernel/kernel.h"

namespace proxysim {

// proxy_deactivate(): the donor cannot be helped from here; it blocks for real and is woken by
// the unlock like any sleeper.
void Kernel::proxy_deactivate(Rq& rq, Task* donor) {
  for (Observer* o : obs_)
    o->on_proxy(now_, rq.cpu, ProxyAction::kBlock, ref(donor), ref(donor), rq.cpu, rq.cpu);
  deactivate_task(rq, donor, DEQUEUE_SLEEP | DEQUEUE_SPECIAL);
}

// proxy_migrate_task(): move a blocked donor towards its owner's CPU. p->wake_cpu is kept
// (proxy_set_task_cpu()): it is where the task returns to once it can run.
void Kernel::proxy_migrate_task(Rq& rq, Task* p, Task* owner, int target) {
  for (Observer* o : obs_)
    o->on_proxy(now_, rq.cpu, ProxyAction::kMigrate, ref(p), ref(owner), rq.cpu, target);
  int wake_cpu = p->wake_cpu;
  if (!p->proxy_migrated) wake_cpu = p->allowed(p->cpu) ? p->cpu : wake_cpu;
  deactivate_task(rq, p, DEQUEUE_MIGRATING);
  send_in_flight(p, target, MigrateReason::kProxy);
  p->wake_cpu = wake_cpu;
  p->proxy_migrated = true;
}

// find_proxy_task(): returns the task to run for `donor`, or nullptr to pick again (the chain
// changed: a donor moved, parked or blocked), or the idle task when the CPU must wait for an
// owner that is landing here.
Task* Kernel::find_proxy_task(Rq& rq, Task* donor) {
  proxy_chain_.clear();
  Task* p = donor;
  for (size_t guard = 0; p->blocked_on; ++guard) {
    if (guard > tasks_.size()) {
      fail(fmt::format("find_proxy_task(): blocked_on chain of {} does not end", donor->name));
      return &rq.idle;
    }
    proxy_chain_.push_back(p);
    Mutex* m = p->blocked_on;
    Task* owner = m->owner;
    if (!owner) {
      // Released during the walk and not handed to p: p may run and retry the lock, on a CPU it
      // is allowed on. If it was migrated here as a donor, the wakeup path returns it first.
      p->blocked_on = nullptr;
      if (!p->proxy_migrated && p->allowed(rq.cpu)) {
        p->state = TaskState::kRunning;
        return p;
      }
      p->state = TaskState::kSleeping;  // through the waking gate: ttwu decides where it runs
      try_to_wake_up(p, rq.cpu, WF_TTWU);
      return nullptr;
    }
    bool owner_queued = task_on_rq_queued(owner) && !owner->se.sched_delayed;
    if ((owner->on_rq == kTaskOnRqMigrating || owner->state == TaskState::kWaking) &&
        fault_ == Fault::kStaleTaskCpu && owner->last_cpu == rq.cpu) {
      // The v9 race: task_cpu(owner) still reads this CPU while ttwu moves the owner away, and
      // the walk picks it to run here.
      owner->blocked_donor = donor;
      return owner;
    }
    if (owner->on_rq == kTaskOnRqMigrating || owner->state == TaskState::kWaking) {
      // The owner is on its way to owner->cpu. If that is us, wait for it to land (its
      // arrival preempts the idle task); otherwise treat it as remote.
      if (owner->cpu == rq.cpu) return &rq.idle;
      owner_queued = true;
    }
    if (!owner_queued) {
      // Sleeping owner.
      if (protocol_ == Protocol::kProxyFull) {
        // proxy_enqueue_on_owner(): park the donor; the owner's wakeup activates it.
        for (Observer* o : obs_)
          o->on_proxy(now_, rq.cpu, ProxyAction::kPark, ref(donor), ref(owner), rq.cpu, rq.cpu);
        deactivate_task(rq, donor, DEQUEUE_SLEEP | DEQUEUE_SPECIAL);
        donor->sleeping_owner = owner;
        owner->blocked_head.push_back(donor);
      } else {
        proxy_deactivate(rq, donor);
      }
      return nullptr;
    }
    if (owner->cpu != rq.cpu) {
      if (protocol_ == Protocol::kProxySingleRq) {
        proxy_deactivate(rq, donor);
        return nullptr;
      }
      // Migrate the donor, and in `full` every blocked task of the chain queued here, to the
      // owner's CPU (7.4: "Migrate whole chain in proxy_migrate_task()").
      const int target = owner->cpu;
      for (Task* t : proxy_chain_) {
        if (t != donor && (protocol_ != Protocol::kProxyFull || t->cpu != rq.cpu ||
                           !task_on_rq_queued(t) || t->on_cpu))
          continue;
        proxy_migrate_task(rq, t, owner, target);
      }
      return nullptr;
    }
    if (owner->blocked_on) {
      p = owner;  // the owner waits too: follow the chain
      continue;
    }
    owner->blocked_donor = donor;
    for (Observer* o : obs_)
      o->on_proxy(now_, rq.cpu, ProxyAction::kPick, ref(donor), ref(owner), rq.cpu, rq.cpu);
    return owner;
  }
  return p;
}

// activate_blocked_waiters(): the owner woke on `cpu`; the donors parked on it (and, iteratively,
// on them) are activated there. Only donors parked before this wakeup are taken: the list is
// spliced first, so a donor that parks again at once (the owner slept again) waits for the next
// wakeup instead of live-locking this loop.
void Kernel::activate_blocked_waiters(Task* owner, int cpu) {
  if (fault_ == Fault::kActivateLivelock) {
    // The v9 bug: walk the live list. An activated donor whose owner is (still) seen asleep
    // parks itself again at once (find_proxy_task() on its CPU), refilling the list.
    for (uint64_t n = 0; !owner->blocked_head.empty(); ++n) {
      if (n > 100000) {
        fail(
            fmt::format("live-lock: waking {} re-activated its parked donors {} times without "
                        "progress (activate_blocked_waiters() vs proxy_enqueue_on_owner())",
                        owner->name, n));
        owner->blocked_head.clear();
        return;
      }
      Task* d = owner->blocked_head.front();
      owner->blocked_head.erase(owner->blocked_head.begin());
      if (!task_on_rq_queued(owner)) owner->blocked_head.push_back(d);  // re-parked
    }
    return;
  }
  std::vector<Task*> work;
  work.swap(owner->blocked_head);
  for (size_t i = 0; i < work.size(); ++i) {
    Task* d = work[i];
    if (d->sleeping_owner == nullptr || d->state != TaskState::kSleeping || d->on_rq) continue;
    d->sleeping_owner = nullptr;
    if (!d->blocked_on) continue;  // its lock was released: the unlock woke it already
    for (Observer* o : obs_)
      o->on_proxy(now_, ctx_cpu_, ProxyAction::kActivate, ref(d), ref(owner), d->cpu, cpu);
    int wake_cpu = d->proxy_migrated ? d->wake_cpu : d->cpu;
    if (d->cpu != cpu) {
      d->sched_class->migrate_task_rq(d, cpu);
      trace_migrate(d, d->cpu, cpu, MigrateReason::kProxy);
      d->cpu = cpu;
    }
    d->wake_cpu = wake_cpu;
    d->proxy_migrated = d->cpu != wake_cpu || !d->allowed(cpu);
    Rq& rq = cpu_rq(cpu);
    activate_task(rq, d, ENQUEUE_WAKEUP);
    wakeup_preempt(rq, d, 0);
    for (Task* dd : d->blocked_head) work.push_back(dd);
    d->blocked_head.clear();
  }
}

}  // namespace proxysim
