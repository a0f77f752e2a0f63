// Task storage and affinity helpers.
#include "kernel/task.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace proxysim {
namespace {

TEST(TaskArena, EveryTaskStartsACacheLineAndIsDestroyed) {
  TaskArena arena;
  std::vector<TaskPtr> tasks;
  std::set<const Task*> seen;
  for (int i = 0; i < 600; ++i) {  // more than two chunks
    tasks.push_back(arena.make());
    Task* p = tasks.back().get();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << i;
    EXPECT_TRUE(seen.insert(p).second) << i;
    EXPECT_EQ(p->prio, 120);  // constructed with the defaults
    // A name too long for the small-string buffer: a missing destructor leaks it, which the
    // sanitizer pass of `make test` (ASan's leak checker) reports.
    p->name = "a thread name longer than the SSO buffer " + std::to_string(i);
  }
  tasks.clear();
}

TEST(Task, AllowedFollowsTheMask) {
  Task p;
  CpuMask some = CpuMask::all(4);
  some.clear(2);
  p.set_cpus(some, 4);
  EXPECT_FALSE(p.cpus_all);
  EXPECT_EQ(p.nr_cpus_allowed, 3);
  EXPECT_TRUE(p.allowed(1));
  EXPECT_FALSE(p.allowed(2));
  p.set_cpus(CpuMask::all(4), 4);
  EXPECT_TRUE(p.cpus_all);
  for (int c = 0; c < 4; ++c) EXPECT_TRUE(p.allowed(c));
}

}  // namespace
}  // namespace proxysim
