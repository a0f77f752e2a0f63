// Fair load balancing (kernel/sched/fair.c sched_balance_rq() and friends) on a flat topology:
// one scheduling domain spanning every CPU, each CPU its own group.
//
// What is kept from the kernel: periodic balancing from the tick every balance interval
// (sd_weight ms, x busy_factor 16 while busy), newidle balancing when a CPU is about to go
// idle, NOHZ idle balancing kicked by a busy CPU's tick, can_migrate_task() (affinity, running,
// cache-hot within sysctl_sched_migration_cost = 0.5 ms unless balancing keeps failing), and
// the two migration types that matter on one level: migrate_task (an idle CPU takes tasks from
// the CPU with the most runnable tasks, half the difference) and migrate_load (busy CPUs move
// PELT load above the 117 % imbalance_pct threshold). Group classification, misfit and active
// balance are not modelled (README: what is simplified).
#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {
namespace {

constexpr Time kMigrationCost = 500 * kNsPerUs;  // sysctl_sched_migration_cost
constexpr int kBusyFactor = 16;                  // sd->busy_factor
constexpr int kImbalancePct = 117;               // sd->imbalance_pct for MC domains
constexpr int kCacheNiceTries = 1;               // sd->cache_nice_tries (MC)

// Fair tasks that could run and are not running: candidates for detach_tasks().
void queued_fair(Kernel& k, Rq& rq, std::vector<Task*>* out) {
  out->clear();
  rq.cfs.tree.for_each([&](Task* t) {
    if (!t->se.sched_delayed && k.task_is_pushable(t)) out->push_back(t);
  });
  // Deterministic order: the kernel walks cfs_tasks from the tail (least recently run first).
  std::sort(out->begin(), out->end(), [](const Task* a, const Task* b) {
    return a->se.exec_start != b->se.exec_start ? a->se.exec_start < b->se.exec_start
                                                : a->id < b->id;
  });
}

}  // namespace

// sched_balance_rq() for `rq` as the destination.
void Kernel::sched_balance_rq(Rq& rq, MigrateReason why) {
  const int this_cpu = rq.cpu;
  const bool this_idle = rq.curr == &rq.idle && rq.nr_running == 0;
  const int local_nr = runnable_fair(rq) + static_cast<int>(rq.incoming.size());
  // find_busiest_queue(): most runnable fair tasks (ties: higher load, lower CPU number).
  // Candidates need nr_running >= 2 (runnable_fair(src) >= 2 implies it): the overloaded CPUs,
  // in ascending order as the scan of every CPU visited them.
  int busiest = -1;
  for (int c = overloaded_.next_from(0); c >= 0; c = overloaded_.next_from(c + 1)) {
    if (c == this_cpu) continue;
    Rq& src = cpu_rq(c);
    if (runnable_fair(src) < 2 && !(runnable_fair(src) >= 1 && src.nr_running >= 2)) continue;
    if (busiest < 0) {
      busiest = c;
      continue;
    }
    Rq& b = cpu_rq(busiest);
    if (src.nr_running > b.nr_running ||
        (src.nr_running == b.nr_running && src.cfs.avg.load_avg > b.cfs.avg.load_avg))
      busiest = c;
  }
  if (busiest < 0) return;
  Rq& src = cpu_rq(busiest);
  int nr_move = 0;
  uint64_t load_move = 0;
  bool by_load = false;
  if (this_idle || src.nr_running > rq.nr_running + 1) {
    // migrate_task: even out the number of tasks.
    nr_move = std::max(1, (src.nr_running - local_nr) / 2);
    if (src.nr_running - local_nr < 2) return;
  } else {
    // migrate_load: only when busiest's load per capacity exceeds ours by imbalance_pct
    // (avg_load = group_load * SCHED_CAPACITY_SCALE / group_capacity; capacity is what RT and
    // DL leave, so fair tasks stuck behind RT work are pulled away).
    uint64_t bcap = cpu_capacity(src), lcap = cpu_capacity(rq);
    uint64_t bl = src.cfs.avg.load_avg * 1024 / bcap, ll = rq.cfs.avg.load_avg * 1024 / lcap;
    if (bl * 100 <= ll * kImbalancePct) return;
    // calculate_imbalance(): move enough load to bring both to the average, in load units.
    uint64_t avg = (src.cfs.avg.load_avg + rq.cfs.avg.load_avg) * 1024 / (bcap + lcap);
    load_move = std::min(bl - avg, avg > ll ? avg - ll : 0) * std::min(bcap, lcap) / 1024;
    if (load_move == 0) load_move = 1;
    by_load = true;
    nr_move = 32;  // sysctl_sched_nr_migrate
  }
  std::vector<Task*> cand;
  queued_fair(*this, src, &cand);
  int moved = 0;
  bool hot_skipped = false;
  for (Task* p : cand) {
    if (moved >= nr_move) break;
    if (!p->allowed(this_cpu)) continue;
    // task_hot(): ran within the migration cost; tolerated after repeated failures.
    if (now_ - p->se.exec_start < kMigrationCost && p->se.exec_start > 0 &&
        rq.nr_balance_failed <= kCacheNiceTries) {
      hot_skipped = true;
      continue;
    }
    if (by_load) {
      uint64_t l = p->se.avg.load_avg;
      if (l / 2 > load_move && cpu_capacity(src) * kImbalancePct >= 1024 * 100) continue;
      load_move -= std::min(load_move, l);
    }
    move_queued_task(p, this_cpu, why);
    ++moved;
    if (by_load && load_move == 0) break;
  }
  if (moved)
    rq.nr_balance_failed = 0;
  else if (hot_skipped)
    ++rq.nr_balance_failed;
}

// sched_balance_newidle(): a CPU about to idle looks for work when some CPU is overloaded.
bool Kernel::sched_balance_newidle(Rq& rq) {
  // Some other CPU with two runnable fair tasks (only CPUs with nr_running >= 2 can have them).
  bool overloaded = false;
  for (int c = overloaded_.next_from(0); c >= 0 && !overloaded; c = overloaded_.next_from(c + 1))
    overloaded = c != rq.cpu && runnable_fair(cpu_rq(c)) >= 2;
  if (!overloaded) return false;
  size_t before = rq.incoming.size();
  sched_balance_rq(rq, MigrateReason::kNewidle);
  return rq.incoming.size() > before;
}

// sched_balance_trigger() from the tick: periodic balance of this CPU, and the NOHZ kick that
// makes an idle CPU balance on behalf of the idle ones.
void Kernel::sched_balance_tick(Rq& rq) {
  const Time interval_ms = nr_cpus();  // sd->balance_interval starts at sd_weight ms
  const bool busy = rq.curr != &rq.idle;
  if (now_ >= rq.next_balance) {
    sched_balance_rq(rq, MigrateReason::kLoadBalance);
    Time interval = interval_ms * kNsPerMs * (busy ? kBusyFactor : 1);
    interval = std::max(interval, tick_nsec_);
    rq.next_balance = now_ + interval;
  }
  // nohz_balancer_kick(): this CPU has more than one runnable task and some CPU idles.
  if (rq.nr_running >= 2 && now_ >= nohz_next_balance_) {
    for (int c = idle_curr_.next_from(0); c >= 0; c = idle_curr_.next_from(c + 1)) {
      Rq& idle_rq = cpu_rq(c);
      if (c == rq.cpu || idle_rq.nr_running) continue;
      nohz_next_balance_ = now_ + tick_nsec_;
      // The kicked CPU runs the balance in its softirq after the IPI: modelled as a pull now,
      // whose task lands after the migration latency.
      int saved = ctx_cpu_;
      ctx_cpu_ = c;
      sched_balance_rq(idle_rq, MigrateReason::kNohzBalance);
      ctx_cpu_ = saved;
      break;
    }
  }
}

}  // namespace proxysim
