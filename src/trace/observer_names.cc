// Names of the observer enums, as they appear in metrics JSON keys (docs/metrics.md) and in the
// trace's proxysim markers (docs/trace.md).
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
    case MigrateReason::kProxy: return "proxy";
    case MigrateReason::kReturn: return "return";
    case MigrateReason::kUnknown: return "unknown";
    case MigrateReason::kCount: break;
  }
  return "unknown";
}

std::string_view proxy_action_name(ProxyAction a) {
  switch (a) {
    case ProxyAction::kPick: return "pick";
    case ProxyAction::kMigrate: return "migrate";
    case ProxyAction::kReturn: return "return";
    case ProxyAction::kPark: return "park";
    case ProxyAction::kActivate: return "activate";
    case ProxyAction::kHandoff: return "handoff";
    case ProxyAction::kBlock: return "block";
  }
  return "unknown";
}

}  // namespace proxysim
