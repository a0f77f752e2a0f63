// kernel/sched/rt.c: SCHED_FIFO and SCHED_RR with push/pull balancing.
//
// Invariants (per rt_rq):
//  1. A queued RT task is on exactly one list, head[prio - 0] order = FIFO within a priority.
//  2. bitmap bit i is set iff list i is non-empty; highest_prio is the lowest set index (100 if
//     none).
//  3. overloaded (rq in rto_mask) iff rt_nr_running >= 2 and some queued task may migrate.
#include <bit>

#include "kernel/kernel.h"

namespace proxysim {
namespace {

// RR_TIMESLICE = 100 ms (include/linux/sched/rt.h), counted in ticks as the kernel does.
constexpr Time kRrTimeslice = 100 * kNsPerMs;

class RtClass final : public SchedClass {
 public:
  using SchedClass::SchedClass;
  const char* name() const override { return "rt"; }

  static void set_bit(RtRq& rt, int prio) { rt.bitmap[prio / 64] |= uint64_t{1} << (prio % 64); }
  static void clear_bit(RtRq& rt, int prio) {
    rt.bitmap[prio / 64] &= ~(uint64_t{1} << (prio % 64));
  }
  static int first_bit(const RtRq& rt) {
    if (rt.bitmap[0]) return std::countr_zero(rt.bitmap[0]);
    if (rt.bitmap[1]) return 64 + std::countr_zero(rt.bitmap[1]);
    return 100;
  }

  void list_add(RtRq& rt, Task* p, bool head) {
    int prio = p->prio;
    p->rt.on_list = true;
    if (!rt.head[prio]) {
      rt.head[prio] = rt.tail[prio] = p;
      p->rt.next = p->rt.prev = nullptr;
      set_bit(rt, prio);
    } else if (head) {
      p->rt.prev = nullptr;
      p->rt.next = rt.head[prio];
      rt.head[prio]->rt.prev = p;
      rt.head[prio] = p;
    } else {
      p->rt.next = nullptr;
      p->rt.prev = rt.tail[prio];
      rt.tail[prio]->rt.next = p;
      rt.tail[prio] = p;
    }
  }
  void list_del(RtRq& rt, Task* p) {
    int prio = p->prio;
    if (p->rt.prev)
      p->rt.prev->rt.next = p->rt.next;
    else
      rt.head[prio] = p->rt.next;
    if (p->rt.next)
      p->rt.next->rt.prev = p->rt.prev;
    else
      rt.tail[prio] = p->rt.prev;
    p->rt.next = p->rt.prev = nullptr;
    p->rt.on_list = false;
    if (!rt.head[prio]) clear_bit(rt, prio);
  }

  // The pushable list is implied: queued, not running, may migrate. Counted for rto_mask.
  bool pushable(const Task* p) const { return k_.task_is_pushable(p); }
  void update_overload(Rq& rq) {
    RtRq& rt = rq.rt;
    rt.highest_prio = first_bit(rt);
    int n = 0;
    for (int prio = rt.next_prio(0); prio < 100; prio = rt.next_prio(prio + 1))
      for (Task* t = rt.head[prio]; t; t = t->rt.next)
        if (pushable(t)) ++n;
    rt.nr_pushable = n;
    rt.overloaded = rt.rt_nr_running >= 2 && n > 0;
    k_.cpupri_update(rq);  // highest_prio changed after add/sub_nr_running() saw the old one
  }

  void enqueue_task(Rq& rq, Task* p, int flags) override {
    if (p->policy == Policy::kRr && p->rt.time_slice <= 0) p->rt.time_slice = kRrTimeslice;
    list_add(rq.rt, p, false);
    k_.rt_cpus().assign(rq.cpu, ++rq.rt.rt_nr_running > 0);
    k_.add_nr_running(rq);
    update_overload(rq);
    k_.update_load_avg_cfs(rq);
  }

  bool dequeue_task(Rq& rq, Task* p, int flags) override {
    update_curr_if(rq, p);
    list_del(rq.rt, p);
    k_.rt_cpus().assign(rq.cpu, --rq.rt.rt_nr_running > 0);
    k_.sub_nr_running(rq);
    update_overload(rq);
    return true;
  }

  void update_curr_if(Rq& rq, Task* p) {
    if (rq.donor == p) update_curr(rq);
  }

  // update_curr_rt(): CPU time only (RT bandwidth throttling is not modelled; see README).
  void update_curr(Rq& rq) override { k_.update_se(rq); }

  void yield_task(Rq& rq) override {
    // yield_task_rt(): requeue at the tail of its priority.
    Task* p = rq.donor;
    list_del(rq.rt, p);
    list_add(rq.rt, p, false);
  }

  // wakeup_preempt_rt(): strictly higher priority preempts.
  void wakeup_preempt(Rq& rq, Task* p, int wake_flags) override {
    if (p->prio < rq.donor->prio) k_.resched_curr(rq);
  }

  Task* pick_task(Rq& rq) override {
    int prio = first_bit(rq.rt);
    return prio < 100 ? rq.rt.head[prio] : nullptr;
  }

  void put_prev_task(Rq& rq, Task* prev, Task* next) override {
    update_curr_if(rq, prev);
    update_overload(rq);
    // put_prev_task_rt() queues a push when prev stays queued and may move.
    if (task_on_rq_queued(prev) || prev->state == TaskState::kRunning) k_.rt_push_pending(rq);
  }

  void set_next_task(Rq& rq, Task* p, bool first) override {
    p->se.exec_start = k_.now();
    update_overload(rq);
    // set_next_task_rt(): after picking, push what else may run elsewhere.
    if (first) k_.rt_push_pending(rq);
  }

  // balance_rt(): pull if the rq is about to run something of lower priority than prev had.
  bool balance(Rq& rq, Task* prev) override {
    if (!task_on_rq_queued(prev) || prev->sched_class != this || rq.rt.highest_prio > prev->prio)
      k_.pull_rt_task(rq);
    return rq.rt.rt_nr_running > 0 || rq.dl.dl_nr_running > 0;
  }

  // task_tick_rt(): SCHED_RR round robin.
  void task_tick(Rq& rq, Task* p) override {
    update_curr(rq);
    if (p->policy != Policy::kRr) return;
    p->rt.time_slice -= k_.tick_nsec();
    if (p->rt.time_slice > 0) return;
    p->rt.time_slice = kRrTimeslice;
    // Requeue to the end of queue if we (and all of our ancestors) are not the only element.
    if (p->rt.prev || p->rt.next) {
      list_del(rq.rt, p);
      list_add(rq.rt, p, false);
      k_.resched_curr(rq);
    }
  }

  // select_task_rq_rt(): leave p where it was unless a higher-or-equal RT/DL task runs there
  // and a CPU running something of lower priority can take it.
  int select_task_rq(Task* p, int prev_cpu, int wake_flags) override {
    int cpu = prev_cpu;
    if (!p->allowed(cpu)) cpu = p->cpus_mask.first();
    Rq& rq = k_.cpu_rq(cpu);
    Task* curr = rq.donor;
    bool test = curr != &rq.idle && curr->prio < 100 &&
                (curr->nr_cpus_allowed < 2 || curr->prio <= p->prio);
    if (test || !p->allowed(prev_cpu)) {
      int target = k_.find_lowest_rq(p, cpu);
      if (target >= 0 && p->prio < k_.rq_prio(target)) cpu = target;
    }
    return cpu;
  }

  // task_woken_rt(): a woken task that will not run here soon is pushed.
  void task_woken(Rq& rq, Task* p) override {
    Task* curr = rq.donor;
    if (!p->on_cpu && !rq.need_resched && p->nr_cpus_allowed > 1 && curr->prio < 100 &&
        (curr->nr_cpus_allowed < 2 || curr->prio <= p->prio))
      k_.push_rt_tasks(rq);
  }
};

}  // namespace

std::unique_ptr<SchedClass> make_rt_class(Kernel& k) { return std::make_unique<RtClass>(k); }

}  // namespace proxysim
