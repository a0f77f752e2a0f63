// The interactive HTML report (--html FILE of `run` and `compare`): one self-contained page that
// opens without network access. It holds the runs' data as compact JSON in a
// <script type="application/json" id="proxysim-data"> element and a hand-written canvas renderer
// (src/report/report_js.h, src/report/report_css.h) that draws per-CPU timelines sharing one
// time axis, lock bands, migration markers, and per-task latency histograms and CDFs.
// The data format is documented in docs/html-report.md. Same runs => byte-identical page.
#pragma once

#include <string>
#include <vector>

#include "metrics/metrics.h"
#include "report/timeline.h"

namespace proxysim {

struct ReportRun {
  RunMetrics metrics;  // the summary table (the same numbers as --metrics)
  Timeline timeline;   // what the timeline and the distributions draw
};

struct ReportInfo {
  std::string workload_file;  // shown in the title
  uint64_t seed = 0;
};

// Largest number of points kept per distribution: up to this many samples are kept exactly;
// beyond it, this many evenly spaced nearest-rank quantiles (plus the minimum) stand for them.
inline constexpr int64_t kReportQuantiles = 2000;

// The data JSON embedded in the page (no whitespace; '<', '>' and '&' escaped as \u00XX so that
// it can sit inside a <script> element).
std::string report_data_json(const std::vector<ReportRun>& runs, const ReportInfo& info);

// The whole page.
std::string html_report(const std::vector<ReportRun>& runs, const ReportInfo& info);

}  // namespace proxysim
