// TraceDatWriter: an Observer that writes the run as a trace-cmd `trace.dat` (file format
// version 6, trace-cmd.dat.v6(5)), the binary file `trace-cmd record` produces, so that
// `trace-cmd report` and KernelShark open simulated runs like captured ones. It holds the events
// of the text trace (FtraceEvents: sched_* tracepoints and trace_marker writes), encoded as the
// records a Linux 6.18 x86_64 kernel puts in its ring buffer.
//
// File layout (little-endian, 8-byte longs, 4096-byte pages):
//   "\x17\x08\x44tracing" "6\0" endian=0 long_size=8 page_size=4096
//   header_page, header_event                    (tracefs_formats.cc)
//   1 ftrace event format: print                 (trace_marker writes)
//   1 event system "sched": sched_switch, sched_waking, sched_wakeup, sched_wakeup_new,
//                           sched_migrate_task, sched_process_exit, sched_pi_setprio
//   kallsyms: one symbol, tracing_mark_write (the ip of every print record)
//   printk formats: none
//   saved cmdlines: "<pid> <comm>\n" per task, in creation order
//   CPU count, options (uname), "flyrecord", per CPU (offset, size) of its pages
//   padding to a page boundary, then each CPU's ring-buffer pages in CPU order.
//
// Each page is the kernel's buffer_data_page: u64 timestamp (of its first event), u64 commit
// (bytes of event data), then the events: a 32-bit header (type_len:5, time_delta:27 ns since
// the previous event) and the record (a TIME_EXTEND entry first when the delta needs more than
// 27 bits, array[0] holding the length of records over 112 bytes).
//
// Memory stays bounded: each CPU fills one page in memory; full pages go to an unlinked
// temporary file next to the output (pages of all CPUs interleaved, a 4-byte index per page),
// and the file is assembled at on_finish() by copying each CPU's pages in order. The output is
// a deterministic function of the events.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxysim/observer.h"
#include "proxysim/status.h"
#include "trace/ftrace_events.h"

namespace proxysim {

// Invariants:
//  1. cpus_[c].page holds the events of CPU c not yet spilled: cpus_[c].used bytes of event data
//     after the 16-byte page header; every event lies wholly in one page.
//  2. cpus_[c].spilled lists, in order, the temp-file page numbers of CPU c's full pages; the
//     pages of a CPU are in time order (spilled ones, then the one in memory).
//  3. Within a CPU, record times never decrease (an earlier time is written as the last one).
//  4. The output file is written only by assemble(), once, after the last event.
class TraceDatWriter : public FtraceEvents {
 public:
  static constexpr size_t kPageSize = 4096;
  static constexpr size_t kPageHeader = 16;  // u64 timestamp, u64 commit (header_page)

  // Creates `path` and a temporary page file beside it (unlinked at once). The file gets its
  // content at on_finish() (or close()).
  static Status open(const std::string& path, std::unique_ptr<TraceDatWriter>* out);
  ~TraceDatWriter() override;
  TraceDatWriter(const TraceDatWriter&) = delete;
  TraceDatWriter& operator=(const TraceDatWriter&) = delete;

  void on_start(const RunInfo& info) override;
  void on_task_new(Time t, const TaskRef& p) override;
  // Ends the open slices (FtraceEvents::on_finish()), then writes the whole file. Later events
  // are ignored.
  void on_finish(Time t) override;

  // Writes the file if on_finish() has not, and closes it. Returns the first I/O error met,
  // naming the file. Idempotent.
  Status close();

  // Records written (markers included): the number of event lines of the text trace.
  uint64_t entries() const { return entries_; }

 protected:
  void emit_switch(Time t, int cpu, const TaskRef& prev, SwitchState prev_state,
                   const TaskRef& next) override;
  void emit_waking(Time t, int cpu, const TaskRef& p, int target_cpu) override;
  void emit_wakeup(Time t, int cpu, const TaskRef& p, int target_cpu, bool is_new) override;
  void emit_migrate(Time t, int cpu, const TaskRef& p, int orig_cpu, int dest_cpu) override;
  void emit_exit(Time t, int cpu, const TaskRef& p) override;
  void emit_pi_setprio(Time t, int cpu, const TaskRef& p, int oldprio, int newprio) override;
  void emit_marker(Time t, int cpu, std::string_view payload) override;

 private:
  struct CpuPages {
    std::array<uint8_t, kPageSize> page{};
    size_t used = 0;                // bytes of event data in `page` after its header
    Time page_ts = 0;               // timestamp of the page (its first event)
    Time last_ts = 0;               // time of the last event written
    std::vector<uint32_t> spilled;  // temp-file page numbers, in order
  };
  struct Cmdline {
    int pid = -1;  // -1: task id not seen
    std::string comm;
  };

  TraceDatWriter(std::FILE* out, std::FILE* pages, std::string name);
  CpuPages& cpu_pages(int cpu);
  void note_task(const TaskRef& p);
  // Starts a record of `size` bytes in rec_ with the common fields (type, flags, preempt count,
  // the pid current on `cpu`), zero-filled.
  void begin_record(int cpu, uint16_t type, uint8_t flags, uint8_t preempt, size_t size);
  // Puts comm (cut to 15 characters, NUL-padded) in the char[16] field at `off`.
  void put_comm16(size_t off, std::string_view comm);
  // Appends `comm` as the __data_loc string of the field at `loc_off` (stored at the record's end).
  void put_data_loc(size_t loc_off, std::string_view comm);
  // sched_waking, sched_wakeup or sched_wakeup_new (one layout), by its event id `type`.
  void wake_record(Time t, int cpu, const TaskRef& p, int target_cpu, uint16_t type);
  // Appends the record in rec_ to CPU `cpu`'s ring buffer at time `t`.
  void commit_record(Time t, int cpu);
  void spill_page(CpuPages& c);
  void assemble();
  void note_io_error(const char* what);

  std::FILE* out_ = nullptr;
  std::FILE* pages_ = nullptr;  // unlinked temporary file of full pages
  std::string name_;
  uint32_t pages_spilled_ = 0;
  bool finished_ = false;
  bool closed_ = false;
  uint64_t entries_ = 0;
  std::vector<CpuPages> cpus_;
  std::vector<Cmdline> cmdlines_;  // indexed by task id
  std::vector<uint8_t> rec_;       // the record being built
  Status io_status_;
};

}  // namespace proxysim
