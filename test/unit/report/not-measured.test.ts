// A scenario recorded as not measured (the Cilium agent had nothing to act
// on: no endpoint for the benchmark pods, a policy it refused) shows its
// reason where its figure would be, in benchmark-summary.json, report.md,
// report.html and the terminal, is never counted as a failure and never
// shows a number.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baselineNotMeasured, hubbleNotMeasured, policyNotMeasured } from '../../../src/domain/cilium-checks';
import type { Measurement, RunResults } from '../../../src/domain/results';
import { buildSummary } from '../../../src/domain/summary';
import { renderReportMarkdown } from '../../../src/report/markdown';
import { renderReportHtml } from '../../../src/report/report-html';
import { stripAnsi } from '../../../src/report/table';
import { renderSummaryTable } from '../../../src/report/terminal';
import { B, makeRun, meas } from '../../support/report-fixtures';

const NO_EP = 'no Cilium endpoint for fortio-server on node w1 nor fortio-client on node w2 in namespace network-benchmark (agent cilium-a on w1 lists 1 endpoint: reserved:host): netbench\'s lab runs every pod in one network namespace, so no agent manages them (issue 8)';
const L7 = 'the Cilium agent refused the L7 CiliumNetworkPolicy: "Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled" (its log, pod cilium-a on node w1)';
const notMeasured = (scenario: string, reason: string): Measurement => ({ scenario, round: 1, ok: false, notMeasured: true, reason, file: '' });

/** A Cilium run whose Hubble and policy scenarios are as `ms` says (the rest as fixture B). */
function run(ms: Measurement[]): RunResults {
  const r = makeRun(B);
  r.measurements = [...r.measurements.filter((m) => !['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy'].includes(m.scenario)), ...ms];
  return r;
}

// the reasons as the workflow words them (domain/cilium-checks.ts)
const LAB = run([
  notMeasured('hubble_on', hubbleNotMeasured(NO_EP)),
  notMeasured('hubble_off', hubbleNotMeasured(NO_EP)),
  notMeasured('no_policy', baselineNotMeasured(NO_EP)),
  notMeasured('l3l4_policy', policyNotMeasured('l3l4', { verdict: 'imported', node: 'w1', agentPod: 'cilium-a', revision: 3, seconds: 0.1 }, NO_EP)!),
  notMeasured('l7_policy', L7),
]);

const section = (md: string) => md.slice(md.indexOf('## 5. Hubble & NetworkPolicy'), md.indexOf('## 6. Resources'));
const row = (text: string, first: string) => text.split('\n').find((l) => l.startsWith(`| ${first} `)) ?? assert.fail(`no row "${first}" in\n${text}`);

describe('scenarios not measured (nothing to act on)', () => {
  it('benchmark-summary.json: no hubble/networkpolicy figures, each reason under netbench.not_measured, none under failures', () => {
    const s = buildSummary(LAB) as Record<string, any>;
    assert.equal(s.hubble, undefined);
    assert.equal(s.networkpolicy, undefined);
    assert.deepEqual(s.netbench.failures, []);
    assert.deepEqual(s.netbench.not_measured.map((x: { scenario: string }) => x.scenario), ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy']);
    assert.equal(s.netbench.not_measured.at(-1).reason, L7);
    assert.ok(!('not_measured' in (buildSummary(makeRun(B)) as any).netbench), 'absent when everything was measured');
  });

  it('report.md: each configuration\'s row gives its reason where the figure would be; counted apart from failures', () => {
    const md = renderReportMarkdown(LAB, buildSummary(LAB)).markdown;
    const sec = section(md);
    for (const label of ['Hubble ON', 'Hubble OFF', 'No policy', 'L3/L4 CNP applied']) assert.match(row(sec, label), /\| not measured: .*: no Cilium endpoint for fortio-server on node w1 .*\(issue 8\) \|$/);
    assert.match(row(sec, 'L7 CNP applied'), /\| not measured: the Cilium agent refused the L7 CiliumNetworkPolicy: "Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled" \(its log, pod cilium-a on node w1\) \|$/);
    assert.doesNotMatch(sec, /req\/s|%|No Hubble result|No NetworkPolicy result/);
    assert.match(row(md, 'Failed measurements'), /\| 0 \|$/);
    assert.match(row(md, 'Not measured'), /\| 5 \(nothing to act on/);
    assert.match(md, /5 scenario rounds not measured: the datapath had nothing to act on/);
    assert.match(md, /No measurement failed\./);
  });

  it('report.md with the baseline measured and only L7 refused: the L7 table gives the refusal, L3/L4 keeps its figures', () => {
    const r = run([meas('hubble_on', 30000), meas('hubble_off', 31000), meas('no_policy', 30000), meas('l3l4_policy', 29000), notMeasured('l7_policy', L7)]);
    const sec = section(renderReportMarkdown(r, buildSummary(r)).markdown);
    assert.match(row(sec, 'L3/L4 CNP applied'), /29,000/);
    assert.match(row(sec, 'L7 CNP applied'), /\| not measured: the Cilium agent refused the L7 CiliumNetworkPolicy/);
  });

  it('report.html: the reasons in the Hubble and NetworkPolicy section and under Failures & skipped, no bar', () => {
    const html = renderReportHtml(LAB, buildSummary(LAB));
    const overheads = html.slice(html.indexOf('id="overheads"'), html.indexOf('id="resources"'));
    assert.match(overheads, /not measured: the Cilium agent refused the L7 CiliumNetworkPolicy: &quot;Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled&quot;/);
    assert.match(overheads, /not measured: Hubble observes endpoint traffic only .*: no Cilium endpoint for fortio-server on node w1/);
    assert.match(overheads, /not measured: the agent imported the L3\/L4 CiliumNetworkPolicy \(policy revision 3\), but it selects no endpoint/);
    assert.doesNotMatch(overheads, /<svg/, 'no chart without a figure');
    assert.match(html, /5 scenario round\(s\) not measured/);
    assert.match(html, /No measurement failed\./);
  });

  it('terminal: the sections list each configuration with its reason; the glance counts them apart', () => {
    const text = stripAnsi(renderSummaryTable(buildSummary(LAB), { color: false }));
    const hub = text.slice(text.indexOf('── Hubble Overhead ──'), text.indexOf('── NetworkPolicy Overhead ──'));
    assert.match(hub, /with Hubble +│ not measured: Hubble observes endpoint traffic only .*: no Cilium endpoint for fortio-server on node w1/);
    const np = text.slice(text.indexOf('── NetworkPolicy Overhead ──'));
    assert.match(np, /L7 CNP \(HTTP\) +│ not measured: the Cilium agent refused the L7 CiliumNetworkPolicy/);
    assert.match(text, /Not measured +│ 5 \(nothing to act on/);
    assert.match(text, /Failed measurements +│ 0/);
  });
});
