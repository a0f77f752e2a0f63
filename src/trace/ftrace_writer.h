// FtraceWriter: an Observer that writes the tracefs `trace` text form (the file one gets with
// `cat /sys/kernel/tracing/trace` under the nop tracer), so that Perfetto, LISA-style parsers,
// KernelShark users and humans read simulated runs exactly like captured ones
// (reference/rt-app-and-trace-formats.md §3.1).
//
// Output, byte for byte deterministic:
//   # tracer: nop
//   #
//   # entries-in-buffer/entries-written: 42/42   #P:2        (padded with spaces, see below)
//   #
//   #                                _-----=> irqs-off/BH-disabled
//   ...                                                       (the kernel's legend lines)
//   #              | |         |   |||||     |         |
//             <idle>-0       [000] d..2.     0.001000: sched_switch: prev_comm=swapper/0 ...
//
// Each event line is `%16s-%-7d [%03d] %5s %5lu.%06lu: <event>: <args>` as printed by the
// kernel's trace_print_context(); the comm-pid column is the task current on that CPU when the
// event fires (tracked from sched_switch; `<idle>-0` for the idle task).
//
// Besides the sched_* events, the writer emits `tracing_mark_write:` lines (trace_marker writes)
// carrying atrace payloads that Perfetto's systrace importer turns into per-thread tracks:
// async slices "waits <lock>" / "holds <lock>", a "proxy for <donor>" slice on a task while it
// runs on another task's scheduling context, a "prio" counter at each sched_pi_setprio, and one
// `proxysim: ...` line per proxy-execution decision or deadlock. Exact syntax: docs/trace.md.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxysim/observer.h"
#include "proxysim/status.h"

namespace proxysim {

// Invariants:
//  1. Event lines are only appended after the header (write_header() runs first, once).
//  2. entries_ counts the event lines handed to the buffer (markers included).
//  3. cur_[c] is the task that the last sched_switch on CPU c switched to (idle initially).
//  4. Nothing reaches the FILE* except through flush_buffer(): one fwrite per ~1 MiB.
//  5. cur_[c].slice_pid >= 0 iff a "proxy for" slice (B) is open on CPU c, for the task current
//     there; it is ended (E) before that task's switch-out or when the donor changes.
//  6. Every open async slice ("waits"/"holds") is recorded in locks_ and closed (F) exactly once,
//     at the matching acquire/release or at on_finish().
class FtraceWriter : public Observer {
 public:
  // Opens `path` for writing ("-" means stdout) and returns a writer that owns the file.
  // A regular file gets its entries line patched at on_finish(); stdout or a pipe does not.
  static Status open(const std::string& path, std::unique_ptr<FtraceWriter>* out);

  // Writes to `out`, which the caller keeps open until close() or destruction. The entries line
  // is patched when `out` is seekable (and not in append mode).
  explicit FtraceWriter(std::FILE* out);
  ~FtraceWriter() override;
  FtraceWriter(const FtraceWriter&) = delete;
  FtraceWriter& operator=(const FtraceWriter&) = delete;

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
  // Ends the open "proxy for" slices (E) and async lock slices (F) at `t`, then flushes the
  // buffer and patches the entries line (idempotent; later events are still accepted and close()
  // patches again).
  void on_finish(Time t) override;

  // A trace_marker write (`tracing_mark_write: <text>`), e.g. an atrace payload "B|12|lock m0".
  // A trailing newline of `text` is dropped and inner newlines become spaces (one line each).
  void write_marker(Time t, int cpu, std::string_view text);

  // Flushes, patches the header, and closes the file if this writer opened it. Returns the first
  // I/O error met since construction, naming the file. Idempotent.
  Status close();

  uint64_t entries() const { return entries_; }

  // The cookie of the async slice "waits <lock>" (waiting = true) or "holds <lock>" of the task
  // with pid `pid`: pid * 2^32 + 2 * lock + (waiting ? 1 : 0). Unique per (task, lock, kind).
  static int64_t lock_cookie(int pid, int lock, bool waiting);

 private:
  struct Current {
    std::string comm = "<idle>";  // the idle task's; <= 15 characters (no allocation)
    int pid = 0;
    int slice_pid = -1;  // pid of the task with an open "proxy for" slice here, or -1
    int donor = -1;      // task id of that slice's donor
  };
  // Open async slices of one task (indexed by task id).
  struct TaskLocks {
    int pid = 0;
    int waiting = -1;        // lock of the open "waits" slice, or -1
    std::vector<int> holds;  // locks of the open "holds" slices, in acquisition order
  };

  FtraceWriter(std::FILE* out, bool owned, std::string name);
  void write_header();
  void ensure_cpu(int cpu);
  // Appends `<comm>-<pid> [cpu] <flags> <secs>.<usecs>: ` for the task current on `cpu`.
  void begin_line(Time t, int cpu, std::string_view flags);
  void write_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                    const TaskRef& next);
  // `tracing_mark_write: ` line prefix; end_marker() ends the line.
  void begin_marker(Time t, int cpu);
  void end_marker();
  // Appends `s` with newlines as spaces; `field` also turns '|' (the atrace separator) into '_'.
  void put_text(std::string_view s, bool field);
  // S/F line of an async lock slice.
  void lock_slice(Time t, int cpu, char phase, int pid, int lock, bool waiting);
  // Ends the "proxy for" slice open on `cpu` (if any) with `E|pid`, in the current task's context.
  void end_proxy_slice(Time t, int cpu);
  TaskLocks* task_locks(const TaskRef& p);
  void note_lock_name(int lock, std::string_view name);
  void flush_buffer();
  void patch_header();
  void note_io_error(const char* what);

  std::FILE* out_ = nullptr;
  bool owned_ = false;
  std::string name_;       // for error messages: the path, or "<stream>"
  bool seekable_ = false;  // the entries line can be rewritten in place
  long header_pos_ = 0;    // file offset of the entries line (when seekable_)
  bool header_written_ = false;
  bool closed_ = false;
  int nr_cpus_ = 0;
  uint64_t entries_ = 0;
  uint64_t patched_entries_ = UINT64_MAX;  // count last written into the header
  std::vector<Current> cur_;
  std::vector<TaskLocks> locks_;         // indexed by task id
  std::vector<std::string> lock_names_;  // indexed by lock, as last seen
  fmt::memory_buffer buf_;
  Status io_status_;
};

}  // namespace proxysim
