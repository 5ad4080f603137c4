/**
 * `netbench dev-server start|stop|status`: a local Temporal dev server (the
 * CLI built by scripts/setup.sh) with the Web UI, a database file so runs
 * survive restarts, and netbench's search attributes registered.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SEARCH_ATTRIBUTE_SPECS } from '../shared';

export interface DevServerOptions {
  port?: number;
  uiPort?: number;
  stateDir?: string;
}

const stateDir = (o: DevServerOptions) =>
  o.stateDir ?? process.env.NETBENCH_STATE ?? path.join(process.env.NETBENCH_CACHE ?? path.join(os.homedir(), '.cache', 'netbench'), 'state');

export function devServerArgs(o: DevServerOptions & { dbFile: string }): string[] {
  return [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(o.port ?? 7233),
    '--ui-port', String(o.uiPort ?? (o.port ?? 7233) + 1000),
    '--db-filename', o.dbFile,
    '--log-level', 'warn',
    ...SEARCH_ATTRIBUTE_SPECS.flatMap((s) => ['--search-attribute', `${s.name}=${s.type}`]),
  ];
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
  });
}

function temporalBinary(): string {
  const r = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (!p) throw new Error('the Temporal CLI is not on PATH: run scripts/setup.sh go (or use bin/netbench, which sets PATH)');
  return p;
}

export async function devServerStart(o: DevServerOptions = {}): Promise<{ address: string; ui: string; started: boolean; pid?: number }> {
  const port = o.port ?? 7233;
  const uiPort = o.uiPort ?? port + 1000;
  const address = `127.0.0.1:${port}`;
  const ui = `http://localhost:${uiPort}`;
  if (await portOpen(port)) return { address, ui, started: false };
  const dir = stateDir(o);
  mkdirSync(dir, { recursive: true });
  const log = openSync(path.join(dir, 'temporal.log'), 'a');
  const child = spawn(temporalBinary(), devServerArgs({ port, uiPort, dbFile: path.join(dir, 'temporal.db') }), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  writeFileSync(path.join(dir, 'temporal.pid'), String(child.pid));
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the Temporal dev server did not start (see ${path.join(dir, 'temporal.log')})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { address, ui, started: true, pid: child.pid };
}

export function devServerStop(o: DevServerOptions = {}): boolean {
  const pidFile = path.join(stateDir(o), 'temporal.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile);
  try {
    process.kill(pid, 'SIGTERM');
    return true;
  } catch {
    return false;
  }
}

const DEV_SERVER_HELP = `netbench dev-server start|stop|status: a local Temporal dev server for netbench

Usage:
  netbench dev-server start [--port 7233] [--ui-port PORT]   start it (no-op when one is listening)
  netbench dev-server stop                                   stop the one netbench started
  netbench dev-server status [--port 7233]                   is Temporal listening?

The Web UI listens on the gRPC port + 1000 (http://localhost:8233), runs survive a
restart (database file in $NETBENCH_STATE, default ~/.cache/netbench/state), and
netbench's search attributes are registered at start.

Options:
  --port PORT      gRPC port (default 7233)
  --ui-port PORT   Web UI port (default: --port + 1000)
  -h, --help       this help (and nothing else)
`;

/** A bad flag or value: exit 2 with a message, before anything starts or stops. */
export class DevServerUsageError extends Error {
  readonly usage = true;
}

function portArg(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(String(v)) || n < 1 || n > 65535) throw new DevServerUsageError(`${flag} "${String(v)}": must be a port number from 1 to 65535`);
  return n;
}

export async function devServerMain(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(DEV_SERVER_HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (!['start', 'stop', 'status'].includes(cmd)) throw new DevServerUsageError(`unknown subcommand "${cmd}" (start, stop or status; netbench dev-server --help)`);
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { port: { type: 'string' }, 'ui-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DevServerUsageError(`${(err as Error).message} (netbench dev-server --help)`);
  }
  if (values.help) {
    process.stdout.write(DEV_SERVER_HELP);
    return 0;
  }
  const port = portArg(values.port, '--port');
  const uiPort = portArg(values['ui-port'], '--ui-port');
  if (cmd === 'start') {
    const r = await devServerStart({ port, uiPort });
    process.stdout.write(`${r.started ? 'started' : 'already running'}: Temporal ${r.address}, Web UI ${r.ui}\n`);
    return 0;
  }
  if (cmd === 'stop') {
    if (port !== undefined || uiPort !== undefined) throw new DevServerUsageError('stop takes no --port: it stops the dev server netbench started');
    process.stdout.write(devServerStop() ? 'stopped the dev server\n' : 'no dev server started by netbench is running\n');
    return 0;
  }
  const p = port ?? 7233;
  const up = await portOpen(p);
  process.stdout.write(up ? `Temporal is listening on 127.0.0.1:${p} (Web UI http://localhost:${p + 1000})\n` : `no Temporal on 127.0.0.1:${p}\n`);
  return up ? 0 : 1;
}
