// TimelineCollector: an Observer that keeps what the HTML report (--html) draws: every interval
// a task ran on a CPU, with the scheduling context it ran on (proxy execution), lock holding and
// waiting intervals per task, migrations with their reason, and the wakeup-latency and
// response-time samples of each task. Like MetricsCollector it derives everything from the
// observer events alone; the samples follow the definitions of docs/metrics.md exactly (a test
// checks that their summaries equal the metrics').
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxysim/observer.h"
#include "proxysim/types.h"

namespace proxysim {

// How a slice ended: the prev_state of the sched_switch that closed it, or why else it closed.
enum class SliceEnd : uint8_t {
  kRunnable = 0,         // "R": preempted or yielded
  kSleeping = 1,         // "S"
  kDead = 2,             // "X"
  kUninterruptible = 3,  // "D"
  kContinues = 4,        // the task kept the CPU; its donor or effective prio changed
  kRunEnd = 5,           // still running when the run ended
};

// One interval of a task as curr of a CPU.
struct Slice {
  Time start = 0;
  Time end = 0;
  int task = -1;   // curr (execution context)
  int donor = -1;  // rq->donor (scheduling context); == task unless curr runs as a proxy
  int prio = 120;  // curr's effective kernel prio during the slice
  SliceEnd how = SliceEnd::kRunEnd;
};

// A task holding (kind kHold) or waiting for (kWait) a workload mutex.
struct LockBand {
  enum Kind : uint8_t { kHold = 0, kWait = 1 };
  Time start = 0;
  Time end = 0;
  int task = -1;
  int lock = -1;
  Kind kind = kHold;
  int depth = 0;  // holds: number of other locks the task already held; waits: ditto
};

struct Migration {
  Time t = 0;
  int task = -1;
  int from = -1;
  int to = -1;
  MigrateReason reason = MigrateReason::kWakeup;
};

struct TimelineTask {
  int id = -1;
  std::string name;
  int pid = 0;
  Policy policy = Policy::kNormal;
  int prio = 120;                       // base (first seen) kernel prio
  std::vector<int64_t> wakeup_latency;  // sched_waking -> switch-in, in event order
  std::vector<int64_t> response;        // activation end - start, in completion order
};

struct Timeline {
  std::string protocol;
  int nr_cpus = 0;
  Time end = 0;                          // time of on_finish
  std::vector<TimelineTask> tasks;       // indexed by id (unseen ids have id -1)
  std::vector<std::vector<Slice>> cpus;  // per CPU, ordered by start, non-overlapping
  std::vector<std::string> locks;        // lock names, indexed by lock id ("" if never seen)
  std::vector<LockBand> bands;           // ordered by (task, start)
  std::vector<Migration> migrations;     // in event order (time order)
};

// Invariants:
//  1. open_[c] is the slice running on CPU c (task -1 when idle); it is appended to cpus[c]
//     exactly once, when it closes (switch, donor or prio change, finish).
//  2. A task's wait band is open iff waiting_[task] >= 0; its holds are open in held_[task].
//  3. Slices of one CPU never overlap and have start < end (empty intervals are not kept).
class TimelineCollector : public Observer {
 public:
  void on_start(const RunInfo& info) override;
  void on_task_new(Time t, const TaskRef& p) override;
  void on_sched_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                       const TaskRef& next, const TaskRef& next_donor) override;
  void on_sched_waking(Time t, int cpu, const TaskRef& p, int target_cpu) override;
  void on_sched_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) override;
  void on_sched_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu,
                        MigrateReason reason) override;
  void on_activation(const TaskRef& p, const Activation& a) override;
  void on_lock_contend(Time t, int cpu, const TaskRef& p, int lock, std::string_view lock_name,
                       const TaskRef& owner) override;
  void on_lock_acquire(Time t, int cpu, const TaskRef& p, int lock,
                       std::string_view lock_name) override;
  void on_lock_release(Time t, int cpu, const TaskRef& p, int lock,
                       std::string_view lock_name) override;
  void on_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) override;
  void on_finish(Time t) override;

  // The collected timeline. REQUIRES: on_finish() was called.
  Timeline take();

 private:
  struct Open {
    Time since = 0;
    int task = -1;
    int donor = -1;
    int prio = 120;
  };
  struct TaskState {
    int on_cpu = -1;                 // CPU where it is curr, or -1
    Time waking_since = kTimeNever;  // first sched_waking not yet followed by a switch-in
    int waiting = -1;                // index into tl_.bands of the open wait, or -1
    std::vector<size_t> held;        // indices into tl_.bands of open holds
  };

  void touch(const TaskRef& p);
  Open& cpu(int c);
  void close(int c, Time t, SliceEnd how);
  void note_lock(int lock, std::string_view name);
  void end_wait(int task, Time t);

  Timeline tl_;
  std::vector<Open> open_;        // per CPU
  std::vector<TaskState> state_;  // per task id
};

}  // namespace proxysim
