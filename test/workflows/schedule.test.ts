/**
 * `netbench schedule` through the real CLI against a REAL Temporal dev
 * server; the triggered run is executed by a worker with STUB activities
 * (workflow logic only): it completes and writes under a dated directory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunResults } from '../../src/domain/results';
import { startTemporal } from '../support/temporal';
import { stubActivities } from '../support/stub-activities';
import { eventually, workflowBundle } from '../support/workflows';
import { repoRoot } from '../support/binaries';

let env: TestWorkflowEnvironment;
let kubeconfig: string;
before(async () => {
  env = await startTemporal();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-sched-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  // only read for the context name; nothing connects to this server
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: sched-cluster, context: {cluster: c, user: u}}]\ncurrent-context: sched-cluster\n`);
});
after(async () => {
  await env?.teardown();
});

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(path.join(repoRoot, 'bin/netbench'), args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, KUBECONFIG: kubeconfig, ...extraEnv },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('netbench schedule (real CLI, real Temporal server, stub activities)', () => {
  it('creates a nightly schedule, triggers a run that completes under a dated directory, pauses and deletes it', async () => {
    const queue = `sched-${randomUUID()}`;
    const id = `nightly-${randomUUID().slice(0, 8)}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-sched-out-'));
    const created = cli(
      ['schedule', 'create', '--id', id, '--cron', '0 2 * * *', '--tz', 'Europe/Berlin', '--task-queue', queue, '--dir', dir, '--skip', 'throughput,latency,service-scale,metrics'],
      { ROUND_SLEEP: '0', SETTLE_FACTOR: '0', FORTIO_DURATION: '1', IPERF_DURATION: '1', KUBECTL_TIMEOUT: '30' },
    );
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /created schedule .*0 2 \* \* \* \(Europe\/Berlin\), overlap SKIP/);

    const described = cli(['schedule', 'describe', id]);
    assert.equal(described.code, 0, described.err);
    assert.match(described.out, /spec: +0 2 \* \* \* \(Europe\/Berlin\)/);
    assert.match(described.out, /overlap .*SKIP/);
    assert.match(described.out, /benchmarkRun on sched-cluster/);

    const s = stubActivities();
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: queue, workflowBundle: await workflowBundle(), activities: s.activities });
    await worker.runUntil(async () => {
      assert.equal(cli(['schedule', 'trigger', id]).code, 0);
      const runId = await eventually(async () => (await env.client.schedule.getHandle(id).describe()).info.recentActions.at(-1)?.action.workflow.workflowId, 30_000, 'a scheduled run');
      const result = (await env.client.workflow.getHandle(runId).result()) as RunResults;
      assert.equal(result.status, 'completed');
      assert.match(result.outputDir, new RegExp(`^${dir}/\\d{4}-\\d{2}-\\d{2}T\\d{6}Z$`), 'each scheduled run writes under a dated directory');
    });

    assert.equal(cli(['schedule', 'pause', id, '--note', 'maintenance']).code, 0);
    assert.match(cli(['schedule', 'describe', id]).out, /PAUSED \(maintenance\)/);
    assert.match(cli(['schedule', 'list']).out, new RegExp(`${id} .*paused`));
    assert.equal(cli(['schedule', 'unpause', id]).code, 0);
    assert.equal(cli(['schedule', 'delete', id]).code, 0);
    assert.equal(cli(['schedule', 'describe', id]).code, 2, 'gone after delete');
  });

  it('rejects a bad schedule before creating anything', () => {
    const r = cli(['schedule', 'create', '--cron', '0 2 *', '--tz', 'Mars/Olympus', '--rounds', '0']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--cron "0 2 \*": needs 5 fields/);
    assert.match(r.err, /--tz "Mars\/Olympus": not an IANA time zone/);
    assert.match(r.err, /--rounds="0"/);
  });
});
