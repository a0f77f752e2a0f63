#include "trace/ftrace_writer.h"

#include <fcntl.h>
#include <fmt/compile.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <utility>

namespace proxysim {
namespace {

// Our buffer goes to the FILE* in one fwrite once it holds this much (bytes).
constexpr size_t kFlushAt = size_t{1} << 20;

// The entries line is padded with spaces to the length it would have with this many digits in
// each count, so that the final counts fit in place. 15 digits: 10^15 events.
constexpr int kReservedDigits = 15;

constexpr std::string_view kEntriesPrefix = "# entries-in-buffer/entries-written: ";

// The legend of print_func_help_header_irq() in kernel/trace/trace.c (no TGID column).
constexpr std::string_view kLegend =
    "#\n"
    "#                                _-----=> irqs-off/BH-disabled\n"
    "#                               / _----=> need-resched\n"
    "#                              | / _---=> hardirq/softirq\n"
    "#                              || / _--=> preempt-depth\n"
    "#                              ||| / _-=> migrate-disable\n"
    "#                              |||| /     delay\n"
    "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
    "#              | |         |   |||||     |         |\n";

// Flag columns (irqs-off, need-resched, hardirq/softirq, preempt-depth, migrate-disable) as a
// kernel prints them for each tracepoint's usual context.
constexpr std::string_view kFlagsSwitch = "d..2.";  // __schedule(): irqs off, rq lock held
constexpr std::string_view kFlagsWake = "d..3.";    // ttwu / migration paths: pi_lock + rq lock
constexpr std::string_view kFlagsExit = ".....";    // do_exit(): task context
constexpr std::string_view kFlagsPi = "d..3.";      // rt_mutex_setprio(): pi_lock + rq lock
constexpr std::string_view kFlagsMarker = "...1.";  // trace_marker write

// Writes `v` in decimal into p, padded with `fill` to `width` (on the right when `left`, like
// printf's "%-7d"; a '0' fill goes after the sign like "%03d"). Returns the end. At most 20 + width
// characters.
char* put_padded(char* p, int64_t v, int width, char fill, bool left) {
  char digits[24];
  char* d = digits + sizeof digits;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    *--d = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  int n = static_cast<int>(digits + sizeof digits - d) + (v < 0 ? 1 : 0);
  if (!left && fill == ' ') {
    for (int i = n; i < width; ++i) *p++ = ' ';
  }
  if (v < 0) *p++ = '-';
  if (!left && fill == '0') {
    for (int i = n; i < width; ++i) *p++ = '0';
  }
  p = std::copy(d, digits + sizeof digits, p);
  if (left) {
    for (int i = n; i < width; ++i) *p++ = fill;
  }
  return p;
}

std::string entries_line(std::string_view counts, int nr_cpus, size_t pad_to) {
  std::string line = fmt::format("{}{}   #P:{}", kEntriesPrefix, counts, nr_cpus);
  if (line.size() < pad_to) line.append(pad_to - line.size(), ' ');
  return line;
}

size_t reserved_entries_width(int nr_cpus) {
  std::string digits(kReservedDigits, '9');
  return entries_line(digits + "/" + digits, nr_cpus, 0).size();
}

}  // namespace

Status FtraceWriter::open(const std::string& path, std::unique_ptr<FtraceWriter>* out) {
  if (path == "-") {
    out->reset(new FtraceWriter(stdout, /*owned=*/false, "<stdout>"));
    (*out)->seekable_ = false;  // stdout may be shared with other output: never rewrite it
    return Status::ok();
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return Status::invalid(
        fmt::format("{}: cannot open trace file for writing: {}", path, std::strerror(errno)));
  }
  out->reset(new FtraceWriter(f, /*owned=*/true, path));
  return Status::ok();
}

FtraceWriter::FtraceWriter(std::FILE* out) : FtraceWriter(out, /*owned=*/false, "<stream>") {}

FtraceWriter::FtraceWriter(std::FILE* out, bool owned, std::string name)
    : out_(out), owned_(owned), name_(std::move(name)) {
  // Seekable: a regular file (or memory stream) not in append mode, where fseek works.
  long pos = std::ftell(out_);
  seekable_ = pos >= 0 && std::fseek(out_, pos, SEEK_SET) == 0;
  int fd = fileno(out_);
  if (seekable_ && fd >= 0) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_APPEND)) seekable_ = false;
  }
}

FtraceWriter::~FtraceWriter() { close(); }

void FtraceWriter::note_io_error(const char* what) {
  if (io_status_.is_ok()) {
    io_status_ = Status::invalid(
        fmt::format("{}: cannot {} trace file: {}", name_, what, std::strerror(errno)));
  }
}

void FtraceWriter::on_start(const RunInfo& info) {
  FtraceEvents::on_start(info);
  write_header();
}

void FtraceWriter::write_header() {
  if (header_written_ || closed_) return;
  header_written_ = true;
  constexpr std::string_view kTracer = "# tracer: nop\n#\n";
  auto it = std::back_inserter(buf_);
  fmt::format_to(it, FMT_COMPILE("{}"), kTracer);
  if (seekable_) {
    long pos = std::ftell(out_);
    if (pos < 0) {
      seekable_ = false;
    } else {
      header_pos_ = pos + static_cast<long>(buf_.size());
    }
  }
  // The counts are known only at the end: reserve their width, or say that they are unknown.
  std::string line = seekable_ ? entries_line("0/0", nr_cpus(), reserved_entries_width(nr_cpus()))
                               : entries_line("?/?", nr_cpus(), 0);
  fmt::format_to(it, FMT_COMPILE("{}\n{}"), line, kLegend);
}

void FtraceWriter::begin_line(Time t, int cpu, std::string_view flags) {
  if (!header_written_) write_header();
  const Current& c = current(cpu);
  if (t < 0) t = 0;
  // trace_print_context(): "%16s-%-7d [%03d] " + 5 lat flags + " %5lu.%06lu: ". Hand-formatted:
  // this prefix is most of the cost of a line. Microseconds are truncated (the kernel's
  // ns2usecs() rounds to nearest; we keep integer truncation).
  char tmp[128];
  char* p = tmp;
  std::string_view comm = std::string_view(c.comm).substr(0, 16);
  for (size_t i = comm.size(); i < 16; ++i) *p++ = ' ';
  p = std::copy(comm.begin(), comm.end(), p);
  *p++ = '-';
  p = put_padded(p, c.pid, 7, ' ', /*left=*/true);
  *p++ = ' ';
  *p++ = '[';
  p = put_padded(p, cpu, 3, '0', /*left=*/false);
  *p++ = ']';
  *p++ = ' ';
  flags = flags.substr(0, 8);
  p = std::copy(flags.begin(), flags.end(), p);
  *p++ = ' ';
  p = put_padded(p, t / kNsPerSec, 5, ' ', /*left=*/false);
  *p++ = '.';
  p = put_padded(p, (t % kNsPerSec) / kNsPerUs, 6, '0', /*left=*/false);
  *p++ = ':';
  *p++ = ' ';
  buf_.append(tmp, p);
  ++entries_;
}

void FtraceWriter::emit_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                               const TaskRef& next) {
  begin_line(t, cpu, kFlagsSwitch);
  std::string_view state = prev_state == SwitchState::kRunnable          ? "R"
                           : prev_state == SwitchState::kSleeping        ? "S"
                           : prev_state == SwitchState::kUninterruptible ? "D"
                                                                         : "X";
  auto it = std::back_inserter(buf_);
  fmt::format_to(it, FMT_COMPILE("sched_switch: prev_comm="));
  if (is_idle(prev)) {
    fmt::format_to(it, FMT_COMPILE("swapper/{} prev_pid=0 prev_prio=120"), cpu);
  } else {
    fmt::format_to(it, FMT_COMPILE("{} prev_pid={} prev_prio={}"), comm15(prev.comm), prev.pid,
                   prev.prio);
  }
  fmt::format_to(it, FMT_COMPILE(" prev_state={} ==> next_comm="), state);
  if (is_idle(next)) {
    fmt::format_to(it, FMT_COMPILE("swapper/{} next_pid=0 next_prio=120\n"), cpu);
  } else {
    fmt::format_to(it, FMT_COMPILE("{} next_pid={} next_prio={}\n"), comm15(next.comm), next.pid,
                   next.prio);
  }
  if (buf_.size() >= kFlushAt) flush_buffer();
}

void FtraceWriter::emit_waking(Time t, int cpu, const TaskRef& p, int target_cpu) {
  begin_line(t, cpu, kFlagsWake);
  fmt::format_to(std::back_inserter(buf_),
                 FMT_COMPILE("sched_waking: comm={} pid={} prio={} target_cpu={:03}\n"),
                 comm15(p.comm), p.pid, p.prio, target_cpu);
  if (buf_.size() >= kFlushAt) flush_buffer();
}

void FtraceWriter::emit_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) {
  begin_line(t, cpu, kFlagsWake);
  fmt::format_to(
      std::back_inserter(buf_), FMT_COMPILE("{}: comm={} pid={} prio={} target_cpu={:03}\n"),
      is_new ? "sched_wakeup_new" : "sched_wakeup", comm15(p.comm), p.pid, p.prio, target_cpu);
  if (buf_.size() >= kFlushAt) flush_buffer();
}

void FtraceWriter::emit_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu) {
  begin_line(t, cpu, kFlagsWake);
  fmt::format_to(
      std::back_inserter(buf_),
      FMT_COMPILE("sched_migrate_task: comm={} pid={} prio={} orig_cpu={} dest_cpu={}\n"),
      comm15(p.comm), p.pid, p.prio, orig_cpu, dest_cpu);
  if (buf_.size() >= kFlushAt) flush_buffer();
}

void FtraceWriter::emit_exit(Time t, int cpu, const TaskRef& p) {
  begin_line(t, cpu, kFlagsExit);
  // Every simulated task is a single-threaded process of its own (no TGID column), so its exit
  // kills its thread group: group_dead=true.
  fmt::format_to(std::back_inserter(buf_),
                 FMT_COMPILE("sched_process_exit: comm={} pid={} prio={} group_dead=true\n"),
                 comm15(p.comm), p.pid, p.prio);
  if (buf_.size() >= kFlushAt) flush_buffer();
}

void FtraceWriter::emit_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) {
  begin_line(t, cpu, kFlagsPi);
  fmt::format_to(std::back_inserter(buf_),
                 FMT_COMPILE("sched_pi_setprio: comm={} pid={} oldprio={} newprio={}\n"),
                 comm15(p.comm), p.pid, oldprio, newprio);
}

void FtraceWriter::emit_marker(Time t, int cpu, std::string_view payload) {
  begin_line(t, cpu, kFlagsMarker);
  fmt::format_to(std::back_inserter(buf_), FMT_COMPILE("tracing_mark_write: {}\n"), payload);
  if (buf_.size() >= kFlushAt) flush_buffer();
}

void FtraceWriter::on_finish(Time t) {
  if (closed_) return;
  FtraceEvents::on_finish(t);
  if (!header_written_) write_header();
  patch_header();
  if (std::fflush(out_) != 0) note_io_error("write");
}

void FtraceWriter::flush_buffer() {
  if (buf_.size() == 0 || closed_) return;
  if (std::fwrite(buf_.data(), 1, buf_.size(), out_) != buf_.size()) note_io_error("write");
  buf_.clear();
}

void FtraceWriter::patch_header() {
  flush_buffer();
  if (!seekable_ || !header_written_ || patched_entries_ == entries_) return;
  std::string counts = fmt::format("{}/{}", entries_, entries_);
  size_t width = reserved_entries_width(nr_cpus());
  std::string line = entries_line(counts, nr_cpus(), width);
  if (line.size() != width) return;  // more than 10^15 events: leave "0/0"
  long end = std::ftell(out_);
  if (end < 0 || std::fseek(out_, header_pos_, SEEK_SET) != 0 ||
      std::fwrite(line.data(), 1, line.size(), out_) != line.size() ||
      std::fseek(out_, end, SEEK_SET) != 0) {
    note_io_error("rewrite the header of");
    return;
  }
  patched_entries_ = entries_;
}

Status FtraceWriter::close() {
  if (closed_) return io_status_;
  if (!header_written_) write_header();
  patch_header();
  if (std::fflush(out_) != 0) note_io_error("write");
  if (owned_ && std::fclose(out_) != 0) note_io_error("close");
  closed_ = true;
  out_ = nullptr;
  return io_status_;
}

}  // namespace proxysim
