// `proxysim fidelity WORKLOAD.json`: capture the workload on this kernel with rt-app, analyze
// the trace, simulate the same workload on as many CPUs, and print the per-task metrics side by
// side with their relative difference (docs/fidelity.md).
#pragma once

#include <string>

#include "proxysim/status.h"

namespace proxysim {

struct FidelityOptions {
  std::string workload;
  int cpus = 0;             // 0: this machine's online CPUs
  double tolerance = 10.0;  // % : |kernel - proxysim| / proxysim above it is flagged
  int64_t floor_us = 200;   // time metrics differing by less than this (µs) are never flagged
  std::string keep;         // keep the captured trace as KEEP.trace (and KEEP.dat)
  std::string trace;        // analyze this already captured trace instead of capturing
  std::string metrics;      // {"runs": [kernel, proxysim]} metrics JSON
  bool markdown = false;    // rows as markdown table lines (tools/fidelity.sh)
  double run_scale = 0;     // > 0: use this instead of measuring rt-app's run calibration
};

int fidelity_main(const FidelityOptions& opt);

}  // namespace proxysim
