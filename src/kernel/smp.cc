// RT and DL push/pull (kernel/sched/rt.c, deadline.c, cpupri.c, cpudeadline.c), on a flat
// topology. find_lowest_rq() uses per-level CPU masks (cpupri); find_later_rq() finds a free CPU
// on a mask (cpudl's free_cpus) but scans the CPUs with DEADLINE work for the latest deadline
// (cpudl's max-heap is not modelled). Pulls visit only CPUs with RT (DL) tasks queued.
//
// A pushed or pulled task is in flight for costs().migration and counted in the destination's
// `incoming` list meanwhile, so that a second search does not pick the same CPU for another
// task: the kernel moves tasks under both rq locks, so it never sees a half-done push.
#include <algorithm>
#include <bit>

#include "kernel/kernel.h"

namespace proxysim {

// cpupri value of a CPU: 0 idle, 1 running non-RT, 2 + rt_priority-ish for RT (higher = busier).
int Kernel::cpupri_of(int cpu) {
  Rq& rq = cpu_rq(cpu);
  int prio = rq_prio(cpu);
  if (prio < 100) return 2 + (99 - prio);
  bool idle =
      rq.curr == &rq.idle && rq.nr_running == 0 && rq.wake_list.empty() && rq.incoming.empty();
  return idle ? 0 : 1;
}

void Kernel::cpupri_update(Rq& rq) {
  const size_t cpu = static_cast<size_t>(rq.cpu);
  const int v = cpupri_of(rq.cpu), old = cpupri_level_[cpu];
  if (v == old) return;
  cpupri_mask_[static_cast<size_t>(old)].assign(rq.cpu, false);
  if (--cpupri_count_[static_cast<size_t>(old)] == 0)
    cpupri_nonempty_[static_cast<size_t>(old) / 64] &= ~(uint64_t{1} << (old % 64));
  cpupri_mask_[static_cast<size_t>(v)].assign(rq.cpu, true);
  if (cpupri_count_[static_cast<size_t>(v)]++ == 0)
    cpupri_nonempty_[static_cast<size_t>(v) / 64] |= uint64_t{1} << (v % 64);
  cpupri_level_[cpu] = static_cast<uint8_t>(v);
}

// Highest RT priority queued on or arriving at a CPU (MAX_RT_PRIO = 100 if none).
int Kernel::rq_prio(int cpu) {
  Rq& rq = cpu_rq(cpu);
  int prio = rq.rt.highest_prio;
  if (rq.incoming_rt == 0) return prio;
  for (Task* t : rq.incoming)
    if (t->prio < prio) prio = t->prio;
  return prio;
}

// The levels below p's are visited from the lowest (cpupri_find()); the first with a CPU of p's
// affinity gives the candidates, chosen among on the level's mask.
int Kernel::find_lowest_rq(Task* p, int task_cpu) {
  if (p->nr_cpus_allowed == 1) return -1;
  const int task_pri = 2 + (99 - p->prio);
  for (int w = 0; w < 2; ++w) {
    for (uint64_t bits = cpupri_nonempty_[static_cast<size_t>(w)]; bits; bits &= bits - 1) {
      const int v = w * 64 + std::countr_zero(bits);
      if (v >= task_pri) return -1;
      const CpuBitmap& m = cpupri_mask_[static_cast<size_t>(v)];
      auto next_in = [&](int from) {
        int c = m.next_from(from);
        while (c >= 0 && !p->allowed(c)) c = m.next_from(c + 1);
        return c;
      };
      const int first = next_in(0);
      if (first >= 0) return pick_preferred(first, task_cpu, next_in);
    }
  }
  return -1;
}

// pick_next_pushable_task() / pick_highest_pushable_task(rq, cpu)
static Task* highest_pushable(Kernel& k, Rq& rq, int allowed_cpu) {
  for (int prio = rq.rt.next_prio(0); prio < 100; prio = rq.rt.next_prio(prio + 1))
    for (Task* t = rq.rt.head[prio]; t; t = t->rt.next)
      if (k.task_is_pushable(t) && (allowed_cpu < 0 || t->allowed(allowed_cpu))) return t;
  return nullptr;
}

// push_rt_task()
// rt_rq->overloaded, evaluated now: the cached flag can be stale inside __schedule() (prev is
// still on_cpu when put_prev_task() runs), and a stale flag loses pushes.
// rt_rq->overloaded (the rto_mask): driven by the pushable list since Linux 6.7 (612f769edd06
// "sched/rt: Make rt_rq->pushable_tasks updates drive rto_mask"): any queued, not running,
// migratable RT task, even a lone one (e.g. preempted by a DEADLINE task).
static bool rt_overloaded(Kernel& k, Rq& rq) { return highest_pushable(k, rq, -1) != nullptr; }

bool Kernel::push_rt_task(Rq& rq) {
  rq.rt_balance_at = now_;
  if (!rt_overloaded(*this, rq)) return false;
  Task* next = highest_pushable(*this, rq, -1);
  if (!next) return false;
  if (next->prio < rq.donor->prio) {
    resched_curr(rq);
    return false;
  }
  int target = find_lowest_rq(next, rq.cpu);
  if (target < 0 || target == rq.cpu || next->prio >= rq_prio(target)) return false;
  move_queued_task(next, target, MigrateReason::kRtPush);
  return true;
}

void Kernel::push_rt_tasks(Rq& rq) {
  for (int guard = 0; guard < 1000 && push_rt_task(rq); ++guard) {
  }
}

// pull_rt_task(): take the highest pushable task of overloaded CPUs that beats what this CPU
// would run, unless it is about to preempt where it is.
// The other CPUs from this_rq's successor, wrapping; only those with queued RT tasks (rt_cpus_)
// can be overloaded.
void Kernel::pull_rt_task(Rq& this_rq) {
  const int n = nr_cpus();
  rt_cpus_.find_wrapped((this_rq.cpu + 1) % n, n, [&](int cpu) {
    if (cpu == this_rq.cpu) return false;
    Rq& src = cpu_rq(cpu);
    src.rt_balance_at = now_;
    if (!rt_overloaded(*this, src)) return false;
    Task* p = highest_pushable(*this, src, this_rq.cpu);
    if (!p || p->prio >= rq_prio(this_rq.cpu)) return false;
    if (p->prio < src.donor->prio) return false;  // it will preempt src's curr soon
    move_queued_task(p, this_rq.cpu, MigrateReason::kRtPull);
    return false;
  });
}

void Kernel::rt_push_pending(Rq& rq) { rq.rt_push_cb = true; }
void Kernel::dl_push_pending(Rq& rq) { rq.dl_push_cb = true; }

// --- deadline -------------------------------------------------------------------------------

void Kernel::dl_update_overload(Rq& rq) {
  int n = 0;
  for (DlEntity* dl : rq.dl.queue)
    if (dl->task && task_is_pushable(dl->task)) ++n;
  rq.dl.nr_pushable = n;
  // Driven by the pushable tree since Linux 6.7 (5fe7765997b1 "sched/deadline: Make
  // dl_rq->pushable_dl_tasks update drive dl_rq->overloaded"): one pushable task suffices.
  rq.dl.overloaded = n > 0;
}

Time Kernel::dl_earliest(const Rq& rq) const {
  Time e = kTimeNever;
  for (DlEntity* dl : rq.dl.queue)
    if (dl->task) {
      e = dl->deadline;
      break;
    }
  for (Task* t : rq.incoming)
    if (t->policy == Policy::kDeadline) e = std::min(e, t->dl.deadline);
  return e;
}

// find_later_rq() via cpudl: a CPU without DL work (chosen as pick_preferred() does, on the
// mask), else the one whose earliest deadline is the latest and later than p's; only CPUs with
// DL work are visited for that.
int Kernel::find_later_rq(Task* p) {
  if (p->nr_cpus_allowed == 1) return -1;
  const int n = nr_cpus();
  auto next_free = [&](int from) {
    int c = dl_busy_cpus().next_clear_from(from, n);
    while (c >= 0 && !p->allowed(c)) c = dl_busy_cpus().next_clear_from(c + 1, n);
    return c;
  };
  const int first = next_free(0);
  if (first >= 0) return pick_preferred(first, p->cpu, next_free);
  // cpudl_find(): the CPU whose earliest deadline is the latest, if p's is earlier. (A DEADLINE
  // task may run anywhere, so the scan below is for a task denied that CPU.)
  if (const int top = cpudl_.max_cpu(); top >= 0 && p->allowed(top))
    return cpudl_.key(top) > p->dl.deadline ? top : -1;
  int latest_cpu = -1;
  Time latest = 0;
  const CpuBitmap& busy = dl_busy_cpus();
  for (int c = busy.next_from(0); c >= 0; c = busy.next_from(c + 1)) {
    if (!p->allowed(c)) continue;
    Time e = dl_earliest(cpu_rq(c));
    if (e > p->dl.deadline && (latest_cpu < 0 || e > latest)) {
      latest = e;
      latest_cpu = c;
    }
  }
  return latest_cpu;
}

static Task* earliest_pushable_dl(Kernel& k, Rq& rq, int allowed_cpu) {
  for (DlEntity* dl : rq.dl.queue)
    if (dl->task && k.task_is_pushable(dl->task) &&
        (allowed_cpu < 0 || dl->task->allowed(allowed_cpu)))
      return dl->task;
  return nullptr;
}

bool Kernel::push_dl_task(Rq& rq) {
  dl_update_overload(rq);
  if (!rq.dl.overloaded) return false;
  Task* next = earliest_pushable_dl(*this, rq, -1);
  if (!next) return false;
  Task* donor = rq.donor;
  if (donor->sched_class == dl_class() && next->dl.deadline < donor->dl.deadline &&
      donor->nr_cpus_allowed > 1) {
    resched_curr(rq);
    return false;
  }
  int target = find_later_rq(next);
  if (target < 0 || target == rq.cpu) return false;
  Time e = dl_earliest(cpu_rq(target));
  if (!(e == kTimeNever || next->dl.deadline < e)) return false;
  move_queued_task(next, target, MigrateReason::kDlPush);
  return true;
}

void Kernel::push_dl_tasks(Rq& rq) {
  for (int guard = 0; guard < 1000 && push_dl_task(rq); ++guard) {
  }
}

// As pull_rt_task(), over the CPUs with DEADLINE work queued or arriving (cpudl's): a CPU
// without queued DL tasks has no pushable one (those only arriving are skipped below); its
// cached overload state is refreshed before every read elsewhere.
void Kernel::pull_dl_task(Rq& this_rq) {
  const int n = nr_cpus();
  dl_busy_cpus().find_wrapped((this_rq.cpu + 1) % n, n, [&](int cpu) {
    if (cpu == this_rq.cpu) return false;
    Rq& src = cpu_rq(cpu);
    dl_update_overload(src);
    if (!src.dl.overloaded) return false;
    Task* p = earliest_pushable_dl(*this, src, this_rq.cpu);
    if (!p) return false;
    Time mine = dl_earliest(this_rq);
    if (!(mine == kTimeNever || p->dl.deadline < mine)) return false;
    if (src.donor->sched_class == dl_class() && p->dl.deadline < src.donor->dl.deadline)
      return false;
    move_queued_task(p, this_rq.cpu, MigrateReason::kDlPull);
    return false;
  });
}

void Kernel::run_balance_callbacks(Rq& rq) {
  if (rq.rt_push_cb) {
    rq.rt_push_cb = false;
    push_rt_tasks(rq);
  }
  if (rq.dl_push_cb) {
    rq.dl_push_cb = false;
    push_dl_tasks(rq);
  }
}

}  // namespace proxysim
