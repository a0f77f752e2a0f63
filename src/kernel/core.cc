// kernel/sched/core.c: runqueues, __schedule(), try_to_wake_up(), migration, the tick, and the
// event loop that drives them. Cross-CPU steps are messages delivered after a latency from the
// cost model (DESIGN.md §3): a remote wakeup is queued on the target's wake list and completed
// by its IPI handler; a migrating task is in flight (on_rq == MIGRATING) until it lands.
#include <fmt/format.h>

#include <algorithm>

#include "check/invariants.h"
#include "kernel/kernel.h"

namespace proxysim {

int kernel_prio_of(Policy policy, int nice, int rt_priority) {
  if (policy == Policy::kDeadline) return -1;         // MAX_DL_PRIO - 1
  if (is_rt_policy(policy)) return 99 - rt_priority;  // MAX_RT_PRIO - 1 - rt_priority
  return 120 + nice;                                  // NICE_TO_PRIO(nice)
}

Kernel::Kernel(const Workload& w, const SimOptions& opt, const std::vector<Observer*>& observers)
    : w_(w), opt_(opt), obs_(observers), rng_(opt.seed) {
  for (const Observer* o : obs_) want_sched_stat_ = want_sched_stat_ || o->wants_sched_stat();
  dl_ = make_dl_class(*this);
  rt_ = make_rt_class(*this);
  fair_ = make_fair_class(*this);
  idle_ = make_idle_class(*this);
  tick_nsec_ = kNsPerSec / opt_.hz;
  // sysctl_sched_base_slice = 0.75 ms * (1 + ilog2(min(ncpus, 8))) (SCHED_TUNABLESCALING_LOG,
  // kernel/sched/fair.c get_update_sysctl_factor()).
  int factor_cpus = std::min(opt_.nr_cpus, 8);
  int ilog2 = 0;
  while ((2 << ilog2) <= factor_cpus) ++ilog2;
  base_slice_ = 750 * kNsPerUs * (1 + ilog2);
  for (int c = 0; c < opt_.nr_cpus; ++c) {
    auto rq = std::make_unique<Rq>();
    rq->cpu = c;
    Task& idle = rq->idle;
    idle.id = -1;
    idle.pid = 0;
    idle.comm = "swapper/" + std::to_string(c);
    idle.name = idle.comm;
    idle.prio = 120;
    idle.sched_class = idle_.get();
    idle.state = TaskState::kRunning;
    idle.on_cpu = true;
    idle.cpu = c;
    rq->curr = rq->donor = &idle;
    rqs_.push_back(std::move(rq));
  }
  for (int c = 0; c < opt_.nr_cpus; ++c)  // cpu_slot(): 1 + cpu * kCpuSlots + which
    for (uint32_t s = 0; s < kCpuSlots; ++s) eq_.add_cancellable();
  online_ = CpuMask::all(opt_.nr_cpus);
  for (CpuBitmap* m : {&idle_curr_, &overloaded_, &rt_cpus_}) m->resize(opt_.nr_cpus);
  cpudl_.resize(opt_.nr_cpus);
  for (CpuBitmap& m : cpupri_mask_) m.resize(opt_.nr_cpus);
  cpupri_level_.assign(static_cast<size_t>(opt_.nr_cpus), 0);  // every CPU idle
  cpupri_count_[0] = opt_.nr_cpus;
  cpupri_nonempty_[0] = opt_.nr_cpus > 0 ? 1 : 0;
  for (int c = 0; c < opt_.nr_cpus; ++c) {
    idle_curr_.assign(c, true);
    cpupri_mask_[0].assign(c, true);
  }
  parse_protocol(opt_.protocol, &protocol_);
  const auto& faults = known_faults();
  for (size_t i = 0; i < faults.size(); ++i)
    if (opt_.inject == faults[i]) fault_ = static_cast<Fault>(i + 1);
  mutexes_.resize(w_.mutexes.size());
  for (size_t i = 0; i < mutexes_.size(); ++i) {
    mutexes_[i].id = static_cast<int>(i);
    mutexes_[i].name = w_.mutexes[i];
  }
  if (opt_.check) checker_ = std::make_unique<InvariantChecker>(*this);
}

const std::vector<std::string>& known_faults() {
  static const std::vector<std::string> k = {"stale-task-cpu", "dangling-donor",
                                             "runnable-without-return", "activate-livelock"};
  return k;
}

const std::vector<std::string>& known_protocols() {
  static const std::vector<std::string> k = {
      "none", "pi", "proxy", "proxy:single-rq", "proxy:migrate", "proxy:full"};
  return k;
}

Kernel::~Kernel() = default;

int Kernel::class_rank(const SchedClass* c) const {
  if (c == dl_.get()) return 0;
  if (c == rt_.get()) return 1;
  if (c == fair_.get()) return 2;
  return 3;
}

TaskRef Kernel::ref(const Task* p) const {
  return TaskRef{p->id, p->pid, p->comm, p->prio, p->policy, p->name};
}

void Kernel::trace_sched_stat(const Rq& rq, const Task* prev, const Task* next,
                              const Task* next_donor) {
  const Task* tasks[] = {prev, next != prev ? next : nullptr,
                         next_donor != next && next_donor != prev ? next_donor : nullptr};
  for (const Task* p : tasks) {
    if (p == nullptr || p == &rq.idle) continue;
    Time dl_left = p->dl.dl_runtime > 0 ? p->dl.runtime : 0;
    for (Observer* o : obs_)
      o->on_sched_stat(now_, rq.cpu, ref(p), static_cast<int64_t>(p->se.avg.util_avg), dl_left);
  }
}

void Kernel::fail(std::string message) {
  if (!fail_status_.is_ok()) return;
  // The report names the last events handled, oldest first (DESIGN.md §7).
  std::string last;
  const size_t n = std::min<uint64_t>(events_, recent_.size());
  for (size_t i = 0; i < n; ++i) {
    const SimEvent& e = recent_[(events_ - n + i) % recent_.size()];
    static constexpr const char* kNames[] = {"hrtimer",   "dl_timer", "ipi", "migrate_arrive",
                                             "work_done", "tick",     "end"};
    std::string what = kNames[static_cast<int>(e.kind)];
    switch (e.kind) {
      case EvKind::kHrtimer: what += " task " + tasks_[e.a]->name; break;
      case EvKind::kMigrateArrive:
        what += fmt::format(" task {} on cpu {}", tasks_[e.a]->name, e.b);
        break;
      case EvKind::kDlTimer:
        what += e.a < 0 ? fmt::format(" fair server cpu {}", e.b) : " task " + tasks_[e.a]->name;
        break;
      default: what += fmt::format(" cpu {}", e.a);
    }
    last += fmt::format("\n  last event {}: {} ns {}", i + 1, e.time, what);
  }
  fail_status_ = Status::internal(
      fmt::format("invariant violated at {} ns (cpu {}): {}{}", now_, ctx_cpu_, message, last));
}

void Kernel::trace_migrate(Task* p, int from, int to, MigrateReason why) {
  for (Observer* o : obs_) o->on_sched_migrate(now_, ctx_cpu_, ref(p), from, to, why);
}

// ---------------------------------------------------------------------------------------------
// Task creation: what rt-app does before its threads start (pthread_create, sched_setattr,
// sched_setaffinity). Failures here are workload errors, as rt-app itself would exit.

Status Kernel::check_dl_admission(const Task* p, const SchedParams& sp) {
  // __checkparam_dl(): runtime >= 1 << DL_SCALE ns and runtime <= deadline <= period.
  if (sp.dl_runtime < 1024)
    return Status::workload_failed(
        fmt::format("{}: sched_setattr(SCHED_DEADLINE) failed: runtime {} ns is below 1024 ns",
                    p->name, sp.dl_runtime));
  // sched_dl_overflow() / __dl_overflow(): Σ to_ratio(period, runtime) must stay within the root
  // domain's bandwidth, to_ratio(sched_rt_period_us = 1 s, sched_rt_runtime_us = 0.95 s) per CPU.
  uint64_t bw = (static_cast<uint64_t>(sp.dl_runtime) << 20) / static_cast<uint64_t>(sp.dl_period);
  uint64_t cap = ((uint64_t{950000} << 20) / 1000000) * static_cast<uint64_t>(nr_cpus());
  if (dl_total_bw_ + bw > cap) {
    return Status::workload_failed(fmt::format(
        "{}: sched_setattr(SCHED_DEADLINE) failed: admission control rejected runtime {} ns / "
        "period {} ns: total bandwidth would be {:.3f} CPUs, limit 0.95 x {} CPUs = {:.3f}",
        p->name, sp.dl_runtime, sp.dl_period, static_cast<double>(dl_total_bw_ + bw) / (1 << 20),
        nr_cpus(), static_cast<double>(cap) / (1 << 20)));
  }
  dl_total_bw_ += bw;
  return Status::ok();
}

void Kernel::set_sched_params(Task* p, const SchedParams& sp) {
  p->sched = sp;
  p->policy = sp.policy;
  p->rt_priority = is_rt_policy(sp.policy) ? sp.rt_priority : 0;
  p->static_prio = 120 + (is_fair_policy(sp.policy) ? sp.nice : 0);
  p->normal_prio = kernel_prio_of(sp.policy, sp.nice, sp.rt_priority);
  p->prio = p->normal_prio;
  // Timer slack: RT and DL tasks get none (kernel/sched/syscalls.c __setscheduler_params).
  p->timer_slack = is_fair_policy(sp.policy) ? opt_.costs.timer_slack : 0;
  if (sp.policy == Policy::kDeadline) {
    p->sched_class = dl_.get();
    DlEntity& dl = p->dl;
    dl.dl_runtime = sp.dl_runtime;
    dl.dl_deadline = sp.dl_deadline;
    dl.dl_period = sp.dl_period;
    dl.dl_bw = (static_cast<uint64_t>(sp.dl_runtime) << 20) / static_cast<uint64_t>(sp.dl_period);
    dl.dl_density =
        (static_cast<uint64_t>(sp.dl_runtime) << 20) / static_cast<uint64_t>(sp.dl_deadline);
    dl.task = p;
    if (dl.timer_slot == 0) dl.timer_slot = eq_.add_cancellable();
    dl.deadline = -1;  // new: the first enqueue starts a fresh period (setup_new_dl_entity())
    dl.runtime = 0;
  } else if (is_rt_policy(sp.policy)) {
    p->sched_class = rt_.get();
  } else {
    p->sched_class = fair_.get();
    fair_set_load_weight(p);
    // sched_attr.sched_runtime on a fair task sets a custom slice, clamped to [0.1 ms, 100 ms]
    // (kernel/sched/syscalls.c __setparam_fair, Linux 6.12+).
    if (sp.dl_runtime > 0) {
      p->se.custom_slice = true;
      p->se.slice = std::clamp<Time>(sp.dl_runtime, 100 * kNsPerUs, 100 * kNsPerMs);
    } else {
      p->se.custom_slice = false;
      p->se.slice = base_slice_;
    }
  }
}

// A thread of `spec` with its parameters and affinity (pthread_create + sched_setattr +
// sched_setaffinity as rt-app does them). Failures are workload errors, as rt-app would exit.
Status Kernel::make_task(const TaskSpec& spec, const std::string& name, Task** out) {
  const CpuMask& online = online_;
  TaskPtr t = new_task();
  Task* p = t.get();
  p->id = static_cast<int>(tasks_.size());
  p->pid = next_pid_++;
  eq_.add_fire_once(static_cast<size_t>(p->id + 1) * kTaskSlots);
  p->spec = &spec;
  const std::vector<PhaseImage>& images = images_[static_cast<size_t>(&spec - w_.tasks.data())];
  p->prog.img0 = images.empty() ? nullptr : images.data();
  p->prog.enter_phase(p->prog.img0);
  p->name = name;
  // rt-app names its threads with pthread_setname_np(), which fails (ERANGE) for names longer
  // than TASK_COMM_LEN - 1 = 15 characters: such a thread keeps the comm it inherited from the
  // process, "rt-app" (rt-app HEAD src/rt-app.c thread_body()). The loader warns about it.
  p->comm = p->name.size() <= 15 ? p->name : std::string("rt-app");
  set_sched_params(p, spec.sched);
  CpuMask mask = spec.cpus ? (*spec.cpus & online) : online;
  if (mask.empty())
    return Status::workload_failed(
        fmt::format("{}: sched_setaffinity failed: cpus [{}] name no CPU of the {} simulated",
                    p->name, spec.cpus->to_string(), nr_cpus()));
  if (p->policy == Policy::kDeadline) {
    if (!(mask == online))
      return Status::workload_failed(fmt::format(
          "{}: SCHED_DEADLINE task with restricted affinity [{}] is refused by the kernel "
          "(its affinity must span the root domain, CPUs 0-{})",
          p->name, mask.to_string(), nr_cpus() - 1));
    Status s = check_dl_admission(p, spec.sched);
    if (!s.is_ok()) return s;
  }
  for (const Phase& ph : spec.phases) {
    bool dl = (ph.sched ? ph.sched->policy : spec.sched.policy) == Policy::kDeadline;
    if (dl && ph.cpus && !((*ph.cpus & online) == online))
      return Status::workload_failed(
          fmt::format("{}: phase {}: sched_setaffinity on a SCHED_DEADLINE task is refused (EBUSY)",
                      p->name, ph.name));
  }
  p->set_cpus(mask, nr_cpus());
  p->se.heap_prio = static_cast<uint32_t>(rng_.next());
  unique_timer_next_.emplace_back(w_.timers.size(), 0);
  tasks_.push_back(std::move(t));
  *out = p;
  return Status::ok();
}

// The program image of every task definition (see PhaseImage).
void Kernel::build_images() {
  images_.assign(w_.tasks.size(), {});
  for (size_t i = 0; i < w_.tasks.size(); ++i) {
    const TaskSpec& spec = w_.tasks[i];
    for (const Phase& ph : spec.phases) {
      PhaseImage im;
      im.phase = &ph;
      im.events = ph.events.data();
      im.n_events = static_cast<int>(ph.events.size());
      im.loop = ph.loop;
      im.n_phases = static_cast<int>(spec.phases.size());
      im.spec_loop = spec.loop;
      im.own_cpus = ph.cpus.has_value() || spec.cpus.has_value();
      im.sets_sched = ph.sched.has_value();
      for (const Event& e : ph.events) {
        if (e.kind == EventKind::kRun || e.kind == EventKind::kRuntime) im.c_duration += e.duration;
        if (e.kind == EventKind::kMem)
          im.c_duration += static_cast<Time>(static_cast<u128>(e.amount) * kNsPerSec /
                                             static_cast<uint64_t>(opt_.mem_bytes_per_s));
        if (e.kind == EventKind::kTimer) im.c_period = e.duration;
      }
      images_[i].push_back(im);
    }
  }
}

Status Kernel::create_tasks() {
  fork_count_.assign(w_.tasks.size(), 0);
  build_images();
  // rt-app HEAD names every thread <task>-<index>, the index counting the threads it creates
  // across all tasks in file order (src/rt-app.c thread_data_set_unique_name()).
  int index = 0;
  for (const TaskSpec& spec : w_.tasks) {
    for (int i = 0; i < spec.instances; ++i) {
      Task* p;
      // rt-app 1.0 names every instance <task> (src/rt-app_parse_config.c parse_tasks()).
      Status s =
          make_task(spec, w_.rtapp_1_0 ? spec.name : fmt::format("{}-{}", spec.name, index), &p);
      ++index;
      if (!s.is_ok()) return s;
    }
  }
  timer_next_.assign(w_.timers.size(), 0);
  return Status::ok();
}

// rt-app "fork": one more thread of task `spec_index`, created by `parent` on its CPU
// (wake_up_new_task() from there). rt-app HEAD names it <task>-<index>-<nnnn>: index = threads
// created so far (the new thread's index), nnnn = forks of <task> so far, counted over all
// forking threads since the fork resource is global (src/rt-app.c create_thread()).
void Kernel::fork_task(Rq& rq, int spec_index) {
  const TaskSpec& spec = w_.tasks[static_cast<size_t>(spec_index)];
  int n = fork_count_[static_cast<size_t>(spec_index)]++;
  Task* p;
  Status s = make_task(spec, fmt::format("{}-{}-{:04}", spec.name, tasks_.size(), n), &p);
  if (!s.is_ok()) {
    if (workload_status_.is_ok()) workload_status_ = s;
    return;
  }
  wake_up_new_task(p, rq.cpu);
}

// sched_setattr() by a running task on itself (rt-app HEAD phase-level policy): off its class,
// new parameters, back on (as __sched_setscheduler() does with DEQUEUE_SAVE/ENQUEUE_RESTORE).
void Kernel::sched_setattr(Task* p, const SchedParams& sp) {
  Rq& rq = task_rq(p);
  if (p->policy == Policy::kDeadline) dl_total_bw_ -= std::min(dl_total_bw_, p->dl.dl_bw);
  if (sp.policy == Policy::kDeadline) {
    if (!p->cpus_all) {
      if (workload_status_.is_ok())
        workload_status_ = Status::workload_failed(
            fmt::format("{}: sched_setattr(SCHED_DEADLINE) refused at {} ns: restricted affinity",
                        p->name, now_));
      return;
    }
    Status s = check_dl_admission(p, sp);
    if (!s.is_ok()) {
      if (workload_status_.is_ok()) workload_status_ = s;
      return;
    }
  }
  const bool queued = task_on_rq_queued(p);
  const bool running = rq.donor == p;
  if (running) update_curr(rq);
  if (queued) p->sched_class->dequeue_task(rq, p, DEQUEUE_SAVE);
  if (running) p->sched_class->put_prev_task(rq, p, p);
  const int oldprio = p->prio;
  set_sched_params(p, sp);
  if (p->pi_task && p->pi_task->prio < p->prio) p->prio = p->pi_task->prio;  // still boosted
  if (task_on_rq_migrating(p)) in_flight_prio_changed(p, oldprio);
  if (queued) {
    p->sched_class->enqueue_task(rq, p, ENQUEUE_RESTORE);
    p->on_rq = kTaskOnRqQueued;
  }
  if (running) p->sched_class->set_next_task(rq, p, true);
  resched_curr(rq);
}

// rt-app's main thread forks every thread from CPU 0 at t = 0.
void Kernel::start_task(Task* p) {
  ctx_cpu_ = 0;
  wake_up_new_task(p, 0);
}

// wake_up_new_task(): place a new thread with select_task_rq(WF_FORK) from its parent's CPU,
// enqueue it there and let it preempt.
void Kernel::wake_up_new_task(Task* p, int parent_cpu) {
  p->cpu = p->last_cpu = parent_cpu;
  p->state = TaskState::kRunning;
  for (Observer* o : obs_) o->on_task_new(now_, ref(p));
  int cpu = p->sched_class->select_task_rq(p, parent_cpu, WF_FORK);
  p->cpu = p->wake_cpu = p->recent_used_cpu = cpu;
  Rq& rq = cpu_rq(cpu);
  if (p->sched_class == fair_.get()) fair_init_new(rq, p);
  ++live_tasks_;
  activate_task(rq, p, ENQUEUE_INITIAL);
  for (Observer* o : obs_) o->on_sched_wakeup(now_, parent_cpu, ref(p), cpu, /*is_new=*/true);
  wakeup_preempt(rq, p, WF_FORK);  // a remote rq is preempted through an IPI
  p->sched_class->task_woken(rq, p);
}

// ---------------------------------------------------------------------------------------------
// Enqueue, dequeue, preemption.

void Kernel::activate_task(Rq& rq, Task* p, int flags) {
  p->sched_class->enqueue_task(rq, p, flags);
  p->on_rq = kTaskOnRqQueued;
}

void Kernel::deactivate_task(Rq& rq, Task* p, int flags) {
  bool removed = p->sched_class->dequeue_task(rq, p, flags);
  if (!removed) return;  // fair delayed dequeue: stays queued, sched_delayed
  p->on_rq = (flags & DEQUEUE_SLEEP) ? 0 : kTaskOnRqMigrating;
}

void Kernel::resched_curr(Rq& rq) {
  if (rq.need_resched) return;
  rq.need_resched = true;
  if (rq.cpu != ctx_cpu_) send_ipi(rq.cpu);
}

void Kernel::wakeup_preempt(Rq& rq, Task* p, int wake_flags) {
  Task* donor = rq.donor;
  if (p->sched_class == donor->sched_class) {
    p->sched_class->wakeup_preempt(rq, p, wake_flags);
  } else if (class_rank(p->sched_class) < class_rank(donor->sched_class)) {
    resched_curr(rq);
  }
}

void Kernel::update_curr(Rq& rq) {
  if (rq.donor != &rq.idle) rq.donor->sched_class->update_curr(rq);
}

// ---------------------------------------------------------------------------------------------
// Wakeups.

void Kernel::try_to_wake_up(Task* p, int waker_cpu, int wake_flags) {
  if (p->state != TaskState::kSleeping) return;
  ctx_cpu_ = waker_cpu;
  for (Observer* o : obs_) o->on_sched_waking(now_, waker_cpu, ref(p), p->cpu);
  bool returning = false;
  if (p->on_rq == kTaskOnRqMigrating) {
    // A donor in flight (proxy migration) was given the lock: it lands runnable and the landing
    // path sends it back through this gate (handle_migrate_arrive()).
    p->state = TaskState::kRunning;
    return;
  }
  if (p->on_rq) {
    // ttwu_runnable(): still queued: a fair delayed dequeue, or a blocked donor.
    Rq& rq = task_rq(p);
    // A donor away from where it should run (proxy-migrated, or its affinity changed while it
    // was blocked) must pass return migration.
    const bool misplaced = (p->proxy_migrated && p->cpu != p->wake_cpu) || !p->allowed(p->cpu);
    if (!p->se.sched_delayed && misplaced && !p->on_cpu &&
        fault_ != Fault::kRunnableWithoutReturn) {
      // proxy_needs_return(): the donor sits where it is only as a scheduling context. Take it
      // off this rq (first dropping it as the rq's donor, as proxy_resched_idle() does) and let
      // the full wakeup below choose a CPU it may run on.
      if (rq.donor == p && fault_ != Fault::kDanglingDonor) {
        update_curr(rq);
        p->sched_class->put_prev_task(rq, p, &rq.idle);
        rq.donor = &rq.idle;
        // This CPU's priority drops with its donor leaving: let it pull RT/DL work at the
        // next pick, as balance_rt()/balance_dl() would have done for a put_prev of p.
        rq.pull_pending = true;
        resched_curr(rq);
      }
      deactivate_task(rq, p, DEQUEUE_SLEEP | DEQUEUE_SPECIAL);
      returning = true;
    } else {
      p->state = TaskState::kRunning;
      p->proxy_migrated = false;
      if (p->se.sched_delayed)
        p->sched_class->enqueue_task(rq, p, ENQUEUE_DELAYED | ENQUEUE_WAKEUP);
      for (Observer* o : obs_) o->on_sched_wakeup(now_, rq.cpu, ref(p), rq.cpu, false);
      // The donor of a proxy can run itself now: the proxy must give its context back.
      if (rq.donor == p && rq.curr != p) resched_curr(rq);
      wakeup_preempt(rq, p, wake_flags);
      // A donor woken in place was not pushable while blocked: let its class push it now if it
      // cannot run here soon (task_woken_rt()/task_woken_dl()).
      if (!p->se.sched_delayed) p->sched_class->task_woken(rq, p);
      return;
    }
  }
  p->state = TaskState::kWaking;
  p->migration_pending = -1;  // select_task_rq() below honours the new affinity
  int prev_cpu = p->cpu;
  int cpu = p->sched_class->select_task_rq(p, p->wake_cpu, wake_flags | WF_TTWU);
  if (returning) {
    p->proxy_migrated = false;
    for (Observer* o : obs_)
      o->on_proxy(now_, waker_cpu, ProxyAction::kReturn, ref(p), ref(p), prev_cpu, cpu);
  }
  if (cpu != p->cpu) {
    wake_flags |= WF_MIGRATED;
    p->sched_class->migrate_task_rq(p, cpu);
    trace_migrate(p, p->cpu, cpu, returning ? MigrateReason::kReturn : MigrateReason::kWakeup);
    p->last_cpu = p->cpu;
    p->cpu = cpu;
  }
  p->wake_cpu = cpu;
  if (cpu == waker_cpu) {
    ttwu_do_activate(cpu_rq(cpu), p, wake_flags);
  } else {
    // ttwu_queue_wakelist(): the target completes the wakeup in its IPI handler.
    Rq& rq = cpu_rq(cpu);
    rq.wake_list.push_back(p);
    cpupri_update(rq);
    p->wake_flags_pending = wake_flags;
    send_ipi(cpu);
  }
}

void Kernel::ttwu_do_activate(Rq& rq, Task* p, int wake_flags) {
  if (fault_ == Fault::kActivateLivelock && protocol_ == Protocol::kProxyFull &&
      !p->blocked_head.empty()) {
    // The v9 live-lock: activation runs while the owner is still seen asleep.
    activate_blocked_waiters(p, rq.cpu);
  }
  int en_flags = ENQUEUE_WAKEUP;
  if (wake_flags & WF_MIGRATED) en_flags |= ENQUEUE_MIGRATED;
  activate_task(rq, p, en_flags);
  p->state = TaskState::kRunning;
  for (Observer* o : obs_) o->on_sched_wakeup(now_, rq.cpu, ref(p), rq.cpu, false);
  wakeup_preempt(rq, p, wake_flags);
  p->sched_class->task_woken(rq, p);
  if (protocol_ == Protocol::kProxyFull && !p->blocked_head.empty())
    activate_blocked_waiters(p, rq.cpu);
}

Time Kernel::cross_cpu_delay(Time base, int target_cpu) {
  Rq& rq = cpu_rq(target_cpu);
  Time d = base;
  if (rq.curr == &rq.idle) d += opt_.costs.idle_exit;
  if (opt_.costs.jitter_max > 0) d += static_cast<Time>(rng_.below(opt_.costs.jitter_max + 1));
  return d;
}

void Kernel::send_ipi(int cpu) {
  Rq& rq = cpu_rq(cpu);
  if (rq.ipi_pending) return;
  rq.ipi_pending = true;
  eq_.arm(cpu_slot(cpu, kSlotIpi), now_ + cross_cpu_delay(opt_.costs.ipi_latency, cpu),
          EvKind::kIpi, cpu);
}

void Kernel::handle_ipi(int cpu) {
  Rq& rq = cpu_rq(cpu);
  rq.ipi_pending = false;
  // sched_ttwu_pending(): complete the queued wakeups in order.
  std::vector<Task*> list;
  list.swap(rq.wake_list);
  cpupri_update(rq);
  for (Task* p : list) ttwu_do_activate(rq, p, p->wake_flags_pending);
  list.clear();
  if (rq.wake_list.empty()) rq.wake_list.swap(list);  // keep the capacity
}

// ---------------------------------------------------------------------------------------------
// Migration of a queued, not running task: it leaves `src`, is in flight, then lands on dest.

void Kernel::move_queued_task(Task* p, int dest_cpu, MigrateReason why) {
  deactivate_task(task_rq(p), p, DEQUEUE_MIGRATING);
  send_in_flight(p, dest_cpu, why);
}

// p has been dequeued with DEQUEUE_MIGRATING (on_rq == MIGRATING): it lands on dest_cpu after
// the migration latency.
void Kernel::send_in_flight(Task* p, int dest_cpu, MigrateReason why) {
  p->sched_class->migrate_task_rq(p, dest_cpu);
  trace_migrate(p, p->cpu, dest_cpu, why);
  p->last_cpu = p->cpu;
  p->cpu = dest_cpu;
  p->wake_cpu = dest_cpu;
  Rq& dest = cpu_rq(dest_cpu);
  dest.incoming.push_back(p);
  if (p->prio < 100) ++dest.incoming_rt;
  cpupri_update(dest);
  if (p->policy == Policy::kDeadline) {
    ++dest.incoming_dl;
    dl_busy_update(dest);
  }
  arm_task_event(p, kSlotLanding, now_ + cross_cpu_delay(opt_.costs.migration, dest_cpu),
                 EvKind::kMigrateArrive, dest_cpu);
}

void Kernel::in_flight_prio_changed(Task* p, int oldprio) {
  Rq& dest = task_rq(p);
  dest.incoming_rt += (p->prio < 100) - (oldprio < 100);
  cpupri_update(dest);
}

void Kernel::handle_migrate_arrive(Task* p, int cpu) {
  Rq& rq = cpu_rq(cpu);
  rq.incoming.erase(std::find(rq.incoming.begin(), rq.incoming.end(), p));
  if (p->prio < 100) --rq.incoming_rt;
  cpupri_update(rq);
  if (p->policy == Policy::kDeadline) {
    --rq.incoming_dl;
    dl_busy_update(rq);
  }
  if (p->proxy_migrated && !p->blocked_on && !p->allowed(cpu)) {
    // A donor that got its lock while in flight must not run here: through the waking gate.
    // This CPU may have been idling for it (find_proxy_task() waits for a landing owner):
    // it picks again.
    resched_curr(rq);
    p->on_rq = 0;
    p->state = TaskState::kSleeping;
    try_to_wake_up(p, cpu, WF_TTWU);
    return;
  }
  activate_task(rq, p, ENQUEUE_MIGRATED);
  wakeup_preempt(rq, p, 0);
  p->sched_class->task_woken(rq, p);
}

// sched_setaffinity() on a task by itself (rt-app phase "cpus").
void Kernel::set_affinity(Task* p, const CpuMask& requested) {
  CpuMask mask = requested & online_;
  if (mask.empty()) return;  // checked at creation
  p->set_cpus(mask, nr_cpus());
  if (mask.test(p->cpu)) return;
  // __set_cpus_allowed_ptr(): dest = cpumask_any_and_distribute(), then the stopper moves the
  // running task: it is preempted and migrated once it is off the CPU.
  int dest = mask.next(distribute_prev_);
  if (dest < 0) dest = mask.first();
  distribute_prev_ = dest;
  p->migration_pending = dest;
  resched_curr(task_rq(p));
}

// ---------------------------------------------------------------------------------------------
// __schedule()

Task* Kernel::pick_next_task(Rq& rq, Task* prev) {
  // prev_balance(): classes from prev's down may pull work before the pick.
  for (int r = class_rank(prev->sched_class); r <= 3; ++r) {
    SchedClass* c = r == 0 ? dl_.get() : r == 1 ? rt_.get() : r == 2 ? fair_.get() : idle_.get();
    if (c->balance(rq, prev)) break;
  }
  for (SchedClass* c : {dl_.get(), rt_.get(), fair_.get(), idle_.get()}) {
    Task* p = c->pick_task(rq);
    if (p) return p;
  }
  return &rq.idle;
}

void Kernel::put_prev_set_next(Rq& rq, Task* prev, Task* next) {
  if (prev == next) {
    next->sched_class->set_next_task(rq, next, false);
    return;
  }
  prev->sched_class->put_prev_task(rq, prev, next);
  next->sched_class->set_next_task(rq, next, true);
}

void Kernel::schedule(Rq& rq) {
  rq.need_resched = false;
  Task* prev = rq.curr;
  // __schedule() puts rq->donor back into its class: it must still be queued here (a donor that
  // left, e.g. for its return migration, must have been dropped first: proxy_resched_idle()).
  if (opt_.check && rq.donor != &rq.idle &&
      (!task_on_rq_queued(rq.donor) || rq.donor->cpu != rq.cpu)) {
    fail(fmt::format("__schedule() on cpu {}: rq->donor {} is not queued on this runqueue", rq.cpu,
                     rq.donor->name));
    return;
  }
  update_curr(rq);
  consume_progress(rq);
  Task* prev_donor = rq.donor;
  bool blocking = prev != &rq.idle && prev->state != TaskState::kRunning;
  if (blocking) {
    // try_to_block_task(): with proxy execution a task blocked on a mutex stays queued as a
    // potential donor.
    bool keep = is_proxy() && prev->blocked_on && task_on_rq_queued(prev);
    if (!keep) {
      int flags = DEQUEUE_SLEEP;
      if (prev->state == TaskState::kDead || prev->blocked_on) flags |= DEQUEUE_SPECIAL;
      deactivate_task(rq, prev, flags);
    }
  }
  // migration_cpu_stop(): a running task whose affinity excludes this CPU is taken off it.
  int migrate_to = -1;
  if (!blocking && prev->migration_pending >= 0) {
    migrate_to = prev->migration_pending;
    prev->migration_pending = -1;
    deactivate_task(rq, prev, DEQUEUE_MIGRATING);
  }
  if (rq.pull_pending) {
    rq.pull_pending = false;
    pull_rt_task(rq);
    pull_dl_task(rq);
  }
  Task* next_donor = nullptr;
  Task* next = nullptr;
  for (int guard = 0;; ++guard) {
    if (guard > 10000) {
      fail("pick_next_task()/find_proxy_task() did not settle after 10000 re-picks");
      next_donor = next = &rq.idle;
      break;
    }
    next_donor = next = pick_next_task(rq, prev_donor);
    if (is_proxy() && next_donor->blocked_on) {
      next = find_proxy_task(rq, next_donor);
      if (!next) continue;  // the chain changed: pick again
      if (next == &rq.idle) next_donor = next;
    }
    break;
  }
  // rq->donor, not prev_donor: a wakeup during find_proxy_task() may have put the old donor
  // already (proxy_needs_return() switching the donor to idle).
  put_prev_set_next(rq, rq.donor, next_donor);
  if (next != prev) {
    context_switch(rq, prev, next, next_donor, blocking);
  } else {
    if (next_donor != prev_donor) {
      // Same execution context, new scheduling context: no sched_switch in the kernel's trace,
      // but the observers learn who donates now.
      rq.donor = next_donor;
      for (Observer* o : obs_)
        o->on_sched_switch(now_, rq.cpu, ref(prev), SwitchState::kRunnable, ref(next),
                           ref(next_donor));
      if (want_sched_stat_) trace_sched_stat(rq, prev, next, next_donor);
    }
    if (next != &rq.idle) program_continue(rq, next);  // e.g. after a yield that kept the CPU
  }
  if (migrate_to >= 0) send_in_flight(prev, migrate_to, MigrateReason::kAffinity);
  run_balance_callbacks(rq);
}

void Kernel::context_switch(Rq& rq, Task* prev, Task* next, Task* next_donor, bool blocking) {
  SwitchState st = SwitchState::kRunnable;
  if (prev->state == TaskState::kDead)
    st = SwitchState::kDead;
  else if (blocking)  // a workload mutex is a futex: its waiters sleep interruptibly (S)
    st = SwitchState::kSleeping;
  if (prev != &rq.idle) {
    // Spinners on locks prev holds give up when it leaves the CPU; prev stops spinning too.
    stop_spinners_of(prev);
    if (prev->spinning_on) {
      auto& sp = prev->spinning_on->spinners;
      sp.erase(std::find(sp.begin(), sp.end(), prev));
      prev->spinning_on = nullptr;
    }
  }
  if (prev != &rq.idle) {
    if (blocking)
      ++prev->nvcsw;
    else
      ++prev->nivcsw;
  }
  for (Observer* o : obs_)
    o->on_sched_switch(now_, rq.cpu, ref(prev), st, ref(next), ref(next_donor));
  if (want_sched_stat_) trace_sched_stat(rq, prev, next, next_donor);
  update_other_load_avgs(rq);
  // A proxy that leaves the CPU still queued was never put_prev'ed (the donor was): give the
  // class a chance to push it (7.1 "Fix potentially missing balancing with Proxy Exec").
  if (prev != rq.donor && prev != &rq.idle && task_on_rq_queued(prev) && !prev->blocked_on) {
    if (prev->sched_class == rt_.get()) rt_push_pending(rq);
    if (prev->sched_class == dl_.get()) dl_push_pending(rq);
  }
  prev->on_cpu = false;
  next->on_cpu = true;
  if (prev != &rq.idle) rq.busy_ns += now_ - rq.exec_start;
  rq.curr = next;
  idle_curr_.assign(rq.cpu, next == &rq.idle);
  if (next == &rq.idle || prev == &rq.idle) cpupri_update(rq);  // idle-ness is all curr moves
  rq.donor = next_donor;
  rq.exec_start = now_;
  if (next == &rq.idle) {
    eq_.cancel(cpu_slot(rq.cpu, kSlotWork));
    rq.tick_running = false;  // NOHZ idle: the tick stops
    eq_.cancel(cpu_slot(rq.cpu, kSlotTick));
    return;
  }
  rq.progress_from = now_ + opt_.costs.context_switch;
  if (!rq.tick_running) arm_tick(rq);
  // prev's work no longer completes here: next's program arms its own completion, or the
  // pending one is cancelled (one heap move instead of a removal and an insertion).
  rq.work_rearmed = false;
  program_continue(rq, next);
  if (!rq.work_rearmed) eq_.cancel(cpu_slot(rq.cpu, kSlotWork));
}

void Kernel::run_resched() {
  Rq& rq = cpu_rq(ctx_cpu_);
  for (int guard = 0; rq.need_resched; ++guard) {
    if (guard > 1000) {
      fail("__schedule() did not settle after 1000 rounds (live-lock)");
      return;
    }
    schedule(rq);
  }
}

// ---------------------------------------------------------------------------------------------
// Work progress of the current task (what the CPU is executing).

void Kernel::consume_progress(Rq& rq) {
  Task* p = rq.curr;
  if (p == &rq.idle) return;
  if (now_ > rq.progress_from) {
    if (p->prog.in_event && p->prog.kind == EventKind::kRun)
      p->prog.work_left = std::max<Time>(0, p->prog.work_left - (now_ - rq.progress_from));
    rq.progress_from = now_;
  }
}

// Arms the completion of curr's run/runtime event, or cancels it when curr is in none.
void Kernel::arm_work(Rq& rq) {
  Task* p = rq.curr;
  const EventQueue::Slot slot = cpu_slot(rq.cpu, kSlotWork);
  Time at;
  if (p == &rq.idle || !p->prog.in_event)
    at = -1;
  else if (p->prog.kind == EventKind::kRun)
    at = std::max(rq.progress_from, now_) + p->prog.work_left;
  else if (p->prog.kind == EventKind::kRuntime)
    at = std::max(p->prog.runtime_end, std::max(rq.progress_from, now_));
  else
    at = -1;
  if (at < 0)
    eq_.cancel(slot);
  else
    eq_.arm(slot, at, EvKind::kWorkDone, rq.cpu);
  rq.work_rearmed = true;
}

// ---------------------------------------------------------------------------------------------
// The tick (sched_tick()), HZ = opt.hz, aligned on jiffies; stopped while the CPU is idle.

void Kernel::arm_tick(Rq& rq) {
  rq.tick_running = true;
  Time next = (now_ / tick_nsec_ + 1) * tick_nsec_;
  eq_.arm(cpu_slot(rq.cpu, kSlotTick), next, EvKind::kTick, rq.cpu);
}

void Kernel::handle_tick(int cpu) {
  Rq& rq = cpu_rq(cpu);
  update_curr(rq);
  consume_progress(rq);
  if (rq.donor != &rq.idle) rq.donor->sched_class->task_tick(rq, rq.donor);
  update_load_avg_cfs(rq);
  update_other_load_avgs(rq);
  sched_balance_tick(rq);
  if (rq.curr != &rq.idle) {
    eq_.arm(cpu_slot(cpu, kSlotTick), now_ + tick_nsec_, EvKind::kTick, cpu);
  } else {
    rq.tick_running = false;
  }
}

// ---------------------------------------------------------------------------------------------
// The event loop.

void Kernel::arm_task_event(const Task* p, TaskSlot s, Time t, EvKind kind, int32_t b) {
  const EventQueue::Slot slot = task_slot(p->id, s);
  if (eq_.armed(slot)) {
    fail(fmt::format("{}: its {} is armed again while pending", p->name,
                     s == kSlotTimer ? "sleep timer" : "landing"));
    return;
  }
  eq_.arm(slot, t, kind, p->id, b);
}

void Kernel::handle(const SimEvent& ev) {
  switch (ev.kind) {
    case EvKind::kHrtimer: {
      Task* p = tasks_[ev.a].get();
      Rq& rq = task_rq(p);
      if (ev.b == 0 && opt_.costs.idle_exit > 0 && rq.curr == &rq.idle) {
        // The timer interrupt first has to bring its CPU out of idle.
        arm_task_event(p, kSlotTimer, now_ + opt_.costs.idle_exit, EvKind::kHrtimer, 1);
        return;
      }
      try_to_wake_up(p, p->cpu, WF_TTWU);
      return;
    }
    case EvKind::kDlTimer:
      ctx_cpu_ = ev.b;
      dl_timer_fired(ev.a, ev.b);
      return;
    case EvKind::kIpi:
      ctx_cpu_ = ev.a;
      handle_ipi(ev.a);
      return;
    case EvKind::kMigrateArrive:
      ctx_cpu_ = ev.b;
      handle_migrate_arrive(tasks_[ev.a].get(), ev.b);
      return;
    case EvKind::kTick:
      ctx_cpu_ = ev.a;
      handle_tick(ev.a);
      return;
    case EvKind::kWorkDone: {
      Rq& rq = cpu_rq(ev.a);
      ctx_cpu_ = ev.a;
      consume_progress(rq);
      program_continue(rq, rq.curr);
      return;
    }
    case EvKind::kSimEnd: return;
  }
}

Status Kernel::run(RunStats* stats) {
  Status s = create_tasks();
  if (!s.is_ok()) return s;
  for (int c = 0; c < nr_cpus(); ++c) dl_server_init(cpu_rq(c));
  sync_init();
  RunInfo info{nr_cpus(), opt_.seed, opt_.protocol, w_.file};
  for (Observer* o : obs_) o->on_start(info);
  end_time_ = opt_.duration >= 0 ? opt_.duration : w_.duration;
  for (auto& t : tasks_) {
    start_task(t.get());
    run_resched();
  }
  // Every other CPU acts on what the forks left it (IPIs are already queued).
  while (!eq_.empty()) {
    if (end_time_ >= 0 && eq_.top_time() >= end_time_) break;
    SimEvent ev = eq_.pop();
    now_ = ev.time;
    recent_[events_ % recent_.size()] = ev;
    ++events_;
    handle(ev);
    run_resched();
    if (checker_ && fail_status_.is_ok()) checker_->check();
    if (!fail_status_.is_ok()) break;
    if (!workload_status_.is_ok()) break;
    if (live_tasks_ == 0) break;
    if (progress_cb_ && (events_ & 0xfffff) == 0) progress_cb_(now_, end_time_);
  }
  if (!fail_status_.is_ok()) return fail_status_;
  if (eq_.empty() && live_tasks_ > 0 && workload_status_.is_ok()) report_global_deadlock();
  if (end_time_ >= 0 && live_tasks_ > 0 && workload_status_.is_ok()) now_ = end_time_;
  // Close the accounting of what is running at the end.
  for (auto& rq : rqs_) {
    ctx_cpu_ = rq->cpu;
    update_curr(*rq);
  }
  for (Observer* o : obs_) o->on_finish(now_);
  if (stats) {
    stats->sim_time = now_;
    stats->events = events_;
  }
  // A workload failure (deadlock, bad unlock) ends the run where it happened; the observers
  // have closed their accounts, so the metrics describe the run up to that point.
  return workload_status_;
}

}  // namespace proxysim
