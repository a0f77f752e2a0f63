// Scheduling parameters of rt-app thread objects (rt-app_parse_config.c parse_sched_data in
// HEAD, parse_thread_data in 1.0).
#include <initializer_list>

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

// "priority" (`prio_f`, may be null) for `policy`: the nice value of the fair policies (default
// 0), 1..99 for FIFO/RR (default 10), ignored for DEADLINE. Checked only when `policy_ok`.
void read_priority(Loader& l, Field* prio_f, Policy policy, bool policy_ok, SchedParams* out) {
  Diagnostics* d = l.diag;
  const std::string pname(policy_name(policy));
  int64_t prio = 0;
  bool prio_ok = prio_f == nullptr || read_int(*prio_f, d, &prio);
  if (!policy_ok || !prio_ok) return;
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

// Checks runtime <= deadline <= period (ns) of SCHED_DEADLINE, reporting at `at`/`path`, and
// stores them. `runtime_f`: the dl-runtime field if any, where a missing runtime is reported.
void set_deadline(Loader& l, const Field* runtime_f, json::Position at, const std::string& path,
                  int64_t rt, int64_t dl, int64_t per, SchedParams* out) {
  Diagnostics* d = l.diag;
  if (rt <= 0) {
    d->error(runtime_f ? runtime_f->value->pos : at, runtime_f ? runtime_f->path : path,
             "SCHED_DEADLINE needs \"dl-runtime\" > 0 (microseconds)");
  } else if (!(rt <= dl && dl <= per)) {
    d->error(at, path,
             "SCHED_DEADLINE needs dl-runtime <= dl-deadline <= dl-period, got " + us_text(rt) +
                 ", " + us_text(dl) + ", " + us_text(per));
  } else {
    out->dl_runtime = rt;
    out->dl_deadline = dl;
    out->dl_period = per;
  }
}

// Warns for each key of `keys` that is present and has no effect for `policy`.
void warn_unused(Loader& l, std::initializer_list<DlKey*> keys, Policy policy,
                 std::string_view why) {
  for (DlKey* k : keys) {
    if (k->field == nullptr || k->used) continue;
    l.diag->warning(k->field->key_pos, k->field->path,
                    json::quote(k->field->key) + " is ignored for " +
                        std::string(policy_name(policy)) + std::string(why));
  }
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
  read_priority(l, obj.take("priority"), policy, policy_ok, out);

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
    if (rt > 0 && l.opt.rtapp_1_0 && deadline.field == nullptr)
      d->error(at, task.path,
               "rt-app 1.0 leaves the deadline 0 when \"dl-deadline\" is absent and "
               "sched_setattr() fails (EINVAL); set \"dl-deadline\"");
    else
      set_deadline(l, runtime.field, at, task.path, rt, dl, per, out);
  } else if (slice && policy_ok) {
    // Since Linux 6.12 sched_attr::sched_runtime is a custom slice for SCHED_OTHER and
    // SCHED_BATCH; rt-app HEAD passes its runtime there (rt-app.c
    // __set_thread_sched_other_attrs). The kernel clamps it to 0.1..100 ms.
    runtime.used = true;
    if (legacy_runtime) legacy_note(legacy_runtime, rt, "custom slice");
    out->dl_runtime = rt;
  }
  if (policy_ok)
    warn_unused(l, {&runtime, &period, &deadline, &legacy_period, &legacy_deadline}, policy,
                l.opt.rtapp_1_0 && is_fair_policy(policy) ? " by rt-app 1.0" : "");
}

// Phase level (rt-app HEAD parse_sched_data(obj, same), applied by set_thread_param when the
// phase starts):
//  - a phase that sets none of policy, priority and dl-* changes nothing;
//  - without "policy" the phase keeps the policy in effect (rt-app's `same`, fixed at the first
//    application: the phases before it on the first pass, or the task's);
//  - without "priority" the policy's default applies when "policy" is given (nice 0, RT 10);
//    with neither, rt-app leaves a SCHED_OTHER/BATCH/IDLE/FIFO/RR thread unchanged (its
//    "priority unchanged" early return), so dl-* keys alone only act on SCHED_DEADLINE;
//  - dl-period defaults to dl-runtime and dl-deadline to dl-period, in us; the legacy thread
//    keys runtime/period/deadline are not read in a phase;
//  - for SCHED_OTHER/BATCH, dl-runtime is the custom slice; without it rt-app passes
//    SCHED_FLAG_KEEP_PARAMS, which keeps the current slice.
// rt-app 1.0 reads none of these keys in a phase (a warning each).
std::optional<SchedParams> read_phase_sched(Loader& l, ObjectView& obj, const Field& phase,
                                            const SchedParams& current) {
  Diagnostics* d = l.diag;
  Field* pf = obj.take("policy");
  Field* prio_f = obj.take("priority");
  DlKey runtime = take_dl(l, obj, "dl-runtime");
  DlKey period = take_dl(l, obj, "dl-period");
  DlKey deadline = take_dl(l, obj, "dl-deadline");
  if (pf == nullptr && prio_f == nullptr && runtime.field == nullptr && period.field == nullptr &&
      deadline.field == nullptr)
    return std::nullopt;
  if (l.opt.rtapp_1_0) {
    for (Field* f : {pf, prio_f, runtime.field, period.field, deadline.field})
      if (f != nullptr)
        d->warning(f->key_pos, f->path,
                   json::quote(f->key) +
                       " in a phase is ignored by rt-app 1.0 (phase-level scheduling changes "
                       "came later)");
    return std::nullopt;
  }

  SchedParams out;
  out.policy = current.policy;
  bool policy_ok = pf == nullptr || read_policy(l, *pf, &out.policy);
  if (!policy_ok) return std::nullopt;
  Policy policy = out.policy;
  if (pf == nullptr && prio_f == nullptr && policy != Policy::kDeadline) {
    warn_unused(l, {&runtime, &period, &deadline}, policy,
                " in a phase without \"policy\" or \"priority\" (rt-app changes nothing then)");
    return std::nullopt;
  }
  read_priority(l, prio_f, policy, true, &out);

  if (policy == Policy::kDeadline) {
    runtime.used = period.used = deadline.used = true;
    int64_t r = runtime.value;
    int64_t p = period.field ? period.value : r;
    int64_t q = deadline.field ? deadline.value : p;
    json::Position at = pf != nullptr ? pf->value->pos : phase.key_pos;
    set_deadline(l, runtime.field, at, phase.path, r * kNsPerUs, q * kNsPerUs, p * kNsPerUs, &out);
  } else if (policy == Policy::kNormal || policy == Policy::kBatch) {
    runtime.used = true;
    if (runtime.field != nullptr)
      out.dl_runtime = runtime.value * kNsPerUs;
    else if (current.policy == Policy::kNormal || current.policy == Policy::kBatch)
      out.dl_runtime = current.dl_runtime;
  }
  warn_unused(l, {&runtime, &period, &deadline}, policy, "");
  return out;
}

}  // namespace proxysim::workload
