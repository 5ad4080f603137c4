/**
 * compareClusters on a REAL Temporal dev server with activities STUBBED at
 * the activity boundary: each cluster's run goes to its own task queue (the
 * worker holding that cluster's credentials), a failing cluster is reported
 * with its reason while the others complete, and the comparison is written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { compareClusters } from '../../src/workflows/compare';
import { clusterTaskQueue } from '../../src/shared';
import type { ClusterType } from '../../src/domain/results';
import { startTemporal } from '../support/temporal';
import { stubActivities, type StubCall } from '../support/stub-activities';
import { testOptions, workflowBundle } from '../support/workflows';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

describe('compareClusters (stub activities, real Temporal server)', () => {
  it('runs one benchmarkRun per cluster on that cluster\'s task queue and reports each outcome', async () => {
    const queue = `cmp-${randomUUID()}`;
    const clusters: [string, ClusterType, string?][] = [
      ['cluster-a', 'kubeproxy-iptables'],
      ['cluster-b', 'cilium-native'],
      ['cluster-c', 'cilium-overlay', 'need at least 2 nodes (server and client sides must differ), found 1'],
    ];
    const calls: StubCall[] = [];
    const bundle = await workflowBundle();
    const workers = await Promise.all([
      Worker.create({ connection: env.nativeConnection, taskQueue: queue, workflowBundle: bundle, activities: stubActivities({ worker: 'parent', calls }).activities }),
      ...clusters.map(([ctx, type, fail]) =>
        Worker.create({
          connection: env.nativeConnection,
          taskQueue: clusterTaskQueue(queue, ctx),
          workflowBundle: bundle,
          activities: stubActivities({ worker: ctx, calls, clusterType: type, lbMapMax: 1_000_000, inspectFails: fail }).activities,
        }),
      ),
    ]);
    const options = testOptions({ NETBENCH_SKIP: 'throughput,latency,hubble,networkpolicy,metrics', SVC_SCALE_STEPS: '100' });
    const run = async () => {
      const h = await env.client.workflow.start(compareClusters, {
        taskQueue: queue,
        workflowId: `cmp-${randomUUID()}`,
        args: [{
          mode: 'parallel',
          outputDir: '/tmp/netbench-compare-unused',
          clusters: clusters.map(([ctx]) => ({ contextName: ctx, taskQueue: clusterTaskQueue(queue, ctx), input: { options, outputDir: `/tmp/unused/${ctx}`, contextName: ctx } })),
        }],
      });
      return { r: await h.result(), id: h.workflowId };
    };
    const running = workers.map((w) => w.run());
    let out: Awaited<ReturnType<typeof run>>;
    try {
      out = await run();
    } finally {
      workers.forEach((w) => w.shutdown());
      await Promise.allSettled(running);
    }
    const { r, id } = out;

    assert.deepEqual(r.runs.map((x) => [x.contextName, x.status]), [['cluster-a', 'completed'], ['cluster-b', 'completed'], ['cluster-c', 'failed']]);
    assert.match(r.runs[2].reason!, /need at least 2 nodes/);
    assert.equal(r.runs[0].workflowId, `${id}/cluster-a`);
    for (const [ctx] of clusters) {
      const own = calls.filter((c) => c.name === 'inspectCluster' && c.input.contextName === ctx);
      assert.equal(own.length, 1);
      assert.equal(own[0].worker, ctx, `${ctx}'s activities ran on its own worker`);
    }
    const cmp = calls.find((c) => c.name === 'writeComparison')!;
    assert.deepEqual(cmp.input.runs.map((x: { name: string }) => x.name), ['cluster-a', 'cluster-b'], 'the comparison covers the completed runs');
    assert.equal(cmp.worker, 'parent');
  });
});
