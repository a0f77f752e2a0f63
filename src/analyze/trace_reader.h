// Reading real kernel traces: the tracefs text form (`cat /sys/kernel/tracing/trace`, which is
// also what FtraceWriter writes) and trace-cmd's trace.dat (through Debian's libtracecmd). Both
// readers produce the same RawEvent records, which TraceReplayer (replay.h) turns into Observer
// events. Format details and what is inferred: docs/analyze.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proxysim/status.h"
#include "proxysim/types.h"

namespace proxysim {

// One trace record, decoded. Times are the kernel's, in ns (not yet rebased).
struct RawEvent {
  enum Kind : uint8_t {
    kSwitch,     // sched_switch
    kWaking,     // sched_waking
    kWakeup,     // sched_wakeup
    kWakeupNew,  // sched_wakeup_new
    kMigrate,    // sched_migrate_task
    kPiSetprio,  // sched_pi_setprio
    kExit,       // sched_process_exit
    kMarker,     // trace_marker write (tracing_mark_write / ftrace print)
    kOther,      // any other event: skipped and counted by name
  };
  Kind kind = kOther;
  Time t = 0;
  int cpu = 0;
  int ctx_pid = 0;       // the task current on `cpu` when the event fired (first column)
  std::string ctx_comm;  // its comm as the trace prints it ("<idle>" for pid 0)
  bool hardirq = false;  // fired in hard interrupt context (flags column 'h' or 'H')
  std::string name;      // event name (for kOther)
  // sched_switch: prev (comm, pid, prio), prev_state letters ("R", "R+", "S", "D|K", ...), next.
  // wakeups, migrate, pi_setprio, exit: comm, pid, prio (pi_setprio: oldprio) in the prev_ slots.
  std::string prev_comm;
  int prev_pid = 0;
  int prev_prio = 0;
  std::string prev_state;
  std::string next_comm;
  int next_pid = 0;
  int next_prio = 0;    // pi_setprio: newprio
  int target_cpu = -1;  // wakeups: target_cpu; migrate: dest_cpu
  int orig_cpu = -1;    // migrate: orig_cpu
  std::string text;     // marker text
};

struct TraceData {
  std::string format;            // "text" or "trace.dat"
  int nr_cpus = 0;               // from the header (#P:N, trace.dat CPU count), else max CPU + 1
  std::vector<RawEvent> events;  // in time order (stable for equal times)
  int64_t lost_events = 0;       // ring-buffer overruns the trace reports
  int64_t malformed = 0;         // lines or records that could not be decoded (skipped)
  std::string first_malformed;   // "FILE:LINE: reason" of the first one
  bool truncated = false;        // the input ended inside a record (e.g. last line cut short)
  std::map<std::string, int64_t> skipped;  // kOther events by name
};

// Reads `path`, detecting the format from its first bytes (trace.dat magic "\x17\x08\x44tracing").
// Returns kInvalidInput when the file cannot be read, is neither format, or holds no event.
Status read_trace(const std::string& path, TraceData* out);

// The text form from memory; `name` is used in messages.
Status parse_trace_text(const std::string& text, const std::string& name, TraceData* out);

// trace.dat through libtracecmd (trace_dat.cc).
Status read_trace_dat(const std::string& path, TraceData* out);

// "12345.678901" (seconds with up to 9 decimals) -> ns. False on anything else.
bool parse_trace_timestamp(std::string_view s, Time* out);

// prev_state bits of the kernel (sched_switch's raw field) -> the letters tracefs prints.
std::string prev_state_letters(int64_t state);

}  // namespace proxysim
