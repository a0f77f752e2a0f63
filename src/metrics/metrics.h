// MetricsCollector: an Observer that turns the typed scheduler events into per-task and per-CPU
// metrics, and the writers of those metrics (JSON of DESIGN.md §8, a human summary table).
// Every number is derived from the events alone, so the same collector can consume events parsed
// from a real kernel trace. Definitions, units and the JSON shape: docs/metrics.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxysim/observer.h"
#include "proxysim/sim.h"
#include "proxysim/types.h"

namespace proxysim {

inline constexpr int kNrMigrateReasons = static_cast<int>(MigrateReason::kCount);

// Summary of a set of samples in ns. All fields are 0 when there is no sample.
struct Distribution {
  int64_t count = 0;
  int64_t min = 0;
  int64_t mean = 0;  // sum / count rounded to nearest, halves away from zero
  int64_t p50 = 0;   // nearest rank: the ceil(p / 100 * count)-th smallest sample (1-based)
  int64_t p99 = 0;
  int64_t max = 0;
};

// Exact summary of `samples` (taken by value: it is sorted).
Distribution summarize(std::vector<int64_t> samples);
// Nearest-rank percentile of an ascending, non-empty `sorted`; p in [0, 100].
int64_t percentile_nearest_rank(const std::vector<int64_t>& sorted, int p);

struct LockWait {
  Time total = 0;
  Time max = 0;
  int64_t count = 0;
};

struct TaskMetrics {
  int id = -1;  // creation order; output order
  std::string name;
  int pid = 0;
  Policy policy = Policy::kNormal;  // last seen
  int prio = 120;                   // kernel prio encoding, last seen
  Time cpu_time_ns = 0;             // time as curr (next of a switch) on some CPU
  Time donated_ns = 0;              // time as donor of a CPU whose curr was another task
  Time proxy_ns = 0;                // time as curr on another task's scheduling context
  int64_t activations = 0;
  Distribution response_ns;        // end - start of each activation
  Distribution wakeup_latency_ns;  // sched_waking -> switch-in
  LockWait lock_wait_ns;        // contend -> acquire of the same lock (waits open at the end too)
  Time owner_starved_ns = 0;    // waiting while no task of the owner chain was curr
  int64_t deadline_misses = 0;  // activations with end > deadline
  std::array<int64_t, kNrMigrateReasons> migrations{};  // by MigrateReason
  int64_t migrations_total = 0;
  int64_t switches_voluntary = 0;    // switched out sleeping or dead
  int64_t switches_involuntary = 0;  // switched out runnable (preempted, yielded)
};

struct CpuMetrics {
  int cpu = 0;
  Time busy_ns = 0;   // a task other than idle was curr
  Time idle_ns = 0;   // the idle task was curr
  Time proxy_ns = 0;  // curr != donor
};

// One activation of one task, kept for the per-activation CSV (MetricsCollector::
// keep_activations()).
struct ActivationRecord {
  int task_id = -1;  // TaskMetrics::id of the task
  Activation a;
};

struct RunMetrics {
  std::string protocol;
  int nr_cpus = 0;
  uint64_t seed = 0;
  RunStats stats;                      // sim_time, events, wall_s (from the engine)
  std::vector<std::string> deadlocks;  // one message per on_deadlock(), in order
  std::vector<TaskMetrics> tasks;      // ordered by id
  std::vector<CpuMetrics> cpus;        // ordered by CPU number
  // Every activation in event order; empty unless MetricsCollector::keep_activations().
  std::vector<ActivationRecord> activation_log;
};

// Invariants (after on_finish):
//  1. Σ tasks cpu_time_ns == Σ cpus busy_ns.
//  2. For each CPU, busy_ns + idle_ns == finish time - origin.
//  3. Σ tasks proxy_ns == Σ tasks donated_ns == Σ cpus proxy_ns.
//  4. A task's response and wakeup-latency samples are kept in full (percentiles are exact).
//  5. owner_starved_ns <= the task's lock wait time (it is only counted while waiting).
class MetricsCollector : public Observer {
 public:
  // `origin`: the time CPU accounting starts (the simulation starts at 0; a parsed kernel trace
  // passes its first timestamp). Every CPU is idle from `origin` until its first sched_switch.
  explicit MetricsCollector(Time origin = 0) : origin_(origin) {}

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
  void on_deadlock(Time t, std::string_view message) override;
  // Closes every open interval (running, donating, proxying, idle, lock waits, owner-starved
  // intervals) at `t`.
  void on_finish(Time t) override;

  // The metrics of the run. REQUIRES: on_finish() was called (else open intervals are missing).
  RunMetrics result(const RunStats& stats) const;

  // Keep every activation for RunMetrics::activation_log (the per-activation CSV); off by
  // default, since a long run has millions of them. REQUIRES: called before the run.
  void keep_activations(bool keep) { keep_activations_ = keep; }

 private:
  // Per task; grouped by size so that no field pads (a million tasks: every byte is 1 MB).
  // Layout: what touch() and a switch or wakeup read first (one cache line), then what a
  // switch-in, an activation and close_interval() write (the second); the rest is rare. Each
  // state starts a line. (At 1,024 CPUs x 100,000 tasks every touch is a cache miss: the
  // fields these paths use were spread over four lines.)
  struct alignas(64) TaskState {
    // --- line 0: touch(), sched_waking, the switch's on_cpu ---
    std::string name;
    const char* name_src = nullptr;  // where `name` was copied from (TaskRef contract: a rename
                                     // points to new storage, so an unchanged address and
                                     // length mean an unchanged name)
    Time waking_since = kTimeNever;  // first sched_waking not yet followed by a switch-in
    int pid = 0;
    int prio = 120;
    int on_cpu = -1;  // CPU where it is curr, or -1
    Policy policy = Policy::kNormal;
    bool seen = false;
    // --- line 1: switch counts, wakeup latency, activations, CPU time ---
    std::vector<int64_t> wakeup_latency;
    Time cpu_time = 0;
    int64_t voluntary = 0;
    int64_t involuntary = 0;
    int64_t activations = 0;
    int64_t deadline_misses = 0;
    // --- the rest ---
    std::vector<int64_t> response;
    Time donated = 0;
    Time proxy = 0;
    std::array<int64_t, kNrMigrateReasons> migrations{};
    int64_t migrations_total = 0;
    Time wait_since = 0;              // start of the wait for wait_lock
    Time starved_since = kTimeNever;  // start of the current owner-starved interval
    LockWait lock_wait;
    Time owner_starved = 0;
    int wait_lock = -1;  // lock it waits for (contend .. acquire), or -1
  };
  static_assert(offsetof(TaskState, seen) < 64 && offsetof(TaskState, deadline_misses) + 8 <= 128,
                "TaskState's hot fields fill its first two lines");
  // TaskState by id, in chunks of kChunk: growing never moves (or copies) the existing states, so
  // a million tasks need no doubling peak, and a TaskState* stays valid.
  class TaskTable {
   public:
    size_t size() const { return size_; }
    TaskState& operator[](size_t i) { return chunks_[i / kChunk][i % kChunk]; }
    const TaskState& operator[](size_t i) const { return chunks_[i / kChunk][i % kChunk]; }
    void grow_to(size_t n) {  // size() = max(size(), n)
      while (chunks_.size() * kChunk < n) chunks_.push_back(std::make_unique<TaskState[]>(kChunk));
      if (n > size_) size_ = n;
    }

   private:
    static constexpr size_t kChunk = 256;
    std::vector<std::unique_ptr<TaskState[]>> chunks_;
    size_t size_ = 0;
  };
  struct CpuState {
    int curr = -1;   // task id, -1 for idle
    int donor = -1;  // task id of rq->donor, -1 for idle
    Time since = 0;  // start of the current (curr, donor) interval
    Time busy = 0;
    Time idle = 0;
    Time proxy = 0;
  };

  // The state of task `p`, created if new, with its last-seen attributes refreshed; nullptr for
  // idle. TaskTable never moves states, so the pointer stays valid.
  TaskState* touch(const TaskRef& p) {
    if (p.id < 0) return nullptr;
    size_t i = static_cast<size_t>(p.id);
    std::string_view name = p.name.empty() ? p.comm : p.name;
    if (i >= tasks_.size() || !tasks_[i].seen || name.data() != tasks_[i].name_src ||
        name.size() != tasks_[i].name.size())
      return touch_new(p, name);
    TaskState& ts = tasks_[i];
    ts.pid = p.pid;
    ts.policy = p.policy;
    ts.prio = p.prio;
    return &ts;
  }
  // touch() of a new id or a renamed task: out of line, the common case is inlined.
  TaskState* touch_new(const TaskRef& p, std::string_view name);
  CpuState& cpu_state(int cpu);
  // Charges [since, t) of `c` to its curr/donor and to the CPU, and restarts at t.
  void close_interval(CpuState& c, Time t);
  // True when the owner chain of waiter `w` is non-empty and none of its tasks is curr anywhere.
  bool owner_starved(const TaskState& w) const;
  // Re-evaluates every waiter's owner-starved state after a change at `t`.
  void update_starved(Time t);
  // Ends the wait of `id` (acquired, or end of run) at `t`; `acquired` counts it.
  void end_wait(int id, Time t, bool acquired);
  int lock_owner(int lock) const;

  Time origin_;
  std::string protocol_;
  int nr_cpus_ = 0;
  uint64_t seed_ = 0;
  TaskTable tasks_;             // indexed by id
  std::vector<CpuState> cpus_;  // indexed by CPU
  std::vector<int> owner_;      // indexed by lock: owner task id, or -1
  std::vector<int> waiters_;    // ids of the tasks with wait_lock >= 0 (any order)
  std::vector<std::string> deadlocks_;
  bool keep_activations_ = false;
  std::vector<ActivationRecord> activation_log_;
};

struct JsonOptions {
  bool wall = true;  // false (--no-wall): omit "wall_s" so that whole files compare equal
};

// One run: {"protocol", "nr_cpus", "seed", "sim_time_ns", "events", "wall_s", "deadlocks",
// "tasks", "cpus"}, pretty-printed with 2-space indents and a trailing newline.
std::string metrics_json(const RunMetrics& run, const JsonOptions& opt = {});
// Several runs (`compare`): {"runs": [run, ...]}.
std::string metrics_json(const std::vector<RunMetrics>& runs, const JsonOptions& opt = {});

// Human summary: a header line, a task table and a CPU table (columns in docs/metrics.md).
std::string summary_table(const RunMetrics& run);
// One summary per run, separated by a blank line.
std::string summary_table(const std::vector<RunMetrics>& runs);

// `compare` view: one line per run (protocol, simulated time, events, deadlocks), then ONE table
// with a row per task (union over the runs, matched by id and name) and, per run, a column group
// headed by its protocol: response p99 and max, lock wait max, owner-starved time, CPU time,
// migrations. Columns in docs/metrics.md.
std::string compare_table(const std::vector<RunMetrics>& runs);

}  // namespace proxysim
