// The engine's event queue: a binary min-heap ordered by (time, kind rank, arming sequence), of
// timers that each have a slot.
//
// Invariants:
//  1. Events pop in non-decreasing time; ties break by rank (an explicit order of event kinds),
//     then by the order in which they were armed. Nothing depends on heap layout or pointers.
//  2. A slot (one per source: a CPU's work-completion timer, tick, IPI and fair-server timer, a
//     task's hrtimer, DEADLINE timer and migration landing) has at most one pending event, as an
//     hrtimer is queued or not. A cancelled timer never pops, so it is not an event. (Until the
//     fourth round of issue 8 cancellation was lazy: the stale entries stayed queued, popped
//     and counted as events; a busy 16-CPU run kept ~750 entries of which ~650 were cancelled
//     fair-server and work timers up to 1 s ahead.)
//  3. Slots are of two sorts. A cancellable slot (add_cancellable()) can be re-armed while
//     pending, which moves its event (hrtimer_start() of a queued timer), and cancelled
//     (hrtimer_try_to_cancel()); pos_[slot] is the heap index of its event, 0 when none, and
//     heap_[pos_[s]].slot == s. A fire-once slot (kFireOnce | n, add_fire_once()) is armed
//     again only after its event popped: it keeps only an armed flag, so the nodes' moves in
//     the heap write no position for it. (At 1,024 CPUs x 100,000 tasks nearly every pending
//     event is a task's sleep timer, and a position per move was a cache miss per heap level.)
//  4. Storage only grows to the high-water mark: no allocation per event once warmed up.
//  5. The order key (time, rank, sequence) is one 128-bit unsigned integer, compared without
//     branches; time is never negative. A node is 32 bytes, two per cache line.
//  6. The heap is 1-based in a 64-byte aligned array: the two children of node i, 2i and 2i + 1,
//     share one cache line, so a sift-down loads one line per level, not two.
//  (Tried and measured worse on the 16-CPU mix, with lazy cancellation: a 4-ary heap, +2 %
//  instructions, and a radix heap, +7 %: events are ns apart and ~1 s ranges, so each moved
//  through ~20 buckets.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "proxysim/types.h"

namespace proxysim {

// Event kinds, in their tie-break rank order at equal time: hardware timers first (they are what
// wakes tasks), then IPIs and in-flight migrations landing, then work completing (a task that
// finishes its work exactly at a tick is done before the tick charges it), then the tick.
enum class EvKind : uint8_t {
  kHrtimer = 0,    // a = task id (sleep/timer expiry); b = 1 once the CPU has left idle for it
  kDlTimer,        // a = task id (CBS replenishment), or -1 for the fair server; b = cpu
  kIpi,            // a = target cpu: deliver wake list and/or reschedule
  kMigrateArrive,  // a = task id, b = destination cpu
  kWorkDone,       // a = cpu (curr's burst completes)
  kTick,           // a = cpu
  kSimEnd,
};

struct SimEvent {
  Time time;
  uint64_t seq;  // rank in the top 8 bits, arming sequence below
  EvKind kind;
  int32_t a;
  int32_t b;
  uint32_t slot;
};

// std::allocator with 64-byte alignment (invariant 6).
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
  using Slot = uint32_t;
  static constexpr Slot kFireOnce = Slot{1} << 31;  // the mark of a fire-once slot
  EventQueue()
      : heap_(1), pos_(1) {}  // heap_[0] is unused (the root is heap_[1]); pos_[0]
                              // is where the moves of fire-once nodes write

  // A new cancellable slot.
  Slot add_cancellable() {
    pos_.push_back(0);
    return static_cast<Slot>(pos_.size() - 1);
  }
  // Makes fire-once slots kFireOnce | 0 .. n - 1 usable (grows only).
  void add_fire_once(size_t n) {
    if (fired_.size() < n) fired_.resize(n, 1);
  }
  bool armed(Slot slot) const {
    return slot & kFireOnce ? !fired_[slot & ~kFireOnce] : pos_[slot] != 0;
  }

  // Arms `slot` to fire at t with this kind and payload. A pending event of a cancellable slot
  // is replaced: it moves to its new place, with a new arming sequence.
  // REQUIRES: a fire-once slot is not armed.
  void arm(Slot slot, Time t, EvKind kind, int32_t a, int32_t b = 0) {
    uint64_t seq = (static_cast<uint64_t>(kind) << 56) | (next_seq_++ & ((uint64_t{1} << 56) - 1));
    Node e{(static_cast<Key>(static_cast<uint64_t>(t)) << 64) | seq, a, b, slot,
           slot & kFireOnce ? 0 : slot};
    size_t i = slot & kFireOnce ? 0 : pos_[slot];
    if (i == 0) {
      if (slot & kFireOnce) fired_[slot & ~kFireOnce] = 0;
      heap_.push_back(e);
      sift_up(heap_.size() - 1, e);
    } else {
      settle(i, e);
    }
  }
  // Removes the pending event of a cancellable `slot`, if any.
  void cancel(Slot slot) {
    size_t i = pos_[slot];
    if (i == 0) return;
    pos_[slot] = 0;
    Node last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;  // it was the last node
    settle(i, last);
  }

  bool empty() const { return heap_.size() == 1; }
  size_t size() const { return heap_.size() - 1; }
  // REQUIRES: !empty().
  Time top_time() const { return static_cast<Time>(heap_[1].key >> 64); }
  SimEvent top() const { return to_event(heap_[1]); }
  // REQUIRES: !empty(). Floyd's bottom-up deletion: the hole left at the root walks down to a
  // leaf along the smaller children (one comparison per level instead of two), then the last
  // node rises from there.
  SimEvent pop() {
    SimEvent top = to_event(heap_[1]);
    if (top.slot & kFireOnce)
      fired_[top.slot & ~kFireOnce] = 1;
    else
      pos_[top.slot] = 0;
    Node last = heap_.back();
    heap_.pop_back();
    const size_t n = heap_.size();  // nodes are 1 .. n - 1
    if (n == 1) return top;
    Node* h = heap_.data();
    size_t i = 1;
    for (size_t c = 2; c < n; c = 2 * i) {
      if (c + 1 < n && h[c + 1].key < h[c].key) ++c;
      place(i, h[c]);
      i = c;
    }
    sift_up(i, last);
    return top;
  }
  void reserve(size_t n) { heap_.reserve(n + 1); }

  // Invariants 1 and 3 over the whole heap: "" when they hold, else what is wrong.
  std::string verify() const;

 private:
  __extension__ typedef unsigned __int128 Key;  // time << 64 | rank << 56 | sequence
  struct Node {
    Key key;
    int32_t a;
    int32_t b;
    Slot slot;
    uint32_t pos_index;  // where its moves are written in pos_: its slot, or 0 if fire-once
  };
  static SimEvent to_event(const Node& e) {
    uint64_t seq = static_cast<uint64_t>(e.key);
    return SimEvent{
        static_cast<Time>(e.key >> 64), seq, static_cast<EvKind>(seq >> 56), e.a, e.b, e.slot};
  }
  void place(size_t i, const Node& e) {
    heap_[i] = e;
    pos_[e.pos_index] = static_cast<uint32_t>(i);
  }
  // Puts e in the place of node i, which it replaces: above it or below it.
  void settle(size_t i, const Node& e) {
    if (e.key < heap_[i].key)
      sift_up(i, e);
    else
      sift_down(i, e);
  }
  // Puts e at hole i or above it.
  void sift_up(size_t i, const Node& e) {
    Node* h = heap_.data();
    while (i > 1) {
      size_t p = i / 2;
      if (!(e.key < h[p].key)) break;
      place(i, h[p]);
      i = p;
    }
    place(i, e);
  }
  // Puts e at hole i or below it.
  void sift_down(size_t i, const Node& e) {
    Node* h = heap_.data();
    const size_t n = heap_.size();
    for (size_t c = 2 * i; c < n; c = 2 * i) {
      if (c + 1 < n && h[c + 1].key < h[c].key) ++c;
      if (!(h[c].key < e.key)) break;
      place(i, h[c]);
      i = c;
    }
    place(i, e);
  }

  std::vector<Node, CacheLineAllocator<Node>> heap_;
  std::vector<uint32_t> pos_;   // cancellable slot -> heap index (invariant 3)
  std::vector<uint8_t> fired_;  // fire-once slot -> 1 when not pending
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
