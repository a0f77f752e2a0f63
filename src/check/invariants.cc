#include "check/invariants.h"

#include <fmt/format.h>

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
}

// A task is in exactly one place: curr of one CPU, queued on one rq, sleeping, on a wake list,
// or in flight; and it executes only on a CPU of its affinity.
void InvariantChecker::check_task_places() {
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    Rq& rq = k_.cpu_rq(c);
    if (rq.curr->cpu != c || !rq.curr->on_cpu)
      return k_.fail(fmt::format("rq {} curr {} has cpu {} on_cpu {}", c, rq.curr->name,
                                 rq.curr->cpu, rq.curr->on_cpu));
    if (rq.donor != rq.curr)
      return k_.fail(fmt::format("rq {} donor {} is not curr {} (no proxy execution here)", c,
                                 rq.donor->name, rq.curr->name));
    if (rq.curr != &rq.idle && !rq.curr->cpus_mask.test(c) && rq.curr->migration_pending < 0)
      return k_.fail(fmt::format("{} runs on cpu {} outside its affinity {}", rq.curr->name, c,
                                 rq.curr->cpus_mask.to_string()));
  }
  for (auto& t : k_.tasks()) {
    Task* p = t.get();
    int places = 0;
    Rq& rq = k_.task_rq(p);
    if (p->on_cpu) {
      ++places;
      if (rq.curr != p)
        return k_.fail(fmt::format("{} on_cpu but not curr of cpu {}", p->name, p->cpu));
    }
    bool queued = false;
    if (p->sched_class == k_.fair_class())
      queued = p->se.in_tree;
    else if (p->sched_class == k_.rt_class())
      queued = p->rt.on_list;
    else if (p->sched_class == k_.dl_class())
      queued = p->dl.on_tree;
    if (queued) {
      if (p->on_cpu && p->sched_class != k_.rt_class() && p->sched_class != k_.dl_class())
        return k_.fail(fmt::format("{} is curr and in the fair tree", p->name));
      if (!p->on_cpu) ++places;
      if (p->on_rq != kTaskOnRqQueued)
        return k_.fail(fmt::format("{} in its class queue with on_rq={}", p->name, p->on_rq));
    }
    bool on_wake_list = false;
    for (Task* w : rq.wake_list) on_wake_list |= w == p;
    bool in_flight = false;
    for (Task* w : rq.incoming) in_flight |= w == p;
    if (on_wake_list) ++places;
    if (in_flight) ++places;
    switch (p->state) {
      case TaskState::kNew:
      case TaskState::kDead:
        if (places)
          return k_.fail(fmt::format("{} is {} but placed", p->name,
                                     p->state == TaskState::kDead ? "dead" : "new"));
        break;
      case TaskState::kSleeping:
        if (p->on_cpu && rq.curr == p) break;  // about to schedule out in this event
        if (places > (p->se.sched_delayed ? 1 : 0))
          return k_.fail(fmt::format("{} sleeps but is placed {} times", p->name, places));
        break;
      case TaskState::kWaking:
        if (!on_wake_list || places != 1)
          return k_.fail(fmt::format("{} waking but on wake list: {}, places {}", p->name,
                                     on_wake_list, places));
        break;
      case TaskState::kRunning:
        if (in_flight && p->on_rq != kTaskOnRqMigrating)
          return k_.fail(fmt::format("{} in flight with on_rq={}", p->name, p->on_rq));
        if (places != 1 && !(p->policy == Policy::kDeadline && p->dl.dl_throttled && places == 0))
          return k_.fail(fmt::format("runnable {} is in {} places (on_cpu {}, on_rq {}, cpu {})",
                                     p->name, places, p->on_cpu, p->on_rq, p->cpu));
        break;
    }
  }
}

void InvariantChecker::check_rq_counts() {
  for (int c = 0; c < k_.nr_cpus(); ++c) {
    Rq& rq = k_.cpu_rq(c);
    int n = rq.cfs.nr_queued + rq.rt.rt_nr_running + rq.dl.dl_nr_running;
    if (n != rq.nr_running)
      return k_.fail(fmt::format("rq {} nr_running {} != fair {} + rt {} + dl {}", c, rq.nr_running,
                                 rq.cfs.nr_queued, rq.rt.rt_nr_running, rq.dl.dl_nr_running));
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
  if (tasks != busy)
    k_.fail(fmt::format("sum of task CPU time {} ns != sum of CPU busy time {} ns", tasks, busy));
  for (auto& t : k_.tasks()) {
    const DlEntity& dl = t->dl;
    if (t->policy == Policy::kDeadline && dl.runtime > dl.dl_runtime && !dl.dl_boosted)
      return k_.fail(fmt::format("{} DL runtime {} exceeds its budget {}", t->name, dl.runtime,
                                 dl.dl_runtime));
  }
}

// RT: a queued RT task does not wait while a CPU it may use runs something of lower priority,
// beyond a bound covering push/pull and IPI latencies (one tick).
void InvariantChecker::check_rt_placement() {
  const Time bound = k_.tick_nsec() + 10 * (k_.costs().ipi_latency + k_.costs().migration +
                                            k_.costs().idle_exit + k_.costs().jitter_max);
  for (auto& t : k_.tasks()) {
    Task* p = t.get();
    if (p->sched_class != k_.rt_class() || !p->rt.on_list || p->on_cpu) {
      p->rt_wait_since = -1;
      continue;
    }
    if (p->rt_wait_since < 0) p->rt_wait_since = k_.now();
    if (k_.now() - p->rt_wait_since <= bound) continue;
    for (int c = p->cpus_mask.first(); c >= 0 && c < k_.nr_cpus(); c = p->cpus_mask.next(c)) {
      Rq& rq = k_.cpu_rq(c);
      if (rq.donor->prio > p->prio && !rq.dl_server_picked)
        return k_.fail(
            fmt::format("RT task {} (prio {}) has waited {} ns on cpu {} while cpu {} "
                        "runs {} (prio {})",
                        p->name, p->prio, k_.now() - p->rt_wait_since, p->cpu, c, rq.donor->name,
                        rq.donor->prio));
    }
  }
}

}  // namespace proxysim
