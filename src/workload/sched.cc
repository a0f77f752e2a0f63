// Scheduling parameters of rt-app thread objects (rt-app_parse_config.c parse_sched_data in
// HEAD, parse_thread_data in 1.0).
#include "workload/loader_internal.h"

namespace proxysim::workload {
namespace {

// rt-app's DEFAULT_THREAD_PRIORITY for SCHED_FIFO/SCHED_RR.
constexpr int64_t kDefaultRtPriority = 10;

std::string us_text(int64_t ns) {
  if (ns % kNsPerUs == 0) return std::to_string(ns / kNsPerUs) + " us";
  return std::to_string(ns) + " ns";
}

// One of the dl-* (or legacy) keys of a thread object.
struct DlKey {
  Field* field = nullptr;
  int64_t value = 0;  // as written; 0 when absent or invalid
  bool used = false;  // has an effect for this task's policy
};

DlKey take_dl(Loader& l, ObjectView& obj, std::string_view key) {
  DlKey k;
  k.field = obj.take(key);
  if (k.field == nullptr) return k;
  int64_t v = 0;
  if (!read_int(*k.field, l.diag, &v)) return k;
  if (v < 0) {
    l.diag->error(k.field->value->pos, k.field->path,
                  "expected microseconds >= 0, got " + k.field->value->text);
    return k;
  }
  k.value = v;
  return k;
}

}  // namespace

// policy, priority and the dl-* parameters of a thread object (rt-app parse_sched_data with
// the global default policy).
void read_sched(Loader& l, ObjectView& obj, const Field& task, SchedParams* out) {
  Diagnostics* d = l.diag;
  Policy policy = l.wl->default_policy;
  bool policy_ok = true;
  Field* pf = obj.take("policy");
  if (pf != nullptr) policy_ok = read_policy(l, *pf, &policy);
  out->policy = policy;
  const std::string pname(policy_name(policy));

  Field* prio_f = obj.take("priority");
  int64_t prio = 0;
  bool prio_ok = prio_f == nullptr || read_int(*prio_f, d, &prio);
  if (policy_ok && prio_ok) {
    if (is_fair_policy(policy)) {
      if (prio < -20 || prio > 19)
        d->error(
            prio_f->value->pos, prio_f->path,
            "nice " + prio_f->value->text + " out of range for " + pname + " (expected -20..19)");
      else
        out->nice = static_cast<int>(prio);
    } else if (is_rt_policy(policy)) {
      if (prio_f == nullptr) prio = kDefaultRtPriority;
      if (prio < 1 || prio > 99)
        d->error(
            prio_f->value->pos, prio_f->path,
            "priority " + prio_f->value->text + " out of range for " + pname + " (expected 1..99)");
      else
        out->rt_priority = static_cast<int>(prio);
    } else if (prio_f != nullptr) {
      d->warning(prio_f->key_pos, prio_f->path,
                 "priority is ignored for SCHED_DEADLINE (rt-app passes sched_priority 0)");
    }
  }

  // The dl-* keys (us) and, when they leave a value 0, the legacy thread keys "runtime" (which
  // is also the "runtime" event), "period" and "deadline". HEAD parse_sched_data: period
  // defaults to runtime and deadline to period; legacy keys in us. rt-app 1.0
  // parse_thread_data: legacy keys in ns, and the deadline stays 0 when dl-deadline is absent.
  DlKey runtime = take_dl(l, obj, "dl-runtime");
  DlKey period = take_dl(l, obj, "dl-period");
  DlKey deadline = take_dl(l, obj, "dl-deadline");
  DlKey legacy_period = take_dl(l, obj, "period");
  DlKey legacy_deadline = take_dl(l, obj, "deadline");
  const Field* legacy_runtime = obj.peek("runtime");
  int64_t legacy_rt = 0;
  if (runtime.value != 0 || legacy_runtime == nullptr ||
      !legacy_runtime->value->get_int64(&legacy_rt) || legacy_rt <= 0 || legacy_rt > kIntMax)
    legacy_runtime = nullptr;
  bool period_from_legacy = false, deadline_from_legacy = false;
  int64_t rt = 0, per = 0, dl = 0;  // ns
  if (!l.opt.rtapp_1_0) {
    int64_t r = runtime.value;
    int64_t p = period.field ? period.value : r;
    int64_t q = deadline.field ? deadline.value : p;
    if (legacy_runtime) r = legacy_rt;
    if (p == 0) {
      p = legacy_period.field ? legacy_period.value : r;
      period_from_legacy = legacy_period.field != nullptr;
    }
    if (q == 0) {
      q = legacy_deadline.field ? legacy_deadline.value : p;
      deadline_from_legacy = legacy_deadline.field != nullptr;
    }
    rt = r * kNsPerUs;
    per = p * kNsPerUs;
    dl = q * kNsPerUs;
  } else {
    rt = legacy_runtime ? legacy_rt : runtime.value * kNsPerUs;
    per = period.value * kNsPerUs;
    if (per == 0) {
      per = legacy_period.field ? legacy_period.value : rt;
      period_from_legacy = legacy_period.field != nullptr;
    }
    dl = deadline.value * kNsPerUs;
    if (per == 0) {
      dl = legacy_deadline.field ? legacy_deadline.value : per;
      deadline_from_legacy = legacy_deadline.field != nullptr;
    }
  }

  auto legacy_note = [&](const Field* f, int64_t ns, const char* what) {
    d->warning(f->key_pos, f->path,
               json::quote(f->key) + " at task level is" + (f->key == "runtime" ? " also" : "") +
                   " rt-app's legacy name of \"dl-" + std::string(f->key) +
                   "\": this task gets a " + what + " of " + us_text(ns));
  };
  bool slice = !l.opt.rtapp_1_0 && (policy == Policy::kNormal || policy == Policy::kBatch);
  if (policy == Policy::kDeadline && policy_ok) {
    runtime.used = period.used = deadline.used = true;
    if (legacy_runtime) legacy_note(legacy_runtime, rt, "DEADLINE runtime");
    legacy_period.used = period_from_legacy;
    legacy_deadline.used = deadline_from_legacy;
    if (legacy_period.used) legacy_note(legacy_period.field, per, "DEADLINE period");
    if (legacy_deadline.used) legacy_note(legacy_deadline.field, dl, "DEADLINE deadline");
    json::Position at = task.key_pos;
    if (pf != nullptr) at = pf->value->pos;
    if (rt <= 0) {
      d->error(runtime.field ? runtime.field->value->pos : at,
               runtime.field ? runtime.field->path : task.path,
               "SCHED_DEADLINE needs \"dl-runtime\" > 0 (microseconds)");
    } else if (l.opt.rtapp_1_0 && deadline.field == nullptr) {
      d->error(at, task.path,
               "rt-app 1.0 leaves the deadline 0 when \"dl-deadline\" is absent and "
               "sched_setattr() fails (EINVAL); set \"dl-deadline\"");
    } else if (!(rt <= dl && dl <= per)) {
      d->error(at, task.path,
               "SCHED_DEADLINE needs dl-runtime <= dl-deadline <= dl-period, got " + us_text(rt) +
                   ", " + us_text(dl) + ", " + us_text(per));
    } else {
      out->dl_runtime = rt;
      out->dl_deadline = dl;
      out->dl_period = per;
    }
  } else if (slice && policy_ok) {
    // Since Linux 6.12 sched_attr::sched_runtime is a custom slice for SCHED_OTHER and
    // SCHED_BATCH; rt-app HEAD passes its runtime there (rt-app.c
    // __set_thread_sched_other_attrs). The kernel clamps it to 0.1..100 ms.
    runtime.used = true;
    if (legacy_runtime) legacy_note(legacy_runtime, rt, "custom slice");
    out->dl_runtime = rt;
  }
  for (DlKey* k : {&runtime, &period, &deadline, &legacy_period, &legacy_deadline}) {
    if (k->field == nullptr || k->used || !policy_ok) continue;
    d->warning(k->field->key_pos, k->field->path,
               json::quote(k->field->key) + " is ignored for " + pname +
                   (l.opt.rtapp_1_0 && is_fair_policy(policy) ? " by rt-app 1.0" : ""));
  }
}

}  // namespace proxysim::workload
