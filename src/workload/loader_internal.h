// Shared state and entry points of the rt-app loader's semantic pass (loader.cc, global.cc,
// sched.cc). Internal to src/workload.
#pragma once

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
  TimerTable timers;
  MutexTable mutexes;
};

// A policy name as rt-app's string_to_policy accepts it (1.0: without BATCH and IDLE).
bool read_policy(Loader& l, const Field& f, Policy* out);

// The "global" object. Sets Workload::duration, default_policy, pi_enabled.
void read_global(Loader& l, const Field& f);

// policy, priority and dl-* parameters of the thread object `obj` (whose member is `task`),
// with the global default policy. Takes those keys from `obj`.
void read_sched(Loader& l, ObjectView& obj, const Field& task, SchedParams* out);

}  // namespace proxysim::workload
