// A fixed-size bitmap over the simulated CPUs, for the kernel-wide indexes that replace scans of
// every runqueue (the kernel keeps such masks too: nohz.idle_cpus_mask, rd->overloaded,
// rd->rto_mask). Unlike CpuMask (an affinity value) its size is set once and never trimmed, so
// set/clear are one word operation and a search is a word scan.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

namespace proxysim {

class CpuBitmap {
 public:
  void resize(int nr_cpus) { words_.assign((static_cast<size_t>(nr_cpus) + 63) / 64, 0); }
  void assign(int cpu, bool on) {
    uint64_t bit = uint64_t{1} << (cpu % 64);
    uint64_t& w = words_[static_cast<size_t>(cpu) / 64];
    w = on ? (w | bit) : (w & ~bit);
  }
  bool test(int cpu) const { return (words_[static_cast<size_t>(cpu) / 64] >> (cpu % 64)) & 1; }
  // First set bit >= cpu, or -1.
  int next_from(int cpu) const {
    size_t w = static_cast<size_t>(cpu) / 64;
    if (w >= words_.size()) return -1;
    uint64_t word = words_[w] & (~uint64_t{0} << (cpu % 64));
    for (;;) {
      if (word) return static_cast<int>(w * 64) + std::countr_zero(word);
      if (++w >= words_.size()) return -1;
      word = words_[w];
    }
  }

  // First clear bit >= cpu and < nr, or -1.
  int next_clear_from(int cpu, int nr) const {
    size_t w = static_cast<size_t>(cpu) / 64;
    if (cpu >= nr) return -1;
    uint64_t word = ~words_[w] & (~uint64_t{0} << (cpu % 64));
    for (;;) {
      if (word) {
        int c = static_cast<int>(w * 64) + std::countr_zero(word);
        return c < nr ? c : -1;
      }
      if (++w >= words_.size()) return -1;
      word = ~words_[w];
    }
  }

  // Calls f(c) for the set bits c in [start, nr) and then [0, start), in that order, until f
  // returns true; returns that c, or -1. The order of a scan "from start, wrapping" over CPUs.
  template <typename F>
  int find_wrapped(int start, int nr, F&& f) const {
    for (int c = next_from(start); c >= 0 && c < nr; c = next_from(c + 1))
      if (f(c)) return c;
    for (int c = next_from(0); c >= 0 && c < start; c = next_from(c + 1))
      if (f(c)) return c;
    return -1;
  }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace proxysim
