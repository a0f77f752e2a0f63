#include "check/invariants.h"

#include <fmt/format.h>

#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {

void InvariantChecker::check() {
  if (k_.now() < last_now_) {
    k_.fail(fmt::format("clock went backwards: {} after {}", k_.now(), last_now_));
    return;
  }
  last_now_ = k_.now();
  check_task_places();
  if (!k_.failed()) check_rq_counts();
  if (!k_.failed()) check_time_accounting();
  if (!k_.failed()) check_rt_placement();
  if (!k_.failed()) check_progress();
  if (!k_.failed()) check_timers();
}

// The event queue is a heap whose slots point back at their events, and each source's flag
// agrees with its slot: a CPU's tick runs and its IPI is pending exactly when their timers are
// armed, its work completes only while a task runs, its fair server's timer runs only while the
// server is active; a task has a landing pending exactly while it is in flight.
void InvariantChecker::check_timers() {
  const EventQueue& q = k_.eq_;
  if (std::string e = q.verify(); !e.empty()) return k_.fail(e);
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    const Rq& rq = k_.cpu_rq(c);
    if (rq.tick_running != q.armed(k_.cpu_slot(c, Kernel::kSlotTick)))
      return k_.fail(fmt::format("cpu {}: tick_running {} but its tick timer armed {}", c,
                                 rq.tick_running, !rq.tick_running));
    if (rq.ipi_pending != q.armed(k_.cpu_slot(c, Kernel::kSlotIpi)))
      return k_.fail(fmt::format("cpu {}: ipi_pending {} but its IPI armed {}", c, rq.ipi_pending,
                                 !rq.ipi_pending));
    if (rq.curr == &rq.idle && q.armed(k_.cpu_slot(c, Kernel::kSlotWork)))
      return k_.fail(fmt::format("cpu {}: idle with a work completion armed", c));
    if (!rq.fair_server.active && q.armed(k_.cpu_slot(c, Kernel::kSlotServer)))
      return k_.fail(fmt::format("cpu {}: fair server stopped with its timer armed", c));
  }
  for (const auto& t : k_.tasks()) {
    const bool landing = q.armed(k_.task_slot(t->id, Kernel::kSlotLanding));
    if (landing != task_on_rq_migrating(t.get()))
      return k_.fail(
          fmt::format("{}: on_rq {} but a landing armed {}", t->name, t->on_rq, landing));
  }
}

// Progress watchdog: a CPU never idles for longer than a tick (plus latencies) while a runnable
// task waits queued on it. That is a lost wakeup or a missed reschedule.
void InvariantChecker::check_progress() {
  const Time bound = k_.tick_nsec() + 10 * (k_.costs().ipi_latency + k_.costs().migration +
                                            k_.costs().idle_exit + k_.costs().jitter_max);
  if (idle_with_work_since_.size() != static_cast<size_t>(k_.nr_cpus()))
    idle_with_work_since_.assign(k_.nr_cpus(), -1);
  std::vector<const Task*> waiting(k_.nr_cpus(), nullptr);
  for (auto& t : k_.tasks()) {
    const Task* p = t.get();
    if (p->on_rq == kTaskOnRqQueued && p->state == TaskState::kRunning && !p->blocked_on &&
        !p->se.sched_delayed && !p->on_cpu &&
        !(p->policy == Policy::kDeadline && p->dl.dl_throttled) && !waiting[p->cpu])
      waiting[p->cpu] = p;
  }
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    Rq& rq = k_.cpu_rq(c);
    if (rq.curr != &rq.idle || !waiting[c]) {
      idle_with_work_since_[c] = -1;
      continue;
    }
    if (idle_with_work_since_[c] < 0) idle_with_work_since_[c] = k_.now();
    if (k_.now() - idle_with_work_since_[c] > bound)
      return k_.fail(
          fmt::format("lost wakeup or missed reschedule: cpu {} has been idle for {} ns "
                      "while {} is runnable there",
                      c, k_.now() - idle_with_work_since_[c], waiting[c]->name));
  }
}

// A task is in exactly one place: queued on one rq (running or not), on one wake list, in
// flight, or nowhere (asleep, parked on a sleeping owner, new, dead); its class structures agree
// with that; it executes only on a CPU of its affinity; a runnable task never waits queued on a
// CPU outside its affinity; rq->donor is curr or queued there, and curr ends the donor's chain.
void InvariantChecker::check_task_places() {
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    Rq& rq = k_.cpu_rq(c);
    Task* curr = rq.curr;
    if (curr->cpu != c || !curr->on_cpu)
      return k_.fail(fmt::format("rq {} curr {} has cpu {} on_cpu {}", c, curr->name, curr->cpu,
                                 curr->on_cpu));
    if (curr != &rq.idle && (curr->state != TaskState::kRunning || curr->on_rq != kTaskOnRqQueued))
      return k_.fail(fmt::format("rq {} curr {} is not a queued runnable task (state {}, on_rq {})",
                                 c, curr->name, static_cast<int>(curr->state), curr->on_rq));
    if (curr != &rq.idle && !curr->cpus_mask.test(c) && curr->migration_pending < 0)
      return k_.fail(fmt::format("{} runs on cpu {} outside its affinity {}", curr->name, c,
                                 curr->cpus_mask.to_string()));
    if (rq.donor != curr) {
      Task* d = rq.donor;
      if (d == &rq.idle || d->cpu != c || d->on_rq != kTaskOnRqQueued || !k_.is_proxy())
        return k_.fail(fmt::format("rq {} donor {} is neither curr {} nor a queued donor", c,
                                   d->name, curr->name));
      Task* t = d;
      for (size_t n = 0; t->blocked_on && t->blocked_on->owner && n <= k_.tasks().size(); ++n)
        t = t->blocked_on->owner;
      if (t != curr)
        return k_.fail(fmt::format("rq {} curr {} is not the end of donor {}'s chain (ends at {})",
                                   c, curr->name, d->name, t->name));
    }
  }
  for (auto& t : k_.tasks()) {
    Task* p = t.get();
    Rq& rq = k_.task_rq(p);
    bool on_wake_list = false;
    for (Task* w : rq.wake_list) on_wake_list |= w == p;
    bool in_flight = false;
    for (Task* w : rq.incoming) in_flight |= w == p;
    if (p->cpus_all != (p->cpus_mask == k_.online()) || p->nr_cpus_allowed != p->cpus_mask.weight())
      return k_.fail(fmt::format("{}: affinity {} but cpus_all {}, nr_cpus_allowed {}", p->name,
                                 p->cpus_mask.to_string(), p->cpus_all, p->nr_cpus_allowed));
    const bool queued = p->on_rq == kTaskOnRqQueued;
    int places = queued + on_wake_list + in_flight;
    if (places > 1)
      return k_.fail(fmt::format("{} is in {} places (queued {}, wake list {}, in flight {})",
                                 p->name, places, queued, on_wake_list, in_flight));
    if (in_flight != (p->on_rq == kTaskOnRqMigrating))
      return k_.fail(fmt::format("{} in flight {} but on_rq {}", p->name, in_flight, p->on_rq));
    if (p->on_cpu && rq.curr != p)
      return k_.fail(fmt::format("{} on_cpu but not curr of cpu {}", p->name, p->cpu));
    // The class's own structures.
    bool in_class;
    if (p->sched_class == k_.fair_class())
      in_class = p->se.on_rq && (p->se.in_tree() || rq.cfs.curr == p);
    else if (p->sched_class == k_.rt_class())
      in_class = p->rt.on_list;
    else
      in_class = p->dl.on_tree || (queued && p->dl.dl_throttled);
    if (queued != in_class)
      return k_.fail(fmt::format("{} on_rq {} but in its {} queue: {}", p->name, p->on_rq,
                                 p->sched_class->name(), in_class));
    switch (p->state) {
      case TaskState::kNew:
      case TaskState::kDead:
        if (places || p->on_cpu)
          return k_.fail(fmt::format("{} is dead or new but placed", p->name));
        break;
      case TaskState::kSleeping:
        if (on_wake_list || (queued && !p->se.sched_delayed && !(p->blocked_on && k_.is_proxy())))
          return k_.fail(
              fmt::format("{} sleeps but is queued (not delayed, not a blocked donor)", p->name));
        break;
      case TaskState::kWaking:
        if (!on_wake_list) return k_.fail(fmt::format("{} is waking but on no wake list", p->name));
        break;
      case TaskState::kRunning:
        if (!queued && !in_flight)
          return k_.fail(fmt::format("runnable {} is neither queued nor in flight", p->name));
        if (queued && !p->blocked_on && !p->cpus_mask.test(p->cpu) && p->migration_pending < 0)
          return k_.fail(
              fmt::format("runnable {} is queued on cpu {} outside its affinity {} "
                          "(a donor left the blocked state without return migration)",
                          p->name, p->cpu, p->cpus_mask.to_string()));
        break;
    }
  }
  // Mutexes: waiters and blocked_on agree; owners hold what they own.
  for (Mutex& m : k_.mutexes()) {
    if (m.owner && std::find(m.owner->held.begin(), m.owner->held.end(), &m) == m.owner->held.end())
      return k_.fail(fmt::format("{} owns {} but does not hold it", m.owner->name, m.name));
    for (Task* w : m.waiters)
      if (w == m.owner)
        return k_.fail(fmt::format("{} waits for {} which it owns", w->name, m.name));
  }
  for (auto& t : k_.tasks()) {
    Mutex* m = t->blocked_on;
    if (m && std::find(m->waiters.begin(), m->waiters.end(), t.get()) == m->waiters.end())
      return k_.fail(fmt::format("{} is blocked on {} but not in its wait list", t->name, m->name));
  }
}

void InvariantChecker::check_rq_counts() {
  if (std::string e = k_.cpudl().verify(); !e.empty()) return k_.fail(e);
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    Rq& rq = k_.cpu_rq(c);
    int n = rq.cfs.nr_queued + rq.rt.rt_nr_running + rq.dl.dl_nr_running;
    if (n != rq.nr_running)
      return k_.fail(fmt::format("rq {} nr_running {} != fair {} + rt {} + dl {}", c, rq.nr_running,
                                 rq.cfs.nr_queued, rq.rt.rt_nr_running, rq.dl.dl_nr_running));
    // The CPU indexes the searches use must match the runqueues exactly.
    const bool want[3] = {rq.curr == &rq.idle, rq.nr_running >= 2, rq.rt.rt_nr_running > 0};
    const bool have[3] = {k_.idle_curr_cpus().test(c), k_.overloaded_cpus().test(c),
                          k_.rt_cpus().test(c)};
    static constexpr const char* kNames[3] = {"idle-curr", "overloaded", "rt"};
    for (int i = 0; i < 3; ++i)
      if (want[i] != have[i])
        return k_.fail(fmt::format("rq {}: the {} CPU index says {}, the runqueue {}", c, kNames[i],
                                   have[i], want[i]));
    int incoming_dl = 0, incoming_rt = 0;
    for (const Task* t : rq.incoming) {
      incoming_dl += t->policy == Policy::kDeadline;
      incoming_rt += t->prio < 100;
    }
    if (incoming_rt != rq.incoming_rt)
      return k_.fail(fmt::format("rq {}: {} RT/DL tasks in flight, counted {}", c, incoming_rt,
                                 rq.incoming_rt));
    if (incoming_dl != rq.incoming_dl ||
        k_.dl_busy_cpus().test(c) != (rq.dl.dl_nr_running > 0 || incoming_dl > 0))
      return k_.fail(fmt::format("rq {}: {} DEADLINE tasks in flight, counted {}; busy index {}", c,
                                 incoming_dl, rq.incoming_dl, k_.dl_busy_cpus().test(c)));
    if (k_.cpudl().present(c) && k_.cpudl().key(c) != k_.dl_earliest(rq))
      return k_.fail(fmt::format("rq {}: cpudl has it {} with deadline {}, the runqueue {}", c,
                                 k_.cpudl().present(c) ? "present" : "absent", k_.cpudl().key(c),
                                 k_.dl_earliest(rq)));
    if (std::string e = rq.cfs.tree.verify(); !e.empty())
      return k_.fail(fmt::format("rq {}: EEVDF tree: {}", c, e));
    if (k_.cpupri_level(c) != k_.cpupri_of(c))
      return k_.fail(fmt::format("rq {}: cpupri level {}, the runqueue says {}", c,
                                 k_.cpupri_level(c), k_.cpupri_of(c)));
  }
}

// Σ task CPU time == Σ CPU busy time.
void InvariantChecker::check_time_accounting() {
  Time tasks = 0, busy = 0;
  for (auto& t : k_.tasks()) tasks += t->se.sum_exec_runtime;
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    Rq& rq = k_.cpu_rq(c);
    busy += rq.busy_ns;
    if (rq.curr != &rq.idle) {
      busy += k_.now() - rq.exec_start;
      tasks += k_.now() - rq.donor->se.exec_start;
    }
  }
  if (tasks != busy) {
    std::string detail;
    for (int c = 0; c < k_.nr_cpus(); ++c) {
      Rq& rq = k_.cpu_rq(c);
      detail += fmt::format("; cpu {}: curr {} donor {} (exec_start {}), rq exec_start {}", c,
                            rq.curr->name, rq.donor->name, rq.donor->se.exec_start, rq.exec_start);
    }
    return k_.fail(fmt::format("sum of task CPU time {} ns != sum of CPU busy time {} ns{}", tasks,
                               busy, detail));
  }
  for (auto& t : k_.tasks()) {
    const DlEntity& dl = t->dl;
    if (t->policy == Policy::kDeadline && dl.runtime > dl.dl_runtime && !dl.dl_boosted)
      return k_.fail(fmt::format("{} DL runtime {} exceeds its budget {}", t->name, dl.runtime,
                                 dl.dl_runtime));
  }
}

// RT: a queued RT task does not wait while a CPU it may use runs something of lower priority
// for longer than a bound covering push/pull and IPI latencies (one tick), once Linux has
// evaluated a push from (or a pull of) its rq after that condition started. The clock of a
// task starts when the condition starts, not when it started waiting: a CPU that a
// higher-priority task is about to land on (in flight) counts as taken. Without such an
// evaluation Linux leaves the task where it is too: e.g. task_woken_rt() does not push while
// curr has need_resched set (a DEADLINE wakeup set it, the DEADLINE task was throttled, and
// __schedule() picked the same curr again, so no set_next_task_rt() push either).
void InvariantChecker::check_rt_placement() {
  const Time bound = k_.tick_nsec() + 10 * (k_.costs().ipi_latency + k_.costs().migration +
                                            k_.costs().idle_exit + k_.costs().jitter_max);
  for (auto& t : k_.tasks()) {
    Task* p = t.get();
    // Blocked donors are not runnable; the donor of a proxy is, in effect, running.
    // Checked only where Linux's triggers guarantee a move: with two or more RT tasks on the
    // rq (a push at enqueue or switch, a pull when another CPU drops from RT). A lone RT task
    // preempted by DEADLINE work (or the fair server) is pushable since 6.7, but nothing
    // triggers its push, and a CPU going idle from fair work does not pull RT (see README).
    // The same holds for several RT tasks woken onto an idle CPU that a DEADLINE task then
    // takes: task_woken_rt() pushes only when curr is RT or DL, set_next_task_dl() pushes DL
    // tasks only. So the rq's donor must be an RT task too (its set_next_task_rt() pushed).
    const Rq& trq = k_.task_rq(p);
    if (p->sched_class != k_.rt_class() || !p->rt.on_list || p->on_cpu || p->blocked_on ||
        trq.donor == p || trq.rt.rt_nr_running < 2 || trq.dl_server_picked ||
        trq.donor->sched_class != k_.rt_class()) {
      p->rt_wait_since = -1;
      continue;
    }
    int lower_cpu = -1;
    for (int c = p->cpus_mask.first(); c >= 0 && c < k_.nr_cpus(); c = p->cpus_mask.next(c)) {
      Rq& rq = k_.cpu_rq(c);
      int prio = rq.dl_server_picked ? -1 : rq.donor->prio;
      for (Task* in : rq.incoming) prio = std::min(prio, in->prio);
      if (!rq.wake_list.empty()) prio = std::min(prio, rq.wake_list.front()->prio);
      if (prio > p->prio) {
        lower_cpu = c;
        break;
      }
    }
    if (lower_cpu < 0) {
      p->rt_wait_since = -1;
      continue;
    }
    if (p->rt_wait_since < 0) p->rt_wait_since = k_.now();
    if (k_.now() - p->rt_wait_since > bound && trq.rt_balance_at >= p->rt_wait_since) {
      Rq& rq = k_.cpu_rq(lower_cpu);
      return k_.fail(
          fmt::format("RT task {} (prio {}) has waited {} ns on cpu {} while cpu {} "
                      "runs {} (prio {})",
                      p->name, p->prio, k_.now() - p->rt_wait_since, p->cpu, lower_cpu,
                      rq.donor->name, rq.donor->prio));
    }
  }
}

}  // namespace proxysim
