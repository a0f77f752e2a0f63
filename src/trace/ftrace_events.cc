#include "trace/ftrace_events.h"

#include <fmt/compile.h>

#include <algorithm>
#include <iterator>

namespace proxysim {

FtraceEvents::FtraceEvents() { cur_.resize(1); }

void FtraceEvents::ensure_cpu(int cpu) {
  if (cpu >= 0 && static_cast<size_t>(cpu) >= cur_.size()) {
    cur_.resize(static_cast<size_t>(cpu) + 1);
  }
}

void FtraceEvents::on_start(const RunInfo& info) {
  nr_cpus_ = info.nr_cpus;
  ensure_cpu(nr_cpus_ - 1);
}

void FtraceEvents::on_sched_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                                   const TaskRef& next, const TaskRef& next_donor) {
  cpu = cpu_index(cpu);
  ensure_cpu(cpu);
  Current& c = cur_[static_cast<size_t>(cpu)];
  // The donor of the "proxy for" slice next gets: -1 when next runs on its own context.
  int donor =
      !is_idle(next) && !is_idle(next_donor) && next_donor.id != next.id ? next_donor.id : -1;
  if (prev.id == next.id) {
    // Only the donor changed (proxy execution picked the same curr): like __schedule() with
    // prev == next, the kernel traces nothing; only the "proxy for" slice follows the donor.
    if (donor == c.donor) return;
    end_proxy_slice(t, cpu);
  } else {
    // The event fires in prev's context: prev is current. Its "proxy for" slice ends first.
    c.comm = is_idle(prev) ? std::string_view("<idle>") : comm15(prev.comm);
    c.pid = is_idle(prev) ? 0 : prev.pid;
    end_proxy_slice(t, cpu);
    emit_switch(t, cpu, prev, prev_state, next);
  }
  c.comm = is_idle(next) ? std::string_view("<idle>") : comm15(next.comm);
  c.pid = is_idle(next) ? 0 : next.pid;
  if (donor >= 0) {
    fmt::format_to(std::back_inserter(payload_), FMT_COMPILE("B|{}|proxy for "), next.pid);
    put_text(comm15(next_donor.comm), /*field=*/false);
    marker(t, cpu);
    c.slice_pid = next.pid;
    c.donor = donor;
  }
}

void FtraceEvents::end_proxy_slice(Time t, int cpu) {
  Current& c = cur_[static_cast<size_t>(cpu)];
  if (c.slice_pid < 0) return;
  fmt::format_to(std::back_inserter(payload_), FMT_COMPILE("E|{}"), c.slice_pid);
  marker(t, cpu);
  c.slice_pid = -1;
  c.donor = -1;
}

void FtraceEvents::on_sched_waking(Time t, int cpu, const TaskRef& p, int target_cpu) {
  cpu = cpu_index(cpu);
  ensure_cpu(cpu);
  emit_waking(t, cpu, p, target_cpu);
}

void FtraceEvents::on_sched_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) {
  cpu = cpu_index(cpu);
  ensure_cpu(cpu);
  emit_wakeup(t, cpu, p, target_cpu, is_new);
}

void FtraceEvents::on_sched_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu,
                                    MigrateReason /*reason*/) {
  cpu = cpu_index(cpu);
  ensure_cpu(cpu);
  emit_migrate(t, cpu, p, orig_cpu, dest_cpu);
}

void FtraceEvents::on_process_exit(Time t, int cpu, const TaskRef& p) {
  cpu = cpu_index(cpu);
  ensure_cpu(cpu);
  emit_exit(t, cpu, p);
}

void FtraceEvents::write_marker(Time t, int cpu, std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  put_text(text, /*field=*/false);
  marker(t, cpu);
}

void FtraceEvents::marker(Time t, int cpu) {
  cpu = cpu_index(cpu);
  ensure_cpu(cpu);
  emit_marker(t, cpu, std::string_view(payload_.data(), payload_.size()));
  payload_.clear();
}

void FtraceEvents::put_text(std::string_view s, bool field) {
  for (char ch : s) {
    if (ch == '\n' || ch == '\r') ch = ' ';
    if (field && ch == '|') ch = '_';
    payload_.push_back(ch);
  }
}

int64_t FtraceEvents::lock_cookie(int pid, int lock, bool waiting) {
  return static_cast<int64_t>(static_cast<uint64_t>(static_cast<uint32_t>(pid)) << 32) +
         2 * static_cast<int64_t>(lock) + (waiting ? 1 : 0);
}

FtraceEvents::TaskLocks* FtraceEvents::task_locks(const TaskRef& p) {
  if (is_idle(p)) return nullptr;
  size_t i = static_cast<size_t>(p.id);
  if (i >= locks_.size()) locks_.resize(i + 1);
  locks_[i].pid = p.pid;
  return &locks_[i];
}

void FtraceEvents::note_lock_name(int lock, std::string_view name) {
  size_t i = static_cast<size_t>(lock);
  if (i >= lock_names_.size()) lock_names_.resize(i + 1);
  if (lock_names_[i] != name) lock_names_[i].assign(name);
}

void FtraceEvents::lock_slice(Time t, int cpu, char phase, int pid, int lock, bool waiting) {
  auto it = std::back_inserter(payload_);
  fmt::format_to(it, FMT_COMPILE("{}|{}|{} "), phase, pid, waiting ? "waits" : "holds");
  const std::string& name = lock_names_[static_cast<size_t>(lock)];
  if (name.empty()) {
    fmt::format_to(it, FMT_COMPILE("lock{}"), lock);
  } else {
    put_text(name, /*field=*/true);
  }
  fmt::format_to(it, FMT_COMPILE("|{}"), lock_cookie(pid, lock, waiting));
  marker(t, cpu);
}

void FtraceEvents::on_lock_contend(Time t, int cpu, const TaskRef& p, int lock,
                                   std::string_view lock_name, const TaskRef& /*owner*/) {
  TaskLocks* tl = task_locks(p);
  if (tl == nullptr || lock < 0) return;
  note_lock_name(lock, lock_name);
  if (tl->waiting == lock) return;  // still waiting (e.g. woken, lock stolen, waits again)
  if (tl->waiting >= 0) lock_slice(t, cpu, 'F', tl->pid, tl->waiting, /*waiting=*/true);
  tl->waiting = lock;
  lock_slice(t, cpu, 'S', tl->pid, lock, /*waiting=*/true);
}

void FtraceEvents::on_lock_acquire(Time t, int cpu, const TaskRef& p, int lock,
                                   std::string_view lock_name) {
  TaskLocks* tl = task_locks(p);
  if (tl == nullptr || lock < 0) return;
  note_lock_name(lock, lock_name);
  if (tl->waiting == lock) {
    lock_slice(t, cpu, 'F', tl->pid, lock, /*waiting=*/true);
    tl->waiting = -1;
  }
  if (std::find(tl->holds.begin(), tl->holds.end(), lock) != tl->holds.end()) return;
  tl->holds.push_back(lock);
  lock_slice(t, cpu, 'S', tl->pid, lock, /*waiting=*/false);
}

void FtraceEvents::on_lock_release(Time t, int cpu, const TaskRef& p, int lock,
                                   std::string_view lock_name) {
  TaskLocks* tl = task_locks(p);
  if (tl == nullptr || lock < 0) return;
  note_lock_name(lock, lock_name);
  auto it = std::find(tl->holds.begin(), tl->holds.end(), lock);
  if (it == tl->holds.end()) return;
  tl->holds.erase(it);
  lock_slice(t, cpu, 'F', tl->pid, lock, /*waiting=*/false);
}

void FtraceEvents::on_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) {
  cpu = cpu_index(cpu);
  ensure_cpu(cpu);
  emit_pi_setprio(t, cpu, p, oldprio, newprio);
  fmt::format_to(std::back_inserter(payload_), FMT_COMPILE("C|{}|prio|{}"), p.pid, newprio);
  marker(t, cpu);
}

void FtraceEvents::on_proxy(Time t, int cpu, ProxyAction action, const TaskRef& donor,
                            const TaskRef& task, int from_cpu, int to_cpu) {
  auto it = std::back_inserter(payload_);
  fmt::format_to(it, FMT_COMPILE("proxysim: action={} donor="), proxy_action_name(action));
  put_text(comm15(donor.comm), /*field=*/false);
  fmt::format_to(it, FMT_COMPILE("-{} task="), donor.pid);
  put_text(comm15(task.comm), /*field=*/false);
  fmt::format_to(it, FMT_COMPILE("-{} from_cpu={} to_cpu={}"), task.pid, from_cpu, to_cpu);
  marker(t, cpu);
}

void FtraceEvents::on_deadlock(Time t, std::string_view message) {
  fmt::format_to(std::back_inserter(payload_), FMT_COMPILE("proxysim: deadlock "));
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.remove_suffix(1);
  }
  put_text(message, /*field=*/false);
  marker(t, 0);
}

void FtraceEvents::on_finish(Time t) {
  // Close what is still open, in a fixed order: proxy slices by CPU, then each task's wait and
  // holds (by task id; holds in acquisition order), on CPU 0.
  for (size_t cpu = 0; cpu < cur_.size(); ++cpu) end_proxy_slice(t, static_cast<int>(cpu));
  for (TaskLocks& tl : locks_) {
    if (tl.waiting >= 0) lock_slice(t, 0, 'F', tl.pid, tl.waiting, /*waiting=*/true);
    tl.waiting = -1;
    for (int lock : tl.holds) lock_slice(t, 0, 'F', tl.pid, lock, /*waiting=*/false);
    tl.holds.clear();
  }
}

}  // namespace proxysim
