// Basic vocabulary shared by every layer: virtual time, ids, CPU masks, scheduling policies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace proxysim {

// Virtual time in nanoseconds. Never floating point in a scheduling decision (DESIGN.md §3).
using Time = int64_t;
inline constexpr Time kNsPerUs = 1000;
inline constexpr Time kNsPerMs = 1000 * kNsPerUs;
inline constexpr Time kNsPerSec = 1000 * kNsPerMs;
inline constexpr Time kTimeNever = INT64_MAX;

// Scheduling policies, with the kernel's numbering (include/uapi/linux/sched.h).
enum class Policy : uint8_t {
  kNormal = 0,  // SCHED_OTHER
  kFifo = 1,
  kRr = 2,
  kBatch = 3,
  kIdle = 5,
  kDeadline = 6,
};

std::string_view policy_name(Policy p);  // "SCHED_OTHER", ...
bool parse_policy(std::string_view s, Policy* out);
inline bool is_rt_policy(Policy p) { return p == Policy::kFifo || p == Policy::kRr; }
inline bool is_fair_policy(Policy p) {
  return p == Policy::kNormal || p == Policy::kBatch || p == Policy::kIdle;
}

// A set of CPUs (cpumask_t). Dense bit vector; empty() means "no CPU".
class CpuMask {
 public:
  CpuMask() = default;
  static CpuMask all(int nr_cpus);
  static CpuMask of(std::initializer_list<int> cpus);

  void set(int cpu);
  void clear(int cpu);
  bool test(int cpu) const {
    size_t w = static_cast<size_t>(cpu) / 64;
    return cpu >= 0 && w < bits_.size() && ((bits_[w] >> (cpu % 64)) & 1);
  }
  bool empty() const;
  int weight() const;
  int first() const;        // -1 when empty
  int next(int cpu) const;  // first set bit > cpu, or -1
  int last() const;         // -1 when empty
  bool intersects(const CpuMask& o) const;
  bool subset_of(const CpuMask& o) const;
  CpuMask operator&(const CpuMask& o) const;
  bool operator==(const CpuMask& o) const;
  std::string to_string() const;  // "0-3,6"

 private:
  void trim();
  std::vector<uint64_t> bits_;
};

}  // namespace proxysim
