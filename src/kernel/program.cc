// The rt-app thread body, interpreted in the context of the running task (it only advances while
// the task is rq->curr). Mirrors rt-app's thread_body()/run_event(): phases run in order, each
// `loop` times; the phase list repeats `loop` times; events run in file order.
//
// Activations (rt-app's per-iteration log line, and our response-time metric): one iteration of
// a phase. Its start is its release: the nominal expiry of the sleep/timer that ended the
// previous iteration (so wakeup latency and timer slack count against it), or the time the
// iteration began when there was none. Its end is when the iteration's work is done: when the
// task reaches the iteration's trailing sleep/timer, or finishes its last event.
#include <fmt/format.h>

#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {

// p's CPU time up to now, including the stretch not yet charged by update_curr() (without
// charging it: reading must not change the schedule).
Time Kernel::cpu_time_now(const Task* p) {
  const Rq& rq = *rqs_[p->cpu];
  Time t = p->se.sum_exec_runtime;
  if (rq.curr == p && rq.donor != &rq.idle && now_ > rq.donor->se.exec_start)
    t += now_ - rq.donor->se.exec_start;
  return t;
}

void Kernel::activation_begin(Task* p, Time release) {
  ProgramState& s = p->prog;
  s.act_open = true;
  s.act_start = release;
  s.act_wu_lat = now_ - release;  // it runs now: the iteration's first event starts
  s.act_run_wall = 0;
  s.act_run_start = cpu_time_now(p);
  s.act_deadline = p->policy == Policy::kDeadline ? release + p->dl.dl_deadline : kTimeNever;
}

void Kernel::activation_end(Task* p, Time deadline_hint) {
  ProgramState& s = p->prog;
  if (!s.act_open) return;
  s.act_open = false;
  const int64_t index = s.act_index++;
  if (obs_.empty()) return;  // nobody to tell (benchmarks): skip building the record
  Activation a;
  a.phase = s.phase;
  a.index = index;
  a.start = s.act_start;
  a.end = now_;
  a.deadline = s.act_deadline != kTimeNever ? s.act_deadline : deadline_hint;
  a.run_ns = cpu_time_now(p) - s.act_run_start;
  a.pass = s.pass;
  a.phase_loop = s.phase_iter;
  a.wu_lat = s.act_wu_lat;
  a.run_wall = s.act_run_wall;
  a.c_duration = s.img->c_duration;
  a.c_period = s.img->c_period;
  for (Observer* o : obs_) o->on_activation(ref(p), a);
}

// Moves to the next event, crossing iteration, phase and pass boundaries. Returns false when the
// task has finished its program.
bool Kernel::program_next_event(Task* p) {
  ProgramState& s = p->prog;
  ++s.event;
  if (s.event < s.n_events) return true;
  // End of an iteration.
  activation_end(p, kTimeNever);
  s.event = 0;
  ++s.phase_iter;
  const PhaseImage& im = *s.img;
  if (im.loop < 0 || s.phase_iter < im.loop) return true;  // -1: forever
  s.phase_iter = 0;
  if (++s.phase >= im.n_phases) {
    s.phase = 0;
    ++s.pass;
    s.enter_phase(s.img0);
    if (im.spec_loop >= 0 && s.pass >= im.spec_loop) return false;
  }
  s.enter_phase(s.img0 + s.phase);
  phase_enter(p);
  return true;
}

// rt-app set_thread_affinity() at each phase start: the phase's cpus, else the thread's, applied
// only when they differ from the current mask.
void Kernel::phase_enter(Task* p) {
  const PhaseImage& im = *p->prog.img;
  const Phase& ph = *im.phase;
  // The common case, no cpus anywhere and the mask already everything, reads neither the
  // TaskSpec nor any mask word.
  if (im.own_cpus || !p->cpus_all) {
    const TaskSpec& spec = *p->spec;
    const CpuMask& want = ph.cpus ? *ph.cpus : spec.cpus ? *spec.cpus : online_;
    if (!(want == p->cpus_mask)) {
      CpuMask m = want & online_;
      if (!m.empty() && !(m == p->cpus_mask)) set_affinity(p, m);
    }
  }
  // rt-app HEAD: a phase's policy/priority/dl-* are set when the phase starts and stay in
  // effect after it (rt-app never reverts to the thread's own).
  if (!im.sets_sched) return;
  const SchedParams& sp = *ph.sched;
  if (sp.policy != p->sched.policy || sp.nice != p->sched.nice ||
      sp.rt_priority != p->sched.rt_priority || sp.dl_runtime != p->sched.dl_runtime ||
      sp.dl_deadline != p->sched.dl_deadline || sp.dl_period != p->sched.dl_period)
    sched_setattr(p, sp);
}

void Kernel::program_block(Rq& rq, Task* p, Time until, bool slack) {
  p->state = TaskState::kSleeping;
  p->wake_target = until;
  arm_task_event(p, kSlotTimer, until + (slack ? p->timer_slack : 0), EvKind::kHrtimer);
  resched_curr(rq);
}

void Kernel::program_exit(Rq& rq, Task* p) {
  activation_end(p, kTimeNever);
  for (Mutex* m : p->held) {
    if (m->waiters.empty()) continue;
    std::string msg = fmt::format("deadlock at {} ns: {} exits holding {}, which {} waits for",
                                  now_, p->name, m->name, m->waiters.front()->name);
    report_deadlock(msg);
  }
  p->state = TaskState::kDead;
  for (Observer* o : obs_) o->on_process_exit(now_, rq.cpu, ref(p));
  --live_tasks_;
  resched_curr(rq);
}

// Runs p's program forward at time now_ until it needs CPU time, blocks, yields or exits.
// REQUIRES: p == rq.curr, p->state == kRunning.
void Kernel::program_continue(Rq& rq, Task* p) {
  ProgramState& s = p->prog;
  // A program that loops without ever consuming time (only yields, locks, signals...) would
  // run forever at one instant, as rt-app would spin: that is the workload's fault (exit 1).
  if (s.zero_time_at != now_) {
    s.zero_time_at = now_;
    s.zero_time_events = 0;
  }
  for (int guard = 0; guard < 100000; ++guard) {
    if (++s.zero_time_events > 500) {
      if (workload_status_.is_ok())
        workload_status_ = Status::workload_failed(fmt::format(
            "{}: executed 500 events at {} ns without consuming time (a loop of only yield, "
            "lock/unlock, signal or zero-length events): give it a run, runtime or sleep",
            p->name, now_));
      p->state = TaskState::kSleeping;  // park it: the run ends with the error
      resched_curr(rq);
      return;
    }
    if (!s.started) {
      // Thread start: rt-app sleeps `delay` first; t_first = t0 + delay anchors the timers.
      s.started = true;
      s.event = -1;
      s.t_first = p->spec->delay;
      s.next_release = s.t_first;
      if (p->spec->phases.empty() || !program_next_event(p)) {
        program_exit(rq, p);
        return;
      }
      phase_enter(p);
      if (p->spec->delay > now_) {  // an absolute delay from t0: none left if started late
        s.resume_after_block = true;
        program_block(rq, p, p->spec->delay);
        return;
      }
    }
    if (s.resume_after_block && rq.need_resched) {
      // The event that just completed made a task runnable that preempts p (an unlock with a
      // waiter, a signal, resume, sem_post, fork...): the kernel switches on the way back to
      // user space, before the thread starts its next event. p carries on when it runs again.
      return;
    }
    if (s.resume_after_block) {
      // Woken from the sleep/timer of the current event (or the start delay): it is done.
      s.resume_after_block = false;
      if (s.in_event) {
        s.in_event = false;
        if (!program_next_event(p)) {
          program_exit(rq, p);
          return;
        }
      }
      continue;
    }
    if (!s.in_event) {
      const Event& e = s.current_event();
      if (s.event == 0 && !s.act_open) {
        activation_begin(p, std::min(s.next_release, now_));
        s.next_release = kTimeNever;
      }
      s.in_event = true;
      s.kind = e.kind;
      const bool trailing = s.event + 1 == s.n_events;
      switch (e.kind) {
        // rt-app times each run/runtime event on the wall clock around its busy loop
        // (src/rt-app.c run_event(): ldata->duration), so preemption counts.
        case EventKind::kRun:
          s.work_left = e.duration;
          s.run_started = now_;
          break;
        case EventKind::kRuntime:
          s.runtime_end = now_ + e.duration;
          s.run_started = now_;
          break;
        case EventKind::kSleep: {
          Time until = now_ + e.duration;
          if (trailing) {
            activation_end(p, kTimeNever);
            s.next_release = until;
          }
          s.resume_after_block = true;
          program_block(rq, p, until);
          return;
        }
        case EventKind::kTimer: {
          // rt-app rtapp_timer: t_next += period from t_first; sleep until it unless it has
          // already passed, in which case relative mode restarts the timer from now.
          Time& next = w_.timers[e.resource].unique ? unique_timer_next_[p->id][e.resource]
                                                    : timer_next_[e.resource];
          if (next == 0) next = s.t_first;
          next += e.duration;
          if (trailing) {
            activation_end(p, next);
            s.next_release = next;
          }
          if (now_ < next) {
            s.resume_after_block = true;
            program_block(rq, p, next);
            return;
          }
          if (!e.timer_absolute) next = now_;
          if (trailing) s.next_release = now_;
          s.resume_after_block = true;  // complete the event without blocking
          continue;
        }
        case EventKind::kLock:
          if (mutex_lock(rq, p, e.resource, /*retry=*/false)) {
            s.resume_after_block = true;  // acquired: the event is done
            continue;
          }
          return;  // spinning on the owner, or blocked (the caller reschedules)
        case EventKind::kUnlock:
          mutex_unlock(rq, p, e.resource);
          s.resume_after_block = true;
          continue;
        case EventKind::kWait:
        case EventKind::kSignal:
        case EventKind::kBroadcast:
        case EventKind::kSync:
        case EventKind::kBarrier:
        case EventKind::kSuspend:
        case EventKind::kResume:
        case EventKind::kSemPost:
        case EventKind::kSemWait:
          s.sync_stage = 0;
          if (sync_event(rq, p, e)) {
            s.resume_after_block = true;
            continue;
          }
          return;
        case EventKind::kMem:
          // memset of `amount` bytes: CPU work at the memory bandwidth.
          s.kind = EventKind::kRun;
          s.work_left = static_cast<Time>(static_cast<u128>(e.amount) * kNsPerSec /
                                          static_cast<uint64_t>(opt_.mem_bytes_per_s));
          break;
        case EventKind::kIoRun: {
          // write() of `amount` bytes to io_device: the task blocks until the I/O completes
          // (completion interrupts have no timer slack).
          Time d = static_cast<Time>(static_cast<u128>(e.amount) * kNsPerSec /
                                     static_cast<uint64_t>(opt_.io_bytes_per_s));
          s.resume_after_block = true;
          program_block(rq, p, now_ + d, /*slack=*/false);
          return;
        }
        case EventKind::kFork:
          fork_task(rq, e.resource);
          s.resume_after_block = true;
          continue;
        case EventKind::kYield:
          s.resume_after_block = true;
          // do_sched_yield() acts on the scheduling context: from a proxy, on the donor
          // (6.19 "sched/proxy: Yield the donor task").
          if (rq.donor != &rq.idle) rq.donor->sched_class->yield_task(rq);
          resched_curr(rq);
          return;
      }
    }
    // An event in progress.
    switch (s.kind) {
      case EventKind::kWait:
      case EventKind::kSync:
      case EventKind::kBarrier:
      case EventKind::kSuspend:
      case EventKind::kSemWait:
        // Woken (or blocked re-taking a condvar's mutex): carry on with the event.
        if (sync_event(rq, p, s.current_event())) {
          s.resume_after_block = true;
          continue;
        }
        return;
      default: break;
    }
    if (s.kind == EventKind::kLock) {
      // Woken after an unlock, handed the lock, or done spinning: try again.
      if (mutex_lock(rq, p, s.current_event().resource, /*retry=*/true)) {
        s.resume_after_block = true;
        continue;
      }
      return;
    }
    if (s.kind == EventKind::kRun && s.work_left > 0) {
      arm_work(rq);
      return;
    }
    if (s.kind == EventKind::kRuntime && now_ < s.runtime_end) {
      arm_work(rq);
      return;
    }
    if (s.run_started >= 0) {
      s.act_run_wall += now_ - s.run_started;
      s.run_started = -1;
    }
    s.resume_after_block = true;  // done: advance
  }
  fail("task " + p->name + " executed 100000 events without consuming time");
}

}  // namespace proxysim
