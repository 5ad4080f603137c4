// The decisions and reasons of domain/cilium-checks.ts: which benchmark pods
// lack a Cilium endpoint, when the agents could not be asked (then the run
// measures as it always did), and each scenario's reason.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baselineNotMeasured, hubbleNotMeasured, missingEndpoints, policyNotMeasured, unknownEndpoints, type EndpointCheck, type PolicyVerdict } from '../../../src/domain/cilium-checks';

const PODS = ['fortio-server', 'fortio-client'];
const agents = (lab: boolean, endpoints = '1 endpoint: reserved:host'): EndpointCheck['agents'] => [
  { node: 'w1', agentPod: 'cilium-a', lab, endpoints },
  { node: 'w2', agentPod: 'cilium-b', lab, endpoints },
];
const check = (ids: (number | undefined)[], lab = true): EndpointCheck => ({
  ns: 'network-benchmark',
  pods: PODS.map((pod, i) => ({ pod, node: i ? 'w2' : 'w1', agentPod: i ? 'cilium-b' : 'cilium-a', ...(ids[i] !== undefined ? { endpointId: ids[i] } : {}) })),
  agents: agents(lab),
});

describe('Cilium checks: endpoints', () => {
  it('every pod with an endpoint: nothing missing, nothing unknown', () => {
    assert.equal(missingEndpoints(check([101, 102]), PODS), undefined);
    assert.equal(unknownEndpoints(check([101, 102]), PODS), undefined);
  });

  it('no endpoint on the lab: names each pod, its node, what the agent lists, and the lab as the cause', () => {
    assert.equal(
      missingEndpoints(check([undefined, undefined]), PODS),
      "no Cilium endpoint for fortio-server on node w1 nor fortio-client on node w2 in namespace network-benchmark (agent cilium-a on w1 lists 1 endpoint: reserved:host; cilium-b on w2 lists 1 endpoint: reserved:host): netbench's lab runs every pod in one network namespace, so no agent manages them (issue 8)",
    );
  });

  it('on a cluster that is not the lab the cause is not the lab; one pod missing is named alone', () => {
    const r = missingEndpoints(check([101, undefined], false), PODS)!;
    assert.match(r, /^no Cilium endpoint for fortio-client on node w2 in namespace network-benchmark \(agent cilium-b on w2 lists 1 endpoint: reserved:host\): Cilium does not manage these pods/);
    assert.doesNotMatch(r, /lab|issue 8|fortio-server/);
  });

  it('an agent that could not be asked, a pod not found, a node without agent: unknown (the run measures as always), never "missing"', () => {
    const failed: EndpointCheck = { ...check([undefined, undefined]), agents: [{ node: 'w1', agentPod: 'cilium-a', lab: true, error: 'exec: forbidden' }, agents(true)[1]] };
    assert.equal(unknownEndpoints(failed, PODS), 'agent cilium-a on node w1: exec: forbidden');
    assert.equal(missingEndpoints(failed, PODS), undefined);
    const gone: EndpointCheck = { ns: 'x', pods: [{ pod: 'fortio-server' }, { pod: 'fortio-client', node: 'w2' }], agents: [] };
    assert.equal(unknownEndpoints(gone, PODS), 'pod fortio-server not found in namespace x; no running Cilium agent pod on node w2');
    assert.equal(missingEndpoints(gone, PODS), undefined);
  });
});

describe('Cilium checks: reasons', () => {
  const refused: PolicyVerdict = {
    verdict: 'refused', node: 'w1', agentPod: 'cilium-a', seconds: 1,
    refusal: 'Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled',
  };
  const imported: PolicyVerdict = { verdict: 'imported', node: 'w1', agentPod: 'cilium-a', revision: 12, seconds: 0.2 };
  const missing = missingEndpoints(check([undefined, undefined]), PODS)!;

  it('a refused policy: the agent\'s own words, whether or not endpoints exist', () => {
    const want = 'the Cilium agent refused the L7 CiliumNetworkPolicy: "Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled" (its log, pod cilium-a on node w1)';
    assert.equal(policyNotMeasured('l7', refused, missing), want);
    assert.equal(policyNotMeasured('l7', refused, undefined), want);
  });

  it('an imported policy without endpoints: imported at which revision, and that it selects nothing', () => {
    assert.equal(policyNotMeasured('l3l4', imported, missing), `the agent imported the L3/L4 CiliumNetworkPolicy (policy revision 12), but it selects no endpoint, so it has nothing to act on: ${missing}`);
    assert.equal(policyNotMeasured('l3l4', { verdict: 'unknown', node: 'w1', seconds: 30 }, missing), `the L3/L4 CiliumNetworkPolicy selects no endpoint, so it has nothing to act on: ${missing}`);
  });

  it('an imported policy with endpoints, or no verdict: measured (no reason)', () => {
    assert.equal(policyNotMeasured('l3l4', imported, undefined), undefined);
    assert.equal(policyNotMeasured('l7', { verdict: 'unknown', node: 'w1', detail: 'timed out', seconds: 30 }, undefined), undefined);
    assert.equal(policyNotMeasured('l3l4', undefined, undefined), undefined);
  });

  it('Hubble and the baseline say why there is nothing to compare', () => {
    assert.equal(hubbleNotMeasured(missing), `Hubble observes endpoint traffic only and there is none to observe, so "Hubble on" and "Hubble off" would measure the same path (neither is measured, the agent is not restarted): ${missing}`);
    assert.equal(baselineNotMeasured(missing), `the baseline of the policy overheads (the same path as svc_c64 of the RPS phase), and neither policy has an endpoint to act on: ${missing}`);
  });
});
