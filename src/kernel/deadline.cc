// kernel/sched/deadline.c: EDF + CBS, push/pull, and the fair dl_server (Linux 6.18 behaviour:
// one deferred server per CPU, 50 ms every 1 s, that lets fair tasks run under RT load).
//
// Invariants (per dl_rq):
//  1. queue holds every entity with on_tree, in ascending (deadline, id) order (the server sorts
//     after tasks with the same deadline).
//  2. A throttled entity is never on the tree; its replenishment timer is armed or it is asleep.
#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {
namespace {

constexpr int kBwShift = 20;  // BW_SHIFT
constexpr int kDlScale = 10;  // DL_SCALE

bool dl_before(const DlEntity* a, const DlEntity* b) {
  if (a->deadline != b->deadline) return a->deadline < b->deadline;
  int ia = a->task ? a->task->id : INT32_MAX;
  int ib = b->task ? b->task->id : INT32_MAX;
  return ia < ib;
}

}  // namespace

void dl_tree_add(Kernel& k, Rq& rq, DlEntity* dl) {
  auto& q = rq.dl.queue;
  q.insert(std::upper_bound(q.begin(), q.end(), dl, dl_before), dl);
  dl->on_tree = true;
  if (dl->task) {
    ++rq.dl.dl_nr_running;
    k.dl_busy_update(rq);
    k.add_nr_running(rq);
  }
}

void dl_tree_del(Kernel& k, Rq& rq, DlEntity* dl) {
  auto& q = rq.dl.queue;
  q.erase(std::find(q.begin(), q.end(), dl));
  dl->on_tree = false;
  if (dl->task) {
    --rq.dl.dl_nr_running;
    k.dl_busy_update(rq);
    k.sub_nr_running(rq);
  }
}

// replenish_dl_new_period()
static void replenish_new_period(DlEntity* dl, Time now) {
  dl->deadline = now + dl->dl_deadline;
  dl->runtime = dl->dl_runtime;
}

// replenish_dl_entity(): postpone the deadline by periods until the budget is positive.
static void replenish_dl_entity(DlEntity* dl, Time now) {
  if (dl->dl_yielded && dl->runtime > 0) dl->runtime = 0;
  while (dl->runtime <= 0) {
    dl->deadline += dl->dl_period;
    dl->runtime += dl->dl_runtime;
  }
  if (dl->deadline < now) replenish_new_period(dl, now);
  dl->dl_yielded = false;
  dl->dl_throttled = false;
}

// dl_entity_overflow(): runtime / (deadline - t) > dl_runtime / dl_deadline, in DL_SCALE units.
static bool dl_entity_overflow(const DlEntity* dl, Time t) {
  uint64_t left = static_cast<uint64_t>(dl->dl_deadline >> kDlScale) *
                  static_cast<uint64_t>(std::max<Time>(dl->runtime, 0) >> kDlScale);
  uint64_t right = static_cast<uint64_t>((dl->deadline - t) >> kDlScale) *
                   static_cast<uint64_t>(dl->dl_runtime >> kDlScale);
  return right < left;
}

// update_dl_entity(): the CBS wakeup rule (with the revised rule for constrained deadlines).
static void update_dl_entity(DlEntity* dl, Time now) {
  if (dl->deadline < now || dl_entity_overflow(dl, now)) {
    if (dl->dl_deadline != dl->dl_period && !(dl->deadline < now) && !dl->dl_boosted) {
      // update_dl_revised_wakeup(): runtime = dl_density * laxity.
      Time laxity = dl->deadline - now;
      dl->runtime = static_cast<Time>((dl->dl_density * static_cast<uint64_t>(laxity)) >> kBwShift);
      return;
    }
    replenish_new_period(dl, now);
  }
}

namespace {

class DlClass final : public SchedClass {
 public:
  using SchedClass::SchedClass;
  const char* name() const override { return "dl"; }

  void enqueue_task(Rq& rq, Task* p, int flags) override {
    DlEntity* dl = &p->dl;
    if (dl->dl_throttled && !(flags & ENQUEUE_REPLENISH)) return;  // the timer will enqueue it
    if (flags & ENQUEUE_WAKEUP || flags & ENQUEUE_INITIAL)
      update_dl_entity(dl, k_.now());
    else if (flags & ENQUEUE_REPLENISH)
      replenish_dl_entity(dl, k_.now());
    else if (dl->deadline < k_.now())
      replenish_new_period(dl, k_.now());  // ENQUEUE_RESTORE
    dl_tree_add(k_, rq, dl);
    k_.dl_update_overload(rq);
  }

  bool dequeue_task(Rq& rq, Task* p, int flags) override {
    if (rq.donor == p) update_curr(rq);
    if (p->dl.on_tree) dl_tree_del(k_, rq, &p->dl);
    k_.dl_update_overload(rq);
    return true;
  }

  // update_curr_dl()
  void update_curr(Rq& rq) override {
    Task* curr = rq.donor;
    Time delta = k_.update_se(rq);
    if (delta <= 0) return;
    k_.update_curr_dl_se(rq, &curr->dl, delta);
  }

  void yield_task(Rq& rq) override {
    // yield_task_dl(): give up the rest of this period's budget.
    rq.donor->dl.dl_yielded = true;
    update_curr(rq);
    if (rq.donor->dl.on_tree || !rq.donor->dl.dl_throttled)
      k_.update_curr_dl_se(rq, &rq.donor->dl, 0);
  }

  void wakeup_preempt(Rq& rq, Task* p, int wake_flags) override {
    if (p->dl.deadline < rq.donor->dl.deadline) k_.resched_curr(rq);
  }

  Task* pick_task(Rq& rq) override {
    rq.dl_server_picked = false;
    for (int guard = 0; guard < 4 && !rq.dl.queue.empty(); ++guard) {
      DlEntity* dl = rq.dl.queue.front();
      if (dl->task) return dl->task;
      // The fair server: run a fair task in its place.
      Task* p = k_.fair()->pick_task(rq);
      if (p) {
        rq.dl_server_picked = true;
        return p;
      }
      // Nothing to serve: the server yields the rest of its period.
      k_.dl_server_stop(rq);
    }
    return nullptr;
  }

  void put_prev_task(Rq& rq, Task* prev, Task* next) override {
    if (rq.donor == prev) update_curr(rq);
    k_.dl_update_overload(rq);
    if (prev->dl.on_tree) k_.dl_push_pending(rq);
  }

  void set_next_task(Rq& rq, Task* p, bool first) override {
    p->se.exec_start = k_.now();
    k_.dl_update_overload(rq);
    if (first) k_.dl_push_pending(rq);
  }

  // balance_dl(): pull when prev leaves the dl_rq.
  bool balance(Rq& rq, Task* prev) override {
    if (prev->sched_class == this && !prev->dl.on_tree) k_.pull_dl_task(rq);
    return rq.dl.dl_nr_running > 0;
  }

  void task_tick(Rq& rq, Task* p) override { update_curr(rq); }

  // select_task_rq_dl()
  int select_task_rq(Task* p, int prev_cpu, int wake_flags) override {
    int cpu = p->allowed(prev_cpu) ? prev_cpu : p->cpus_mask.first();
    Rq& rq = k_.cpu_rq(cpu);
    Task* curr = rq.donor;
    bool select = curr->sched_class == this &&
                  (curr->nr_cpus_allowed < 2 || !(p->dl.deadline < curr->dl.deadline)) &&
                  p->nr_cpus_allowed > 1;
    if (select) {
      int target = k_.find_later_rq(p);
      if (target >= 0) {
        Rq& t = k_.cpu_rq(target);
        if (t.dl.dl_nr_running == 0 || p->dl.deadline < t.dl.earliest_dl()) cpu = target;
      }
    }
    return cpu;
  }

  void task_woken(Rq& rq, Task* p) override {
    Task* donor = rq.donor;
    if (!p->on_cpu && !rq.need_resched && p->nr_cpus_allowed > 1 && donor->sched_class == this &&
        (donor->nr_cpus_allowed < 2 || !(p->dl.deadline < donor->dl.deadline)))
      k_.push_dl_tasks(rq);
  }
};

}  // namespace

std::unique_ptr<SchedClass> make_dl_class(Kernel& k) { return std::make_unique<DlClass>(k); }

// update_curr_dl_se(): charge `delta` to a DL entity (task or server); throttle on exhaustion.
void Kernel::update_curr_dl_se(Rq& rq, DlEntity* dl, Time delta) {
  if (dl->dl_boosted) return;  // PI-boosted entities are not throttled
  dl->runtime -= delta;
  if (!(dl->runtime <= 0 || dl->dl_yielded)) return;
  dl->dl_throttled = true;
  if (dl->dl_yielded && dl->runtime > 0) dl->runtime = 0;
  if (dl->on_tree) dl_tree_del(*this, rq, dl);
  if (dl->task == nullptr) {
    // The fair server ran out: wait for the next period, then defer again.
    DlServer& s = rq.fair_server;
    s.running = false;
    s.defer_armed = false;
    Time act = dl->deadline - dl->dl_deadline + dl->dl_period;  // dl_next_period()
    arm_dl_timer(std::max(act, now_), -1, rq.cpu);
    if (rq.dl_server_picked) resched_curr(rq);
    return;
  }
  // start_dl_timer(): replenish at the next period, or now if that is already past.
  Time act = dl->deadline - dl->dl_deadline + dl->dl_period;
  arm_dl_timer(std::max(act, now_), dl->task->id, rq.cpu);
  resched_curr(rq);
}

// dl_task_timer() and the fair server's timer.
void Kernel::dl_timer_fired(int id, int cpu) {
  if (id < 0) {
    // Armed only while the server is active: dl_server_stop() cancels it.
    Rq& rq = cpu_rq(cpu);
    DlServer& s = rq.fair_server;
    DlEntity* dl = &s.dl;
    if (dl->dl_throttled) {
      replenish_dl_entity(dl, now_);
      s.defer_armed = true;
      arm_dl_timer(std::max(now_, dl->deadline - dl->runtime), -1, cpu);
      return;
    }
    if (s.defer_armed) {
      // Zero-laxity point reached with budget left: the server competes as a DL entity.
      s.defer_armed = false;
      s.running = true;
      if (dl->deadline < now_) replenish_new_period(dl, now_);
      dl_tree_add(*this, rq, dl);
      resched_curr(rq);
    }
    return;
  }
  Task* p = tasks_[id].get();
  DlEntity* dl = &p->dl;
  Rq& rq = task_rq(p);
  ctx_cpu_ = rq.cpu;
  if (!task_on_rq_queued(p)) {  // asleep (a queued blocked donor is enqueued below)
    replenish_dl_entity(dl, now_);
    if (task_on_rq_migrating(p) && p->policy == Policy::kDeadline) dl_busy_update(rq);
    return;
  }
  p->sched_class->enqueue_task(rq, p, ENQUEUE_REPLENISH);
  if (rq.donor->sched_class == dl_class())
    wakeup_preempt(rq, p, 0);
  else
    resched_curr(rq);
  // dl_task_timer(): "Queueing this task back might have overloaded rq, check if we need to kick
  // someone away": a replenished task that is not running is pushed to a CPU with no DEADLINE
  // work or a later deadline, even when it would run here next.
  dl_update_overload(rq);
  if (rq.dl.nr_pushable > 0) push_dl_task(rq);
}

// --- the fair server ---------------------------------------------------------------------------

void Kernel::dl_server_init(Rq& rq) {
  // fair_server: 50 ms runtime every 1 s period (kernel/sched/deadline.c dl_server defaults).
  DlEntity& dl = rq.fair_server.dl;
  dl.dl_runtime = 50 * kNsPerMs;
  dl.dl_deadline = dl.dl_period = kNsPerSec;
  dl.dl_bw =
      (static_cast<uint64_t>(dl.dl_runtime) << kBwShift) / static_cast<uint64_t>(dl.dl_period);
  dl.dl_density = dl.dl_bw;
  dl.task = nullptr;
  dl.server_cpu = rq.cpu;
  dl.deadline = -1;  // "new": the first start sets up a fresh period (setup_new_dl_entity())
}

void Kernel::dl_server_start(Rq& rq) {
  DlServer& s = rq.fair_server;
  if (s.active) return;
  s.active = true;
  DlEntity* dl = &s.dl;
  // enqueue_dl_entity(ENQUEUE_WAKEUP) on a deferred server: CBS wakeup rule, then wait for the
  // zero-laxity point deadline - runtime.
  update_dl_entity(dl, now_);
  dl->dl_throttled = false;
  s.defer_armed = true;
  s.running = false;
  arm_dl_timer(std::max(now_, dl->deadline - dl->runtime), -1, rq.cpu);
}

void Kernel::dl_server_stop(Rq& rq) {
  DlServer& s = rq.fair_server;
  if (!s.active) return;
  if (s.dl.on_tree) dl_tree_del(*this, rq, &s.dl);
  s.active = false;
  s.running = false;
  s.defer_armed = false;
  s.dl.dl_throttled = false;
  cancel_server_timer(rq.cpu);
}

void Kernel::dl_server_update(Rq& rq, Time delta) {
  DlServer& s = rq.fair_server;
  if (!s.active || s.dl.dl_throttled) return;
  update_curr_dl_se(rq, &s.dl, delta);
}

}  // namespace proxysim
