/**
 * Configuration: the reference's names and defaults, flags over env, and bad
 * input rejected with exit 2 and one message naming every bad field — before
 * anything talks to Temporal or the cluster.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ConfigError, resolveConfig, safeDirName, defaultOutputDir } from '../../src/config';
import { parseRunArgs } from '../../src/cli/run-input';
import { repoRoot } from '../support/binaries';

describe('configuration', () => {
  it('has the reference run\'s defaults when nothing is set', () => {
    const c = resolveConfig({ env: {} });
    assert.equal(c.iperfDuration, 30);
    assert.equal(c.fortioDuration, 60);
    assert.equal(c.rounds, 1);
    assert.equal(c.roundSleep, 30);
    assert.deepEqual(c.svcScaleSteps, [5000, 10000, 20000, 30000]);
    assert.equal(c.svcEndpoints, 4);
    assert.equal(c.svcCreateParallel, 4);
    assert.equal(c.autoFixLbMap, false);
    assert.equal(c.metricsSettleSecs, 45);
    assert.equal(c.metricsSamples, 6);
    assert.equal(c.kubectlTimeout, 180);
    assert.equal(c.netperfImage, 'networkstatic/netperf:latest');
    assert.equal(c.iperfImage, 'networkstatic/iperf3:latest');
    assert.equal(c.fortioImage, 'fortio/fortio:latest');
    assert.equal(c.ns, 'network-benchmark');
    assert.equal(c.skipCleanup, false);
    assert.equal(c.dir, undefined);
  });

  it('reads the reference\'s environment variable names; a flag wins over the environment', () => {
    const env = { IPERF_DURATION: '120', FORTIO_DURATION: '90', ROUNDS: '3', ROUND_SLEEP: '0', SVC_SCALE_STEPS: '1000, 5000,10000', SVC_ENDPOINTS: '2', SVC_CREATE_PARALLEL: '8', AUTO_FIX_LB_MAP: 'true', METRICS_SETTLE_SECS: '5', METRICS_SAMPLES: '2', KUBECTL_TIMEOUT: '300', FORTIO_IMAGE: 'my/fortio:1' };
    const c = resolveConfig({ env, flags: { rounds: '5', ns: 'nb', 'skip-cleanup': true, dir: './x' } });
    assert.equal(c.iperfDuration, 120);
    assert.equal(c.rounds, 5);
    assert.deepEqual(c.svcScaleSteps, [1000, 5000, 10000]);
    assert.equal(c.autoFixLbMap, true);
    assert.equal(c.fortioImage, 'my/fortio:1');
    assert.equal(c.ns, 'nb');
    assert.equal(c.skipCleanup, true);
    assert.equal(c.dir, './x');
  });

  it('names every bad field in one error', () => {
    assert.throws(
      () => resolveConfig({ env: { ROUNDS: '0', SVC_SCALE_STEPS: '3000,1000', IPERF_DURATION: 'abc', AUTO_FIX_LB_MAP: 'maybe' }, flags: { ns: 'Bad_NS' } }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const m = e.message;
        assert.match(m, /ROUNDS="0": must be at least 1/);
        assert.match(m, /SVC_SCALE_STEPS="3000,1000": .*strictly ascend/);
        assert.match(m, /IPERF_DURATION="abc": must be a whole number/);
        assert.match(m, /AUTO_FIX_LB_MAP="maybe": must be true or false/);
        assert.match(m, /--ns="Bad_NS": must be a DNS label/);
        assert.equal(e.problems.length, 5);
        return true;
      },
    );
  });

  it('rejects an exec timeout shorter than a tool run', () => {
    assert.throws(() => resolveConfig({ env: { KUBECTL_TIMEOUT: '30', FORTIO_DURATION: '60' } }), /KUBECTL_TIMEOUT=30: must exceed the longest tool run/);
  });

  it('reports unknown flags and missing values together with bad values', () => {
    assert.throws(
      () => parseRunArgs(['--rounds', '0', '--no-such-flag', '--dir'], {}),
      (e: unknown) => {
        const p = (e as ConfigError).problems;
        assert.ok(p.includes('unknown flag --no-such-flag'), p.join('|'));
        assert.ok(p.includes('--dir needs a value'), p.join('|'));
        assert.ok(p.some((x) => x.startsWith('--rounds="0"')), p.join('|'));
        return true;
      },
    );
  });

  it('derives the output directory from the context like the reference', () => {
    assert.equal(safeDirName('arn:aws:eks:us-east-1:123:cluster/prod'), 'arn-aws-eks-us-east-1-123-cluster-prod');
    assert.equal(safeDirName('--weird  name--'), 'weird-name');
    assert.equal(safeDirName('集群'), 'cluster');
    assert.equal(defaultOutputDir('kind-a'), './benchmark-results-kind-a');
  });

  it('`netbench run` with bad input exits 2 with every problem, and contacts neither Temporal nor the cluster', async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const r = spawnSync(path.join(repoRoot, 'bin/netbench'), ['run', '--unknown-flag'], {
      env: { ...process.env, ROUNDS: '0', SVC_SCALE_STEPS: '3000,1000', IPERF_DURATION: 'abc', TEMPORAL_ADDRESS: `127.0.0.1:${port}`, KUBECONFIG: '/nonexistent/kubeconfig' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    server.close();
    assert.equal(r.status, 2, r.stderr);
    for (const s of ['ROUNDS="0"', 'SVC_SCALE_STEPS="3000,1000"', 'IPERF_DURATION="abc"', 'unknown flag --unknown-flag']) assert.ok(r.stderr.includes(s), `${s} in: ${r.stderr}`);
    assert.equal(connections, 0, 'no connection was made to Temporal');
  });

  it('`netbench run --help` documents every parameter', () => {
    const r = spawnSync(path.join(repoRoot, 'bin/netbench'), ['run', '--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0);
    for (const env of ['IPERF_DURATION', 'FORTIO_DURATION', 'ROUNDS', 'ROUND_SLEEP', 'SVC_SCALE_STEPS', 'SVC_ENDPOINTS', 'SVC_CREATE_PARALLEL', 'AUTO_FIX_LB_MAP', 'METRICS_SETTLE_SECS', 'METRICS_SAMPLES', 'KUBECTL_TIMEOUT', 'NETPERF_IMAGE', 'IPERF_IMAGE', 'FORTIO_IMAGE']) {
      assert.ok(r.stdout.includes(`[env ${env}]`), env);
    }
    for (const f of ['--dir', '--ns', '--skip-cleanup', '--wait', '--context']) assert.ok(r.stdout.includes(f), f);
  });
});
