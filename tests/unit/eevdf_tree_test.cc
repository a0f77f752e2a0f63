// EevdfTree against a brute-force model: random inserts and erases, and after each one the
// structure's own invariants (verify()), the first entity, the root augmentations and the
// eligible pick for random thresholds equal what a scan of the queued set gives.
#include "kernel/eevdf_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "sim/event_queue.h"

namespace proxysim {
namespace {

bool earlier(const Task* a, const Task* b) {
  return a->se.deadline != b->se.deadline ? a->se.deadline < b->se.deadline : a->id < b->id;
}

TEST(EevdfTree, MatchesABruteForceModel) {
  Rng rng(11);
  std::vector<std::unique_ptr<Task>> tasks;
  for (int i = 0; i < 300; ++i) {
    auto t = std::make_unique<Task>();
    t->id = i;
    t->name = "t" + std::to_string(i);
    t->se.heap_prio = static_cast<uint32_t>(rng.next());
    tasks.push_back(std::move(t));
  }
  EevdfTree tree;
  std::vector<Task*> queued;
  size_t most = 0;
  for (int step = 0; step < 20000; ++step) {
    Task* p = tasks[rng.below(tasks.size())].get();
    if (p->se.in_tree()) {
      tree.erase(p);
      queued.erase(std::find(queued.begin(), queued.end(), p));
    } else {
      // Few distinct deadlines, so that ties (broken by id) are common.
      p->se.vruntime = static_cast<int64_t>(rng.below(1000)) - 500;
      p->se.deadline = p->se.vruntime + static_cast<int64_t>(rng.below(4)) * 100;
      p->se.slice = static_cast<Time>(1 + rng.below(5));
      tree.insert(p);
      queued.push_back(p);
    }
    ASSERT_EQ(tree.verify(), "") << "step " << step;
    ASSERT_EQ(tree.size(), queued.size());
    most = std::max(most, queued.size());
    // Freed slots are reused: the pool never grows past the largest queue.
    ASSERT_EQ(tree.slots(), most);
    ASSERT_EQ(tree.empty(), queued.empty());
    if (queued.empty()) {
      EXPECT_EQ(tree.first(), nullptr);
      continue;
    }
    EXPECT_EQ(tree.first(), *std::min_element(queued.begin(), queued.end(), earlier));
    int64_t min_v = INT64_MAX;
    Time min_s = INT64_MAX;
    for (const Task* q : queued) {
      min_v = std::min(min_v, q->se.vruntime);
      min_s = std::min(min_s, q->se.slice);
    }
    EXPECT_EQ(tree.min_vruntime(), min_v);
    EXPECT_EQ(tree.min_slice(), min_s);
    // The eligible entity with the earliest deadline, for a threshold V: vruntime <= V.
    const int64_t v = static_cast<int64_t>(rng.below(1200)) - 600;
    const Task* want = nullptr;
    for (const Task* q : queued)
      if (q->se.vruntime <= v && (!want || earlier(q, want))) want = q;
    EXPECT_EQ(tree.pick([v](int64_t x) { return x <= v; }), want) << "step " << step;
  }
  for (Task* p : queued) tree.erase(p);
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.verify(), "");
}

TEST(EevdfTree, VerifyReportsAKeyChangedInPlace) {
  // The fair class must take an entity out of the tree before changing its vruntime, deadline
  // or slice; --check catches a change made in place.
  Task a, b;
  a.id = 0;
  a.name = "a";
  b.id = 1;
  b.name = "b";
  b.se.deadline = 10;
  EevdfTree tree;
  tree.insert(&a);
  tree.insert(&b);
  ASSERT_EQ(tree.verify(), "");
  b.se.vruntime = -5;
  EXPECT_NE(tree.verify().find("b: the tree's copy of its keys is stale"), std::string::npos)
      << tree.verify();
}

}  // namespace
}  // namespace proxysim
