/**
 * The Cilium-only paths end to end on the lab with a REAL Cilium
 * (lab/datapath/cilium.ts): the real cilium-agent with kube-proxy
 * replacement carries the Service traffic, the real operator's CRDs hold
 * the policies, netbench's execs into the cilium-agent pod run the real
 * cilium-dbg and bpftool, and an approved LB-map fix or the Hubble toggle
 * restarts the real agent. Real workflows, activities, worker process and
 * Temporal server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { labDown, labUp, type LabInfo } from '../../lab/lab';
import { resolveConfig } from '../../src/config';
import { runStart } from '../../src/cli/run-input';
import type { RunResults } from '../../src/domain/results';
import { approveLbMapFixUpdate, progressQuery } from '../../src/shared';
import { startTemporal } from '../support/temporal';
import { eventually } from '../support/workflows';
import { repoRoot } from '../support/binaries';
import { labNetwork } from '../support/lab';

const LAB = 'e2ecil';
let env: TestWorkflowEnvironment;
let info: LabInfo;
let kc: KubeConfig;
let worker: ChildProcess | undefined;
const queue = `cil-${randomUUID()}`;

before(async () => {
  await labDown({ name: LAB });
  [env, info] = await Promise.all([startTemporal(), labUp({ name: LAB, datapath: 'cilium-native', network: labNetwork() })]);
  kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  worker = spawn(path.join(repoRoot, 'bin/netbench'), ['worker', '--address', env.address, '--task-queue', queue], {
    env: { ...process.env, KUBECONFIG: info.kubeconfigPath, KUBE_CONTEXT: info.context },
    stdio: ['ignore', 'ignore', process.env.E2E_VERBOSE ? 'inherit' : 'ignore'],
  });
});
after(async () => {
  worker?.kill('SIGKILL');
  await labDown({ name: LAB });
  await env?.teardown();
});

/** A small LB map, so a few dozen Services already overflow it (the check reads cilium-config like on a real cluster). */
async function setLbMapMax(v: string) {
  const core = kc.makeApiClient(CoreV1Api);
  const cm = await core.readNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system' });
  cm.data = { ...(cm.data ?? {}), 'bpf-lb-map-max': v };
  await core.replaceNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system', body: cm });
}
const lbMapMax = async () => (await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system' })).data?.['bpf-lb-map-max'];
const restartedAt = async () => (await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: 'cilium', namespace: 'kube-system' })).spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];

/** The activity types a run scheduled, in order (from its history). */
async function historyActivities(h: { fetchHistory: () => Promise<{ events?: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null }[] | null }> }): Promise<string[]> {
  return ((await h.fetchHistory()).events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? ''] : []));
}

function start(skip: string, steps = '30', syncTimeout = '900') {
  const config = resolveConfig({
    env: {
      IPERF_DURATION: '1', FORTIO_DURATION: '1', ROUNDS: '1', ROUND_SLEEP: '0', SETTLE_FACTOR: '0', METRICS_SETTLE_SECS: '0', METRICS_SAMPLES: '1',
      KUBECTL_TIMEOUT: '30', SVC_SCALE_STEPS: steps, NETBENCH_SKIP: skip, NETBENCH_TASK_QUEUE: queue, SYNC_TIMEOUT: syncTimeout,
    },
    flags: { dir: mkdtempSync(path.join(os.tmpdir(), 'nb-cil-')) },
  });
  const { start: opts } = runStart(config, info.context, true);
  return env.client.workflow.start('benchmarkRun', { ...opts, workflowId: `cil-${randomUUID()}` });
}

describe('Cilium lab (a real cilium-agent): the Cilium-only paths', () => {
  it('approve: the run waits for approveLbMapFix, patches cilium-config, rolls ds/cilium out and Ready before the scale step; Hubble and policies say why the real agent has nothing to act on', async () => {
    await setLbMapMax('100');
    const before = await restartedAt();
    const h = await start('throughput,latency,metrics');
    const p = await eventually(async () => (await h.query(progressQuery)).pendingApproval, 240_000, 'the LB-map approval');
    assert.deepEqual(p, { current: 100, needed: 180, proposed: 360 }, '30 Services × (4 endpoints + frontend + wildcard)');
    await h.executeUpdate(approveLbMapFixUpdate, { args: [{ approve: true, by: 'e2e' }] });
    const r = (await h.result()) as RunResults;

    assert.equal(r.status, 'completed', r.failure);
    assert.equal(r.cluster?.clusterType, 'cilium-native');
    assert.equal(r.scale.lbMap?.decision, 'approved');
    assert.equal(r.scale.lbMap?.after, 360);
    assert.equal(r.scale.trusted, true);
    assert.equal(await lbMapMax(), '100', 'cilium-config restored at the end of the run (a compensation)');
    assert.notEqual(await restartedAt(), before, 'ds/cilium was rolled');
    const ds = await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: 'cilium', namespace: 'kube-system' });
    assert.equal(ds.status?.updatedNumberScheduled, ds.status?.desiredNumberScheduled);
    assert.equal(ds.status?.numberReady, ds.status?.desiredNumberScheduled, 'rolled out and Ready');

    // ordering, from the parent's history: the rollout completed before the scale-step child was started
    const events = (await h.fetchHistory()).events ?? [];
    const scheduled = new Map<string, string>();
    let rolloutDone = -1;
    let childStarted = -1;
    for (const [i, e] of events.entries()) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
      const c = e.activityTaskCompletedEventAttributes;
      if (c && scheduled.get(String(c.scheduledEventId)) === 'rolloutRestartCilium') rolloutDone = i;
      if (e.startChildWorkflowExecutionInitiatedEventAttributes && childStarted < 0) childStarted = i;
    }
    assert.ok(rolloutDone >= 0 && childStarted > rolloutDone, 'rollout finished before the first scale step started');

    const m = (id: string) => r.measurements.find((x) => x.scenario === id)!;
    const summary = JSON.parse(readFileSync(path.join(r.outputDir, 'benchmark-summary.json'), 'utf8'));
    const md = readFileSync(path.join(r.outputDir, 'report.md'), 'utf8');
    const section = md.slice(md.indexOf('## 5. Hubble & NetworkPolicy'), md.indexOf('## 6. Resources'));
    const l7Refused = /^the Cilium agent refused the L7 CiliumNetworkPolicy: "Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled" \(its log, pod cilium-\S+ on node \S+\)$/;
    assert.equal(m('l7_policy').notMeasured, true);
    assert.match(m('l7_policy').reason!, l7Refused);
    assert.match(section, /L7 CNP applied +\| not measured: the Cilium agent refused the L7 CiliumNetworkPolicy: "Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled"/);
    console.log(section);
    if (info.network === 'pods') {
      // Each pod is a Cilium endpoint of its node's agent (cilium-cni): Hubble is toggled on the real agents
      // and measured, the L3/L4 policy is enforced on the server's endpoint and measured.
      for (const id of ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy']) {
        assert.ok(m(id).ok && !m(id).notMeasured, `${id}: ${JSON.stringify(m(id))}`);
        assert.ok((m(id).value ?? 0) > 0, `${id} measured a rate: ${JSON.stringify(m(id))}`);
      }
      assert.ok((await historyActivities(h)).includes('setHubble'), 'Hubble was toggled on the real agents');
      assert.equal(summary.netbench.not_measured.map((x: { scenario: string }) => x.scenario).join(), 'l7_policy');
      for (const row of ['Hubble ON', 'Hubble OFF', 'No policy', 'L3/L4 CNP applied']) assert.match(section, new RegExp(`^\\| ${row.replace('/', '\\/')} +\\| [\\d,.]+ `, 'm'), section);
    } else {
      // The other Cilium-only phases asked the real agent what it did, and say why they have no figure:
      // the lab's pods have no Cilium endpoint (one network namespace: the shared network).
      const noEndpoint = /: no Cilium endpoint for fortio-server on node \S+ nor fortio-client on node \S+ in namespace network-benchmark \(agent cilium-\S+ on \S+ lists [^)]*\): netbench's lab runs every pod in one network namespace, so no agent manages them \(issue 8\)$/;
      for (const id of ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy']) {
        assert.equal(m(id).notMeasured, true, `${id}: ${JSON.stringify(m(id))}`);
        assert.match(m(id).reason!, noEndpoint);
      }
      assert.match(m('l3l4_policy').reason!, /^the agent imported the L3\/L4 CiliumNetworkPolicy \(policy revision \d+\), but it selects no endpoint/);
      assert.match(m('hubble_on').reason!, /^Hubble observes endpoint traffic only/);
      assert.equal(r.phases.find((x) => x.phase === 'hubble')?.status, 'done');
      assert.ok(!(await historyActivities(h)).includes('setHubble'), 'the agent was not restarted for a Hubble with nothing to observe');
      // ... and the run's summary and report show the reasons where the figures would be, never a number.
      assert.equal(summary.hubble, undefined);
      assert.equal(summary.networkpolicy, undefined);
      assert.deepEqual(summary.netbench.not_measured.map((x: { scenario: string }) => x.scenario), ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy']);
      for (const row of ['Hubble ON', 'Hubble OFF', 'No policy', 'L3/L4 CNP applied', 'L7 CNP applied']) assert.match(section, new RegExp(`^\\| ${row.replace('/', '\\/')} +\\| not measured: `, 'm'), section);
      assert.doesNotMatch(section, /req\/s|\d+(\.\d+)?%/, 'no figure in the section');
    }
    assert.ok(!summary.netbench.failures.some((f: { scenario: string }) => /hubble|policy/.test(f.scenario)), 'not a failure');
    const html = readFileSync(path.join(r.outputDir, 'report.html'), 'utf8');
    assert.match(html, /not measured: the Cilium agent refused the L7 CiliumNetworkPolicy/);
    assert.equal(r.scale.steps[0].convergence.metric, 'lb-entries');
    assert.ok(r.scale.steps[0].convergence.converged, r.scale.steps[0].convergence.reason);
  });

  it('decline: nothing is patched or restarted, and the large-scale results are marked untrustworthy', async () => {
    await setLbMapMax('100');
    const before = await restartedAt();
    // The real agent's map holds 100 entries (it was restarted with the restored config): the step cannot converge.
    const h = await start('throughput,rps,latency,hubble,networkpolicy,metrics', '30', '20');
    await eventually(async () => (await h.query(progressQuery)).pendingApproval, 240_000, 'the LB-map approval');
    await h.executeUpdate(approveLbMapFixUpdate, { args: [{ approve: false, by: 'e2e' }] });
    const r = (await h.result()) as RunResults;
    assert.equal(r.status, 'completed', r.failure);
    assert.equal(r.scale.lbMap?.decision, 'declined');
    assert.equal(r.scale.trusted, false);
    assert.match(r.scale.untrustedReason!, /holds 100 entries but 180 are needed; the fix was declined/);
    assert.equal(await lbMapMax(), '100', 'cilium-config untouched');
    assert.equal(await restartedAt(), before, 'no rollout');
    const sa = (await h.describe()).typedSearchAttributes.getAll().find((x) => x.key.name === 'NetbenchTrusted');
    assert.equal(sa?.value, false, 'the Web UI can filter untrusted runs');
  });
});
