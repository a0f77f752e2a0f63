// ChromeJsonWriter: an Observer that writes the Chrome JSON trace event format (the "Trace Event
// Format" that chrome://tracing, ui.perfetto.dev and speedscope open), `--trace-json FILE`.
//
//   {"displayTimeUnit":"ns","otherData":{...run...},"traceEvents":[
//   {"ph":"M","name":"process_name","pid":1,"tid":0,"args":{"name":"CPUs"}},
//   {"ph":"X","cat":"sched","name":"low","pid":1,"tid":1000000000,"ts":2.000,"dur":8.000,...},
//   ...]}
//
// Times are in µs (the format's unit) with three decimals, so that every ns survives.
// Tracks (docs/trace.md "JSON trace"):
//  - process "CPUs" (pid kCpusPid), one thread per CPU (tid kCpuTidBase + cpu): an `X` slice per
//    interval during which a task was curr, named after it, or "owner (proxy for donor)" with
//    category "proxy" while it runs on another task's scheduling context;
//  - one process per task (pid = the task's pid, named after it): on its main thread
//    (tid = pid) "running" / "proxy for <donor>" slices while it is curr, "donor to <owner>"
//    while its context runs another task, `i` instants "migrate <reason>"; one thread per lock
//    it used (tid kLockTidBase + n) with "waits <lock>" and "holds <lock>" slices; counters
//    (`C`) "prio" (effective priority), "util_avg" (PELT, fair tasks) and, for DEADLINE tasks,
//    "dl_runtime_left_ns";
//  - flow events (`s`, `f` with "bp":"e") from the waker's CPU slice at sched_waking to the
//    wakee's next CPU slice ("wakeup"), and from a donor's "donor to" slice to the CPU slice of
//    the task running on its context ("proxy").
//
// Invariants:
//  1. Slices on one track never partially overlap: CPU slices and a task's main-track slices
//     follow the CPU's curr/donor intervals, which are disjoint per CPU and per task; a lock
//     track holds one wait and one hold at a time (a wait on a lock already held, a deadlock,
//     stays open to the end, inside the hold). Zero-length slices are not written.
//  2. An `X` slice is written when it ends, so per track slices appear in begin order.
//  3. A flow is written (its `s` then its `f`) only once both enclosing slices are written, and
//     never when one of them is dropped (zero length) or never ends: every `s` has its `f`,
//     and each lies inside its enclosing slice.
//  4. cpus_[c] describes the interval open on CPU c since its last sched_switch.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxysim/observer.h"
#include "proxysim/status.h"

namespace proxysim {

class ChromeJsonWriter : public Observer {
 public:
  static constexpr int kCpusPid = 1;               // the "CPUs" process (task pids start at 1000)
  static constexpr int kCpuTidBase = 1000000000;   // tid of CPU c's track: kCpuTidBase + c
  static constexpr int kLockTidBase = 1500000000;  // lock tracks: kLockTidBase + n, n = 0, 1, ..

  // Opens `path` for writing ("-" means stdout) and returns a writer that owns the file.
  static Status open(const std::string& path, std::unique_ptr<ChromeJsonWriter>* out);
  // Writes to `out`, which the caller keeps open until close() or destruction.
  explicit ChromeJsonWriter(std::FILE* out);
  ~ChromeJsonWriter() override;
  ChromeJsonWriter(const ChromeJsonWriter&) = delete;
  ChromeJsonWriter& operator=(const ChromeJsonWriter&) = delete;

  void on_start(const RunInfo& info) override;
  void on_task_new(Time t, const TaskRef& p) override;
  void on_sched_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                       const TaskRef& next, const TaskRef& next_donor) override;
  void on_sched_waking(Time t, int cpu, const TaskRef& p, int target_cpu) override;
  void on_sched_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu,
                        MigrateReason reason) override;
  void on_lock_contend(Time t, int cpu, const TaskRef& p, int lock, std::string_view lock_name,
                       const TaskRef& owner) override;
  void on_lock_acquire(Time t, int cpu, const TaskRef& p, int lock,
                       std::string_view lock_name) override;
  void on_lock_release(Time t, int cpu, const TaskRef& p, int lock,
                       std::string_view lock_name) override;
  void on_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) override;
  bool wants_sched_stat() const override { return true; }
  void on_sched_stat(Time t, int cpu, const TaskRef& p, int64_t util_avg,
                     Time dl_runtime_left) override;
  void on_deadlock(Time t, std::string_view message) override;
  // Ends every open slice at `t` and writes the end of the document (idempotent).
  void on_finish(Time t) override;

  // Flushes and closes the file if this writer opened it. Returns the first I/O error met,
  // naming the file. Idempotent.
  Status close();

 private:
  // One end of a flow, attached to the slice that encloses it.
  struct FlowEnd {
    uint64_t id = 0;
    bool is_start = false;
    Time ts = 0;
  };
  struct Flow {
    bool wakeup = true;  // "wakeup" flow, else "proxy"
    Time ts[2] = {0, 0};
    int pid[2] = {0, 0};
    int tid[2] = {0, 0};
    bool bound[2] = {false, false};  // [0] the `s`, [1] the `f` end's slice was written
  };
  struct LockTrack {
    int lock = -1;
    int tid = 0;
    std::string name;      // the lock's name
    Time wait_since = -1;  // open "waits" slice, or -1
    Time hold_since = -1;  // open "holds" slice, or -1
    std::string owner;     // owner named by the contend that opened the wait
  };
  struct TaskInfo {
    bool known = false;
    int pid = 0;
    std::string comm;
    Policy policy = Policy::kNormal;
    int on_cpu = -1;         // CPU where it is curr, or -1
    uint64_t wake_flow = 0;  // flow waiting for its next switch-in, or 0
    int prio = INT32_MIN;    // last "prio" counter value written
    int64_t util = -1;       // last "util_avg" written
    Time dl_left = -1;       // last "dl_runtime_left_ns" written
    std::vector<LockTrack> locks;
  };
  struct CpuSlice {
    int curr = -1;  // task id, -1 when idle (no slice open)
    int donor = -1;
    Time start = 0;
    int prio = 0, donor_prio = 0;
    Policy policy = Policy::kNormal, donor_policy = Policy::kNormal;
    std::vector<FlowEnd> cpu_ends, curr_ends, donor_ends;  // flows in the three slices
  };

  ChromeJsonWriter(std::FILE* out, bool owned, std::string name);
  TaskInfo& task(const TaskRef& p);
  CpuSlice& cpu_slice(int cpu);
  void metadata(std::string_view what, int pid, int tid, std::string_view key,
                std::string_view value, int64_t number);
  // `{"ph":"X",...,"ts":..[,"dur":..]`; `dur` < 0 leaves dur out. The caller continues with
  // open_args(), its args and end_event(), or with its own fields and `}`.
  void begin_event(char ph, std::string_view cat, std::string_view name, int pid, int tid, Time ts,
                   Time dur);
  void open_args();  // `,"args":{`
  void end_event();  // `}}` (args, event), then flushes the buffer when it is large
  void close_cpu(int cpu, Time t);
  // Marks the flow ends of a slice [start, end) written (dur > 0) or dropped.
  void settle_flows(std::vector<FlowEnd>& ends, Time start, Time end, int pid, int tid,
                    bool written);
  LockTrack& lock_track(TaskInfo& ti, int lock, std::string_view lock_name);
  void close_lock_slice(const TaskInfo& ti, const LockTrack& lt, bool waiting, Time since, Time t);
  void counter(Time t, int pid, std::string_view name, int64_t value);
  void prio_counter(Time t, const TaskRef& p, int prio);
  void put_str(std::string_view s);
  void put_ts(Time ns);
  void flush_buffer();

  std::FILE* out_ = nullptr;
  bool owned_ = false;
  std::string name_;
  bool started_ = false;
  bool finished_ = false;
  bool closed_ = false;
  bool first_event_ = true;
  Time now_ = 0;  // time of the latest sched_switch (where close() ends a run without on_finish)
  int next_lock_tid_ = kLockTidBase;
  uint64_t next_flow_ = 1;
  std::vector<TaskInfo> tasks_;               // indexed by task id
  std::vector<CpuSlice> cpus_;                // indexed by CPU
  std::unordered_map<uint64_t, Flow> flows_;  // pending flows (looked up, never iterated)
  fmt::memory_buffer buf_;
  Status io_status_;
};

}  // namespace proxysim
