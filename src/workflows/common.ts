/**
 * Workflow-side helpers shared by benchmarkRun and serviceScaleStep:
 * activity proxies with the right timeouts/retries, one measurement with
 * its failure recorded (never thrown), and durable pauses with summaries.
 */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities, sleep, TimeoutFailure, CancelledFailure, isCancellation } from '@temporalio/workflow';
import type { RunOptions } from '../config';
import type { Measurement } from '../domain/results';
import { headlineText, rawFile, scenarioLabel, toolSeconds, type Scenario, type Targets } from '../domain/scenarios';
import type { Activities } from '../activities';

/**
 * Every activity's heartbeat timeout: how soon a dead worker is noticed and
 * its activity retried elsewhere. Activities heartbeat well within it, by
 * themselves or kept alive every 5 s while they run (src/activities/liveness.ts).
 * The SDK sends heartbeats at most every 80 % of it (24 s).
 */
export const HEARTBEAT_TIMEOUT = '30 seconds';

/** Does this run measure the catalogue row? One added after a release (its `since` patch id) only in runs and steps that did not start before it. */
export function measuredNow(s: Scenario): boolean {
  return !s.since || patched(s.since);
}

/** Cluster calls: a transient fault (unreachable, 429, 5xx) is retried with backoff, never fails the run quickly. */
export function clusterActivities(summary?: string) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    scheduleToCloseTimeout: '2 hours',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute' },
    ...(summary ? { summary } : {}),
  });
}

/** Long, resumable work (creating/deleting thousands of objects, convergence waits): heartbeats carry the cursor. */
export function longActivities(summary?: string) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
    ...(summary ? { summary } : {}),
  });
}

/** One tool run. Up to 3 attempts (the reference retried fortio 3 times), then recorded as failed with its reason. */
export function measureActivities(o: RunOptions, summary: string) {
  return proxyActivities<Activities>({
    startToCloseTimeout: `${o.kubectlTimeout + 60} seconds`,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 3 },
    summary,
  });
}

/** The innermost useful message of a failure chain: what a person needs to read. */
export function failureReason(err: unknown): string {
  let e: unknown = err;
  const parts: string[] = [];
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof ActivityFailure) {
      e = e.cause;
      continue;
    }
    if (e instanceof TimeoutFailure) parts.push(`timed out (${e.timeoutType})`);
    else if (e instanceof CancelledFailure) parts.push('cancelled');
    else if (e instanceof ApplicationFailure) parts.push(e.message + (e.type && e.type !== 'Error' ? ` [${e.type}]` : ''));
    else if (e instanceof Error) parts.push(e.message);
    else parts.push(String(e));
    e = (e as { cause?: unknown }).cause;
  }
  const uniq = parts.filter((p, i) => p && parts.indexOf(p) === i);
  return uniq.join(': ') || 'unknown failure';
}

export interface MeasureContext {
  options: RunOptions;
  outputDir: string;
  targets: Targets;
}

/**
 * Run one scenario round; a failure becomes a recorded Measurement with its reason. Cancellation propagates.
 * `rounds`: how many rounds the run measures the scenario (its label's "round r/n").
 */
export async function measureOnce(ctx: MeasureContext, s: Scenario, round: number, step?: number, rounds = ctx.options.rounds): Promise<Measurement> {
  const label = scenarioLabel(s, round, rounds, step);
  const file = rawFile(s, round, step);
  try {
    return await measureActivities(ctx.options, label).measure({
      outputDir: ctx.outputDir,
      ns: ctx.options.ns,
      scenario: s.id,
      round,
      step,
      targets: ctx.targets,
      seconds: toolSeconds(s, ctx.options),
      execTimeoutSec: ctx.options.kubectlTimeout,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { scenario: s.id, round, step, ok: false, reason: failureReason(err), file };
  }
}

/** A durable pause with a summary the Web UI shows. */
export async function pause(seconds: number, summary: string): Promise<number> {
  if (seconds > 0) await sleep(Math.round(seconds * 1000), { summary });
  return Math.max(0, seconds);
}

/** One of the reference's fixed settle pauses, scaled by SETTLE_FACTOR. */
export async function settle(o: RunOptions, seconds: number, what: string): Promise<number> {
  const s = seconds * o.settleFactor;
  if (s > 0) await sleep(Math.round(s * 1000), { summary: `${what} ${Math.round(s * 10) / 10} s` });
  return Math.max(0, s);
}

/** Display of a measurement's headline figure. */
export function formatFigure(s: Scenario, m: Measurement): string {
  return headlineText(s, m);
}
