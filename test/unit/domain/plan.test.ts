/**
 * The plan: which phases run on this cluster (and why not), how many tool
 * runs, the LB entries the scale steps need, the reference's fixed sleeps.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan, lbEntriesNeeded, referenceSyncSleepSecs } from '../../../src/domain/plan';
import { resolveConfig, toRunOptions } from '../../../src/config';
import { OVERHEAD_ROUNDS_PATCH } from '../../../src/domain/scenarios';

describe('plan', () => {
  const o = toRunOptions(resolveConfig({ env: { ROUNDS: '3' } }));
  it('skips Cilium-only phases on kube-proxy with the reason; counts every tool run', () => {
    const p = buildPlan(o, 'kubeproxy-ipvs');
    assert.deepEqual(p.phases.filter((x) => !x.run).map((x) => [x.phase, x.reason]), [
      ['hubble', 'Cilium only; this cluster is kubeproxy-ipvs'],
      ['networkpolicy', 'Cilium only; this cluster is kubeproxy-ipvs'],
    ]);
    // 5 iperf + 4 fortio + 3 latency scenarios x 3 rounds, 4 steps x 4 x 3, + 4 steps + metrics
    assert.equal(p.totalUnits, 12 * 3 + 48 + 4 + 1);
  });
  it('counts only the catalogue rows the run measures (a row added after a release is left out of runs that replay an older history)', () => {
    const all = buildPlan(o, 'kubeproxy-iptables');
    const withoutSvcC256 = buildPlan(o, 'kubeproxy-iptables', (s) => s.id !== 'svc_c256');
    const withoutScaleCrr = buildPlan(o, 'kubeproxy-iptables', (s) => s.id !== 'tcp_crr');
    const units = (p: typeof all, phase: string) => p.phases.find((x) => x.phase === phase)!.measurements;
    assert.equal(units(withoutSvcC256, 'rps'), units(all, 'rps') - 3);
    assert.equal(units(withoutSvcC256, 'throughput'), units(all, 'throughput'));
    // tcp_crr is measured both in the latency phase and at every scale step
    assert.equal(units(withoutScaleCrr, 'service-scale'), units(all, 'service-scale') - o.svcScaleSteps.length * 3);
    assert.equal(withoutSvcC256.totalUnits, all.totalUnits - 3);
  });
  it('counts ROUNDS runs of each Hubble and NetworkPolicy configuration on Cilium; one each in a run that predates the patch', () => {
    const units = (p: ReturnType<typeof buildPlan>, phase: string) => p.phases.find((x) => x.phase === phase)!.measurements;
    const p = buildPlan(o, 'cilium-native');
    assert.equal(units(p, 'hubble'), 2 * 3);
    assert.equal(units(p, 'networkpolicy'), 3 * 3);
    // 12 scenarios + 2 Hubble + 3 policy configurations x 3 rounds, 4 steps x 4 x 3, + 4 steps + metrics
    assert.equal(p.totalUnits, 17 * 3 + 48 + 4 + 1);
    const before = buildPlan(o, 'cilium-native', () => true, (id) => id !== OVERHEAD_ROUNDS_PATCH);
    assert.equal(units(before, 'hubble'), 2);
    assert.equal(units(before, 'networkpolicy'), 3);
    assert.equal(before.totalUnits, 12 * 3 + 5 + 48 + 4 + 1);
    const one = buildPlan(toRunOptions(resolveConfig({ env: { ROUNDS: '1' } })), 'cilium-native');
    assert.deepEqual([units(one, 'hubble'), units(one, 'networkpolicy')], [2, 3]);
  });
  it('runs everything on Cilium; --skip leaves a phase out with its reason', () => {
    const p = buildPlan({ ...o, skip: ['rps'] }, 'cilium-overlay');
    assert.ok(p.phases.find((x) => x.phase === 'hubble')!.run);
    assert.equal(p.phases.find((x) => x.phase === 'rps')!.reason, 'left out by --skip');
  });
  it('needs max step × (endpoints + 2) LB entries (frontend, wildcard, backends); the reference slept 60 s + 1 s/1000 endpoints, capped at 180 s', () => {
    assert.equal(lbEntriesNeeded(o), 180000);
    assert.equal(referenceSyncSleepSecs(5000, 4), 80);
    assert.equal(referenceSyncSleepSecs(30000, 4), 180);
  });
});

