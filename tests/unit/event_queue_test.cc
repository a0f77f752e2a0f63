// The event queue pops in (time, kind rank, insertion order), whatever the interleaving of pushes
// and pops: checked against a sorted reference on seeded random operations, with many ties.
#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

namespace proxysim {
namespace {

TEST(EventQueue, PopsInTimeRankSequenceOrder) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    EventQueue q;
    // Reference: (time, rank, insertion number, a) kept sorted; pop takes the front.
    std::vector<std::tuple<Time, int, uint64_t, int32_t>> ref;
    uint64_t inserted = 0;
    Time now = 0;
    const uint64_t spread = seed % 2 ? 8 : 1000000;  // few distinct times: many ties
    for (int op = 0; op < 20000; ++op) {
      if (ref.empty() || rng.below(100) < 55) {
        Time t = now + static_cast<Time>(rng.below(spread));
        auto kind = static_cast<EvKind>(rng.below(6));
        int32_t a = static_cast<int32_t>(inserted);
        q.push(t, kind, a, -a, inserted * 3);
        ref.emplace_back(t, static_cast<int>(kind), inserted++, a);
        std::push_heap(ref.begin(), ref.end(), std::greater<>());
      } else {
        std::pop_heap(ref.begin(), ref.end(), std::greater<>());
        auto [t, rank, n, a] = ref.back();
        ref.pop_back();
        ASSERT_EQ(q.top().time, t);
        SimEvent e = q.pop();
        ASSERT_EQ(e.time, t) << "seed " << seed << " op " << op;
        ASSERT_EQ(static_cast<int>(e.kind), rank);
        ASSERT_EQ(e.a, a);
        ASSERT_EQ(e.b, -a);
        ASSERT_EQ(e.gen, n * 3);
        ASSERT_EQ(e.seq & ((uint64_t{1} << 56) - 1), n);
        now = t;
      }
      ASSERT_EQ(q.size(), ref.size());
    }
  }
}

}  // namespace
}  // namespace proxysim
