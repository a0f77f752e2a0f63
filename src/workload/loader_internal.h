// Shared state and entry points of the rt-app loader's semantic pass (loader.cc, global.cc,
// sched.cc). Internal to src/workload.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proxysim/loader.h"
#include "proxysim/workload.h"
#include "workload/events.h"
#include "workload/fields.h"

namespace proxysim::workload {

// One load in progress.
struct Loader {
  const LoadOptions& opt;
  Diagnostics* diag;
  Workload* wl;  // being filled
  EventTables tables;
  std::vector<std::string> failed_tasks;     // tasks that are not objects (not in wl->tasks)
  std::vector<json::Position> instance_pos;  // per task of wl->tasks: its "instance" value
  int64_t threads = 0;                       // sum of "instance" so far
};

// A policy name as rt-app's string_to_policy accepts it (1.0: without BATCH and IDLE).
bool read_policy(Loader& l, const Field& f, Policy* out);

// The "global" object. Sets Workload::duration, default_policy, pi_enabled.
void read_global(Loader& l, const Field& f);

// policy, priority and dl-* parameters of the thread object `obj` (whose member is `task`),
// with the global default policy. Takes those keys from `obj`.
void read_sched(Loader& l, ObjectView& obj, const Field& task, SchedParams* out);

// rt-app HEAD's phase-level policy, priority and dl-* keys of the phase object `obj` (whose
// member is `phase`), applied over `current`, the parameters in effect when the phase starts for
// the first time. Takes those keys from `obj`. nullopt when the phase changes nothing.
std::optional<SchedParams> read_phase_sched(Loader& l, ObjectView& obj, const Field& phase,
                                            const SchedParams& current);

}  // namespace proxysim::workload
