// FtraceEvents: the ftrace view of a run, shared by the trace writers. It turns observer events
// into the sequence of ftrace events a kernel would record — sched_* tracepoints and
// trace_marker writes (`tracing_mark_write`) with the atrace and `proxysim:` payloads of
// docs/trace.md — and tracks the task current on each CPU (the context every event fires in).
// A writer derives from it and only encodes: FtraceWriter prints the tracefs text,
// TraceDatWriter the binary ring-buffer records of a trace.dat. Both therefore hold the same
// events, in the same order, with the same contexts and payloads.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxysim/observer.h"

namespace proxysim {

// Invariants:
//  1. cur_[c] is the task that the last sched_switch on CPU c switched to (idle initially);
//     during emit_switch() it is prev (the switch fires in prev's context).
//  2. cur_[c].slice_pid >= 0 iff a "proxy for" slice (B) is open on CPU c, for the task current
//     there; it is ended (E) before that task's switch-out or when the donor changes.
//  3. Every open async slice ("waits"/"holds") is recorded in locks_ and closed (F) exactly once,
//     at the matching acquire/release or at on_finish().
//  4. Every emit_*() is called with cpu >= 0 and cur_.size() > cpu.
class FtraceEvents : public Observer {
 public:
  // The task current on a CPU: the first column of a trace line (`<idle>-0` for idle).
  struct Current {
    std::string comm = "<idle>";  // the idle task's; <= 15 characters (no allocation)
    int pid = 0;
    int slice_pid = -1;  // pid of the task with an open "proxy for" slice here, or -1
    int donor = -1;      // task id of that slice's donor
  };

  void on_start(const RunInfo& info) override;
  void on_sched_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                       const TaskRef& next, const TaskRef& next_donor) override;
  void on_sched_waking(Time t, int cpu, const TaskRef& p, int target_cpu) override;
  void on_sched_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) override;
  void on_sched_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu,
                        MigrateReason reason) override;
  void on_process_exit(Time t, int cpu, const TaskRef& p) override;
  void on_lock_contend(Time t, int cpu, const TaskRef& p, int lock, std::string_view lock_name,
                       const TaskRef& owner) override;
  void on_lock_acquire(Time t, int cpu, const TaskRef& p, int lock,
                       std::string_view lock_name) override;
  void on_lock_release(Time t, int cpu, const TaskRef& p, int lock,
                       std::string_view lock_name) override;
  void on_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) override;
  void on_proxy(Time t, int cpu, ProxyAction action, const TaskRef& donor, const TaskRef& task,
                int from_cpu, int to_cpu) override;
  // Written on CPU 0 (the event has no CPU), in the context of the task current there.
  void on_deadlock(Time t, std::string_view message) override;
  // Ends the open "proxy for" slices (E, by CPU) and async lock slices (F, by task id, holds in
  // acquisition order, on CPU 0) at `t`. Writers extend it to flush their output.
  void on_finish(Time t) override;

  // A trace_marker write (`tracing_mark_write: <text>`), e.g. an atrace payload "B|12|lock m0".
  // A trailing newline of `text` is dropped and inner newlines become spaces (one line each).
  void write_marker(Time t, int cpu, std::string_view text);

  // The cookie of the async slice "waits <lock>" (waiting = true) or "holds <lock>" of the task
  // with pid `pid`: pid * 2^32 + 2 * lock + (waiting ? 1 : 0). Unique per (task, lock, kind).
  static int64_t lock_cookie(int pid, int lock, bool waiting);

 protected:
  FtraceEvents();

  // The encoders, called in trace order; current(cpu) is the event's context. Any TaskRef may
  // be a CPU's idle task (is_idle()), and its comm may exceed 15 characters: cut it with
  // comm15().
  virtual void emit_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                           const TaskRef& next) = 0;
  virtual void emit_waking(Time t, int cpu, const TaskRef& p, int target_cpu) = 0;
  virtual void emit_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) = 0;
  virtual void emit_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu) = 0;
  virtual void emit_exit(Time t, int cpu, const TaskRef& p) = 0;
  virtual void emit_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) = 0;
  // A trace_marker write whose text is `payload` (one line: no newline inside).
  virtual void emit_marker(Time t, int cpu, std::string_view payload) = 0;

  const Current& current(int cpu) const { return cur_[static_cast<size_t>(cpu)]; }
  int nr_cpus() const { return nr_cpus_; }
  void ensure_cpu(int cpu);

  static bool is_idle(const TaskRef& t) { return t.id < 0; }
  // The kernel's comm is at most TASK_COMM_LEN - 1 = 15 characters.
  static std::string_view comm15(std::string_view c) { return c.substr(0, 15); }

 private:
  // Open async slices of one task (indexed by task id).
  struct TaskLocks {
    int pid = 0;
    int waiting = -1;        // lock of the open "waits" slice, or -1
    std::vector<int> holds;  // locks of the open "holds" slices, in acquisition order
  };

  static int cpu_index(int cpu) { return cpu < 0 ? 0 : cpu; }
  // Appends `s` to payload_ with newlines as spaces; `field` also turns '|' (the atrace
  // separator) into '_'.
  void put_text(std::string_view s, bool field);
  // Hands payload_ to emit_marker() and clears it.
  void marker(Time t, int cpu);
  // S/F marker of an async lock slice.
  void lock_slice(Time t, int cpu, char phase, int pid, int lock, bool waiting);
  // Ends the "proxy for" slice open on `cpu` (if any) with `E|pid`, in the current task's context.
  void end_proxy_slice(Time t, int cpu);
  TaskLocks* task_locks(const TaskRef& p);
  void note_lock_name(int lock, std::string_view name);

  int nr_cpus_ = 0;
  std::vector<Current> cur_;
  std::vector<TaskLocks> locks_;         // indexed by task id
  std::vector<std::string> lock_names_;  // indexed by lock, as last seen
  fmt::memory_buffer payload_;           // the marker being composed
};

}  // namespace proxysim
