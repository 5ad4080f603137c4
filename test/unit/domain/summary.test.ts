/**
 * benchmark-summary.json keeps the reference's keys, order, rounding and
 * meaning (negative % = slower), with netbench's additions under new keys.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildSummary, summaryJson } from '../../../src/domain/summary';
import type { Measurement, RunResults } from '../../../src/domain/results';
import { rawFile, scenarioById } from '../../../src/domain/scenarios';
import { resolveConfig, toRunOptions } from '../../../src/config';

const m = (scenario: string, round: number, value: number, figures: Record<string, number> = {}, step?: number): Measurement => ({
  scenario, round, step, ok: true, value, figures, file: rawFile(scenarioById(scenario, step), round, step),
});

function fixture(): RunResults {
  const options = toRunOptions(resolveConfig({ env: { ROUNDS: '2', SVC_SCALE_STEPS: '5000,10000' } }));
  return {
    schema: 'netbench/run-results@1', workflowId: 'wf', runId: 'run', startedAt: '2026-11-23T00:00:00Z', status: 'completed', options, outputDir: '/tmp/x',
    cluster: { contextName: 'kind-a', clusterType: 'kubeproxy-iptables', proxyMode: 'iptables', testDate: '2026-11-23T00:00:00Z', k8sVersion: 'v1.34.4', nodeCount: 3, nodeOs: 'Ubuntu', kernelVersion: '6.6', nodeModel: 'unknown', nodes: [], detectedBy: 'test' },
    phases: [{ phase: 'hubble', status: 'skipped', reason: 'Cilium only; this cluster is kubeproxy-iptables' }],
    measurements: [
      m('pod2pod_8stream', 1, 10.43), m('pod2pod_8stream', 2, 10.0),
      m('svc_c64', 1, 115434.9), m('svc_c64', 2, 115000.2),
      m('svc_short_c64', 1, 31365.7), m('svc_short_c64', 2, 31365.1),
      m('tcp_rr', 1, 107, { p50Us: 84.4, p99Us: 107.9 }), m('tcp_rr', 2, 105, { p50Us: 85.9, p99Us: 105 }),
      m('http_1k_qps', 1, 999.9, { p99Ms: 0.99 }),
      { scenario: 'svc_c256', round: 1, ok: false, reason: 'fortio: server unreachable', file: 'rps/svc_c256_r1.json' },
    ],
    scale: {
      endpointsPerSvc: 4, trusted: true,
      steps: [
        { svcCount: 5000, created: 5000, existed: 0, createSeconds: 10, createRatePerSec: 500, convergence: { metric: 'kube-services-rules', expected: 5000, observed: 5000, converged: true, seconds: 3.2 }, rulesCount: 90000, kubeServicesChain: 5011, measurements: [m('ka', 1, 115000, {}, 5000), m('short', 1, 22237, {}, 5000), m('crr', 1, 600, { p99Us: 600 }, 5000)] },
      ],
    },
    resources: [{ component: 'kubeproxy', avgCpuM: 8.2, maxCpuM: 16, avgMemMb: 926, maxMemMb: 928, podsSampled: 3, samples: 18 }],
  };
}

describe('benchmark-summary.json', () => {
  it('has the reference\'s top-level keys in order, always present', () => {
    const s = buildSummary(fixture());
    assert.deepEqual(Object.keys(s).slice(0, 6), ['cluster', 'throughput', 'rps', 'latency', 'service_scale', 'resources']);
    assert.equal((s.cluster as any).node_count, '3', 'context values are strings, as parsed from context.yaml');
  });

  it('rounds and averages like the reference: Gbps 2 decimals, qps truncated, µs truncated means', () => {
    const s = buildSummary(fixture()) as any;
    assert.deepEqual(s.throughput.pod2pod_8stream, { gbps: [10.43, 10], avg: 10.21 });
    assert.deepEqual(s.rps.svc_c64, { qps: [115434, 115000], avg_qps: 115217 });
    assert.equal(s.latency.tcp_rr_p50_us, 85);
    assert.equal(s.latency.tcp_rr_p99_us, 106);
    assert.equal(s.latency.http_p99_1k_qps_ms, 0.99);
    assert.equal(s.rps.svc_c256, undefined, 'a failed scenario has no figure in the reference block...');
    assert.equal(s.netbench.failures[0].reason, 'fortio: server unreachable', '...but its reason is in the additions');
  });

  it('computes degradation against the small-scale baseline, negative = slower', () => {
    const s = buildSummary(fixture()) as any;
    assert.equal(s.service_scale.keepalive_baseline_qps, 115217);
    assert.equal(s.service_scale.short_conn_baseline_qps, 31365);
    const step = s.service_scale.steps[0];
    assert.equal(step.svc_count, 5000);
    assert.equal(step.short_conn_qps, 22237);
    assert.equal(step.short_conn_degradation_pct, -29.1);
    assert.equal(step.rules_count, 90000);
    assert.equal(step.kube_services_chain, 5011);
    assert.equal(step.datapath_convergence.seconds, 3.2);
    assert.deepEqual(Object.keys(step).slice(0, 7), ['svc_count', 'keepalive_qps', 'keepalive_degradation_pct', 'short_conn_qps', 'short_conn_degradation_pct', 'tcp_crr_p99_us', 'rules_count']);
  });

  it('writes the reference\'s float fields with Python\'s spelling (10.0, not 10)', () => {
    const text = summaryJson(buildSummary(fixture()));
    assert.match(text, /"gbps": \[\n\s+10\.43,\n\s+10\.0\n\s+\]/);
    assert.match(text, /"max_cpu_m": 16\.0/);
    assert.match(text, /"avg_qps": 115217\n/);
    assert.doesNotThrow(() => JSON.parse(text));
  });

  it('records skipped phases and trust in the additions', () => {
    const s = buildSummary(fixture()) as any;
    assert.deepEqual(s.netbench.phases, [{ phase: 'hubble', status: 'skipped', reason: 'Cilium only; this cluster is kubeproxy-iptables' }]);
    assert.equal(s.netbench.trusted, true);
    assert.deepEqual(Object.keys(s.netbench.confidence_intervals).sort(), ['pod2pod_8stream', 'svc_c64', 'svc_short_c64', 'tcp_rr']);
  });
});

describe('Hubble and NetworkPolicy sections', () => {
  // the reference's sections, written out here by hand (the catalogue derives them)
  const cilium = (ids: string[]): RunResults => {
    const r = fixture();
    const qps: Record<string, number> = { hubble_on: 100007.6, hubble_off: 100271, no_policy: 99985, l3l4_policy: 99965, l7_policy: 13883 };
    r.measurements.push(...ids.map((id) => m(id, 1, qps[id])));
    r.phases = [];
    return r;
  };
  const all = ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy'];

  it("writes the reference's keys in the reference's order, overhead negative = slower", () => {
    const s = buildSummary(cilium(all)) as any;
    assert.deepEqual(Object.entries(s.hubble), [['with_hubble_qps', 100007], ['without_hubble_qps', 100271], ['overhead_pct', -0.3]]);
    assert.deepEqual(Object.entries(s.networkpolicy), [
      ['baseline_qps', 99985], ['l3l4_qps', 99965], ['l3l4_overhead_pct', -0.0], ['l7_qps', 13883], ['l7_overhead_pct', -86.1],
    ]);
    assert.deepEqual(Object.keys(s).slice(6, 9), ['hubble', 'networkpolicy', 'netbench']);
  });

  it('with rounds (0.5 on): each configuration\'s req/s is the truncated mean of its rounds, the overhead is from the means, the 95% intervals are in the additions', () => {
    const r = fixture();
    r.phases = [];
    // hubble_on 3 rounds around 100,000, hubble_off around 101,000; a failed round is left out of the mean
    r.measurements.push(
      m('hubble_on', 1, 99000.5), m('hubble_on', 2, 100000), m('hubble_on', 3, 101000),
      m('hubble_off', 1, 100000), m('hubble_off', 2, 101000), m('hubble_off', 3, 102000),
      { scenario: 'hubble_off', round: 4, ok: false, reason: 'fortio: server unreachable', file: 'hubble/hubble_off_r4.json' },
    );
    const s = buildSummary(r) as any;
    assert.deepEqual(Object.entries(s.hubble), [['with_hubble_qps', 100000], ['without_hubble_qps', 101000], ['overhead_pct', -1.0]]);
    assert.deepEqual(s.netbench.confidence_intervals.hubble_on, { n: 3, mean: 100000.17, ci95: 2483.72 });
    assert.deepEqual(s.netbench.confidence_intervals.hubble_off, { n: 3, mean: 101000, ci95: 2484.34 });
  });

  it('has no Hubble section unless both configurations were measured; NetworkPolicy stands on its baseline', () => {
    assert.equal((buildSummary(cilium(all.filter((id) => id !== 'hubble_on'))) as any).hubble, undefined);
    assert.equal((buildSummary(cilium(all.filter((id) => id !== 'hubble_off'))) as any).hubble, undefined);
    assert.deepEqual((buildSummary(cilium(['no_policy', 'l7_policy'])) as any).networkpolicy, { baseline_qps: 99985, l7_qps: 13883, l7_overhead_pct: -86.1 });
    assert.deepEqual((buildSummary(cilium(['no_policy'])) as any).networkpolicy, { baseline_qps: 99985 });
    assert.equal((buildSummary(cilium(['l3l4_policy', 'l7_policy'])) as any).networkpolicy, undefined);
  });

  it('the schema requires what the reference always wrote together', async () => {
    const { SummarySchema } = await import('../../../src/domain/summary-schema');
    const s = JSON.parse(summaryJson(buildSummary(cilium(all))));
    assert.doesNotThrow(() => SummarySchema.parse(s));
    assert.doesNotThrow(() => SummarySchema.parse({ ...s, networkpolicy: { baseline_qps: 1 } }));
    assert.throws(() => SummarySchema.parse({ ...s, hubble: { with_hubble_qps: 1, without_hubble_qps: 2 } }));
    assert.throws(() => SummarySchema.parse({ ...s, networkpolicy: { l3l4_qps: 1 } }));
  });
});

describe('summary schema', () => {
  it('accepts what buildSummary writes and rejects a renamed reference key', async () => {
    const { SummarySchema } = await import('../../../src/domain/summary-schema');
    const s = JSON.parse(summaryJson(buildSummary(fixture())));
    assert.doesNotThrow(() => SummarySchema.parse(s));
    const bad = { ...s, rps: { svc_c64_keepalive: s.rps.svc_c64 } };
    assert.throws(() => SummarySchema.parse(bad));
  });
});

describe('results of earlier versions', () => {
  it('reads scale-step measurements recorded under the pre-v0.3 ids (ka, short, crr, rr) as the catalogue ids', () => {
    const legacy = fixture();
    const current = fixture();
    const ids: Record<string, string> = { ka: 'svc_c64', short: 'svc_short_c64', crr: 'tcp_crr', rr: 'tcp_rr' };
    current.scale.steps = current.scale.steps.map((st) => ({ ...st, measurements: st.measurements.map((x) => ({ ...x, scenario: ids[x.scenario] ?? x.scenario })) }));
    assert.notDeepEqual(legacy.scale.steps, current.scale.steps);
    assert.equal(summaryJson(buildSummary(legacy)), summaryJson(buildSummary(current)));
    assert.equal(rawFile(scenarioById('svc_short_c64', 5000), 1, 5000), rawFile(scenarioById('short'), 1, 5000));
  });
});
