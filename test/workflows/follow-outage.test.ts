/**
 * `netbench run --wait` / `watch` follow a run through a Temporal restart
 * (found by the fault campaign, bench/chaos.ts): a real dev server with its
 * database file is stopped for longer than the client's own retries last and
 * started again; follow() keeps waiting and returns the run's real end.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { devServerStart, devServerStop, portOpen } from '../../src/cli/devserver';
import { follow } from '../../src/cli/progress';

const port = 7497;
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'nb-follow-outage-'));
let connection: Connection | undefined;
after(async () => {
  await connection?.close().catch(() => undefined);
  devServerStop({ stateDir });
});

describe('following a run through a Temporal outage', () => {
  it('keeps waiting while the server is down (40 s) and returns the status the run really ended with', { timeout: 180_000 }, async () => {
    await devServerStart({ port, uiPort: port + 1000, stateDir });
    connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection });
    // A run no worker serves stays Running: what a user follows while Temporal restarts.
    const handle = await client.workflow.start('benchmarkRun', { taskQueue: 'nobody-serves-this', workflowId: `follow-outage-${Date.now()}`, args: [] });
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    let settled: string | Error | undefined;
    const followed = follow(handle, { out: out as unknown as NodeJS.WriteStream, intervalMs: 250, progress: async () => 'running' }).then(
      (s) => (settled = s),
      (e: Error) => (settled = e),
    );
    await sleep(1000);
    devServerStop({ stateDir });
    while (await portOpen(port)) await sleep(100);
    await sleep(40_000);
    assert.equal(settled, undefined, `follow() ended during the outage: ${String(settled)}`);
    await devServerStart({ port, uiPort: port + 1000, stateDir });
    await handle.terminate('test over');
    await followed;
    assert.equal(settled, 'TERMINATED');
    assert.match(text, /Temporal unreachable for \d+ s .*the run goes on in the server/);
  });
});
