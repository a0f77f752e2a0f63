// run_ordered() (src/util/ordered_parallel.h), what `compare --jobs` and `stress --jobs` stand on:
// every item is worked once, emitted in index order whatever the order the work ends in, no
// more than ordered_window(jobs) items are ahead of the last one emitted, a false from emit stops
// it early, and an exception in a worker reaches the caller in its item's turn.
#include "util/ordered_parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace proxysim {
namespace {

// Work items that end out of order: item i sleeps (i * 7919 % 13) * 50 us.
void uneven_work(size_t i) {
  std::this_thread::sleep_for(std::chrono::microseconds((i * 7919 % 13) * 50));
}

TEST(RunOrdered, EveryItemOnceAndEmittedInOrder) {
  for (int jobs : {1, 2, 3, 8}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{97}}) {
      std::vector<std::atomic<int>> worked(n);
      std::vector<size_t> emitted;
      run_ordered(
          n, jobs,
          [&](size_t i) {
            uneven_work(i);
            worked[i].fetch_add(1);
          },
          [&](size_t i) {
            EXPECT_EQ(worked[i].load(), 1) << "emitted before its work ended";
            emitted.push_back(i);
            return true;
          });
      ASSERT_EQ(emitted.size(), n) << "jobs " << jobs;
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(emitted[i], i);
        EXPECT_EQ(worked[i].load(), 1) << "item " << i << ", jobs " << jobs;
      }
    }
  }
}

TEST(RunOrdered, NoItemStartsMoreThanAWindowAhead) {
  const int jobs = 3;
  const size_t window = ordered_window(jobs);
  EXPECT_EQ(window, 12u);
  EXPECT_EQ(ordered_window(1), 1u);
  std::atomic<size_t> emitted{0};
  std::atomic<size_t> worst_lead{0};
  run_ordered(
      400, jobs,
      [&](size_t i) {
        // Item i may start once items 0 .. i - window have been emitted.
        size_t lead = i + 1 - std::min(i + 1, emitted.load());
        size_t seen = worst_lead.load();
        while (lead > seen && !worst_lead.compare_exchange_weak(seen, lead)) {
        }
        // Every 50th item is slow: without the window the other workers would run through the
        // next 49 while it holds up the emits.
        if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      },
      [&](size_t i) {
        emitted.store(i + 1);
        return true;
      });
  EXPECT_LE(worst_lead.load(), window);
  EXPECT_EQ(emitted.load(), 400u);
}

TEST(RunOrdered, FalseFromEmitStopsTheRest) {
  for (int jobs : {1, 2, 4}) {
    std::atomic<size_t> started{0};
    std::atomic<size_t> highest{0};
    size_t emits = 0;
    // A campaign of "millions" stopped at item 10: nothing of the size n is allocated, and no
    // item past 10 + window starts.
    run_ordered(
        size_t{1} << 40, jobs,
        [&](size_t i) {
          started.fetch_add(1);
          size_t h = highest.load();
          while (i > h && !highest.compare_exchange_weak(h, i)) {
          }
          uneven_work(i);
        },
        [&](size_t i) {
          ++emits;
          return i < 10;
        });
    EXPECT_EQ(emits, 11u) << "jobs " << jobs;
    EXPECT_LT(highest.load(), 10 + ordered_window(jobs)) << "jobs " << jobs;
    EXPECT_LE(started.load(), 10 + ordered_window(jobs)) << "jobs " << jobs;
  }
}

TEST(RunOrdered, AWorkersExceptionReachesTheCallerInItsTurn) {
  for (int jobs : {1, 2, 5}) {
    std::vector<size_t> emitted;
    std::mutex mu;
    EXPECT_THROW(run_ordered(
                     50, jobs,
                     [&](size_t i) {
                       uneven_work(i);
                       if (i == 17) throw std::runtime_error("item 17");
                     },
                     [&](size_t i) {
                       std::lock_guard<std::mutex> lock(mu);
                       emitted.push_back(i);
                       return true;
                     }),
                 std::runtime_error);
    ASSERT_EQ(emitted.size(), 17u) << "jobs " << jobs;  // items 0 .. 16, then the throw
    EXPECT_EQ(emitted.back(), 16u);
  }
}

TEST(ResolveJobs, ZeroMeansOnePerHardwareThread) {
  EXPECT_EQ(resolve_jobs(3), 3);
  unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(resolve_jobs(0), hw > 0 ? static_cast<int>(hw) : 1);
}

}  // namespace
}  // namespace proxysim
