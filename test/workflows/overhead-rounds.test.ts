/**
 * The Hubble and NetworkPolicy phases with ROUNDS > 1 (from 0.5): each
 * configuration measured ROUNDS times between the same agent restarts and
 * policy changes as before, ROUND_SLEEP between its rounds; with ROUNDS=1
 * exactly the sequence of earlier releases; a configuration recorded as not
 * measured once, however many rounds; Hubble restored and a policy removed
 * after a cancel in the middle of a configuration's rounds. benchmarkRun on
 * a REAL Temporal dev server with STUB activities (no cluster).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchmarkRun, type BenchmarkInput } from '../../src/workflows/benchmark';
import { progressQuery } from '../../src/shared';
import { startTemporal } from '../support/temporal';
import { stubActivities, type StubCall, type StubOptions } from '../support/stub-activities';
import { eventually, holdUntilCancelled, testOptions, workflowBundle } from '../support/workflows';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

const ONLY_OVERHEADS = 'throughput,rps,latency,service-scale,metrics';
const input = (opts: Record<string, string>): BenchmarkInput => ({ options: testOptions({ NETBENCH_SKIP: ONLY_OVERHEADS, ...opts }), outputDir: '/tmp/netbench-test-unused', contextName: 'stub-cluster' });

async function withStubWorker<T>(stubs: StubOptions, fn: (start: (i: BenchmarkInput) => Promise<WorkflowHandle<typeof benchmarkRun>>) => Promise<T>) {
  const taskQueue = `test-${randomUUID()}`;
  const s = stubActivities({ clusterType: 'cilium-native', lbMapMax: 1_000_000, ...stubs });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: s.activities, shutdownGraceTime: '1s' });
  const start = (i: BenchmarkInput) => env.client.workflow.start(benchmarkRun, { taskQueue, workflowId: `bench-${randomUUID()}`, args: [i] });
  const result = await worker.runUntil(fn(start));
  return { result, calls: s.calls };
}

/** A run to its end: its result and calls, its history's timers, its progress at the end. */
async function finishedRun(stubs: StubOptions, opts: Record<string, string>) {
  const { result, calls } = await withStubWorker(stubs, async (start) => {
    const h = await start(input(opts));
    const r = await h.result();
    return { r, timers: await timersOf(h), progress: await progressOf(h) };
  });
  return { calls, result: result.r, timers: result.timers, progress: result.progress };
}

/** The phase's cluster actions and tool runs in order: "hubble_on#2", "setHubble:false", "applyPolicy:l3l4", ... */
const sequence = (calls: StubCall[]) =>
  calls
    .filter((c) => ['measure', 'setHubble', 'applyPolicy', 'deletePolicy', 'ciliumEndpoints', 'policyVerdict'].includes(c.name))
    .map((c) => (c.name === 'measure' ? `${c.input.scenario}#${c.input.round}` : `${c.name}${c.input.kind ? `:${c.input.kind}` : c.input.enabled !== undefined ? `:${c.input.enabled}` : ''}`));

const rounds = (id: string, n: number) => Array.from({ length: n }, (_, i) => `${id}#${i + 1}`);

/** Durable timers of the run's history with their durations (s). */
async function timersOf(h: WorkflowHandle): Promise<number[]> {
  const history = await h.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const t = e.timerStartedEventAttributes?.startToFireTimeout;
    return t ? [Number(t.seconds ?? 0) + (t.nanos ?? 0) / 1e9] : [];
  });
}

/** The whole plan done, as the progress bar shows it (N/M). */
async function progressOf(h: WorkflowHandle): Promise<[number, number]> {
  const p = await h.query(progressQuery);
  return [p.done, p.total];
}

describe('overhead phases with rounds (stub activities, real Temporal server)', () => {
  it('ROUNDS=3 (stub activities): each configuration 3 times between one Hubble restart each way and one apply/delete per policy, ROUND_SLEEP between rounds, the progress total counts them', async () => {
    const { calls, result, timers, progress } = await finishedRun({}, { ROUNDS: '3', ROUND_SLEEP: '1' });
    assert.deepEqual(sequence(calls), [
      'ciliumEndpoints', ...rounds('hubble_on', 3), 'setHubble:false', ...rounds('hubble_off', 3), 'setHubble:true',
      'ciliumEndpoints', ...rounds('no_policy', 3),
      'applyPolicy:l3l4', 'policyVerdict:l3l4', ...rounds('l3l4_policy', 3), 'deletePolicy:l3l4',
      'applyPolicy:l7', 'policyVerdict:l7', ...rounds('l7_policy', 3), 'deletePolicy:l7',
    ]);
    // each measurement carries its round; round 1 keeps the reference's file, later rounds their own
    const hubbleOn = result.measurements.filter((m) => m.scenario === 'hubble_on');
    assert.deepEqual(hubbleOn.map((m) => [m.round, m.file, m.ok]), [[1, 'hubble/hubble_on.json', true], [2, 'hubble/hubble_on_r2.json', true], [3, 'hubble/hubble_on_r3.json', true]]);
    assert.deepEqual(result.measurements.filter((m) => m.scenario === 'l7_policy').map((m) => m.file), ['networkpolicy/l7_policy.json', 'networkpolicy/l7_policy_r2.json', 'networkpolicy/l7_policy_r3.json']);
    assert.equal(result.measurements.length, 15);
    // ROUND_SLEEP (1 s) between a configuration's rounds: 2 per configuration, none after the last (SETTLE_FACTOR=0: no settle timers)
    assert.deepEqual(timers, Array(5 * 2).fill(1));
    assert.deepEqual(progress, [15, 15]);
  });

  it("ROUNDS=1 (stub activities): exactly the earlier releases' sequence, no round pause", async () => {
    const { calls, result, timers, progress } = await finishedRun({}, { ROUNDS: '1', ROUND_SLEEP: '1' });
    assert.deepEqual(sequence(calls), [
      'ciliumEndpoints', 'hubble_on#1', 'setHubble:false', 'hubble_off#1', 'setHubble:true',
      'ciliumEndpoints', 'no_policy#1',
      'applyPolicy:l3l4', 'policyVerdict:l3l4', 'l3l4_policy#1', 'deletePolicy:l3l4',
      'applyPolicy:l7', 'policyVerdict:l7', 'l7_policy#1', 'deletePolicy:l7',
    ]);
    assert.deepEqual(result.measurements.map((m) => [m.scenario, m.round, m.file]), [
      ['hubble_on', 1, 'hubble/hubble_on.json'], ['hubble_off', 1, 'hubble/hubble_off.json'],
      ['no_policy', 1, 'networkpolicy/no_policy.json'], ['l3l4_policy', 1, 'networkpolicy/l3l4_policy.json'], ['l7_policy', 1, 'networkpolicy/l7_policy.json'],
    ]);
    assert.deepEqual(timers, []);
    assert.deepEqual(progress, [5, 5]);
  });

  it('ROUNDS=3 without Cilium endpoints (stub activities): each configuration recorded once as not measured, no tool run, the plan still reaches its total', async () => {
    const { calls, result, timers, progress } = await finishedRun({ noCiliumEndpoints: true, policyRefused: ['l7'] }, { ROUNDS: '3', ROUND_SLEEP: '1' });
    assert.equal(calls.filter((c) => c.name === 'measure').length, 0);
    assert.ok(!calls.some((c) => c.name === 'setHubble'));
    assert.deepEqual(result.measurements.map((m) => [m.scenario, m.round, m.notMeasured]), [
      ['hubble_on', 1, true], ['hubble_off', 1, true], ['no_policy', 1, true], ['l3l4_policy', 1, true], ['l7_policy', 1, true],
    ]);
    assert.deepEqual(timers, []);
    assert.deepEqual(progress, [15, 15]);
  });

  it('ROUNDS=3, cancelled during Hubble OFF round 2 (stub activities): Hubble is restored, nothing after runs', async () => {
    const { calls } = await withStubWorker({ onMeasure: async (i) => (i.scenario === 'hubble_off' && i.round === 2 ? holdUntilCancelled() : undefined) }, async (start) => {
      const h = await start(input({ ROUNDS: '3' }));
      await eventually(async () => (await h.query(progressQuery)).scenario?.includes('Hubble OFF (c64 keepalive via Svc), round 2/3'), 30_000, 'hubble_off round 2 running');
      await h.cancel();
      await assert.rejects(h.result(), (e: unknown) => e instanceof WorkflowFailedError);
    });
    assert.deepEqual(sequence(calls), ['ciliumEndpoints', ...rounds('hubble_on', 3), 'setHubble:false', ...rounds('hubble_off', 2), 'setHubble:true']);
  });

  it('ROUNDS=3, cancelled during the L3/L4 policy round 3 (stub activities): the policy is removed', async () => {
    const { calls } = await withStubWorker({ onMeasure: async (i) => (i.scenario === 'l3l4_policy' && i.round === 3 ? holdUntilCancelled() : undefined) }, async (start) => {
      const h = await start(input({ ROUNDS: '3', NETBENCH_SKIP: `${ONLY_OVERHEADS},hubble` }));
      await eventually(async () => (await h.query(progressQuery)).scenario?.includes('round 3/3') && (await h.query(progressQuery)).scenario?.includes('L3/L4'), 30_000, 'l3l4_policy round 3 running');
      await h.cancel();
      await assert.rejects(h.result(), (e: unknown) => e instanceof WorkflowFailedError);
    });
    assert.deepEqual(sequence(calls), ['ciliumEndpoints', ...rounds('no_policy', 3), 'applyPolicy:l3l4', 'policyVerdict:l3l4', ...rounds('l3l4_policy', 3), 'deletePolicy:l3l4']);
  });
});
