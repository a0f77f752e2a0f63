// `proxysim capture WORKLOAD.json -o TRACE`: runs the workload with Debian's rt-app on this
// machine's kernel and records its scheduler events in a private tracefs instance
// (instances/proxysim-<pid>), so that the global trace buffer is left alone. The instance is
// removed afterwards, also on error or SIGINT/SIGTERM. Needs root. docs/analyze.md, "capture".
#pragma once

#include <string>
#include <vector>

#include "proxysim/status.h"

namespace proxysim {

struct CaptureOptions {
  std::string workload;  // rt-app JSON
  std::string out;       // tracefs text trace
  std::string dat;       // trace.dat written with `trace-cmd extract` ("" = none)
  std::string rtapp = "rt-app";
  std::vector<std::string> prefix;  // command rt-app runs under, e.g. {"taskset", "-c", "0-1"}
  int buffer_kb = 16384;            // per-CPU ring buffer of the instance
  bool quiet = false;
};

struct CaptureResult {
  int rtapp_status = 0;      // rt-app's exit code (128 + signal if killed)
  std::string rtapp_output;  // rt-app's stdout and stderr
  std::string dat_note;      // why no trace.dat was written, if it was asked for and failed
  bool interrupted = false;
};

// Whether this process can capture: root and a tracefs (mounted, or mountable here). The
// message says what is missing. Used by the tests to skip.
Status capture_available();

// kInvalidInput for a bad workload or options, kWorkloadFailed when not root, tracefs is missing
// or rt-app fails (the trace is still written when rt-app ran).
Status capture_workload(const CaptureOptions& opt, CaptureResult* out);

int capture_main(const CaptureOptions& opt);

}  // namespace proxysim
