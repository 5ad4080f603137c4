/**
 * A tool run cancelled by the run's cancel is recorded as cancelled: on a
 * REAL Temporal dev server, cluster activities STUBBED except the tool run
 * itself, the real measure activity, whose exec hangs on an apiserver that
 * never answers (test/support/stalled-apiserver.ts). The run is cancelled
 * while it waits: the activity's exec is aborted by the cancellation and
 * the history says ActivityTaskCanceled, not ActivityTaskFailed; the run
 * still cleans up and writes its report.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchmarkRun } from '../../src/workflows/benchmark';
import { HEARTBEAT_BY_THEMSELVES, type Activities } from '../../src/activities';
import { makeMeasureActivities } from '../../src/activities/measure';
import { withLifecycle } from '../../src/activities/liveness';
import { startTemporal } from '../support/temporal';
import { stubActivities } from '../support/stub-activities';
import { startStalledApiserver, type StalledApiserver } from '../support/stalled-apiserver';
import { eventually, testOptions, workflowBundle } from '../support/workflows';

let env: TestWorkflowEnvironment;
let stalled: StalledApiserver;
before(async () => {
  env = await startTemporal();
  stalled = await startStalledApiserver();
});
after(async () => {
  await stalled?.close();
  await env?.teardown();
});

describe('a cancelled tool run (stub cluster activities, the real measure activity, real Temporal server)', () => {
  it('the measure activity whose exec the cancel aborted ends as ActivityTaskCanceled; the run cleans up and writes its report', { timeout: 120_000 }, async () => {
    const taskQueue = `cancel-${randomUUID()}`;
    const s = stubActivities();
    const measure = makeMeasureActivities({ kubeConfig: stalled.kubeConfig }).measure;
    let ended: () => void = () => undefined;
    const measureEnded = new Promise<void>((r) => (ended = r));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: withLifecycle<Activities>(
        {
          ...s.activities,
          measure: (i) => measure(i).finally(ended),
          // A real cleanup takes a while; here the run stays open until the tool run has answered, so its end is in the history.
          deleteNamespaces: async (i) => {
            await Promise.race([measureEnded, new Promise((r) => setTimeout(r, 60_000).unref())]);
            return s.activities.deleteNamespaces(i);
          },
        },
        HEARTBEAT_BY_THEMSELVES,
      ),
      shutdownGraceTime: '1s',
    });
    await worker.runUntil(async () => {
      const h = await env.client.workflow.start(benchmarkRun, {
        taskQueue,
        workflowId: `cancel-${randomUUID()}`,
        args: [{ options: testOptions({ NETBENCH_SKIP: 'rps,latency,service-scale,metrics' }), outputDir: '/tmp/netbench-test-unused', contextName: 'stub-cluster' }],
      });
      await eventually(async () => (await h.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'measure' && !!a.lastStartedTime) || undefined, 30_000, 'the warm-up exec to be running');
      await h.cancel();
      await assert.rejects(h.result());
      const events = (await h.fetchHistory()).events ?? [];
      const measureIds = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'measure').map((e) => String(e.eventId)));
      assert.equal(measureIds.size, 1, 'one tool run was scheduled');
      const ofMeasure = (k: 'activityTaskCanceledEventAttributes' | 'activityTaskFailedEventAttributes') => events.filter((e) => e[k] && measureIds.has(String(e[k]!.scheduledEventId)));
      assert.equal(ofMeasure('activityTaskFailedEventAttributes').length, 0, 'the cancelled tool run is not recorded as failed');
      assert.equal(ofMeasure('activityTaskCanceledEventAttributes').length, 1, 'it is recorded as cancelled');
    });
    assert.ok(s.calls.some((c) => c.name === 'deleteNamespaces'), 'the cancelled run cleaned up');
    assert.equal(s.reports.length, 1, 'and wrote its report');
    assert.equal(s.reports[0].status, 'cancelled');
  });
});
