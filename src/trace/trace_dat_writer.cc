#include "trace/trace_dat_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <utility>

#include "trace/tracefs_formats.h"

namespace proxysim {
namespace {

// Ring-buffer event header (header_event): type_len in the low 5 bits, time_delta above.
constexpr uint32_t kTypeTimeExtend = 30;
constexpr int kTsShift = 27;
constexpr uint64_t kDeltaMax = (uint64_t{1} << kTsShift) - 1;
constexpr size_t kMaxSmallData = 28 * 4;  // type_len 1..28 gives the length in 4-byte words

// The one kallsyms line: the ip of every print record resolves to tracing_mark_write, which
// print's "%ps: %s" shows as the text trace's `tracing_mark_write: <payload>`.
constexpr uint64_t kMarkWriteIp = 0xffffffff81000000ULL;
constexpr std::string_view kKallsyms = "ffffffff81000000 T tracing_mark_write\n";

// The uname option (`trace-cmd report --uname`).
constexpr std::string_view kUname = "Linux proxysim 6.18.0-proxysim (simulated) x86_64";
constexpr uint16_t kOptionDone = 0;
constexpr uint16_t kOptionUname = 5;

// common_flags and common_preempt_count of each tracepoint, as the text trace shows them
// (docs/trace.md): `d..2.` is irqs off (TRACE_FLAG_IRQS_OFF = 0x01) at preempt depth 2, the
// migrate-disable count being the high nibble of common_preempt_count.
constexpr uint8_t kIrqsOff = 0x01;
struct Context {
  uint8_t flags;
  uint8_t preempt;
};
constexpr Context kCtxSwitch{kIrqsOff, 2};  // d..2.
constexpr Context kCtxWake{kIrqsOff, 3};    // d..3. (waking, wakeup, migrate)
constexpr Context kCtxPi{kIrqsOff, 3};      // d..3.
constexpr Context kCtxExit{0, 0};           // .....
constexpr Context kCtxMarker{0, 1};         // ...1.

// Record layouts: the offset: and size: of each field in the format files (tracefs_formats.cc).
constexpr size_t kCommonPid = 4;
// sched_switch
constexpr size_t kSwPrevComm = 8, kSwPrevPid = 24, kSwPrevPrio = 28, kSwPrevState = 32,
                 kSwNextComm = 40, kSwNextPid = 56, kSwNextPrio = 60, kSwSize = 64;
// sched_waking, sched_wakeup, sched_wakeup_new
constexpr size_t kWkComm = 8, kWkPid = 24, kWkPrio = 28, kWkTargetCpu = 32, kWkSize = 36;
// sched_migrate_task (comm is a __data_loc string since 6.x)
constexpr size_t kMgComm = 8, kMgPid = 12, kMgPrio = 16, kMgOrigCpu = 20, kMgDestCpu = 24,
                 kMgSize = 28;
// sched_process_exit
constexpr size_t kExComm = 8, kExPid = 24, kExPrio = 28, kExGroupDead = 32, kExSize = 33;
// sched_pi_setprio
constexpr size_t kPiComm = 8, kPiPid = 12, kPiOldprio = 16, kPiNewprio = 20, kPiSize = 24;
// print (ftrace)
constexpr size_t kPrIp = 8, kPrBuf = 16;

// prev_state of sched_switch: the TASK_REPORT bit of the state's letter (0 is "R").
// __trace_sched_switch_state() would add TASK_REPORT_MAX (0x100, printed "R+") for a preempted
// task; the text trace prints "R", so does this file.
constexpr int64_t kStateRunning = 0, kStateInterruptible = 0x01, kStateUninterruptible = 0x02,
                  kStateDead = 0x10;

void put_le(uint8_t* p, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

void append_le(std::string* s, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

// A NUL-terminated string (the section names and the system name).
void append_cstr(std::string* s, std::string_view v) {
  s->append(v);
  s->push_back('\0');
}

// A size-prefixed blob: the formats (8-byte sizes), kallsyms and printk (4-byte sizes).
void append_blob(std::string* s, std::string_view v, size_t size_bytes) {
  append_le(s, v.size(), size_bytes);
  s->append(v);
}

std::string swapper(int cpu) { return fmt::format("swapper/{}", cpu); }

}  // namespace

Status TraceDatWriter::open(const std::string& path, std::unique_ptr<TraceDatWriter>* out) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return Status::invalid(
        fmt::format("{}: cannot open trace.dat file for writing: {}", path, std::strerror(errno)));
  }
  // The page file lives beside the output (or in TMPDIR for stdout), unlinked right away, so
  // that a long run's pages go to the output's file system and nothing is left behind.
  std::FILE* pages = nullptr;
  if (path == "-") {
    pages = std::tmpfile();
  } else {
    std::string tmpl = path + ".pages.XXXXXX";
    int fd = mkstemp(tmpl.data());
    if (fd >= 0) {
      unlink(tmpl.c_str());
      pages = fdopen(fd, "w+b");
      if (pages == nullptr) ::close(fd);
    }
  }
  if (pages == nullptr) {
    std::string err = std::strerror(errno);
    if (f != stdout) std::fclose(f);
    return Status::invalid(fmt::format("{}: cannot create the temporary page file: {}", path, err));
  }
  out->reset(new TraceDatWriter(f, pages, path == "-" ? "<stdout>" : path));
  return Status::ok();
}

TraceDatWriter::TraceDatWriter(std::FILE* out, std::FILE* pages, std::string name)
    : out_(out), pages_(pages), name_(std::move(name)) {
  std::setvbuf(pages_, nullptr, _IOFBF, 1 << 18);
  cpus_.resize(1);
}

TraceDatWriter::~TraceDatWriter() { close(); }

void TraceDatWriter::note_io_error(const char* what) {
  if (io_status_.is_ok()) {
    io_status_ = Status::invalid(
        fmt::format("{}: cannot {} trace.dat file: {}", name_, what, std::strerror(errno)));
  }
}

void TraceDatWriter::on_start(const RunInfo& info) {
  FtraceEvents::on_start(info);
  if (info.nr_cpus > 0 && static_cast<size_t>(info.nr_cpus) > cpus_.size()) {
    cpus_.resize(static_cast<size_t>(info.nr_cpus));
  }
}

void TraceDatWriter::on_task_new(Time /*t*/, const TaskRef& p) { note_task(p); }

void TraceDatWriter::note_task(const TaskRef& p) {
  if (is_idle(p)) return;
  size_t i = static_cast<size_t>(p.id);
  if (i >= cmdlines_.size()) cmdlines_.resize(i + 1);
  Cmdline& c = cmdlines_[i];
  if (c.pid != p.pid || c.comm != comm15(p.comm)) {
    c.pid = p.pid;
    c.comm.assign(comm15(p.comm));
  }
}

TraceDatWriter::CpuPages& TraceDatWriter::cpu_pages(int cpu) {
  size_t i = static_cast<size_t>(cpu);
  if (i >= cpus_.size()) cpus_.resize(i + 1);
  return cpus_[i];
}

void TraceDatWriter::begin_record(int cpu, uint16_t type, uint8_t flags, uint8_t preempt,
                                  size_t size) {
  rec_.assign(size, 0);
  put_le(rec_.data(), type, 2);
  rec_[2] = flags;
  rec_[3] = preempt;
  put_le(rec_.data() + kCommonPid, static_cast<uint32_t>(current(cpu).pid), 4);
}

void TraceDatWriter::put_comm16(size_t off, std::string_view comm) {
  comm = comm15(comm);
  std::memcpy(rec_.data() + off, comm.data(), comm.size());  // rest stays NUL
}

void TraceDatWriter::put_data_loc(size_t loc_off, std::string_view comm) {
  comm = comm15(comm);
  size_t at = rec_.size();
  size_t len = comm.size() + 1;  // with the NUL, as __assign_str() stores it
  rec_.resize(at + len, 0);
  std::memcpy(rec_.data() + at, comm.data(), comm.size());
  // __data_loc: offset in the low 16 bits, length in the high 16 bits.
  put_le(rec_.data() + loc_off, (static_cast<uint32_t>(len) << 16) | static_cast<uint32_t>(at), 4);
}

void TraceDatWriter::emit_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                                 const TaskRef& next) {
  note_task(prev);
  note_task(next);
  begin_record(cpu, tracefs::kSchedSwitchId, kCtxSwitch.flags, kCtxSwitch.preempt, kSwSize);
  int64_t state = prev_state == SwitchState::kRunnable          ? kStateRunning
                  : prev_state == SwitchState::kSleeping        ? kStateInterruptible
                  : prev_state == SwitchState::kUninterruptible ? kStateUninterruptible
                                                                : kStateDead;
  uint8_t* r = rec_.data();
  put_comm16(kSwPrevComm, is_idle(prev) ? std::string_view(swapper(cpu)) : prev.comm);
  put_le(r + kSwPrevPid, static_cast<uint32_t>(is_idle(prev) ? 0 : prev.pid), 4);
  put_le(r + kSwPrevPrio, static_cast<uint32_t>(is_idle(prev) ? 120 : prev.prio), 4);
  put_le(r + kSwPrevState, static_cast<uint64_t>(state), 8);
  put_comm16(kSwNextComm, is_idle(next) ? std::string_view(swapper(cpu)) : next.comm);
  put_le(r + kSwNextPid, static_cast<uint32_t>(is_idle(next) ? 0 : next.pid), 4);
  put_le(r + kSwNextPrio, static_cast<uint32_t>(is_idle(next) ? 120 : next.prio), 4);
  commit_record(t, cpu);
}

void TraceDatWriter::emit_waking(Time t, int cpu, const TaskRef& p, int target_cpu) {
  wake_record(t, cpu, p, target_cpu, tracefs::kSchedWakingId);
}

void TraceDatWriter::emit_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) {
  wake_record(t, cpu, p, target_cpu, is_new ? tracefs::kSchedWakeupNewId : tracefs::kSchedWakeupId);
}

void TraceDatWriter::wake_record(Time t, int cpu, const TaskRef& p, int target_cpu, uint16_t type) {
  note_task(p);
  begin_record(cpu, type, kCtxWake.flags, kCtxWake.preempt, kWkSize);
  uint8_t* r = rec_.data();
  put_comm16(kWkComm, p.comm);
  put_le(r + kWkPid, static_cast<uint32_t>(p.pid), 4);
  put_le(r + kWkPrio, static_cast<uint32_t>(p.prio), 4);
  put_le(r + kWkTargetCpu, static_cast<uint32_t>(target_cpu), 4);
  commit_record(t, cpu);
}

void TraceDatWriter::emit_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu) {
  note_task(p);
  begin_record(cpu, tracefs::kSchedMigrateTaskId, kCtxWake.flags, kCtxWake.preempt, kMgSize);
  uint8_t* r = rec_.data();
  put_le(r + kMgPid, static_cast<uint32_t>(p.pid), 4);
  put_le(r + kMgPrio, static_cast<uint32_t>(p.prio), 4);
  put_le(r + kMgOrigCpu, static_cast<uint32_t>(orig_cpu), 4);
  put_le(r + kMgDestCpu, static_cast<uint32_t>(dest_cpu), 4);
  put_data_loc(kMgComm, p.comm);
  commit_record(t, cpu);
}

void TraceDatWriter::emit_exit(Time t, int cpu, const TaskRef& p) {
  note_task(p);
  begin_record(cpu, tracefs::kSchedProcessExitId, kCtxExit.flags, kCtxExit.preempt, kExSize);
  uint8_t* r = rec_.data();
  put_comm16(kExComm, p.comm);
  put_le(r + kExPid, static_cast<uint32_t>(p.pid), 4);
  put_le(r + kExPrio, static_cast<uint32_t>(p.prio), 4);
  r[kExGroupDead] = 1;  // every simulated task is a single-threaded process
  commit_record(t, cpu);
}

void TraceDatWriter::emit_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) {
  note_task(p);
  begin_record(cpu, tracefs::kSchedPiSetprioId, kCtxPi.flags, kCtxPi.preempt, kPiSize);
  uint8_t* r = rec_.data();
  put_le(r + kPiPid, static_cast<uint32_t>(p.pid), 4);
  put_le(r + kPiOldprio, static_cast<uint32_t>(oldprio), 4);
  put_le(r + kPiNewprio, static_cast<uint32_t>(newprio), 4);
  put_data_loc(kPiComm, p.comm);
  commit_record(t, cpu);
}

void TraceDatWriter::emit_marker(Time t, int cpu, std::string_view payload) {
  // A record must fit in one page: header, array[0], ip, text, "\n\0", rounded up to 4.
  constexpr size_t kMaxText = kPageSize - kPageHeader - 8 - kPrBuf - 2 - 3;
  payload = payload.substr(0, kMaxText);
  begin_record(cpu, tracefs::kPrintId, kCtxMarker.flags, kCtxMarker.preempt,
               kPrBuf + payload.size() + 2);
  put_le(rec_.data() + kPrIp, kMarkWriteIp, 8);
  std::memcpy(rec_.data() + kPrBuf, payload.data(), payload.size());
  // tracing_mark_write() ends the text with a newline (added when missing) and a NUL.
  rec_[kPrBuf + payload.size()] = '\n';
  commit_record(t, cpu);
}

void TraceDatWriter::commit_record(Time t, int cpu) {
  if (finished_) return;
  CpuPages& c = cpu_pages(cpu);
  if (t < 0) t = 0;
  if (t < c.last_ts) t = c.last_ts;  // invariant 3 (the model's clock never goes back)
  size_t len = (rec_.size() + 3) & ~size_t{3};
  bool big = len > kMaxSmallData;
  size_t need = 4 + (big ? 4 : 0) + len;
  uint64_t delta = c.used == 0 ? 0 : static_cast<uint64_t>(t - c.last_ts);
  bool extend = delta > kDeltaMax;
  if (c.used > 0 && kPageHeader + c.used + need + (extend ? 8 : 0) > kPageSize) spill_page(c);
  if (c.used == 0) {
    c.page_ts = t;
    delta = 0;
    extend = false;
  }
  uint8_t* p = c.page.data() + kPageHeader + c.used;
  if (extend) {
    put_le(p, kTypeTimeExtend | static_cast<uint32_t>((delta & kDeltaMax) << 5), 4);
    put_le(p + 4, delta >> kTsShift, 4);
    p += 8;
    c.used += 8;
    delta = 0;
  }
  uint32_t type_len = big ? 0 : static_cast<uint32_t>(len / 4);
  put_le(p, type_len | static_cast<uint32_t>(delta << 5), 4);
  p += 4;
  if (big) {
    put_le(p, len + 4, 4);  // array[0]: the data length plus itself
    p += 4;
  }
  std::memcpy(p, rec_.data(), rec_.size());
  std::memset(p + rec_.size(), 0, len - rec_.size());
  c.used += need;
  c.last_ts = t;
  ++entries_;
}

void TraceDatWriter::spill_page(CpuPages& c) {
  put_le(c.page.data(), static_cast<uint64_t>(c.page_ts), 8);
  put_le(c.page.data() + 8, c.used, 8);  // commit: bytes of data, no missed-events flags
  if (std::fwrite(c.page.data(), 1, kPageSize, pages_) != kPageSize)
    note_io_error("write the pages of");
  c.spilled.push_back(pages_spilled_++);
  c.page.fill(0);
  c.used = 0;
}

void TraceDatWriter::on_finish(Time t) {
  if (finished_) return;
  FtraceEvents::on_finish(t);
  assemble();
}

void TraceDatWriter::assemble() {
  if (finished_) return;
  finished_ = true;
  size_t ncpus = std::max(cpus_.size(), static_cast<size_t>(std::max(nr_cpus(), 0)));
  cpus_.resize(ncpus);

  std::string h;
  h.append("\x17\x08\x44tracing", 10);
  append_cstr(&h, "6");
  h.push_back(0);  // little endian
  h.push_back(8);  // sizeof(long)
  append_le(&h, kPageSize, 4);
  append_cstr(&h, "header_page");
  append_blob(&h, tracefs::kHeaderPage, 8);
  append_cstr(&h, "header_event");
  append_blob(&h, tracefs::kHeaderEvent, 8);
  append_le(&h, 1, 4);  // ftrace event formats
  append_blob(&h, tracefs::kPrintFormat, 8);
  append_le(&h, 1, 4);  // event systems
  append_cstr(&h, "sched");
  const std::string_view sched[] = {
      tracefs::kSchedSwitchFormat,      tracefs::kSchedWakingFormat,
      tracefs::kSchedWakeupFormat,      tracefs::kSchedWakeupNewFormat,
      tracefs::kSchedMigrateTaskFormat, tracefs::kSchedProcessExitFormat,
      tracefs::kSchedPiSetprioFormat,
  };
  append_le(&h, std::size(sched), 4);
  for (std::string_view f : sched) append_blob(&h, f, 8);
  append_blob(&h, kKallsyms, 4);
  append_le(&h, 0, 4);  // printk formats
  std::string cmdlines;
  for (const Cmdline& c : cmdlines_) {
    if (c.pid > 0) cmdlines += fmt::format("{} {}\n", c.pid, c.comm);
  }
  append_blob(&h, cmdlines, 8);
  append_le(&h, ncpus, 4);
  h.append("options  ", 10);  // with its NUL
  append_le(&h, kOptionUname, 2);
  append_le(&h, kUname.size() + 1, 4);
  append_cstr(&h, kUname);
  append_le(&h, kOptionDone, 2);
  h.append("flyrecord", 10);
  // Per CPU (offset, size) of its pages, which start at the first page boundary after this table.
  uint64_t offset = (h.size() + 16 * ncpus + kPageSize - 1) / kPageSize * kPageSize;
  for (const CpuPages& c : cpus_) {
    uint64_t size = (c.spilled.size() + (c.used > 0 ? 1 : 0)) * kPageSize;
    append_le(&h, offset, 8);
    append_le(&h, size, 8);
    offset += size;
  }
  h.resize((h.size() + kPageSize - 1) / kPageSize * kPageSize, '\0');
  if (std::fwrite(h.data(), 1, h.size(), out_) != h.size()) note_io_error("write");

  // Each CPU's spilled pages (runs of consecutive page numbers in one read), then its last page.
  if (std::fflush(pages_) != 0) note_io_error("write the pages of");
  constexpr size_t kRun = 64;
  std::vector<uint8_t> buf(kRun * kPageSize);
  int fd = fileno(pages_);
  for (CpuPages& c : cpus_) {
    for (size_t i = 0; i < c.spilled.size();) {
      size_t n = 1;
      while (n < kRun && i + n < c.spilled.size() && c.spilled[i + n] == c.spilled[i] + n) ++n;
      size_t bytes = n * kPageSize;
      off_t at = static_cast<off_t>(c.spilled[i]) * static_cast<off_t>(kPageSize);
      if (pread(fd, buf.data(), bytes, at) != static_cast<ssize_t>(bytes)) {
        note_io_error("read back the pages of");
        return;
      }
      if (std::fwrite(buf.data(), 1, bytes, out_) != bytes) note_io_error("write");
      i += n;
    }
    if (c.used > 0) {
      put_le(c.page.data(), static_cast<uint64_t>(c.page_ts), 8);
      put_le(c.page.data() + 8, c.used, 8);
      if (std::fwrite(c.page.data(), 1, kPageSize, out_) != kPageSize) note_io_error("write");
    }
  }
  if (std::fflush(out_) != 0) note_io_error("write");
}

Status TraceDatWriter::close() {
  if (closed_) return io_status_;
  assemble();
  closed_ = true;
  if (pages_ != nullptr && std::fclose(pages_) != 0) note_io_error("close the pages of");
  pages_ = nullptr;
  if (out_ != nullptr && out_ != stdout && std::fclose(out_) != 0) note_io_error("close");
  out_ = nullptr;
  return io_status_;
}

}  // namespace proxysim
