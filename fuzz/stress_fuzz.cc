// libFuzzer target: the generated workloads of `proxysim stress`, with the seed, protocol, jitter
// and machine size taken from the input bytes, run with the invariant checker on. An internal
// error (StatusCode::kInternal: an invariant violation) aborts so that the fuzzer reports it;
// workload errors (kWorkloadFailed, e.g. a deadlock of the random lock graph) are normal.
//
// Input layout (missing bytes read as zero):
//   [0..8)  stress seed, little-endian
//   [8]     protocol: index into known_protocols(), modulo their count
//   [9..11) jitter: little-endian u16 modulo 50001, in ns (cross-CPU latencies + U[0, jitter])
//   [11]    CPU count: bit 7 set -> at least 1 + (bits 0..3) CPUs (only ever adds CPUs, so the
//           generated phase affinities stay within the machine); otherwise the generated count
//
//   make fuzz-build && ./build-fuzz/stress_fuzz -max_total_time=600 build-fuzz/corpus-stress
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "check/stress.h"
#include "proxysim/loader.h"
#include "proxysim/sim.h"
#include "proxysim/status.h"
#include "proxysim/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64) return -1;  // only the first 12 bytes matter
  uint8_t b[12] = {};
  std::copy(data, data + std::min(size, sizeof b), b);

  uint64_t seed = 0;
  for (int i = 7; i >= 0; --i) seed = seed << 8 | b[i];
  const auto& protocols = proxysim::known_protocols();
  const std::string& protocol = protocols[b[8] % protocols.size()];
  const proxysim::Time jitter = (b[9] | b[10] << 8) % 50001;

  int cpus = 0;
  const std::string json = proxysim::stress_workload(seed, &cpus);
  if (b[11] & 0x80) cpus = std::max(cpus, 1 + (b[11] & 0x0f));

  proxysim::Workload w;
  proxysim::Status s =
      proxysim::load_workload_from_string(json, "stress.json", proxysim::LoadOptions{}, &w);
  if (!s.is_ok()) {  // the generator must produce valid workloads
    std::fprintf(stderr, "seed %llu: generated workload does not load: %s\n%s\n",
                 static_cast<unsigned long long>(seed), s.message().c_str(), json.c_str());
    std::abort();
  }
  proxysim::SimOptions opt;
  opt.nr_cpus = cpus;
  opt.seed = seed;
  opt.duration = 50'000'000;  // 50 ms simulated
  opt.check = true;
  opt.protocol = protocol;
  opt.costs.jitter_max = jitter;
  proxysim::RunStats stats;
  s = proxysim::run_simulation(w, opt, {}, &stats);
  if (s.code() == proxysim::StatusCode::kInternal) {
    std::fprintf(stderr,
                 "internal error: seed %llu protocol %s cpus %d jitter %lld\n"
                 "replay: proxysim stress --seed %llu --seeds 1 --protocols %s --jitter %lld "
                 "--duration 0.05 (the CLI uses the generated CPU count)\n%s\n",
                 static_cast<unsigned long long>(seed), protocol.c_str(), cpus,
                 static_cast<long long>(jitter), static_cast<unsigned long long>(seed),
                 protocol.c_str(), static_cast<long long>(jitter), s.message().c_str());
    std::abort();
  }
  return 0;
}
