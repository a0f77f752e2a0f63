// trace.dat (trace-cmd's binary format) through Debian's libtracecmd read API: tracecmd_open(),
// tracecmd_iterate_events() (records of all CPUs merged in time order) and libtraceevent to
// decode the fields with the event formats stored in the file.
#include <event-parse.h>
#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <cstring>

#include "analyze/trace_reader.h"

// Debian's trace-cmd.h includes tracefs.h, which does not compile as C++ (an int passed as an
// enum); these are the read API's prototypes as trace-cmd.h (libtracecmd 3.1) declares them.
extern "C" {
struct tracecmd_input;
enum { TRACECMD_FL_LOAD_NO_PLUGINS = 1 << 0 };
struct tracecmd_input* tracecmd_open(const char* file, int flags);
void tracecmd_close(struct tracecmd_input* handle);
struct tep_handle* tracecmd_get_tep(struct tracecmd_input* handle);
int tracecmd_iterate_events(struct tracecmd_input* handle, cpu_set_t* cpus, int cpu_size,
                            int (*callback)(struct tracecmd_input* handle, struct tep_record*, int,
                                            void*),
                            void* callback_data);
void tracecmd_set_loglevel(enum tep_loglevel level);
int tracecmd_buffer_instances(struct tracecmd_input* handle);
struct tracecmd_input* tracecmd_buffer_instance_handle(struct tracecmd_input* handle, int indx);
}

namespace proxysim {
namespace {

struct Ctx {
  tep_handle* tep = nullptr;
  TraceData* out = nullptr;
  int max_cpu = -1;
  trace_seq seq;
};

int64_t num(tep_event* ev, tep_record* rec, const char* name, bool* ok) {
  tep_format_field* f = tep_find_field(ev, name);
  unsigned long long v = 0;
  if (f == nullptr || tep_read_number_field(f, rec->data, &v) != 0) {
    *ok = false;
    return 0;
  }
  // Sign-extend signed fields of 4 bytes (pids, prios, CPUs).
  if (f->size == 4 && (f->flags & TEP_FIELD_IS_SIGNED)) return static_cast<int32_t>(v);
  return static_cast<int64_t>(v);
}

std::string str(Ctx& c, tep_event* ev, tep_record* rec, const char* name, bool* ok) {
  tep_format_field* f = tep_find_field(ev, name);
  if (f == nullptr) {
    *ok = false;
    return {};
  }
  int len = 0;
  const char* p =
      static_cast<const char*>(tep_get_field_raw(&c.seq, ev, name, rec, &len, /*err=*/0));
  if (p == nullptr || len < 0) {
    *ok = false;
    return {};
  }
  // A flexible array ("char buf[]" of print) has size 0: it runs to the end of the record.
  if (f->size == 0 && !(f->flags & TEP_FIELD_IS_DYNAMIC) && rec->size > f->offset)
    len = rec->size - f->offset;
  return std::string(p, strnlen(p, static_cast<size_t>(len)));
}

int on_record(tracecmd_input*, tep_record* rec, int cpu, void* data) {
  Ctx& c = *static_cast<Ctx*>(data);
  if (rec->missed_events > 0) c.out->lost_events += rec->missed_events;
  if (rec->missed_events < 0) ++c.out->lost_events;  // "events lost, count unknown"
  tep_event* ev = tep_find_event_by_record(c.tep, rec);
  if (ev == nullptr) {
    if (c.out->malformed++ == 0)
      c.out->first_malformed = fmt::format("record at offset {}: unknown event id", rec->offset);
    return 0;
  }
  RawEvent e;
  e.t = static_cast<Time>(rec->ts);
  e.cpu = cpu;
  c.max_cpu = std::max(c.max_cpu, cpu);
  e.ctx_pid = tep_data_pid(c.tep, rec);
  const char* comm = tep_data_comm_from_pid(c.tep, e.ctx_pid);
  e.ctx_comm = e.ctx_pid == 0 ? "<idle>" : (comm ? comm : "<...>");
  unsigned long long flags = 0;
  if (tep_get_common_field_val(nullptr, ev, "common_flags", rec, &flags, 0) == 0)
    e.hardirq = (flags & 0x08) != 0;  // TRACE_FLAG_HARDIRQ
  e.name = ev->name ? ev->name : "";
  bool ok = true;
  std::string_view sys = ev->system ? ev->system : "";
  if (sys == "sched" && e.name == "sched_switch") {
    e.kind = RawEvent::kSwitch;
    e.prev_comm = str(c, ev, rec, "prev_comm", &ok);
    e.prev_pid = static_cast<int>(num(ev, rec, "prev_pid", &ok));
    e.prev_prio = static_cast<int>(num(ev, rec, "prev_prio", &ok));
    e.prev_state = prev_state_letters(num(ev, rec, "prev_state", &ok));
    e.next_comm = str(c, ev, rec, "next_comm", &ok);
    e.next_pid = static_cast<int>(num(ev, rec, "next_pid", &ok));
    e.next_prio = static_cast<int>(num(ev, rec, "next_prio", &ok));
  } else if (sys == "sched" && (e.name == "sched_waking" || e.name == "sched_wakeup" ||
                                e.name == "sched_wakeup_new")) {
    e.kind = e.name == "sched_waking"   ? RawEvent::kWaking
             : e.name == "sched_wakeup" ? RawEvent::kWakeup
                                        : RawEvent::kWakeupNew;
    e.prev_comm = str(c, ev, rec, "comm", &ok);
    e.prev_pid = static_cast<int>(num(ev, rec, "pid", &ok));
    e.prev_prio = static_cast<int>(num(ev, rec, "prio", &ok));
    e.target_cpu = static_cast<int>(num(ev, rec, "target_cpu", &ok));
  } else if (sys == "sched" && e.name == "sched_migrate_task") {
    e.kind = RawEvent::kMigrate;
    e.prev_comm = str(c, ev, rec, "comm", &ok);
    e.prev_pid = static_cast<int>(num(ev, rec, "pid", &ok));
    e.prev_prio = static_cast<int>(num(ev, rec, "prio", &ok));
    e.orig_cpu = static_cast<int>(num(ev, rec, "orig_cpu", &ok));
    e.target_cpu = static_cast<int>(num(ev, rec, "dest_cpu", &ok));
  } else if (sys == "sched" && e.name == "sched_pi_setprio") {
    e.kind = RawEvent::kPiSetprio;
    e.prev_comm = str(c, ev, rec, "comm", &ok);
    e.prev_pid = static_cast<int>(num(ev, rec, "pid", &ok));
    e.prev_prio = static_cast<int>(num(ev, rec, "oldprio", &ok));
    e.next_prio = static_cast<int>(num(ev, rec, "newprio", &ok));
  } else if (sys == "sched" && e.name == "sched_process_exit") {
    e.kind = RawEvent::kExit;
    e.prev_comm = str(c, ev, rec, "comm", &ok);
    e.prev_pid = static_cast<int>(num(ev, rec, "pid", &ok));
    e.prev_prio = static_cast<int>(num(ev, rec, "prio", &ok));
  } else if (sys == "ftrace" && e.name == "print") {
    e.kind = RawEvent::kMarker;
    e.text = str(c, ev, rec, "buf", &ok);
    while (!e.text.empty() && (e.text.back() == '\n' || e.text.back() == ' ')) e.text.pop_back();
  } else {
    e.kind = RawEvent::kOther;
  }
  if (!ok) {
    if (c.out->malformed++ == 0)
      c.out->first_malformed =
          fmt::format("record at offset {}: cannot decode the fields of {}", rec->offset, e.name);
    return 0;
  }
  if (e.kind == RawEvent::kOther) ++c.out->skipped[e.name];
  c.out->events.push_back(std::move(e));
  return 0;
}

}  // namespace

Status read_trace_dat(const std::string& path, TraceData* out) {
  out->format = "trace.dat";
  tracecmd_set_loglevel(TEP_LOG_NONE);
  tracecmd_input* in = tracecmd_open(path.c_str(), TRACECMD_FL_LOAD_NO_PLUGINS);
  if (in == nullptr)
    return Status::invalid(
        fmt::format("{}: libtracecmd cannot open it as a trace.dat (truncated or corrupted "
                    "header?)",
                    path));
  Ctx c;
  c.out = out;
  trace_seq_init(&c.seq);
  c.tep = tracecmd_get_tep(in);
  int rc = tracecmd_iterate_events(in, nullptr, 0, on_record, &c);
  // `trace-cmd extract -B NAME` (a capture from a tracefs instance) stores the records in a
  // buffer instance of the file, not in its top-level buffer.
  int nbuf = tracecmd_buffer_instances(in);
  for (int i = 0; i < nbuf && out->events.empty(); ++i) {
    tracecmd_input* b = tracecmd_buffer_instance_handle(in, i);
    if (b == nullptr) continue;
    c.tep = tracecmd_get_tep(b);
    rc = tracecmd_iterate_events(b, nullptr, 0, on_record, &c);
    tracecmd_close(b);
  }
  trace_seq_destroy(&c.seq);
  tracecmd_close(in);
  if (rc < 0 && out->events.empty())
    return Status::invalid(fmt::format("{}: libtracecmd cannot read its records", path));
  if (rc < 0) out->truncated = true;
  if (out->events.empty())
    return Status::invalid(fmt::format("{}: the trace.dat holds no event", path));
  out->nr_cpus = std::max(out->nr_cpus, c.max_cpu + 1);
  std::stable_sort(out->events.begin(), out->events.end(),
                   [](const RawEvent& a, const RawEvent& b) { return a.t < b.t; });
  return Status::ok();
}

}  // namespace proxysim
