// struct sched_class: the ops table every scheduling class implements. The core (core.cc) calls
// these with the runqueue of the CPU whose state changes; all calls happen at the current
// simulated time (Kernel::now()). Classes are ordered by sched_class_order().
#pragma once

#include "kernel/task.h"

namespace proxysim {

struct Rq;
class Kernel;

// enqueue/dequeue flags (kernel/sched/sched.h), the ones the model uses.
enum : int {
  ENQUEUE_WAKEUP = 0x01,
  ENQUEUE_RESTORE = 0x02,
  ENQUEUE_MIGRATED = 0x40,
  ENQUEUE_INITIAL = 0x80,
  ENQUEUE_REPLENISH = 0x20000,
  ENQUEUE_DELAYED = 0x200,
  DEQUEUE_SLEEP = 0x01,
  DEQUEUE_SAVE = 0x02,
  DEQUEUE_MIGRATING = 0x100,
  DEQUEUE_DELAYED = 0x200,
  DEQUEUE_SPECIAL = 0x10000,
};

// wake flags
enum : int { WF_TTWU = 0x08, WF_FORK = 0x04, WF_SYNC = 0x10, WF_MIGRATED = 0x20 };

class SchedClass {
 public:
  explicit SchedClass(Kernel& k) : k_(k) {}
  virtual ~SchedClass() = default;
  virtual const char* name() const = 0;

  // Put p on rq's class queue. Called with p->on_rq about to become queued.
  virtual void enqueue_task(Rq& rq, Task* p, int flags) = 0;
  // Take p off. Returns false when the class keeps p queued (fair delayed dequeue).
  virtual bool dequeue_task(Rq& rq, Task* p, int flags) = 0;
  // sched_yield() by rq->donor.
  virtual void yield_task(Rq& rq) {}
  // p (this class) was woken/enqueued on rq whose donor is also of this class: preempt?
  virtual void wakeup_preempt(Rq& rq, Task* p, int wake_flags) {}
  // Highest-priority task of this class on rq, or nullptr. Does not change what runs.
  virtual Task* pick_task(Rq& rq) = 0;
  // prev stops being the donor (next may be the same task).
  virtual void put_prev_task(Rq& rq, Task* prev, Task* next) {}
  // p becomes the donor. `first`: p was not the donor just before.
  virtual void set_next_task(Rq& rq, Task* p, bool first) {}
  // Before picking: pull work if this class may want it. Returns true if rq now has a task of
  // this class or higher.
  virtual bool balance(Rq& rq, Task* prev) { return false; }
  // Timer tick while p is the donor.
  virtual void task_tick(Rq& rq, Task* p) {}
  // Choose a CPU for p at wakeup (wake_flags WF_TTWU) or fork (WF_FORK).
  virtual int select_task_rq(Task* p, int prev_cpu, int wake_flags) = 0;
  // After a wakeup enqueued p on rq (push if it cannot run here soon).
  virtual void task_woken(Rq& rq, Task* p) {}
  // Charge the donor's runtime up to now.
  virtual void update_curr(Rq& rq) {}
  // p leaves rq for another CPU (PELT detach).
  virtual void migrate_task_rq(Task* p, int new_cpu) {}

 protected:
  Kernel& k_;
};

}  // namespace proxysim
