// The HTML report's style sheet, embedded in every page written by --html (html_report.cc).
#pragma once

namespace proxysim {

inline constexpr char kReportCss[] = R"CSS(
:root { --fg: #1d232b; --muted: #5d6875; --line: #d5dbe2; --bg: #ffffff; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); }
header { padding: 10px 16px 6px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0 0 2px; font-weight: 600; }
header .meta { color: var(--muted); }
.deadlock { color: #b00020; font-weight: 600; }
.toolbar { position: sticky; top: 0; z-index: 5; display: flex; flex-wrap: wrap; gap: 6px 14px;
           align-items: center; padding: 6px 16px; background: var(--panel);
           border-bottom: 1px solid var(--line); }
.toolbar button { font: inherit; padding: 2px 10px; border: 1px solid #aab4bf; border-radius: 4px;
                  background: #fff; cursor: pointer; }
.toolbar button:hover { background: #eef2f6; }
.toolbar .range { font-variant-numeric: tabular-nums; min-width: 16em; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: center; color: var(--muted); }
.legend label { display: inline-flex; align-items: center; gap: 3px; cursor: pointer; }
.sw { display: inline-block; width: 22px; height: 11px; border-radius: 2px; vertical-align: -1px; }
.sw.own { background: #6a9fd8; }
.sw.proxy { background: repeating-linear-gradient(135deg, #6a9fd8 0 3px, #e0803a 3px 6px);
            outline: 2px solid #e0803a; outline-offset: -2px; }
.sw.hold { background: #6a9fd8; opacity: .75; height: 8px; }
.sw.wait { background: repeating-linear-gradient(135deg, #fff 0 2px, #c62828 2px 4px);
           border: 1px solid #6a9fd8; height: 8px; }
.mk { display: inline-block; width: 0; height: 0; border-left: 5px solid transparent;
      border-right: 5px solid transparent; border-top: 8px solid #888; }
main { padding: 4px 16px 24px; }
.run-panel { margin: 10px 0 4px; }
.run-panel h2 { font-size: 14px; margin: 6px 0 3px; font-weight: 600; }
.run-panel h2 .sub { font-weight: 400; color: var(--muted); margin-left: 8px; }
.canvas-wrap { position: relative; border: 1px solid var(--line); border-radius: 4px;
               overflow: hidden; cursor: grab; user-select: none; }
.canvas-wrap.dragging { cursor: grabbing; }
.canvas-wrap canvas { display: block; width: 100%; }
#tooltip { position: fixed; z-index: 10; pointer-events: none;
           padding: 6px 8px; background: rgba(20, 24, 30, .94); color: #f3f5f7;
           border-radius: 4px; font-size: 12px; line-height: 1.45; white-space: nowrap;
           box-shadow: 0 2px 8px rgba(0, 0, 0, .25); }
#tooltip b { color: #fff; }
#tooltip .k { color: #aeb8c4; }
section h2 { font-size: 15px; margin: 20px 0 6px; }
.dist-head { display: grid; grid-template-columns: 130px repeat(4, minmax(160px, 1fr));
             gap: 6px; color: var(--muted); font-weight: 600; position: sticky; top: 38px;
             background: var(--bg); z-index: 2; padding: 2px 0; }
.dist-row { display: grid; grid-template-columns: 130px repeat(4, minmax(160px, 1fr)); gap: 6px;
            align-items: start; padding: 4px 0; border-top: 1px solid var(--line); }
.dist-row .name { font-weight: 600; overflow-wrap: anywhere; }
.dist-row .name small { display: block; font-weight: 400; color: var(--muted); }
.dist-row canvas { width: 100%; height: 110px; display: block; background: #fbfcfd;
                   border: 1px solid #e6eaee; border-radius: 3px; }
.dist-row .stats { font-size: 11px; color: var(--muted); font-variant-numeric: tabular-nums; }
.series-legend { display: flex; gap: 12px; margin: 2px 0 6px; color: var(--muted); }
table.metrics { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0 10px; }
table.metrics th, table.metrics td { padding: 2px 8px; border-bottom: 1px solid var(--line);
                                     text-align: right; white-space: nowrap; }
table.metrics th:first-child, table.metrics td:first-child { text-align: left; }
details > summary { cursor: pointer; margin: 6px 0; }
)CSS";

}  // namespace proxysim
