// fortio argv and JSON parser, exercised on results the real
// fortio (built by scripts/setup.sh) produces on loopback during the test:
// one `fortio server` on 127.0.0.1 is both the echo target and the REST API.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ToolOutputError } from '../../../src/tools/errors';
import { fortioLoadArgs, fortioServerArgs, parseFortioJson } from '../../../src/tools/fortio';
import { fortioBinary, freePort, runProcess, startProcess, type StartedProcess } from '../../support/tools';

function assertToolError(fn: () => unknown, reason: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ToolOutputError, `expected ToolOutputError, got ${String(e)}`);
    assert.equal(e.tool, 'fortio');
    if (typeof reason === 'string') assert.equal(e.reason, reason);
    else assert.match(e.reason, reason);
    return true;
  });
}

describe('fortio argv builders', () => {
  it('builds `fortio load` for keepalive and short connections', () => {
    const url = 'http://10.96.0.10:8080/echo?size=512';
    assert.deepEqual(fortioLoadArgs({ url, qps: 0, connections: 64, seconds: 60, keepalive: true, json: true }), [
      'fortio', 'load', '-quiet', '-qps', '0', '-c', '64', '-t', '60s', '-json', '-', url,
    ]);
    assert.deepEqual(fortioLoadArgs({ url, qps: 1000, connections: 16, seconds: 5, keepalive: false, quiet: false }), [
      'fortio', 'load', '-qps', '1000', '-c', '16', '-t', '5s', '-keepalive=false', '-json', '-', url,
    ]);
  });

  it('builds `fortio server` as the reference\'s client pod runs it', () => {
    assert.deepEqual(fortioServerArgs({ httpPort: 9999, httpOnly: true }), [
      'fortio', 'server', '-http-port', '9999', '-grpc-port', 'disabled', '-tcp-port', 'disabled',
      '-udp-port', 'disabled', '-redirect-port', 'disabled',
    ]);
    assert.deepEqual(fortioServerArgs({ httpPort: 8080 }), ['fortio', 'server', '-http-port', '8080']);
    assert.deepEqual(fortioServerArgs(), ['fortio', 'server'], 'the server pod: fortio\'s defaults');
  });

  it('rejects bad input', () => {
    assert.throws(() => fortioLoadArgs({ url: '-h', qps: 0, connections: 1, seconds: 1, keepalive: true }));
    assert.throws(() => fortioLoadArgs({ url: 'http://x/', qps: -1, connections: 1, seconds: 1, keepalive: true }));
    assert.throws(() => fortioLoadArgs({ url: 'http://x/', qps: 0, connections: 0, seconds: 1, keepalive: true }));
  });
});

const fortio = fortioBinary();

/** A load run through a fortio server's REST API (how the reference ran keepalive tests): its result is JSON the parser reads too. */
const restRun = (q: Record<string, string>) => `/fortio/rest/run?${Object.entries({ ...q, json: 'on' }).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;

describe('parseFortioJson on real fortio results (loopback)', { skip: fortio ? false : 'fortio binary not built yet (scripts/setup.sh builds it into ~/.cache/netbench/fortio-*/bin)' }, () => {
  let port: number;
  let server: StartedProcess | undefined;
  const bin = fortio ?? 'fortio';

  /** Runs the builder's argv with the real binary. */
  function load(argv: string[]) {
    return runProcess(bin, argv.slice(1), { timeoutMs: 20_000 });
  }
  async function rest(path: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(20_000) });
    return res.text();
  }

  before(async () => {
    port = await freePort();
    server = await startProcess(bin, fortioServerArgs({ httpPort: `127.0.0.1:${port}`, httpOnly: true }).slice(1), {
      waitForPort: port,
      timeoutMs: 10_000,
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('reads QPS, latency percentiles and return codes of a keepalive run at max QPS', async () => {
    const url = `http://127.0.0.1:${port}/echo?size=512`;
    const run = await load(fortioLoadArgs({ url, qps: 0, connections: 4, seconds: 1, keepalive: true, json: true }));
    assert.equal(run.code, 0, run.stderr);
    const r = parseFortioJson(run.stdout, { stderr: run.stderr });
    assert.ok(r.actualQps > 100, `loopback echo should exceed 100 QPS, got ${r.actualQps}`);
    assert.equal(r.requestedQps, 0);
    assert.equal(r.connections, 4);
    assert.ok(r.durationSec >= 0.9 && r.durationSec < 3, `duration ${r.durationSec}`);
    assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p90Ms && r.p90Ms <= r.p99Ms, JSON.stringify(r));
    assert.ok(r.p999Ms !== undefined && r.p999Ms >= r.p99Ms);
    assert.deepEqual(r.retCodes, { '200': r.count });
    assert.equal(r.okCount, r.count);
    assert.equal(r.errorCount, 0);
    assert.equal(r.okQps, r.actualQps);
    // Keepalive: one connection per thread for the whole run.
    assert.equal(r.socketCount, 4);
    // Figures straight from the document (p99 in seconds → ms).
    const doc = JSON.parse(run.stdout) as { ActualQPS: number; DurationHistogram: { Percentiles: Array<{ Percentile: number; Value: number }> } };
    assert.equal(r.actualQps, doc.ActualQPS);
    const p99 = doc.DurationHistogram.Percentiles.find((p) => p.Percentile === 99)?.Value ?? NaN;
    assert.ok(Math.abs(r.p99Ms - p99 * 1000) < 0.001);
  });

  it('opens a connection per request with keepalive=false', async () => {
    const url = `http://127.0.0.1:${port}/echo?size=512`;
    const run = await load(fortioLoadArgs({ url, qps: 200, connections: 2, seconds: 1, keepalive: false }));
    assert.equal(run.code, 0, run.stderr);
    const r = parseFortioJson(run.stdout);
    assert.equal(r.requestedQps, 200);
    assert.ok(r.actualQps > 100 && r.actualQps < 250, `actual ${r.actualQps}`);
    assert.ok((r.socketCount ?? 0) >= r.count - 2, `sockets ${r.socketCount} for ${r.count} requests`);
  });

  it('reports "truncated JSON" for real output cut in half', async () => {
    const url = `http://127.0.0.1:${port}/echo?size=64`;
    const run = await load(fortioLoadArgs({ url, qps: 100, connections: 1, seconds: 1, keepalive: true }));
    assert.equal(run.code, 0, run.stderr);
    assertToolError(() => parseFortioJson(run.stdout.slice(0, Math.floor(run.stdout.length / 2))), 'truncated JSON');
  });

  it('names an unreachable server: `fortio load` aborts in warm-up (exit 1, nothing on stdout)', async () => {
    const closed = await freePort();
    const run = await load(fortioLoadArgs({ url: `http://127.0.0.1:${closed}/echo`, qps: 0, connections: 2, seconds: 1, keepalive: true }));
    assert.equal(run.code, 1);
    assert.equal(run.stdout.trim(), '');
    assertToolError(() => parseFortioJson(run.stdout, { stderr: run.stderr }), 'server unreachable: connect: connection refused');
    // Without fortio's log lines, the abort line itself is the reason.
    const abortOnly = run.stderr.split('\n').filter((l) => l.startsWith('Aborting')).join('\n');
    assertToolError(() => parseFortioJson('', { stderr: abortOnly }), /^server unreachable: error -1 for http:\/\/127\.0\.0\.1:\d+\/echo/);
    assertToolError(() => parseFortioJson(run.stdout), 'empty output');
  });

  it('refuses the REST result for an unreachable target (only socket errors, yet an ActualQPS)', async () => {
    const closed = await freePort();
    const text = await rest(restRun({ url: `http://127.0.0.1:${closed}/echo`, qps: '50', t: '1s', c: '1' }));
    const doc = JSON.parse(text) as { ActualQPS: number; RetCodes: Record<string, number> };
    // What the reference took as the run's req/s:
    assert.ok(doc.ActualQPS > 0);
    assert.deepEqual(Object.keys(doc.RetCodes), ['-1']);
    assertToolError(() => parseFortioJson(text), /^server unreachable: \d+ socket errors, no answer$/);
  });

  it('refuses a run where every request got an HTTP error, and counts partial errors', async () => {
    const all = `http://127.0.0.1:${port}/echo?status=503`;
    const run = await load(fortioLoadArgs({ url: all, qps: 100, connections: 1, seconds: 1, keepalive: true }).toSpliced(2, 0, '-allow-initial-errors'));
    assert.equal(run.code, 0, run.stderr);
    assertToolError(() => parseFortioJson(run.stdout), /^all requests failed: HTTP 503×\d+$/);

    const half = `http://127.0.0.1:${port}/echo?status=503:50`;
    const r = parseFortioJson(
      await rest(restRun({ url: half, qps: '200', t: '1s', c: '2' })),
    );
    assert.equal(r.okCount + r.errorCount, r.count);
    assert.equal(r.errorCount, r.retCodes['503']);
    assert.ok(r.errorPercent > 25 && r.errorPercent < 75, `errors ${r.errorPercent}%`);
    assert.ok(Math.abs(r.okQps - (r.actualQps * r.okCount) / r.count) < 1e-9);
  });
});
