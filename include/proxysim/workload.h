// The workload model: what the rt-app JSON loader produces and the simulator consumes.
//
// It mirrors rt-app's own structure (global section, tasks with instances, phases of events run
// in file order) so that every construct of the rt-app grammar has one place to land. Times are
// already converted to ns; names keep the user's spelling for messages and traces.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proxysim/types.h"

namespace proxysim {

// Where a value came from in the input file, for error messages (`file:line:col: json.path:`).
struct SourceLoc {
  int line = 0;
  int column = 0;
  std::string path;  // JSON path, e.g. "tasks.low.phases.p1.run"
};

enum class EventKind : uint8_t {
  kRun,        // CPU work of `duration` ns at full capacity (rt-app "run")
  kRuntime,    // busy until `duration` ns of wall time have passed (rt-app "runtime")
  kSleep,      // relative sleep of `duration` ns
  kTimer,      // sleep until the next expiry of timer `resource` with period `duration`
  kYield,      // sched_yield()
  kLock,       // lock mutex `resource` (index into Workload::mutexes)
  kUnlock,     // unlock mutex `resource`
  kWait,       // pthread_cond_wait(condvar `resource`, mutex `resource2`); the mutex must be held
  kSignal,     // pthread_cond_signal(condvar `resource`): wakes the longest waiter
  kBroadcast,  // pthread_cond_broadcast(condvar `resource`) (rt-app "broad")
  kSync,       // signal condvar `resource`, then wait on it with mutex `resource2`
  kBarrier,    // rendezvous of every thread that uses barrier `resource`
  kSuspend,    // wait on suspend object `resource` (a name, usually a thread's) until resumed
  kResume,     // wake every thread suspended on object `resource` (a resume nobody waits for
               // is lost, as with rt-app's condvar)
  kSemPost,    // sem_post(semaphore `resource`)
  kSemWait,    // sem_wait(semaphore `resource`)
  kMem,        // memset of `amount` bytes: CPU work at SimOptions::mem_bytes_per_s
  kIoRun,  // write of `amount` bytes to io_device: a blocking wait at SimOptions::io_bytes_per_s
  kFork,   // start one more thread of task `resource` (an index into Workload::tasks)
};

// (Fields grouped by size: no padding.)
struct Event {
  Time duration = 0;   // run/runtime/sleep: ns; timer: period in ns
  int64_t amount = 0;  // mem/iorun/memrun: bytes
  int resource = -1;   // timer: index into Workload::timers
  int resource2 = -1;  // wait/sync: the mutex (index into Workload::mutexes)
  EventKind kind = EventKind::kRun;
  bool timer_absolute = true;  // timer: rt-app "mode" (absolute is rt-app's default)
  std::string key;             // the JSON key as written ("run1", "timer0")
  SourceLoc loc;
};

// Scheduling parameters a task (or a phase of it) runs with.
struct SchedParams {
  Policy policy = Policy::kNormal;
  int nice = 0;         // SCHED_OTHER/BATCH/IDLE
  int rt_priority = 0;  // SCHED_FIFO/RR: 1..99
  Time dl_runtime = 0;  // SCHED_DEADLINE (and custom slice for fair when > 0), ns
  Time dl_deadline = 0;
  Time dl_period = 0;
};

struct Phase {
  std::string name;
  int loop = 1;                      // iterations of this phase per pass of the task's phase list
  std::optional<CpuMask> cpus;       // affinity while in this phase (rt-app phase "cpus")
  std::optional<SchedParams> sched;  // HEAD: phase-level policy/priority/dl-* change
  std::vector<Event> events;
  SourceLoc loc;
};

struct TaskSpec {
  std::string name;   // rt-app thread object key
  int instances = 1;  // rt-app "instance"; 0 = defined but not started (fork target)
  int loop = -1;      // passes over `phases`; -1 = forever (until duration ends)
  SchedParams sched;
  std::optional<CpuMask> cpus;  // initial affinity; unset = all CPUs
  Time delay = 0;               // initial delay before the first event, ns
  std::vector<Phase> phases;
  SourceLoc loc;
};

struct TimerSpec {
  std::string name;     // reference as written
  bool unique = false;  // "unique..." references get one timer per thread (rt-app)
};

struct Workload {
  std::string file;    // for messages
  Time duration = -1;  // ns; -1 = until every task has finished its loops
  Policy default_policy = Policy::kNormal;
  bool pi_enabled = false;
  bool rtapp_1_0 = false;  // loaded with rt-app 1.0 semantics (thread names, task-level loop...)
  std::vector<TaskSpec> tasks;  // file order
  std::vector<TimerSpec> timers;
  std::vector<std::string> mutexes;     // mutex names, in order of first use in the file
  std::vector<std::string> condvars;    // wait/signal/broad/sync references
  std::vector<std::string> barriers;    // barrier names
  std::vector<int> barrier_parties;     // threads that use each barrier (instances counted)
  std::vector<std::string> suspends;    // suspend/resume object names
  std::vector<std::string> semaphores;  // sem_post/sem_wait names (initial value 0)
  int max_cpu_named = -1;               // highest CPU in any "cpus" list (for the --cpus default)
  std::vector<std::string> warnings;    // non-fatal remarks from the loader (for `validate`)
};

}  // namespace proxysim
