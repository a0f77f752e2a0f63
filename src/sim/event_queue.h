// The engine's event queue: a binary min-heap ordered by (time, kind rank, insertion sequence).
//
// Invariants:
//  1. Events pop in non-decreasing time; ties break by rank (an explicit order of event kinds),
//     then by insertion order. Nothing depends on heap layout or pointers.
//  2. Storage is one vector that only grows to the high-water mark: no allocation per event once
//     warmed up. Cancelled events are not removed; their owner bumps a generation counter and the
//     handler drops an event whose generation no longer matches (lazy deletion). They still count
//     as handled events when they pop, so the queue holds them: a busy 16-CPU run keeps ~1,000
//     entries, most of them cancelled fair-server and work-completion timers up to 1 s ahead.
//  3. The order key (time, rank, sequence) is one 128-bit unsigned integer, compared without
//     branches; time is never negative. A node is 32 bytes (was 40), two per cache line.
//  4. The heap is 1-based in a 64-byte aligned array: the two children of node i, 2i and 2i + 1,
//     share one cache line, so a sift-down loads one line per level, not two (with the root at
//     0, siblings 2i + 1 and 2i + 2 straddled a line boundary). With 100,000 pending timers the
//     lower levels miss the caches at every pop.
//  (Tried and measured worse on the 16-CPU mix: a 4-ary heap, +2 % instructions, and a radix
//  heap, +7 %: events are ns apart and ~1 s ranges, so each moved through ~20 buckets.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
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

// std::allocator with 64-byte alignment (invariant 4).
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, size_t) { ::operator delete (p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const {
    return true;
  }
};

class EventQueue {
 public:
  EventQueue() : heap_(1) {}  // heap_[0] is unused: the root is heap_[1]

  void push(Time t, EvKind kind, int32_t a, int32_t b = 0, uint64_t gen = 0) {
    uint64_t seq = (static_cast<uint64_t>(kind) << 56) | (next_seq_++ & ((uint64_t{1} << 56) - 1));
    Node e{(static_cast<Key>(static_cast<uint64_t>(t)) << 64) | seq, a, b, gen};
    heap_.push_back(e);
    Node* h = heap_.data();
    size_t i = heap_.size() - 1;
    while (i > 1) {
      size_t p = i / 2;
      if (!(e.key < h[p].key)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }
  bool empty() const { return heap_.size() == 1; }
  size_t size() const { return heap_.size() - 1; }
  SimEvent top() const { return to_event(heap_[1]); }
  // REQUIRES: !empty(). Floyd's bottom-up deletion: the hole left at the root walks down to a
  // leaf along the smaller children (one comparison per level instead of two), then the last
  // node rises from there.
  SimEvent pop() {
    SimEvent top = to_event(heap_[1]);
    Node last = heap_.back();
    heap_.pop_back();
    const size_t n = heap_.size();  // nodes are 1 .. n - 1
    if (n == 1) return top;
    Node* h = heap_.data();
    size_t i = 1;
    for (size_t c = 2; c < n; c = 2 * i) {
      if (c + 1 < n && h[c + 1].key < h[c].key) ++c;
      h[i] = h[c];
      i = c;
    }
    while (i > 1) {
      size_t p = i / 2;
      if (!(last.key < h[p].key)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = last;
    return top;
  }
  void reserve(size_t n) { heap_.reserve(n + 1); }

 private:
  __extension__ typedef unsigned __int128 Key;  // time << 64 | rank << 56 | sequence
  struct Node {
    Key key;
    int32_t a;
    int32_t b;
    uint64_t gen;
  };
  static SimEvent to_event(const Node& e) {
    uint64_t seq = static_cast<uint64_t>(e.key);
    return SimEvent{
        static_cast<Time>(e.key >> 64), seq, static_cast<EvKind>(seq >> 56), e.a, e.b, e.gen};
  }

  std::vector<Node, CacheLineAllocator<Node>> heap_;
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
