/**
 * `netbench resume`: on a REAL Temporal dev server, cluster activities
 * STUBBED (no cluster), but the history activity that adopts what an
 * earlier run completed is the real one, reading the real history of a
 * real failed run. A run fails at its third scale step; the resumed run
 * measures only that step and the end-of-run metrics, and says which
 * figures came from which run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchmarkRun, type BenchmarkInput } from '../../src/workflows/benchmark';
import { makeHistoryActivities } from '../../src/activities/history';
import { ResumeRefused, startResume } from '../../src/cli/resume';
import type { RunResults } from '../../src/domain/results';
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

const fixedScenarios = (calls: StubCall[]) => calls.filter((c) => c.name === 'measure' && c.input.step === undefined).map((c) => `${c.input.scenario}#${c.input.round}`);
const stepCalls = (calls: StubCall[]) => calls.filter((c) => c.name === 'measure' && c.input.step !== undefined).map((c) => c.input.step as number);

describe('netbench resume (stub cluster activities, real history activity, real Temporal)', () => {
  it('adopts the phases and scale steps a failed run completed and measures only what is missing', async () => {
    const taskQueue = `resume-${randomUUID()}`;
    let failStep300 = true;
    const s = stubActivities({
      clusterType: 'kubeproxy-iptables',
      onCreate: async (i) => {
        if (failStep300 && i.to > 200) throw ApplicationFailure.nonRetryable('stub: the apiserver refused Service 201', 'Forbidden');
      },
    });
    const history = makeHistoryActivities({ temporal: async () => env.client });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { ...s.activities, loadResumable: history.loadResumable },
      shutdownGraceTime: '1s',
    });
    const input: BenchmarkInput = { options: testOptions({ ROUNDS: '2' }), outputDir: '/tmp/netbench-test-unused', contextName: 'stub-cluster' };
    const firstId = `first-${randomUUID()}`;

    await worker.runUntil(async () => {
      // 1. the first run fails at its third step
      const first = await env.client.workflow.start(benchmarkRun, { taskQueue, workflowId: firstId, args: [input] });
      await assert.rejects(first.result());
      const firstCalls = s.calls.splice(0);
      const measuredFirst = fixedScenarios(firstCalls);
      assert.ok(measuredFirst.length > 10, 'the first run measured the fixed phases');
      assert.deepEqual([...new Set(stepCalls(firstCalls))], [100, 200], 'and two steps');

      // 2. resumed: the same input, through the CLI's own start
      failStep300 = false;
      const second = await startResume(env.client, firstId);
      const r = (await second.result()) as RunResults;
      const calls = s.calls.splice(0);
      assert.equal(r.status, 'completed', r.failure);
      assert.deepEqual(fixedScenarios(calls), [], 'no fixed-phase figure was measured again');
      assert.ok(!calls.some((c) => c.name === 'monitorResources'), 'adopted phases ran nothing (no resource monitor)');
      assert.deepEqual([...new Set(stepCalls(calls))], [300], 'only the missing step was measured');
      // the Services the missing step needs: all of 1..300 (the earlier run's cleanup deleted steps 100 and 200's)
      const ranges = calls.filter((c) => c.name === 'createDummyServices').map((c) => [c.input.from, c.input.to]).sort((a, b) => a[0] - b[0]);
      assert.equal(ranges[0][0], 1);
      assert.equal(ranges[ranges.length - 1][1], 300);
      assert.ok(calls.some((c) => c.name === 'sampleResources'), 'end-of-run metrics are measured by the run that reports them');

      // 3. which figure came from which run
      assert.deepEqual(r.resumedFrom?.fromWorkflowId, firstId);
      assert.deepEqual(r.resumedFrom?.adoptedSteps, [100, 200]);
      assert.equal(r.resumedFrom?.adoptedMeasurements, measuredFirst.length - 1, 'every fixed-phase figure but the warm-up (never recorded)');
      assert.ok(r.measurements.every((m) => m.adoptedFrom === firstId));
      assert.deepEqual(r.scale.steps.map((st) => [st.svcCount, st.adoptedFrom]), [[100, firstId], [200, firstId], [300, undefined]]);

      // 4. a completed run has nothing to resume; the refusal comes before anything starts
      await assert.rejects(startResume(env.client, second.workflowId), (e: Error) => e instanceof ResumeRefused && /completed: nothing to resume/.test(e.message));
      await assert.rejects(startResume(env.client, 'no-such-run'), (e: Error) => e instanceof ResumeRefused && /no run with id/.test(e.message));
    });
  });
});
