/**
 * The fault campaign's Cilium points (bench/chaos.ts): what it calls the
 * Hubble and NetworkPolicy phases when it reads a run's pending activities,
 * and the options that only make sense on a Cilium lab.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeState, parseChaosArgs, type RunState } from '../../bench/chaos';
import type { Progress } from '../../src/shared';

const state = (type: string, input?: Record<string, unknown>): RunState => ({ activities: [{ wf: 'parent', type, input }], timers: [], completed: new Set(), done: false });
const at = (phase: string) => ({ phase }) as Progress;

describe('bench/chaos.ts on Cilium', () => {
  it('names the Hubble phase (asking the agents, the toggle) and the NetworkPolicy phase while a policy exists', () => {
    assert.deepEqual(describeState(state('ciliumEndpoints', { ns: 'x', pods: [] }), at('hubble')), { kind: 'hubble', label: 'hubble: ciliumEndpoints' });
    assert.deepEqual(describeState(state('setHubble', { enabled: false }), at('hubble')), { kind: 'hubble', label: 'hubble: setHubble enabled=false' });
    assert.deepEqual(describeState(state('policyVerdict', { kind: 'l3l4' }), at('networkpolicy')), { kind: 'networkpolicy', label: 'networkpolicy: policyVerdict (l3l4 policy applied)' });
    assert.equal(describeState(state('measure', { scenario: 'l7_policy', round: 1 }), at('networkpolicy')).kind, 'networkpolicy');
    // before any policy exists: not a "policy" point
    assert.equal(describeState(state('ciliumEndpoints', { ns: 'x', pods: [] }), at('networkpolicy')).kind, 'ciliumEndpoints');
    assert.equal(describeState(state('measure', { scenario: 'no_policy', round: 1 }), at('networkpolicy')).kind, 'tool');
  });

  it('Cilium-only points and the LB-map setting are refused on a kube-proxy lab; on Cilium they are the defaults', () => {
    assert.throws(() => parseChaosArgs(['--cancel-phases', 'hubble']), /hubble runs on Cilium only/);
    assert.throws(() => parseChaosArgs(['--kill-kinds', 'networkpolicy']), /networkpolicy happens on Cilium only/);
    assert.throws(() => parseChaosArgs(['--lb-map-max', '100']), /Cilium only/);
    assert.throws(() => parseChaosArgs(['--datapath', 'calico']), /unknown "calico"/);
    assert.ok(!parseChaosArgs([])!.cancelPhases.includes('hubble'));
    const o = parseChaosArgs(['--datapath', 'cilium-native', '--kill-kinds', 'hubble,networkpolicy', '--lb-map-max', '100', '--skip', 'throughput,rps'])!;
    assert.deepEqual([o.datapath, o.lab, o.lbMapMax, o.killKinds, o.env], ['cilium-native', 'chaos-cil', 100, ['hubble', 'networkpolicy'], { NETBENCH_SKIP: 'throughput,rps' }]);
    assert.ok(o.cancelPhases.includes('hubble') && o.cancelPhases.includes('networkpolicy'));
  });
});
