/**
 * How every activity shows Temporal it is alive and how it ends when the
 * run cancels it; src/activities/index.ts applies this to all of them.
 *
 * - Keep-alive: an activity that does not heartbeat by itself (one or a few
 *   cluster calls, an exec, a history read, a report write) heartbeats every
 *   KEEP_ALIVE_MS while it runs. Its heartbeat timeout (HEARTBEAT_TIMEOUT in
 *   src/workflows/common.ts, 30 s) can then be short without a slow call
 *   looking like a dead worker, and a dead worker is noticed within it.
 *   Activities that heartbeat by themselves are left alone: their details
 *   are a resume cursor or progress, which an empty heartbeat would replace.
 * - Cancellation: when the run cancels an activity, its cancellation signal
 *   aborts what it is doing (an exec, a wait), which surfaces as that call's
 *   own error (ExecAbortedError, AbortError). The activity then ends as
 *   cancelled (Temporal's CancelledFailure), so the history says cancelled,
 *   not failed. An error that the abort did not cause stays a failure.
 */
import { CancelledFailure, Context } from '@temporalio/activity';

export const KEEP_ALIVE_MS = 5_000;

/** The running activity's context; undefined when an activity function is called directly (real-apiserver tests). */
function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeat every `everyMs` while `work` runs, with `details()` (default none). Outside an activity it only runs `work`. */
export async function heartbeatWhile<T>(work: () => Promise<T>, details?: () => unknown, everyMs = KEEP_ALIVE_MS): Promise<T> {
  const ctx = currentContext();
  if (!ctx) return work();
  const beat = setInterval(() => ctx.heartbeat(details?.()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}

const ABORT_ERRORS = new Set(['ExecAbortedError', 'AbortError']);

/** Was `err` caused by the activity's own cancellation signal (the signal's reason, an aborted call, anywhere in its cause chain)? */
export function causedByAbort(err: unknown, signal: AbortSignal): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    if (e === signal.reason || e instanceof CancelledFailure) return true;
    if (ABORT_ERRORS.has((e as { name?: string }).name ?? '')) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Run an activity body; if the run asked to cancel it and the error it ends
 * with was caused by that (the aborted exec or wait), end as cancelled.
 */
export async function endingAsCancelled<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const ctx = currentContext();
    if (ctx?.cancellationDetails?.cancelRequested && ctx.cancellationSignal.aborted && causedByAbort(err, ctx.cancellationSignal)) {
      throw err instanceof CancelledFailure ? err : (ctx.cancellationSignal.reason as Error);
    }
    throw err;
  }
}

type ActivityFn = (...args: never[]) => Promise<unknown>;

/**
 * Every activity with the cancellation handling; those not named in
 * `heartbeatByThemselves` (whose own heartbeats carry details and come
 * often enough while they wait) also kept alive.
 */
export function withLifecycle<T extends object>(activities: T, heartbeatByThemselves: readonly (keyof T & string)[]): T {
  const own = new Set<string>(heartbeatByThemselves);
  const out: Record<string, ActivityFn> = {};
  for (const [name, fn] of Object.entries(activities) as [string, ActivityFn][]) {
    const run = own.has(name) ? fn : (...args: never[]) => heartbeatWhile(() => fn(...args));
    out[name] = (...args: never[]) => endingAsCancelled(() => run(...args));
  }
  return out as T;
}
