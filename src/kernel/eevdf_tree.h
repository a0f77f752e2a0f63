// The tree of a cfs_rq: its queued entities ordered by virtual deadline, augmented with the
// minimum vruntime and the minimum slice of every subtree, so that the earliest eligible deadline
// (__pick_eevdf) and cfs_rq_min_slice() cost O(log n), as with the kernel's augmented rbtree
// (kernel/sched/fair.c: __entity_less(), min_vruntime_update(), min_slice_update()). Here it is a
// treap: each entity carries a random heap priority; the shape depends on nothing else, and no
// result of a pick depends on the shape (the order (deadline, id) is total).
//
// Storage: the nodes are not in the Task but in a pool owned by the runqueue, one cache line
// each, and a node holds copies of the keys it is ordered and augmented by (vruntime, deadline,
// slice, id), which the fair class never changes while the entity is in the tree. A walk then
// touches the runqueue's own dense array, a few pages, instead of a line in each of ~8 Tasks
// spread over the whole task set (at 1,024 CPUs x 100,000 tasks, 82 MB of Tasks: a TLB and
// cache miss per level; see README "Optimisations").
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel/task.h"

namespace proxysim {

struct alignas(64) EevdfNode {
  int64_t vruntime = 0;  // the entity's keys, copied at insertion
  int64_t deadline = 0;
  int64_t min_vruntime = 0;  // augmented: smallest vruntime in this subtree
  Time slice = 0;
  Time min_slice = 0;  // augmented: smallest slice in this subtree
  Task* task = nullptr;
  uint32_t left = 0;  // slots; 0 = none
  uint32_t right = 0;
  uint32_t heap_prio = 0;
  int32_t id = 0;  // tie-break of equal deadlines
};
static_assert(sizeof(EevdfNode) == 64, "one node per cache line");

class EevdfTree {
 public:
  EevdfTree() : nodes_(1) {}  // slot 0 stands for "no node"

  bool empty() const { return root_ == 0; }
  size_t size() const { return size_; }
  // Slots in the pool, used or free: the largest size() the tree has had.
  size_t slots() const { return nodes_.size() - 1; }
  // rb_first_cached(): the entity with the earliest deadline, or nullptr.
  Task* first() const { return nodes_[leftmost_].task; }
  // The subtree augmentations at the root (the tree must not be empty).
  int64_t min_vruntime() const { return nodes_[root_].min_vruntime; }
  Time min_slice() const { return nodes_[root_].min_slice; }

  void insert(Task* p);
  void erase(Task* p);

  // __pick_eevdf()'s search: the entity with the earliest deadline among those whose vruntime
  // passes `eligible` (vruntime_eligible()), or nullptr. The leftmost entity is tried first,
  // as the kernel does: it is the earliest of all, and costs no walk.
  template <class Eligible>
  Task* pick(Eligible eligible) const {
    const EevdfNode* n = nodes_.data();
    if (leftmost_ && eligible(n[leftmost_].vruntime)) return n[leftmost_].task;
    for (uint32_t i = root_; i;) {
      uint32_t l = n[i].left;
      // Eligible entities on the left have earlier deadlines than any other.
      if (l && eligible(n[l].min_vruntime)) {
        i = l;
        continue;
      }
      if (eligible(n[i].vruntime)) return n[i].task;
      i = n[i].right;
    }
    return nullptr;
  }

  // Calls f(Task*) for every entity, in preorder.
  template <class F>
  void for_each(F&& f) const {
    for_each_at(root_, f);
  }

  // The structure's invariants (order, heap, augmentation, node copies equal the entities'
  // fields, slots, cached leftmost): "" when they hold, else what is wrong. For --check.
  std::string verify() const;

 private:
  std::string verify_at(uint32_t i, size_t* count) const;
  template <class F>
  void for_each_at(uint32_t i, F& f) const {
    if (!i) return;
    f(nodes_[i].task);
    for_each_at(nodes_[i].left, f);
    for_each_at(nodes_[i].right, f);
  }

  std::vector<EevdfNode> nodes_;
  uint32_t free_ = 0;  // released slots, chained through `left`, reused last-in first-out
  uint32_t size_ = 0;
  uint32_t root_ = 0;
  uint32_t leftmost_ = 0;
};

}  // namespace proxysim
