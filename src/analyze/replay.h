// TraceReplayer: turns the records of a real kernel trace (trace_reader.h) into the Observer
// events the kernel model emits, so that MetricsCollector, the summary table and the metrics
// JSON are the same code for a kernel trace as for a simulation. Times are rebased so that the
// trace's first record is at 0. What is inferred and how: docs/analyze.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analyze/trace_reader.h"
#include "proxysim/observer.h"
#include "proxysim/status.h"

namespace proxysim {

struct ReplayOptions {
  std::string trace_name;  // RunInfo::workload_file
  // Relative deadline of each activation by task comm (e.g. a timer period or dl-deadline from
  // the workload that produced the trace); tasks not named have no deadline (never a miss).
  std::map<std::string, Time> deadline_by_comm;
};

// CPU time one task received from an rt-app "executing <event>" marker to its next marker: the
// cost of that event (`fidelity` uses the `run` events to measure rt-app's calibration).
struct EventSpan {
  int pid = 0;
  std::string comm;
  int phase = 0;
  int event = 0;  // index in the phase's event list, as rt-app counts them
  Time cpu_ns = 0;
  Time wall_ns = 0;
};

struct ReplayReport {
  int nr_cpus = 0;
  Time span_ns = 0;      // last record - first record
  Time origin_ns = 0;    // the first record's kernel timestamp
  int64_t replayed = 0;  // records turned into observer events
  int64_t skipped = 0;   // records of other events (by name in TraceData::skipped)
  int64_t markers = 0;   // trace_marker writes
  int64_t activations = 0;
  int64_t resyncs = 0;   // events whose context task was not the one the switches imply
  Time untraced_ns = 0;  // time credited to "(untraced)" by those resyncs
  int64_t unknown_migrations = 0;
  std::vector<EventSpan> spans;
};

// Replays `data` into `observers`: on_start, the events, on_finish at the last record.
void replay_trace(const TraceData& data, const ReplayOptions& opt,
                  const std::vector<Observer*>& observers, ReplayReport* report);

}  // namespace proxysim
