// ChromeJsonWriter: scheduler events -> Chrome JSON trace events (see chrome_json_writer.h and
// docs/trace.md "JSON trace").
#include "trace/chrome_json_writer.h"

#include <cerrno>
#include <cstring>
#include <iterator>

#include "util/json_string.h"

namespace proxysim {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

}  // namespace

Status ChromeJsonWriter::open(const std::string& path, std::unique_ptr<ChromeJsonWriter>* out) {
  if (path == "-") {
    out->reset(new ChromeJsonWriter(stdout, /*owned=*/false, "<stdout>"));
    return Status::ok();
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return Status::invalid(
        fmt::format("{}: cannot open JSON trace file for writing: {}", path, std::strerror(errno)));
  }
  out->reset(new ChromeJsonWriter(f, /*owned=*/true, path));
  return Status::ok();
}

ChromeJsonWriter::ChromeJsonWriter(std::FILE* out)
    : ChromeJsonWriter(out, /*owned=*/false, "<stream>") {}

ChromeJsonWriter::ChromeJsonWriter(std::FILE* out, bool owned, std::string name)
    : out_(out), owned_(owned), name_(std::move(name)) {}

ChromeJsonWriter::~ChromeJsonWriter() { close(); }

// ---- low-level output ----

void ChromeJsonWriter::put_str(std::string_view s) {
  append_json_string(buf_, s, /*script_safe=*/false);
}

// ns -> µs with three decimals: 1234567 -> 1234.567.
void ChromeJsonWriter::put_ts(Time ns) {
  if (ns < 0) {
    buf_.push_back('-');
    ns = -ns;
  }
  fmt::format_to(std::back_inserter(buf_), "{}.{:03}", ns / 1000, ns % 1000);
}

void ChromeJsonWriter::begin_event(char ph, std::string_view cat, std::string_view name, int pid,
                                   int tid, Time ts, Time dur) {
  if (!first_event_) buf_.push_back(',');
  first_event_ = false;
  fmt::format_to(std::back_inserter(buf_), "\n{{\"ph\":\"{}\",", ph);
  if (!cat.empty()) {
    fmt::format_to(std::back_inserter(buf_), "\"cat\":");
    put_str(cat);
    buf_.push_back(',');
  }
  fmt::format_to(std::back_inserter(buf_), "\"name\":");
  put_str(name);
  fmt::format_to(std::back_inserter(buf_), ",\"pid\":{},\"tid\":{},\"ts\":", pid, tid);
  put_ts(ts);
  if (dur >= 0) {
    fmt::format_to(std::back_inserter(buf_), ",\"dur\":");
    put_ts(dur);
  }
}

void ChromeJsonWriter::open_args() { fmt::format_to(std::back_inserter(buf_), ",\"args\":{{"); }

void ChromeJsonWriter::end_event() {
  fmt::format_to(std::back_inserter(buf_), "}}}}");
  if (buf_.size() >= kFlushBytes) flush_buffer();
}

void ChromeJsonWriter::flush_buffer() {
  if (buf_.size() == 0 || closed_) return;
  if (std::fwrite(buf_.data(), 1, buf_.size(), out_) != buf_.size() && io_status_.is_ok())
    io_status_ = Status::invalid(
        fmt::format("{}: cannot write JSON trace file: {}", name_, std::strerror(errno)));
  buf_.clear();
}

// A metadata event: {"ph":"M","name":what,"pid","tid","args":{key: value or number}}.
void ChromeJsonWriter::metadata(std::string_view what, int pid, int tid, std::string_view key,
                                std::string_view value, int64_t number) {
  if (!first_event_) buf_.push_back(',');
  first_event_ = false;
  fmt::format_to(std::back_inserter(buf_),
                 "\n{{\"ph\":\"M\",\"name\":\"{}\",\"pid\":{},\"tid\":{},"
                 "\"args\":{{\"{}\":",
                 what, pid, tid, key);
  if (value.data() != nullptr)
    put_str(value);
  else
    fmt::format_to(std::back_inserter(buf_), "{}", number);
  end_event();
}

void ChromeJsonWriter::counter(Time t, int pid, std::string_view name, int64_t value) {
  begin_event('C', "", name, pid, pid, t, -1);
  open_args();
  put_str(name);
  fmt::format_to(std::back_inserter(buf_), ":{}", value);
  end_event();
}

// ---- state ----

ChromeJsonWriter::TaskInfo& ChromeJsonWriter::task(const TaskRef& p) {
  size_t i = static_cast<size_t>(p.id);
  if (i >= tasks_.size()) tasks_.resize(i + 1);
  TaskInfo& ti = tasks_[i];
  ti.policy = p.policy;
  if (!ti.known) {
    ti.known = true;
    ti.pid = p.pid;
    ti.comm.assign(p.comm);
    metadata("process_name", p.pid, p.pid, "name", ti.comm, 0);
    metadata("process_sort_index", p.pid, p.pid, "sort_index", {}, p.id + 1);
    metadata("thread_name", p.pid, p.pid, "name", ti.comm, 0);
  }
  return ti;
}

ChromeJsonWriter::CpuSlice& ChromeJsonWriter::cpu_slice(int cpu) {
  size_t i = static_cast<size_t>(cpu < 0 ? 0 : cpu);
  while (cpus_.size() <= i) {
    int c = static_cast<int>(cpus_.size());
    cpus_.emplace_back();
    metadata("thread_name", kCpusPid, kCpuTidBase + c, "name", fmt::format("CPU {}", c), 0);
    metadata("thread_sort_index", kCpusPid, kCpuTidBase + c, "sort_index", {}, c);
  }
  return cpus_[i];
}

void ChromeJsonWriter::on_start(const RunInfo& info) {
  if (started_) return;
  started_ = true;
  fmt::format_to(std::back_inserter(buf_), "{{\"displayTimeUnit\":\"ns\",\"otherData\":{{");
  fmt::format_to(std::back_inserter(buf_), "\"generator\":\"proxysim\",\"protocol\":");
  put_str(info.protocol);
  fmt::format_to(std::back_inserter(buf_),
                 ",\"nr_cpus\":{},\"seed\":\"{}\",\"workload\":", info.nr_cpus, info.seed);
  put_str(info.workload_file);
  fmt::format_to(std::back_inserter(buf_), "}},\"traceEvents\":[");
  metadata("process_name", kCpusPid, 0, "name", "CPUs", 0);
  metadata("process_sort_index", kCpusPid, 0, "sort_index", {}, 0);
  if (info.nr_cpus > 0) cpu_slice(info.nr_cpus - 1);
}

void ChromeJsonWriter::on_task_new(Time t, const TaskRef& p) {
  if (p.id < 0) return;
  prio_counter(t, p, p.prio);
}

void ChromeJsonWriter::prio_counter(Time t, const TaskRef& p, int prio) {
  if (p.id < 0) return;
  TaskInfo& ti = task(p);
  if (ti.prio == prio) return;
  ti.prio = prio;
  counter(t, ti.pid, "prio", prio);
}

// ---- flows ----

void ChromeJsonWriter::settle_flows(std::vector<FlowEnd>& ends, Time start, Time end, int pid,
                                    int tid, bool written) {
  for (const FlowEnd& e : ends) {
    auto it = flows_.find(e.id);
    if (it == flows_.end()) continue;  // the other end's slice was dropped
    if (!written) {
      flows_.erase(it);
      continue;
    }
    Flow& f = it->second;
    int k = e.is_start ? 0 : 1;
    // Inside [start, end): a waking at the very instant the waker switches out binds to the
    // waker's slice 1 ns before its end.
    f.ts[k] = std::min(std::max(e.ts, start), end - 1);
    f.pid[k] = pid;
    f.tid[k] = tid;
    f.bound[k] = true;
    if (!f.bound[0] || !f.bound[1]) continue;
    std::string_view name = f.wakeup ? "wakeup" : "proxy";
    for (int j = 0; j < 2; ++j) {
      begin_event(j == 0 ? 's' : 'f', name, name, f.pid[j], f.tid[j], f.ts[j], -1);
      fmt::format_to(std::back_inserter(buf_), ",\"id\":{}{}}}", e.id,
                     j == 1 ? ",\"bp\":\"e\"" : "");
      if (buf_.size() >= kFlushBytes) flush_buffer();
    }
    flows_.erase(it);
  }
  ends.clear();
}

// ---- CPU and task slices ----

void ChromeJsonWriter::close_cpu(int cpu, Time t) {
  CpuSlice& cs = cpu_slice(cpu);
  if (cs.curr < 0) return;
  TaskInfo& curr = tasks_[static_cast<size_t>(cs.curr)];
  TaskInfo& donor = tasks_[static_cast<size_t>(cs.donor)];
  bool proxy = cs.donor != cs.curr;
  Time dur = t - cs.start;
  bool written = dur > 0;
  if (written) {
    // The CPU track.
    std::string name = proxy ? fmt::format("{} (proxy for {})", curr.comm, donor.comm) : curr.comm;
    begin_event('X', proxy ? "proxy" : "sched", name, kCpusPid, kCpuTidBase + cpu, cs.start, dur);
    open_args();
    fmt::format_to(std::back_inserter(buf_), "\"pid\":{},\"prio\":{},\"policy\":\"{}\"", curr.pid,
                   cs.prio, policy_name(cs.policy));
    if (proxy) {
      fmt::format_to(std::back_inserter(buf_), ",\"donor\":");
      put_str(donor.comm);
      fmt::format_to(std::back_inserter(buf_),
                     ",\"donor_pid\":{},\"donor_prio\":{},\"donor_policy\":\"{}\"", donor.pid,
                     cs.donor_prio, policy_name(cs.donor_policy));
    }
    end_event();
    // The curr's main track.
    std::string tname = proxy ? fmt::format("proxy for {}", donor.comm) : std::string("running");
    begin_event('X', proxy ? "proxy" : "sched", tname, curr.pid, curr.pid, cs.start, dur);
    open_args();
    fmt::format_to(std::back_inserter(buf_), "\"cpu\":{}", cpu);
    end_event();
    if (proxy) {
      begin_event('X', "donor", fmt::format("donor to {}", curr.comm), donor.pid, donor.pid,
                  cs.start, dur);
      open_args();
      fmt::format_to(std::back_inserter(buf_), "\"cpu\":{}", cpu);
      end_event();
    }
  }
  settle_flows(cs.cpu_ends, cs.start, t, kCpusPid, kCpuTidBase + cpu, written);
  settle_flows(cs.curr_ends, cs.start, t, curr.pid, curr.pid, written);
  settle_flows(cs.donor_ends, cs.start, t, donor.pid, donor.pid, written);
  cs.curr = cs.donor = -1;
}

void ChromeJsonWriter::on_sched_switch(Time t, int cpu, const TaskRef& prev, SwitchState,
                                       const TaskRef& next, const TaskRef& next_donor) {
  now_ = t;
  close_cpu(cpu, t);
  if (prev.id >= 0) {
    TaskInfo& ti = task(prev);
    if (ti.on_cpu == cpu) ti.on_cpu = -1;
    prio_counter(t, prev, prev.prio);
  }
  if (next.id < 0) return;
  CpuSlice& cs = cpu_slice(cpu);
  TaskInfo& ti = task(next);
  const TaskRef& donor = next_donor.id >= 0 ? next_donor : next;
  task(donor);
  prio_counter(t, next, next.prio);
  cs.curr = next.id;
  cs.donor = donor.id;
  cs.start = t;
  cs.prio = next.prio;
  cs.policy = next.policy;
  cs.donor_prio = donor.prio;
  cs.donor_policy = donor.policy;
  ti.on_cpu = cpu;
  if (ti.wake_flow != 0 && next.id != prev.id) {
    cs.cpu_ends.push_back(FlowEnd{ti.wake_flow, false, t});
    ti.wake_flow = 0;
  }
  if (donor.id != next.id) {
    uint64_t id = next_flow_++;
    flows_[id].wakeup = false;
    cs.donor_ends.push_back(FlowEnd{id, true, t});
    cs.cpu_ends.push_back(FlowEnd{id, false, t});
  }
}

void ChromeJsonWriter::on_sched_waking(Time t, int cpu, const TaskRef& p, int) {
  if (p.id < 0) return;
  TaskInfo& ti = task(p);
  // As in the metrics: a task still curr somewhere is not woken; the first waking counts.
  if (ti.on_cpu >= 0 || ti.wake_flow != 0) return;
  CpuSlice& cs = cpu_slice(cpu);
  if (cs.curr < 0) return;  // woken from an idle CPU (timer): no waker slice to start from
  uint64_t id = next_flow_++;
  flows_[id].wakeup = true;
  cs.cpu_ends.push_back(FlowEnd{id, true, t});
  ti.wake_flow = id;
}

void ChromeJsonWriter::on_sched_migrate(Time t, int, const TaskRef& p, int orig_cpu, int dest_cpu,
                                        MigrateReason reason) {
  if (p.id < 0) return;
  TaskInfo& ti = task(p);
  begin_event('i', "migrate", fmt::format("migrate {}", migrate_reason_name(reason)), ti.pid,
              ti.pid, t, -1);
  open_args();
  fmt::format_to(std::back_inserter(buf_), "\"from\":{},\"to\":{},\"reason\":\"{}\"", orig_cpu,
                 dest_cpu, migrate_reason_name(reason));
  buf_.push_back('}');
  fmt::format_to(std::back_inserter(buf_), ",\"s\":\"t\"}}");
  if (buf_.size() >= kFlushBytes) flush_buffer();
}

void ChromeJsonWriter::on_pi_setprio(Time t, int, const TaskRef& p, int, int newprio) {
  prio_counter(t, p, newprio);
}

void ChromeJsonWriter::on_sched_stat(Time t, int, const TaskRef& p, int64_t util_avg,
                                     Time dl_runtime_left) {
  if (p.id < 0) return;
  TaskInfo& ti = task(p);
  // The kernel keeps p->se.avg up to date for fair tasks only (RT and DL utilisation is tracked
  // per runqueue): other classes get no util_avg counter.
  if (is_fair_policy(p.policy) && ti.util != util_avg) {
    ti.util = util_avg;
    counter(t, ti.pid, "util_avg", util_avg);
  }
  if (p.policy == Policy::kDeadline && ti.dl_left != dl_runtime_left) {
    ti.dl_left = dl_runtime_left;
    counter(t, ti.pid, "dl_runtime_left_ns", dl_runtime_left);
  }
}

// ---- locks ----

ChromeJsonWriter::LockTrack& ChromeJsonWriter::lock_track(TaskInfo& ti, int lock,
                                                          std::string_view lock_name) {
  for (LockTrack& lt : ti.locks)
    if (lt.lock == lock) return lt;
  LockTrack lt;
  lt.lock = lock;
  lt.tid = next_lock_tid_++;
  lt.name.assign(lock_name);
  metadata("thread_name", ti.pid, lt.tid, "name", fmt::format("lock {}", lock_name), 0);
  metadata("thread_sort_index", ti.pid, lt.tid, "sort_index", {}, 1 + lock);
  ti.locks.push_back(lt);
  return ti.locks.back();
}

void ChromeJsonWriter::close_lock_slice(const TaskInfo& ti, const LockTrack& lt, bool waiting,
                                        Time since, Time t) {
  if (t <= since) return;
  begin_event('X', waiting ? "lock_wait" : "lock",
              fmt::format("{} {}", waiting ? "waits" : "holds", lt.name), ti.pid, lt.tid, since,
              t - since);
  open_args();
  fmt::format_to(std::back_inserter(buf_), "\"lock\":");
  put_str(lt.name);
  if (waiting) {
    fmt::format_to(std::back_inserter(buf_), ",\"owner\":");
    put_str(lt.owner);
  }
  end_event();
}

void ChromeJsonWriter::on_lock_contend(Time t, int, const TaskRef& p, int lock,
                                       std::string_view lock_name, const TaskRef& owner) {
  if (p.id < 0) return;
  TaskInfo& ti = task(p);
  // A wait for another lock (not produced by the model) ends there.
  for (LockTrack& other : ti.locks) {
    if (other.lock != lock && other.wait_since >= 0) {
      close_lock_slice(ti, other, true, other.wait_since, t);
      other.wait_since = -1;
    }
  }
  LockTrack& lt = lock_track(ti, lock, lock_name);
  if (lt.wait_since >= 0) return;  // still the same wait
  lt.wait_since = t;
  lt.owner.assign(owner.comm);
}

void ChromeJsonWriter::on_lock_acquire(Time t, int, const TaskRef& p, int lock,
                                       std::string_view lock_name) {
  if (p.id < 0) return;
  TaskInfo& ti = task(p);
  LockTrack& lt = lock_track(ti, lock, lock_name);
  if (lt.wait_since >= 0) {
    close_lock_slice(ti, lt, true, lt.wait_since, t);
    lt.wait_since = -1;
  }
  if (lt.hold_since < 0) lt.hold_since = t;
}

void ChromeJsonWriter::on_lock_release(Time t, int, const TaskRef& p, int lock,
                                       std::string_view lock_name) {
  if (p.id < 0) return;
  TaskInfo& ti = task(p);
  LockTrack& lt = lock_track(ti, lock, lock_name);
  if (lt.hold_since < 0) return;
  close_lock_slice(ti, lt, false, lt.hold_since, t);
  lt.hold_since = -1;
}

void ChromeJsonWriter::on_deadlock(Time t, std::string_view message) {
  begin_event('i', "deadlock", "deadlock", kCpusPid, kCpuTidBase, t, -1);
  open_args();
  fmt::format_to(std::back_inserter(buf_), "\"message\":");
  put_str(message);
  fmt::format_to(std::back_inserter(buf_), "}},\"s\":\"g\"}}");
  if (buf_.size() >= kFlushBytes) flush_buffer();
}

void ChromeJsonWriter::on_finish(Time t) {
  if (finished_) return;
  if (!started_) on_start(RunInfo{});
  for (size_t c = 0; c < cpus_.size(); ++c) close_cpu(static_cast<int>(c), t);
  for (TaskInfo& ti : tasks_) {
    for (LockTrack& lt : ti.locks) {
      // A wait on a lock the task holds (a deadlock) lies inside the hold: both end here.
      if (lt.wait_since >= 0) close_lock_slice(ti, lt, true, lt.wait_since, t);
      if (lt.hold_since >= 0) close_lock_slice(ti, lt, false, lt.hold_since, t);
      lt.wait_since = lt.hold_since = -1;
    }
  }
  flows_.clear();  // flows whose wakee never ran again
  finished_ = true;
  fmt::format_to(std::back_inserter(buf_), "\n]}}\n");
  flush_buffer();
}

Status ChromeJsonWriter::close() {
  if (closed_) return io_status_;
  if (!finished_) on_finish(now_);
  flush_buffer();
  if (std::fflush(out_) != 0 && io_status_.is_ok())
    io_status_ = Status::invalid(fmt::format("{}: cannot write JSON trace file", name_));
  if (owned_ && std::fclose(out_) != 0 && io_status_.is_ok())
    io_status_ = Status::invalid(fmt::format("{}: cannot close JSON trace file", name_));
  closed_ = true;
  out_ = nullptr;
  return io_status_;
}

}  // namespace proxysim
