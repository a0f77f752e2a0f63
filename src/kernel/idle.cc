// kernel/sched/idle.c: the idle class only ever runs rq->idle (swapper/N).
#include "kernel/kernel.h"

namespace proxysim {
namespace {

class IdleClass final : public SchedClass {
 public:
  using SchedClass::SchedClass;
  const char* name() const override { return "idle"; }
  void enqueue_task(Rq&, Task*, int) override {}
  bool dequeue_task(Rq&, Task*, int) override { return true; }
  Task* pick_task(Rq& rq) override { return &rq.idle; }
  int select_task_rq(Task* p, int prev_cpu, int) override { return prev_cpu; }
};

}  // namespace

std::unique_ptr<SchedClass> make_idle_class(Kernel& k) { return std::make_unique<IdleClass>(k); }

}  // namespace proxysim
