// cpudl (kernel/sched/cpudeadline.c): the CPUs with DEADLINE work as a bitmap (the complement
// of the kernel's free_cpus, for the searches of a free or busy CPU) and as a max-heap keyed by
// the earliest deadline queued on or arriving at each, so that find_later_rq() finds the CPU
// whose earliest deadline is latest in O(1) when no CPU is free of DEADLINE work, and an update
// costs O(log n). (Without the heap that search visited every busy CPU: 4 µs at 1,024 CPUs,
// BM_FindLaterRq.)
//
// Invariants:
//  1. heap_ holds each present CPU once; pos_[cpu] is its index, -1 when absent; busy_ has
//     exactly the present CPUs.
//  2. A CPU is above its children in (key descending, CPU ascending) order: the top is the CPU
//     a scan of the present CPUs in ascending order keeping the first strictly latest key
//     would choose (the kernel's heap breaks ties by its own layout; here they are explicit).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/cpu_bitmap.h"
#include "proxysim/types.h"

namespace proxysim {

class CpuDl {
 public:
  void resize(int nr_cpus) {
    key_.assign(static_cast<size_t>(nr_cpus), 0);
    pos_.assign(static_cast<size_t>(nr_cpus), -1);
    heap_.clear();
    busy_.resize(nr_cpus);
  }
  bool present(int cpu) const { return pos_[static_cast<size_t>(cpu)] >= 0; }
  // The present CPUs (those with DEADLINE work queued or arriving).
  const CpuBitmap& busy() const { return busy_; }
  // Adds cpu with `key`, or moves it to its new key (cpudl_set()).
  void set(int cpu, Time key) {
    const size_t c = static_cast<size_t>(cpu);
    key_[c] = key;
    int i = pos_[c];
    if (i < 0) {
      i = static_cast<int>(heap_.size());
      heap_.push_back(cpu);
      pos_[c] = i;
      busy_.assign(cpu, true);
    }
    sift_down(sift_up(i));
  }
  // Removes cpu if present (cpudl_clear()).
  void clear(int cpu) {
    const size_t c = static_cast<size_t>(cpu);
    int i = pos_[c];
    if (i < 0) return;
    pos_[c] = -1;
    busy_.assign(cpu, false);
    const int last = heap_.back();
    heap_.pop_back();
    if (i == static_cast<int>(heap_.size())) return;
    heap_[static_cast<size_t>(i)] = last;
    pos_[static_cast<size_t>(last)] = i;
    sift_down(sift_up(i));
  }
  // The CPU with the latest key (the lowest-numbered of equals), or -1 when none is present.
  int max_cpu() const { return heap_.empty() ? -1 : heap_.front(); }
  Time key(int cpu) const { return key_[static_cast<size_t>(cpu)]; }
  size_t size() const { return heap_.size(); }

  // Invariants 1 and 2: "" when they hold, else what is wrong.
  std::string verify() const;

 private:
  // a is above b.
  bool above(int a, int b) const {
    const Time ka = key_[static_cast<size_t>(a)], kb = key_[static_cast<size_t>(b)];
    return ka != kb ? ka > kb : a < b;
  }
  void put(int i, int cpu) {
    heap_[static_cast<size_t>(i)] = cpu;
    pos_[static_cast<size_t>(cpu)] = i;
  }
  int sift_up(int i) {
    const int cpu = heap_[static_cast<size_t>(i)];
    while (i > 0) {
      const int p = (i - 1) / 2;
      if (!above(cpu, heap_[static_cast<size_t>(p)])) break;
      put(i, heap_[static_cast<size_t>(p)]);
      i = p;
    }
    put(i, cpu);
    return i;
  }
  void sift_down(int i) {
    const int cpu = heap_[static_cast<size_t>(i)];
    const int n = static_cast<int>(heap_.size());
    for (int c = 2 * i + 1; c < n; c = 2 * i + 1) {
      if (c + 1 < n && above(heap_[static_cast<size_t>(c + 1)], heap_[static_cast<size_t>(c)])) ++c;
      if (!above(heap_[static_cast<size_t>(c)], cpu)) break;
      put(i, heap_[static_cast<size_t>(c)]);
      i = c;
    }
    put(i, cpu);
  }

  std::vector<int> heap_;
  std::vector<Time> key_;  // per CPU, meaningful while present
  std::vector<int> pos_;   // per CPU
  CpuBitmap busy_;
};

}  // namespace proxysim
