/**
 * A rate-limited, concurrent executor over an inclusive index range, with a
 * resumable cursor. Temporal-free and Kubernetes-free: the caller supplies
 * the task, which errors are worth retrying, and what to do with progress
 * (an activity heartbeats it).
 *
 * The cursor is `lastContiguousDone`: every index up to it is done, so a
 * restart from `resumeAfter = lastContiguousDone` never skips work and at
 * most redoes the few items that finished out of order (which the task must
 * treat as "already exists"). Workers may run ahead of the cursor only by a
 * bounded window, so memory stays flat for any range size: no list of
 * indices, objects or promises is ever built.
 */

export type TaskOutcome = 'created' | 'existed';

export interface IndexRangeProgress {
  /** Every index in from..lastContiguousDone is done (from - 1 when none is). */
  lastContiguousDone: number;
  /** Counts over the done prefix (plus what the resumed-from cursor covered). */
  created: number;
  existed: number;
  /** Items done in this run, including ones past the cursor. */
  done: number;
  /** Items this run had to do (the range minus what resumeAfter covered). */
  total: number;
  /** Items done per second in this run so far. */
  ratePerSec: number;
}

export interface RetryPolicy {
  /** Attempts per item including the first (default 8). */
  maxAttempts?: number;
  /** First backoff (default 200 ms); doubles each time, with jitter. */
  initialMs?: number;
  /** Backoff cap (default 10 s). */
  maxMs?: number;
}

export interface RunIndexRangeOptions {
  from: number;
  /** Inclusive. */
  to: number;
  /** Items in flight at once. */
  concurrency: number;
  /** Start at most this many items per second (default: no limit). */
  maxPerSecond?: number;
  /** Last contiguous index done by an earlier run; work starts after it. */
  resumeAfter?: number;
  signal?: AbortSignal;
  task: (index: number, signal: AbortSignal | undefined) => Promise<TaskOutcome>;
  /** Is this error transient? Default: nothing is retried. */
  isRetryable?: (err: unknown) => boolean;
  retry?: RetryPolicy;
  /** Name of item i in error messages (default "item <i>"). */
  describe?: (index: number) => string;
  /** Short text of an error in messages (default its message). */
  describeError?: (err: unknown) => string;
  /** Called at most once per progressIntervalMs while running, and once at the end or on abort. */
  onProgress?: (p: IndexRangeProgress) => void;
  progressIntervalMs?: number;
  /** How far workers may run ahead of the cursor (default max(1024, 16 × concurrency)). */
  window?: number;
  /** Counts carried over from the run that produced resumeAfter. */
  carried?: { created: number; existed: number };
}

export interface IndexRangeResult {
  created: number;
  existed: number;
  /** Last index done (= to on success). */
  lastIndex: number;
  seconds: number;
  /** Items per second in this run. */
  ratePerSec: number;
}

/** A non-retryable (or retry-exhausted) failure of one item; stops the whole run. */
export class IndexRangeError extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'IndexRangeError';
  }
}

/** Ring slot states. */
const PENDING = 0;
const CREATED = 1;
const EXISTED = 2;

/** Sleep that ends early (rejecting) when the signal fires. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function runIndexRange(opts: RunIndexRangeOptions): Promise<IndexRangeResult> {
  const { from, to, signal, task } = opts;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from > to) {
    throw new RangeError(`invalid index range ${from}..${to}`);
  }
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  const resumeAfter = Math.min(to, Math.max(from - 1, opts.resumeAfter ?? from - 1));
  const window = Math.max(opts.window ?? Math.max(1024, concurrency * 16), concurrency);
  const isRetryable = opts.isRetryable ?? (() => false);
  const describe = opts.describe ?? ((i: number) => `item ${i}`);
  const describeError = opts.describeError ?? ((e: unknown) => (e instanceof Error ? e.message : String(e)));
  const maxAttempts = Math.max(1, opts.retry?.maxAttempts ?? 8);
  const initialMs = opts.retry?.initialMs ?? 200;
  const maxMs = opts.retry?.maxMs ?? 10_000;
  const intervalMs = opts.progressIntervalMs ?? 1000;

  const started = performance.now();
  const total = to - resumeAfter;
  // Outcome of index i lives in ring[i % window] until the cursor passes it.
  const ring = new Uint8Array(window);
  let cursor = resumeAfter; // last contiguous index done
  let next = resumeAfter + 1; // next index to hand out
  let created = opts.carried?.created ?? 0;
  let existed = opts.carried?.existed ?? 0;
  let done = 0;
  let failure: IndexRangeError | undefined;
  // Workers parked because they ran a full window ahead of the cursor.
  let parked: Array<() => void> = [];

  const progress = (): IndexRangeProgress => {
    const secs = (performance.now() - started) / 1000;
    return {
      lastContiguousDone: cursor,
      created,
      existed,
      done,
      total,
      ratePerSec: secs > 0 ? done / secs : 0,
    };
  };

  // Pacing: each start reserves the next free slot 1/maxPerSecond apart.
  const spacingMs = opts.maxPerSecond && opts.maxPerSecond > 0 ? 1000 / opts.maxPerSecond : 0;
  let nextStartAt = started;
  const pace = async () => {
    if (!spacingMs) return;
    const now = performance.now();
    const at = Math.max(now, nextStartAt);
    nextStartAt = at + spacingMs;
    if (at - now >= 1) await abortableSleep(at - now, signal);
  };

  const stopped = () => failure !== undefined || signal?.aborted === true;

  const markDone = (i: number, outcome: TaskOutcome) => {
    done++;
    ring[i % window] = outcome === 'created' ? CREATED : EXISTED;
    // Advance the cursor over every finished slot; count only what it passes,
    // so created + existed always describe exactly from..cursor.
    while (cursor < to) {
      const slot = ring[(cursor + 1) % window];
      if (slot === PENDING) break;
      if (slot === CREATED) created++;
      else existed++;
      ring[(cursor + 1) % window] = PENDING;
      cursor++;
    }
    if (parked.length) {
      const wake = parked;
      parked = [];
      for (const w of wake) w();
    }
  };

  const runOne = async (i: number): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await task(i, signal);
        markDone(i, outcome);
        return;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const retry = attempt < maxAttempts && isRetryable(err);
        if (!retry) {
          const why = isRetryable(err) ? ` (gave up after ${attempt} attempts)` : '';
          throw new IndexRangeError(`${describe(i)}: ${describeError(err)}${why}`, i, attempt, err);
        }
        const backoff = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
        await abortableSleep(backoff / 2 + Math.random() * (backoff / 2), signal);
      }
    }
  };

  const worker = async (): Promise<void> => {
    while (!stopped()) {
      if (next > to) return;
      if (next > cursor + window) {
        // Too far ahead of the slowest item: wait until the cursor moves.
        await new Promise<void>((resolve) => parked.push(resolve));
        continue;
      }
      const i = next++;
      try {
        await pace();
        if (stopped()) return;
        await runOne(i);
      } catch (err) {
        if (err instanceof IndexRangeError) failure ??= err;
        // Aborts are reported once, after all workers have drained.
        wakeAll();
        return;
      }
    }
  };

  const wakeAll = () => {
    const wake = parked;
    parked = [];
    for (const w of wake) w();
  };
  const onAbort = () => wakeAll();
  signal?.addEventListener('abort', onAbort, { once: true });

  const report = () => {
    try {
      opts.onProgress?.(progress());
    } catch {
      // A progress sink must not break the run.
    }
  };
  const timer = opts.onProgress ? setInterval(report, intervalMs) : undefined;
  timer?.unref?.();

  try {
    const workers = new Array<Promise<void>>(Math.min(concurrency, Math.max(total, 1)));
    for (let w = 0; w < workers.length; w++) workers[w] = worker();
    await Promise.all(workers);
  } finally {
    if (timer) clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    // Final report, also on failure or abort, so a resume starts from the true cursor.
    report();
  }

  if (failure) throw failure;
  if (signal?.aborted) throw signal.reason;
  const seconds = (performance.now() - started) / 1000;
  return {
    created,
    existed,
    lastIndex: cursor,
    seconds,
    ratePerSec: seconds > 0 ? done / seconds : 0,
  };
}
