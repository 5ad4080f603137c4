// report.html as text: one self-contained page (no script, nothing loaded,
// well-formed inline SVG), every scenario of the catalogue present as a bar
// or with the reason it has none, rounds and spread on every figure, and a
// report for a run that failed before it measured anything.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunResults } from '../../../src/domain/results';
import { scenarioById, scenariosOf } from '../../../src/domain/scenarios';
import { buildSummary } from '../../../src/domain/summary';
import { renderReportHtml } from '../../../src/report/report-html';
import { A, B, failed, makeRun, sampleTimeline } from '../../support/report-fixtures';
import { assertWellFormedSvg } from '../../support/svg-check';

const html = (r: RunResults) => renderReportHtml(r, buildSummary(r));
const svgs = (page: string) => page.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
const unescape = (s: string) => s.replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('renderReportHtml', () => {
  it('is one self-contained page: inline CSS and SVG, no script, nothing from anywhere', () => {
    const page = html(makeRun(B, { rounds: 3 }));
    assert.match(page, /^<!doctype html>\n<html lang="en">/);
    assert.ok(!/<script|<link|<img|<iframe|@import|@font-face|url\(\s*['"]?(https?:)?\/\//i.test(page));
    assert.match(page, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(page, /@media print/);
    const charts = svgs(page);
    assert.ok(charts.length >= 10);
    for (const svg of charts) assertWellFormedSvg(svg);
  });

  it('has a bar for every throughput, RPS, Hubble and policy scenario, with its spread', () => {
    const page = unescape(html(makeRun(B, { rounds: 3 })));
    for (const p of ['throughput', 'rps', 'hubble', 'networkpolicy'] as const) {
      for (const s of scenariosOf(p)) assert.ok(page.includes(`<title>${s.title} · `), `${p}: no bar for "${s.title}"`);
    }
    assert.match(page, /± [\d,.]+ \(n=3\)/, 'intervals with 3 rounds');
  });

  it('Hubble and NetworkPolicy with 3 rounds (0.5 on): each bar with its interval, the overhead from the means and against the noise; measured once (earlier runs): "1 sample"', () => {
    const section = (page: string) => page.slice(page.indexOf('id="overheads"'), page.indexOf('id="resources"'));
    const three = section(unescape(html(makeRun(B, { rounds: 3 }))));
    assert.match(three, /100,007 req\/s \(overhead -0\.3%, within noise: 95% CIs overlap\)/);
    assert.match(three, /13,883 req\/s \(overhead -86\.1%, beyond noise: 95% CIs apart\)/);
    for (const id of ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy']) {
      assert.match(three, new RegExp(`<title>${scenarioById(id).title.replace(/[()/]/g, '\\$&')} · [\\d,]+ req/s[^<]* · ± [\\d,]+ \\(n=3\\)</title>`), `${id}: its interval`);
    }
    assert.ok(three.includes('Each configuration runs 3 times (its mean, whisker: 95% interval); the overhead is computed from the means.'));
    // At a glance: the overhead rests on 3 rounds each (not "1 sample"), with its verdict
    const glanceOf = (page: string) => page.slice(page.indexOf('id="glance"'), page.indexOf('id="throughput"'));
    const glance = glanceOf(unescape(html(makeRun(B, { rounds: 3 }))));
    assert.match(glance, /-0\.3% \(within noise: 95% CIs overlap\)</);
    assert.match(glance, /-86\.1% \(beyond noise: 95% CIs apart\)</);
    assert.match(glanceOf(unescape(html(makeRun(B, { rounds: 3, overheadOnce: true })))), /-0\.3% \(1 sample\)</);
    const once = section(unescape(html(makeRun(B, { rounds: 3, overheadOnce: true }))));
    assert.ok(!/\(n=3\)|noise/.test(once), 'no interval and no noise verdict with one sample each');
    assert.match(once, /100,007 req\/s \(overhead -0\.3%\)/);
    assert.ok(once.includes('Each configuration runs once, as in the reference.'));
  });

  it('says why a figure is missing: failed rounds with their reason, skipped phases with theirs', () => {
    const r = makeRun(A);
    r.measurements = r.measurements.filter((m) => m.scenario !== 'svc_c256');
    r.measurements.push(failed('svc_c256', 'exec stream closed (websocket 1006)'));
    const page = unescape(html(r));
    assert.match(page, /failed 1×: exec stream closed \(websocket 1006\)/);
    assert.match(page, /Not applicable here: Cilium only; this cluster is kubeproxy-iptables/);
    assert.match(page, /rps\/svc_c256_r1\.json/, 'the raw file of the failed round');
  });

  it('a run that failed before measuring anything still gets its report', () => {
    const r = makeRun(A);
    Object.assign(r, { status: 'failed', failure: 'cluster unreachable: connect ECONNREFUSED', measurements: [], phases: [], resources: [], component: undefined, cluster: undefined });
    r.scale.steps = [];
    const page = unescape(html(r));
    assert.match(page, /Run failed: cluster unreachable: connect ECONNREFUSED/);
    assert.match(page, /Not reached: the run was failed before this phase/);
    assert.match(page, /Throughput \(iperf3\): not measured \(run failed before this phase\)\./, 'no empty chart: the reason in words');
    assert.equal(svgs(page).length, 0);
  });

  it('shows the regression check when the run made one', () => {
    const r = makeRun(A);
    r.regression = {
      baselineWorkflowId: 'netbench-a-1', baselineStartedAt: '2026-04-30T10:00:00Z', tolerancePct: 10, compared: 12, improvements: [],
      regressions: [{ key: 'svc_short_c64', label: 'RPS via Svc c64 short conn', unit: 'req/s', baseline: 31365, current: 20100, changePct: -35.9, basis: 'tolerance' }],
    };
    const page = unescape(html(r));
    assert.match(page, /<h2>Regression check<\/h2>/);
    assert.match(page, /<td class="missing">regression<\/td><td>RPS via Svc c64 short conn<\/td><td class="num">31,365 req\/s<\/td><td class="num">20,100 req\/s<\/td><td class="num">-35.9%<\/td>/);
  });

  it('shows where the time went, from the workflow\'s timeline', () => {
    const r = makeRun(A);
    r.timeline = sampleTimeline(r);
    const page = unescape(html(r));
    assert.match(page, /Orchestration \(everything but the tools, creating \/ deleting objects, convergence waits and durable pauses\) took 5\.0% of the 300 s wall time\./);
    assert.match(page, /orchestration \(5\.0% in all\) is what is left after the tools, creating \/ deleting objects, convergence waits and durable pauses\./);
    const chart = svgs(page).find((x) => x.includes('Wall time per phase and scale step'))!;
    assertWellFormedSvg(chart);
    assert.deepEqual([...chart.matchAll(/<g class="series" data-name="([^"]+)"/g)].map((m) => m[1]), ['tools', 'creating / deleting objects', 'convergence waits', 'durable pauses', 'orchestration']);
    assert.match(chart, />200 s · orchestration 5\.0%</);
  });
});
