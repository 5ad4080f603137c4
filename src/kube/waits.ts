/**
 * Polling waits with a deadline, cancellation and a tick callback (which an
 * activity uses to heartbeat). Waiting is measured: callers get the elapsed
 * time back instead of sleeping a guessed amount.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { abortableSleep } from './batches';
import { classifyKubeError, describeKubeError, withSignal } from './client';

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between polls (default 1 s). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called after every unsuccessful poll with the elapsed time and the poll's value. */
  onTick?: (tick: { elapsedMs: number; polls: number; last: unknown }) => void;
  /** What we wait for, for the timeout message. */
  description?: string;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly description: string,
    readonly elapsedMs: number,
    readonly last: unknown,
  ) {
    super(`timed out after ${(elapsedMs / 1000).toFixed(1)} s waiting for ${description}`);
    this.name = 'WaitTimeoutError';
  }
}

export interface WaitResult<T> {
  value: T;
  elapsedMs: number;
  polls: number;
}

/**
 * Polls `predicate` until it returns something other than false/undefined/null
 * and returns that value. Errors from the predicate propagate (callers decide
 * which faults are transient).
 */
export async function waitFor<T>(
  predicate: () => Promise<T | false | undefined | null> | T | false | undefined | null,
  opts: WaitOptions,
): Promise<WaitResult<T>> {
  const started = performance.now();
  const interval = opts.intervalMs ?? 1000;
  for (let polls = 1; ; polls++) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const value = await predicate();
    const elapsedMs = performance.now() - started;
    if (value !== false && value !== undefined && value !== null) return { value: value as T, elapsedMs, polls };
    opts.onTick?.({ elapsedMs, polls, last: value });
    if (elapsedMs + interval > opts.timeoutMs) {
      throw new WaitTimeoutError(opts.description ?? 'condition', elapsedMs, value);
    }
    await abortableSleep(interval, opts.signal);
  }
}

/**
 * Waits until namespace `name` no longer exists. Transient API faults count
 * as "not yet"; anything else (e.g. Forbidden) is thrown at once.
 */
export async function waitForNamespaceGone(
  core: CoreV1Api,
  name: string,
  opts: Omit<WaitOptions, 'description'>,
): Promise<WaitResult<true>> {
  return waitFor<true>(
    async () => {
      try {
        await core.readNamespace({ name }, withSignal(opts.signal));
        return false;
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const kind = classifyKubeError(err);
        if (kind === 'not-found') return true;
        if (kind === 'retryable') return false;
        throw new Error(`reading namespace ${name}: ${describeKubeError(err)}`, { cause: err });
      }
    },
    { ...opts, description: `namespace ${name} to be deleted` },
  );
}
