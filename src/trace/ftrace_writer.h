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
// The events, their contexts and the marker payloads come from FtraceEvents (shared with the
// trace.dat writer); this class only prints them.
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
#include "trace/ftrace_events.h"

namespace proxysim {

// Invariants:
//  1. Event lines are only appended after the header (write_header() runs first, once).
//  2. entries_ counts the event lines handed to the buffer (markers included).
//  3. Nothing reaches the FILE* except through flush_buffer(): one fwrite per ~1 MiB.
class FtraceWriter : public FtraceEvents {
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
  // Ends the open slices (FtraceEvents::on_finish()), then flushes the buffer and patches the
  // entries line (idempotent; later events are still accepted and close() patches again).
  void on_finish(Time t) override;

  // Flushes, patches the header, and closes the file if this writer opened it. Returns the first
  // I/O error met since construction, naming the file. Idempotent.
  Status close();

  uint64_t entries() const { return entries_; }

 protected:
  void emit_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                   const TaskRef& next) override;
  void emit_waking(Time t, int cpu, const TaskRef& p, int target_cpu) override;
  void emit_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) override;
  void emit_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu) override;
  void emit_exit(Time t, int cpu, const TaskRef& p) override;
  void emit_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) override;
  void emit_marker(Time t, int cpu, std::string_view payload) override;

 private:
  FtraceWriter(std::FILE* out, bool owned, std::string name);
  void write_header();
  // Appends `<comm>-<pid> [cpu] <flags> <secs>.<usecs>: ` for the task current on `cpu`.
  void begin_line(Time t, int cpu, std::string_view flags);
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
  uint64_t entries_ = 0;
  uint64_t patched_entries_ = UINT64_MAX;  // count last written into the header
  fmt::memory_buffer buf_;
  Status io_status_;
};

}  // namespace proxysim
