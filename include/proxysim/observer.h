// Typed events emitted by the kernel model. The model never formats output: trace writers and
// metrics collectors subscribe to these (DESIGN.md §2). The same events can be produced from a
// real kernel trace, so a collector must derive everything it reports from them alone.
#pragma once

#include <string_view>

#include "proxysim/types.h"

namespace proxysim {

// A task as the observers see it at the moment of an event.
struct TaskRef {
  int id = -1;            // dense, creation order; -1 for a CPU's idle task
  int pid = 0;            // 0 for idle ("swapper/N")
  std::string_view comm;  // at most 15 characters, like the kernel's TASK_COMM_LEN - 1
  int prio = 120;         // kernel prio encoding: fair 100+20+nice, RT 99-rtprio, DL -1
  Policy policy = Policy::kNormal;
};

// Why a task changed CPU (sched_migrate_task carries no reason; we do).
enum class MigrateReason : uint8_t {
  kWakeup,       // select_task_rq() at wakeup chose another CPU
  kLoadBalance,  // periodic load balance pull
  kNewidle,      // newidle balance pull
  kNohzBalance,  // idle CPU kicked by a busy CPU's tick pulled it
  kRtPush,
  kRtPull,
  kDlPush,
  kDlPull,
  kAffinity,  // sched_setaffinity() (rt-app phase "cpus") moved it off a forbidden CPU
  kCount,
};
std::string_view migrate_reason_name(MigrateReason r);

// prev_state of sched_switch, in the kernel's letters.
enum class SwitchState : uint8_t {
  kRunnable,  // "R": preempted or yielded (involuntary)
  kSleeping,  // "S"
  kDead,      // "X"
};

// One rt-app activation: one iteration of a phase (see docs/metrics.md for the exact bounds).
struct Activation {
  int phase = 0;
  int64_t index = 0;           // per-task activation counter, from 0
  Time start = 0;              // release time of the iteration
  Time end = 0;                // completion time of the iteration's work
  Time deadline = kTimeNever;  // absolute deadline, or kTimeNever when the task has none
  Time run_ns = 0;             // CPU time the task received during the activation
};

struct RunInfo {
  int nr_cpus = 0;
  uint64_t seed = 0;
  std::string_view protocol;
  std::string_view workload_file;
};

class Observer {
 public:
  virtual ~Observer() = default;

  virtual void on_start(const RunInfo&) {}
  // A task came into existence (rt-app thread creation), before its first wakeup.
  virtual void on_task_new(Time, const TaskRef&) {}
  // `cpu` switched from prev to next. `next_donor` is the scheduling context next runs on
  // (== next unless next runs as a proxy).
  virtual void on_sched_switch(Time, int cpu, const TaskRef& prev, SwitchState prev_state,
                               const TaskRef& next, const TaskRef& next_donor) {}
  // A wakeup starts on `cpu` (the waker's CPU); the task will be queued on target_cpu.
  virtual void on_sched_waking(Time, int cpu, const TaskRef&, int target_cpu) {}
  // The task was queued on target_cpu (on that CPU); `is_new` for its first wakeup.
  virtual void on_sched_wakeup(Time, int cpu, const TaskRef&, int target_cpu, bool is_new) {}
  virtual void on_sched_migrate(Time, int cpu, const TaskRef&, int orig_cpu, int dest_cpu,
                                MigrateReason) {}
  virtual void on_process_exit(Time, int cpu, const TaskRef&) {}
  virtual void on_activation(const TaskRef&, const Activation&) {}
  // End of the run: every observer closes what is still open at time `t`.
  virtual void on_finish(Time) {}
};

}  // namespace proxysim
