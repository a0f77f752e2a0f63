// Typed events emitted by the kernel model. The model never formats output: trace writers and
// metrics collectors subscribe to these (DESIGN.md §2). The same events can be produced from a
// real kernel trace, so a collector must derive everything it reports from them alone.
#pragma once

#include <string_view>

#include "proxysim/types.h"

namespace proxysim {

// A task as the observers see it at the moment of an event.
// The characters comm and name point to stay valid and unchanged until the run ends: a task
// that is renamed gets a TaskRef pointing to new storage (MetricsCollector copies a name again
// only when its address or length changes).
struct TaskRef {
  int id = -1;            // dense, creation order; -1 for a CPU's idle task
  int pid = 0;            // 0 for idle ("swapper/N")
  std::string_view comm;  // at most 15 characters, like the kernel's TASK_COMM_LEN - 1
  int prio = 120;         // kernel prio encoding: fair 100+20+nice, RT 99-rtprio, DL -1
  Policy policy = Policy::kNormal;
  std::string_view name = {};  // whole thread name (rt-app's), may be longer than comm, or empty
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
  kProxy,     // proxy execution: a donor moved to its lock owner's CPU
  kReturn,    // proxy execution: return migration of a woken donor to a CPU it may run on
  kUnknown,   // a real kernel trace that does not tell why (`proxysim analyze`, docs/analyze.md)
  kCount,
};
std::string_view migrate_reason_name(MigrateReason r);

// prev_state of sched_switch, in the kernel's letters.
enum class SwitchState : uint8_t {
  kRunnable,         // "R": preempted or yielded (involuntary)
  kSleeping,         // "S"
  kDead,             // "X"
  kUninterruptible,  // "D": blocked on a mutex
};

// One rt-app activation: one iteration of a phase (see docs/metrics.md for the exact bounds).
struct Activation {
  int phase = 0;
  int64_t index = 0;           // per-task activation counter, from 0
  Time start = 0;              // release time of the iteration
  Time end = 0;                // completion time of the iteration's work
  Time deadline = kTimeNever;  // absolute deadline, or kTimeNever when the task has none
  Time run_ns = 0;             // CPU time the task received during the activation
  // What rt-app's per-thread log reports (see docs/rtapp-logs.md):
  int pass = 0;         // thread loop (pass over the phase list)
  int phase_loop = 0;   // iteration of the phase within the pass
  Time wu_lat = 0;      // release -> the task running its first event of the iteration
  Time run_wall = 0;    // wall time from start to end of each run/runtime event, summed
  Time c_duration = 0;  // configured run/runtime/mem work of the iteration, ns
  Time c_period = 0;    // period of the iteration's timer, 0 if it has none
};

// A proxy-execution decision (find_proxy_task() and the wakeup path), for trace markers.
enum class ProxyAction : uint8_t {
  kPick,      // donor picked; `task` (the end of its chain) runs on the donor's context
  kMigrate,   // donor migrated towards `task`, the owner, on to_cpu (proxy_migrate_task())
  kReturn,    // woken donor return-migrated from from_cpu to to_cpu
  kPark,      // owner `task` sleeps: the donor is parked on it (sleeping-owner handling)
  kActivate,  // owner `task` woke: the parked donor is activated on to_cpu
  kHandoff,   // `task` unlocked: the lock is handed to the donor that was running it
  kBlock,     // the donor cannot proxy here (proxy_deactivate()): it really sleeps
};
std::string_view proxy_action_name(ProxyAction a);

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

  // --- locking (workload mutexes; `lock` indexes Workload::mutexes, `lock_name` its name) ---
  // `p` starts waiting for `lock`, held by `owner`.
  virtual void on_lock_contend(Time, int cpu, const TaskRef& p, int lock,
                               std::string_view lock_name, const TaskRef& owner) {}
  // `p` now holds `lock` (directly, by stealing, or by handoff after waiting).
  virtual void on_lock_acquire(Time, int cpu, const TaskRef& p, int lock,
                               std::string_view lock_name) {}
  virtual void on_lock_release(Time, int cpu, const TaskRef& p, int lock,
                               std::string_view lock_name) {}
  // Priority inheritance changed p's effective prio (the kernel's sched_pi_setprio).
  virtual void on_pi_setprio(Time, int cpu, const TaskRef& p, int oldprio, int newprio) {}
  // A proxy-execution decision about donor `donor` and task `task` (see ProxyAction).
  virtual void on_proxy(Time, int cpu, ProxyAction, const TaskRef& donor, const TaskRef& task,
                        int from_cpu, int to_cpu) {}
  // Scheduler statistics of `p` at a sched_switch on `cpu`, emitted right after on_sched_switch()
  // for prev, next and (when different) next's donor, idle excluded: the PELT utilisation
  // (p->se.avg.util_avg, 0..1024, as last updated) and the DEADLINE runtime left in the current
  // period (p->dl.runtime, ns; 0 for a task without a DEADLINE entity). Only emitted when some
  // observer's wants_sched_stat() returns true (asked once, at the start of the run), so that
  // runs without such an observer pay nothing.
  virtual bool wants_sched_stat() const { return false; }
  virtual void on_sched_stat(Time, int cpu, const TaskRef& p, int64_t util_avg,
                             Time dl_runtime_left) {}
  // A deadlock was detected (the run then ends with exit code 1); `message` names the cycle.
  virtual void on_deadlock(Time, std::string_view message) {}
  // End of the run: every observer closes what is still open at time `t`.
  virtual void on_finish(Time) {}
};

}  // namespace proxysim
