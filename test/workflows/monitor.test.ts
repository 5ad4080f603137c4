/**
 * The resource monitor's failures are recorded, its normal end is not: on a
 * REAL Temporal dev server with activities STUBBED, a monitor that cannot
 * sample during one phase shows up in the run's failures (results, summary,
 * report.md) as "resource sampling during <phase>" with its reason; a
 * monitor ended by the phase's own cancel leaves no failure.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchmarkRun } from '../../src/workflows/benchmark';
import { buildSummary } from '../../src/domain/summary';
import { renderReportMarkdown } from '../../src/report/markdown';
import type { RunResults } from '../../src/domain/results';
import type { Activities } from '../../src/activities';
import { startTemporal } from '../support/temporal';
import { stubActivities } from '../support/stub-activities';
import { testOptions, workflowBundle } from '../support/workflows';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTemporal();
});
after(async () => {
  await env?.teardown();
});

async function run(failIn?: string): Promise<{ result: RunResults; monitors: string[] }> {
  const taskQueue = `monitor-${randomUUID()}`;
  const s = stubActivities();
  const monitors: string[] = [];
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...s.activities,
      monitorResources: async (input: Parameters<Activities['monitorResources']>[0]) => {
        monitors.push(input.csvFile);
        // what the real monitor ends with when metrics.k8s.io keeps failing (src/activities/metrics.ts)
        if (failIn && input.csvFile.endsWith(`_${failIn}.csv`)) {
          throw ApplicationFailure.nonRetryable('3 samples in a row failed (0 taken), last: HTTP 503 ServiceUnavailable: the server is currently unable to handle the request', 'ResourceSamplingFailed');
        }
        return s.activities.monitorResources(input);
      },
    },
    shutdownGraceTime: '1s',
  });
  const result = await worker.runUntil(
    env.client.workflow.execute(benchmarkRun, {
      taskQueue,
      workflowId: `monitor-${randomUUID()}`,
      args: [{ options: testOptions({ NETBENCH_SKIP: 'latency,service-scale,metrics' }), outputDir: '/tmp/netbench-test-unused', contextName: 'stub-cluster' }],
    }),
  );
  return { result, monitors };
}

describe('the resource monitor (stub activities, real Temporal server)', () => {
  it('a monitor that cannot sample during RPS is recorded with its reason; the run completes; the throughput monitor, ended by its cancel, is not', { timeout: 60_000 }, async () => {
    const { result, monitors } = await run('rps');
    assert.equal(monitors.length, 2, 'a monitor ran in throughput and in RPS');
    assert.equal(result.status, 'completed');
    assert.equal(result.phases.find((p) => p.phase === 'rps')?.status, 'done', 'the phase measured on');
    assert.deepEqual(result.component?.failures.map((f) => f.what), ['resource sampling during rps']);
    assert.match(result.component!.failures[0].reason, /3 samples in a row failed .*HTTP 503/);
    const summary = buildSummary(result) as { netbench: { failures: { scenario: string; reason: string }[] } };
    assert.ok(summary.netbench.failures.some((f) => f.scenario === 'resource sampling during rps' && /HTTP 503/.test(f.reason)), 'in benchmark-summary.json');
    assert.match(renderReportMarkdown(result, summary).markdown, /resource sampling during rps \|[^\n]*HTTP 503/, 'in report.md');
  });

  it('monitors ended by their own cancel leave no failure', { timeout: 60_000 }, async () => {
    const { result, monitors } = await run();
    assert.equal(monitors.length, 2);
    assert.equal(result.status, 'completed');
    assert.equal(result.component?.failures.length ?? 0, 0);
  });
});
