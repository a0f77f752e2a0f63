// rt-app events: which keys of a phase are events, and how each becomes an Event.
//
// rt-app decides that a key is an event when one of its event names is a prefix of the key
// (strncmp), so "run1", "sleep_long", "timer0" and "lock_a" are events. Its list (HEAD
// rt-app_parse_config.c `events[]`) puts "runtime" before "run" and "memrun" before "mem"; no
// other name is a prefix of another ("unlock1" does not start with "lock", "sem_post" does not
// start with "sync"). New events slot in as rows of kEvents in events.cc.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "proxysim/workload.h"
#include "workload/fields.h"

namespace proxysim::workload {

// Gives each timer reference its Workload::timers index. Plain references name one timer shared
// by every thread that uses it; references starting with "unique" name one timer per thread
// (rt-app appends the thread's address), so they are registered once per task and the simulator
// instantiates them per thread.
class TimerTable {
 public:
  int index(const std::string& ref, int task_index, Workload* wl);

 private:
  std::map<std::pair<int, std::string>, int> index_;  // (task or -1, ref) -> timer
};

// Gives each name of one kind of object its index in the Workload list of that kind (`names`),
// registering names in order of first use. rt-app keeps one object per (name, type) for the whole
// file (get_resource_index), whether it is declared in "resources" or only named by events.
class NameTable {
 public:
  int index(const std::string& name, std::vector<std::string>* names);
  bool contains(const std::string& name) const { return index_.count(name) != 0; }

 private:
  std::map<std::string, int> index_;
};

// A "fork" event until every task is known: Event::resource indexes EventTables::forks.
struct ForkRef {
  std::string target;
  json::Position pos;  // of the value
  std::string path;
  int task_index;  // of the task whose event forks
};

// The first use of one (memrun "ref", type) pair: rt-app shares one buffer among them, so they
// must agree on its shape.
struct MemrunBuffer {
  int64_t size = 0;
  int64_t stride = 0;  // chase only
  bool random = true;  // chase only
  json::Position pos;
};

// Every name space of the events of one load, plus what the checks after the last task need.
struct EventTables {
  TimerTable timers;
  NameTable mutexes;     // lock, unlock, the "mutex" of wait/sync, "resources" of type mutex
  NameTable condvars;    // wait, sync, signal, broad
  NameTable barriers;    // barrier
  NameTable suspends;    // suspend (a thread's name), resume
  NameTable semaphores;  // sem_post, sem_wait
  std::vector<ForkRef> forks;
  std::map<std::pair<std::string, std::string>, MemrunBuffer> memrun_refs;  // (ref, type)
  std::map<std::pair<int, int>, SourceLoc> barrier_uses;  // (task, barrier) -> first use
};

// What an event parser needs besides the field itself.
struct EventContext {
  Diagnostics* diag;
  Workload* workload;
  EventTables* tables;
  bool rtapp_1_0;              // LoadOptions::rtapp_1_0
  int task_index;              // index in Workload::tasks of the task being read
  std::string_view task_name;  // its name (rt-app's thread name)
  int task_instances;          // its "instance" (threads started with the workload)
};

struct EventSpec;

// The event that `key` names, or nullptr when the key is not an event.
const EventSpec* match_event(std::string_view key);

// rt-app's name of the event ("run", "lock", ...).
std::string_view event_name(const EventSpec& spec);

// The names of all events, for "did you mean" hints.
std::vector<std::string_view> event_names();

// Reads `f` as an event of kind `spec`; appends it to `out` when valid, reports errors otherwise.
void read_event(const EventSpec& spec, const Field& f, EventContext* ctx, std::vector<Event>* out);

// The checks that need every task: resolves "fork" targets to Workload::tasks indexes (an error
// for an unknown task; no message for a task that failed to load, named in `failed_tasks`), and
// warns where an object is used in a way that can only block (a resume nobody suspends for, a
// semaphore never posted, a condition variable never signalled, a barrier in a task only "fork"
// starts). `instance_pos` holds, per task, where "instance" was written (line 0: absent).
void finish_events(Workload* wl, EventTables* tables, const std::vector<std::string>& failed_tasks,
                   const std::vector<json::Position>& instance_pos, Diagnostics* diag);

// rt-app keeps the timer mode on the timer, not on each use: one use with "mode": "absolute"
// makes the timer absolute for every use (rt-app_parse_config.c: `relative = 0`, never set back).
// Applies that to every event of `wl` and warns where one timer is used with both modes.
void settle_timer_modes(Workload* wl, Diagnostics* diag);

// Warns where `events` (one iteration of a phase, in order) lock a mutex that an earlier event
// of the same iteration locked without unlocking it since: rt-app's mutexes are not recursive, so
// the thread deadlocks there. Unlocking a mutex not locked before is not reported here: rt-app
// allows locking in one phase and unlocking in another (the simulator checks it at run time).
void check_relocks(const std::vector<Event>& events, const Workload& wl, Diagnostics* diag);

}  // namespace proxysim::workload
