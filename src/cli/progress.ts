/**
 * Following a run from the CLI: a progress bar redrawn in place on a TTY,
 * one line per change elsewhere (logs, CI). Returns when the run ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { progressQuery, type Progress } from '../shared';

export function bar(done: number, total: number, width = 28): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)}%`;
}

/** One status line: what a person needs to see at a glance. */
export function progressLine(p: Progress): string {
  const parts = [`${bar(p.done, p.total)} ${p.done}/${p.total}`, p.phase];
  if (p.scaleStep) parts.push(`step ${p.scaleStep.toLocaleString('en-US')} svc (${p.servicesCreated.toLocaleString('en-US')} created)`);
  if (p.scenario) parts.push(p.scenario);
  if (p.waitingFor) parts.push(`waiting: ${p.waitingFor}`);
  if (p.failures) parts.push(`${p.failures} failed`);
  if (!p.trusted) parts.push('UNTRUSTED large-scale results');
  return parts.join(' · ');
}

export interface FollowOptions {
  out?: NodeJS.WriteStream;
  intervalMs?: number;
  /** a custom status line (default: the benchmarkRun progress query) */
  progress?: () => Promise<string>;
  /** printed once when the LB-map fix waits for a decision */
  approvalHint?: (p: Progress) => string;
  /** stop following (the run goes on in the server): follow() rejects with an AbortError once the call under way has answered */
  signal?: AbortSignal;
}

/** Poll the progress query until the workflow closes (or o.signal aborts); returns its final status name. */
export async function follow(handle: WorkflowHandle, o: FollowOptions = {}): Promise<string> {
  const out = o.out ?? process.stdout;
  const pause = () => sleep(o.intervalMs ?? 1000, undefined, { signal: o.signal });
  const tty = !!out.isTTY;
  let last = '';
  let hinted = false;
  let noWorkerSince = 0;
  let unreachableSince = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    let desc: Awaited<ReturnType<WorkflowHandle['describe']>>;
    try {
      desc = await handle.describe();
      unreachableSince = 0;
    } catch (err) {
      // A Temporal restart or a network blip is not the run's end: the run goes on in the server.
      // (No such workflow, or no permission to see it, are answers, not outages.)
      if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 7 /* gRPC PERMISSION_DENIED */) throw err;
      unreachableSince ||= Date.now();
      const line = `Temporal unreachable for ${Math.round((Date.now() - unreachableSince) / 1000)} s (${String((err as Error).message).split('\n')[0]}); the run goes on in the server, still trying`;
      if (tty) out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 160) - 1)}`);
      else if (line.replace(/\d+ s/, '') !== last.replace(/\d+ s/, '')) out.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
      last = line;
      await pause();
      continue;
    }
    if (desc.status.name !== 'RUNNING') {
      if (tty && last) out.write('\n');
      return desc.status.name;
    }
    let line: string;
    try {
      if (o.progress) {
        line = await o.progress();
        noWorkerSince = 0;
      } else {
        const p = await handle.query(progressQuery);
        noWorkerSince = 0;
        line = progressLine(p);
        if (p.pendingApproval && !hinted && o.approvalHint) {
          if (tty && last) out.write('\n');
          out.write(o.approvalHint(p) + '\n');
          hinted = true;
          last = '';
        }
        if (!p.pendingApproval) hinted = false;
      }
    } catch {
      noWorkerSince ||= Date.now();
      line = Date.now() - noWorkerSince > 5000 ? `waiting for a netbench worker on task queue "${desc.taskQueue}" (start one: netbench worker)` : last;
    }
    if (line && line !== last) {
      if (tty) out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 160) - 1)}`);
      else out.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
      last = line;
    }
    await pause();
  }
}
