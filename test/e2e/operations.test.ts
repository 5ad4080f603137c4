/**
 * Temporal operations on the lab, real everything: the `netbench` CLI, a
 * Temporal dev server, a `netbench worker` process and the lab's real
 * datapath. A schedule created with the CLI starts runs that complete; a run
 * on a deliberately capped datapath (`netbench lab shape`) is flagged as a
 * regression against the run before it (result, report, search attribute,
 * `netbench list --regression`); `netbench compare` prints the at-a-glance
 * table of the three runs' directories.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunResults } from '../../src/domain/results';
import { scenarioById } from '../../src/domain/scenarios';
import { SA } from '../../src/shared';
import { startTemporal } from '../support/temporal';
import { startTestLab, type TestLab } from '../support/lab';
import { eventually } from '../support/workflows';
import { repoRoot } from '../support/binaries';

const LAB = 'ops';
let env: TestWorkflowEnvironment;
let lab: TestLab;
let worker: ChildProcess | undefined;

before(async () => {
  [env, lab] = await Promise.all([startTemporal(), startTestLab(LAB)]);
});
after(async () => {
  worker?.kill('SIGKILL');
  await lab?.down();
  await env?.teardown();
});

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(path.join(repoRoot, 'bin/netbench'), args, {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, KUBECONFIG: lab.info.kubeconfigPath, ...extraEnv },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('Temporal operations on the lab (real CLI, dev server, worker process and datapath)', () => {
  it('a CLI schedule runs the lab; a capped datapath is flagged as a regression; compare prints the three runs side by side', async () => {
    const queue = `ops-${randomUUID()}`;
    const context = lab.info.context;
    worker = spawn(path.join(repoRoot, 'bin/netbench'), ['worker', '--address', env.address, '--task-queue', queue, '--context', context], {
      env: { ...process.env, KUBECONFIG: lab.info.kubeconfigPath },
      stdio: ['ignore', 'ignore', process.env.E2E_VERBOSE ? 'inherit' : 'ignore'],
    });

    const id = `nightly-${randomUUID().slice(0, 8)}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-ops-'));
    // Throughput only (iperf3 pod-to-pod, via Service, host network): the figures a bandwidth cap changes.
    const created = cli(
      ['schedule', 'create', '--id', id, '--cron', '30 2 * * *', '--tz', 'UTC', '--context', context, '--task-queue', queue, '--dir', dir, '--skip', 'rps,latency,service-scale,metrics'],
      { IPERF_DURATION: '2', FORTIO_DURATION: '2', ROUNDS: '1', ROUND_SLEEP: '0', SETTLE_FACTOR: '0', KUBECTL_TIMEOUT: '30' },
    );
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /created schedule/);

    const seen = new Set<string>();
    const triggerAndFinish = async (): Promise<{ id: string; r: RunResults }> => {
      const t = cli(['schedule', 'trigger', id]);
      assert.equal(t.code, 0, t.err);
      const runId = await eventually(
        async () => (await env.client.schedule.getHandle(id).describe()).info.recentActions.map((a) => a.action.workflow.workflowId).find((w) => !seen.has(w)),
        60_000,
        'the triggered run',
      );
      seen.add(runId);
      const r = (await env.client.workflow.getHandle(runId).result()) as RunResults;
      assert.equal(r.status, 'completed', r.failure);
      assert.match(r.outputDir, new RegExp(`^${dir}/\\d{4}-\\d{2}-\\d{2}T\\d{6}Z$`), 'a dated directory per scheduled run');
      assert.ok(existsSync(path.join(r.outputDir, 'benchmark-summary.json')));
      const failed = r.measurements.filter((m) => !m.ok);
      assert.deepEqual(failed.map((m) => `${m.scenario}: ${m.reason}`), [], 'every throughput scenario measured');
      return { id: runId, r };
    };
    // iperf3 figures in Gbit/s.
    const throughput = (r: RunResults) => r.measurements.filter((m) => m.ok && scenarioById(m.scenario).phase === 'throughput').map((m) => m.value ?? 0);

    // 1. The first scheduled run: nothing to compare with yet.
    const first = await triggerAndFinish();
    assert.equal(first.r.regression?.compared, 0);
    assert.match(first.r.regression?.reason ?? '', /no earlier completed run/);

    // 2. Cap the lab datapath at 300 Mbit/s: the next run must be flagged.
    const shaped = cli(['lab', 'shape', '--name', LAB, '--rate', '300mbit']);
    assert.equal(shaped.code, 0, shaped.err);
    assert.match(shaped.out, /capped at 300Mbit/);
    const second = await triggerAndFinish();
    const reg = second.r.regression!;
    assert.equal(reg.baselineWorkflowId, first.id, 'the baseline is the previous run of this cluster and plan');
    assert.ok(reg.compared > 0);
    assert.ok(reg.regressions.length > 0, 'the capped run is a regression');
    for (const c of reg.regressions) assert.ok(c.changePct < -10, `${c.key}: ${c.changePct}%`);
    const capped = throughput(second.r);
    assert.ok(capped.length > 0 && capped.every((v) => v < 0.35), `capped throughput figures (Gbit/s): ${capped.join(', ')}`);
    assert.match(readFileSync(path.join(second.r.outputDir, 'report.md'), 'utf8'), /[Rr]egression/);
    const desc = await env.client.workflow.getHandle(second.id).describe();
    assert.equal(desc.typedSearchAttributes.get(SA.regression), true, 'the regression search attribute is set');
    assert.notEqual((await env.client.workflow.getHandle(first.id).describe()).typedSearchAttributes.get(SA.regression), true);
    const listed = await eventually(async () => {
      const l = cli(['list', '--regression', '--cluster', context]);
      return l.code === 0 && l.out.includes(second.id) ? l.out : undefined;
    }, 30_000, 'netbench list --regression to show the capped run');
    assert.ok(!listed.includes(first.id), 'only the flagged run is listed');

    // 3. Lift the cap: a third run, then the three side by side.
    assert.equal(cli(['lab', 'shape', '--name', LAB, '--off']).code, 0);
    const third = await triggerAndFinish();
    assert.ok(throughput(third.r).some((v) => v > 1), 'full speed again without the cap');
    const out = mkdtempSync(path.join(os.tmpdir(), 'nb-ops-cmp-'));
    const cmp = cli(['compare', '--out', out, `before=${first.r.outputDir}`, `capped=${second.r.outputDir}`, `after=${third.r.outputDir}`]);
    assert.equal(cmp.code, 0, cmp.err);
    assert.match(cmp.out, /before.*capped.*after.*Winner/s);
    assert.ok(existsSync(path.join(out, 'compare.md')));
    console.log(`operations: runs ${first.id}, ${second.id} (capped), ${third.id}\n${reg.regressions.map((c) => `  regression ${c.label}: ${c.baseline} -> ${c.current} ${c.unit} (${c.changePct.toFixed(1)}%)`).join('\n')}\n${cmp.out}`);

    assert.equal(cli(['schedule', 'delete', id]).code, 0);
  });
});
