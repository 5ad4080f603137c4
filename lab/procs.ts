/**
 * Long-running lab processes: started detached (they outlive `lab up`), one
 * pid file and one log per process, stopped by pid only after checking that
 * the pid still runs the program we started (pids get reused).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonSpec {
  /** Short id: names the pid file and the log. */
  id: string;
  argv: string[];
  /** Run inside this network namespace (via `ip netns exec`, which execs: same pid). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * The program the pid runs once started, when argv[0] is a launcher that
   * execs it (e.g. `unshare ... sh -c '...; exec ip netns exec ... cilium-agent'`):
   * the liveness check compares against this name instead of argv[0].
   */
  program?: string;
}

export interface DaemonDirs {
  pidDir: string;
  logDir: string;
}

export interface DaemonState {
  id: string;
  pid: number | null;
  running: boolean;
  command: string;
  log: string;
}

function pidFile(dirs: DaemonDirs, id: string): string {
  return path.join(dirs.pidDir, `${id}.pid`);
}
function cmdFile(dirs: DaemonDirs, id: string): string {
  return path.join(dirs.pidDir, `${id}.cmd`);
}
export function logFile(dirs: Pick<DaemonDirs, 'logDir'>, id: string): string {
  return path.join(dirs.logDir, `${id}.log`);
}

/** argv[0] of a live process, or null when the pid is gone (or a zombie). */
export function processArgv0(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return null;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0')[0] ?? '';
  } catch {
    return null;
  }
}

/** True when `pid` is alive and still runs a program named like `program`. */
export function isOurProcess(pid: number, program: string): boolean {
  const argv0 = processArgv0(pid);
  if (argv0 === null) return false;
  return path.basename(argv0) === path.basename(program);
}

function readPid(dirs: DaemonDirs, id: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(pidFile(dirs, id), 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

function progFile(dirs: DaemonDirs, id: string): string {
  return path.join(dirs.pidDir, `${id}.prog`);
}

function readProgram(dirs: DaemonDirs, id: string): string {
  try {
    if (existsSync(progFile(dirs, id))) return readFileSync(progFile(dirs, id), 'utf8').trim();
    return JSON.parse(readFileSync(cmdFile(dirs, id), 'utf8'))[0] ?? id;
  } catch {
    return id;
  }
}

export function daemonState(dirs: DaemonDirs, id: string): DaemonState {
  const pid = readPid(dirs, id);
  let command = '';
  try {
    command = (JSON.parse(readFileSync(cmdFile(dirs, id), 'utf8')) as string[]).join(' ');
  } catch {
    // no record
  }
  const running = pid !== null && isOurProcess(pid, readProgram(dirs, id));
  return { id, pid, running, command, log: logFile(dirs, id) };
}

/** Ids of every daemon with a pid file. */
export function knownDaemons(dirs: DaemonDirs): string[] {
  if (!existsSync(dirs.pidDir)) return [];
  return readdirSync(dirs.pidDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/**
 * Start `spec` unless its pid file points at a live process of the same
 * program (idempotent). Returns the pid. Fails if the process dies within
 * `settleMs` (a bad flag, a port in use), quoting the end of its log.
 */
export async function startDaemon(dirs: DaemonDirs, spec: DaemonSpec, settleMs = 300): Promise<number> {
  const current = daemonState(dirs, spec.id);
  if (current.running && current.pid) return current.pid;
  mkdirSync(dirs.pidDir, { recursive: true });
  mkdirSync(dirs.logDir, { recursive: true });
  const log = logFile(dirs, spec.id);
  const fd = openSync(log, 'a');
  const argv = spec.netns ? ['ip', 'netns', 'exec', spec.netns, ...spec.argv] : spec.argv;
  let child;
  try {
    child = spawn(argv[0], argv.slice(1), {
      detached: true, // own session: survives the lab CLI and a Ctrl-C in its terminal
      stdio: ['ignore', fd, fd],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${spec.id}: ${argv.join(' ')}`);
  let exited: number | string | null = null;
  child.on('exit', (code, signal) => {
    exited = code ?? signal ?? 'exit';
  });
  child.unref();
  writeFileSync(pidFile(dirs, spec.id), `${pid}\n`);
  writeFileSync(cmdFile(dirs, spec.id), JSON.stringify(spec.argv));
  if (spec.program) writeFileSync(progFile(dirs, spec.id), spec.program);
  else rmSync(progFile(dirs, spec.id), { force: true });
  await sleep(settleMs);
  if (exited !== null || !isOurProcess(pid, spec.program ?? spec.argv[0])) {
    throw new Error(`${spec.id} exited at start (${exited ?? 'gone'}); last log lines:\n${tailOf(log, 1500)}`);
  }
  return pid;
}

export function tailOf(file: string, bytes: number): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Never signals a pid that runs another program. */
export async function stopPid(pid: number, program: string, graceMs = 5_000): Promise<void> {
  if (!isOurProcess(pid, program)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (processArgv0(pid) === null) return;
    await sleep(50);
  }
  if (isOurProcess(pid, program)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    for (let i = 0; i < 40 && processArgv0(pid) !== null; i++) await sleep(50);
  }
}

export async function stopDaemon(dirs: DaemonDirs, id: string, graceMs?: number): Promise<void> {
  const pid = readPid(dirs, id);
  if (pid !== null) await stopPid(pid, readProgram(dirs, id), graceMs);
  rmSync(pidFile(dirs, id), { force: true });
  rmSync(cmdFile(dirs, id), { force: true });
  rmSync(progFile(dirs, id), { force: true });
}
