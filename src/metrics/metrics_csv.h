// CSV form of RunMetrics (`--csv DIR`), for pandas and spreadsheets: the same quantities as the
// metrics JSON, one row per task, per CPU, per run and per activation. Columns: docs/metrics.md
// ("CSV").
//
// Format: a header line, then one row per record; fields separated by ',', lines ended by '\n';
// integers in decimal without separators or locale; text fields (names, policy, protocol)
// quoted as RFC 4180 asks (only when they contain ',', '"', CR or LF; '"' doubled). Column names
// of tasks.csv are the JSON paths ("response_ns.p99", "migrations.wakeup"), as pandas'
// json_normalize() names them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/metrics.h"
#include "proxysim/status.h"

namespace proxysim {

// One field as RFC 4180 wants it: verbatim, or in double quotes with '"' doubled when it holds
// ',', '"', CR or LF.
std::string csv_field(std::string_view s);

// The text of each file. runs.csv has one row per run, the protocol first. In the others, with
// `protocol_column` (compare) every row starts with the run's protocol; the rows of all runs
// follow one another in run order.
std::string runs_csv(const std::vector<RunMetrics>& runs);
std::string tasks_csv(const std::vector<RunMetrics>& runs, bool protocol_column);
std::string cpus_csv(const std::vector<RunMetrics>& runs, bool protocol_column);
// REQUIRES: each run was collected with MetricsCollector::keep_activations(true).
std::string activations_csv(const std::vector<RunMetrics>& runs, bool protocol_column);

// Writes runs.csv, tasks.csv, cpus.csv and activations.csv into `dir` (created if missing).
// Errors name the option and the path.
Status write_metrics_csv(const std::string& dir, const std::vector<RunMetrics>& runs,
                         bool protocol_column);

}  // namespace proxysim
