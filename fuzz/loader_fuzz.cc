// libFuzzer target: arbitrary bytes as an rt-app workload text.
//
// The loader must never crash (ASan/UBSan/libFuzzer report any crash, leak or undefined
// behaviour). When the text loads, a tiny simulation runs it with the invariant checker on: an
// internal error (StatusCode::kInternal: an invariant violation) aborts so that the fuzzer
// reports it; workload errors (kWorkloadFailed: deadlock, DL admission, ...) and invalid input
// (kInvalidInput) are normal outcomes.
//
//   make fuzz-build && ./build-fuzz/loader_fuzz -max_total_time=600 build-fuzz/corpus-loader
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "proxysim/status.h"
#include "proxysim/workload.h"

namespace {

constexpr size_t kMaxInput = 64 * 1024;  // larger inputs are skipped (each input: milliseconds)
constexpr long kMaxThreads = 64;         // Σ instances above this: load only, no simulation
constexpr double kMaxZeroTimeRun = 500;  // see simulable()

bool consumes_time(const proxysim::Event& e) {
  switch (e.kind) {
    case proxysim::EventKind::kRun:
    case proxysim::EventKind::kRuntime:
    case proxysim::EventKind::kSleep:
    case proxysim::EventKind::kTimer: return e.duration > 0;
    default: return false;
  }
}

// The simulator charges nothing for events other than run/runtime/sleep/timer (lock, unlock,
// yield, ...), and reports a task that loops on them without simulated time passing as an
// internal error ("executed 100000 events without consuming time", or "__schedule() did not
// settle after 1000 rounds" for a yield loop), although the workload is one rt-app accepts (a
// busy loop). Such workloads are loaded but not simulated: a task must not be able to execute
// more than kMaxZeroTimeRun events in a row that consume no time. Forks (rt-app keys
// "fork...") are bounded too, so that the thread count stays small.
bool simulable(const proxysim::Workload& w) {
  double forks = 0;
  for (const proxysim::TaskSpec& t : w.tasks) {
    if (t.phases.empty()) continue;  // instances 0 too: a fork target runs the same program
    bool any_time = false;
    double zero_run = 0, task_forks = 0;  // per pass of the phase list
    for (const proxysim::Phase& ph : t.phases) {
      const double loop = ph.loop < 0 ? 1e18 : ph.loop;
      bool phase_time = false;
      double f = 0;
      for (const proxysim::Event& e : ph.events) {
        phase_time |= consumes_time(e);
        if (e.key.rfind("fork", 0) == 0) ++f;
      }
      any_time |= phase_time;
      zero_run += phase_time ? static_cast<double>(ph.events.size())
                             : loop * static_cast<double>(ph.events.size());
      task_forks += loop * f;
    }
    const double passes = t.loop < 0 ? 1e18 : t.loop;
    if (!any_time) zero_run *= passes;
    if (zero_run > kMaxZeroTimeRun) return false;
    if (t.instances == 0 && task_forks > 0) return false;  // forked threads that fork
    forks += passes * task_forks * t.instances;
  }
  return forks <= kMaxThreads;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return -1;  // -1: do not add to the corpus
  const std::string text(reinterpret_cast<const char*>(data), size);
  proxysim::Workload w;
  proxysim::Status s =
      proxysim::load_workload_from_string(text, "fuzz.json", proxysim::LoadOptions{}, &w);
  if (s.code() == proxysim::StatusCode::kInternal) {
    std::fprintf(stderr, "loader internal error: %s\n", s.message().c_str());
    std::abort();
  }
  if (!s.is_ok()) return 0;

  long threads = 0;
  for (const proxysim::TaskSpec& t : w.tasks) {
    if (t.instances < 0 || t.instances > kMaxThreads) return 0;
    threads += t.instances;
  }
  if (threads > kMaxThreads || !simulable(w)) return 0;

  const auto& protocols = proxysim::known_protocols();
  proxysim::SimOptions opt;
  opt.nr_cpus = 1 + std::clamp(w.max_cpu_named, 0, 3);
  opt.duration = 20'000'000;  // 20 ms simulated
  opt.check = true;
  opt.protocol = protocols[size > 0 ? data[0] % protocols.size() : 0];
  proxysim::RunStats stats;
  s = proxysim::run_simulation(w, opt, {}, &stats);
  if (s.code() == proxysim::StatusCode::kInternal) {
    std::fprintf(stderr, "internal error (protocol %s, %d cpus): %s\n", opt.protocol.c_str(),
                 opt.nr_cpus, s.message().c_str());
    std::abort();
  }
  return 0;
}
