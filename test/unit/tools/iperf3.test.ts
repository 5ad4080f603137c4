// iperf3 argv + parser, exercised on output the real iperf3 produces on
// loopback during the test.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ToolOutputError } from '../../../src/tools/errors';
import { iperf3ClientArgs, iperf3ServerArgs, parseIperf3Json } from '../../../src/tools/iperf3';
import { freePort, runArgv, startProcess, type StartedProcess } from '../../support/tools';

function assertToolError(fn: () => unknown, reason: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ToolOutputError, `expected ToolOutputError, got ${String(e)}`);
    assert.equal(e.tool, 'iperf3');
    if (typeof reason === 'string') assert.equal(e.reason, reason);
    else assert.match(e.reason, reason);
    return true;
  });
}

/**
 * iperf3 serves one client at a time, and a TCP readiness probe counts as a
 * client (it made real tests fail with "Connection reset by peer" or, with
 * -1, made the server exit). So wait for its banner instead; --forceflush
 * because iperf3 buffers stdout when it is a pipe.
 */
function startIperf3Server(port: number): Promise<StartedProcess> {
  const argv = [...iperf3ServerArgs({ port, bind: '127.0.0.1' }), '--forceflush'];
  return startProcess(argv[0], argv.slice(1), { waitForOutput: /Server listening on/ });
}

describe('iperf3 argv builders', () => {
  it('builds the client argv the reference used, with and without --logfile', () => {
    assert.deepEqual(iperf3ClientArgs({ host: '10.0.0.5', port: 5201, seconds: 30, streams: 8 }), [
      'iperf3', '-c', '10.0.0.5', '-p', '5201', '-t', '30', '-P', '8', '-J',
    ]);
    assert.deepEqual(
      iperf3ClientArgs({ host: '10.0.0.5', port: 5202, seconds: 5, streams: 1, logfile: '/tmp/x.json' }).slice(-2),
      ['--logfile', '/tmp/x.json'],
    );
  });

  it('builds the server argv', () => {
    assert.deepEqual(iperf3ServerArgs({ port: 5201 }), ['iperf3', '-s', '-p', '5201']);
    assert.deepEqual(iperf3ServerArgs({ port: 5202, oneOff: true, bind: '127.0.0.1' }), [
      'iperf3', '-s', '-p', '5202', '-1', '-B', '127.0.0.1',
    ]);
  });

  it('rejects values that would break or inject into the argv', () => {
    assert.throws(() => iperf3ClientArgs({ host: '-R', port: 5201, seconds: 1, streams: 1 }));
    assert.throws(() => iperf3ClientArgs({ host: 'h', port: 0, seconds: 1, streams: 1 }));
    assert.throws(() => iperf3ClientArgs({ host: 'h', port: 5201, seconds: 1.5, streams: 1 }));
    assert.throws(() => iperf3ClientArgs({ host: 'h', port: 5201, seconds: 1, streams: 129 }));
  });
});

describe('parseIperf3Json on real iperf3 output (loopback)', () => {
  let port: number;
  let server: StartedProcess | undefined;
  let okOutput = '';
  let exitCode: number | null = null;

  before(async () => {
    port = await freePort();
    server = await startIperf3Server(port);
    const run = await runArgv(iperf3ClientArgs({ host: '127.0.0.1', port, seconds: 1, streams: 2 }), {
      timeoutMs: 15_000,
    });
    okOutput = run.stdout;
    exitCode = run.code;
  });
  after(async () => {
    await server?.stop();
  });

  it('reads received throughput, streams and duration of a 2-stream, 1 s TCP test', () => {
    assert.equal(exitCode, 0);
    const r = parseIperf3Json(okOutput);
    assert.equal(r.streams, 2);
    assert.equal(r.requestedSeconds, 1);
    assert.ok(r.seconds > 0.9 && r.seconds < 2, `seconds ${r.seconds}`);
    assert.ok(r.bitsPerSecond > 1e6, `loopback should carry more than 1 Mbit/s, got ${r.bitsPerSecond}`);
    assert.ok(r.sentBitsPerSecond > 0);
    assert.ok(r.bytesReceived > 0);
    // gbps is the reference's figure: received bits/s ÷ 1e9, 2 decimals.
    assert.equal(r.gbps, Math.round((r.bitsPerSecond / 1e9) * 100) / 100);
    // Linux reports retransmits for TCP senders.
    assert.equal(typeof r.retransmits, 'number');
  });

  it('matches the figure the document itself holds (end.sum_received)', () => {
    const doc = JSON.parse(okOutput) as { end: { sum_received: { bits_per_second: number } } };
    assert.equal(parseIperf3Json(okOutput).bitsPerSecond, doc.end.sum_received.bits_per_second);
  });

  it('reports "truncated JSON" for real output cut in half', () => {
    assertToolError(() => parseIperf3Json(okOutput.slice(0, Math.floor(okOutput.length / 2))), 'truncated JSON');
  });

  it('reports "empty output" for nothing at all', () => {
    assertToolError(() => parseIperf3Json(''), 'empty output');
    assertToolError(() => parseIperf3Json(' \n'), 'empty output');
  });

  it('reports iperf3\'s own error when no server listens — although iperf3 -J exits 0', async () => {
    const closed = await freePort();
    const run = await runArgv(iperf3ClientArgs({ host: '127.0.0.1', port: closed, seconds: 1, streams: 1 }), {
      timeoutMs: 10_000,
    });
    // The surprise this parser exists for: exit code 0, error only in the JSON.
    assert.equal(run.code, 0);
    assertToolError(() => parseIperf3Json(run.stdout), 'iperf3 error: unable to connect to server: Connection refused');
  });

  it('refuses a report whose server died mid-test, though it carries complete-looking totals', async () => {
    const port2 = await freePort();
    const server2 = await startIperf3Server(port2);
    try {
      const client = runArgv(iperf3ClientArgs({ host: '127.0.0.1', port: port2, seconds: 4, streams: 1 }), {
        timeoutMs: 15_000,
      });
      await new Promise((r) => setTimeout(r, 1200));
      await server2.stop();
      const run = await client;
      assert.equal(run.code, 0);
      // iperf3 usually still fills end.sum_received (for ~1 s of a 4 s test),
      // which the reference would have reported as the run's throughput.
      // iperf3's words depend on the moment of death: "the server has
      // terminated", "unable to write to stream socket: Connection reset by peer"…
      assertToolError(() => parseIperf3Json(run.stdout), /^iperf3 error: (the server has terminated|unable to \w+ .*: Connection reset by peer|control socket has closed unexpectedly)$/);
    } finally {
      await server2.stop();
    }
  });

  it('reports a shape mismatch for JSON that is not an iperf3 report', () => {
    assertToolError(() => parseIperf3Json('{"start":{}}'), /^unexpected JSON shape at start\.test_start/);
    assertToolError(() => parseIperf3Json('not json'), /^no JSON: not json/);
  });
});

describe('iperf3 --logfile (the reference writes the JSON to a file in the pod)', () => {
  it('leaves stdout empty, so the file is what must be parsed', async () => {
    const port = await freePort();
    const server = await startIperf3Server(port);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'nbtest-iperf3-'));
      try {
        const logfile = join(dir, 'out.json');
        const run = await runArgv(iperf3ClientArgs({ host: '127.0.0.1', port, seconds: 1, streams: 1, logfile }), {
          timeoutMs: 15_000,
        });
        assert.equal(run.stdout, '');
        assertToolError(() => parseIperf3Json(run.stdout), 'empty output');
        const r = parseIperf3Json(readFileSync(logfile, 'utf8'));
        assert.equal(r.streams, 1);
        assert.ok(r.bitsPerSecond > 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      await server.stop();
    }
  });
});
