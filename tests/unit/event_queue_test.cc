// The event queue pops in (time, kind rank, arming order), whatever the interleaving of arms,
// re-arms, cancels and pops of cancellable and fire-once slots: checked against a reference
// model on seeded random operations, with many ties, and with the heap's own invariants
// verified as it goes.
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
    // Few slots: most arms move a pending one. The upper half are fire-once.
    const uint32_t nslots = seed % 3 == 0 ? 4 : 300;
    std::vector<EventQueue::Slot> id(nslots);
    for (uint32_t s = 0; s < nslots / 2; ++s) id[s] = q.add_cancellable();
    q.add_fire_once(nslots - nslots / 2);
    for (uint32_t s = nslots / 2; s < nslots; ++s) id[s] = EventQueue::kFireOnce | (s - nslots / 2);
    auto fire_once = [&](uint32_t s) { return s >= nslots / 2; };
    std::vector<std::optional<Pending>> ref(nslots);
    uint64_t armed = 0;
    size_t pending = 0;
    Time now = 0;
    const uint64_t spread = seed % 2 ? 8 : 1000000;  // few distinct times: many ties
    for (int op = 0; op < 20000; ++op) {
      const uint64_t r = rng.below(100);
      const auto slot = static_cast<uint32_t>(rng.below(nslots));
      if (pending == 0 || r < 45) {
        if (fire_once(slot) && ref[slot]) continue;  // armed again only once it fired
        Time t = now + static_cast<Time>(rng.below(spread));
        auto kind = static_cast<EvKind>(rng.below(6));
        auto a = static_cast<int32_t>(armed);
        q.arm(id[slot], t, kind, a, -a);
        if (!ref[slot]) ++pending;
        ref[slot] = Pending{t, static_cast<int>(kind), armed++, a, -a};
      } else if (r < 60) {
        if (fire_once(slot)) continue;
        q.cancel(id[slot]);
        if (ref[slot]) --pending;
        ref[slot].reset();
      } else {
        uint32_t best = nslots;
        for (uint32_t s = 0; s < nslots; ++s)
          if (ref[s] && (best == nslots || ref[s]->key() < ref[best]->key())) best = s;
        ASSERT_EQ(q.top_time(), ref[best]->time);
        SimEvent e = q.pop();
        ASSERT_EQ(e.slot, id[best]) << "seed " << seed << " op " << op;
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
      ASSERT_EQ(q.armed(id[slot]), ref[slot].has_value());
      if (op % 97 == 0) {
        ASSERT_EQ(q.verify(), "") << "seed " << seed << " op " << op;
      }
    }
  }
}

TEST(EventQueue, CancelledEventsNeverPopAndRearmingMovesTheEvent) {
  EventQueue q;
  const EventQueue::Slot s0 = q.add_cancellable(), s1 = q.add_cancellable(),
                         s2 = q.add_cancellable();
  q.add_fire_once(1);
  const EventQueue::Slot f = EventQueue::kFireOnce | 0;
  q.arm(s0, 100, EvKind::kWorkDone, 7);
  q.arm(s1, 50, EvKind::kTick, 8);
  q.arm(s2, 75, EvKind::kHrtimer, 9);
  q.arm(f, 80, EvKind::kHrtimer, 12);
  q.cancel(s1);
  q.cancel(s1);                          // cancelling what is not pending is a no-op
  q.arm(s0, 60, EvKind::kWorkDone, 10);  // moves earlier, with its new payload
  q.arm(s2, 200, EvKind::kHrtimer, 11);  // moves later
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q.verify(), "");
  EXPECT_TRUE(q.armed(f));
  SimEvent e = q.pop();
  EXPECT_EQ(e.slot, s0);
  EXPECT_EQ(e.time, 60);
  EXPECT_EQ(e.a, 10);
  EXPECT_FALSE(q.armed(s0));
  e = q.pop();
  EXPECT_EQ(e.slot, f);
  EXPECT_EQ(e.a, 12);
  EXPECT_FALSE(q.armed(f));
  e = q.pop();
  EXPECT_EQ(e.slot, s2);
  EXPECT_EQ(e.time, 200);
  EXPECT_EQ(e.a, 11);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.verify(), "");
}

// The same time and kind: the one armed first pops first, also when an earlier arming of a
// slot was moved (its sequence is that of the latest arming).
TEST(EventQueue, TiesFollowTheLatestArming) {
  EventQueue q;
  const EventQueue::Slot s0 = q.add_cancellable(), s1 = q.add_cancellable();
  q.arm(s0, 10, EvKind::kHrtimer, 0);
  q.arm(s1, 10, EvKind::kHrtimer, 1);
  q.arm(s0, 10, EvKind::kHrtimer, 2);  // re-armed at the same time: now after s1
  EXPECT_EQ(q.pop().slot, s1);
  EXPECT_EQ(q.pop().slot, s0);
}

}  // namespace
}  // namespace proxysim
