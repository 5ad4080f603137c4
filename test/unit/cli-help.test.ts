/**
 * `netbench <command> --help` prints that command's help and does nothing
 * else, for every command of the dispatcher's table: exit 0, the help on
 * stdout, nothing on stderr, no connection to Temporal or the cluster
 * (loopback listeners that count who connects stand in for both), no file
 * written. The commands run in this process through the dispatcher `main`;
 * `lab`, which bin/netbench sends to lab/cli.ts, runs as a real process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COMMANDS, main, mainHelp } from '../../src/client';
import { repoRoot } from '../support/binaries';
import { sentinel } from '../support/sentinel';


/** The dispatcher in this process, in `cwd`, with `env`; stdout and stderr captured apart. */
async function inProcess(args: string[], env: Record<string, string>, cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const saved = { env: { ...process.env }, cwd: process.cwd(), out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  let stdout = '';
  let stderr = '';
  const capture = (into: (s: string) => void) =>
    ((chunk: string | Uint8Array) => {
      into(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as typeof process.stdout.write;
  Object.assign(process.env, env);
  process.chdir(cwd);
  process.stdout.write = capture((s) => (stdout += s));
  process.stderr.write = capture((s) => (stderr += s));
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.chdir(saved.cwd);
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
}

describe('netbench <command> --help: the help and nothing else', () => {
  let temporal: Awaited<ReturnType<typeof sentinel>>;
  let kube: Awaited<ReturnType<typeof sentinel>>;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    temporal = await sentinel();
    kube = await sentinel();
    dir = mkdtempSync(path.join(os.tmpdir(), 'nb-help-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1', kind: 'Config',
        clusters: [{ name: 'a', cluster: { server: `https://127.0.0.1:${kube.port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'a', user: { token: 'not-a-real-token' } }],
        contexts: [{ name: 'lab-a', context: { cluster: 'a', user: 'a' } }],
        'current-context': 'lab-a',
      }),
    );
    env = { TEMPORAL_ADDRESS: `127.0.0.1:${temporal.port}`, KUBECONFIG: kubeconfig, NETBENCH_STATE: path.join(dir, 'state') };
  });
  after(() => {
    temporal.close();
    kube.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every command of the table in the top-level help, in its order', () => {
    const help = mainHelp();
    const listed = [...help.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed, COMMANDS.map((c) => c.name));
  });

  it('every command of the table (and the subcommands that take options) prints its help, exits 0, contacts nothing and writes nothing', async () => {
    const cases = [
      ...COMMANDS.filter((c) => c.name !== 'lab').flatMap((c) => [[c.name, '--help'], [c.name, '-h']]),
      ['schedule', 'create', '--help'],
      ['dev-server', 'start', '--help'],
      ['run', '--rounds', '3', '--help'],
    ];
    const problems: string[] = [];
    for (const args of cases) {
      const cwd = mkdtempSync(path.join(dir, 'cwd-'));
      const r = await inProcess(args, env, cwd);
      const said: string[] = [];
      if (r.status !== 0) said.push(`exit ${r.status}`);
      if (!r.stdout.includes(`netbench ${args[0]}`)) said.push(`stdout does not name "netbench ${args[0]}": ${r.stdout.slice(0, 120)}`);
      if (r.stderr !== '') said.push(`stderr: ${r.stderr.slice(0, 200)}`);
      if (readdirSync(cwd).length) said.push(`wrote ${readdirSync(cwd).join(', ')}`);
      if (said.length) problems.push(`netbench ${args.join(' ')}: ${said.join('; ')}`);
    }
    assert.deepEqual(problems, []);
    assert.equal(temporal.connections(), 0, 'no --help contacted Temporal');
    assert.equal(kube.connections(), 0, 'no --help contacted the cluster');
    assert.deepEqual(readdirSync(dir).filter((f) => !f.startsWith('cwd-')), ['kubeconfig'], 'no state written');
  });

  it('lab (through bin/netbench to lab/cli.ts) prints its usage and starts nothing', () => {
    for (const args of [['lab', '--help'], ['lab', 'up', '--help']]) {
      const r = spawnSync(path.join(repoRoot, 'bin/netbench'), args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
      assert.equal(r.status, 0, `netbench ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^usage: lab up\|down\|status/);
      assert.equal(r.stderr, '');
    }
  });

  it('an unknown command is refused with the help, exit 2', async () => {
    const r = await inProcess(['benchmark'], env, dir);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "benchmark"/);
    assert.ok(r.stderr.includes(mainHelp()));
  });
});
