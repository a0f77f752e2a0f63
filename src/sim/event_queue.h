// The engine's event queue: a binary min-heap ordered by (time, kind rank, insertion sequence).
//
// Invariants:
//  1. Events pop in non-decreasing time; ties break by rank (an explicit order of event kinds),
//     then by insertion order. Nothing depends on heap layout or pointers.
//  2. Storage is one vector that only grows to the high-water mark: no allocation per event once
//     warmed up. Cancelled events are not removed; their owner bumps a generation counter and the
//     handler drops an event whose generation no longer matches (lazy deletion).
#pragma once

#include <cstdint>
#include <vector>

#include "proxysim/types.h"

namespace proxysim {

// Event kinds, in their tie-break rank order at equal time: hardware timers first (they are what
// wakes tasks), then IPIs and in-flight migrations landing, then work completing (a task that
// finishes its work exactly at a tick is done before the tick charges it), then the tick.
enum class EvKind : uint8_t {
  kHrtimer = 0,    // a = task id (sleep/timer expiry) ; gen = task timer generation
  kDlTimer,        // a = task id (CBS replenishment / dl_server timer when a < 0: cpu = -a-1)
  kIpi,            // a = target cpu: deliver wake list and/or reschedule
  kMigrateArrive,  // a = task id, b = destination cpu
  kWorkDone,       // a = cpu ; gen = rq work generation (curr's burst completes)
  kTick,           // a = cpu ; gen = rq tick generation
  kSimEnd,
};

struct SimEvent {
  Time time;
  uint64_t seq;  // rank in the top 8 bits, insertion sequence below
  EvKind kind;
  int32_t a;
  int32_t b;
  uint64_t gen;
};

class EventQueue {
 public:
  void push(Time t, EvKind kind, int32_t a, int32_t b = 0, uint64_t gen = 0) {
    uint64_t key = (static_cast<uint64_t>(kind) << 56) | (next_seq_++ & ((uint64_t{1} << 56) - 1));
    heap_.push_back(SimEvent{t, key, kind, a, b, gen});
    sift_up(heap_.size() - 1);
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const SimEvent& top() const { return heap_.front(); }
  SimEvent pop() {
    SimEvent e = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
    return e;
  }
  void reserve(size_t n) { heap_.reserve(n); }

 private:
  static bool less(const SimEvent& x, const SimEvent& y) {
    return x.time != y.time ? x.time < y.time : x.seq < y.seq;
  }
  void sift_up(size_t i) {
    SimEvent e = heap_[i];
    while (i > 0) {
      size_t p = (i - 1) / 2;
      if (!less(e, heap_[p])) break;
      heap_[i] = heap_[p];
      i = p;
    }
    heap_[i] = e;
  }
  void sift_down(size_t i) {
    SimEvent e = heap_[i];
    size_t n = heap_.size();
    for (;;) {
      size_t l = 2 * i + 1;
      if (l >= n) break;
      size_t c = (l + 1 < n && less(heap_[l + 1], heap_[l])) ? l + 1 : l;
      if (!less(heap_[c], e)) break;
      heap_[i] = heap_[c];
      i = c;
    }
    heap_[i] = e;
  }

  std::vector<SimEvent> heap_;
  uint64_t next_seq_ = 0;
};

// The one PRNG of a run (xoshiro256**, seeded through splitmix64). Deterministic on any machine.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    uint64_t r = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, n) (n > 0), by rejection so that every value is equally likely.
  uint64_t below(uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = next();
    while (r >= limit);
    return r % n;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace proxysim
