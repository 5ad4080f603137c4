/**
 * The resource monitor (monitorResources, src/activities/metrics.ts) against
 * an apiserver that refuses every connection: it skips a failed sample, and
 * MONITOR_MAX_MISSED failed in a row end it with a non-retryable failure
 * naming the reason (the run records it); cancelled by its phase, it ends
 * quietly. The real activity in the SDK's activity harness.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { makeMetricsActivities, MONITOR_MAX_MISSED } from '../../src/activities/metrics';
import { kubeConfigAt, refusedPort } from '../support/stalled-apiserver';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-monitor-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const harness = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

describe('the resource monitor (real activity, an apiserver that refuses connections)', () => {
  it(`${MONITOR_MAX_MISSED} failed samples in a row end it with the reason, not retried`, async () => {
    const m = makeMetricsActivities({ kubeConfig: kubeConfigAt(await refusedPort()) });
    const csvFile = path.join(dir, 'resources', 'kubeproxy_rps.csv');
    const err = await harness()
      .run(m.monitorResources, { labelSelector: 'k8s-app=kube-proxy', csvFile, intervalSec: 0.05 })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ApplicationFailure, `got ${String(err)}`);
    assert.equal(err.type, 'ResourceSamplingFailed');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, new RegExp(`^${MONITOR_MAX_MISSED} samples in a row failed \\(0 taken\\), last: .*ECONNREFUSED`));
    assert.equal(readFileSync(csvFile, 'utf8'), 'timestamp,pod,cpu_millicores,memory_mib\n', 'the CSV keeps its header, no made-up rows');
  });

  it('cancelled by its phase before that, it ends quietly with what it sampled', async () => {
    const m = makeMetricsActivities({ kubeConfig: kubeConfigAt(await refusedPort()) });
    const env = harness();
    const running = env.run(m.monitorResources, { labelSelector: 'k8s-app=kube-proxy', csvFile: path.join(dir, 'resources', 'kubeproxy_throughput.csv'), intervalSec: 5 });
    setTimeout(() => env.cancel(), 300);
    assert.deepEqual(await running, { samples: 0 });
  });
});
