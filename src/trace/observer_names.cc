// Names of the observer enums, as they appear in metrics JSON keys and docs/metrics.md.
#include "proxysim/observer.h"

namespace proxysim {

std::string_view migrate_reason_name(MigrateReason r) {
  switch (r) {
    case MigrateReason::kWakeup: return "wakeup";
    case MigrateReason::kLoadBalance: return "load_balance";
    case MigrateReason::kNewidle: return "newidle";
    case MigrateReason::kNohzBalance: return "nohz_balance";
    case MigrateReason::kRtPush: return "rt_push";
    case MigrateReason::kRtPull: return "rt_pull";
    case MigrateReason::kDlPush: return "dl_push";
    case MigrateReason::kDlPull: return "dl_pull";
    case MigrateReason::kAffinity: return "affinity";
    case MigrateReason::kCount: break;
  }
  return "unknown";
}

}  // namespace proxysim
