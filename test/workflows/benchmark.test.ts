/**
 * benchmarkRun's logic on a REAL Temporal dev server, with activities
 * STUBBED at the activity boundary (no cluster): order of phases,
 * Cilium-only skips, the LB-map approval both ways and automatic, failures
 * recorded with reasons, cancellation still cleaning up, and a worker
 * stopped mid-step with a new worker finishing the run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchmarkRun, type BenchmarkInput } from '../../src/workflows/benchmark';
import { approveLbMapFixUpdate, progressQuery } from '../../src/shared';
import type { RunResults } from '../../src/domain/results';
import { startTemporal } from '../support/temporal';
import { stubActivities, type StubCall, type StubOptions } from '../support/stub-activities';
import { eventually, holdUntilCancelled, testOptions, workflowBundle } from '../support/workflows';
import { repoRoot } from '../support/binaries';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

function input(opts: Record<string, string> = {}): BenchmarkInput {
  return { options: testOptions(opts), outputDir: '/tmp/netbench-test-unused', contextName: 'stub-cluster', searchAttributes: true };
}

/** Run one workflow on a fresh task queue with stub activities; returns the handle and the stubs' records. */
async function withStubWorker<T>(stubs: StubOptions, fn: (start: (i: BenchmarkInput) => Promise<WorkflowHandle<typeof benchmarkRun>>) => Promise<T>) {
  const taskQueue = `test-${randomUUID()}`;
  const s = stubActivities(stubs);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: s.activities,
    shutdownGraceTime: '1s',
  });
  const start = (i: BenchmarkInput) =>
    env.client.workflow.start(benchmarkRun, { taskQueue, workflowId: `bench-${randomUUID()}`, args: [i] });
  const result = await worker.runUntil(fn(start));
  return { result, calls: s.calls, reports: s.reports };
}

const names = (calls: StubCall[]) => calls.map((c) => c.name);
const phasesOf = (calls: StubCall[]) =>
  calls
    .filter((c) => c.name === 'measure')
    .map((c) => (c.input.step === undefined ? (c.input.scenario as string) : `${c.input.scenario}@step`))
    .filter((s, i, a) => a.indexOf(s) === i);

/** Save a finished run's history for the replay test (commit the file to keep it). */
async function saveHistory(handle: WorkflowHandle, what: string) {
  // NETBENCH_RECORD_HISTORIES=<release tag>, e.g. v0.2: keeps each release's histories side by side
  const tag = process.env.NETBENCH_RECORD_HISTORIES;
  if (!tag) return;
  const name = `${tag}-${what}`;
  const history = await handle.fetchHistory();
  const dir = path.join(repoRoot, 'test/histories');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), historyToJSON(history));
  // child workflow ids derive from the parent's id, so replay needs the original id
  const indexFile = path.join(dir, 'index.json');
  const index = existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : {};
  index[`${name}.json`] = handle.workflowId;
  writeFileSync(indexFile, JSON.stringify(index, null, 2) + '\n');
}

describe('benchmarkRun (stub activities, real Temporal server)', () => {
  it('runs a kube-proxy cluster in the reference order and records Cilium-only phases as skipped with the reason', async () => {
    const { result, calls, reports } = await withStubWorker({ clusterType: 'kubeproxy-iptables' }, async (start) => {
      const h = await start(input());
      const r = await h.result();
      await saveHistory(h, 'kubeproxy-iptables');
      const p = await h.query(progressQuery);
      return { r, p };
    });
    const seq = names(calls).filter((n, i, a) => n !== a[i - 1]);
    assert.deepEqual(seq.slice(0, 4), ['inspectCluster', 'claimNamespaces', 'deployFixtures', 'measure']);
    assert.deepEqual(phasesOf(calls), [
      'warmup', 'node_level_8stream', 'pod2pod_single', 'pod2pod_8stream', 'pod2pod_16stream', 'via_service_8stream',
      'pod2pod_c64', 'svc_c64', 'svc_c256', 'svc_short_c64', 'tcp_rr', 'tcp_crr', 'http_1k_qps', 'svc_c64@step', 'svc_short_c64@step', 'tcp_crr@step', 'tcp_rr@step',
    ]);
    assert.ok(!names(calls).includes('setHubble') && !names(calls).includes('applyPolicy'), 'no Cilium actions on kube-proxy');
    const last = names(calls).slice(-5);
    assert.deepEqual(last, ['sampleResources', 'collectComponentMetrics', 'findBaseline', 'deleteNamespaces', 'writeReport']);
    const r: RunResults = result.r;
    assert.equal(r.status, 'completed');
    for (const ph of ['hubble', 'networkpolicy'] as const) {
      const rec = r.phases.find((p) => p.phase === ph);
      assert.equal(rec?.status, 'skipped');
      assert.match(rec!.reason!, /Cilium only; this cluster is kubeproxy-iptables/);
    }
    assert.deepEqual(r.scale.steps.map((s) => s.svcCount), [100, 200, 300]);
    assert.ok(r.scale.steps.every((s) => s.convergence.converged && s.measurements.length === 4));
    assert.equal(reports.length, 1, 'the report is written once');
    // where the time went: every phase and scale step, in order, each split
    const entries = (r.timeline ?? []).map((e) => e.name);
    for (const n of ['inspect', 'deploy', 'throughput', 'rps', 'latency', 'service-scale', 'service-scale @100', 'service-scale @300', 'metrics', 'cleanup']) assert.ok(entries.includes(n), `timeline has ${n}: ${entries.join(', ')}`);
    assert.ok(r.timeline!.every((e) => e.seconds >= 0 && e.toolSeconds >= 0));
    assert.ok(r.timeline!.filter((e) => ['throughput', 'rps', 'latency'].includes(e.name)).some((e) => e.toolSeconds > 0), 'tool time is counted');
    assert.equal(result.p.done, result.p.total, 'progress reaches total');
    assert.equal(result.p.phase, 'done');
  });

  it('creates each step\'s missing Services only, split into SVC_CREATE_PARALLEL contiguous slices', async () => {
    const { calls } = await withStubWorker({}, async (start) => (await start(input({ SVC_CREATE_PARALLEL: '3', NETBENCH_SKIP: 'throughput,rps,latency,metrics' }))).result());
    const ranges = calls.filter((c) => c.name === 'createDummyServices').map((c) => [c.input.from, c.input.to]);
    const covered = ranges.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)).sort((x, y) => x - y);
    assert.deepEqual(covered, Array.from({ length: 300 }, (_, i) => i + 1), 'every index 1..300 exactly once');
    assert.equal(ranges.length, 9, '3 slices per step');
  });

  it('runs Hubble off/on and both policies on a Cilium cluster, in the reference order', async () => {
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 1_000_000 }, async (start) => {
      const h = await start(input({ NETBENCH_SKIP: 'throughput,rps,latency' }));
      const r = await h.result();
      await saveHistory(h, 'cilium-native');
      return r;
    });
    const seq = calls
      .filter((c) => ['measure', 'setHubble', 'applyPolicy', 'deletePolicy'].includes(c.name))
      .map((c) => (c.name === 'measure' ? c.input.scenario : `${c.name}:${JSON.stringify(c.input.enabled ?? c.input.kind)}`))
      .slice(0, 10);
    assert.deepEqual(seq, [
      'hubble_on', 'setHubble:false', 'hubble_off', 'setHubble:true',
      'no_policy', 'applyPolicy:"l3l4"', 'l3l4_policy', 'deletePolicy:"l3l4"', 'applyPolicy:"l7"', 'l7_policy',
    ]);
    assert.equal(result.scale.lbMap?.decision, 'not-needed');
    assert.equal(result.scale.trusted, true);
  });

  it('Cilium whose agents have endpoints and import both policies (a real cluster): every Hubble and policy scenario measured as before, after asking the agents (stub activities)', async () => {
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 1_000_000 }, async (start) => {
      const h = await start(input({ NETBENCH_SKIP: 'throughput,rps,latency,service-scale,metrics' }));
      const r = await h.result();
      await saveHistory(h, 'cilium-reasons-cluster');
      return r;
    });
    const seq = calls
      .filter((c) => ['measure', 'setHubble', 'applyPolicy', 'deletePolicy', 'ciliumEndpoints', 'policyVerdict'].includes(c.name))
      .map((c) => (c.name === 'measure' ? c.input.scenario : `${c.name}${c.input.kind ? `:${c.input.kind}` : c.input.enabled !== undefined ? `:${c.input.enabled}` : ''}`));
    assert.deepEqual(seq, [
      'ciliumEndpoints', 'hubble_on', 'setHubble:false', 'hubble_off', 'setHubble:true',
      'ciliumEndpoints', 'no_policy',
      'applyPolicy:l3l4', 'policyVerdict:l3l4', 'l3l4_policy', 'deletePolicy:l3l4',
      'applyPolicy:l7', 'policyVerdict:l7', 'l7_policy', 'deletePolicy:l7',
    ]);
    assert.deepEqual(calls.find((c) => c.name === 'ciliumEndpoints')!.input, { ns: 'network-benchmark', pods: ['fortio-server', 'fortio-client'] });
    assert.equal(calls.find((c) => c.name === 'policyVerdict')!.input.node, 'node-1', "asked of the agent on fortio-server's node");
    for (const id of ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy']) {
      const m = result.measurements.find((x) => x.scenario === id);
      assert.ok(m?.ok && typeof m.value === 'number' && !m.notMeasured, `${id} measured`);
    }
    assert.deepEqual(result.phases.filter((p) => p.phase === 'hubble' || p.phase === 'networkpolicy'), [{ phase: 'hubble', status: 'done' }, { phase: 'networkpolicy', status: 'done' }]);
  });

  it("the lab's Cilium (no endpoint for the benchmark pods, L7 refused): each scenario recorded as not measured with its reason, no agent restart, no tool run (stub activities)", async () => {
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 1_000_000, noCiliumEndpoints: true, policyRefused: ['l7'] }, async (start) => {
      const h = await start(input({ NETBENCH_SKIP: 'throughput,rps,latency,service-scale,metrics' }));
      const r = await h.result();
      await saveHistory(h, 'cilium-reasons-lab');
      return r;
    });
    const n = names(calls);
    assert.ok(!n.includes('setHubble'), 'no agent restart for a Hubble with nothing to observe');
    assert.deepEqual(calls.filter((c) => c.name === 'measure').map((c) => c.input.scenario), [], 'no tool run');
    // the policies are still applied (the agent's verdict is asked) and removed
    assert.deepEqual(calls.filter((c) => ['applyPolicy', 'policyVerdict', 'deletePolicy'].includes(c.name)).map((c) => `${c.name}:${c.input.kind}`), [
      'applyPolicy:l3l4', 'policyVerdict:l3l4', 'deletePolicy:l3l4', 'applyPolicy:l7', 'policyVerdict:l7', 'deletePolicy:l7',
    ]);
    const m = (id: string) => result.measurements.find((x) => x.scenario === id)!;
    for (const id of ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy']) {
      assert.equal(m(id).ok, false, id);
      assert.equal(m(id).notMeasured, true, id);
      assert.equal(m(id).value, undefined, `${id}: no figure`);
      assert.equal(m(id).file, '', `${id}: no raw file`);
    }
    const noEndpoint = /: no Cilium endpoint for fortio-server on node node-1 nor fortio-client on node node-2 in namespace network-benchmark \(agent cilium-node-1 on node-1 lists 1 endpoint: reserved:host; cilium-node-2 on node-2 lists 1 endpoint: reserved:host\): netbench's lab runs every pod in one network namespace, so no agent manages them \(issue 8\)$/;
    assert.match(m('hubble_on').reason!, noEndpoint);
    assert.match(m('hubble_on').reason!, /"Hubble on" and "Hubble off" would measure the same path/);
    assert.equal(m('hubble_off').reason, m('hubble_on').reason);
    assert.match(m('no_policy').reason!, noEndpoint);
    assert.match(m('no_policy').reason!, /^the baseline of the policy overheads/);
    assert.match(m('l3l4_policy').reason!, noEndpoint);
    assert.match(m('l3l4_policy').reason!, /^the agent imported the L3\/L4 CiliumNetworkPolicy \(policy revision 7\), but it selects no endpoint, so it has nothing to act on: no Cilium endpoint for fortio-server/);
    assert.equal(
      m('l7_policy').reason,
      'the Cilium agent refused the L7 CiliumNetworkPolicy: "Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled" (its log, pod cilium-node-1 on node node-1)',
    );
    assert.equal(result.phases.find((p) => p.phase === 'hubble')?.status, 'done');
    assert.equal(result.status, 'completed');
  });

  it('agents that cannot be asked (exec forbidden): everything measured as before, the phase records say why nothing was checked (stub activities)', async () => {
    const err = 'exec kube-system/cilium-node-1 `cilium-dbg endpoint list -o json`: could not open the exec stream: forbidden (HTTP 403)';
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 1_000_000, noCiliumEndpoints: true, ciliumAgentError: err }, async (start) =>
      (await start(input({ NETBENCH_SKIP: 'throughput,rps,latency,service-scale,metrics' }))).result(),
    );
    assert.deepEqual(calls.filter((c) => c.name === 'measure').map((c) => c.input.scenario), ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy']);
    assert.ok(names(calls).includes('setHubble'));
    assert.ok(result.measurements.every((m) => m.ok && !m.notMeasured));
    const hub = result.phases.find((p) => p.phase === 'hubble')!;
    assert.match(hub.reason!, /^could not ask the Cilium agents for the benchmark pods' endpoints \(agent cilium-node-1 on node node-1: exec .*forbidden \(HTTP 403\)\); hubble measured as on any cluster$/);
    const np = result.phases.find((p) => p.phase === 'networkpolicy')!;
    assert.match(np.reason!, /networkpolicy measured as on any cluster; l3l4 policy: no verdict from the Cilium agent \(exec .*\); measured as on any cluster; l7 policy: no verdict/);
  });

  it('an agent that refuses the L7 policy on a cluster with endpoints: L3/L4 and its baseline measured, L7 recorded with the refusal (stub activities)', async () => {
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 1_000_000, policyRefused: ['l7'] }, async (start) =>
      (await start(input({ NETBENCH_SKIP: 'throughput,rps,latency,hubble,service-scale,metrics' }))).result(),
    );
    assert.deepEqual(calls.filter((c) => c.name === 'measure').map((c) => c.input.scenario), ['no_policy', 'l3l4_policy']);
    const l7 = result.measurements.find((x) => x.scenario === 'l7_policy')!;
    assert.equal(l7.notMeasured, true);
    assert.match(l7.reason!, /^the Cilium agent refused the L7 CiliumNetworkPolicy: "Invalid CiliumNetworkPolicy spec: L7 policy is not supported/);
  });

  it('raises the LB map without asking when AUTO_FIX_LB_MAP=true, before the first scale step', async () => {
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-overlay', lbMapMax: 65536 }, async (start) =>
      (await start(input({ AUTO_FIX_LB_MAP: 'true', SVC_SCALE_STEPS: '20000,30000', NETBENCH_SKIP: 'throughput,rps,latency,hubble,networkpolicy,metrics' }))).result(),
    );
    const n = names(calls);
    assert.ok(n.indexOf('patchLbMapMax') < n.indexOf('rolloutRestartCilium'));
    assert.ok(n.indexOf('rolloutRestartCilium') < n.indexOf('createDummyServices'));
    assert.equal(calls.find((c) => c.name === 'patchLbMapMax')!.input.value, 360000, '2 × 30000 × (4 endpoints + frontend + wildcard)');
    assert.equal(result.scale.lbMap?.decision, 'auto');
    assert.equal(result.scale.lbMap?.after, 360000);
    assert.equal(result.scale.trusted, true);
    // ... and puts it back as it was once the dummy Services are gone
    assert.ok(n.lastIndexOf('restoreCiliumConfig') > n.lastIndexOf('deleteNamespaces'), 'restored after cleanup');
    assert.deepEqual(calls.find((c) => c.name === 'restoreCiliumConfig')!.input, { key: 'bpf-lb-map-max', previous: '65536', timeoutSec: 300 });
    assert.deepEqual(result.undo, [{ what: 'cilium-config bpf-lb-map-max back to 65536, Cilium restarted', ok: true }]);
  });

  it('an undo step that still fails is recorded with what to do by hand, and the run goes on to its report', async () => {
    const { reports, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 65536, restoreFails: 'configmaps "cilium-config" is forbidden' }, async (start) =>
      (await start(input({ AUTO_FIX_LB_MAP: 'true', SVC_SCALE_STEPS: '30000', NETBENCH_SKIP: 'throughput,rps,latency,hubble,networkpolicy,metrics' }))).result(),
    );
    assert.equal(result.status, 'completed');
    const u = result.undo?.[0];
    assert.equal(u?.ok, false);
    assert.match(u!.reason!, /forbidden/);
    assert.match(u!.manual!, /kubectl -n kube-system patch configmap cilium-config .*"bpf-lb-map-max":"65536".*rollout restart ds\/cilium/);
    assert.equal(reports.length, 1);
    assert.deepEqual(reports[0].undo, result.undo);
  });

  it('waits for approveLbMapFix; approve patches and restarts Cilium before the scale step starts', async () => {
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 65536 }, async (start) => {
      const h = await start(input({ SVC_SCALE_STEPS: '30000', NETBENCH_SKIP: 'throughput,rps,latency,hubble,networkpolicy,metrics' }));
      const p = await eventually(async () => (await h.query(progressQuery)).pendingApproval, 30_000, 'pending approval');
      assert.deepEqual(p, { current: 65536, needed: 180000, proposed: 360000 });
      const ans = await h.executeUpdate(approveLbMapFixUpdate, { args: [{ approve: true, by: 'alice' }] });
      assert.equal(ans.accepted, true);
      const r = await h.result();
      await saveHistory(h, 'cilium-lbmap-approved');
      return r;
    });
    const n = names(calls);
    assert.ok(n.indexOf('rolloutRestartCilium') < n.indexOf('createDummyServices'));
    assert.equal(result.scale.lbMap?.decision, 'approved');
    assert.equal(result.scale.lbMap?.decidedBy, 'alice');
    assert.equal(result.scale.trusted, true);
  });

  it('decline leaves Cilium alone and marks large-scale results untrustworthy; an Update with nothing pending is rejected', async () => {
    const { calls, result } = await withStubWorker({ clusterType: 'cilium-native', lbMapMax: 65536 }, async (start) => {
      const h = await start(input({ SVC_SCALE_STEPS: '30000', NETBENCH_SKIP: 'throughput,rps,latency,hubble,networkpolicy,metrics' }));
      await eventually(async () => (await h.query(progressQuery)).pendingApproval, 30_000, 'pending approval');
      await h.executeUpdate(approveLbMapFixUpdate, { args: [{ approve: false }] });
      const r = await h.result();
      return r;
    });
    assert.ok(!names(calls).includes('patchLbMapMax') && !names(calls).includes('rolloutRestartCilium'));
    assert.equal(result.scale.lbMap?.decision, 'declined');
    assert.equal(result.scale.trusted, false);
    assert.match(result.scale.untrustedReason!, /holds 65536 entries but 180000 are needed; the fix was declined/);

    await withStubWorker({}, async (start) => {
      const h = await start(input({ NETBENCH_SKIP: 'throughput,rps,latency,service-scale,metrics' }));
      await assert.rejects(h.executeUpdate(approveLbMapFixUpdate, { args: [{ approve: true }] }), (e: Error) =>
        /no LB-map fix is waiting/.test(String((e.cause as Error | undefined)?.message)),
      );
      await h.result();
    });
  });

  it('records a measurement that keeps failing with its reason and goes on with the run', async () => {
    const { result } = await withStubWorker({ failing: ['svc_c256'] }, async (start) =>
      (await start(input({ NETBENCH_SKIP: 'throughput,latency,service-scale,metrics' }))).result(),
    );
    const failed = result.measurements.filter((m) => !m.ok);
    assert.equal(failed.length, 1);
    assert.equal(failed[0].scenario, 'svc_c256');
    assert.match(failed[0].reason!, /server unreachable/);
    assert.equal(failed[0].file, 'rps/svc_c256_r1.json');
    assert.equal(result.status, 'completed');
    assert.ok(result.measurements.some((m) => m.scenario === 'svc_short_c64' && m.ok), 'later scenarios still ran');
  });

  it('cancelling a run still restores Hubble and cleans up, in a non-cancellable scope', async () => {
    const { calls } = await withStubWorker(
      { clusterType: 'cilium-native', onMeasure: async (i) => (i.scenario === 'hubble_off' ? holdUntilCancelled() : undefined) },
      async (start) => {
        const h = await start(input({ NETBENCH_SKIP: 'throughput,rps,latency' }));
        await eventually(async () => (await h.query(progressQuery)).scenario?.includes('Hubble OFF'), 30_000, 'hubble_off running');
        await h.cancel();
        await assert.rejects(h.result(), (e: unknown) => e instanceof WorkflowFailedError);
        const desc = await h.describe();
        assert.equal(desc.status.name, 'CANCELLED');
      },
    );
    const n = names(calls);
    const restore = calls.filter((c) => c.name === 'setHubble').map((c) => c.input.enabled);
    assert.deepEqual(restore, [false, true], 'Hubble turned off, then restored after the cancel');
    assert.ok(n.indexOf('deleteNamespaces') > n.lastIndexOf('measure'), 'cleanup ran after the cancel');
    assert.ok(n.includes('writeReport'), 'partial results were still written');
    assert.ok(!n.includes('createDummyServices'), 'nothing after the cancel point ran');
  });

  it('a run cancelled while a policy is applied removes that policy (with --skip-cleanup too: it is an undo, not cleanup)', async () => {
    const { calls } = await withStubWorker(
      { clusterType: 'cilium-native', onMeasure: async (i) => (i.scenario === 'l3l4_policy' ? holdUntilCancelled() : undefined) },
      async (start) => {
        const i = input({ NETBENCH_SKIP: 'throughput,rps,latency,hubble,service-scale,metrics' });
        i.options.skipCleanup = true;
        const h = await start(i);
        await eventually(async () => (await h.query(progressQuery)).scenario?.includes('L3/L4'), 30_000, 'l3l4_policy running');
        await h.cancel();
        await assert.rejects(h.result(), (e: unknown) => e instanceof WorkflowFailedError);
      },
    );
    const n = names(calls);
    assert.deepEqual(calls.filter((c) => c.name === 'deletePolicy').map((c) => c.input), [{ ns: 'network-benchmark', kind: 'l3l4' }]);
    assert.ok(n.lastIndexOf('deletePolicy') > n.lastIndexOf('measure'), 'removed after the cancel');
    assert.ok(!n.includes('deleteNamespaces'), '--skip-cleanup kept the namespaces');
  });

  it('flags a deliberately changed figure as a regression and sets the NetbenchRegression search attribute', async () => {
    // the stub's svc_short_c64 is 10,000 req/s; a baseline of 12,000 makes it -16.7% (> 10% tolerance, 1 round)
    const baseline = [
      { key: 'svc_short_c64', label: 'RPS via Svc c64 short conn', unit: 'req/s', better: 'higher', est: { n: 1, mean: 12000, min: 12000, max: 12000 } },
      { key: 'svc_c64', label: 'RPS via Svc c64 keepalive', unit: 'req/s', better: 'higher', est: { n: 1, mean: 10100, min: 10100, max: 10100 } },
    ];
    const { result } = await withStubWorker({ baseline }, async (start) => {
      const h = await start(input({ NETBENCH_SKIP: 'throughput,latency,service-scale,metrics' }));
      const r = await h.result();
      const sa = (await h.describe()).typedSearchAttributes.getAll().find((p) => p.key.name === 'NetbenchRegression');
      return { ...r, sa: sa?.value };
    });
    assert.equal(result.regression?.baselineWorkflowId, 'baseline-run');
    assert.deepEqual(result.regression?.regressions.map((c) => [c.key, c.changePct, c.basis]), [['svc_short_c64', -16.7, 'tolerance']]);
    assert.equal(result.regression?.compared, 2, 'svc_c64 at -1% is within the noise');
    assert.equal(result.sa, true);
  });

  it('says why there is no regression check on a first run', async () => {
    const { result } = await withStubWorker({}, async (start) => (await start(input({ NETBENCH_SKIP: 'throughput,rps,latency,service-scale,metrics' }))).result());
    assert.equal(result.regression?.reason, 'stub: no earlier run');
    assert.deepEqual(result.regression?.regressions, []);
  });

  it('a namespace that is not netbench\'s is refused before anything is created, and nothing is cleaned up', async () => {
    const why = 'namespace "team-a" (--ns) already exists and netbench did not create it';
    const { calls, reports } = await withStubWorker({ namespaceRefused: why }, async (start) => {
      const h = await start(input());
      const err = await h.result().then(() => undefined, (e: Error) => e);
      assert.ok(err, 'the run fails');
      assert.match(String((err.cause as Error | undefined)?.message ?? err.message), /team-a/);
    });
    const n = names(calls);
    assert.deepEqual(n.slice(0, 2), ['inspectCluster', 'claimNamespaces']);
    for (const never of ['deployFixtures', 'measure', 'createDummyServices', 'deleteNamespaces']) assert.ok(!n.includes(never), `${never} must not run`);
    assert.equal(reports.length, 1, 'the refused run still writes its report');
    const r = reports[0] as RunResults;
    assert.equal(r.status, 'failed');
    assert.match(r.failure ?? '', /team-a/);
    assert.equal(r.cleanup?.skipped, true);
  });

  it('--skip-cleanup leaves the namespaces', async () => {
    const { calls, result } = await withStubWorker({}, async (start) => {
      const i = input({ NETBENCH_SKIP: 'throughput,rps,latency,service-scale,metrics' });
      i.options.skipCleanup = true;
      return (await start(i)).result();
    });
    assert.ok(!names(calls).includes('deleteNamespaces'));
    assert.deepEqual(result.cleanup, { done: false, skipped: true, reason: '--skip-cleanup' });
  });

  it('a worker stopped in the middle of a scale step: a new worker finishes the run, each completed step ran exactly once', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const calls: StubCall[] = [];
    let holding: () => void = () => undefined;
    const held = new Promise<void>((r) => (holding = r));
    const first = stubActivities({
      worker: 'w1',
      calls,
      onCreate: async (i) => {
        if (i.from > 100) {
          holding();
          await holdUntilCancelled();
        }
      },
    });
    const bundleCode = await workflowBundle();
    const w1 = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundleCode, activities: first.activities, shutdownGraceTime: '500ms' });
    // runUntil stops worker 1 however the start goes (a worker left running fails after the test, when teardown closes its connection).
    const h = await w1.runUntil(async () => {
      const started = await env.client.workflow.start(benchmarkRun, {
        taskQueue,
        workflowId: `bench-${randomUUID()}`,
        args: [input({ NETBENCH_SKIP: 'throughput,rps,latency,metrics', SVC_CREATE_PARALLEL: '1' })],
      });
      await held; // step 2 is creating its Services on worker 1
      return started;
    });
    const second = stubActivities({ worker: 'w2', calls });
    const w2 = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundleCode, activities: second.activities });
    const result = await w2.runUntil(h.result());

    assert.equal(result.status, 'completed');
    assert.deepEqual(result.scale.steps.map((s) => s.svcCount), [100, 200, 300]);
    const measuresAt = (step: number) => calls.filter((c) => c.name === 'measure' && c.input.step === step);
    assert.equal(measuresAt(100).length, 4, 'step 100 measured once (4 scenarios × 1 round)');
    assert.ok(measuresAt(100).every((c) => c.worker === 'w1'), 'step 100 was done by the first worker and not redone');
    assert.equal(measuresAt(200).length, 4);
    assert.equal(measuresAt(300).length, 4);
    assert.ok([...measuresAt(200), ...measuresAt(300)].every((c) => c.worker === 'w2'));
    const creates = calls.filter((c) => c.name === 'createDummyServices');
    assert.equal(creates.filter((c) => c.input.from === 1).length, 1, 'step 100 Services created once');
    assert.ok(creates.some((c) => c.input.from === 101 && c.worker === 'w2'), 'the interrupted creation resumed on worker 2');
    assert.equal(calls.filter((c) => c.name === 'inspectCluster').length, 1, 'nothing before the crash point ran again');
  });
});
