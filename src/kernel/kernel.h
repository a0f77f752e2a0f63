// The simulated machine: per-CPU runqueues (struct rq), the tasks, the clock and the event loop.
// core.cc holds what kernel/sched/core.c does (schedule, wakeups, migration, ticks); each class
// lives in its own file behind SchedClass. Names follow the kernel so both trees can be grepped.
#pragma once

#include <array>
#include <bit>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernel/cpu_bitmap.h"
#include "kernel/cpudl.h"
#include "kernel/eevdf_tree.h"
#include "kernel/sched_class.h"
#include "kernel/task.h"
#include "proxysim/observer.h"
#include "proxysim/sim.h"
#include "proxysim/status.h"
#include "sim/event_queue.h"

namespace proxysim {

// struct cfs_rq (no group scheduling: one per CPU).
struct CfsRq {
  EevdfTree tree;            // queued entities but curr, by (deadline, id) (tasks_timeline)
  Task* curr = nullptr;      // the running entity, kept out of the tree as in the kernel
  int nr_queued = 0;         // entities on_rq, including curr and delayed ones
  int h_nr_runnable = 0;     // queued and not delayed
  int64_t avg_vruntime = 0;  // Σ (v_i - min_vruntime) * w_i over the tree (not curr)
  int64_t avg_load = 0;      // Σ w_i over the tree (not curr)
  int64_t min_vruntime = 0;
  uint64_t load_weight = 0;  // Σ weight of on_rq entities (incl. curr)
  SchedAvg avg;              // PELT of the whole cfs_rq
};

// struct rt_rq: 100 FIFO lists with a bitmap, as rt_prio_array.
struct RtRq {
  std::array<uint64_t, 2> bitmap{};
  int rt_nr_running = 0;
  int highest_prio = 100;  // MAX_RT_PRIO when empty
  int nr_pushable = 0;
  bool overloaded = false;        // rq is in rd->rto_mask
  std::array<Task*, 100> head{};  // (the lists last: 1.6 KB that fair-only events never read)
  std::array<Task*, 100> tail{};
  // The first priority >= prio with queued tasks, or 100 (MAX_RT_PRIO) when none.
  int next_prio(int prio) const {
    for (int w = prio / 64; w < 2 && prio < 100; ++w, prio = w * 64) {
      uint64_t word = bitmap[w] & (~uint64_t{0} << (prio % 64));
      if (word) return w * 64 + std::countr_zero(word);
    }
    return 100;
  }
};

// struct dl_rq: entities sorted by absolute deadline (EDF).
struct DlRq {
  std::vector<DlEntity*> queue;  // ascending (deadline, id)
  int dl_nr_running = 0;         // tasks only (the server is not a task)
  int nr_pushable = 0;
  bool overloaded = false;
  Time earliest_dl() const { return queue.empty() ? kTimeNever : queue.front()->deadline; }
};

// The fair dl_server of one CPU (kernel: rq->fair_server, defer mode).
struct DlServer {
  DlEntity dl;
  bool active = false;       // dl_server_start() done, fair tasks present
  bool defer_armed = false;  // waiting for the zero-laxity point
  bool running = false;      // dl_defer_running: queued as a DL entity
};

// Layout: what an event on this CPU reads (curr, counts, the work and tick state, the fair
// runqueue, PELT of RT/DL) first; the RT lists, the DL queue and server, and the idle task
// (832 bytes, between curr and the counts until the third round of issue 8) last.
struct Rq {
  int cpu = 0;
  int nr_running = 0;             // all queued tasks of every class, incl. curr
  Task* curr = nullptr;           // execution context
  Task* donor = nullptr;          // scheduling context (== curr without proxy execution)
  bool dl_server_picked = false;  // curr runs through the fair server
  bool need_resched = false;
  bool ipi_pending = false;
  bool tick_running = false;  // tick (NOHZ idle: stopped while idle)
  bool rt_push_cb = false;    // balance callbacks queued by put_prev/set_next
  bool dl_push_cb = false;
  bool pull_pending = false;  // the donor was taken away (return migration): pull at pick
  bool work_rearmed = false;  // the work-completion timer was armed or cancelled (arm_work())
  int nr_balance_failed = 0;

  // what the current task's program is doing
  Time progress_from = 0;  // curr's current event progresses from this time
  Time exec_start = 0;     // curr got the CPU at
  Time next_balance = 0;

  CfsRq cfs;
  SchedAvg avg_rt;  // PELT utilisation of RT and DL execution on this CPU
  SchedAvg avg_dl;  // (update_rt_rq_load_avg / update_dl_rq_load_avg)

  std::vector<Task*> wake_list;  // remote wakeups waiting for this CPU's IPI
  std::vector<Task*> incoming;   // tasks in flight towards this CPU
  int incoming_dl = 0;           // of which SCHED_DEADLINE
  int incoming_rt = 0;           // of which with prio < 100 (RT or DEADLINE): rq_prio() scans
                                 // `incoming` only then (a million new tasks are in flight at 0)

  // statistics the invariant checker uses
  Time busy_ns = 0;
  Time rt_balance_at = -1;  // last push_rt_task() from, or pull_rt_task() scan of, this rq

  DlServer fair_server;
  DlRq dl;
  RtRq rt;
  Task idle;  // swapper/N
};

// A workload mutex. Which kernel lock it models depends on the protocol: struct mutex (none,
// proxy) or rt_mutex (pi).
//
// Invariants:
//  1. Every task in `waiters` has blocked_on == this, and every task whose blocked_on == this is
//     in `waiters` (exactly once).
//  2. owner is nullptr or holds this mutex in its `held` list; owner is never in `waiters`.
//  3. pi: waiters are ordered by (waiter prio, arrival sequence); otherwise by arrival (FIFO).
struct Mutex {
  int id = 0;
  std::string name;
  Task* owner = nullptr;
  std::vector<Task*> waiters;
  bool handoff = false;         // MUTEX_FLAG_HANDOFF: the next unlock hands over to waiters[0]
  std::vector<Task*> spinners;  // tasks spinning on the owner (mutex_optimistic_spin())
};

// rt-app's other synchronisation objects (src/locking/sync.cc).
struct CondVar {
  std::vector<Task*> waiters;  // FIFO
};
struct Barrier {
  int parties = 1;
  int arrived = 0;
  std::vector<Task*> waiters;
};
struct SuspendObj {
  std::vector<Task*> waiters;
};
struct Semaphore {
  int64_t value = 0;
  std::vector<Task*> waiters;
};

enum class Protocol : uint8_t { kNone, kPi, kProxySingleRq, kProxyMigrate, kProxyFull };

// Historical bugs of the proxy-execution series that --inject switches back on
// (reference/proxy-exec.md §3). Never on by default.
enum class Fault : uint8_t {
  kNone,
  kStaleTaskCpu,           // find_proxy_task() trusts the owner's old task_cpu while it moves
  kDanglingDonor,          // a donor is deactivated while still rq->donor (no proxy_resched_idle)
  kRunnableWithoutReturn,  // a woken donor skips return-migration evaluation
  kActivateLivelock,       // owner wakeup re-activates from a list re-parked donors refill
};
bool parse_protocol(const std::string& s, Protocol* out);
const char* protocol_name(Protocol p);

class Kernel {
 public:
  Kernel(const Workload& w, const SimOptions& opt, const std::vector<Observer*>& observers);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Creates the tasks (DL admission may fail) and runs to the end.
  Status run(RunStats* stats);

  // --- accessors used by the classes ---
  Time now() const { return now_; }
  int nr_cpus() const { return static_cast<int>(rqs_.size()); }
  Rq& cpu_rq(int cpu) { return *rqs_[cpu]; }
  Rq& task_rq(Task* p) { return *rqs_[p->cpu]; }
  const CostModel& costs() const { return opt_.costs; }
  Time tick_nsec() const { return tick_nsec_; }
  Time base_slice() const { return base_slice_; }
  Rng& rng() { return rng_; }
  const SchedClass* fair_class() const { return fair_.get(); }
  const SchedClass* rt_class() const { return rt_.get(); }
  const SchedClass* dl_class() const { return dl_.get(); }
  const SchedClass* idle_class() const { return idle_.get(); }
  SchedClass* fair() { return fair_.get(); }
  int class_rank(const SchedClass* c) const;  // 0 = highest (dl)
  std::vector<TaskPtr>& tasks() { return tasks_; }
  // A blank task in the kernel's arena (make_task() fills one in); it must not outlive the
  // kernel.
  TaskPtr new_task() { return task_arena_.make(); }
  int ctx_cpu() const { return ctx_cpu_; }

  // --- core scheduler operations (core.cc) ---
  void resched_curr(Rq& rq);
  void activate_task(Rq& rq, Task* p, int flags);
  void deactivate_task(Rq& rq, Task* p, int flags);
  void wakeup_preempt(Rq& rq, Task* p, int wake_flags);
  // Moves queued p from its rq to dest_cpu: p is in flight for costs().migration.
  void move_queued_task(Task* p, int dest_cpu, MigrateReason why);
  void send_in_flight(Task* p, int dest_cpu, MigrateReason why);
  // task_is_pushable(): RT/DL push/pull and load balancing may move p. Never the running task,
  // a pinned one, a blocked donor, or the rq's donor: donor and proxy move only as proxy
  // execution decides (Linux 6.17 "Fix proxy/current (push,pull)ability").
  bool task_is_pushable(const Task* p) const {
    return !p->on_cpu && p->nr_cpus_allowed > 1 && !p->blocked_on && rqs_[p->cpu]->donor != p;
  }
  void update_curr(Rq& rq);
  // update_se(): the time since the donor's exec_start. Linux 6.17 "Fix runtime accounting w/
  // split exec & sched contexts": sum_exec_runtime goes to rq->curr (who really ran), the
  // class's virtual time / budget (charged by the caller) to the donor. Returns the delta.
  // (Inline: most calls find no time elapsed since the last one, e.g. put_prev after the pick.)
  Time update_se(Rq& rq) {
    Task* donor = rq.donor;
    Time delta = now_ - donor->se.exec_start;
    if (delta <= 0) return 0;
    donor->se.exec_start = now_;
    Task* curr = rq.curr;
    curr->se.exec_start = now_;
    curr->se.sum_exec_runtime += delta;
    return delta;
  }
  // The fair server consumed `delta` of CPU time on rq (dl_server_update).
  void dl_server_update(Rq& rq, Time delta);
  void dl_server_start(Rq& rq);
  void dl_server_stop(Rq& rq);
  void dl_server_init(Rq& rq);
  // The replenishment timer of a DEADLINE task (id >= 0) or of cpu's fair server (id < 0).
  void dl_timer_fired(int id, int cpu);
  void arm_dl_timer(Time at, int id, int cpu) {
    eq_.arm(id < 0 ? cpu_slot(cpu, kSlotServer) : tasks_[static_cast<size_t>(id)]->dl.timer_slot,
            at, EvKind::kDlTimer, id, cpu);
  }
  void cancel_server_timer(int cpu) { eq_.cancel(cpu_slot(cpu, kSlotServer)); }

  // Event-queue slots (sim/event_queue.h), one per source of events. Every CPU's are
  // cancellable (1 + cpu * kCpuSlots + which), and so is a DEADLINE task's replenishment timer
  // (DlEntity::timer_slot). A task's sleep timer and landing are fire-once: armed again only
  // after they fired (arm_task_event() checks it).
  enum CpuSlot : uint32_t { kSlotWork, kSlotTick, kSlotIpi, kSlotServer, kCpuSlots };
  enum TaskSlot : uint32_t { kSlotTimer, kSlotLanding, kTaskSlots };
  static EventQueue::Slot cpu_slot(int cpu, CpuSlot s) {
    return 1 + static_cast<EventQueue::Slot>(cpu) * kCpuSlots + s;
  }
  static EventQueue::Slot task_slot(int id, TaskSlot s) {
    return EventQueue::kFireOnce | (static_cast<EventQueue::Slot>(id) * kTaskSlots + s);
  }
  void arm_task_event(const Task* p, TaskSlot s, Time t, EvKind kind, int32_t b = 0);
  // fair.cc helpers the core needs
  void fair_set_load_weight(Task* p);
  void fair_init_new(Rq& rq, Task* p);
  std::function<void(Time now, Time end)> progress_cb_;

  // PELT (pelt.cc)
  void update_load_avg_se(Rq& rq, Task* p);
  void update_load_avg_cfs(Rq& rq);
  // RT/DL utilisation of rq up to now (who ran since the last update is rq.donor's class).
  void update_other_load_avgs(Rq& rq);
  // scale_rt_capacity(): what RT and DL leave to fair tasks, in [1, 1024].
  uint64_t cpu_capacity(const Rq& rq) const;

  // Load balancing (balance.cc)
  void sched_balance_rq(Rq& rq, MigrateReason why);
  bool sched_balance_newidle(Rq& rq);
  void sched_balance_tick(Rq& rq);
  // Runnable fair tasks as load balancing sees them (blocked donors excluded with
  // --donor-load ignore).
  int runnable_fair(const Rq& rq) const;
  // Weight and number of blocked donors queued in rq's cfs_rq (a walk of the tree).
  void fair_blocked_donors(const Rq& rq, uint64_t* weight, int* nr) const;

  // smp.cc: RT/DL push and pull
  int rq_prio(int cpu);
  int find_lowest_rq(Task* p, int task_cpu);
  int find_later_rq(Task* p);
  // The preference of find_lowest_rq()/find_later_rq() among equally good CPUs: the task's
  // own, then this one, then cpumask_any_and_distribute(). The set is given by next_in(c), its
  // first member >= c (or -1), and first, its lowest member.
  template <typename NextIn>
  int pick_preferred(int first, int task_cpu, NextIn&& next_in) {
    if (next_in(task_cpu) == task_cpu) return task_cpu;
    if (next_in(ctx_cpu_) == ctx_cpu_) return ctx_cpu_;
    int c = distribute_prev_ + 1 < nr_cpus() ? next_in(distribute_prev_ + 1) : -1;
    distribute_prev_ = c >= 0 ? c : first;
    return distribute_prev_;
  }
  const CpuMask& online() const { return online_; }
  // add_nr_running()/sub_nr_running(): every change of rq->nr_running goes through these, so
  // that overloaded_ (rd->overloaded per CPU: nr_running >= 2) stays exact.
  // (nr_running moves the cpupri level only between idle and non-RT: at 0 <-> 1.)
  void add_nr_running(Rq& rq) {
    overloaded_.assign(rq.cpu, ++rq.nr_running >= 2);
    if (rq.nr_running == 1) cpupri_update(rq);
  }
  void sub_nr_running(Rq& rq) {
    overloaded_.assign(rq.cpu, --rq.nr_running >= 2);
    if (rq.nr_running == 0) cpupri_update(rq);
  }
  // cpupri (kernel/sched/cpupri.c): a CPU's level is 0 when idle, 1 when it runs non-RT work,
  // 2 + (99 - prio) for its highest RT priority queued or arriving, 102 when a DEADLINE task
  // arrives (CPUPRI_HIGHER); a mask of CPUs per level.
  // cpupri_update() runs wherever cpupri_of() can change (nr_running, the RT queue, curr, the
  // wake list, tasks in flight); find_lowest_rq() walks the levels from the lowest, as
  // cpupri_find() does.
  static constexpr int kCpupriLevels = 103;
  int cpupri_of(int cpu);
  void cpupri_update(Rq& rq);
  int cpupri_level(int cpu) const { return cpupri_level_[static_cast<size_t>(cpu)]; }
  // The prio of a task in flight changed (PI, sched_setattr): its destination counts it.
  void in_flight_prio_changed(Task* p, int oldprio);
  // CPU indexes (exact; the invariant checker verifies them): curr is the idle task; two or
  // more tasks queued; RT tasks queued; DEADLINE tasks queued or arriving. Searches visit only
  // their CPUs
  // and still apply the full test, in the order the linear scans used, so results are those of
  // a scan of every CPU.
  const CpuBitmap& idle_curr_cpus() const { return idle_curr_; }
  const CpuBitmap& overloaded_cpus() const { return overloaded_; }
  CpuBitmap& rt_cpus() { return rt_cpus_; }
  // CPUs with DEADLINE work queued or arriving (the complement of cpudl's free_cpus), in
  // cpudl with their earliest deadlines. dl_busy_update() runs wherever either can change: a
  // DEADLINE task queued or dequeued, one arriving or landing, the deadline of one in flight
  // replenished.
  const CpuBitmap& dl_busy_cpus() const { return cpudl_.busy(); }
  const CpuDl& cpudl() const { return cpudl_; }
  void dl_busy_update(const Rq& rq) {
    if (rq.dl.dl_nr_running > 0 || rq.incoming_dl > 0)
      cpudl_.set(rq.cpu, dl_earliest(rq));
    else
      cpudl_.clear(rq.cpu);
  }
  // The earliest deadline of the DEADLINE tasks queued on or arriving at rq (kTimeNever: none).
  Time dl_earliest(const Rq& rq) const;
  bool push_rt_task(Rq& rq);
  void push_rt_tasks(Rq& rq);
  void pull_rt_task(Rq& rq);
  bool push_dl_task(Rq& rq);
  void push_dl_tasks(Rq& rq);
  void pull_dl_task(Rq& rq);
  void rt_push_pending(Rq& rq);
  void dl_push_pending(Rq& rq);
  void dl_update_overload(Rq& rq);
  void run_balance_callbacks(Rq& rq);
  void update_curr_dl_se(Rq& rq, DlEntity* dl, Time delta);

  // locking (src/locking/mutex.cc) and proxy execution (proxy.cc)
  bool is_proxy() const { return protocol_ >= Protocol::kProxySingleRq; }
  Protocol protocol() const { return protocol_; }
  Fault fault() const { return fault_; }
  bool mutex_lock(Rq& rq, Task* p, int id, bool retry);
  void mutex_unlock(Rq& rq, Task* p, int id);
  void lock_acquired(Rq& rq, Task* p, Mutex* m);
  bool detect_deadlock(Task* p, Mutex* m);
  void wake_waiter(Rq& rq, Task* w);
  Task* pi_top_waiter(Task* p);
  void pi_adjust_chain(Task* owner);
  void rt_mutex_setprio(Task* p, Task* pi_task);
  Task* find_proxy_task(Rq& rq, Task* donor);
  void proxy_deactivate(Rq& rq, Task* donor);
  void proxy_migrate_task(Rq& rq, Task* p, Task* owner, int target);
  void activate_blocked_waiters(Task* owner, int cpu);
  void stop_spinners_of(Task* owner);
  void release_spinners(Mutex* m);
  // sync.cc
  void sync_init();
  bool sync_event(Rq& rq, Task* p, const Event& e);
  void sync_sleep(Rq& rq, Task* p, std::vector<Task*>* queue);
  void sync_wake(Rq& rq, Task* w);
  bool sync_wake_one(Rq& rq, std::vector<Task*>* q);
  void sync_wake_all(Rq& rq, std::vector<Task*>* q);
  void report_global_deadlock();
  // Runtime task management: rt-app "fork" and phase-level policy changes.
  void fork_task(Rq& rq, int spec_index);
  void sched_setattr(Task* p, const SchedParams& sp);
  void report_deadlock(const std::string& msg);
  std::vector<Mutex>& mutexes() { return mutexes_; }

  // Observers
  TaskRef ref(const Task* p) const;
  void trace_migrate(Task* p, int from, int to, MigrateReason why);
  // on_sched_stat() for prev, next and next_donor of a switch on rq (idle skipped, each once).
  // REQUIRES: want_sched_stat_.
  void trace_sched_stat(const Rq& rq, const Task* prev, const Task* next, const Task* next_donor);

  // A failed invariant: stops the run with exit code 3.
  void fail(std::string message);
  bool failed() const { return !fail_status_.is_ok(); }

 private:
  friend class InvariantChecker;
  Status create_tasks();
  void build_images();
  Status make_task(const TaskSpec& spec, const std::string& name, Task** out);
  void start_task(Task* p);
  void wake_up_new_task(Task* p, int parent_cpu);
  void handle(const SimEvent& ev);
  void run_resched();  // __schedule() on the context CPU while need_resched

  // core.cc
  void schedule(Rq& rq);
  Task* pick_next_task(Rq& rq, Task* prev);
  void put_prev_set_next(Rq& rq, Task* prev, Task* next);
  void context_switch(Rq& rq, Task* prev, Task* next, Task* next_donor, bool blocking);
  Time cross_cpu_delay(Time base, int target_cpu);
  void handle_migrate_arrive(Task* p, int cpu);
  void phase_enter(Task* p);
  void try_to_wake_up(Task* p, int waker_cpu, int wake_flags);
  void ttwu_do_activate(Rq& rq, Task* p, int wake_flags);
  void send_ipi(int cpu);
  void handle_ipi(int cpu);
  void handle_tick(int cpu);
  void arm_tick(Rq& rq);
  void arm_work(Rq& rq);
  void consume_progress(Rq& rq);
  void set_affinity(Task* p, const CpuMask& mask);
  void set_sched_params(Task* p, const SchedParams& sp);
  Status check_dl_admission(const Task* p, const SchedParams& sp);

  // program.cc: the rt-app interpreter, running in the context of curr.
  void program_continue(Rq& rq, Task* p);
  void program_block(Rq& rq, Task* p, Time until, bool slack = true);
  void program_exit(Rq& rq, Task* p);
  bool program_next_event(Task* p);
  void activation_begin(Task* p, Time release);
  Time cpu_time_now(const Task* p);
  void activation_end(Task* p, Time deadline_hint);

  const Workload& w_;
  SimOptions opt_;
  std::vector<Observer*> obs_;
  bool want_sched_stat_ = false;  // some observer wants on_sched_stat()
  std::vector<std::unique_ptr<Rq>> rqs_;
  std::vector<std::vector<PhaseImage>> images_;  // per task definition (w_.tasks order)
  TaskArena task_arena_;                         // before tasks_: outlives the tasks it holds
  std::vector<TaskPtr> tasks_;
  std::unique_ptr<SchedClass> dl_, rt_, fair_, idle_;
  EventQueue eq_;
  Rng rng_;
  Time now_ = 0;
  Time end_time_ = -1;
  Time tick_nsec_ = 4 * kNsPerMs;
  Time base_slice_ = 750 * kNsPerUs;
  int ctx_cpu_ = 0;
  uint64_t events_ = 0;
  int live_tasks_ = 0;
  std::vector<Time> timer_next_;  // shared rt-app timers: next expiry (0 = not started)
  std::vector<std::vector<Time>> unique_timer_next_;  // per task
  Time nohz_next_balance_ = 0;
  Status fail_status_;
  std::unique_ptr<class InvariantChecker> checker_;
  uint64_t dl_total_bw_ = 0;
  int distribute_prev_ = -1;  // cpumask_any_and_distribute() state
  Protocol protocol_ = Protocol::kNone;
  Fault fault_ = Fault::kNone;
  std::vector<Mutex> mutexes_;
  std::vector<CondVar> condvars_;
  std::vector<Barrier> barriers_;
  std::vector<SuspendObj> suspends_;
  std::vector<Semaphore> semaphores_;
  std::vector<int> fork_count_;  // per TaskSpec: threads forked so far
  int next_pid_ = 1000;
  uint64_t waiter_seq_ = 0;
  std::vector<Task*> proxy_chain_;              // scratch for find_proxy_task()
  std::array<SimEvent, 8> recent_{};            // the last events handled, for violation reports
  CpuMask online_;                              // every simulated CPU
  CpuBitmap idle_curr_, overloaded_, rt_cpus_;  // see idle_curr_cpus()
  CpuDl cpudl_;                                 // see dl_busy_cpus()
  std::array<CpuBitmap, kCpupriLevels> cpupri_mask_;  // see cpupri_of()
  std::array<int, kCpupriLevels> cpupri_count_{};
  std::array<uint64_t, 2> cpupri_nonempty_{};  // levels with a CPU
  std::vector<uint8_t> cpupri_level_;
  Status workload_status_;  // a workload error found while running (exit 1)

 public:
  // Kernel-wide helpers for classes.
  std::vector<int> resched_cpus_;  // CPUs whose need_resched must be acted on now
  uint64_t events() const { return events_; }
  uint64_t dl_total_bw() const { return dl_total_bw_; }
};

// Kernel prio of a task, for traces: fair 100+20+nice, RT 99-rtprio, DL -1.
int kernel_prio_of(Policy policy, int nice, int rt_priority);

// Factories (one file per class).
std::unique_ptr<SchedClass> make_fair_class(Kernel& k);
std::unique_ptr<SchedClass> make_rt_class(Kernel& k);
std::unique_ptr<SchedClass> make_dl_class(Kernel& k);
std::unique_ptr<SchedClass> make_idle_class(Kernel& k);

}  // namespace proxysim
