/**
 * report.html and compare.html as a person sees them: headless Chromium
 * (Debian's chromium via playwright-core) opens the files netbench writes
 * (writeRunFiles, the compare CLI's writeComparisonFiles) from disk and finds
 * every chart with its series and axis labels, the rounds and spread of the
 * figures, the failures with their reasons; nothing is requested from
 * anywhere; no console error. Runs: the article's three clusters (iptables
 * with failures and 3 rounds, Cilium Native with 3 rounds, Cilium Overlay
 * with 1 round), a cancelled run, and a comparison mixing a netbench run with
 * the reference script's results in both summary formats.
 *
 * Screenshots land in test-artifacts/ (gitignored): report-iptables.png,
 * report-cilium.png, report-cancelled.png, report-print.png,
 * report-section-*.png, compare-article.png, compare-mixed.png.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import type { RunResults } from '../../src/domain/results';
import { writeComparisonFiles, writeRunFiles } from '../../src/report/files';
import { repoRoot } from '../support/binaries';
import { artifactPath, launchChromium, screenshot, type LaunchedChromium } from '../support/browser';
import { A, B, C, failed, makeRun } from '../support/report-fixtures';

let chromium: LaunchedChromium;
let tmp: string;
const dirs: Record<string, string> = {};

/** The fixtures' netperf/fortio rounds get the percentiles real runs parse (p50/p90/p99). */
function withPercentiles(r: RunResults): RunResults {
  for (const m of [...r.measurements, ...r.scale.steps.flatMap((s) => s.measurements)]) {
    const f = m.figures;
    if (!f) continue;
    if (f.p99Us !== undefined) Object.assign(f, { p50Us: f.p50Us ?? f.p99Us * 0.78, p90Us: f.p99Us * 0.9 });
    if (f.p99Ms !== undefined) Object.assign(f, { p50Ms: f.p99Ms * 0.45, p90Ms: f.p99Ms * 0.7 });
  }
  return r;
}

function iptablesWithFailures(): RunResults {
  const a = withPercentiles(makeRun(A, { rounds: 3, spread: 1.5 }));
  a.measurements = a.measurements.filter((m) => !(m.scenario === 'svc_c256' && m.round === 3));
  a.measurements.push(failed('svc_c256', 'exec stream closed (websocket 1006) after 3 attempts', { round: 3 }));
  a.scale.steps[2].measurements = a.scale.steps[2].measurements.filter((m) => !(m.scenario === 'tcp_crr' && m.round === 3));
  a.scale.steps[2].measurements.push(failed('tcp_crr', 'netperf: no CSV line in output (timed out after 180 s)', { round: 3, step: 20000 }));
  // the workflow's timeline: where the time went
  const t = (name: string, seconds: number, toolSeconds: number, createSeconds = 0, convergeSeconds = 0, pauseSeconds = 0) => ({ name, startedAt: a.startedAt, seconds, toolSeconds, createSeconds, convergeSeconds, pauseSeconds });
  a.timeline = [
    t('inspect', 1.2, 0), t('deploy', 14, 0), t('throughput', 500, 450, 0, 0, 45), t('rps', 790, 720, 0, 0, 60), t('latency', 560, 540, 0, 0, 15),
    ...[5000, 10000, 20000, 30000].map((n, i) => t(`service-scale @${n}`, 700 + i * 200, 600, 60 + i * 100, 2 + n / 1000, 30)), t('metrics', 80, 0, 0, 0, 45), t('cleanup', 300, 0),
  ];
  return a;
}

/** A run cancelled in its third scale step: two steps measured, no component metrics. */
function cancelled(): RunResults {
  const c = withPercentiles(makeRun(C, { rounds: 2, spread: 2 }));
  c.status = 'cancelled';
  c.failure = 'cancelled by the user (netbench cancel) during the 20,000-Service step';
  c.scale.steps = c.scale.steps.slice(0, 2);
  c.phases = c.phases.filter((p) => p.phase !== 'metrics').map((p) => (p.phase === 'service-scale' ? { ...p, status: 'cancelled' as const, reason: 'workflow cancelled' } : p));
  c.resources = [];
  c.component = { failures: [] };
  c.cleanup = { done: true, skipped: false };
  return c;
}

async function write(name: string, r: RunResults): Promise<void> {
  dirs[name] = path.join(tmp, name);
  await writeRunFiles(dirs[name], { ...r, outputDir: dirs[name] });
}

before(async () => {
  for (const f of readdirSync(path.dirname(artifactPath('x')))) if (/^(report|compare)-.*\.png$/.test(f)) rmSync(artifactPath(f)); // no stale evidence
  tmp = mkdtempSync(path.join(os.tmpdir(), 'nb-report-html-'));
  await write('iptables', iptablesWithFailures());
  await write('cilium', withPercentiles(makeRun(B, { rounds: 3, spread: 1.5 })));
  await write('overlay', withPercentiles(makeRun(C)));
  await write('cancelled', cancelled());
  await writeComparisonFiles(path.join(tmp, 'compare-article'), [dirs.iptables, dirs.cilium, dirs.overlay]);
  const ref = path.join(repoRoot, 'test/fixtures/reference');
  await writeComparisonFiles(path.join(tmp, 'compare-mixed'), [dirs.iptables, path.join(ref, 'overlay-multi-step'), path.join(ref, 'iptables-single-step/benchmark-summary.json')]);
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** every request the page made other than its own file */
  requests: string[];
  /** console errors and uncaught page errors */
  errors: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await chromium.context.newPage();
  const url = pathToFileURL(file).href;
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, errors };
}

interface ChartFacts {
  title: string;
  series: { name: string; marks: number }[];
  xLabel: string;
  yLabel: string;
}

/** Every chart of the page: its title, series (with how many bars, lines or points each draws) and axis labels. */
const charts = (page: Page): Promise<ChartFacts[]> =>
  page.$$eval('figure svg', (svgs) =>
    svgs.map((svg) => ({
      title: svg.querySelector('title')?.textContent ?? '',
      series: [...svg.querySelectorAll('g.series')].map((g) => ({ name: g.getAttribute('data-name') ?? '', marks: g.querySelectorAll('rect, polyline, circle').length })),
      xLabel: svg.querySelector('.x-label')?.textContent ?? '',
      yLabel: svg.querySelector('.y-label')?.textContent ?? '',
    })),
  );

function assertCharts(list: ChartFacts[], min: number): void {
  assert.ok(list.length >= min, `at least ${min} charts, found ${list.length}`);
  for (const c of list) {
    assert.ok(c.title, 'a chart without a title');
    assert.ok(c.series.length >= 1, `${c.title}: no series`);
    for (const s of c.series) {
      assert.ok(s.name, `${c.title}: a series without a name`);
      assert.ok(s.marks >= 1, `${c.title}: series "${s.name}" draws nothing`);
    }
    assert.ok(c.xLabel.trim(), `${c.title}: no x-axis label`);
    assert.ok(c.yLabel.trim(), `${c.title}: no y-axis label`);
  }
}

function assertClean(o: Opened, what: string): void {
  assert.deepEqual(o.requests, [], `${what} requested something from the network`);
  assert.deepEqual(o.errors, [], `${what} logged errors`);
}

describe('report.html in Chromium', () => {
  it("shows an iptables run's sections as charts, with rounds, spread and failures", async () => {
    const o = await open(path.join(dirs.iptables, 'report.html'));
    try {
      const list = await charts(o.page);
      assertCharts(list, 9);
      const titles = list.map((c) => c.title);
      for (const t of ['Wall time per phase and scale step', 'Throughput (iperf3)', 'Requests per second (fortio, as fast as possible)', 'TCP round-trip latency (netperf, pod IP)', 'Short-conn RPS vs Service count', 'Keepalive RPS vs Service count', 'TCP_CRR p99 vs Service count', 'Datapath sync time per step', 'Datapath component CPU per pod']) {
        assert.ok(titles.includes(t), `chart "${t}" missing; have: ${titles.join(' | ')}`);
      }
      const rps = list.find((c) => c.title.startsWith('Requests per second'))!;
      assert.deepEqual(rps.series.map((s) => s.name), ['Keepalive (reused connections)', 'Short connection (new TCP per request)']);
      // 95% whiskers where there are rounds
      assert.ok((await o.page.locator('path.whisker').count()) > 20);
      const text = await o.page.locator('body').innerText();
      assert.match(text, /± [\d,.]+ \(n=3\)/);
      assert.match(text, /exec stream closed \(websocket 1006\) after 3 attempts/);
      assert.match(text, /netperf: no CSV line in output/);
      assert.match(text, /Not applicable here: Cilium only/);
      assertClean(o, 'report.html');
      await screenshot(o.page, 'report-iptables.png');
      assert.match(await o.page.locator('section#time').innerText(), /Orchestration .* took [\d.]+% of the [\d,]+ s wall time/);
      for (const id of ['throughput', 'rps', 'latency', 'scale', 'time', 'failures']) await o.page.locator(`section#${id}`).screenshot({ path: artifactPath(`report-section-${id}.png`) });
      await o.page.emulateMedia({ media: 'print' });
      await screenshot(o.page, 'report-print.png');
    } finally {
      await o.page.close();
    }
  });

  it('a Cilium run shows Hubble and NetworkPolicy bars (each configuration its rounds) and BPF maps; one round says "1 sample"', async () => {
    const o = await open(path.join(dirs.cilium, 'report.html'));
    try {
      const list = await charts(o.page);
      assertCharts(list, 10);
      const titles = list.map((c) => c.title);
      assert.ok(titles.some((t) => t.startsWith('Hubble on / off')));
      assert.ok(titles.some((t) => t.startsWith('NetworkPolicy')));
      assert.ok(titles.some((t) => t.startsWith('BPF map memory')));
      // Since 0.5 the overhead configurations run ROUNDS times (3 here): means with whiskers, not "1 sample".
      assert.match(await o.page.locator('section#overheads').innerText(), /Each configuration runs 3 times/);
      assertClean(o, 'report.html (Cilium)');
      await screenshot(o.page, 'report-cilium.png');
      await o.page.locator('section#overheads').screenshot({ path: artifactPath('report-section-overheads.png') });
      await o.page.locator('section#resources').screenshot({ path: artifactPath('report-section-resources.png') });
    } finally {
      await o.page.close();
    }
    const one = await open(path.join(dirs.overlay, 'report.html'));
    try {
      assert.match(await one.page.locator('section#throughput').innerText(), /1 sample/);
      assert.equal(await one.page.locator('section#throughput path.whisker').count(), 0, 'no whisker from one sample');
      assertClean(one, 'report.html (1 round)');
    } finally {
      await one.page.close();
    }
  });

  it('a cancelled run gets the report of what it measured', async () => {
    const o = await open(path.join(dirs.cancelled, 'report.html'));
    try {
      const text = await o.page.locator('body').innerText();
      assert.match(text, /Run cancelled: cancelled by the user/);
      assert.match(text, /Phase cancelled: workflow cancelled/);
      assert.match(await o.page.locator('section#resources').innerText(), /Not reached: the run was cancelled before this phase/);
      assertCharts(await charts(o.page), 6);
      assertClean(o, 'report.html (cancelled)');
      await screenshot(o.page, 'report-cancelled.png');
    } finally {
      await o.page.close();
    }
  });
});

describe('compare.html in Chromium', () => {
  it("overlays the article's three clusters' scale curves and names the crossings", async () => {
    const o = await open(path.join(tmp, 'compare-article', 'compare.html'));
    try {
      const list = await charts(o.page);
      assertCharts(list, 3);
      for (const c of list) assert.deepEqual(c.series.map((s) => s.name), ['iptables', 'Cilium Native', 'Cilium Overlay']);
      const text = await o.page.locator('section#crossings').innerText();
      assert.match(text, /iptables short-conn RPS falls below Cilium Overlay's between 10,000 and 20,000 Services, at about 19,600 by linear interpolation/);
      assert.match(await o.page.locator('section#glance').innerText(), /iptables \(\+2\.2x\)[\s\S]*% behind/);
      assertClean(o, 'compare.html');
      await screenshot(o.page, 'compare-article.png');
    } finally {
      await o.page.close();
    }
  });

  it('reads a netbench run next to the reference script in both formats', async () => {
    const o = await open(path.join(tmp, 'compare-mixed', 'compare.html'));
    try {
      assertCharts(await charts(o.page), 2);
      const env = await o.page.locator('section#environment').innerText();
      assert.match(env, /reference script \(multi-step summary\)/);
      assert.match(env, /reference script \(single-step summary\)/);
      assert.match(await o.page.locator('section#crossings').innerText(), /falls below Cilium Overlay's/);
      assertClean(o, 'compare.html (mixed)');
      await screenshot(o.page, 'compare-mixed.png');
    } finally {
      await o.page.close();
    }
  });
});
