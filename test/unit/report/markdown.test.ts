// report.md for one cluster: the article's tables, the scale chart beside it,
// and the sections that make figures trustworthy (context, failures, trust).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSummary } from '../../../src/domain/summary';
import { renderReportMarkdown, SCALE_CHART_FILE } from '../../../src/report/markdown';
import { A, B, C, failed, makeRun, refPct, sampleTimeline, STEPS } from '../../support/report-fixtures';
import { assertWellFormedSvg } from '../../support/svg-check';

const render = (run = makeRun(A)) => renderReportMarkdown(run, buildSummary(run));

/** report.md's section 5 (Hubble & NetworkPolicy), byte for byte. */
const overheadSectionOf = (md: string) => md.slice(md.indexOf('## 5. Hubble & NetworkPolicy'), md.indexOf('## 6.'));

/** The body rows of the first table after `heading` (cells trimmed, escaped pipes kept). */
function tableAfter(md: string, heading: string): string[][] {
  const start = md.indexOf(heading);
  assert.ok(start >= 0, `missing "${heading}"`);
  const lines = md.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(first + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows;
}
const cellOf = (rows: string[][], first: string, col = 1) => (rows.find((r) => r[0] === first) ?? assert.fail(`no row "${first}" in ${JSON.stringify(rows)}`))[col];

/** Every GFM table: header, delimiter, rows with the same cell count, and a blank line after it. */
function assertTablesWellFormed(md: string): void {
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|') || (i > 0 && lines[i - 1].startsWith('|'))) continue;
    const count = (l: string) => l.slice(1, -1).split(/(?<!\\)\|/).length;
    const n = count(lines[i]);
    assert.match(lines[i + 1], /^\|( -{3}:? \|)+$/, `delimiter row after line ${i + 1}`);
    assert.equal(count(lines[i + 1]), n);
    let j = i + 2;
    for (; j < lines.length && lines[j].startsWith('|'); j++) assert.equal(count(lines[j]), n, `cells in "${lines[j]}"`);
    assert.ok(j === lines.length || lines[j] === '', `a table must be followed by a blank line, got "${lines[j]}"`);
  }
}

describe('renderReportMarkdown', () => {
  it('has the article sections in order, and well-formed tables', () => {
    const { markdown } = render();
    const heads = ['# Network benchmark: cluster-a-iptables (iptables)', '## At a glance', '## 1. Throughput', '## 2. RPS', '## 3. Latency',
      '## 4. Service scale degradation', '## 5. Hubble & NetworkPolicy', '## 6. Resources', '## Context', '## Failures & skipped', '## Trust'];
    const idx = heads.map((h) => markdown.indexOf(`${h}\n`));
    assert.ok(idx.every((i) => i >= 0), `missing heading: ${heads.filter((_, k) => idx[k] < 0)}`);
    assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
    assertTablesWellFormed(markdown);
    assertTablesWellFormed(render(makeRun(B, { rounds: 3 })).markdown);
  });

  it('At a glance: the headline figures of the run', () => {
    const rows = tableAfter(render().markdown, '## At a glance');
    assert.equal(cellOf(rows, 'Pod2Pod throughput (8 streams)'), '10.43 Gbps');
    assert.equal(cellOf(rows, 'RPS keepalive (c64)'), '115,434');
    assert.equal(cellOf(rows, 'RPS short conn (c64, small)'), '31,365');
    assert.equal(cellOf(rows, 'TCP_RR p99 (baseline)'), '107 µs');
    assert.equal(cellOf(rows, 'HTTP p99 @1000 QPS'), '0.99 ms');
    assert.equal(cellOf(rows, 'Short-conn RPS @30000 svc'), '9,057 (-71.1%)');
    assert.equal(cellOf(rows, 'L7 NetworkPolicy overhead'), 'N/A');
    assert.equal(cellOf(rows, 'Datapath component mem / node'), '926 MiB');
    assert.equal(cellOf(rows, 'Failed measurements'), '0');
  });

  it('1 Throughput / 2 RPS / 3 Latency: one sample says so; several rounds give a 95% interval', () => {
    const one = render().markdown;
    assert.equal(cellOf(tableAfter(one, '## 1. Throughput'), 'Node hostNet (8 streams)'), '10.44 Gbps (1 sample)');
    assert.equal(cellOf(tableAfter(one, '## 2. RPS'), 'Via Svc c256 keepalive'), '119,434 req/s (1 sample)');
    const lat = tableAfter(one, '## 3. Latency');
    assert.equal(cellOf(lat, 'TCP_RR p50'), '84 µs (1 sample)');
    assert.equal(cellOf(lat, 'TCP_CRR p99'), '487 µs (1 sample)');
    assert.equal(cellOf(lat, 'HTTP p99 @1000 QPS'), '0.99 ms (1 sample)');

    const run = makeRun(B, { rounds: 3, spread: 2 });
    const summary = buildSummary(run);
    const md = renderReportMarkdown(run, summary).markdown;
    // Independent interval: t(0.975, 2) = 4.303, half-width = t * sd / sqrt(3), on the summary's per-round list.
    const qps = (summary.rps as Record<string, { qps: number[]; avg_qps: number }>).svc_c64;
    const mean = qps.qps.reduce((a, b) => a + b, 0) / 3;
    const sd = Math.sqrt(qps.qps.reduce((a, x) => a + (x - mean) ** 2, 0) / 2);
    const half = Math.round((4.303 * sd) / Math.sqrt(3));
    assert.equal(cellOf(tableAfter(md, '## 2. RPS'), 'Via Svc c64 keepalive'), `${qps.avg_qps.toLocaleString('en-US')} req/s ± ${half.toLocaleString('en-US')} (n=3)`);
    assert.match(cellOf(tableAfter(md, '## 1. Throughput'), 'Pod-to-Pod (8 streams)'), /^10\.43 Gbps ± 0\.\d\d \(n=3\)$/);
    assert.match(cellOf(tableAfter(md, '## 3. Latency'), 'TCP_RR p99'), /^103 µs ± \d+ \(n=3\)$/);
  });

  it('4 Service scale: keepalive and short tables with the reference degradation formula, rules row, convergence, creation', () => {
    const run = makeRun(A);
    const summary = buildSummary(run);
    const md = renderReportMarkdown(run, summary).markdown;
    const short = tableAfter(md, '### Short connection');
    assert.equal(cellOf(short, 'Baseline (small)'), '31,365 req/s');
    STEPS.forEach((n, i) => assert.equal(cellOf(short, n.toLocaleString('en-US')), `${A.shortQps[i].toLocaleString('en-US')} (${refPct(A.shortQps[i], 31365)})`));
    assert.deepEqual(short.slice(1, 5).map((r) => r[1]), ['22,237 (-29.1%)', '17,261 (-45.0%)', '12,916 (-58.8%)', '9,057 (-71.1%)']); // the article's figures
    assert.equal(cellOf(short, 'KUBE-SERVICES chain'), '5011→30003');
    assert.equal(cellOf(short, 'Rules (iptables-save lines)'), '90321→540733');

    const ka = tableAfter(md, '### Keepalive');
    const steps = (summary.service_scale as { steps: { svc_count: number; keepalive_qps: number }[] }).steps;
    for (const st of steps) assert.equal(cellOf(ka, st.svc_count.toLocaleString('en-US')), `${st.keepalive_qps.toLocaleString('en-US')} (${refPct(st.keepalive_qps, 115434)})`);

    const dp = tableAfter(md, '### Datapath per step');
    assert.equal(cellOf(dp, '5,000', 3), '7.0 s (5,011/5,011 kube-services-rules)');
    assert.equal(cellOf(dp, '5,000', 4), '80 s'); // the reference's 60 s + 1 s per 1000 endpoints
    assert.equal(cellOf(dp, '30,000', 4), '180 s'); // capped
    const cr = tableAfter(md, '### Service creation');
    assert.deepEqual(cr.find((r) => r[0] === '10,000'), ['10,000', '5,000', '5,000', '20 s', '250.0 Services/s']);
  });

  it('4 Service scale: returns the chart separately and links it', () => {
    const { markdown, scaleChartSvg } = render();
    assert.ok(scaleChartSvg);
    assertWellFormedSvg(scaleChartSvg);
    assert.equal((scaleChartSvg.match(/<polyline /g) ?? []).length, 2, 'short-connection and keepalive');
    assert.ok(markdown.includes(`](${SCALE_CHART_FILE})`));
    assert.equal(SCALE_CHART_FILE, 'scale-chart.svg');
  });

  it('4 Service scale: a Cilium run labels LB entries; an unconverged step says so', () => {
    const run = makeRun(C);
    run.scale.steps[1].convergence = { metric: 'lb-entries', expected: 60037, observed: 59000, converged: false, seconds: 900, reason: 'sync timeout reached' };
    const md = render(run).markdown;
    assert.equal(cellOf(tableAfter(md, '### Short connection'), 'LB entries'), '30042→179988');
    // No KUBE-SERVICES chain on Cilium: the column is left out, convergence moves left.
    assert.ok(!md.slice(md.indexOf('### Datapath per step')).split('\n')[2].includes('KUBE-SERVICES'));
    assert.equal(cellOf(tableAfter(md, '### Datapath per step'), '10,000', 2), '**not converged** after 900 s (59,000/60,037 lb-entries): sync timeout reached');
  });

  it('5 Hubble & NetworkPolicy: skipped on kube-proxy with the reason; tables on Cilium', () => {
    const a = render().markdown;
    const sec = a.slice(a.indexOf('## 5.'), a.indexOf('## 6.'));
    assert.equal(sec.split('_Skipped: Cilium only; this cluster is kubeproxy-iptables._').length - 1, 2);

    const b = render(makeRun(B)).markdown;
    const hub = tableAfter(b, '### Hubble observability');
    assert.deepEqual(hub, [['Hubble ON', '100,007 req/s'], ['Hubble OFF', '100,271 req/s'], ['Overhead', '-0.3%']]);
    const np = b.slice(b.indexOf('### NetworkPolicy'));
    const l34 = tableAfter(np, '**L3/L4**');
    assert.equal(cellOf(l34, 'L3/L4 CNP applied'), '99,965 req/s');
    assert.equal(cellOf(l34, 'Overhead'), '-0.0%');
    const l7 = tableAfter(np, '**L7**');
    assert.equal(cellOf(l7, 'L7 CNP applied'), '13,883 req/s');
    assert.equal(cellOf(l7, 'Overhead'), '-86.1%');
  });

  it('6 Resources: CPU/memory, BPF maps, top maps, agent RSS', () => {
    const md = render(makeRun(B)).markdown;
    const cpu = tableAfter(md, '### CPU / Memory');
    assert.deepEqual(cpu[0], ['Cilium Agent', '25.8m / 43.0m', '1,111 / 1,216 MiB', '3', '18']);
    const bpf = tableAfter(md, '### BPF map memory');
    assert.equal(cellOf(bpf, 'BPF map total'), '289.7 MB');
    assert.equal(cellOf(bpf, 'BPF map count'), '64');
    assert.equal(cellOf(bpf, 'Cilium Agent RSS'), '870.0 MB');
    const top = tableAfter(md, 'Top BPF map memory consumers');
    assert.deepEqual(top[0], ['cilium_lb4_affinity', '1,020,000', '93.8 MB']);
    assert.deepEqual(top[4], ['cilium_ct4_global', '131,072', '17.0 MB']);
  });

  it('Where the time went: the parts named as in report.html (format.ts TIME_PARTS), the rest is orchestration', () => {
    const r = makeRun(A);
    r.timeline = sampleTimeline(r);
    const md = render(r).markdown;
    assert.match(md, /Orchestration \(everything but the tools, creating \/ deleting objects, convergence waits and durable pauses\) took 5\.0% of the 300 s wall time\./);
    const start = md.indexOf('## Where the time went');
    assert.match(md.slice(start), /\n\| Phase \/ step +\| Wall +\| Tools +\| Creating \/ deleting objects +\| Convergence waits +\| Durable pauses +\| Orchestration +\|\n/);
    const rows = tableAfter(md, '## Where the time went');
    assert.deepEqual(rows.find((x) => x[0] === 'service-scale @5000'), ['service-scale @5000', '200 s', '120 s', '50 s', '20 s', '0.0 s', '10 s']);
    assert.deepEqual(rows.at(-1), ['**total**', '300 s', '210 s', '50 s', '20 s', '5.0 s', '15 s']);
  });

  it('Context: cluster facts and every option used', () => {
    const md = render(makeRun(B, { rounds: 3 })).markdown;
    const ctx = tableAfter(md, '## Context');
    assert.equal(cellOf(ctx, 'Cluster type'), 'cilium-native');
    assert.equal(cellOf(ctx, 'Kernel version'), '6.6.117-45.11.2');
    assert.equal(cellOf(ctx, 'Server node'), 'node-1 (10.0.0.11)');
    const opts = tableAfter(md, '### Options used');
    assert.equal(cellOf(opts, 'rounds'), '3');
    assert.equal(cellOf(opts, 'svcScaleSteps'), '5000,10000,20000,30000');
    assert.equal(cellOf(opts, 'skip'), 'none');
  });

  it('Failures & skipped: every failed measurement with reason and raw file; a scenario with no figure says why', () => {
    const run = makeRun(A);
    run.measurements = run.measurements.filter((m) => m.scenario !== 'pod2pod_16stream');
    run.measurements.push(failed('pod2pod_16stream', 'iperf3: unable to connect to server: Connection refused'));
    run.scale.steps[3].measurements = run.scale.steps[3].measurements.filter((m) => m.scenario !== 'svc_short_c64');
    run.scale.steps[3].measurements.push(failed('svc_short_c64', 'fortio | exec stream closed (1006)', { step: 30000 }));
    run.component!.failures.push({ what: 'iptables-save', reason: 'exec timed out after 180 s' });
    const { markdown } = render(run);
    assert.equal(cellOf(tableAfter(markdown, '## 1. Throughput'), 'Pod-to-Pod (16 streams)'), 'failed (1×, see Failures)');
    assert.equal(cellOf(tableAfter(markdown, '### Short connection'), '30,000'), 'failed (1×, see Failures)');
    assert.equal(cellOf(tableAfter(markdown, '## At a glance'), 'Failed measurements'), '3 (see [Failures](#failures--skipped))');

    const f = tableAfter(markdown, 'measurements failed');
    assert.deepEqual(f[0], ['pod2pod_16stream', '', '1', 'iperf3: unable to connect to server: Connection refused', '`throughput/pod2pod_16stream_r1.json`']);
    assert.deepEqual(f[1], ['svc_short_c64', '30,000', '1', 'fortio \\| exec stream closed (1006)', '`service-scale/short_at_30000svc_r1.json`']);
    assert.deepEqual(f[2], ['iptables-save', '', '', 'exec timed out after 180 s', '—']);
    const phases = tableAfter(markdown, 'Phases not run to completion');
    assert.deepEqual(phases, [
      ['hubble', 'skipped', 'Cilium only; this cluster is kubeproxy-iptables'],
      ['networkpolicy', 'skipped', 'Cilium only; this cluster is kubeproxy-iptables'],
    ]);
    assertTablesWellFormed(markdown);
  });

  it('a skipped or failed phase replaces its tables with the reason; no chart without scale steps', () => {
    const run = makeRun(B, { options: { skip: ['throughput', 'service-scale'] } });
    run.phases = run.phases.map((p) => (p.phase === 'throughput' || p.phase === 'service-scale' ? { phase: p.phase, status: 'skipped', reason: 'left out by --skip' } : p));
    run.measurements = run.measurements.filter((m) => !['node_level_8stream', 'pod2pod_single', 'pod2pod_8stream', 'pod2pod_16stream', 'via_service_8stream'].includes(m.scenario));
    run.scale.steps = [];
    const { markdown, scaleChartSvg } = render(run);
    const tp = markdown.slice(markdown.indexOf('## 1.'), markdown.indexOf('## 2.'));
    assert.ok(tp.includes('_Skipped: left out by --skip._'));
    assert.ok(!tp.includes('|'), 'no empty table');
    const ss = markdown.slice(markdown.indexOf('## 4.'), markdown.indexOf('## 5.'));
    assert.ok(ss.includes('_Skipped: left out by --skip._'));
    assert.equal(scaleChartSvg, undefined);
    assert.ok(!markdown.includes(SCALE_CHART_FILE));
  });

  it('Trust: the LB-map decision; an untrusted run is flagged at the top and in Trust', () => {
    const b = render(makeRun(B)).markdown;
    const lb = tableAfter(b, '## Trust');
    assert.equal(cellOf(lb, 'Decision'), 'auto');
    assert.equal(cellOf(lb, 'bpf-lb-map-max after'), '300,000');
    assert.ok(b.includes('**Large-scale results: trusted.**'));
    assert.ok(render().markdown.includes('LB-map check: not applicable (kube-proxy datapath has no BPF LB map).'));

    const run = makeRun(C);
    run.scale.trusted = false;
    run.scale.untrustedReason = 'LB-map fix declined by alice';
    run.scale.lbMap = { current: 65536, needed: 150000, proposed: 300000, decision: 'declined', decidedBy: 'alice', applied: false };
    const md = render(run).markdown;
    const warn = md.indexOf('> **⚠ Untrusted large-scale results.** LB-map fix declined by alice');
    assert.ok(warn > 0 && warn < md.indexOf('## At a glance'));
    assert.ok(md.includes('**Large-scale results: NOT trusted.** LB-map fix declined by alice'));
    assert.equal(cellOf(tableAfter(md, '## Trust'), 'Decided by'), 'alice');
    assert.equal(cellOf(tableAfter(md, '## Trust'), 'Fix applied'), 'no');
  });
  it('5 Hubble & NetworkPolicy with one round each (ROUNDS=1, or runs before 0.5): the tables as before, no interval, no noise verdict', () => {
    const expected = [
      '## 5. Hubble & NetworkPolicy', '', '### Hubble observability', '',
      '| Metric | Cilium Native |', '| --- | ---: |', '| Hubble ON | 100,007 req/s |', '| Hubble OFF | 100,271 req/s |', '| Overhead | -0.3% |', '',
      '### NetworkPolicy', '', '**L3/L4** CiliumNetworkPolicy (fortio-client → fortio-server 8080/TCP):', '',
      '| Metric | Cilium Native |', '| --- | ---: |', '| No policy | 99,985 req/s |', '| L3/L4 CNP applied | 99,965 req/s |', '| Overhead | -0.0% |', '',
      '**L7** CiliumNetworkPolicy (same, plus an HTTP `GET` rule: traffic goes through Envoy):', '',
      '| Metric | Cilium Native |', '| --- | ---: |', '| No policy | 99,985 req/s |', '| L7 CNP applied | 13,883 req/s |', '| Overhead | -86.1% |', '', '',
    ].join('\n');
    assert.equal(overheadSectionOf(render(makeRun(B)).markdown), expected);
    // a 3-round run whose overheads were measured once (before 0.5): the same section
    assert.equal(overheadSectionOf(render(makeRun(B, { rounds: 3, overheadOnce: true })).markdown), expected);
  });

  it('5 Hubble & NetworkPolicy with 3 rounds: each configuration\'s mean ± its 95% interval, the overhead from the means, and whether it is within the noise', () => {
    const md = render(makeRun(B, { rounds: 3, spread: 1 })).markdown;
    const sec = overheadSectionOf(md);
    const hubble = tableAfter(sec, '### Hubble observability');
    assert.deepEqual(hubble, [
      ['Hubble ON', '100,007 req/s ± 2,485 (n=3)'],
      ['Hubble OFF', '100,271 req/s ± 2,491 (n=3)'],
      ['Overhead', '-0.3% (within noise: 95% CIs overlap)'],
    ]);
    assert.deepEqual(tableAfter(sec, '**L3/L4**'), [
      ['No policy', '99,985 req/s ± 2,484 (n=3)'],
      ['L3/L4 CNP applied', '99,965 req/s ± 2,483 (n=3)'],
      ['Overhead', '-0.0% (within noise: 95% CIs overlap)'],
    ]);
    assert.deepEqual(tableAfter(sec, '**L7**'), [
      ['No policy', '99,985 req/s ± 2,484 (n=3)'],
      ['L7 CNP applied', '13,883 req/s ± 345 (n=3)'],
      ['Overhead', '-86.1% (beyond noise: 95% CIs apart)'],
    ]);
    const glance = tableAfter(md, '## At a glance');
    assert.equal(cellOf(glance, 'Hubble L3/L4 overhead'), '-0.3% (within noise: 95% CIs overlap)');
    assert.equal(cellOf(glance, 'L7 NetworkPolicy overhead'), '-86.1% (beyond noise: 95% CIs apart)');
    // tighter rounds: the Hubble difference (264 req/s) is then beyond the noise
    const tight = tableAfter(overheadSectionOf(render(makeRun(B, { rounds: 3, spread: 0.05 })).markdown), '### Hubble observability');
    assert.equal(cellOf(tight, 'Overhead'), '-0.3% (beyond noise: 95% CIs apart)');
    assertTablesWellFormed(md);
  });
});
