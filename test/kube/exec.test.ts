/**
 * execInPod against the lab: real apiserver, real exec websocket, real
 * tools run by kwok in the lab's network namespace.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ExecAbortedError,
  ExecCommandError,
  ExecStreamError,
  ExecTimeoutError,
  execInPod,
  exitCodeOf,
  type ExecInPodOptions,
} from '../../src/kube/exec';
import { labUp } from '../../lab/lab';
import { createPinnedPod, ensureNamespace, netnsCommands, startTestLab, waitPodReady, type TestLab } from '../support/lab';

const NS = 'exec-test';
const LAB = 'texec';

describe('execInPod (on the lab)', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let serverIP: string;
  let tmp: string;
  const exec = (o: Omit<ExecInPodOptions, 'kubeConfig' | 'namespace' | 'pod'> & { pod?: string; namespace?: string }) =>
    execInPod({ kubeConfig: lab.kubeConfig, namespace: NS, pod: 'iperf-client', ...o });

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'nb-exec-'));
    lab = await startTestLab(LAB);
    await ensureNamespace(lab.core, NS);
    const [server, client] = lab.info.nodes;
    await createPinnedPod(lab.core, { namespace: NS, name: 'iperf-server', node: server.name, command: ['iperf3', '-s'] });
    await createPinnedPod(lab.core, { namespace: NS, name: 'iperf-client', node: client.name });
    serverIP = (await waitPodReady(lab.core, NS, 'iperf-server')).status!.podIP!;
    await waitPodReady(lab.core, NS, 'iperf-client');
  });

  after(async () => {
    await lab?.down();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('returns stdout, stderr and exit code 0 of a command', async () => {
    const r = await exec({ command: ['sh', '-c', 'echo out; echo err >&2'], timeoutMs: 10_000 });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.ok(r.durationMs > 0 && r.durationMs < 10_000);
  });

  it('runs a real iperf3 client against the iperf-server pod IP (JSON parses)', async () => {
    assert.match(serverIP, /^10\.244\.1\.\d+$/, 'server pod IP from worker-1 podCIDR');
    const r = await exec({ command: ['iperf3', '-c', serverIP, '-p', '5201', '-t', '1', '-J'], timeoutMs: 30_000 });
    const report = JSON.parse(r.stdout);
    assert.equal(report.start.connected[0].remote_host, serverIP);
    assert.ok(report.end.sum_received.bits_per_second > 0);
  });

  it('streams stdout to a file and caps what it keeps', async () => {
    const file = path.join(tmp, 'iperf.json');
    const r = await exec({ command: ['iperf3', '-c', serverIP, '-p', '5201', '-t', '1', '-J'], timeoutMs: 30_000, stdoutFile: file });
    assert.equal(r.stdout, '');
    const text = readFileSync(file, 'utf8');
    assert.equal(text.length, r.stdoutBytes);
    assert.ok(JSON.parse(text).end.sum_sent.bytes > 0);

    const capped = await exec({ command: ['sh', '-c', 'head -c 200000 /dev/zero | tr "\\0" x'], timeoutMs: 10_000, maxStdoutBytes: 1000 });
    assert.equal(capped.stdout.length, 1000);
    assert.equal(capped.stdoutBytes, 200_000);
    assert.equal(capped.stdoutTruncated, true);
  });

  it('throws ExecCommandError with the exit code and the stderr tail', async () => {
    await assert.rejects(exec({ command: ['sh', '-c', 'echo boom >&2; exit 3'], timeoutMs: 10_000 }), (err) => {
      assert.ok(err instanceof ExecCommandError);
      assert.equal(err.exitCode, 3);
      assert.equal(err.stderrTail, 'boom\n');
      assert.equal(err.retryable, false);
      return true;
    });
    const r = await exec({ command: ['sh', '-c', 'exit 4'], timeoutMs: 10_000, allowNonZeroExit: true });
    assert.equal(r.exitCode, 4);
  });

  it('reports an executable that does not exist as a failed command', async () => {
    await assert.rejects(exec({ command: ['no-such-tool-here'], timeoutMs: 10_000 }), (err) => {
      assert.ok(err instanceof ExecCommandError);
      assert.equal(err.exitCode, -1);
      assert.match(err.message, /not found/);
      return true;
    });
  });

  it('refuses a pod that does not exist, not retryable', async () => {
    await assert.rejects(exec({ pod: 'no-such-pod', command: ['true'], timeoutMs: 10_000 }), (err) => {
      assert.ok(err instanceof ExecStreamError);
      assert.equal(err.detail.phase, 'connect');
      assert.equal(err.detail.httpStatus, 404);
      assert.equal(err.retryable, false);
      return true;
    });
  });

  it('times out: ExecTimeoutError soon after timeoutMs', async () => {
    const t0 = Date.now();
    await assert.rejects(exec({ command: ['sleep', '20'], timeoutMs: 1_000 }), (err) => {
      assert.ok(err instanceof ExecTimeoutError);
      assert.equal(err.retryable, true);
      return true;
    });
    assert.ok(Date.now() - t0 < 3_000, `took ${Date.now() - t0} ms`);
  });

  it('aborts: ExecAbortedError, also for a signal aborted before the call', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const t0 = Date.now();
    await assert.rejects(exec({ command: ['sleep', '20'], timeoutMs: 30_000, signal: ac.signal }), ExecAbortedError);
    assert.ok(Date.now() - t0 < 2_500);
    await assert.rejects(exec({ command: ['true'], timeoutMs: 30_000, signal: ac.signal }), ExecAbortedError);
  });

  it('after an abort the remote tool stops at its next write; a silent one runs to its own end', async () => {
    // This is kwok's (and a kubelet's) behaviour, not ours: closing the exec
    // stream does not kill the process. Callers bound tool durations.
    const chatty = new AbortController();
    const p1 = exec({ command: ['sh', '-c', 'while :; do echo chatty-tick; sleep 0.1; done'], timeoutMs: 30_000, signal: chatty.signal });
    await sleep(700);
    chatty.abort();
    await assert.rejects(p1, ExecAbortedError);

    const silent = new AbortController();
    const p2 = exec({ command: ['sleep', '4.5'], timeoutMs: 30_000, signal: silent.signal });
    await sleep(700);
    silent.abort();
    await assert.rejects(p2, ExecAbortedError);

    await sleep(1_500);
    const running = netnsCommands(lab.info.netns);
    assert.ok(!running.some((c) => c.includes('chatty-tick')), 'chatty loop gone');
    assert.ok(running.some((c) => c === 'sleep 4.5'), 'silent sleep still running');
    await sleep(4_500);
    assert.ok(!netnsCommands(lab.info.netns).some((c) => c === 'sleep 4.5'), 'silent sleep ended by itself');
  });

  it('a dropped connection (close 1006) is a retryable ExecStreamError', async () => {
    const pidFile = path.join(lab.info.stateDir, 'pids', 'bridge-host.pid');
    const p = exec({ command: ['sh', '-c', 'echo started; sleep 5'], timeoutMs: 30_000 });
    await sleep(800);
    // Cut the only road to the apiserver mid-stream: the bridge process.
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    await assert.rejects(p, (err) => {
      assert.ok(err instanceof ExecStreamError, String(err));
      assert.equal(err.detail.phase, 'stream');
      assert.equal(err.detail.closeCode, 1006);
      assert.equal(err.retryable, true);
      return true;
    });
    await labUp({ name: LAB }); // idempotent: restarts just the bridge
    const r = await exec({ command: ['echo', 'back'], timeoutMs: 10_000 });
    assert.equal(r.stdout, 'back\n');
  });

  it('reads exit codes from kubelet-style causes and from kwok-style messages', () => {
    assert.equal(exitCodeOf({ status: 'Success' }), 0);
    assert.equal(
      exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } }),
      42,
    );
    assert.equal(exitCodeOf({ status: 'Failure', message: 'error executing command in container: cmd wait: x: exit status 7' }), 7);
    assert.equal(exitCodeOf({ status: 'Failure', message: 'cmd wait: x: signal: killed' }), 137);
    assert.equal(exitCodeOf({ status: 'Failure', message: 'something else' }), -1);
  });
});
