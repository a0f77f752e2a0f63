// The invariant checker (DESIGN.md §7): run after every event under --check and in all tests.
// A violation stops the run through Kernel::fail() (exit code 3) with what was found.
#pragma once

#include <string>
#include <vector>

namespace proxysim {

class Kernel;

class InvariantChecker {
 public:
  explicit InvariantChecker(Kernel& k) : k_(k) {}
  // Checks the whole machine state at Kernel::now(). Reports the first violation found.
  void check();

 private:
  void check_task_places();
  void check_rq_counts();
  void check_time_accounting();
  void check_rt_placement();
  void check_progress();
  void check_timers();
  Kernel& k_;
  long long last_now_ = 0;
  std::vector<long long> idle_with_work_since_;  // per CPU, -1 when not
};

}  // namespace proxysim
