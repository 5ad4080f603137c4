// netperf argv + CSV parser, exercised on output the real netperf produces
// against a netserver on loopback during the test.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ToolOutputError } from '../../../src/tools/errors';
import { NETPERF_OUTPUT_SELECTORS, netperfArgs, netserverArgs, parseNetperfCsv } from '../../../src/tools/netperf';
import { freePort, runArgv, startProcess, type StartedProcess } from '../../support/tools';

function assertToolError(fn: () => unknown, reason: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ToolOutputError, `expected ToolOutputError, got ${String(e)}`);
    assert.equal(e.tool, 'netperf');
    if (typeof reason === 'string') assert.equal(e.reason, reason);
    else assert.match(e.reason, reason);
    return true;
  });
}

describe('netperf argv builders', () => {
  it('builds the reference argv (default control port)', () => {
    assert.deepEqual(netperfArgs({ host: '10.244.1.7', test: 'TCP_RR', seconds: 60 }), [
      'netperf', '-H', '10.244.1.7', '-t', 'TCP_RR', '-l', '60', '--', '-r', '1,1',
      '-o', 'MIN_LATENCY,MEAN_LATENCY,P50_LATENCY,P90_LATENCY,P99_LATENCY,MAX_LATENCY,THROUGHPUT',
    ]);
  });

  it('puts -p before "--" (a global option, not a test option)', () => {
    const argv = netperfArgs({ host: 'h', test: 'TCP_CRR', seconds: 1, port: 12866 });
    assert.ok(argv.indexOf('-p') < argv.indexOf('--'));
    assert.deepEqual(argv.slice(0, 5), ['netperf', '-H', 'h', '-p', '12866']);
  });

  it('builds the netserver argv (foreground, as in a pod)', () => {
    assert.deepEqual(netserverArgs(), ['netserver', '-D']);
    assert.deepEqual(netserverArgs({ port: 12866, listen: '127.0.0.1' }), [
      'netserver', '-D', '-p', '12866', '-L', '127.0.0.1',
    ]);
  });

  it('rejects unknown tests and option-looking hosts', () => {
    // @ts-expect-error — not a supported test
    assert.throws(() => netperfArgs({ host: 'h', test: 'TCP_STREAM', seconds: 1 }));
    assert.throws(() => netperfArgs({ host: '-l', test: 'TCP_RR', seconds: 1 }));
  });
});

describe('parseNetperfCsv on real netperf output (loopback netserver)', () => {
  let port: number;
  let server: StartedProcess | undefined;

  before(async () => {
    port = await freePort();
    server = await startProcess('netserver', netserverArgs({ port, listen: '127.0.0.1' }).slice(1), {
      waitForPort: port,
    });
  });
  after(async () => {
    await server?.stop();
  });

  for (const test of ['TCP_RR', 'TCP_CRR'] as const) {
    it(`reads the 7 figures of a 1 s ${test} run`, async () => {
      const run = await runArgv(netperfArgs({ host: '127.0.0.1', port, test, seconds: 1 }), { timeoutMs: 10_000 });
      assert.equal(run.code, 0, run.stderr);
      const r = parseNetperfCsv(run.stdout);
      // Order of the selectors: min ≤ p50 ≤ p90 ≤ p99 ≤ max, mean within [min, max].
      assert.ok(r.minUs > 0, `min ${r.minUs}`);
      assert.ok(r.minUs <= r.p50Us && r.p50Us <= r.p90Us && r.p90Us <= r.p99Us && r.p99Us <= r.maxUs, JSON.stringify(r));
      assert.ok(r.meanUs >= r.minUs && r.meanUs <= r.maxUs, JSON.stringify(r));
      assert.ok(r.throughput > 100, `loopback ${test} should exceed 100 transactions/s, got ${r.throughput}`);
      // The figures are the last line, in selector order.
      const last = run.stdout.trim().split('\n').at(-1) ?? '';
      assert.deepEqual(last.split(',').map(Number), [r.minUs, r.meanUs, r.p50Us, r.p90Us, r.p99Us, r.maxUs, r.throughput]);
      // The header line names the selectors (sanity check of our column order).
      assert.match(run.stdout, /Minimum Latency Microseconds,Mean Latency Microseconds,50th Percentile/);
    });
  }

  it('names netperf\'s own complaint when no netserver listens (printed on stdout, exit 255)', async () => {
    const closed = await freePort();
    const run = await runArgv(netperfArgs({ host: '127.0.0.1', port: closed, test: 'TCP_RR', seconds: 1 }), {
      timeoutMs: 10_000,
    });
    assert.equal(run.code, 255);
    assertToolError(
      () => parseNetperfCsv(run.stdout + run.stderr),
      `establish control: are you sure there is a netserver listening on 127.0.0.1 at port ${closed}?`,
    );
  });

  it('reports "no CSV line" when the figures are missing or incomplete', async () => {
    // Real output with an unknown selector: netperf prints empty fields, not an error.
    const run = await runArgv(['netperf', '-H', '127.0.0.1', '-p', String(port), '-t', 'TCP_RR', '-l', '1', '--', '-r', '1,1', '-o', 'MIN_LATENCY,NO_SUCH_SELECTOR'], {
      timeoutMs: 10_000,
    });
    assert.equal(run.code, 0);
    assertToolError(() => parseNetperfCsv(run.stdout), 'no CSV line');
    assertToolError(() => parseNetperfCsv(''), 'empty output');
  });

  it('takes the LAST 7-field numeric line (as the reference did)', () => {
    const text = `header\n1,2,3,4,5,6,7\n${NETPERF_OUTPUT_SELECTORS.join(',')}\n11,14.53,12,13,44,4628,68639.33\n`;
    assert.deepEqual(parseNetperfCsv(text), {
      minUs: 11, meanUs: 14.53, p50Us: 12, p90Us: 13, p99Us: 44, maxUs: 4628, throughput: 68639.33,
    });
  });
});
