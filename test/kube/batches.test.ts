/**
 * runIndexRange on its own: no cluster, tasks are plain async functions, so
 * every scheduling property (exactly once, bounded concurrency, cursor,
 * retries, abort, pacing, bounded look-ahead) is checked precisely.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IndexRangeError, runIndexRange, type IndexRangeProgress } from '../../src/kube/batches';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Transient extends Error {}

describe('runIndexRange', () => {
  it('runs every index of the inclusive range exactly once, never more than `concurrency` at a time', async () => {
    const seen = new Map<number, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    const r = await runIndexRange({
      from: 5,
      to: 404,
      concurrency: 7,
      task: async (i) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        seen.set(i, (seen.get(i) ?? 0) + 1);
        await tick(i % 3);
        inFlight--;
        return i % 10 === 0 ? 'existed' : 'created';
      },
    });
    assert.equal(seen.size, 400);
    for (let i = 5; i <= 404; i++) assert.equal(seen.get(i), 1, `index ${i}`);
    assert.equal(maxInFlight, 7);
    assert.deepEqual({ created: r.created, existed: r.existed, lastIndex: r.lastIndex }, {
      created: 360,
      existed: 40,
      lastIndex: 404,
    });
    assert.ok(r.ratePerSec > 0);
  });

  it('resumes after `resumeAfter` and carries the earlier counts', async () => {
    const seen: number[] = [];
    const r = await runIndexRange({
      from: 1,
      to: 50,
      concurrency: 4,
      resumeAfter: 30,
      carried: { created: 25, existed: 5 },
      task: async (i) => {
        seen.push(i);
        return 'created';
      },
    });
    assert.deepEqual(
      seen.sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, k) => 31 + k),
    );
    assert.equal(r.created, 45);
    assert.equal(r.existed, 5);
    assert.equal(r.lastIndex, 50);
  });

  it('reports a cursor that never passes an unfinished index, even when later ones finish first', async () => {
    const reports: IndexRangeProgress[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const run = runIndexRange({
      from: 1,
      to: 40,
      concurrency: 8,
      progressIntervalMs: 20,
      onProgress: (p) => reports.push(p),
      task: async (i) => {
        if (i === 3) await slow;
        return 'created';
      },
    });
    await tick(120);
    const during = reports.at(-1)!;
    assert.equal(during.lastContiguousDone, 2, 'index 3 is still running');
    assert.equal(during.created, 2, 'counts cover exactly the done prefix');
    assert.ok(during.done > 3, 'later indices did finish');
    release();
    const r = await run;
    assert.equal(r.lastIndex, 40);
    assert.equal(reports.at(-1)!.lastContiguousDone, 40, 'a final report is sent at the end');
  });

  it('does not run more than `window` indices ahead of a stuck one (memory stays flat)', async () => {
    let maxStarted = 0;
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const run = runIndexRange({
      from: 1,
      to: 10_000,
      concurrency: 4,
      window: 16,
      task: async (i) => {
        maxStarted = Math.max(maxStarted, i);
        if (i === 1) await stuck;
        return 'created';
      },
    });
    await tick(50);
    assert.equal(maxStarted, 16, 'indices 1..16: one window, counted from the stuck index');
    release();
    const r = await run;
    assert.equal(r.lastIndex, 10_000);
  });

  it('retries retryable errors with backoff and then succeeds', async () => {
    const attempts = new Map<number, number>();
    const r = await runIndexRange({
      from: 1,
      to: 10,
      concurrency: 3,
      retry: { initialMs: 1, maxMs: 5 },
      isRetryable: (e) => e instanceof Transient,
      task: async (i) => {
        const n = (attempts.get(i) ?? 0) + 1;
        attempts.set(i, n);
        if (i % 2 === 0 && n < 3) throw new Transient('429 slow down');
        return 'created';
      },
    });
    assert.equal(r.created, 10);
    assert.equal(attempts.get(2), 3);
    assert.equal(attempts.get(1), 1);
  });

  it('gives up on a retryable error after maxAttempts, naming the item and the attempts', async () => {
    await assert.rejects(
      runIndexRange({
        from: 1,
        to: 5,
        concurrency: 2,
        retry: { maxAttempts: 3, initialMs: 1, maxMs: 2 },
        isRetryable: () => true,
        describe: (i) => `Service ns/dummy-svc-${i}`,
        task: async (i) => {
          if (i === 4) throw new Transient('503 unavailable');
          return 'created';
        },
      }),
      (err: unknown) => {
        assert.ok(err instanceof IndexRangeError);
        assert.equal(err.index, 4);
        assert.equal(err.attempts, 3);
        assert.match(err.message, /^Service ns\/dummy-svc-4: 503 unavailable \(gave up after 3 attempts\)$/);
        return true;
      },
    );
  });

  it('stops at the first non-retryable error without starting new items, and reports the true cursor', async () => {
    const started: number[] = [];
    const reports: IndexRangeProgress[] = [];
    await assert.rejects(
      runIndexRange({
        from: 1,
        to: 1000,
        concurrency: 4,
        onProgress: (p) => reports.push(p),
        describe: (i) => `Service ns/dummy-svc-${i}`,
        describeError: (e) => `HTTP 422 Invalid: ${(e as Error).message}`,
        task: async (i) => {
          started.push(i);
          await tick(1);
          if (i === 10) throw new Error('spec.ports: Required value');
          return 'created';
        },
      }),
      /Service ns\/dummy-svc-10: HTTP 422 Invalid: spec.ports: Required value/,
    );
    assert.ok(Math.max(...started) < 20, `stopped soon after the failure (started up to ${Math.max(...started)})`);
    assert.equal(reports.at(-1)!.lastContiguousDone, 9);
  });

  it('on abort, lets in-flight items finish, reports the cursor and rejects with the abort reason', async () => {
    const ac = new AbortController();
    const reports: IndexRangeProgress[] = [];
    const reason = new Error('cancelled by test');
    const run = runIndexRange({
      from: 1,
      to: 100_000,
      concurrency: 8,
      signal: ac.signal,
      onProgress: (p) => reports.push(p),
      task: async (i) => {
        if (i === 200) ac.abort(reason);
        await tick(1);
        return 'created';
      },
    });
    await assert.rejects(run, (e) => e === reason);
    const last = reports.at(-1)!;
    assert.ok(last.lastContiguousDone >= 199 && last.lastContiguousDone < 300, `cursor ${last.lastContiguousDone}`);
    assert.equal(last.created, last.lastContiguousDone);
  });

  it('paces starts to at most maxPerSecond', async () => {
    const t0 = performance.now();
    const r = await runIndexRange({ from: 1, to: 21, concurrency: 8, maxPerSecond: 100, task: async () => 'created' });
    const ms = performance.now() - t0;
    // 21 starts 10 ms apart: the last starts 200 ms after the first.
    assert.ok(ms >= 190, `took ${ms.toFixed(0)} ms`);
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    assert.equal(r.created, 21);
  });

  it('treats a resume cursor at the end of the range as nothing left to do', async () => {
    let calls = 0;
    const r = await runIndexRange({
      from: 1,
      to: 10,
      concurrency: 2,
      resumeAfter: 10,
      carried: { created: 10, existed: 0 },
      task: async () => {
        calls++;
        return 'created';
      },
    });
    assert.equal(calls, 0);
    assert.deepEqual([r.created, r.lastIndex], [10, 10]);
  });
});
