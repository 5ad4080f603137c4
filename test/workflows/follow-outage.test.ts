/**
 * `netbench run --wait` / `watch` follow a run through a Temporal restart
 * (found by the fault campaign, bench/chaos.ts): a real dev server with its
 * database file is stopped for longer than the client's own retries last and
 * started again; follow(), on the CLI's own connection (connect()), keeps
 * waiting and returns the run's real end soon after Temporal is back.
 *
 * Everything the test starts ends inside it (follow() through its signal, then
 * the connections), so no retry or timer outlives the test; the dev server
 * goes in after().
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { connect, RECONNECT_BACKOFF_MAX_MS } from '../../src/cli/connect';
import { devServerStart, devServerStop, portOpen } from '../../src/cli/devserver';
import { follow } from '../../src/cli/progress';

const port = 7497;
const address = `127.0.0.1:${port}`;
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'nb-follow-outage-'));
after(() => devServerStop({ stateDir }));

describe('following a run through a Temporal outage', () => {
  it('keeps waiting while the server is down (40 s) and returns the status the run really ended with', { timeout: 180_000 }, async () => {
    await devServerStart({ port, uiPort: port + 1000, stateDir });
    const client = await connect({ address, namespace: 'default' });
    let other: Connection | undefined;
    const stop = new AbortController();
    let followed: Promise<unknown> | undefined;
    try {
      // A run no worker serves stays Running: what a user follows while Temporal restarts.
      const handle = await client.workflow.start('benchmarkRun', { taskQueue: 'nobody-serves-this', workflowId: `follow-outage-${Date.now()}`, args: [] });
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      let settled: string | Error | undefined;
      followed = follow(handle, { out: out as unknown as NodeJS.WriteStream, intervalMs: 250, progress: async () => 'running', signal: stop.signal }).then(
        (s) => (settled = s),
        (e: Error) => (settled = e),
      );
      await sleep(1000);
      devServerStop({ stateDir });
      while (await portOpen(port)) await sleep(100);
      await sleep(40_000);
      assert.equal(settled, undefined, `follow() ended during the outage: ${String(settled)}`);
      await devServerStart({ port, uiPort: port + 1000, stateDir });
      // Someone else ends the run, on a fresh connection (one that never saw the outage).
      other = await Connection.connect({ address });
      await new Client({ connection: other }).workflow.getHandle(handle.workflowId).terminate('test over');
      const terminated = Date.now();
      await followed;
      assert.equal(settled, 'TERMINATED');
      // The CLI's channel retries at least every RECONNECT_BACKOFF_MAX_MS (+20 % jitter); a describe() under way retries within 5 s.
      const noticed = Date.now() - terminated;
      assert.ok(noticed < 1.2 * RECONNECT_BACKOFF_MAX_MS + 5_000 + 2_000, `follow() noticed the run's end ${noticed} ms after Temporal was back`);
      assert.match(text, /Temporal unreachable for \d+ s .*the run goes on in the server/);
    } finally {
      stop.abort();
      await followed;
      await other?.close();
      await client.connection.close();
    }
  });
});
