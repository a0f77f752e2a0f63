// RtappLogWriter: an Observer that writes rt-app's per-thread log files (`--rtapp-logs DIR`), one
// line per phase iteration with rt-app's columns and printf widths, so that scripts written for
// real rt-app runs (LISA, gnuplot files, pandas with sep=r"\s+") read simulated runs unchanged.
// Column by column meaning in simulation, and what is exact or approximated: docs/rtapp-logs.md.
//
// Files: DIR/rt-app-<name>-<idx>.log for a thread created at start (rt-app HEAD names a thread
// <name>-<idx>, idx = its creation index over all tasks and instances) and
// DIR/rt-app-<name>-<idx>-<nnnn>.log for the nnnn-th fork of task <name>. The basename is always
// rt-app's default "rt-app" (global.log_basename is not part of the Workload model).
//
// rt-app measures an iteration from the start of its first event to the return of its last one
// (for the usual "run ...; timer" phase: from the wakeup after the previous timer to the wakeup
// after this one). An Activation ends when the work is done, before the trailing sleep/timer, so
// a line is completed by what follows: the next activation of the same task (its start + wu_lat
// is when the task ran again), the task's exit, or at the end of the run the first switch-in
// after the trailing wait. An iteration still waiting when the run ends is not logged, as rt-app
// cancels its threads in that wait.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxysim/observer.h"
#include "proxysim/status.h"
#include "proxysim/workload.h"

namespace proxysim {

// One line of a log, in rt-app's units (µs) and order.
struct RtappLogLine {
  int idx = 0;
  int64_t perf = 0;
  int64_t run = 0;
  int64_t period = 0;
  int64_t start = 0;
  int64_t end = 0;
  int64_t rel_st = 0;
  int64_t slack = 0;
  int64_t c_duration = 0;
  int64_t c_period = 0;
  int64_t wu_lat = 0;
};

// Invariants:
//  1. tasks_[id] exists for every task announced by on_task_new; its buffer starts with header().
//  2. At most one activation per task is pending (emitted, not yet written as a line).
//  3. Nothing reaches a file except through flush(): truncate on the first write, append after.
class RtappLogWriter : public Observer {
 public:
  static constexpr const char* kBasename = "rt-app";

  // Creates `dir` (and its parents) if missing and checks that it is a writable directory.
  // `w` must outlive the writer.
  static Status open(const std::string& dir, const Workload& w,
                     std::unique_ptr<RtappLogWriter>* out);
  RtappLogWriter(std::string dir, const Workload& w);

  // rt-app's header line and line format (with the trailing newline).
  static std::string header();
  static std::string format_line(const RtappLogLine& l);
  // ns -> µs rounded half away from zero, as rt-app's lround(ns / 1000.0).
  static int64_t to_us(int64_t ns);

  void on_task_new(Time t, const TaskRef& p) override;
  void on_sched_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                       const TaskRef& next, const TaskRef& next_donor) override;
  void on_process_exit(Time t, int cpu, const TaskRef& p) override;
  void on_activation(const TaskRef& p, const Activation& a) override;
  void on_finish(Time t) override;

  // Writes every buffered line; returns the first I/O error met, naming the file. Idempotent.
  Status close();

  // The path of the log of task `id` ("" for an unknown id).
  std::string path_of(int id) const;

 private:
  enum class Wait : uint8_t { kNone, kAwaitSleep, kSleeping, kWoke };
  struct Pending {
    Activation a;
    bool deadline_policy = false;  // SCHED_DEADLINE: a.deadline is the DL deadline
    Time run = 0;                  // CPU time of the iteration (see run_base)
  };
  struct TaskLog {
    bool known = false;
    const TaskSpec* spec = nullptr;
    std::string path;
    std::string buf;
    bool written = false;  // the file was created (later flushes append)
    std::optional<Pending> pending;
    Wait wait = Wait::kNone;
    Time woke_at = 0;
    // CPU time as curr, from sched_switch: cpu_acc up to running_since (-1: not curr now).
    Time cpu_acc = 0;
    Time running_since = -1;
    Time run_base = 0;  // cpu time when the current iteration began
  };

  TaskLog* task(int id);
  // Writes the pending line of `t`, whose iteration ended (its last event returned) at end_rt.
  // `next_start` is the release of the following activation when known (else -1).
  void complete(int id, TaskLog* t, Time end_rt, Time next_start);
  void flush(TaskLog* t);

  std::string dir_;
  const Workload& w_;
  std::vector<TaskLog> tasks_;
  Status io_status_;
  bool closed_ = false;
};

}  // namespace proxysim
