// rt-app per-thread logs from the Activation events (see rtapp_logs.h, docs/rtapp-logs.md).
// Formats are rt-app HEAD's (src/rt-app.c thread_body(), src/rt-app_utils.c log_timing()).
#include "metrics/rtapp_logs.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace proxysim {

namespace {
constexpr size_t kFlushBytes = 1 << 16;

// A thread name as a file-name component: rt-app would create a sub-directory for a '/'.
std::string file_component(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (c == '/') c = '_';
  return s;
}
}  // namespace

Status RtappLogWriter::open(const std::string& dir, const Workload& w,
                            std::unique_ptr<RtappLogWriter>* out) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Status::invalid(
        fmt::format("--rtapp-logs {}: cannot create the directory: {}", dir, ec.message()));
  if (!std::filesystem::is_directory(dir, ec))
    return Status::invalid(fmt::format("--rtapp-logs {}: not a directory", dir));
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return Status::invalid(
        fmt::format("--rtapp-logs {}: cannot write there: {}", dir, std::strerror(errno)));
  *out = std::make_unique<RtappLogWriter>(dir, w);
  return Status::ok();
}

RtappLogWriter::RtappLogWriter(std::string dir, const Workload& w) : dir_(std::move(dir)), w_(w) {}

std::string RtappLogWriter::header() {
  // fprintf("%s %8s %8s %8s %15s %15s %15s %10s %10s %10s %10s\n", "#idx", "perf", ...)
  return fmt::format("{} {:>8} {:>8} {:>8} {:>15} {:>15} {:>15} {:>10} {:>10} {:>10} {:>10}\n",
                     "#idx", "perf", "run", "period", "start", "end", "rel_st", "slack",
                     "c_duration", "c_period", "wu_lat");
}

std::string RtappLogWriter::format_line(const RtappLogLine& l) {
  // log_timing(): "%4d %8lu %8lu %8lu %15llu %15llu %15llu %10ld %10lu %10lu %10lu"
  return fmt::format("{:4} {:8} {:8} {:8} {:15} {:15} {:15} {:10} {:10} {:10} {:10}\n", l.idx,
                     l.perf, l.run, l.period, l.start, l.end, l.rel_st, l.slack, l.c_duration,
                     l.c_period, l.wu_lat);
}

int64_t RtappLogWriter::to_us(int64_t ns) {
  return ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000);
}

std::string RtappLogWriter::path_of(int id) const {
  if (id < 0 || id >= static_cast<int>(tasks_.size()) || !tasks_[id].known) return "";
  return tasks_[id].path;
}

RtappLogWriter::TaskLog* RtappLogWriter::task(int id) {
  if (id < 0 || id >= static_cast<int>(tasks_.size()) || !tasks_[id].known) return nullptr;
  return &tasks_[id];
}

void RtappLogWriter::on_task_new(Time, const TaskRef& p) {
  if (p.id < 0) return;
  if (p.id >= static_cast<int>(tasks_.size())) tasks_.resize(p.id + 1);
  TaskLog& t = tasks_[p.id];
  // The model names threads as rt-app HEAD does, <task>-<index> or <task>-<index>-<nnnn> for
  // forks: the task is the longest spec name followed by such a suffix.
  std::string name(p.name.empty() ? p.comm : p.name);
  auto digits = [](std::string_view d) {
    return !d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos;
  };
  for (const TaskSpec& spec : w_.tasks) {
    if (name.size() <= spec.name.size() + 1 || name.compare(0, spec.name.size(), spec.name) != 0 ||
        name[spec.name.size()] != '-')
      continue;
    std::string_view rest = std::string_view(name).substr(spec.name.size() + 1);
    size_t dash = rest.find('-');
    bool ok = dash == std::string_view::npos
                  ? digits(rest)
                  : digits(rest.substr(0, dash)) && digits(rest.substr(dash + 1));
    if (ok && (!t.spec || spec.name.size() > t.spec->name.size())) t.spec = &spec;
  }
  if (!t.spec) return;  // not an rt-app thread of this workload
  t.known = true;
  t.path = fmt::format("{}/{}-{}.log", dir_, kBasename, file_component(name));
  t.buf = header();
}

void RtappLogWriter::on_sched_switch(Time t, int, const TaskRef& prev, SwitchState prev_state,
                                     const TaskRef& next, const TaskRef&) {
  if (TaskLog* p = task(prev.id)) {
    if (p->running_since >= 0) p->cpu_acc += t - p->running_since;
    p->running_since = -1;
    if (p->pending && p->wait == Wait::kAwaitSleep &&
        (prev_state == SwitchState::kSleeping || prev_state == SwitchState::kUninterruptible))
      p->wait = Wait::kSleeping;
  }
  if (TaskLog* n = task(next.id)) {
    n->running_since = t;
    if (n->pending && n->wait == Wait::kSleeping) {
      // Back from the trailing wait: the next iteration starts here.
      n->wait = Wait::kWoke;
      n->woke_at = t;
      n->run_base = n->cpu_acc;
    }
  }
}

void RtappLogWriter::complete(int id, TaskLog* t, Time end_rt, Time next_start) {
  const Activation& a = t->pending->a;
  const Phase& ph = t->spec->phases[static_cast<size_t>(a.phase)];
  Time c_duration = 0, c_period = 0;
  for (const Event& e : ph.events) {
    if (e.kind == EventKind::kRun || e.kind == EventKind::kRuntime) c_duration += e.duration;
    if (e.kind == EventKind::kTimer) c_period += e.duration;
  }
  const Time start_rt = a.start + a.wu_lat;  // the iteration's first event began
  Time slack = 0, wu_lat = 0;
  if (!ph.events.empty() && ph.events.back().kind == EventKind::kTimer) {
    // rt-app: slack = t_next - (time the timer event is reached); wu_lat = wakeup - t_next when
    // it slept, 0 when t_next had already passed.
    Time t_next;
    if (!t->pending->deadline_policy && a.deadline != kTimeNever)
      t_next = a.deadline;  // the model passes the timer's expiry as the activation's deadline
    else if (next_start > a.end)
      t_next = next_start;  // it slept until t_next: the next release
    else
      t_next = a.start + ph.events.back().duration;
    slack = t_next - a.end;
    if (a.end < t_next && end_rt > t_next) wu_lat = end_rt - t_next;
  }
  RtappLogLine l;
  l.idx = id;
  l.perf = to_us(c_duration);
  l.run = to_us(t->pending->run);
  l.period = to_us(end_rt - start_rt);
  l.start = to_us(start_rt);
  l.end = to_us(end_rt);
  l.rel_st = to_us(start_rt);
  l.slack = to_us(slack);
  l.c_duration = to_us(c_duration);
  l.c_period = to_us(c_period);
  l.wu_lat = to_us(wu_lat);
  t->buf += format_line(l);
  t->pending.reset();
  t->wait = Wait::kNone;
  if (t->buf.size() >= kFlushBytes) flush(t);
}

void RtappLogWriter::on_activation(const TaskRef& p, const Activation& a) {
  TaskLog* t = task(p.id);
  if (!t || a.phase < 0 || a.phase >= static_cast<int>(t->spec->phases.size())) return;
  // The previous iteration ended when this one began (rt-app takes t_end, then t_start).
  if (t->pending) complete(p.id, t, a.start + a.wu_lat, a.start);
  // The task is curr now, at a.end.
  const Time cpu = t->cpu_acc + (t->running_since >= 0 ? a.end - t->running_since : 0);
  t->pending = Pending{a, p.policy == Policy::kDeadline, cpu - t->run_base};
  t->run_base = cpu;
  t->wait = Wait::kAwaitSleep;
}

void RtappLogWriter::on_process_exit(Time time, int, const TaskRef& p) {
  // The thread exits as soon as its last event returns: that is the iteration's end.
  if (TaskLog* t = task(p.id); t && t->pending) complete(p.id, t, time, -1);
}

void RtappLogWriter::on_finish(Time) {
  for (size_t id = 0; id < tasks_.size(); ++id) {
    TaskLog* t = task(static_cast<int>(id));
    if (!t || !t->pending) continue;
    const Activation& a = t->pending->a;
    const Phase& ph = t->spec->phases[static_cast<size_t>(a.phase)];
    const EventKind last = ph.events.empty() ? EventKind::kRun : ph.events.back().kind;
    if (last != EventKind::kSleep && last != EventKind::kTimer) {
      complete(static_cast<int>(id), t, a.end, -1);  // its last event had returned
    } else if (t->wait == Wait::kWoke) {
      complete(static_cast<int>(id), t, t->woke_at, -1);  // woke from the wait and ran
    } else if (t->wait == Wait::kAwaitSleep && last == EventKind::kTimer) {
      // Never slept after the activation: the timer had expired already (an overrun), so the
      // timer event returned at once. Otherwise the switch-out is simply not seen yet.
      Time t_next = !t->pending->deadline_policy && a.deadline != kTimeNever
                        ? a.deadline
                        : a.start + ph.events.back().duration;
      if (a.end >= t_next) complete(static_cast<int>(id), t, a.end, -1);
    }
    // Still in its trailing wait: rt-app cancels the thread there and logs nothing.
    t->pending.reset();
  }
  for (TaskLog& t : tasks_)
    if (t.known) flush(&t);
}

void RtappLogWriter::flush(TaskLog* t) {
  if (t->buf.empty() && t->written) return;
  std::FILE* f = std::fopen(t->path.c_str(), t->written ? "ab" : "wb");
  if (!f) {
    if (io_status_.is_ok())
      io_status_ =
          Status::invalid(fmt::format("cannot write {}: {}", t->path, std::strerror(errno)));
    t->buf.clear();
    return;
  }
  t->written = true;
  size_t n = std::fwrite(t->buf.data(), 1, t->buf.size(), f);
  bool ok = n == t->buf.size();
  if (std::fclose(f) != 0) ok = false;
  if (!ok && io_status_.is_ok())
    io_status_ = Status::invalid(fmt::format("cannot write {}: {}", t->path, std::strerror(errno)));
  t->buf.clear();
}

Status RtappLogWriter::close() {
  if (!closed_) {
    closed_ = true;
    for (TaskLog& t : tasks_)
      if (t.known) flush(&t);
  }
  return io_status_;
}

}  // namespace proxysim
