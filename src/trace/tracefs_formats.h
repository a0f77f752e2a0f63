// Linux 6.18 tracefs format files (x86_64) embedded for the trace.dat writer, and the event ids
// they declare. See tracefs_formats.cc.
#pragma once

#include <cstdint>
#include <string_view>

namespace proxysim::tracefs {

// events/header_page and events/header_event.
extern const std::string_view kHeaderPage;
extern const std::string_view kHeaderEvent;
// events/ftrace/print/format: trace_marker writes (`tracing_mark_write: ...` in the text trace).
extern const std::string_view kPrintFormat;
// events/sched/<event>/format.
extern const std::string_view kSchedSwitchFormat;
extern const std::string_view kSchedWakingFormat;
extern const std::string_view kSchedWakeupFormat;
extern const std::string_view kSchedWakeupNewFormat;
extern const std::string_view kSchedMigrateTaskFormat;
extern const std::string_view kSchedProcessExitFormat;
extern const std::string_view kSchedPiSetprioFormat;

// The `ID:` lines of those formats (common_type of the records).
constexpr uint16_t kPrintId = 5;
constexpr uint16_t kSchedSwitchId = 372;
constexpr uint16_t kSchedWakingId = 375;
constexpr uint16_t kSchedWakeupId = 374;
constexpr uint16_t kSchedWakeupNewId = 373;
constexpr uint16_t kSchedMigrateTaskId = 371;
constexpr uint16_t kSchedProcessExitId = 369;
constexpr uint16_t kSchedPiSetprioId = 362;

}  // namespace proxysim::tracefs
