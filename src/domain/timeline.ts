/**
 * Where a run's time went: per timeline entry (a phase or a scale step) and
 * in total, the wall time split into tools, creating / deleting objects,
 * convergence waits, durable pauses and the rest, which is orchestration (scheduling,
 * retries, cluster calls between the measurements). Pure.
 */
import type { TimelineEntry } from './results';

export interface TimeSplit {
  name: string;
  seconds: number;
  toolSeconds: number;
  createSeconds: number;
  convergeSeconds: number;
  pauseSeconds: number;
  /** what is left: orchestration */
  otherSeconds: number;
}

export function splitOf(e: TimelineEntry): TimeSplit {
  const known = e.toolSeconds + e.createSeconds + e.convergeSeconds + e.pauseSeconds;
  return { ...e, otherSeconds: Math.max(0, e.seconds - known) };
}

/** Every entry's split and the total, with orchestration as a share of the wall time (0..1). */
export function timeSplits(entries: TimelineEntry[]): { rows: TimeSplit[]; total: TimeSplit; orchestrationShare: number } {
  const rows = entries.map(splitOf);
  const sum = (k: keyof Omit<TimeSplit, 'name'>) => rows.reduce((a, r) => a + r[k], 0);
  const total: TimeSplit = {
    name: 'total',
    seconds: sum('seconds'),
    toolSeconds: sum('toolSeconds'),
    createSeconds: sum('createSeconds'),
    convergeSeconds: sum('convergeSeconds'),
    pauseSeconds: sum('pauseSeconds'),
    otherSeconds: sum('otherSeconds'),
  };
  return { rows, total, orchestrationShare: total.seconds > 0 ? total.otherSeconds / total.seconds : 0 };
}
