// The HTML report's renderer, embedded in every page written by --html (html_report.cc).
// Hand-written and dependency-free (README.md says why): it reads the JSON in
// #proxysim-data (docs/html-report.md) and draws, on canvases,
//   - per run, a timeline with one row per CPU (slices coloured by task; a task running on
//     another task's scheduling context, i.e. proxy execution, is hatched and outlined in the
//     donor's colour), migration markers by reason, and one lock row per task (holds solid,
//     waits hatched red);
//   - per task, wakeup-latency and response-time histograms and CDFs, one series per run.
// All timelines share one view (zooming or panning one moves all). Slices narrower than a pixel
// are merged into one-pixel columns (colour of the task with the most time in the pixel, opacity
// by the pixel's busy share) instead of being skipped, so the cost of a frame is bounded by the
// slices in view and nothing disappears when zoomed out.
// Hooks for tests: each .run-panel has data-protocol, data-cpu-rows, data-view-start and
// data-view-end; <body> has data-view-start/-end, data-first-render-ms and data-ready once all
// is drawn; window.proxysim.pointAt(run, cpu, t) gives the client point of CPU row `cpu` at t.
#pragma once

namespace proxysim {

inline constexpr char kReportJs[] = R"JS(
(function () {
'use strict';

const D = JSON.parse(document.getElementById('proxysim-data').textContent);
const GUTTER = 118, RIGHT = 8, AXIS_H = 22, CPU_H = 26, CPU_GAP = 3, LOCK_H = 12, LOCK_GAP = 2;
const HOW = ['R (preempted or yielded)', 'S (sleeping)', 'X (exited)',
             'D (blocked on a mutex)', 'keeps the CPU (donor or priority changed)',
             'running at the end of the run'];
const REASON_COLORS = ['#4e79a7', '#59a14f', '#8cd17d', '#76b7b2', '#e15759', '#ff9d9a',
                       '#b07aa1', '#d4a6c8', '#9c755f', '#f28e2b', '#edc948'];
const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf',
                       '#8c564b', '#e377c2'];

// ---------- formatting ----------
function esc(s) {
  return String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'})[c]);
}
function fmtTime(ns) {
  const a = Math.abs(ns);
  if (a >= 1e9) return +(ns / 1e9).toPrecision(7) + ' s';
  if (a >= 1e6) return +(ns / 1e6).toPrecision(7) + ' ms';
  if (a >= 1e3) return +(ns / 1e3).toPrecision(7) + ' \u00b5s';
  return ns + ' ns';
}
function fmtShort(ns) {
  const a = Math.abs(ns);
  if (a >= 1e9) return +(ns / 1e9).toPrecision(3) + ' s';
  if (a >= 1e6) return +(ns / 1e6).toPrecision(3) + ' ms';
  if (a >= 1e3) return +(ns / 1e3).toPrecision(3) + ' \u00b5s';
  return Math.round(ns) + ' ns';
}
function fmtTick(t, step) {
  let unit = 1, name = 'ns';
  if (step >= 1e8) { unit = 1e9; name = 's'; }
  else if (step >= 1e5) { unit = 1e6; name = 'ms'; }
  else if (step >= 1e2) { unit = 1e3; name = '\u00b5s'; }
  const digits = Math.max(0, Math.ceil(-Math.log10(step / unit) - 1e-9));
  return (t / unit).toFixed(digits) + ' ' + name;
}
function cpus(n) { return n + (n === 1 ? ' CPU' : ' CPUs'); }
function shortPolicy(p) { return p.replace('SCHED_', ''); }
function prioText(policy, prio) {
  if (policy === 'SCHED_DEADLINE' || prio < 0) return 'prio ' + prio + ' (deadline)';
  if (prio < 100) return 'prio ' + prio + ' (rtprio ' + (99 - prio) + ')';
  return 'prio ' + prio + ' (nice ' + (prio - 120) + ')';
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---------- colours ----------
const colorCache = [];
function color(id) {
  if (id < 0) return '#999';
  let c = colorCache[id];
  if (!c) {
    // HSL with the golden angle between neighbours, as #rrggbb (cheaper for canvas to parse).
    const h = (id * 137.508 + 200) % 360, s = 0.62, l = 0.56 + (id % 3) * 0.07;
    const a = s * Math.min(l, 1 - l);
    const f = n => {
      const k = (n + h / 30) % 12;
      const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
      return Math.round(v * 255).toString(16).padStart(2, '0');
    };
    c = colorCache[id] = '#' + f(0) + f(8) + f(4);
  }
  return c;
}
function hatch(ctx, stroke, bg) {
  const c = document.createElement('canvas');
  c.width = c.height = 8;
  const g = c.getContext('2d');
  if (bg) { g.fillStyle = bg; g.fillRect(0, 0, 8, 8); }
  g.strokeStyle = stroke;
  g.lineWidth = 2.5;
  g.beginPath();
  g.moveTo(-2, 2); g.lineTo(2, -2);
  g.moveTo(0, 8); g.lineTo(8, 0);
  g.moveTo(6, 10); g.lineTo(10, 6);
  g.stroke();
  return ctx.createPattern(c, 'repeat');
}

// ---------- data ----------
function lowerBound(a, n, v) {  // first i with a[i] > v (a nondecreasing)
  let lo = 0, hi = n;
  while (lo < hi) { const m = (lo + hi) >> 1; if (a[m] > v) hi = m; else lo = m + 1; }
  return lo;
}
function decodeSlices(a) {
  const n = a.length / 6;
  const s = {n: n, start: new Float64Array(n), end: new Float64Array(n), task: new Int32Array(n),
             donor: new Int32Array(n), prio: new Int32Array(n), how: new Uint8Array(n)};
  let t = 0;
  for (let i = 0, j = 0; i < n; i++, j += 6) {
    s.start[i] = t + a[j];
    t = s.end[i] = s.start[i] + a[j + 1];
    s.task[i] = a[j + 2]; s.donor[i] = a[j + 3]; s.prio[i] = a[j + 4]; s.how[i] = a[j + 5];
  }
  return s;
}
function decodeBands(a) {  // -> Map task -> {n, start, end, maxEnd, lock, kind, depth}
  const byTask = new Map();
  let t = 0;
  for (let j = 0; j < a.length; j += 6) {
    t += a[j + 1];
    let b = byTask.get(a[j]);
    if (!b) { b = {start: [], end: [], lock: [], kind: [], depth: []}; byTask.set(a[j], b); }
    b.start.push(t); b.end.push(t + a[j + 2]); b.lock.push(a[j + 3]); b.kind.push(a[j + 4]);
    b.depth.push(a[j + 5]);
  }
  for (const b of byTask.values()) {
    b.n = b.start.length;
    b.maxEnd = new Float64Array(b.n);
    let m = -Infinity;
    for (let i = 0; i < b.n; i++) { m = Math.max(m, b.end[i]); b.maxEnd[i] = m; }
  }
  return byTask;
}
function decodeMigr(a) {
  const n = a.length / 5;
  const g = {n: n, t: new Float64Array(n), task: new Int32Array(n), from: new Int32Array(n),
             to: new Int32Array(n), reason: new Uint8Array(n)};
  let t = 0;
  for (let i = 0, j = 0; i < n; i++, j += 5) {
    t = g.t[i] = t + a[j];
    g.task[i] = a[j + 1]; g.from[i] = a[j + 2]; g.to[i] = a[j + 3]; g.reason[i] = a[j + 4];
  }
  return g;
}
function decodeQ(q) {
  const out = new Float64Array(q.length);
  let v = 0;
  for (let i = 0; i < q.length; i++) { v += q[i]; out[i] = v; }
  return out;
}

const runs = D.runs.map(function (r, index) {
  const tasks = new Map();
  let maxId = 0;
  for (const t of r.tasks) { tasks.set(t.id, t); maxId = Math.max(maxId, t.id); }
  const bands = decodeBands(r.bands);
  const lockTasks = Array.from(bands.keys()).sort((x, y) => x - y);
  return {index: index, protocol: r.protocol, nrCpus: r.nr_cpus, end: r.end, raw: r,
          tasks: tasks, maxId: maxId, cpus: r.cpus.map(decodeSlices), bands: bands,
          lockTasks: lockTasks, migr: decodeMigr(r.migr)};
});
const fullEnd = Math.max(1, ...runs.map(r => r.end));
const view = {start: 0, end: fullEnd};
const reasonOn = D.reasons.map(() => true);
let showLocks = true;

function taskName(run, id) { const t = run.tasks.get(id); return t ? t.name : (id < 0 ? 'idle' : '#' + id); }

// ---------- page skeleton ----------
const app = document.getElementById('app');
const tooltip = document.getElementById('tooltip');
const header = el('header');
header.appendChild(el('h1', null, 'proxysim report: ' + D.workload));
header.appendChild(el('div', 'meta',
  'seed ' + D.seed + ' \u00b7 ' + runs.map(r => r.protocol).join(', ') + ' \u00b7 ' +
  cpus(runs.length ? runs[0].nrCpus : 0) + ' \u00b7 ' + fmtTime(fullEnd) + ' simulated'));
for (const r of runs)
  for (const m of r.raw.deadlocks) header.appendChild(el('div', 'deadlock', r.protocol + ': ' + m));
app.appendChild(header);

const toolbar = el('div', 'toolbar');
function button(text, title, fn) {
  const b = el('button', null, text);
  b.title = title;
  b.addEventListener('click', fn);
  toolbar.appendChild(b);
  return b;
}
button('\u2212', 'zoom out', () => zoomBy(2, null));
button('+', 'zoom in', () => zoomBy(0.5, null));
button('fit', 'show the whole run', () => setView(0, fullEnd));
const rangeText = el('span', 'range');
toolbar.appendChild(rangeText);
const legend = el('span', 'legend');
legend.innerHTML =
  '<span><span class="sw own"></span> runs on its own context</span>' +
  '<span><span class="sw proxy"></span> lock owner running on a donor\u2019s context (proxy)</span>' +
  '<span><span class="sw hold"></span> holds a lock</span>' +
  '<span><span class="sw wait"></span> waits for a lock</span>';
const lockToggle = el('label');
const lockBox = document.createElement('input');
lockBox.type = 'checkbox'; lockBox.checked = true;
lockBox.addEventListener('change', () => { showLocks = lockBox.checked; layoutAll(); drawAll(); });
lockToggle.append(lockBox, ' lock rows');
legend.appendChild(lockToggle);
const migrCount = D.reasons.map(() => 0);
for (const r of runs) for (let i = 0; i < r.migr.n; i++) migrCount[r.migr.reason[i]]++;
D.reasons.forEach(function (name, i) {
  if (!migrCount[i]) return;
  const l = el('label');
  l.title = 'migrations by reason ' + name;
  const box = document.createElement('input');
  box.type = 'checkbox'; box.checked = true;
  box.addEventListener('change', () => { reasonOn[i] = box.checked; drawAll(); });
  const mk = el('span', 'mk');
  mk.style.borderTopColor = REASON_COLORS[i % REASON_COLORS.length];
  l.append(box, mk, ' ' + name + ' (' + migrCount[i] + ')');
  legend.appendChild(l);
});
toolbar.appendChild(legend);
toolbar.appendChild(el('span', 'legend', 'wheel: zoom \u00b7 drag: pan \u00b7 hover: details'));
app.appendChild(toolbar);

const main = el('main');
app.appendChild(main);
const timelines = el('div');
timelines.id = 'timelines';
main.appendChild(timelines);

// ---------- timeline panels ----------
const panels = runs.map(function (run) {
  const div = el('div', 'run-panel');
  div.dataset.protocol = run.protocol;
  div.dataset.cpuRows = String(run.cpus.length);
  const h = el('h2', null, run.protocol);
  let busy = 0, proxy = 0;
  for (const s of run.cpus)
    for (let i = 0; i < s.n; i++) {
      busy += s.end[i] - s.start[i];
      if (s.donor[i] !== s.task[i]) proxy += s.end[i] - s.start[i];
    }
  h.appendChild(el('span', 'sub', cpus(run.cpus.length) + ' \u00b7 busy ' +
    (100 * busy / Math.max(1, run.end * run.cpus.length)).toFixed(1) + ' % \u00b7 proxy ' +
    fmtShort(proxy) + ' \u00b7 ' + run.migr.n + ' migrations \u00b7 ' + run.raw.events + ' events'));
  div.appendChild(h);
  const wrap = el('div', 'canvas-wrap');
  const canvas = document.createElement('canvas');
  wrap.appendChild(canvas);
  div.appendChild(wrap);
  timelines.appendChild(div);
  const p = {run: run, div: div, wrap: wrap, canvas: canvas, ctx: canvas.getContext('2d'),
             rows: [], cpuRows: [], w: 0, h: 0, patterns: new Map(),
             acc: new Float64Array(run.maxId + 1), touched: [], holdPx: new Uint8Array(0), waitPx: new Uint8Array(0)};
  p.waitPattern = hatch(p.ctx, '#c62828', '#ffffff');
  attachInput(p);
  return p;
});

function layout(p) {
  const rows = [];
  let y = AXIS_H;
  p.cpuRows = [];
  for (let c = 0; c < p.run.cpus.length; c++) {
    const row = {type: 'cpu', cpu: c, y: y, h: CPU_H};
    rows.push(row); p.cpuRows.push(row);
    y += CPU_H + CPU_GAP;
  }
  p.lockTitleY = -1;
  if (showLocks && p.run.lockTasks.length) {
    p.lockTitleY = y + 2;
    y += 16;
    for (const t of p.run.lockTasks) { rows.push({type: 'lock', task: t, y: y, h: LOCK_H}); y += LOCK_H + LOCK_GAP; }
  }
  p.rows = rows;
  const dpr = window.devicePixelRatio || 1;
  p.w = Math.max(300, p.wrap.clientWidth);
  p.h = y + 4;
  p.canvas.width = Math.round(p.w * dpr);
  p.canvas.height = Math.round(p.h * dpr);
  p.canvas.style.height = p.h + 'px';
  p.dpr = dpr;
}
function layoutAll() { for (const p of panels) layout(p); }

function donorPattern(p, id) {
  let pat = p.patterns.get(id);
  if (!pat) { pat = hatch(p.ctx, color(id), null); p.patterns.set(id, pat); }
  return pat;
}

function niceStep(raw) {
  const e = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

function drawAxis(p, scale, plotW) {
  const ctx = p.ctx;
  const step = Math.max(1, niceStep((view.end - view.start) * 110 / plotW));
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#5d6875';
  ctx.strokeStyle = '#e4e8ec';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let t = Math.ceil(view.start / step) * step; t <= view.end; t += step) {
    const x = Math.round(GUTTER + (t - view.start) * scale) + 0.5;
    ctx.moveTo(x, AXIS_H - 5); ctx.lineTo(x, p.h);
    const label = fmtTick(t, step);
    if (x + 3 + ctx.measureText(label).width < p.w) ctx.fillText(label, x + 3, AXIS_H / 2);
  }
  ctx.stroke();
}

function drawSlice(p, s, i, x, y, w, h) {
  const ctx = p.ctx, task = s.task[i], donor = s.donor[i];
  ctx.fillStyle = color(task);
  ctx.fillRect(x, y, w, h);
  if (donor !== task) {
    ctx.fillStyle = donorPattern(p, donor);
    ctx.fillRect(x, y + 5, w, h - 5);
    ctx.fillStyle = color(donor);
    ctx.fillRect(x, y, w, 4);
    if (w > 4) { ctx.strokeStyle = color(donor); ctx.lineWidth = 2; ctx.strokeRect(x + 1, y + 1, w - 2, h - 2); }
  }
  if (w > 30) {
    const label = donor !== task ? taskName(p.run, task) + ' \u21d0 ' + taskName(p.run, donor)
                                 : taskName(p.run, task);
    const lx = Math.max(x, GUTTER) + 3, room = x + w - lx - 3;
    if (room > 14) {
      ctx.save();
      ctx.beginPath(); ctx.rect(lx, y, room, h); ctx.clip();
      ctx.fillStyle = '#10151b';
      ctx.fillText(label, lx, y + h / 2 + 1);
      ctx.restore();
    }
  }
}

// Sub-pixel slices of one pixel column are merged into one column: the colour of the task with
// the most time in it, opacity by the busy share of the pixel (in quarters), a donor-coloured
// top edge when most of that time was proxy execution. Equal neighbouring columns are drawn
// as one rectangle, so a zoomed-out frame costs about one rectangle per run of pixels.
function drawCpuRow(p, row, scale, plotW) {
  const ctx = p.ctx, s = p.run.cpus[row.cpu], y = row.y, h = row.h;
  ctx.fillStyle = '#f1f3f5';
  ctx.fillRect(GUTTER, y, plotW, h);
  if (!s) return;
  const acc = p.acc, touched = p.touched, pxNs = 1 / scale;
  let bpx = -1, bSum = 0, bProxy = 0, bDonor = -1;
  let rx = -1, rw = 0, rTask = -1, rAlpha = 0, rDonor = -1;  // pending run of equal columns
  function drawRun() {
    if (rx < 0) return;
    ctx.globalAlpha = rAlpha;
    ctx.fillStyle = color(rTask);
    ctx.fillRect(rx, y, rw, h);
    if (rDonor >= 0) { ctx.fillStyle = color(rDonor); ctx.fillRect(rx, y, rw, 4); }
    ctx.globalAlpha = 1;
    rx = -1;
  }
  function flush() {
    if (bpx < 0) return;
    let best = touched[0];
    for (const id of touched) { if (acc[id] > acc[best]) best = id; }
    for (const id of touched) acc[id] = 0;
    touched.length = 0;
    const alpha = Math.max(0.5, Math.round(4 * Math.min(1, 0.35 + 0.65 * bSum / pxNs)) / 4);
    const donor = bProxy * 2 >= bSum ? bDonor : -1;
    if (rx >= 0 && bpx === rx + rw && best === rTask && alpha === rAlpha && donor === rDonor) {
      rw++;
    } else {
      drawRun();
      rx = bpx; rw = 1; rTask = best; rAlpha = alpha; rDonor = donor;
    }
    bpx = -1; bSum = 0; bProxy = 0;
  }
  ctx.textBaseline = 'middle';
  ctx.font = '11px system-ui, sans-serif';
  for (let i = lowerBound(s.end, s.n, view.start); i < s.n && s.start[i] < view.end; i++) {
    const xa = GUTTER + (s.start[i] - view.start) * scale;
    const xb = GUTTER + (s.end[i] - view.start) * scale;
    if (xb - xa >= 1) {
      flush();
      drawRun();
      const x0 = Math.max(xa, GUTTER - 2), x1 = Math.min(xb, GUTTER + plotW + 2);
      drawSlice(p, s, i, x0, y, x1 - x0, h);
      continue;
    }
    const px = Math.floor(xa);
    if (px !== bpx) { flush(); bpx = px; }
    const d = s.end[i] - s.start[i], id = s.task[i];
    if (acc[id] === 0) touched.push(id);
    acc[id] += d;
    bSum += d;
    if (s.donor[i] !== id) { bProxy += d; bDonor = s.donor[i]; }
  }
  flush();
  drawRun();
}

// One marker per 3-pixel column, CPU and reason; all markers of a reason are one path.
function drawMigrations(p, scale) {
  const ctx = p.ctx, g = p.run.migr, nr = D.reasons.length;
  const last = new Float64Array(p.cpuRows.length * nr).fill(-1e9);
  const paths = D.reasons.map(() => new Path2D());
  const t0 = view.start - 5 / scale;
  for (let i = lowerBound(g.t, g.n, t0); i < g.n && g.t[i] <= view.end + 5 / scale; i++) {
    const r = g.reason[i], row = p.cpuRows[g.to[i]];
    if (!reasonOn[r] || !row) continue;
    const x = Math.round(GUTTER + (g.t[i] - view.start) * scale);
    const k = g.to[i] * nr + r;
    if (x - last[k] < 3) continue;
    last[k] = x;
    const path = paths[r];
    path.moveTo(x - 4.5, row.y); path.lineTo(x + 4.5, row.y); path.lineTo(x, row.y + 8);
    path.closePath();
  }
  paths.forEach(function (path, r) {
    ctx.fillStyle = REASON_COLORS[r % REASON_COLORS.length];
    ctx.fill(path);
  });
}

// Lock bands of one task. Bands of a pixel or more are drawn as they are; narrower ones add
// their time to their pixel column in p.holdPx / p.waitPx, drawn with an opacity by that share
// of the pixel (in quarters), each run of equal columns as one rectangle.
function drawLockRow(p, row, scale, plotW) {
  const ctx = p.ctx, b = p.run.bands.get(row.task), y = row.y, h = row.h;
  ctx.fillStyle = '#f7f8fa';
  ctx.fillRect(GUTTER, y, plotW, h);
  if (!b) return;
  const cols = Math.ceil(plotW) + 2;
  if (p.holdPx.length < cols) { p.holdPx = new Float64Array(cols); p.waitPx = new Float64Array(cols); }
  const holdPx = p.holdPx.fill(0), waitPx = p.waitPx.fill(0);
  let marked = false;
  const wide = [];
  for (let i = lowerBound(b.maxEnd, b.n, view.start); i < b.n && b.start[i] < view.end; i++) {
    if (b.end[i] <= view.start && b.end[i] !== b.start[i]) continue;
    const xa = GUTTER + (b.start[i] - view.start) * scale;
    const xb = GUTTER + (b.end[i] - view.start) * scale;
    if (xb - xa >= 1) { wide.push(i); continue; }
    const c = Math.floor(xa) - GUTTER + 1;
    if (c < 0 || c >= cols) continue;
    const d = Math.max(b.end[i] - b.start[i], 0.01 / scale);  // an instant counts a little
    if (b.kind[i]) waitPx[c] += d; else holdPx[c] += d;
    marked = true;
  }
  const level = v => v > 0 ? Math.max(1, Math.round(4 * Math.min(1, v * scale))) : 0;
  function runs(px, fill) {
    for (let c = 0; c < cols; c++) {
      const l = level(px[c]);
      if (!l) continue;
      let e = c;
      while (e + 1 < cols && level(px[e + 1]) === l) e++;
      ctx.globalAlpha = l / 4;
      fill(GUTTER + c - 1, e - c + 1);
      c = e;
    }
    ctx.globalAlpha = 1;
  }
  if (marked) {
    ctx.fillStyle = color(row.task);
    runs(holdPx, (x, w) => ctx.fillRect(x, y, w, h));
    runs(waitPx, waitRect);
  }
  // The hatch shows from 6 pixels on; narrower waits are solid (a pattern fill costs more).
  function waitRect(x, w) {
    ctx.fillStyle = w < 6 ? '#d0504c' : p.waitPattern;
    ctx.fillRect(x, y + 1, w, h - 2);
  }
  ctx.font = '10px system-ui, sans-serif';
  for (const i of wide) {
    const xa = GUTTER + (b.start[i] - view.start) * scale;
    const xb = GUTTER + (b.end[i] - view.start) * scale;
    const d = Math.min(b.depth[i], 2), inset = d * 2;
    const x0 = Math.max(xa, GUTTER - 2), w = Math.min(xb, GUTTER + plotW + 2) - x0;
    if (b.kind[i] === 0) {
      ctx.fillStyle = color(row.task);
      ctx.globalAlpha = 0.8;
      ctx.fillRect(x0, y + inset, w, h - 2 * inset);
      ctx.globalAlpha = 1;
      if (d > 0 && w > 2) { ctx.strokeStyle = '#333'; ctx.lineWidth = 1; ctx.strokeRect(x0 + 0.5, y + inset + 0.5, w - 1, h - 2 * inset - 1); }
    } else {
      waitRect(x0, w);
      if (w >= 6) { ctx.strokeStyle = color(row.task); ctx.lineWidth = 1.5; ctx.strokeRect(x0 + 0.75, y + 1.75, w - 1.5, h - 3.5); }
    }
    if (xb - xa > 60) {
      const lx = Math.max(x0, GUTTER) + 3, room = Math.min(xb, GUTTER + plotW) - lx - 3;
      if (room > 20) {
        const text = (b.kind[i] ? 'waits ' : 'holds ') + (D.runs[p.run.index].locks[b.lock[i]] || '');
        ctx.save();
        ctx.beginPath(); ctx.rect(lx, y, room, h); ctx.clip();
        ctx.fillStyle = 'rgba(255,255,255,.85)';
        ctx.fillRect(lx - 2, y + 1, ctx.measureText(text).width + 4, h - 2);
        ctx.fillStyle = '#10151b';
        ctx.fillText(text, lx, y + h / 2 + 1);
        ctx.restore();
      }
    }
  }
}

function drawPanel(p) {
  const ctx = p.ctx, plotW = p.w - GUTTER - RIGHT;
  const scale = plotW / (view.end - view.start);
  ctx.setTransform(p.dpr, 0, 0, p.dpr, 0, 0);
  ctx.clearRect(0, 0, p.w, p.h);
  drawAxis(p, scale, plotW);
  ctx.save();
  ctx.beginPath(); ctx.rect(GUTTER, 0, plotW, p.h); ctx.clip();
  for (const row of p.rows) {
    if (row.type === 'cpu') drawCpuRow(p, row, scale, plotW);
    else drawLockRow(p, row, scale, plotW);
  }
  drawMigrations(p, scale);
  ctx.restore();
  // labels in the gutter
  ctx.textBaseline = 'middle';
  ctx.font = '600 12px system-ui, sans-serif';
  ctx.fillStyle = '#1d232b';
  for (const row of p.cpuRows) ctx.fillText('CPU ' + row.cpu, 8, row.y + row.h / 2);
  if (p.lockTitleY >= 0) {
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.fillText('locks', 8, p.lockTitleY + 6);
    ctx.font = '11px system-ui, sans-serif';
    for (const row of p.rows) {
      if (row.type !== 'lock') continue;
      ctx.fillStyle = color(row.task);
      ctx.fillRect(8, row.y + 2, 8, row.h - 4);
      ctx.fillStyle = '#1d232b';
      let name = taskName(p.run, row.task);
      if (name.length > 15) name = name.slice(0, 14) + '\u2026';
      ctx.fillText(name, 20, row.y + row.h / 2 + 1);
    }
  }
  p.div.dataset.viewStart = String(Math.round(view.start));
  p.div.dataset.viewEnd = String(Math.round(view.end));
}

let drawPending = false;
function drawAll() {
  const t = performance.now();
  for (const p of panels) drawPanel(p);
  window.proxysim.lastDrawMs = performance.now() - t;
}
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; drawAll(); });
}
function setView(s, e) {
  let span = Math.min(fullEnd, Math.max(50, e - s));
  s = Math.max(0, Math.min(s, fullEnd - span));
  view.start = s; view.end = s + span;
  rangeText.textContent = fmtTime(Math.round(view.start)) + ' \u2013 ' + fmtTime(Math.round(view.end)) +
                          ' (' + fmtShort(span) + ')';
  document.body.dataset.viewStart = String(Math.round(view.start));
  document.body.dataset.viewEnd = String(Math.round(view.end));
  scheduleDraw();
}
function zoomBy(f, at) {
  const span = view.end - view.start;
  if (at === null) at = view.start + span / 2;
  setView(at - (at - view.start) * f, at + (view.end - at) * f);
}

// ---------- hover and input ----------
function hit(p, mx, my) {
  const row = p.rows.find(r => my >= r.y && my < r.y + r.h);
  if (!row || mx < GUTTER || mx > p.w - RIGHT) return null;
  const scale = (p.w - GUTTER - RIGHT) / (view.end - view.start);
  const t = view.start + (mx - GUTTER) / scale, slack = 3 / scale;
  if (row.type === 'cpu') {
    const g = p.run.migr;
    if (my < row.y + 9) {
      let best = -1;
      for (let i = lowerBound(g.t, g.n, t - 5 / scale); i < g.n && g.t[i] <= t + 5 / scale; i++)
        if (g.to[i] === row.cpu && reasonOn[g.reason[i]] &&
            (best < 0 || Math.abs(g.t[i] - t) < Math.abs(g.t[best] - t))) best = i;
      if (best >= 0) return {kind: 'migr', i: best, row: row};
    }
    const s = p.run.cpus[row.cpu];
    if (!s || !s.n) return null;
    const i = lowerBound(s.start, s.n, t) - 1;
    if (i >= 0 && s.end[i] > t) return {kind: 'slice', s: s, i: i, row: row};
    let best = -1, dist = slack;
    for (const j of [i, i + 1]) {
      if (j < 0 || j >= s.n) continue;
      const dj = t < s.start[j] ? s.start[j] - t : t - s.end[j];
      if (dj <= dist) { dist = dj; best = j; }
    }
    return best >= 0 ? {kind: 'slice', s: s, i: best, row: row} : null;
  }
  const b = p.run.bands.get(row.task);
  if (!b) return null;
  let best = -1;
  for (let i = lowerBound(b.start, b.n, t + slack) - 1; i >= 0 && b.maxEnd[i] >= t - slack; i--)
    if (b.start[i] - slack <= t && b.end[i] + slack >= t && (best < 0 || b.depth[i] > b.depth[best])) best = i;
  return best >= 0 ? {kind: 'band', b: b, i: best, row: row} : null;
}

function describe(p, h) {
  const run = p.run;
  const line = (k, v) => '<div><span class="k">' + k + '</span> ' + v + '</div>';
  if (h.kind === 'slice') {
    const s = h.s, i = h.i, t = run.tasks.get(s.task[i]) || {name: '?', pid: 0, policy: '', prio: 0};
    const proxy = s.donor[i] !== s.task[i];
    let html = '<div><b>' + esc(t.name) + '</b> <span class="k">pid</span> ' + t.pid + ' \u00b7 ' +
               esc(shortPolicy(t.policy)) + ' \u00b7 ' + prioText(t.policy, s.prio[i]) +
               (s.prio[i] !== t.prio ? ' <span class="k">(base ' + t.prio + ')</span>' : '') + '</div>';
    if (proxy) {
      const d = run.tasks.get(s.donor[i]) || {name: '?', pid: 0, policy: '', prio: 0};
      html += line('state', 'runs as <b>proxy</b>: the lock owner on donor <b>' + esc(d.name) +
                   '</b>\u2019s scheduling context');
      html += line('donor', '<b>' + esc(d.name) + '</b> pid ' + d.pid + ' \u00b7 ' +
                   esc(shortPolicy(d.policy)) + ' \u00b7 ' + prioText(d.policy, d.prio));
    } else {
      html += line('state', 'running (own context)');
    }
    html += line('start', fmtTime(s.start[i]) + ' \u00b7 <span class="k">duration</span> ' +
                 fmtTime(s.end[i] - s.start[i]));
    html += line('then', HOW[s.how[i]] || '?');
    html += line('CPU', h.row.cpu + ' \u00b7 ' + esc(run.protocol));
    return html;
  }
  if (h.kind === 'migr') {
    const g = run.migr, i = h.i;
    return '<div><b>' + esc(taskName(run, g.task[i])) + '</b> migrated CPU ' + g.from[i] +
           ' \u2192 CPU ' + g.to[i] + '</div>' + line('reason', esc(D.reasons[g.reason[i]])) +
           line('time', fmtTime(g.t[i])) + line('protocol', esc(run.protocol));
  }
  const b = h.b, i = h.i, lock = D.runs[run.index].locks[b.lock[i]] || '?';
  return '<div><b>' + esc(taskName(run, h.row.task)) + '</b> ' +
         (b.kind[i] ? 'waits for' : 'holds') + ' lock <b>' + esc(lock) + '</b></div>' +
         line('start', fmtTime(b.start[i]) + ' \u00b7 <span class="k">duration</span> ' +
              fmtTime(b.end[i] - b.start[i])) +
         (b.depth[i] ? line('nested', 'while holding ' + b.depth[i] + ' other lock(s)') : '') +
         line('protocol', esc(run.protocol));
}

function showTip(html, cx, cy) {
  tooltip.innerHTML = html;
  tooltip.hidden = false;
  const r = tooltip.getBoundingClientRect();
  let x = cx + 14, y = cy + 14;
  if (x + r.width > window.innerWidth - 4) x = Math.max(4, cx - r.width - 14);
  if (y + r.height > window.innerHeight - 4) y = Math.max(4, cy - r.height - 14);
  tooltip.style.left = x + 'px';
  tooltip.style.top = y + 'px';
}
function hideTip() { tooltip.hidden = true; }

let drag = null;
function attachInput(p) {
  const c = p.canvas;
  c.addEventListener('wheel', function (e) {
    e.preventDefault();
    const r = c.getBoundingClientRect(), mx = e.clientX - r.left;
    const scale = (p.w - GUTTER - RIGHT) / (view.end - view.start);
    const at = mx < GUTTER ? null : view.start + (mx - GUTTER) / scale;
    const dy = e.deltaMode === 1 ? e.deltaY * 30 : e.deltaY;
    zoomBy(Math.exp(Math.max(-3, Math.min(3, dy * 0.002))), at);
    hideTip();
  }, {passive: false});
  c.addEventListener('mousedown', function (e) {
    if (e.button !== 0) return;
    drag = {x: e.clientX, start: view.start, end: view.end, p: p};
    p.wrap.classList.add('dragging');
    hideTip();
    e.preventDefault();
  });
  c.addEventListener('mousemove', function (e) {
    if (drag) return;
    const r = c.getBoundingClientRect();
    const h = hit(p, e.clientX - r.left, e.clientY - r.top);
    if (h) showTip(describe(p, h), e.clientX, e.clientY); else hideTip();
  });
  c.addEventListener('mouseleave', hideTip);
}
window.addEventListener('mousemove', function (e) {
  if (!drag) return;
  const scale = (drag.p.w - GUTTER - RIGHT) / (drag.end - drag.start);
  const dt = (e.clientX - drag.x) / scale;
  setView(drag.start - dt, drag.end - dt);
});
window.addEventListener('mouseup', function () {
  if (!drag) return;
  drag.p.wrap.classList.remove('dragging');
  drag = null;
});
window.addEventListener('resize', () => { layoutAll(); drawAll(); });

// ---------- per-run metrics tables ----------
function metricsTable(run) {
  const det = el('details');
  det.appendChild(el('summary', null, 'per-task metrics: ' + run.protocol));
  const tbl = el('table', 'metrics');
  const cols = ['task', 'pid', 'policy', 'CPU time', 'as proxy', 'donated', 'activations',
                'resp p50', 'resp p99', 'resp max', 'wakeup p99', 'wakeup max', 'lock wait',
                'lock wait max', 'owner starved', 'migrations', 'dl misses', 'vol/invol'];
  const hr = el('tr');
  for (const c of cols) hr.appendChild(el('th', null, c));
  tbl.appendChild(hr);
  for (const t of run.raw.tasks) {
    const m = t.m || {};
    const cells = [t.name, t.pid, shortPolicy(t.policy) + ' ' + t.prio, fmtShort(m.cpu_time || 0),
                   fmtShort(m.proxy || 0), fmtShort(m.donated || 0), m.activations || 0,
                   fmtShort(t.rt.p50), fmtShort(t.rt.p99), fmtShort(t.rt.max), fmtShort(t.wl.p99),
                   fmtShort(t.wl.max), fmtShort(m.lock_wait_total || 0), fmtShort(m.lock_wait_max || 0),
                   fmtShort(m.owner_starved || 0), m.migrations || 0, m.deadline_misses || 0,
                   (m.voluntary || 0) + '/' + (m.involuntary || 0)];
    const tr = el('tr');
    for (const c of cells) tr.appendChild(el('td', null, String(c)));
    tbl.appendChild(tr);
  }
  det.appendChild(tbl);
  return det;
}
// ---------- distributions ----------
// Built after the first timeline frame, so that the timelines show first.
const distJobs = [];
function buildSections() {
const tables = el('section');
tables.appendChild(el('h2', null, 'Metrics'));
for (const r of runs) tables.appendChild(metricsTable(r));
const dists = el('section');
dists.id = 'distributions';
dists.appendChild(el('h2', null, 'Wakeup latency and response time per task'));
const series = el('div', 'series-legend');
runs.forEach(function (r, k) {
  const s = el('span');
  const sw = el('span', 'sw');
  sw.style.background = SERIES_COLORS[k % SERIES_COLORS.length];
  s.append(sw, ' ' + r.protocol);
  if (runs.length > 1) series.appendChild(s);
});
dists.appendChild(series);
dists.appendChild(el('p', 'legend', 'Wakeup latency: sched_waking to switch-in. Response time: ' +
  'release to completion of an rt-app activation (docs/metrics.md). Histograms count samples ' +
  'in 24 equal bins; CDFs are exact up to ' + 2000 + ' samples per task and run, and drawn ' +
  'from 2000 nearest-rank quantiles beyond.'));
const head = el('div', 'dist-head');
for (const c of ['task', 'wakeup latency: histogram', 'wakeup latency: CDF', 'response time: histogram',
                 'response time: CDF']) head.appendChild(el('div', null, c));
dists.appendChild(head);
main.appendChild(dists);
main.appendChild(tables);

(function buildDists() {
  const ids = new Map();
  for (const r of runs) for (const t of r.raw.tasks) if (!ids.has(t.id)) ids.set(t.id, t);
  const order = Array.from(ids.keys()).sort((a, b) => a - b);
  for (const id of order) {
    const per = runs.map(r => r.tasks.get(id));
    if (!per.some(t => t && (t.wl.n || t.rt.n))) continue;
    const row = el('div', 'dist-row');
    const t0 = ids.get(id);
    const name = el('div', 'name', t0.name);
    name.style.borderLeft = '4px solid ' + color(id);
    name.style.paddingLeft = '4px';
    name.appendChild(el('small', null, 'pid ' + t0.pid + ' \u00b7 ' + shortPolicy(t0.policy) + ' ' + t0.prio));
    row.appendChild(name);
    for (const key of ['wl', 'rt']) {
      const ser = [];
      per.forEach(function (t, k) {
        if (t && t[key].n) ser.push({d: t[key], q: decodeQ(t[key].q), label: runs[k].protocol,
                                     color: runs.length > 1 ? SERIES_COLORS[k % SERIES_COLORS.length] : color(id)});
      });
      const hc = el('div'), cc = el('div');
      const hcv = document.createElement('canvas'), ccv = document.createElement('canvas');
      hc.appendChild(hcv); cc.appendChild(ccv);
      const st = el('div', 'stats');
      if (!ser.length) st.textContent = 'no samples';
      for (const s of ser) {
        const l = el('div', null, (runs.length > 1 ? s.label + ': ' : '') + 'n ' + s.d.n + ' \u00b7 p50 ' +
                     fmtShort(s.d.p50) + ' \u00b7 p99 ' + fmtShort(s.d.p99) + ' \u00b7 max ' + fmtShort(s.d.max));
        l.style.color = runs.length > 1 ? s.color : '';
        st.appendChild(l);
      }
      hc.appendChild(st);
      row.append(hc, cc);
      if (ser.length) distJobs.push({ser: ser, hist: hcv, cdf: ccv});
    }
    dists.appendChild(row);
  }
})();
}

function setupSmall(cv) {
  const dpr = window.devicePixelRatio || 1, w = Math.max(120, cv.clientWidth), h = 110;
  cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
  const ctx = cv.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = '10px system-ui, sans-serif';
  return {ctx: ctx, w: w, h: h, l: 30, r: 6, t: 6, b: 16};
}
function range(ser) {
  let lo = Infinity, hi = -Infinity;
  for (const s of ser) { lo = Math.min(lo, s.q[0]); hi = Math.max(hi, s.q[s.q.length - 1]); }
  if (!(hi > lo)) hi = lo + Math.max(1, Math.abs(lo) * 0.1);
  return [lo, hi];
}
function xAxis(g, lo, hi) {
  const c = g.ctx;
  c.fillStyle = '#5d6875';
  c.textBaseline = 'alphabetic';
  c.textAlign = 'left'; c.fillText(fmtShort(lo), g.l, g.h - 4);
  c.textAlign = 'right'; c.fillText(fmtShort(hi), g.w - g.r, g.h - 4);
  c.strokeStyle = '#c9d0d7'; c.lineWidth = 1;
  c.beginPath(); c.moveTo(g.l, g.h - g.b + 0.5); c.lineTo(g.w - g.r, g.h - g.b + 0.5); c.stroke();
}
function drawHist(cv, ser) {
  const g = setupSmall(cv), c = g.ctx, B = 24;
  const [lo, hi] = range(ser);
  const counts = ser.map(function (s) {
    const k = new Float64Array(B), w = s.d.n / s.q.length;
    for (const v of s.q) k[Math.min(B - 1, Math.floor((v - lo) / (hi - lo) * B))] += w;
    return k;
  });
  let ymax = 1;
  for (const k of counts) for (const v of k) ymax = Math.max(ymax, v);
  const pw = g.w - g.l - g.r, ph = g.h - g.t - g.b;
  counts.forEach(function (k, si) {
    c.beginPath();
    c.moveTo(g.l, g.t + ph);
    for (let b = 0; b < B; b++) {
      const y = g.t + ph - k[b] / ymax * ph;
      c.lineTo(g.l + b * pw / B, y); c.lineTo(g.l + (b + 1) * pw / B, y);
    }
    c.lineTo(g.l + pw, g.t + ph);
    c.closePath();
    c.globalAlpha = ser.length > 1 ? 0.18 : 0.55;
    c.fillStyle = ser[si].color; c.fill();
    c.globalAlpha = 1;
    c.strokeStyle = ser[si].color; c.lineWidth = 1.4; c.stroke();
  });
  c.fillStyle = '#5d6875';
  c.textAlign = 'right'; c.textBaseline = 'top';
  c.fillText(String(Math.round(ymax)), g.l - 3, g.t);
  c.textBaseline = 'bottom'; c.fillText('0', g.l - 3, g.t + ph);
  xAxis(g, lo, hi);
}
function drawCdf(cv, ser) {
  const g = setupSmall(cv), c = g.ctx;
  const [lo, hi] = range(ser);
  const pw = g.w - g.l - g.r, ph = g.h - g.t - g.b;
  const X = v => g.l + (v - lo) / (hi - lo) * pw, Y = f => g.t + ph - f * ph;
  c.strokeStyle = '#e4e8ec'; c.lineWidth = 1;
  c.beginPath();
  for (const f of [0.5, 0.99]) { c.moveTo(g.l, Math.round(Y(f)) + 0.5); c.lineTo(g.l + pw, Math.round(Y(f)) + 0.5); }
  c.stroke();
  for (const s of ser) {
    const m = s.q.length;
    c.beginPath();
    c.moveTo(X(s.q[0]), Y(0));
    let prev = 0;
    for (let k = 0; k < m; k++) {
      const x = X(s.q[k]), f = (k + 1) / m;
      c.lineTo(x, Y(prev)); c.lineTo(x, Y(f));
      prev = f;
    }
    c.lineTo(g.l + pw, Y(1));
    c.strokeStyle = s.color; c.lineWidth = 1.6; c.stroke();
  }
  c.fillStyle = '#5d6875';
  c.textAlign = 'right'; c.textBaseline = 'middle';
  c.fillText('1', g.l - 3, Y(1) + 4); c.fillText('.5', g.l - 3, Y(0.5)); c.fillText('0', g.l - 3, Y(0) - 3);
  xAxis(g, lo, hi);
}
function drawDists(from) {
  const t = performance.now();
  let i = from;
  for (; i < distJobs.length && performance.now() - t < 30; i++) {
    drawHist(distJobs[i].hist, distJobs[i].ser);
    drawCdf(distJobs[i].cdf, distJobs[i].ser);
  }
  if (i < distJobs.length) setTimeout(() => drawDists(i), 0);
  else document.body.dataset.ready = '1';
}

// ---------- first render ----------
window.proxysim = {
  data: D, view: view, lastDrawMs: 0, firstRenderMs: 0,
  setView: setView,
  // Client coordinates of CPU row `cpu` of run `run` at time t (scrolled into view first).
  pointAt: function (run, cpu, t) {
    const p = panels[run], row = p.cpuRows[cpu];
    const r0 = p.canvas.getBoundingClientRect();
    if (r0.top + row.y < 0 || r0.top + row.y + row.h > window.innerHeight)
      window.scrollBy(0, r0.top + row.y - window.innerHeight / 3);
    const r = p.canvas.getBoundingClientRect();
    const scale = (p.w - GUTTER - RIGHT) / (view.end - view.start);
    return {x: r.left + GUTTER + (t - view.start) * scale, y: r.top + row.y + row.h / 2 + 4};
  },
};
layoutAll();
setView(0, fullEnd);
drawAll();
drawPending = false;
window.proxysim.firstRenderMs = performance.now();
document.body.dataset.firstRenderMs = window.proxysim.firstRenderMs.toFixed(1);
setTimeout(() => { buildSections(); drawDists(0); }, 0);
})();
)JS";

}  // namespace proxysim
