// Independent runs on several threads, their results taken in order: what `compare --jobs` and
// `stress --jobs` use so that their output is the same for any number of jobs.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace proxysim {

// `--jobs N` as given: 0 means one job per hardware thread.
inline int resolve_jobs(int jobs) {
  if (jobs > 0) return jobs;
  unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

// How many items run_ordered() lets be started but not yet emitted: a caller can keep the
// results in a ring of this many entries, item i in entry i % ordered_window(jobs), and a long
// campaign (millions of seeds) then holds no more than that.
inline size_t ordered_window(int jobs) { return jobs <= 1 ? 1 : 4 * static_cast<size_t>(jobs); }

// Calls work(i) for i = 0 .. n-1 on up to `jobs` threads, items taken in increasing order, and
// emit(i) on the calling thread in index order, each as soon as work(0..i) have returned. Item i
// starts only once emit(i - ordered_window(jobs)) has returned. When emit(i) returns false no
// further work starts and no further emit is called; the work already started finishes before
// this returns. work(i) may run concurrently with work(j) and with emit(k) for k < i: it must
// write only what belongs to item i. With jobs <= 1 everything runs on the calling thread, work(i)
// then emit(i). An exception thrown by work(i) is rethrown here when item i's turn comes.
template <class Work, class Emit>
void run_ordered(size_t n, int jobs, Work&& work, Emit&& emit) {
  if (jobs <= 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) {
      work(i);
      if (!emit(i)) return;
    }
    return;
  }
  const size_t window = ordered_window(jobs);
  std::mutex mu;
  std::condition_variable item_done, slot_free;
  std::vector<size_t> done(window, 0);  // done[i % window] == i + 1: item i has been worked
  std::vector<std::exception_ptr> errors(window);
  size_t next = 0;     // the next item to start (under mu)
  size_t emitted = 0;  // items emitted so far (under mu)
  bool stop = false;   // (under mu)
  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        if (stop || next >= n) return;
        i = next++;
        slot_free.wait(lock, [&] { return stop || i < emitted + window; });
        if (stop) return;
      }
      std::exception_ptr error;
      try {
        work(i);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        errors[i % window] = error;
        done[i % window] = i + 1;
      }
      item_done.notify_all();
    }
  };
  std::vector<std::thread> threads;
  size_t nr = std::min(n, static_cast<size_t>(jobs));
  threads.reserve(nr);
  for (size_t t = 0; t < nr; ++t) threads.emplace_back(worker);
  std::exception_ptr failure;
  for (size_t i = 0; i < n; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      item_done.wait(lock, [&] { return done[i % window] == i + 1; });
      failure = errors[i % window];
    }
    if (failure) break;
    bool go_on = false;
    try {
      go_on = emit(i);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!go_on) break;
    {
      std::lock_guard<std::mutex> lock(mu);
      emitted = i + 1;
    }
    slot_free.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  slot_free.notify_all();
  for (std::thread& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace proxysim
