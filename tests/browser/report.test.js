// End-to-end test of `proxysim run/compare --html` in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser is downloaded). Run by
// `make test-browser`, or here with `PROXYSIM=../../build/proxysim node --test report.test.js`.
//
// For each page: no console error, no page error, no network request (the page is
// self-contained); the timeline has one row per simulated CPU; hovering a slice known from the
// page's own data shows a tooltip naming its task (both tasks for proxy execution); wheel zoom
// and drag pan change the visible range (of every run, in compare); a screenshot has real
// content. The 10 s, 4-CPU, 50-task page prints its size and time to first render.
// `UPDATE_DOCS=1` also writes docs/report.png.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const PROXYSIM = process.env.PROXYSIM || path.join(ROOT, 'build', 'proxysim');
const OUT = path.join(__dirname, 'out');
const MS = 1e6;

function proxysim(args) {
  execFileSync(PROXYSIM, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

// ---- a small PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium writes) ----
function decodePng(buf) {
  assert.equal(buf.readUInt32BE(0), 0x89504e47, 'PNG signature');
  let off = 8, width = 0, height = 0, colorType = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth 8');
      colorType = data[9];
      assert.equal(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  assert.ok(bpp, 'colour type RGB or RGBA, got ' + colorType);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp, px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[y * stride + x - bpp] : 0, b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp] : 0;
      let v = line[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = v & 255;
    }
  }
  return { width, height, bpp, px };
}

// Distinct colours and the share of pixels that are not (near-)white or the page background.
function pngStats(file) {
  const { width, height, bpp, px } = decodePng(fs.readFileSync(file));
  const colours = new Set();
  let ink = 0;
  for (let i = 0; i < width * height; i++) {
    const r = px[i * bpp], g = px[i * bpp + 1], b = px[i * bpp + 2];
    colours.add((r << 16) | (g << 8) | b);
    if (r + g + b < 3 * 235) ink++;
  }
  return { width, height, colours: colours.size, ink: ink / (width * height) };
}

// ---- the browser ----
let context, userData;
test.before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  userData = fs.mkdtempSync(path.join(os.tmpdir(), 'proxysim-chromium-'));
  context = await chromium.launchPersistentContext(userData, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
test.after(async () => {
  if (context) await context.close();
  if (userData) fs.rmSync(userData, { recursive: true, force: true });
});

// Opens `file` and waits until everything is drawn; page.problems collects console errors,
// page errors and any request that would leave the file.
async function open(file) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', m => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', e => problems.push('pageerror: ' + e.message));
  await page.route('**/*', route => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    problems.push('network: ' + url);
    return route.abort();
  });
  await page.goto('file://' + file);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 120000 });
  page.problems = problems;
  return page;
}

const view = page => page.evaluate(() => [Number(document.body.dataset.viewStart),
                                           Number(document.body.dataset.viewEnd)]);
const panelViews = page => page.$$eval('.run-panel', ps => ps.map(p => [p.dataset.viewStart, p.dataset.viewEnd]));

async function hover(page, run, cpu, t) {
  const pt = await page.evaluate(([r, c, tt]) => window.proxysim.pointAt(r, c, tt), [run, cpu, t]);
  await page.mouse.move(pt.x, pt.y);
  await page.waitForSelector('#tooltip:not([hidden])', { timeout: 5000 });
  return page.$eval('#tooltip', e => e.textContent);
}

// Wheel over the first timeline at 40 % of its width, then waits for a redraw.
async function wheelZoom(page, deltaY) {
  const canvas = page.locator('.run-panel canvas').first();
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.4, box.y + 30);
  await page.mouse.wheel(0, deltaY);
  await page.waitForTimeout(150);
}

test('run --html: classic inversion under proxy', async () => {
  const file = path.join(OUT, 'classic-proxy.html');
  const args = ['run', 'tests/scenarios/classic-inversion.json', '--cpus', '1', '--costs', 'zero',
                '--protocol', 'proxy', '-q', '--html'];
  proxysim([...args, file]);
  proxysim([...args, file + '.again']);
  assert.ok(fs.readFileSync(file).equals(fs.readFileSync(file + '.again')), 'byte-identical');

  const page = await open(file);
  const rows = await page.$$eval('.run-panel', ps => ps.map(p => p.dataset.cpuRows));
  assert.deepEqual(rows, ['1']);

  // 2-10 ms: low, the lock owner, runs on high's scheduling context (tests/unit/html_report_test).
  const tip = await hover(page, 0, 0, 5 * MS);
  assert.match(tip, /^low-0\b/);
  assert.match(tip, /proxy/);
  assert.match(tip, /high-1/);
  assert.match(await hover(page, 0, 0, 30 * MS), /^mid-2\b/);

  const [s0, e0] = await view(page);
  assert.deepEqual([s0, e0], [0, 61 * MS]);
  await wheelZoom(page, -500);
  const [s1, e1] = await view(page);
  assert.ok(e1 - s1 < (e0 - s0) / 2, `wheel zoom: ${s1}-${e1}`);
  assert.ok(s1 > s0, 'zoomed around the cursor');
  // Drag to the left moves the range later in time.
  const box = await page.locator('.run-panel canvas').first().boundingBox();
  await page.mouse.move(box.x + 700, box.y + 30);
  await page.mouse.down();
  await page.mouse.move(box.x + 500, box.y + 30, { steps: 4 });
  await page.mouse.up();
  await page.waitForTimeout(100);
  const [s2, e2] = await view(page);
  assert.ok(s2 > s1 && Math.abs((e2 - s2) - (e1 - s1)) < 2, `pan: ${s1} -> ${s2}`);
  await page.click('button[title="show the whole run"]');
  assert.deepEqual(await view(page), [0, 61 * MS]);

  const png = path.join(OUT, 'classic-proxy.png');
  await page.screenshot({ path: png });
  const st = pngStats(png);
  assert.ok(st.colours >= 30 && st.ink >= 0.03, JSON.stringify(st));
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('compare --html: cross-CPU chain, five protocols on one time axis', async () => {
  const file = path.join(OUT, 'chain-compare.html');
  const protocols = ['none', 'pi', 'proxy:single-rq', 'proxy:migrate', 'proxy:full'];
  proxysim(['compare', 'tests/scenarios/cross-cpu-chain.json', '--cpus', '2', '--protocols',
            protocols.join(','), '-q', '--html', file]);
  const page = await open(file);
  const panels = await page.$$eval('.run-panel', ps => ps.map(p => [p.dataset.protocol, p.dataset.cpuRows]));
  assert.deepEqual(panels, protocols.map(p => [p, '2']));

  // A proxy slice from the page's data (proxy:full): the owner running on the waiter's context.
  const known = await page.evaluate(() => {
    const run = window.proxysim.data.runs[4];
    const name = id => run.tasks.find(t => t.id === id).name;
    for (let c = 0; c < run.cpus.length; c++) {
      let t = 0;
      const a = run.cpus[c];
      for (let j = 0; j < a.length; j += 6) {
        const start = t + a[j], end = start + a[j + 1];
        t = end;
        if (a[j + 3] !== a[j + 2] && end - start > 1e5)
          return { cpu: c, t: (start + end) / 2, task: name(a[j + 2]), donor: name(a[j + 3]) };
      }
    }
    return null;
  });
  assert.ok(known, 'proxy:full has a proxy slice');
  assert.equal(known.task, 'owner-0');
  assert.equal(known.donor, 'waiter-3');
  await page.evaluate(() => window.proxysim.setView(0, 30e6));
  await page.waitForTimeout(100);
  const tip = await hover(page, 4, known.cpu, known.t);
  assert.match(tip, /^owner-0\b/);
  assert.match(tip, /waiter-3/);

  // Zooming the first timeline zooms all five alike.
  const before = await panelViews(page);
  await wheelZoom(page, -400);
  const after = await panelViews(page);
  assert.notDeepEqual(after[0], before[0]);
  for (const v of after) assert.deepEqual(v, after[0]);
  assert.ok(Number(after[0][1]) - Number(after[0][0]) < 30e6);

  await page.evaluate(() => window.proxysim.setView(0, 25e6));
  await page.waitForTimeout(100);
  await page.mouse.move(0, 0);
  const png = path.join(OUT, 'chain-compare.png');
  await page.screenshot({ path: png });
  const st = pngStats(png);
  assert.ok(st.colours >= 30 && st.ink >= 0.05, JSON.stringify(st));
  if (process.env.UPDATE_DOCS) {
    // README's picture: the five runs with the tooltip of proxy:migrate's proxy slice.
    await page.setViewportSize({ width: 1400, height: 1010 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const pt = await page.evaluate(() => window.proxysim.pointAt(3, 1, 9.5e6));
    await page.mouse.move(pt.x, pt.y);
    await page.waitForTimeout(100);
    await page.screenshot({ path: path.join(ROOT, 'docs', 'report.png') });
  }
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('run --html: 10 s, 4 CPUs, 50 tasks stays responsive', async () => {
  const file = path.join(OUT, 'busy-4cpu-50tasks.html');
  proxysim(['run', 'tests/browser/busy-4cpu-50tasks.json', '--cpus', '4', '--protocol', 'proxy',
            '-q', '--html', file]);
  const size = fs.statSync(file).size;
  const page = await open(file);
  const info = await page.evaluate(() => {
    const r = window.proxysim.data.runs[0];
    return { tasks: r.tasks.length, slices: r.cpus.reduce((n, c) => n + c.length / 6, 0),
             bands: r.bands.length / 6, migrations: r.migr.length / 5,
             firstRenderMs: window.proxysim.firstRenderMs };
  });
  assert.equal(info.tasks, 50);
  assert.deepEqual(await page.$$eval('.run-panel', ps => ps.map(p => p.dataset.cpuRows)), ['4']);
  // Redraws of the whole 10 s (the most expensive view): median of 9.
  const draws = [];
  for (let k = 0; k < 9; k++) {
    await page.evaluate(k => window.proxysim.setView(0, 10e9 - k), k);
    await page.waitForTimeout(50);
    draws.push(await page.evaluate(() => window.proxysim.lastDrawMs));
  }
  draws.sort((a, b) => a - b);
  const tip = await hover(page, 0, 2, 5e9);
  assert.match(tip, /pid \d+/);
  await wheelZoom(page, -800);
  const [s, e] = await view(page);
  assert.ok(e - s < 5e9);
  console.log(`10 s / 4 CPUs / 50 tasks: HTML ${(size / 1e6).toFixed(2)} MB, ` +
              `${info.slices} slices, ${info.bands} lock bands, ${info.migrations} migrations; ` +
              `first render ${info.firstRenderMs.toFixed(0)} ms after navigation start, ` +
              `full-view redraw median ${draws[4].toFixed(0)} ms`);
  // Generous bounds: the machine may be busy; typical figures are in README.md.
  assert.ok(info.firstRenderMs < 20000, 'first render ' + info.firstRenderMs);
  assert.ok(draws[4] < 1500, 'redraw ' + draws[4]);
  const png = path.join(OUT, 'busy-4cpu-50tasks.png');
  await page.screenshot({ path: png });
  const st = pngStats(png);
  assert.ok(st.colours >= 100 && st.ink >= 0.1, JSON.stringify(st));
  assert.deepEqual(page.problems, []);
  await page.close();
});
