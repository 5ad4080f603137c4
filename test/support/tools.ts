// Helpers for tests that run real tools (iperf3, netperf, fortio, iptables,
// nft, bpftool) on loopback or in a network namespace the test creates.
// Every process started here is tracked and killed when the test process
// exits, even if a test forgets to call stop() or crashes.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const LOOPBACK = '127.0.0.1';

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to :0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, { host = LOOPBACK, timeoutMs = 5000 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host, port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface StartedProcess {
  readonly pid: number;
  /** Everything the process wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null if killed by a signal) once it exits. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Resolve only once this port accepts connections (on `host`). The probe
   * is a real TCP connection: single-client servers (iperf3) may take it for
   * a client, so use waitForOutput for those.
   */
  waitForPort?: number;
  /** Resolve only once stdout or stderr matches (e.g. iperf3's "Server listening"). */
  waitForOutput?: RegExp;
  host?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Starts a long-running process (a server). Fails fast if it exits before its port opens. */
export async function startProcess(cmd: string, args: string[], opts: StartOptions = {}): Promise<StartedProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once('error', (e) => {
      err += String(e);
      live.delete(child);
      resolve(-1);
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || !live.has(child)) {
      await exited;
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };
  const started: StartedProcess = {
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop,
  };
  const waits: Promise<void>[] = [];
  if (opts.waitForPort !== undefined) {
    waits.push(waitForPort(opts.waitForPort, { host: opts.host, timeoutMs: opts.timeoutMs }));
  }
  if (opts.waitForOutput) waits.push(waitForText(() => out + err, opts.waitForOutput, opts.timeoutMs ?? 5000));
  if (waits.length > 0) {
    const early = exited.then((code) => {
      throw new Error(`${cmd} exited (${code}) before it was ready: ${err.trim() || out.trim()}`);
    });
    early.catch(() => {}); // the process may exit later on purpose (iperf3 -1)
    try {
      await Promise.race([Promise.all(waits), early]);
    } catch (e) {
      await stop();
      throw e;
    }
  }
  return started;
}

async function waitForText(text: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(text())) {
    if (Date.now() > deadline) throw new Error(`no output matching ${pattern} after ${timeoutMs} ms: ${text().slice(0, 300)}`);
    await sleep(20);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after timeoutMs), feeding `input` on stdin. */
export async function runProcess(
  cmd: string,
  args: string[],
  { input, timeoutMs = 30_000, env }: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {}); // the tool may exit before reading stdin
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('close', (c) => resolve(c));
    child.once('error', (e) => {
      stderr += String(e);
      resolve(-1);
    });
  });
  clearTimeout(timer);
  live.delete(child);
  return { code, stdout, stderr };
}

/** Runs argv (argv[0] is the program), as tool argv builders return it. */
export function runArgv(argv: string[], opts?: Parameters<typeof runProcess>[2]): Promise<RunResult> {
  return runProcess(argv[0], argv.slice(1), opts);
}

/** Absolute path of a program on PATH, or undefined. */
export function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

/**
 * The fortio binary: on PATH (scripts/env.sh puts the cached build there) or
 * in the setup's cache, ~/.cache/netbench/fortio-<version>/bin.
 */
export function fortioBinary(): string | undefined {
  const onPath = which('fortio');
  if (onPath) return onPath;
  const cache = process.env.NETBENCH_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'netbench');
  if (!existsSync(cache)) return undefined;
  for (const d of readdirSync(cache).filter((n) => n.startsWith('fortio-')).sort().reverse()) {
    const p = join(cache, d, 'bin', 'fortio');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A network namespace owned by one test; delete() removes it (idempotent). */
export interface Netns {
  readonly name: string;
  /** Runs a command inside the namespace. */
  exec(cmd: string, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  delete(): Promise<void>;
}

/** Creates `nbtest-<prefix>-<random>` (needs root). The caller must delete() it in after(). */
export async function createNetns(prefix = 'tools'): Promise<Netns> {
  const name = `nbtest-${prefix}-${randomBytes(4).toString('hex')}`;
  const add = await runProcess('ip', ['netns', 'add', name]);
  if (add.code !== 0) throw new Error(`ip netns add ${name}: ${add.stderr.trim()}`);
  nsLive.add(name);
  let deleted = false;
  return {
    name,
    exec: (cmd, args, opts) => runProcess('ip', ['netns', 'exec', name, cmd, ...args], opts),
    async delete() {
      if (deleted) return;
      deleted = true;
      await runProcess('ip', ['netns', 'delete', name]);
      nsLive.delete(name);
    },
  };
}

const nsLive = new Set<string>();
process.on('exit', () => {
  for (const name of nsLive) spawnSync('ip', ['netns', 'delete', name]);
});
