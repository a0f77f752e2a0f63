// struct task_struct, trimmed to what the model needs: scheduling entities of every class, PELT,
// placement state, and the rt-app program the task executes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "proxysim/types.h"
#include "proxysim/workload.h"

namespace proxysim {

class SchedClass;
struct Mutex;

// 128-bit intermediate for the kernel's mul_u64_u32_shr().
__extension__ typedef unsigned __int128 u128;

// p->__state, reduced. TASK_WAKING is the window of a remote wakeup in flight on a wake list.
enum class TaskState : uint8_t { kNew, kRunning, kSleeping, kWaking, kDead };

// p->on_rq: 0 = not queued, kQueued, kMigrating = in flight between runqueues.
inline constexpr int kTaskOnRqQueued = 1;
inline constexpr int kTaskOnRqMigrating = 2;

// PELT averages (struct sched_avg), kernel field names.
struct SchedAvg {
  uint64_t last_update_time = 0;
  uint64_t load_sum = 0;
  uint64_t runnable_sum = 0;
  uint32_t util_sum = 0;
  uint32_t period_contrib = 0;
  uint64_t load_avg = 0;
  uint64_t runnable_avg = 0;
  uint64_t util_avg = 0;
};

// struct sched_entity (fair class). While queued and not running, the entity is in its cfs_rq's
// EevdfTree, whose nodes live in the runqueue (kernel/eevdf_tree.h), not here.
// Layout: what the fair class reads at nearly every event (vruntime, deadline, weight, slice)
// in the first 64 bytes; SchedEntity is first in Task.
struct SchedEntity {
  int64_t vruntime = 0;  // u64 in the kernel; compared with signed differences
  int64_t deadline = 0;
  uint64_t weight = 1024;  // scale_load_down(load.weight)
  Time slice = 0;
  int64_t vlag = 0;
  int64_t vprot = 0;       // RUN_TO_PARITY protection point (vruntime)
  uint32_t heap_prio = 0;  // the tree's random heap priority
  uint32_t inv_weight = 4194304;
  uint32_t tree_slot = 0;  // its node in the cfs_rq's tree; 0 = not in the tree
  bool custom_slice = false;
  bool rel_deadline = false;
  bool sched_delayed = false;
  bool on_rq = false;
  // --- the rest ---
  Time exec_start = 0;
  Time sum_exec_runtime = 0;
  Time prev_sum_exec_runtime = 0;
  SchedAvg avg;
  bool in_tree() const { return tree_slot != 0; }
};

// struct sched_rt_entity
struct RtEntity {
  Time time_slice = 0;          // SCHED_RR: remaining, in ns (kernel: jiffies)
  struct Task* next = nullptr;  // intrusive FIFO list per priority
  struct Task* prev = nullptr;
  bool on_list = false;
};

// struct sched_dl_entity
struct DlEntity {
  Time dl_runtime = 0, dl_deadline = 0, dl_period = 0;
  uint64_t dl_bw = 0, dl_density = 0;  // to_ratio(), BW_SHIFT = 20
  Time runtime = 0;                    // remaining budget
  Time deadline = 0;                   // absolute
  struct Task* task = nullptr;         // nullptr for a dl_server
  uint32_t timer_slot = 0;             // a task's replenishment timer (event queue; 0 = none yet)
  int server_cpu = -1;                 // >= 0 for the fair server of that CPU
  bool dl_throttled = false;
  bool dl_yielded = false;
  bool dl_boosted = false;
  bool on_tree = false;
};

// One phase of a task's rt-app program with what the interpreter reads at each phase change,
// side by side (a task's phases are adjacent): with a TaskSpec per task, reading the TaskSpec,
// the Phase and its events there cost a cache miss each (README "Optimisations"). Built once per
// task definition when the run starts (Kernel::create_tasks()).
struct PhaseImage {
  const Phase* phase = nullptr;  // the source: name, cpus, sched
  const Event* events = nullptr;
  int n_events = 0;
  int loop = 1;             // Phase::loop: iterations per pass, -1 = forever
  int n_phases = 0;         // TaskSpec::phases.size()
  int spec_loop = -1;       // TaskSpec::loop: passes, -1 = forever
  Time c_duration = 0;      // rt-app's c_duration: run/runtime/mem work of an iteration, ns
  Time c_period = 0;        // rt-app's c_period: the iteration's timer period, 0 if none
  bool own_cpus = false;    // the phase or its task names cpus (phase_enter() compares masks)
  bool sets_sched = false;  // the phase sets scheduling parameters (Phase::sched)
};

// Where the task is in its rt-app program. (Fields grouped by size: no padding.)
struct ProgramState {
  const PhaseImage* img = nullptr;   // the current phase (img0 + phase)
  const PhaseImage* img0 = nullptr;  // the task's first phase; nullptr when it has none
  const Event* events = nullptr;     // img->events and ->n_events, cached: the current event
                                     // is read without touching the image
  Time work_left = 0;                // run: ns of work left in the current event
  Time runtime_end = 0;              // runtime: absolute end time
  Time next_release = 0;             // release time of the next iteration (see program.cc)
  // activation bookkeeping
  Time act_start = 0;
  Time act_run_start = 0;  // sum_exec_runtime at the activation start
  int64_t act_index = 0;
  Time act_deadline = kTimeNever;
  Time act_wu_lat = 0;
  Time act_run_wall = 0;   // wall time of the activation's completed run/runtime events
  Time run_started = -1;   // start of the run/runtime event in progress (rt-app's t_start)
  Time zero_time_at = -1;  // zero-time loop detection: events run at this instant
  Time t_first = 0;        // rt-app: thread start time (t0 + delay), timers start from it
  int pass = 0;            // completed passes over the phase list
  int phase = 0;
  int phase_iter = 0;  // completed iterations of the current phase
  int event = 0;       // index of the current event in the phase
  int n_events = 0;    // img->n_events
  int sync_stage = 0;  // condvar/barrier/suspend/semaphore events: 0 start, 1 waiting, 2 relock
  int zero_time_events = 0;
  EventKind kind = EventKind::kRun;
  bool in_event = false;            // the current event has started
  bool started = false;             // the thread body has begun
  bool resume_after_block = false;  // the current event completes when the task runs again
  bool act_open = false;

  const Event& current_event() const { return events[event]; }
  void enter_phase(const PhaseImage* im) {
    img = im;
    events = im ? im->events : nullptr;
    n_events = im ? im->n_events : 0;
  }
};

// Layout: what nearly every event of a fair task reads (the fair entity, the small state
// fields, class, mask, timer and program state, the names the observers are given) comes first
// and fills ~8 cache lines; the other classes' entities and the locking state, read only by
// the paths that use them, come last. (At 1,024 CPUs x 100,000 tasks each line of a task an
// event touches is a cache miss; README "Optimisations".) Fields are grouped by size: no padding.
struct alignas(64) Task {
  SchedEntity se;

  int id = 0;
  int pid = 0;
  int static_prio = 120;  // 120 + nice
  int normal_prio = 120;
  int prio = 120;  // effective (PI may lower it later)
  int rt_priority = 0;
  int on_rq = 0;
  int cpu = 0;       // task_cpu()
  int last_cpu = 0;  // the CPU before its latest move (what a stale task_cpu() read sees)
  int wake_cpu = 0;
  int recent_used_cpu = 0;
  int nr_cpus_allowed = 0;
  int wake_flags_pending = 0;  // wake flags of a wakeup waiting on a wake list
  int migration_pending = -1;  // set_affinity(): move to this CPU once off the CPU
  Policy policy = Policy::kNormal;
  TaskState state = TaskState::kNew;
  bool on_cpu = false;          // is rq->curr of its CPU
  bool proxy_migrated = false;  // queued away from wake_cpu by proxy migration
  bool cpus_all = false;        // cpus_mask is every simulated CPU (the mask's words, on the
                                // heap beyond 128 CPUs, need not be read)

  SchedClass* sched_class = nullptr;
  const TaskSpec* spec = nullptr;
  Mutex* blocked_on = nullptr;   // p->blocked_on: the mutex this task waits for
  Mutex* spinning_on = nullptr;  // optimistic spinning on this mutex's owner
  std::vector<Mutex*> held;      // mutexes held, in acquisition order (read at every switch)
  // timers: one hrtimer for sleep/timer events (its event-queue slot: Kernel::task_slot())
  Time wake_target = 0;  // nominal expiry of the pending sleep (release time)
  Time timer_slack = 0;
  uint64_t nvcsw = 0, nivcsw = 0;
  CpuMask cpus_mask;

  ProgramState prog;

  std::string comm;  // trace name, <= 15 chars
  std::string name;  // full thread name for metrics

  // --- read by the RT, DEADLINE and locking paths only ---
  SchedParams sched;  // current parameters
  RtEntity rt;
  DlEntity dl;
  Time rt_wait_since = -1;  // invariant checker: queued RT task waiting since

  // --- locking and proxy execution ---
  Mutex* contending = nullptr;      // a lock event of this task is contended on this mutex
  Task* blocked_donor = nullptr;    // the donor that last ran this task as a proxy
  Task* sleeping_owner = nullptr;   // parked on this owner (sleeping-owner handling)
  std::vector<Task*> blocked_head;  // donors parked on this task while it sleeps
  Task* pi_task = nullptr;          // rt_mutex: the waiter whose priority this task inherits
  uint64_t waiter_seq = 0;          // FIFO order among equal-priority rt_mutex waiters
  std::vector<Task*>* sync_wait = nullptr;  // the condvar/barrier/... queue it sleeps on

  // May it run on `cpu`? (cpumask_test_cpu(cpu, p->cpus_ptr))
  bool allowed(int c) const { return cpus_all || cpus_mask.test(c); }
  // The affinity, a subset of the online CPUs (of which there are nr_online).
  void set_cpus(const CpuMask& mask, int nr_online) {
    cpus_mask = mask;
    nr_cpus_allowed = mask.weight();
    cpus_all = nr_cpus_allowed == nr_online;
  }
};
static_assert(offsetof(SchedEntity, exec_start) == 64, "the hot fields fill the first line");

// The kernel's tasks, in 64-byte aligned chunks: each Task starts a cache line, as its layout
// assumes, with no allocator header between two tasks (alignas(64) objects from operator new
// cost a million tasks 244 MiB more, 1.60 KB per thread; BM_MemoryInstanced).
struct TaskDestroy {
  void operator()(Task* p) const { p->~Task(); }  // the arena owns the memory
};
using TaskPtr = std::unique_ptr<Task, TaskDestroy>;

class TaskArena {
 public:
  TaskPtr make() {
    if (chunks_.empty() || used_ == kChunk) {
      chunks_.emplace_back(static_cast<Task*>(
          ::operator new (kChunk * sizeof(Task), std::align_val_t{alignof(Task)})));
      used_ = 0;
    }
    return TaskPtr(new (chunks_.back().get() + used_++) Task());
  }

 private:
  struct Free {
    void operator()(Task* p) const { ::operator delete (p, std::align_val_t{alignof(Task)}); }
  };
  static constexpr size_t kChunk = 256;
  std::vector<std::unique_ptr<Task, Free>> chunks_;
  size_t used_ = 0;
};

inline bool task_on_rq_queued(const Task* p) { return p->on_rq == kTaskOnRqQueued; }
inline bool task_on_rq_migrating(const Task* p) { return p->on_rq == kTaskOnRqMigrating; }

}  // namespace proxysim
