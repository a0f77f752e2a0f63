#include "kernel/eevdf_tree.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace proxysim {

namespace {

// The treap operations on the node array n (slot 0 = none). Free functions on a base pointer:
// the node array does not move while they run.
inline bool before(const EevdfNode& a, const EevdfNode& b) {
  int64_t d = a.deadline - b.deadline;
  return d != 0 ? d < 0 : a.id < b.id;
}

// The augmentation of node i from its own keys and its children's.
inline void update(EevdfNode* n, uint32_t i) {
  EevdfNode& x = n[i];
  int64_t mv = x.vruntime;
  Time ms = x.slice;
  if (x.left) {
    if (n[x.left].min_vruntime - mv < 0) mv = n[x.left].min_vruntime;
    ms = std::min(ms, n[x.left].min_slice);
  }
  if (x.right) {
    if (n[x.right].min_vruntime - mv < 0) mv = n[x.right].min_vruntime;
    ms = std::min(ms, n[x.right].min_slice);
  }
  x.min_vruntime = mv;
  x.min_slice = ms;
}

// Splits subtree t into the nodes before `key` (l) and the rest (r).
void split(EevdfNode* n, uint32_t t, uint32_t key, uint32_t& l, uint32_t& r) {
  if (!t) {
    l = r = 0;
    return;
  }
  if (before(n[t], n[key])) {
    split(n, n[t].right, key, n[t].right, r);
    l = t;
  } else {
    split(n, n[t].left, key, l, n[t].left);
    r = t;
  }
  update(n, t);
}

uint32_t merge(EevdfNode* n, uint32_t a, uint32_t b) {
  if (!a) return b;
  if (!b) return a;
  if (n[a].heap_prio > n[b].heap_prio) {
    n[a].right = merge(n, n[a].right, b);
    update(n, a);
    return a;
  }
  n[b].left = merge(n, a, n[b].left);
  update(n, b);
  return b;
}

// The link of t to follow towards x's place in key order.
inline uint32_t& toward(EevdfNode* n, uint32_t t, uint32_t x) {
  return before(n[x], n[t]) ? n[t].left : n[t].right;
}

uint32_t insert_at(EevdfNode* n, uint32_t t, uint32_t x) {
  if (!t) {
    update(n, x);
    return x;
  }
  if (n[x].heap_prio > n[t].heap_prio) {
    split(n, t, x, n[x].left, n[x].right);
    update(n, x);
    return x;
  }
  uint32_t& link = toward(n, t, x);
  link = insert_at(n, link, x);
  update(n, t);
  return t;
}

uint32_t erase_at(EevdfNode* n, uint32_t t, uint32_t x) {
  if (t == x) return merge(n, n[t].left, n[t].right);
  uint32_t& link = toward(n, t, x);
  link = erase_at(n, link, x);
  update(n, t);
  return t;
}

}  // namespace

void EevdfTree::insert(Task* p) {
  uint32_t s = free_;
  if (s) {
    free_ = nodes_[s].left;
  } else {
    s = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  ++size_;
  EevdfNode* n = nodes_.data();
  const SchedEntity& se = p->se;
  n[s] = EevdfNode{.vruntime = se.vruntime,
                   .deadline = se.deadline,
                   .slice = se.slice,
                   .task = p,
                   .heap_prio = se.heap_prio,
                   .id = p->id};
  p->se.tree_slot = s;
  root_ = insert_at(n, root_, s);
  if (!leftmost_ || before(n[s], n[leftmost_])) leftmost_ = s;
}

void EevdfTree::erase(Task* p) {
  EevdfNode* n = nodes_.data();
  const uint32_t s = p->se.tree_slot;
  // A task erased from a tree it is not in (a dequeue from the wrong runqueue) would unlink
  // another task's node or write outside the pool: stop instead of corrupting memory.
  if (s == 0 || s >= nodes_.size() || n[s].task != p) [[unlikely]] {
    std::fprintf(stderr, "proxysim: internal error: %s is not in this EEVDF tree (slot %u)\n",
                 p->name.c_str(), s);
    std::abort();
  }
  if (leftmost_ == s) {
    // The successor of the first node: the first of its right subtree, else its parent on the
    // left spine (the path the erase below walks anyway).
    uint32_t next = 0;
    if (n[s].right) {
      next = n[s].right;
      while (n[next].left) next = n[next].left;
    } else {
      for (uint32_t t = root_; t != s; t = n[t].left) next = t;
    }
    leftmost_ = next;
  }
  root_ = erase_at(n, root_, s);
  n[s].task = nullptr;  // free slots are chained through `left`
  n[s].left = free_;
  free_ = s;
  --size_;
  p->se.tree_slot = 0;
}

std::string EevdfTree::verify_at(uint32_t i, size_t* count) const {
  const EevdfNode& n = nodes_[i];
  ++*count;
  const Task* p = n.task;
  if (!p) return fmt::format("slot {} is linked but free", i);
  if (p->se.tree_slot != i)
    return fmt::format("{} is in slot {} but records slot {}", p->name, i, p->se.tree_slot);
  if (n.vruntime != p->se.vruntime || n.deadline != p->se.deadline || n.slice != p->se.slice ||
      n.id != p->id || n.heap_prio != p->se.heap_prio)
    return fmt::format("{}: the tree's copy of its keys is stale (vruntime {}/{}, deadline {}/{})",
                       p->name, n.vruntime, p->se.vruntime, n.deadline, p->se.deadline);
  int64_t mv = n.vruntime;
  Time ms = n.slice;
  for (uint32_t c : {n.left, n.right}) {
    if (!c) continue;
    const EevdfNode& k = nodes_[c];
    if (!k.task) return fmt::format("{} links to free slot {}", p->name, c);
    if (k.heap_prio > n.heap_prio)
      return fmt::format("{} has a higher heap priority than its parent {}", k.task->name, p->name);
    if ((c == n.left) != before(k, n))
      return fmt::format("{} is on the wrong side of {}", k.task->name, p->name);
    std::string e = verify_at(c, count);
    if (!e.empty()) return e;
    if (k.min_vruntime - mv < 0) mv = k.min_vruntime;
    ms = std::min(ms, k.min_slice);
  }
  if (mv != n.min_vruntime || ms != n.min_slice)
    return fmt::format("{}: subtree minimum vruntime {} / slice {}, augmented {} / {}", p->name, mv,
                       ms, n.min_vruntime, n.min_slice);
  return "";
}

std::string EevdfTree::verify() const {
  size_t count = 0;
  if (root_) {
    std::string e = verify_at(root_, &count);
    if (!e.empty()) return e;
  }
  if (count != size_) return fmt::format("{} nodes reachable, {} counted", count, size_);
  size_t free = 0;
  for (uint32_t i = free_; i && free <= nodes_.size(); i = nodes_[i].left) {
    if (nodes_[i].task) return fmt::format("slot {} is on the free list but in use", i);
    ++free;
  }
  if (size_ + free + 1 != nodes_.size())
    return fmt::format("{} slots: {} in use, {} free", nodes_.size(), size_, free);
  // Order is checked per edge above, which bounds only a parent and its child; the in-order
  // sequence must also be sorted (a grandchild on the wrong side of its grandparent).
  std::vector<uint32_t> stack;
  uint32_t prev = 0, first = 0;
  for (uint32_t i = root_; i || !stack.empty();) {
    if (i) {
      stack.push_back(i);
      i = nodes_[i].left;
      continue;
    }
    i = stack.back();
    stack.pop_back();
    if (!first) first = i;
    if (prev && !before(nodes_[prev], nodes_[i]))
      return fmt::format("{} and {} are out of deadline order", nodes_[prev].task->name,
                         nodes_[i].task->name);
    prev = i;
    i = nodes_[i].right;
  }
  if (first != leftmost_)
    return fmt::format("cached leftmost {} is not the tree's first {}",
                       leftmost_ ? nodes_[leftmost_].task->name : "none",
                       first ? nodes_[first].task->name : "none");
  return "";
}

}  // namespace proxysim
