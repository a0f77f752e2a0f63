// The event queue pops in (time, kind rank, arming order), whatever the interleaving of arms,
// re-arms, cancels and pops: checked against a reference model on seeded random operations,
// with many ties, and with the heap's own invariants verified as it goes.
#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <tuple>
#include <vector>

namespace proxysim {
namespace {

// What the reference knows of a pending event: its order key and payload.
struct Pending {
  Time time;
  int rank;
  uint64_t armed;  // arming number
  int32_t a, b;
  auto key() const { return std::tuple(time, rank, armed); }
};

TEST(EventQueue, PopsInTimeRankArmingOrderThroughRearmsAndCancels) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    EventQueue q;
    const uint32_t nslots = seed % 3 == 0 ? 4 : 300;  // few slots: most arms move a pending one
    q.add_slots(nslots);
    std::vector<std::optional<Pending>> ref(nslots);
    uint64_t armed = 0;
    size_t pending = 0;
    Time now = 0;
    const uint64_t spread = seed % 2 ? 8 : 1000000;  // few distinct times: many ties
    for (int op = 0; op < 20000; ++op) {
      const uint64_t r = rng.below(100);
      const auto slot = static_cast<EventQueue::Slot>(rng.below(nslots));
      if (pending == 0 || r < 45) {
        Time t = now + static_cast<Time>(rng.below(spread));
        auto kind = static_cast<EvKind>(rng.below(6));
        auto a = static_cast<int32_t>(armed);
        q.arm(slot, t, kind, a, -a);
        if (!ref[slot]) ++pending;
        ref[slot] = Pending{t, static_cast<int>(kind), armed++, a, -a};
      } else if (r < 60) {
        q.cancel(slot);
        if (ref[slot]) --pending;
        ref[slot].reset();
      } else {
        uint32_t best = nslots;
        for (uint32_t s = 0; s < nslots; ++s)
          if (ref[s] && (best == nslots || ref[s]->key() < ref[best]->key())) best = s;
        ASSERT_EQ(q.top_time(), ref[best]->time);
        SimEvent e = q.pop();
        ASSERT_EQ(e.slot, best) << "seed " << seed << " op " << op;
        ASSERT_EQ(e.time, ref[best]->time);
        ASSERT_EQ(static_cast<int>(e.kind), ref[best]->rank);
        ASSERT_EQ(e.a, ref[best]->a);
        ASSERT_EQ(e.b, ref[best]->b);
        ASSERT_EQ(e.seq & ((uint64_t{1} << 56) - 1), ref[best]->armed);
        now = e.time;
        ref[best].reset();
        --pending;
      }
      ASSERT_EQ(q.size(), pending);
      ASSERT_EQ(q.armed(slot), ref[slot].has_value());
      if (op % 97 == 0) {
        ASSERT_EQ(q.verify(), "") << "seed " << seed << " op " << op;
      }
    }
  }
}

TEST(EventQueue, CancelledEventsNeverPopAndRearmingMovesTheEvent) {
  EventQueue q;
  q.add_slots(3);
  q.arm(0, 100, EvKind::kWorkDone, 7);
  q.arm(1, 50, EvKind::kTick, 8);
  q.arm(2, 75, EvKind::kHrtimer, 9);
  q.cancel(1);
  q.cancel(1);                          // cancelling what is not pending is a no-op
  q.arm(0, 60, EvKind::kWorkDone, 10);  // moves earlier, with its new payload
  q.arm(2, 200, EvKind::kHrtimer, 11);  // moves later
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q.verify(), "");
  SimEvent e = q.pop();
  EXPECT_EQ(e.slot, 0u);
  EXPECT_EQ(e.time, 60);
  EXPECT_EQ(e.a, 10);
  EXPECT_FALSE(q.armed(0));
  e = q.pop();
  EXPECT_EQ(e.slot, 2u);
  EXPECT_EQ(e.time, 200);
  EXPECT_EQ(e.a, 11);
  EXPECT_TRUE(q.empty());
}

// The same time and kind: the one armed first pops first, also when an earlier arming of a
// slot was moved (its sequence is that of the latest arming).
TEST(EventQueue, TiesFollowTheLatestArming) {
  EventQueue q;
  q.add_slots(2);
  q.arm(0, 10, EvKind::kHrtimer, 0);
  q.arm(1, 10, EvKind::kHrtimer, 1);
  q.arm(0, 10, EvKind::kHrtimer, 2);  // re-armed at the same time: now after slot 1
  EXPECT_EQ(q.pop().slot, 1u);
  EXPECT_EQ(q.pop().slot, 0u);
}

}  // namespace
}  // namespace proxysim
