/**
 * Activities stay visibly alive and end as cancelled when the run cancels
 * them (src/activities/liveness.ts). The real activities of
 * createActivities() talk to an apiserver that accepts connections and never
 * answers (a stall, as the fault proxy makes one): every one that does not
 * heartbeat by itself is kept alive; a tool run whose exec is aborted by the
 * cancellation ends as Temporal's CancelledFailure, while an exec that fails
 * for a real reason (nothing listening) stays a failure. Runs in the SDK's
 * activity harness (a real Context: heartbeats, cancellation), no worker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, HEARTBEAT_BY_THEMSELVES, type Activities } from '../../src/activities';
import { heartbeatWhile, KEEP_ALIVE_MS } from '../../src/activities/liveness';
import { makeKubeClients, type KubeClients } from '../../src/kube/client';
import type { Targets } from '../../src/domain/scenarios';
import { kubeConfigAt, refusedPort, startStalledApiserver, type StalledApiserver } from '../support/stalled-apiserver';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-liveness-'));
let stalled: StalledApiserver;
let release: () => void = () => undefined;
const released = new Promise<void>((r) => (release = r));
let kube: KubeClients | undefined;

before(async () => {
  stalled = await startStalledApiserver();
});
after(async () => {
  release();
  await stalled.close();
  await kube?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The SDK's activity harness, logging errors only (the stalled calls fail when the test ends). */
const harness = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const targets: Targets = { serverNodeIp: '10.240.0.1', iperfServerPodIp: '10.244.1.2', iperfServiceIp: '10.96.0.10', fortioServerPodIp: '10.244.1.3', fortioServiceIp: '10.96.0.11', netperfServerPodIp: '10.244.1.4' };

type KeptAlive = Exclude<keyof Activities, (typeof HEARTBEAT_BY_THEMSELVES)[number]>;
/** An input for every kept-alive activity (a new activity fails the type check here until it has one); null: it makes no cluster call that could stall. */
const INPUTS: Record<KeptAlive, unknown[] | null> = {
  inspectCluster: [{ contextName: 'stalled', outputDir: dir }],
  getLbMapMax: [],
  claimNamespaces: [{ workloads: 'netbench', services: 'netbench-svc', useExisting: false }],
  applyPolicy: [{ ns: 'netbench', kind: 'l3l4' }],
  deletePolicy: [{ ns: 'netbench', kind: 'l3l4' }],
  patchLbMapMax: [{ value: 131072 }],
  countRules: [{ proxyMode: 'iptables', outputDir: dir, svcCount: 100 }],
  collectComponentMetrics: [{ proxyMode: 'cilium', outputDir: dir }],
  countDummyServices: [{ namespace: 'netbench-svc' }],
  ciliumEndpoints: [{ ns: 'netbench', pods: ['fortio-server', 'fortio-client'] }],
  policyVerdict: [{ ns: 'netbench', kind: 'l3l4', node: 'worker-1', since: '2026-12-02T00:00:00Z' }],
  loadResumable: [{ workflowId: 'earlier-run' }],
  findBaseline: [{ cluster: 'c', planKey: 'p', currentWorkflowId: 'this-run' }],
  writeReport: null,
  writeComparison: null,
};

describe('activity liveness', () => {
  it('heartbeatWhile beats on its interval while the work runs, and stops when it ends', async () => {
    const env = harness();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await env.run(() => heartbeatWhile(() => new Promise((r) => setTimeout(r, 260)), () => ({ step: 1 }), 50));
    assert.ok(beats >= 4 && beats <= 5, `about 260/50 beats, got ${beats}`);
    const at = beats;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(beats, at, 'no beat after the work ended');
  });

  it(`every activity that does not heartbeat by itself beats within ${KEEP_ALIVE_MS / 1000} s while its cluster call stalls`, { timeout: 60_000 }, async () => {
    const kc = stalled.kubeConfig;
    kube = makeKubeClients({ kubeConfig: kc });
    const acts = createActivities({
      kubeConfig: kc,
      kube,
      temporal: async () => {
        await released; // a Temporal that never answers, like the stalled apiserver
        throw new Error('test over');
      },
    }) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const names = Object.keys(INPUTS).filter((n) => INPUTS[n as KeptAlive] !== null) as KeptAlive[];
    const beat = await Promise.all(
      names.map(
        (name) =>
          new Promise<string>((resolve, reject) => {
            const env = harness();
            const t = setTimeout(() => reject(new Error(`${name} did not heartbeat within ${KEEP_ALIVE_MS + 3000} ms while its call stalled`)), KEEP_ALIVE_MS + 3000);
            env.once('heartbeat', () => {
              clearTimeout(t);
              resolve(name);
            });
            env.run(acts[name], ...INPUTS[name]!).catch(() => undefined);
          }),
      ),
    );
    assert.deepEqual(beat.sort(), [...names].sort());
  });

  it('a tool run whose exec is aborted by the cancellation ends as CancelledFailure; an exec that fails for a real reason stays a failure', { timeout: 60_000 }, async () => {
    const input = { outputDir: dir, ns: 'netbench', scenario: 'pod2pod_single', round: 1, targets, seconds: 1, execTimeoutSec: 30 };
    // Exec stalls at the handshake; the run cancels the activity 1 s in.
    const stalledActs = createActivities({ kubeConfig: stalled.kubeConfig, kube: kube! });
    const env = harness();
    const running = env.run(stalledActs.measure, input);
    setTimeout(() => env.cancel(), 1000);
    const cancelled = await running.then(() => undefined, (e: unknown) => e);
    assert.ok(cancelled instanceof CancelledFailure, `cancelled: got ${String(cancelled)}`);

    // Nothing listens: the exec fails to connect, a real failure, not a cancellation.
    const refusedActs = createActivities({ kubeConfig: kubeConfigAt(await refusedPort()), kube: kube! });
    const failed = await harness().run(refusedActs.measure, input).then(() => undefined, (e: unknown) => e);
    assert.ok(failed instanceof Error && !(failed instanceof CancelledFailure), `failed: got ${String(failed)}`);
    assert.match((failed as Error).message, /could not open the exec stream|ECONNREFUSED/);
  });
});
