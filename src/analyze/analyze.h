// `proxysim analyze TRACE`: the metrics of a real kernel trace, through the same collector,
// table and JSON as a simulation (docs/analyze.md).
#pragma once

#include <string>

#include "analyze/replay.h"
#include "metrics/metrics.h"
#include "proxysim/status.h"

namespace proxysim {

struct AnalyzeOptions {
  std::string trace;    // tracefs text or trace.dat
  std::string comm;     // ECMAScript regex: keep only the tasks whose comm matches (table, JSON)
  std::string metrics;  // --metrics FILE
  std::string csv;      // --csv DIR: tasks.csv, cpus.csv, runs.csv, activations.csv
  bool strict = false;  // undecodable records, a cut-off end or lost events are an error (2)
  bool quiet = false;
  std::map<std::string, Time> deadline_by_comm;  // see ReplayOptions
};

struct AnalyzeResult {
  TraceData data;  // events dropped after the replay (counts kept)
  ReplayReport report;
  RunMetrics metrics;  // protocol "kernel"; tasks filtered by AnalyzeOptions::comm
  std::string notes;   // the human report printed under the table (ends with a newline)
  bool partial = false;
};

// Reads, replays and measures the trace. kInvalidInput when it cannot be read (or, with
// strict, is partial).
Status analyze_trace(const AnalyzeOptions& opt, AnalyzeResult* out);

// The CLI subcommand: prints the table and notes, writes --metrics; returns the exit code.
int analyze_main(const AnalyzeOptions& opt);

}  // namespace proxysim
