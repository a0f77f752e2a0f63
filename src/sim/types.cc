#include "proxysim/types.h"

#include <bit>

namespace proxysim {

std::string_view policy_name(Policy p) {
  switch (p) {
    case Policy::kNormal: return "SCHED_OTHER";
    case Policy::kFifo: return "SCHED_FIFO";
    case Policy::kRr: return "SCHED_RR";
    case Policy::kBatch: return "SCHED_BATCH";
    case Policy::kIdle: return "SCHED_IDLE";
    case Policy::kDeadline: return "SCHED_DEADLINE";
  }
  return "?";
}

bool parse_policy(std::string_view s, Policy* out) {
  static constexpr Policy kAll[] = {Policy::kNormal, Policy::kFifo, Policy::kRr,
                                    Policy::kBatch,  Policy::kIdle, Policy::kDeadline};
  for (Policy p : kAll) {
    if (policy_name(p) == s) {
      *out = p;
      return true;
    }
  }
  return false;
}

CpuMask CpuMask::all(int nr_cpus) {
  CpuMask m;
  for (int c = 0; c < nr_cpus; ++c) m.set(c);
  return m;
}

CpuMask CpuMask::of(std::initializer_list<int> cpus) {
  CpuMask m;
  for (int c : cpus) m.set(c);
  return m;
}

void CpuMask::set(int cpu) {
  size_t w = static_cast<size_t>(cpu) / 64;
  if (bits_.size() <= w) bits_.resize(w + 1);
  bits_[w] |= uint64_t{1} << (cpu % 64);
}

void CpuMask::clear(int cpu) {
  size_t w = static_cast<size_t>(cpu) / 64;
  if (w < bits_.size()) bits_[w] &= ~(uint64_t{1} << (cpu % 64));
  trim();
}

void CpuMask::trim() {
  while (!bits_.empty() && bits_.back() == 0) bits_.pop_back();
}

bool CpuMask::empty() const { return bits_.empty(); }

int CpuMask::weight() const {
  int n = 0;
  for (uint64_t w : bits_) n += std::popcount(w);
  return n;
}

int CpuMask::first() const { return next(-1); }

int CpuMask::next(int cpu) const {
  int start = cpu + 1;
  for (size_t w = static_cast<size_t>(start) / 64; w < bits_.size(); ++w) {
    uint64_t word = bits_[w];
    if (w == static_cast<size_t>(start) / 64) word &= ~uint64_t{0} << (start % 64);
    if (word) return static_cast<int>(w * 64) + std::countr_zero(word);
  }
  return -1;
}

int CpuMask::last() const {
  if (bits_.empty()) return -1;
  return static_cast<int>((bits_.size() - 1) * 64) + 63 - std::countl_zero(bits_.back());
}

bool CpuMask::intersects(const CpuMask& o) const {
  size_t n = std::min(bits_.size(), o.bits_.size());
  for (size_t i = 0; i < n; ++i)
    if (bits_[i] & o.bits_[i]) return true;
  return false;
}

bool CpuMask::subset_of(const CpuMask& o) const {
  for (size_t i = 0; i < bits_.size(); ++i) {
    uint64_t other = i < o.bits_.size() ? o.bits_[i] : 0;
    if (bits_[i] & ~other) return false;
  }
  return true;
}

CpuMask CpuMask::operator&(const CpuMask& o) const {
  CpuMask r;
  size_t n = std::min(bits_.size(), o.bits_.size());
  r.bits_.resize(n);
  for (size_t i = 0; i < n; ++i) r.bits_[i] = bits_[i] & o.bits_[i];
  r.trim();
  return r;
}

bool CpuMask::operator==(const CpuMask& o) const { return bits_ == o.bits_; }

std::string CpuMask::to_string() const {
  std::string s;
  for (int c = first(); c >= 0;) {
    int e = c;
    while (test(e + 1)) ++e;
    if (!s.empty()) s += ',';
    s += std::to_string(c);
    if (e > c) s += "-" + std::to_string(e);
    c = next(e);
  }
  return s;
}

}  // namespace proxysim
