// kernel/sched/fair.c: EEVDF (Linux 6.18), without group scheduling.
//
// Entities are kept in a tree ordered by virtual deadline and augmented with the minimum
// vruntime of each subtree, so that the earliest eligible deadline is found in O(log n), as the
// kernel's augmented rbtree does (__pick_eevdf; the tree is kernel/eevdf_tree.h). The running
// entity is kept out of the tree.
//
// Invariants (per cfs_rq):
//  1. avg_vruntime == Σ_{se in tree} (se.vruntime - min_vruntime) * se.weight and
//     avg_load == Σ_{se in tree} se.weight.
//  2. nr_queued counts every on_rq entity (curr and sched_delayed ones included);
//     h_nr_runnable excludes sched_delayed ones.
#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {
namespace {

// sched_prio_to_weight[] and sched_prio_to_wmult[] (kernel/sched/core.c), nice -20..19.
constexpr uint64_t kPrioToWeight[40] = {
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904,
    3906,  3121,  2501,  1991,  1586,  1277,  1024,  820,   655,   526,   423,  335,  272,  215,
    172,   137,   110,   87,    70,    56,    45,    36,    29,    23,    18,   15,
};
constexpr uint32_t kPrioToWmult[40] = {
    48388,    59856,    76040,    92818,     118348,    147320,    184698,    229616,
    287308,   360437,   449829,   563644,    704093,    875809,    1099582,   1376151,
    1717300,  2157191,  2708050,  3363326,   4194304,   5237765,   6557202,   8165337,
    10153587, 12820798, 15790321, 19976592,  24970740,  31350126,  39045157,  49367440,
    61356676, 76695844, 95443717, 119304647, 148102320, 186737708, 238609294, 286331153,
};
constexpr uint64_t kWeightIdleprio = 3;          // WEIGHT_IDLEPRIO
constexpr uint32_t kWmultIdleprio = 1431655765;  // WMULT_IDLEPRIO
constexpr uint64_t kNice0Load = 1024;

// __calc_delta(): delta * weight / lw->weight with the 32-bit inverse, as the kernel computes it.
int64_t calc_delta(int64_t delta, uint64_t weight, const SchedEntity& se) {
  uint64_t fact = weight * se.inv_weight;
  int shift = 32;
  uint32_t fact_hi = static_cast<uint32_t>(fact >> 32);
  if (fact_hi) {
    int fs = 32 - __builtin_clz(fact_hi);  // fls()
    shift -= fs;
    fact >>= fs;
  }
  u128 r = static_cast<u128>(static_cast<uint64_t>(delta)) * static_cast<uint32_t>(fact);
  return static_cast<int64_t>(r >> shift);
}

// calc_delta_fair(): real time -> virtual time of se.
int64_t calc_delta_fair(int64_t delta, const SchedEntity& se) {
  if (se.weight != kNice0Load) delta = calc_delta(delta, kNice0Load, se);
  return delta;
}

bool entity_before(const Task* a, const Task* b) {
  int64_t d = a->se.deadline - b->se.deadline;
  return d != 0 ? d < 0 : a->id < b->id;
}

class FairClass final : public SchedClass {
 public:
  using SchedClass::SchedClass;
  const char* name() const override { return "fair"; }

  // --- avg_vruntime bookkeeping ---
  static int64_t entity_key(const CfsRq& cfs, const Task* p) {
    return p->se.vruntime - cfs.min_vruntime;
  }

  void avg_vruntime_add(CfsRq& cfs, Task* p) {
    cfs.avg_vruntime += entity_key(cfs, p) * static_cast<int64_t>(p->se.weight);
    cfs.avg_load += static_cast<int64_t>(p->se.weight);
  }
  void avg_vruntime_sub(CfsRq& cfs, Task* p) {
    cfs.avg_vruntime -= entity_key(cfs, p) * static_cast<int64_t>(p->se.weight);
    cfs.avg_load -= static_cast<int64_t>(p->se.weight);
  }

  // avg_vruntime(): the weighted average V, rounded towards -inf.
  // The weighted sum of (vruntime - min_vruntime) and the load of the queued entities, curr
  // included: what avg_vruntime() and vruntime_eligible() both start from.
  struct QueueSum {
    int64_t avg;
    int64_t load;
    int64_t min_vruntime;
    // vruntime_eligible(): v <= V without the division.
    bool eligible(int64_t v) const { return avg >= (v - min_vruntime) * load; }
  };
  static QueueSum queue_sum(const CfsRq& cfs) {
    const Task* curr = cfs.curr;
    QueueSum q{cfs.avg_vruntime, cfs.avg_load, cfs.min_vruntime};
    if (curr && curr->se.on_rq) {
      q.avg += entity_key(cfs, curr) * static_cast<int64_t>(curr->se.weight);
      q.load += static_cast<int64_t>(curr->se.weight);
    }
    return q;
  }

  static int64_t avg_vruntime(const CfsRq& cfs) {
    QueueSum q = queue_sum(cfs);
    if (q.load) {
      if (q.avg < 0) q.avg -= (q.load - 1);
      q.avg /= q.load;
    }
    return cfs.min_vruntime + q.avg;
  }

  static bool vruntime_eligible(const CfsRq& cfs, int64_t vruntime) {
    return queue_sum(cfs).eligible(vruntime);
  }
  static bool entity_eligible(const CfsRq& cfs, const Task* p) {
    return vruntime_eligible(cfs, p->se.vruntime);
  }

  // update_min_vruntime(): monotonic, follows the smallest vruntime of curr and the tree.
  void update_min_vruntime(CfsRq& cfs) {
    int64_t v = cfs.min_vruntime;
    Task* curr = cfs.curr;
    if (curr && !curr->se.on_rq) curr = nullptr;
    if (curr) v = curr->se.vruntime;
    if (!cfs.tree.empty()) {
      int64_t m = cfs.tree.min_vruntime();
      v = curr ? std::min(v, m) : m;  // kernel: min_vruntime() with signed compare
      if (curr && m - curr->se.vruntime < 0) v = m;
    }
    if (v - cfs.min_vruntime > 0) {
      int64_t delta = v - cfs.min_vruntime;
      cfs.avg_vruntime -= cfs.avg_load * delta;  // avg_vruntime_update()
      cfs.min_vruntime = v;
    }
  }

  void enqueue_tree(CfsRq& cfs, Task* p) {
    avg_vruntime_add(cfs, p);
    cfs.tree.insert(p);
  }
  void dequeue_tree(CfsRq& cfs, Task* p) {
    cfs.tree.erase(p);
    avg_vruntime_sub(cfs, p);
  }

  // cfs_rq_min_slice(): smallest slice among queued entities, curr included.
  Time min_slice(const CfsRq& cfs) const {
    Time s = INT64_MAX;
    if (cfs.curr && cfs.curr->se.on_rq) s = cfs.curr->se.slice;
    // The tree is augmented with min_slice, as the kernel's is (a full walk here was 42 % of
    // the time with 1,000 tasks on a runqueue: bench BM_FairPerRqSteady).
    if (!cfs.tree.empty()) s = std::min(s, cfs.tree.min_slice());
    return s == INT64_MAX ? k_.base_slice() : s;
  }

  // set_protect_slice() (RUN_TO_PARITY): run until the deadline or the smallest slice queued.
  void set_protect_slice(CfsRq& cfs, Task* p) {
    Time slice = std::min(min_slice(cfs), p->se.slice);
    int64_t vprot = p->se.deadline;
    if (slice != p->se.slice)
      vprot = std::min(vprot, p->se.vruntime + calc_delta_fair(slice, p->se));
    p->se.vprot = vprot;
  }
  static bool protect_slice(const Task* p) { return p->se.vprot - p->se.vruntime > 0; }
  static void cancel_protect_slice(Task* p) {
    if (protect_slice(p)) p->se.vprot = p->se.vruntime;
  }

  // update_deadline(): a new slice once the deadline is reached; true = reschedule.
  bool update_deadline(Task* p) {
    if (p->se.vruntime - p->se.deadline < 0) return false;
    if (!p->se.custom_slice) p->se.slice = k_.base_slice();
    p->se.deadline = p->se.vruntime + calc_delta_fair(p->se.slice, p->se);
    return true;
  }

  void update_entity_lag(CfsRq& cfs, Task* p) {
    int64_t vlag = avg_vruntime(cfs) - p->se.vruntime;
    int64_t limit = calc_delta_fair(std::max<Time>(2 * p->se.slice, k_.tick_nsec()), p->se);
    p->se.vlag = std::clamp(vlag, -limit, limit);
  }

  // place_entity(): vruntime = V - lag (lag inflated for the entity's own weight), deadline
  // one (half for new tasks) virtual slice later.
  void place_entity(CfsRq& cfs, Task* p, int flags) {
    SchedEntity& se = p->se;
    int64_t vruntime = avg_vruntime(cfs);
    int64_t lag = 0;
    if (!se.custom_slice) se.slice = k_.base_slice();
    int64_t vslice = calc_delta_fair(se.slice, se);
    if (cfs.nr_queued && se.vlag) {  // PLACE_LAG
      int64_t load = cfs.avg_load;
      if (cfs.curr && cfs.curr->se.on_rq) load += static_cast<int64_t>(cfs.curr->se.weight);
      lag = se.vlag * (load + static_cast<int64_t>(se.weight));
      if (!load) load = 1;
      lag /= load;
    }
    se.vruntime = vruntime - lag;
    if (se.rel_deadline) {  // PLACE_REL_DEADLINE
      se.deadline += se.vruntime;
      se.rel_deadline = false;
      return;
    }
    if (flags & ENQUEUE_INITIAL) vslice /= 2;  // PLACE_DEADLINE_INITIAL
    se.deadline = se.vruntime + vslice;
  }

  // update_curr(): charge the donor's runtime since exec_start. Two of every three calls (the
  // pick's and put_prev's after schedule()'s own) find no time elapsed: that test is inline.
  void update_curr(Rq& rq) override {
    if (k_.now() - rq.donor->se.exec_start > 0) charge_curr(rq);
  }
  [[gnu::noinline]] void charge_curr(Rq& rq) {
    Task* curr = rq.donor;
    CfsRq& cfs = rq.cfs;
    Time delta = k_.update_se(rq);
    curr->se.vruntime += calc_delta_fair(delta, curr->se);
    bool resched = update_deadline(curr);
    update_min_vruntime(cfs);
    k_.dl_server_update(rq, delta);
    if (cfs.nr_queued == 1) return;
    if (resched || !protect_slice(curr)) k_.resched_curr(rq);
  }

  void enqueue_task(Rq& rq, Task* p, int flags) override {
    CfsRq& cfs = rq.cfs;
    if (flags & ENQUEUE_DELAYED) {
      requeue_delayed_entity(rq, p);
      return;
    }
    bool is_curr = cfs.curr == p;
    if (is_curr) place_entity(cfs, p, flags);
    if (cfs.curr && cfs.curr != p && rq.donor == cfs.curr) update_curr(rq);
    k_.update_load_avg_se(rq, p);
    if (!is_curr) place_entity(cfs, p, flags);
    cfs.load_weight += p->se.weight;
    ++cfs.nr_queued;
    if (!is_curr) enqueue_tree(cfs, p);
    p->se.on_rq = true;
    ++cfs.h_nr_runnable;
    k_.add_nr_running(rq);
    if (cfs.h_nr_runnable == 1) k_.dl_server_start(rq);
  }

  void requeue_delayed_entity(Rq& rq, Task* p) {
    CfsRq& cfs = rq.cfs;
    update_entity_lag(cfs, p);
    if (p->se.vlag > 0) {  // DELAY_ZERO
      --cfs.nr_queued;
      if (cfs.curr != p) dequeue_tree(cfs, p);
      p->se.vlag = 0;
      place_entity(cfs, p, 0);
      if (cfs.curr != p) enqueue_tree(cfs, p);
      ++cfs.nr_queued;
    }
    k_.update_load_avg_se(rq, p);
    p->se.sched_delayed = false;
    ++cfs.h_nr_runnable;
    if (cfs.h_nr_runnable == 1) k_.dl_server_start(rq);
  }

  // dequeue_entity(). Returns false when the entity is kept queued as sched_delayed.
  bool dequeue_task(Rq& rq, Task* p, int flags) override {
    CfsRq& cfs = rq.cfs;
    bool sleep = flags & DEQUEUE_SLEEP;
    if (!(flags & DEQUEUE_DELAYED) && !p->se.sched_delayed) {
      bool delay = sleep && !(flags & DEQUEUE_SPECIAL);
      if (delay && !entity_eligible(cfs, p)) {  // DELAY_DEQUEUE
        k_.update_load_avg_se(rq, p);
        p->se.sched_delayed = true;
        --cfs.h_nr_runnable;
        if (cfs.h_nr_runnable == 0) k_.dl_server_stop(rq);
        return false;
      }
    }
    if (cfs.curr == p && rq.donor == p) update_curr(rq);
    k_.update_load_avg_se(rq, p);
    // Out of the tree first: the deadline is the tree key (the kernel erases by node).
    if (p->se.in_tree()) dequeue_tree(cfs, p);
    update_entity_lag(cfs, p);
    if (!sleep) {  // PLACE_REL_DEADLINE
      p->se.deadline -= p->se.vruntime;
      p->se.rel_deadline = true;
    }
    p->se.on_rq = false;
    cfs.load_weight -= p->se.weight;
    --cfs.nr_queued;
    k_.sub_nr_running(rq);
    if (p->se.sched_delayed) {
      p->se.sched_delayed = false;
      if (p->se.vlag > 0) p->se.vlag = 0;  // DELAY_ZERO
    } else {
      --cfs.h_nr_runnable;
      if (cfs.h_nr_runnable == 0) k_.dl_server_stop(rq);
    }
    update_min_vruntime(cfs);
    return true;
  }

  // pick_eevdf(): the eligible entity with the earliest virtual deadline; curr keeps the CPU
  // while its slice is protected (RUN_TO_PARITY).
  Task* pick_eevdf(CfsRq& cfs) {
    Task* curr = cfs.curr;
    if (cfs.nr_queued == 1) return curr && curr->se.on_rq ? curr : cfs.tree.first();
    if (curr && (!curr->se.on_rq || !entity_eligible(cfs, curr))) curr = nullptr;
    if (curr && protect_slice(curr)) return curr;
    const QueueSum q = queue_sum(cfs);  // once for the whole walk
    Task* best = cfs.tree.pick([&q](int64_t v) { return q.eligible(v); });
    if (!best || (curr && entity_before(curr, best))) best = curr;
    return best;
  }

  Task* pick_task(Rq& rq) override {
    CfsRq& cfs = rq.cfs;
    for (;;) {
      if (cfs.nr_queued == 0) return nullptr;
      if (cfs.curr && rq.donor == cfs.curr) update_curr(rq);
      Task* p = pick_eevdf(cfs);
      if (!p) return nullptr;
      if (!p->se.sched_delayed) return p;
      // A delayed entity reached the front: finish its dequeue and pick again.
      dequeue_task(rq, p, DEQUEUE_SLEEP | DEQUEUE_DELAYED);
      p->on_rq = 0;
    }
  }

  void put_prev_task(Rq& rq, Task* prev, Task* next) override {
    CfsRq& cfs = rq.cfs;
    if (prev->se.on_rq) {
      if (rq.donor == prev) update_curr(rq);
      enqueue_tree(cfs, prev);
      k_.update_load_avg_se(rq, prev);
    }
    cfs.curr = nullptr;
  }

  void set_next_task(Rq& rq, Task* p, bool first) override {
    CfsRq& cfs = rq.cfs;
    if (!first) return;
    if (p->se.in_tree()) dequeue_tree(cfs, p);
    k_.update_load_avg_se(rq, p);
    cfs.curr = p;
    p->se.exec_start = k_.now();
    p->se.prev_sum_exec_runtime = p->se.sum_exec_runtime;
    set_protect_slice(cfs, p);
  }

  // balance_fair(): newidle balance when no fair task is runnable here.
  bool balance(Rq& rq, Task* prev) override {
    if (rq.cfs.h_nr_runnable) return true;
    k_.sched_balance_newidle(rq);
    return false;
  }

  void task_tick(Rq& rq, Task* p) override {
    update_curr(rq);
    k_.update_load_avg_se(rq, p);
  }

  // check_preempt_wakeup_fair()
  void wakeup_preempt(Rq& rq, Task* p, int wake_flags) override {
    Task* curr = rq.donor;
    if (curr == p || rq.need_resched) return;
    if (curr->policy == Policy::kIdle && p->policy != Policy::kIdle) {
      k_.resched_curr(rq);
      return;
    }
    if (p->policy != Policy::kNormal) return;  // BATCH and IDLE wakees never preempt
    CfsRq& cfs = rq.cfs;
    update_curr(rq);
    if (rq.need_resched) return;
    if (do_preempt_short(cfs, p, curr)) cancel_protect_slice(curr);
    if (pick_eevdf(cfs) == p) k_.resched_curr(rq);
  }

  // PREEMPT_SHORT: a wakee with a shorter slice may cut the protected slice short.
  static bool do_preempt_short(const CfsRq& cfs, const Task* pse, const Task* se) {
    if (pse->se.slice >= se->se.slice) return false;
    if (!entity_eligible(cfs, pse)) return false;
    if (entity_before(pse, se)) return true;
    if (!entity_eligible(cfs, se)) return true;
    return false;
  }

  // yield_task_fair(): give up the rest of the slice.
  void yield_task(Rq& rq) override {
    Task* curr = rq.donor;
    if (rq.nr_running == 1) return;
    update_curr(rq);
    if (entity_eligible(rq.cfs, curr)) curr->se.vruntime = curr->se.deadline;
    curr->se.deadline += calc_delta_fair(curr->se.slice, curr->se);
  }

  int select_task_rq(Task* p, int prev_cpu, int wake_flags) override;
  void migrate_task_rq(Task* p, int new_cpu) override;
};

bool available_idle_cpu(Kernel& k, int cpu) {
  Rq& rq = k.cpu_rq(cpu);
  return rq.curr == &rq.idle && rq.nr_running == 0 && rq.wake_list.empty() && rq.incoming.empty();
}

// select_task_rq_fair(). Flat topology: one LLC spanning all CPUs.
int FairClass::select_task_rq(Task* p, int prev_cpu, int wake_flags) {
  const int this_cpu = k_.ctx_cpu();
  auto allowed = [&](int c) { return p->allowed(c); };
  auto idle = [&](int c) { return available_idle_cpu(k_, c); };
  if (wake_flags & WF_FORK) {
    // sched_balance_find_dst_cpu(): the idlest CPU; the parent's if it is idle.
    if (allowed(this_cpu) && idle(this_cpu)) return this_cpu;
    int best = -1;
    for (int c = p->cpus_mask.first(); c >= 0; c = p->cpus_mask.next(c)) {
      if (c >= k_.nr_cpus()) break;
      if (idle(c)) return c;
      if (best < 0) {
        best = c;
        continue;
      }
      const Rq& a = k_.cpu_rq(c);
      const Rq& b = k_.cpu_rq(best);
      if (a.nr_running < b.nr_running ||
          (a.nr_running == b.nr_running && a.cfs.avg.load_avg < b.cfs.avg.load_avg))
        best = c;
    }
    return best;
  }
  int target = prev_cpu;
  if (this_cpu != prev_cpu && allowed(this_cpu)) {
    // wake_affine_idle()
    if (idle(this_cpu))
      target = idle(prev_cpu) ? prev_cpu : this_cpu;
    else if ((wake_flags & WF_SYNC) && k_.cpu_rq(this_cpu).nr_running == 1)
      target = this_cpu;
    else
      target = prev_cpu;
  }
  if (!allowed(target)) target = p->cpus_mask.first();
  // select_idle_sibling()
  if (idle(target)) return target;
  if (prev_cpu != target && allowed(prev_cpu) && idle(prev_cpu)) return prev_cpu;
  int recent = p->recent_used_cpu;
  p->recent_used_cpu = prev_cpu;
  if (recent != prev_cpu && recent != target && allowed(recent) && idle(recent)) return recent;
  // select_idle_cpu(): scan the LLC from target + 1, wrapping (only CPUs whose curr is idle
  // can pass available_idle_cpu()).
  const int n = k_.nr_cpus();
  int c = k_.idle_curr_cpus().find_wrapped(
      (target + 1) % n, n, [&](int cpu) { return cpu != target && allowed(cpu) && idle(cpu); });
  return c >= 0 ? c : target;
}

void FairClass::migrate_task_rq(Task* p, int new_cpu) {
  // detach_entity_load_avg(): the task's contribution leaves its old cfs_rq.
  Rq& rq = k_.task_rq(p);
  SchedAvg& ca = rq.cfs.avg;
  const SchedAvg& ta = p->se.avg;
  ca.load_avg -= std::min(ca.load_avg, ta.load_avg);
  ca.load_sum -= std::min(ca.load_sum, p->se.weight * ta.load_sum);
  ca.util_avg -= std::min(ca.util_avg, ta.util_avg);
  ca.util_sum -= std::min<uint32_t>(ca.util_sum, ta.util_sum);
  ca.runnable_avg -= std::min(ca.runnable_avg, ta.runnable_avg);
  ca.runnable_sum -= std::min(ca.runnable_sum, ta.runnable_sum);
  p->se.avg.last_update_time = 0;  // attach on the next enqueue
  if (!p->se.rel_deadline && !p->se.on_rq) {
    // A sleeping task keeps its lag; nothing else is relative to the old rq.
  }
  (void)new_cpu;
}

}  // namespace

std::unique_ptr<SchedClass> make_fair_class(Kernel& k) { return std::make_unique<FairClass>(k); }

// set_load_weight()
void Kernel::fair_set_load_weight(Task* p) {
  if (p->policy == Policy::kIdle) {
    p->se.weight = kWeightIdleprio;
    p->se.inv_weight = kWmultIdleprio;
    return;
  }
  int idx = std::clamp(p->static_prio - 100, 0, 39);
  p->se.weight = kPrioToWeight[idx];
  p->se.inv_weight = kPrioToWmult[idx];
}

// __sched_fork() + init_entity_runnable_average() + post_init_entity_util_avg().
void Kernel::fair_init_new(Rq& rq, Task* p) {
  p->se.vlag = 0;
  p->se.vruntime = 0;
  p->se.avg = SchedAvg{};
  p->se.avg.load_avg = p->se.weight;
  const SchedAvg& ca = rq.cfs.avg;
  int64_t cap = (1024 - static_cast<int64_t>(std::min<uint64_t>(ca.util_avg, 1024))) / 2;
  if (cap > 0) {
    int64_t util;
    if (ca.util_avg) {
      util = static_cast<int64_t>(ca.util_avg * p->se.weight / (ca.load_avg + 1));
      util = std::min(util, cap);
    } else {
      util = cap;
    }
    p->se.avg.util_avg = static_cast<uint64_t>(util);
    p->se.avg.util_sum = static_cast<uint32_t>(util * (47742 - 1024));
  }
}

}  // namespace proxysim
