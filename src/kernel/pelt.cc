// kernel/sched/pelt.c: per-entity load tracking with the kernel's constants and integer
// arithmetic. Time is counted in 1024 ns units; a period is 1024 such units (~1 ms); y^32 = 1/2.
#include <algorithm>

#include "kernel/kernel.h"

namespace proxysim {
namespace {

constexpr uint64_t kLoadAvgPeriod = 32;  // LOAD_AVG_PERIOD
constexpr uint64_t kLoadAvgMax = 47742;  // LOAD_AVG_MAX
constexpr int kSchedCapacityShift = 10;  // SCHED_CAPACITY_SHIFT

// runnable_avg_yN_inv[i] = y^i * 2^32 (kernel/sched/sched-pelt.h).
constexpr uint32_t kRunnableAvgYNInv[kLoadAvgPeriod] = {
    0xffffffff, 0xfa83b2da, 0xf5257d14, 0xefe4b99a, 0xeac0c6e6, 0xe5b906e6, 0xe0ccdeeb, 0xdbfbb796,
    0xd744fcc9, 0xd2a81d91, 0xce248c14, 0xc9b9bd85, 0xc5672a10, 0xc12c4cc9, 0xbd08a39e, 0xb8fbaf46,
    0xb504f333, 0xb123f581, 0xad583ee9, 0xa9a15ab4, 0xa5fed6a9, 0xa2704302, 0x9ef5325f, 0x9b8d39b9,
    0x9837f050, 0x94f3efa8, 0x91c0d650, 0x8e9e5a52, 0x8b8c2034, 0x888b9c55, 0x85aac367, 0x82cd8698,
};

uint64_t decay_load(uint64_t val, uint64_t n) {
  if (n > kLoadAvgPeriod * 63) return 0;
  if (n >= kLoadAvgPeriod) {
    val >>= n / kLoadAvgPeriod;
    n %= kLoadAvgPeriod;
  }
  return static_cast<uint64_t>((static_cast<u128>(val) * kRunnableAvgYNInv[n]) >> 32);
}

uint32_t accumulate_pelt_segments(uint64_t periods, uint32_t d1, uint32_t d3) {
  uint32_t c1 = static_cast<uint32_t>(decay_load(d1, periods));
  uint32_t c2 = static_cast<uint32_t>(kLoadAvgMax - decay_load(kLoadAvgMax, periods) - 1024);
  return c1 + c2 + d3;
}

// Inlined too: its register saves and restores were a third of its instructions.
[[gnu::always_inline]] inline uint64_t accumulate_sum(uint64_t delta, SchedAvg& sa, uint64_t load,
                                                      uint64_t runnable, bool running) {
  uint32_t contrib = static_cast<uint32_t>(delta);
  delta += sa.period_contrib;
  uint64_t periods = delta / 1024;
  if (periods) {
    sa.load_sum = decay_load(sa.load_sum, periods);
    sa.runnable_sum = decay_load(sa.runnable_sum, periods);
    sa.util_sum = static_cast<uint32_t>(decay_load(sa.util_sum, periods));
    delta %= 1024;
    if (load)
      contrib =
          accumulate_pelt_segments(periods, 1024 - sa.period_contrib, static_cast<uint32_t>(delta));
  }
  sa.period_contrib = static_cast<uint32_t>(delta);
  if (load) sa.load_sum += load * contrib;
  if (runnable) sa.runnable_sum += (runnable * contrib) << kSchedCapacityShift;
  if (running) sa.util_sum += contrib << kSchedCapacityShift;
  return periods;
}

// ___update_load_sum() + ___update_load_avg(). Inlined into its three callers: it runs ~4 times
// per event, and the call's register saves were a fifth of its instructions.
[[gnu::always_inline]] inline void update_load(uint64_t now, SchedAvg& sa, uint64_t load,
                                               uint64_t runnable, bool running,
                                               uint64_t avg_weight) {
  if (now < sa.last_update_time) {
    sa.last_update_time = now;
    return;
  }
  uint64_t delta = (now - sa.last_update_time) >> 10;
  if (!delta) return;
  sa.last_update_time += delta << 10;
  if (!load) runnable = running = 0;
  if (!load && !sa.load_sum && !sa.runnable_sum && !sa.util_sum) {
    // Nothing to decay or add (an RT/DL average of a CPU that ran none for a while): the same
    // result as the general path without its multiplications and divisions.
    uint64_t d = delta + sa.period_contrib;
    sa.period_contrib = static_cast<uint32_t>(d % 1024);
    if (d >= 1024) sa.load_avg = sa.runnable_avg = sa.util_avg = 0;
    return;
  }
  if (!accumulate_sum(delta, sa, load, runnable, running)) return;
  uint32_t divider = static_cast<uint32_t>(kLoadAvgMax - 1024 + sa.period_contrib);
  sa.load_avg = avg_weight * sa.load_sum / divider;
  sa.runnable_avg = sa.runnable_sum / divider;
  sa.util_avg = sa.util_sum / divider;
}

}  // namespace

// __update_load_avg_se(); attaches a task that just arrived (last_update_time == 0).
void Kernel::update_load_avg_se(Rq& rq, Task* p) {
  uint64_t now = static_cast<uint64_t>(now_);
  SchedAvg& sa = p->se.avg;
  if (sa.last_update_time == 0) {
    // attach_entity_load_avg(): align with the cfs_rq and add the contribution.
    update_load_avg_cfs(rq);
    sa.last_update_time = rq.cfs.avg.last_update_time;
    sa.period_contrib = rq.cfs.avg.period_contrib;
    SchedAvg& ca = rq.cfs.avg;
    ca.load_avg += sa.load_avg;
    ca.load_sum += p->se.weight * sa.load_sum;
    ca.util_avg += sa.util_avg;
    ca.util_sum += sa.util_sum;
    ca.runnable_avg += sa.runnable_avg;
    ca.runnable_sum += sa.runnable_sum;
    return;
  }
  bool on_rq = p->se.on_rq;
  bool runnable = on_rq && !p->se.sched_delayed;
  update_load(now, sa, on_rq ? 1 : 0, runnable ? 1 : 0, rq.cfs.curr == p, p->se.weight);
  // The cfs_rq's update, inline in the common case (blocked donors counted, or no proxy).
  CfsRq& cfs = rq.cfs;
  if (opt_.donor_load || !is_proxy())
    update_load(now, cfs.avg, cfs.load_weight, static_cast<uint64_t>(cfs.h_nr_runnable),
                cfs.curr != nullptr, 1);
  else
    update_load_avg_cfs(rq);
}

// __update_load_avg_cfs_rq()
void Kernel::update_load_avg_cfs(Rq& rq) {
  CfsRq& cfs = rq.cfs;
  uint64_t load = cfs.load_weight;
  uint64_t runnable = static_cast<uint64_t>(cfs.h_nr_runnable);
  if (!opt_.donor_load && is_proxy()) {
    uint64_t w = 0;
    int nr = 0;
    fair_blocked_donors(rq, &w, &nr);
    load -= std::min(load, w);
    runnable -= std::min<uint64_t>(runnable, static_cast<uint64_t>(nr));
  }
  update_load(static_cast<uint64_t>(now_), cfs.avg, load, runnable, cfs.curr != nullptr, 1);
}

void Kernel::fair_blocked_donors(const Rq& rq, uint64_t* weight, int* nr) const {
  *weight = 0;
  *nr = 0;
  rq.cfs.tree.for_each([&](const Task* t) {
    if (t->blocked_on && !t->se.sched_delayed) {
      *weight += t->se.weight;
      ++*nr;
    }
  });
  const Task* curr = rq.cfs.curr;
  if (curr && curr->se.on_rq && curr->blocked_on) {
    *weight += curr->se.weight;
    ++*nr;
  }
}

int Kernel::runnable_fair(const Rq& rq) const {
  int n = rq.cfs.h_nr_runnable;
  if (!opt_.donor_load && is_proxy()) {
    uint64_t w;
    int nr;
    fair_blocked_donors(rq, &w, &nr);
    n -= nr;
  }
  return n;
}

void Kernel::update_other_load_avgs(Rq& rq) {
  uint64_t now = static_cast<uint64_t>(now_);
  bool rt = rq.donor != &rq.idle && rq.donor->sched_class == rt_.get();
  bool dl = rq.donor != &rq.idle && rq.donor->sched_class == dl_.get();
  update_load(now, rq.avg_rt, rt, rt, rt, 1);
  update_load(now, rq.avg_dl, dl, dl, dl, 1);
}

uint64_t Kernel::cpu_capacity(const Rq& rq) const {
  uint64_t used = rq.avg_rt.util_avg + rq.avg_dl.util_avg;
  return used >= 1024 ? 1 : 1024 - used;
}

}  // namespace proxysim
