/**
 * Bad input, everywhere a user gives some: a table of cases, each with its
 * expected exit status and message. The offline cases run the CLI's own
 * entry point in this process (the dispatcher `main`, with the case's
 * environment; about 50 ms each instead of a Node start); the lab command and
 * the cases that need a Temporal server run as real `bin/netbench` processes.
 *
 * "Before anything changes": every case points Temporal and the cluster at
 * loopback sentinels that count connections; a case that must fail before
 * contacting them asserts zero connections. The cases that need a run to
 * exist (approve with nothing pending, resume of a completed run, an unknown
 * id) use a real Temporal dev server and a benchmarkRun whose activities are
 * STUBBED (no cluster), held at a known point.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { benchmarkRun } from '../../src/workflows/benchmark';
import { main } from '../../src/client';
import { repoRoot } from '../support/binaries';
import { sentinel } from '../support/sentinel';
import { startTemporal } from '../support/temporal';
import { stubActivities } from '../support/stub-activities';
import { testOptions, workflowBundle } from '../support/workflows';


/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = await sentinel();
  s.close();
  return s.port;
}

/** The CLI's entry point in this process: the case's environment, its output captured. One at a time. */
async function runInProcess(args: string[], env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  const saved = { ...process.env };
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  let out = '';
  const capture = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  Object.assign(process.env, env);
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    return { status: await main(args), out };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

function runCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(path.join(repoRoot, 'bin/netbench'), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, out });
    });
  });
}

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  status: number;
  message: RegExp;
  /** the command may reach Temporal (an unreachable one, or the test's real server) */
  contactsTemporal?: boolean;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-bad-input-'));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

/** Cases that need no Temporal and no cluster: all must fail before contacting either. */
function offlineCases(): Case[] {
  const badJson = file('bad.json', '{ "rounds": 3, ');
  const unknownKey = file('unknown.json', JSON.stringify({ rounds: 2, colour: 'blue' }));
  const run = (name: string, env: Record<string, string>, message: RegExp, args: string[] = []): Case => ({ name, args: ['run', ...args], env, status: 2, message });
  return [
    run('ROUNDS=0', { ROUNDS: '0' }, /ROUNDS="0": must be at least 1/),
    run('ROUNDS not a number', { ROUNDS: 'three' }, /ROUNDS="three": must be a whole number/),
    run('IPERF_DURATION=0', { IPERF_DURATION: '0' }, /IPERF_DURATION="0": must be at least 1/),
    run('FORTIO_DURATION too long', { FORTIO_DURATION: '4000' }, /FORTIO_DURATION="4000": must be at most 3600/),
    run('ROUND_SLEEP negative', { ROUND_SLEEP: '-5' }, /ROUND_SLEEP="-5": must be at least 0/),
    run('scale steps descending', { SVC_SCALE_STEPS: '3000,1000' }, /must strictly ascend \(3000 then 1000\)/),
    run('scale steps not numbers', { SVC_SCALE_STEPS: '1k,2k' }, /"1k" is not a positive whole number/),
    run('scale steps beyond a /16', { SVC_SCALE_STEPS: '70000' }, /at most 60000 Services/),
    run('scale step zero', { SVC_SCALE_STEPS: '0,100' }, /"0" is not a positive whole number/),
    run('SVC_ENDPOINTS=0', { SVC_ENDPOINTS: '0' }, /SVC_ENDPOINTS="0": must be at least 1/),
    run('SVC_CREATE_PARALLEL too high', { SVC_CREATE_PARALLEL: '65' }, /SVC_CREATE_PARALLEL="65": must be at most 64/),
    run('endpoints kind unknown', { SVC_ENDPOINTS_KIND: 'pods' }, /must be endpointslices or endpoints/),
    run('SETTLE_FACTOR above 10', { SETTLE_FACTOR: '11' }, /SETTLE_FACTOR="11": must be at most 10/),
    run('SETTLE_FACTOR negative', { SETTLE_FACTOR: '-1' }, /SETTLE_FACTOR="-1": must be a number from 0 to 10/),
    run('AUTO_FIX_LB_MAP not a boolean', { AUTO_FIX_LB_MAP: 'maybe' }, /AUTO_FIX_LB_MAP="maybe": must be true or false/),
    run('unknown phase skipped', { NETBENCH_SKIP: 'dns' }, /unknown phase "dns"/),
    run('exec timeout shorter than a tool run', { KUBECTL_TIMEOUT: '30', FORTIO_DURATION: '60' }, /KUBECTL_TIMEOUT=30: must exceed the longest tool run/),
    run('LB-map approval timeout zero', { LB_MAP_APPROVAL_TIMEOUT: '0' }, /LB_MAP_APPROVAL_TIMEOUT="0": must be at least 1/),
    run('regression tolerance not a number', { REGRESSION_TOLERANCE: 'ten' }, /REGRESSION_TOLERANCE="ten": must be a percentage/),
    run('empty image', { FORTIO_IMAGE: ' ' }, /must not be empty|FORTIO_IMAGE/),
    run('namespace not a DNS label', {}, /--ns="Team_A": must be a DNS label/, ['--ns', 'Team_A']),
    run('system namespace for the workloads', {}, /--ns="kube-system": a Kubernetes system namespace/, ['--ns', 'kube-system']),
    run('system namespace for the Services', { SVC_NAMESPACE: 'kube-public' }, /SVC_NAMESPACE="kube-public": a Kubernetes system namespace/),
    run('config file missing', {}, /--config \/nonexistent\/netbench\.json: ENOENT/, ['--config', '/nonexistent/netbench.json']),
    run('config file not JSON', {}, /--config .*bad\.json/, ['--config', badJson]),
    run('config file with an unknown key', {}, /config file: unknown key "colour"/, ['--config', unknownKey]),
    run('unknown flag', {}, /unknown flag --frobnicate/, ['--frobnicate']),
    run('flag without its value', {}, /--rounds needs a value/, ['--rounds']),
    run('kubeconfig file missing', { KUBECONFIG: '/nonexistent/kubeconfig' }, /kubeconfig: ENOENT/),
    run('kube context not in the kubeconfig', {}, /kube context "prod-b" not found; known contexts: lab-a/, ['--context', 'prod-b']),
    run('TLS client certificate missing', {}, /--tls-cert \/nonexistent\/client\.pem: cannot read the client certificate/, ['--tls-cert', '/nonexistent/client.pem', '--tls-key', '/nonexistent/client.key']),
    run('several problems at once, all named', { ROUNDS: '0', IPERF_DURATION: 'x' }, /ROUNDS="0".*\n.*IPERF_DURATION="x"|IPERF_DURATION="x".*\n.*ROUNDS="0"/s),
    { name: 'unknown command', args: ['benchmark'], status: 2, message: /unknown command "benchmark"/ },
    { name: 'status without an id', args: ['status'], status: 2, message: /usage: netbench status WORKFLOW_ID/ },
    { name: 'status with two ids', args: ['status', 'a', 'b'], status: 2, message: /usage: netbench status WORKFLOW_ID/ },
    { name: 'approve with an unknown flag', args: ['approve', 'x', '--yes'], status: 2, message: /Unknown option '--yes'/ },
    { name: 'resume without an id', args: ['resume'], status: 2, message: /usage: netbench resume WORKFLOW_ID/ },
    { name: 'compare with one directory', args: ['compare', dir], status: 2, message: /compare needs at least two run directories/ },
    { name: 'compare with a bad tolerance', args: ['compare', dir, dir, '--tolerance', 'lots'], status: 2, message: /--tolerance must be a non-negative number/ },
    { name: 'list since a non-date', args: ['list', '--since', 'last tuesday'], status: 2, message: /--since "last tuesday" is not a date/ },
    { name: 'list with an unknown status', args: ['list', '--status', 'Weird'], status: 2, message: /--status must be one of Running, Completed/ },
    { name: 'list with a bad limit', args: ['list', '--limit', '0'], status: 2, message: /--limit must be a positive whole number/ },
    { name: 'schedule without --cron', args: ['schedule', 'create'], status: 2, message: /--cron is required/ },
    { name: 'schedule with a bad cron', args: ['schedule', 'create', '--cron', '0 2 * *'], status: 2, message: /needs 5 fields/ },
    { name: 'dev-server with a bad port', args: ['dev-server', 'start', '--port', 'seventy'], status: 2, message: /--port "seventy": must be a port number/ },
    { name: 'dev-server unknown subcommand', args: ['dev-server', 'restart'], status: 2, message: /unknown subcommand "restart"/ },
    { name: 'worker with an unknown context', args: ['worker', '--context', 'prod-b'], status: 2, message: /kube context "prod-b" not found/ },
    { name: 'worker with an unknown flag', args: ['worker', '--threads', '4'], status: 2, message: /Unknown option '--threads'/ },
    { name: 'lab with an unknown datapath', args: ['lab', 'up', '--datapath', 'ipvs'], status: 2, message: /--datapath must be one of kube-proxy, cilium-native/ },
  ];
}

let env: TestWorkflowEnvironment;
let sentinels: Awaited<ReturnType<typeof sentinel>>[] = [];
before(async () => {
  env = await startTemporal();
});
after(async () => {
  for (const s of sentinels) s.close();
  await env?.teardown();
});

/** Run cases (two processes at a time, or one after another in this process); every case gets its own sentinels. */
async function runCases(cases: Case[], base: (c: Case) => Promise<Record<string, string>>, how: 'process' | 'in-process' = 'process') {
  const failures: string[] = [];
  const queue = [...cases];
  const one = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const temporal = await sentinel();
      const kube = await sentinel();
      sentinels.push(temporal, kube);
      const kubeconfig = file(
        `kubeconfig-${randomUUID()}`,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'a', cluster: { server: `https://127.0.0.1:${kube.port}`, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'a', user: { token: 'not-a-real-token' } }],
          contexts: [{ name: 'lab-a', context: { cluster: 'a', user: 'a' } }],
          'current-context': 'lab-a',
        }),
      );
      const r = await (how === 'in-process' && c.args[0] !== 'lab' ? runInProcess : runCli)(c.args, { TEMPORAL_ADDRESS: `127.0.0.1:${temporal.port}`, KUBECONFIG: kubeconfig, NETBENCH_STATE: dir, ...(await base(c)), ...c.env });
      const problems: string[] = [];
      if (r.status !== c.status) problems.push(`exit ${r.status}, expected ${c.status}`);
      if (!c.message.test(r.out)) problems.push(`message ${c.message} not in: ${r.out.trim().slice(0, 400)}`);
      if (kube.connections() > 0) problems.push(`the cluster was contacted (${kube.connections()} connections)`);
      if (!c.contactsTemporal && temporal.connections() > 0) problems.push(`Temporal was contacted (${temporal.connections()} connections)`);
      if (problems.length) failures.push(`${c.name} [netbench ${c.args.join(' ')}]: ${problems.join('; ')}`);
    }
  };
  await (how === 'process' ? Promise.all([one(), one()]) : one());
  return failures;
}

describe('bad input: a clear, specific error before anything changes (the real CLI)', () => {
  it(`refuses every case of the offline catalogue with exit 2 and contacts neither Temporal nor the cluster`, async () => {
    const cases = offlineCases();
    assert.ok(cases.length >= 40, `a catalogue of at least 40 cases (${cases.length})`);
    const failures = await runCases(cases, async () => ({}), 'in-process');
    assert.deepEqual(failures, []);
    console.log(`bad input: ${cases.length} offline cases, every one refused as expected`);
  });

  it('answers what needs a Temporal server: unreachable, unknown ids, approve with nothing pending, resume of a completed run', async () => {
    const taskQueue = `bad-input-${randomUUID()}`;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const s = stubActivities({ onMeasure: async () => held });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: s.activities, shutdownGraceTime: '1s' });
    const failures = await worker.runUntil(async () => {
      const id = `bad-input-run-${randomUUID()}`;
      const h = await env.client.workflow.start(benchmarkRun, {
        taskQueue,
        workflowId: id,
        args: [{ options: testOptions({ NETBENCH_SKIP: 'throughput,latency,service-scale,metrics' }), outputDir: dir, contextName: 'stub' }],
      });
      const unreachable = await closedPort();
      const real = { TEMPORAL_ADDRESS: env.address };
      const online: Case[] = [
        { name: 'Temporal unreachable', args: ['status', 'x', '--address', `127.0.0.1:${unreachable}`], status: 1, message: /cannot reach Temporal at 127\.0\.0\.1:\d+/, contactsTemporal: true },
        { name: 'status of an unknown run', args: ['status', 'no-such-run'], env: real, status: 2, message: /no run with id "no-such-run"/, contactsTemporal: true },
        { name: 'result of an unknown run', args: ['result', 'no-such-run'], env: real, status: 2, message: /no run with id "no-such-run"/, contactsTemporal: true },
        { name: 'resume of an unknown run', args: ['resume', 'no-such-run'], env: real, status: 2, message: /resume refused: no run with id "no-such-run"/, contactsTemporal: true },
        { name: 'approve a run that waits for nothing', args: ['approve', id], env: real, status: 2, message: /approve refused: no LB-map fix is waiting for a decision in this run/, contactsTemporal: true },
        { name: 'resume a run that is still running', args: ['resume', id], env: real, status: 2, message: /resume refused: run .* is still running/, contactsTemporal: true },
      ];
      const first = await runCases(online, async () => ({}));
      release();
      await h.result();
      const done: Case[] = [
        { name: 'resume a completed run', args: ['resume', id], env: real, status: 2, message: /resume refused: run .* completed: nothing to resume/, contactsTemporal: true },
        { name: 'decline a completed run', args: ['decline', id], env: real, status: 2, message: /decline refused/, contactsTemporal: true },
      ];
      return [...first, ...(await runCases(done, async () => ({})))];
    });
    assert.deepEqual(failures, []);
    assert.equal(s.calls.filter((c) => c.name === 'patchLbMapMax' || c.name === 'rolloutRestartCilium').length, 0, 'no answer reached the run');
  });
});
