/**
 * A dead worker is noticed within the heartbeat timeout: on a REAL Temporal
 * dev server, a worker in its own process (test/support/stub-worker.ts,
 * activities STUBBED) holds a cluster activity that never answers; it stays
 * alive past the heartbeat timeout on a live worker (the keep-alive beats
 * for it), then the process is SIGKILLed and the retry must start on a
 * second worker within ~30 s (it took 2 minutes with the old timeout and no
 * heartbeat).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchmarkRun } from '../../src/workflows/benchmark';
import { withLifecycle } from '../../src/activities/liveness';
import { HEARTBEAT_BY_THEMSELVES, type Activities } from '../../src/activities';
import { startTemporal } from '../support/temporal';
import { stubActivities } from '../support/stub-activities';
import { testOptions, workflowBundle } from '../support/workflows';
import { repoRoot } from '../support/binaries';

let env: TestWorkflowEnvironment;
let child: ChildProcess | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-dead-worker-'));
before(async () => {
  env = await startTemporal();
});
after(async () => {
  child?.kill('SIGKILL');
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

/** The child's JSON lines, one promise per awaited event. */
function events(p: ChildProcess) {
  const seen: Record<string, unknown>[] = [];
  const waiting: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  createInterface({ input: p.stdout! }).on('line', (line) => {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    seen.push(e);
    for (const w of waiting.splice(0)) (w.pred(e) ? w.resolve(e) : waiting.push(w));
  });
  return (pred: (e: Record<string, unknown>) => boolean, timeoutMs: number, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const hit = seen.find(pred);
      if (hit) return resolve(hit);
      const t = setTimeout(() => reject(new Error(`worker process: timed out waiting for ${what}`)), timeoutMs);
      waiting.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
}

describe('a dead worker (stub activities, real Temporal server, a real SIGKILL)', () => {
  it('a cluster activity held past the heartbeat timeout stays on its live worker; after SIGKILL its retry starts within 40 s', { timeout: 300_000 }, async () => {
    const taskQueue = `dead-${randomUUID()}`;
    const bundle = path.join(dir, 'workflows.js');
    writeFileSync(bundle, (await workflowBundle()).code);
    child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/support/stub-worker.ts')], {
      cwd: repoRoot,
      env: { ...process.env, NB_ADDRESS: env.address, NB_TASK_QUEUE: taskQueue, NB_HOLD: 'claimNamespaces', NB_BUNDLE: bundle },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const next = events(child);
    await next((e) => 'ready' in e, 60_000, 'the worker to poll');
    const h = await env.client.workflow.start(benchmarkRun, {
      taskQueue,
      workflowId: `dead-${randomUUID()}`,
      args: [{ options: testOptions({ NETBENCH_SKIP: 'throughput,rps,latency,service-scale,metrics' }), outputDir: '/tmp/netbench-test-unused', contextName: 'stub-cluster' }],
    });
    const held = await next((e) => e.held === 'claimNamespaces', 30_000, 'claimNamespaces to start');
    assert.equal(held.attempt, 1);
    // Longer than the heartbeat timeout: a live worker's activity must not be timed out meanwhile.
    const holdMs = 35_000;
    await sleep(holdMs);
    const desc = await h.describe();
    const pending = desc.raw.pendingActivities?.find((a) => a.activityType?.name === 'claimNamespaces');
    assert.equal(pending?.attempt ?? 1, 1, `still the first attempt after ${holdMs / 1000} s on a live worker`);

    const exited = new Promise((r) => child!.once('exit', r));
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;
    child = undefined;
    let retriedAt = 0;
    const calls = stubActivities({ worker: 'w2' });
    const claim = calls.activities.claimNamespaces;
    const second = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: withLifecycle<Activities>({
        ...calls.activities,
        claimNamespaces: async (i) => {
          retriedAt ||= Date.now();
          return claim(i);
        },
      }, HEARTBEAT_BY_THEMSELVES),
    });
    const result = await second.runUntil(h.result());
    const noticedSec = (retriedAt - killedAt) / 1000;
    console.log(`dead worker: the retry of claimNamespaces started ${noticedSec.toFixed(1)} s after the SIGKILL`);
    assert.equal(result.status, 'completed');
    assert.ok(retriedAt > 0, 'the held activity was retried on the second worker');
    assert.ok(noticedSec < 40, `a dead worker must be noticed within ~30 s, took ${noticedSec.toFixed(1)} s`);
  });
});
