// rt-app events: which keys of a phase are events, and how each becomes an Event.
//
// rt-app decides that a key is an event when one of its event names is a prefix of the key
// (strncmp), so "run1", "sleep_long", "timer0" and "lock_a" are events. Its list (HEAD
// rt-app_parse_config.c `events[]`) puts "runtime" before "run" and "memrun" before "mem"; no
// other name is a prefix of another ("unlock1" does not start with "lock"). New events slot in as
// rows of kEvents in events.cc.
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

// Gives each mutex name its Workload::mutexes index, registering names in order of first use.
// rt-app keeps one mutex per name for the whole file (get_resource_index: same name, same type),
// whether it is declared in "resources" or only named by lock/unlock events.
class MutexTable {
 public:
  int index(const std::string& name, Workload* wl);

 private:
  std::map<std::string, int> index_;
};

// What an event parser needs besides the field itself.
struct EventContext {
  Diagnostics* diag;
  Workload* workload;
  TimerTable* timers;
  MutexTable* mutexes;
  int task_index;  // index in Workload::tasks of the task being read
};

struct EventSpec;

// The event that `key` names, or nullptr when the key is not an event.
const EventSpec* match_event(std::string_view key);

// rt-app's name of the event ("run", "lock", ...).
std::string_view event_name(const EventSpec& spec);

// Reads `f` as an event of kind `spec`; appends it to `out` when valid, reports errors otherwise
// (including "not simulated yet" for events of the later grammar).
void read_event(const EventSpec& spec, const Field& f, EventContext* ctx, std::vector<Event>* out);

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
