// Reading rt-app JSON workloads (the grammar of rt-app 1.0 and upstream HEAD).
#pragma once

#include <string>

#include "proxysim/status.h"
#include "proxysim/workload.h"

namespace proxysim {

struct LoadOptions {
  bool rtapp_1_0 = false;  // --rt-app-1.0: the old semantics where 1.0 and HEAD differ
  int max_errors = 20;     // report at most this many errors in one message
};

// Parses and validates `path`. On error returns kInvalidInput whose message holds one line per
// problem, each `file:line:column: json.path: message`.
Status load_workload(const std::string& path, const LoadOptions& opt, Workload* out);
// Same, from text already in memory; `name` is used in messages.
Status load_workload_from_string(const std::string& text, const std::string& name,
                                 const LoadOptions& opt, Workload* out);

}  // namespace proxysim
