// The printed summary: the reference's sections, wording and order as aligned
// tables, an At-a-glance block first, and nothing lost silently (failures,
// skipped phases, untrusted scale results).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSummary } from '../../../src/domain/summary';
import { renderSummaryTable } from '../../../src/report/terminal';
import { stripAnsi } from '../../../src/report/table';
import { A, B, C, failed, makeRun, refPct } from '../../support/report-fixtures';

const indexOfAll = (text: string, parts: string[]) =>
  parts.map((p) => {
    const i = text.indexOf(p);
    assert.ok(i >= 0, `missing "${p}"`);
    return i;
  });
const rowOf = (text: string, first: string) => text.split('\n').find((l) => new RegExp(`│ +${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `).test(l)) ?? assert.fail(`no row "${first}"`);

describe('renderSummaryTable', () => {
  it('prints the reference sections in the reference order, after At a glance (Cilium run)', () => {
    const text = renderSummaryTable(buildSummary(makeRun(B)));
    const idx = indexOfAll(text, [
      '━━━ Benchmark Results Summary ━━━',
      '  Cluster:       cluster-b-native',
      '  Type:          cilium-native',
      '  K8s Version:   v1.34.1-tke.5',
      '  ── At a glance ──',
      '  ── Throughput ──',
      '  ── RPS ──',
      '  ── Latency ──',
      '  ── Service Scale (4 endpoints/svc) ──',
      '  ── Hubble Overhead ──',
      '  ── NetworkPolicy Overhead ──',
      '  ── Resource: Cilium Agent (per-pod, steady state) ──',
      '  ── BPF Map Memory ──',
      '  Cilium Agent RSS: 870.0 MB',
    ]);
    assert.deepEqual(idx, [...idx].sort((a, b) => a - b), 'sections out of order');
    assert.ok(!text.includes('── Failed measurements ──'), 'no failures block when nothing failed');
    assert.ok(!text.includes('UNTRUSTED'));
  });

  it('shows figures with the reference keys, Python round lists and "1 sample" for single rounds', () => {
    const text = renderSummaryTable(buildSummary(makeRun(B)));
    assert.match(rowOf(text, 'pod2pod_8stream'), /Pod-to-Pod \(8 streams\) +│ 10\.43 Gbps │ \[10\.43\] +│ +1 sample │/);
    assert.match(rowOf(text, 'svc_short_c64'), /13,826 req\/s │ \[13826\]/);
    assert.match(rowOf(text, 'tcp_rr_p99_us'), /103 µs/);
    assert.match(rowOf(text, 'http_p99_1k_qps_ms'), /0\.99 ms/);
    assert.match(rowOf(text, 'with Hubble'), /100,007/);
    assert.match(rowOf(text, 'overhead'), /-0\.3%/);
    assert.match(rowOf(text, 'L3/L4 CNP'), /99,965 │ +-0\.0%/);
    assert.match(rowOf(text, 'L7 CNP (HTTP)'), /13,883 │ +-86\.1%/);
    assert.match(rowOf(text, 'CPU'), /25\.8m │ +43\.0m/);
    assert.match(rowOf(text, 'Memory'), /1,111\.0 MiB │ 1,216\.0 MiB/);
    assert.ok(text.includes('    total: 289.7 MB (64 maps)'));
    assert.match(rowOf(text, 'cilium_lb4_affinity'), /93\.8 │ +1,020,000/);
    assert.ok(text.includes('(sampled across 3 pod(s))'));
  });

  it('prints each scale step with the reference degradation formula', () => {
    const summary = buildSummary(makeRun(A));
    const text = renderSummaryTable(summary);
    assert.ok(text.includes('    keepalive baseline:    115,434 req/s'));
    assert.ok(text.includes('    short-conn baseline:   31,365 req/s'));
    A.shortQps.forEach((q, i) => {
      const n = [5000, 10000, 20000, 30000][i];
      const row = rowOf(text, n.toLocaleString('en-US'));
      assert.ok(row.includes(`${q.toLocaleString('en-US')} (${refPct(q, 31365)})`), `${n}: ${row}`);
    });
    assert.ok(rowOf(text, '30,000').includes('9,057 (-71.1%)'));
    assert.match(rowOf(text, '30,000'), /540,733 │ +30,003 │/); // rules/entries, KUBE-SERVICES chain
  });

  it('opens with an At-a-glance block of the headline figures', () => {
    const text = renderSummaryTable(buildSummary(makeRun(A, { rounds: 3 })));
    const glance = text.slice(text.indexOf('── At a glance ──'), text.indexOf('── Throughput ──'));
    assert.match(rowOf(glance, 'Pod2Pod throughput (8 streams)'), /10\.43 Gbps ± [\d.]+ \(n=3\)/);
    assert.match(rowOf(glance, 'RPS short conn (c64, small)'), /31,36\d ± [\d,]+ \(n=3\)/);
    assert.match(rowOf(glance, 'Short-conn RPS @30000 svc'), /9,05\d \(-71\.1%\)/);
    assert.match(rowOf(glance, 'L7 NetworkPolicy overhead'), /N\/A/);
    assert.match(rowOf(glance, 'Datapath component mem / node'), /926 MiB/);
    assert.match(rowOf(glance, 'Failed measurements'), /│ 0 /);
  });

  it('lists every failed measurement with its reason and raw file, and skipped phases with their reason', () => {
    const run = makeRun(A);
    run.measurements = run.measurements.filter((m) => m.scenario !== 'svc_c256');
    run.measurements.push(failed('svc_c256', 'exec stream closed (websocket 1006) after 3 attempts'));
    run.scale.steps[2].measurements.push(failed('tcp_crr', 'netperf printed no CSV line\nstderr: timed out', { round: 2, step: 20000 }));
    run.component!.failures.push({ what: 'resource sampling (metrics.k8s.io)', reason: 'metrics API not available: 503' });
    const text = renderSummaryTable(buildSummary(run));
    const block = text.slice(text.indexOf('── Failed measurements ──'));
    assert.ok(text.indexOf('── Failed measurements ──') > 0);
    assert.match(rowOf(block, 'svc_c256'), /exec stream closed \(websocket 1006\) after 3 attempts +│ rps\/svc_c256_r1\.json/);
    assert.match(rowOf(block, 'tcp_crr'), /20,000 │ +2 │ netperf printed no CSV line stderr: timed out +│ service-scale\/crr_at_20000svc_r2\.txt/);
    assert.match(rowOf(block, 'resource sampling (metrics.k8s.io)'), /metrics API not available: 503/);
    const rpsSection = text.slice(text.indexOf('── RPS ──'), text.indexOf('── Latency ──'));
    assert.ok(!rpsSection.includes('svc_c256'), 'a scenario with no successful round has no figure (its failure is listed instead)');
    const skipped = text.slice(text.indexOf('── Skipped phases ──'), text.indexOf('── Failed measurements ──'));
    assert.match(rowOf(skipped, 'hubble'), /skipped │ Cilium only; this cluster is kubeproxy-iptables/);
    assert.match(rowOf(skipped, 'networkpolicy'), /Cilium only; this cluster is kubeproxy-iptables/);
    assert.match(rowOf(text, 'Failed measurements'), /│ 3 /);
    // Hubble / NetworkPolicy sections are absent, as in the reference, but the reason is printed.
    assert.ok(!text.includes('── Hubble Overhead ──'));
  });

  it('warns loudly, before anything else, when large-scale results are untrusted', () => {
    const run = makeRun(C);
    run.scale.trusted = false;
    run.scale.untrustedReason = 'LB-map fix declined by alice: bpf-lb-map-max 65,536 < 150,000 needed';
    run.scale.lbMap = { current: 65536, needed: 150000, proposed: 300000, decision: 'declined', decidedBy: 'alice', applied: false };
    const text = renderSummaryTable(buildSummary(run));
    const warn = text.indexOf('!! UNTRUSTED');
    assert.ok(warn > 0 && warn < text.indexOf('── At a glance ──'));
    assert.ok(text.includes('!! LB-map fix declined by alice: bpf-lb-map-max 65,536 < 150,000 needed'));
    assert.match(rowOf(text, 'Large-scale results trusted'), /NO/);
    assert.ok(text.includes('!! untrusted: see the warning at the top'));
  });

  it('flags a step whose datapath did not converge and a run that did not complete', () => {
    const run = makeRun(A);
    run.scale.steps[3].convergence = { metric: 'kube-services-rules', expected: 30003, observed: 29001, converged: false, seconds: 900, reason: 'timed out' };
    run.status = 'failed';
    run.failure = 'cluster unreachable for 2 h';
    const text = renderSummaryTable(buildSummary(run));
    assert.match(rowOf(text, '30,000'), /NOT converged \(29,001\/30,003\)/);
    assert.ok(text.includes('Run failed: cluster unreachable for 2 h — figures below are partial.'));
  });

  it('renders a reference-written summary (no netbench block, empty sections) with "?" for missing facts', () => {
    const text = renderSummaryTable({ cluster: {}, throughput: {}, rps: { svc_c64: { qps: [1000], avg_qps: 1000 } }, latency: {}, service_scale: {}, resources: {} });
    assert.ok(text.includes('  Cluster:       ?'));
    assert.ok(text.includes('  K8s Version:   ?'));
    assert.ok(text.includes('── RPS ──'));
    assert.ok(!text.includes('── Throughput ──'));
    assert.ok(!text.includes('Failed measurements'), 'no netbench block: no failure figures to claim');
    assert.match(rowOf(text, 'RPS keepalive (c64)'), /1,000/);
  });

  it('colours only when asked', () => {
    const summary = buildSummary(makeRun(A));
    const plain = renderSummaryTable(summary);
    assert.equal(plain, stripAnsi(plain));
    const colored = renderSummaryTable(summary, { color: true });
    assert.ok(colored.includes('\u001b['));
    assert.equal(stripAnsi(colored), plain);
  });
  it('Hubble / NetworkPolicy overhead with 3 rounds: a 95% CI column from the summary, and whether each overhead is within the noise; one round: the tables as before', () => {
    const section = (text: string, title: string) => text.slice(text.indexOf(`── ${title} ──`)).split('\n\n')[0];
    const three = renderSummaryTable(buildSummary(makeRun(B, { rounds: 3 })));
    const hubble = section(three, 'Hubble Overhead');
    assert.match(hubble, /│ +req\/s │ +95% CI │/);
    assert.match(rowOf(hubble, 'with Hubble'), /│ 100,007 │ +± 2,485 \(n=3\) │/);
    assert.match(rowOf(hubble, 'without Hubble'), /│ 100,271 │ +± 2,491 \(n=3\) │/);
    assert.match(rowOf(hubble, 'overhead'), /│ +-0\.3% │ within noise: 95% CIs overlap │/);
    const np = section(three, 'NetworkPolicy Overhead');
    assert.match(np, /│ +req\/s │ +95% CI │ overhead │ vs no policy +│/);
    assert.match(rowOf(np, 'L3/L4 CNP'), /│ 99,965 │ ± 2,483 \(n=3\) │ +-0\.0% │ within noise: 95% CIs overlap │/);
    assert.match(rowOf(np, 'L7 CNP (HTTP)'), /│ 13,883 │ +± 345 \(n=3\) │ +-86\.1% │ beyond noise: 95% CIs apart +│/);
    const one = renderSummaryTable(buildSummary(makeRun(B)));
    assert.equal(section(one, 'Hubble Overhead'), [
      '── Hubble Overhead ──',
      '    ┌────────────────┬─────────┐',
      '    │                │   req/s │',
      '    ├────────────────┼─────────┤',
      '    │ with Hubble    │ 100,007 │',
      '    │ without Hubble │ 100,271 │',
      '    │ overhead       │   -0.3% │',
      '    └────────────────┴─────────┘',
    ].join('\n'));
    assert.ok(!section(one, 'NetworkPolicy Overhead').includes('95% CI') && !one.includes('noise'));
  });
});
