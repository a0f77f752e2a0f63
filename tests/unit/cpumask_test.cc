// CpuMask keeps masks of up to 128 CPUs inline and larger ones on the heap: checked against a
// std::set reference on seeded random operations across that boundary (set, clear, &, copies,
// moves, comparisons).
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "proxysim/types.h"
#include "sim/event_queue.h"

namespace proxysim {
namespace {

CpuMask from_set(const std::set<int>& s) {
  CpuMask m;
  for (int c : s) m.set(c);
  return m;
}

void expect_same(const CpuMask& m, const std::set<int>& s, int limit) {
  for (int c = 0; c < limit; ++c) ASSERT_EQ(m.test(c), s.count(c) == 1) << "cpu " << c;
  EXPECT_EQ(m.weight(), static_cast<int>(s.size()));
  EXPECT_EQ(m.empty(), s.empty());
  EXPECT_EQ(m.first(), s.empty() ? -1 : *s.begin());
  EXPECT_EQ(m.last(), s.empty() ? -1 : *s.rbegin());
  std::vector<int> walked;
  for (int c = m.first(); c >= 0; c = m.next(c)) walked.push_back(c);
  EXPECT_EQ(walked, std::vector<int>(s.begin(), s.end()));
}

TEST(CpuMask, MatchesASetAcrossInlineAndHeapSizes) {
  for (int limit : {64, 128, 129, 200, 1024}) {
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      Rng rng(seed * 1000 + static_cast<uint64_t>(limit));
      std::set<int> a, b;
      CpuMask ma, mb;
      for (int step = 0; step < 300; ++step) {
        int c = static_cast<int>(rng.below(static_cast<uint64_t>(limit)));
        switch (rng.below(6)) {
          case 0:
          case 1:
            a.insert(c);
            ma.set(c);
            break;
          case 2:
            a.erase(c);
            ma.clear(c);
            break;
          case 3:
            b.insert(c);
            mb.set(c);
            break;
          case 4: {  // copy and move both ways
            CpuMask copy = ma;
            ASSERT_TRUE(copy == ma);
            CpuMask moved = std::move(copy);
            ASSERT_TRUE(moved == ma);
            copy = mb;  // assign to a moved-from mask
            ASSERT_TRUE(copy == mb);
            mb = moved;
            b = a;
            break;
          }
          default: {
            std::set<int> both;
            for (int x : a)
              if (b.count(x)) both.insert(x);
            CpuMask mand = ma & mb;
            expect_same(mand, both, limit);
            EXPECT_EQ(ma.intersects(mb), !both.empty());
            EXPECT_EQ(mand.subset_of(ma), true);
            EXPECT_EQ(ma == mb, a == b);
            EXPECT_TRUE(from_set(a) == ma);
            break;
          }
        }
        expect_same(ma, a, limit);
        expect_same(mb, b, limit);
      }
    }
  }
}

TEST(CpuMask, AllAndToString) {
  for (int n : {1, 64, 65, 128, 129, 1024}) {
    CpuMask m = CpuMask::all(n);
    EXPECT_EQ(m.weight(), n);
    EXPECT_EQ(m.to_string(), n == 1 ? "0" : "0-" + std::to_string(n - 1));
    CpuMask c = m;
    c.clear(n - 1);
    EXPECT_EQ(c.weight(), n - 1);
    EXPECT_TRUE(c.subset_of(m));
    EXPECT_FALSE(m.subset_of(c));
  }
  EXPECT_EQ(CpuMask::of({0, 1, 2, 5, 200}).to_string(), "0-2,5,200");
}

}  // namespace
}  // namespace proxysim
