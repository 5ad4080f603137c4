/** Helpers for workflow tests: one bundle per process, run options from the real config parser. */
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { resolveConfig, toRunOptions, type RunOptions } from '../../src/config';
import path from 'node:path';
import { repoRoot } from './binaries';

const WORKFLOWS_PATH = path.join(repoRoot, 'src/workflows/index.ts');

// Workers in tests log warnings and errors only.
Runtime.install({ logger: new DefaultLogger('WARN') });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as any });
  return bundle;
}

/** Small, fast options: real parsing of the same env names a user sets. */
export function testOptions(env: Record<string, string> = {}): RunOptions {
  return toRunOptions(
    resolveConfig({
      env: {
        IPERF_DURATION: '1', FORTIO_DURATION: '1', ROUNDS: '1', ROUND_SLEEP: '0', SETTLE_FACTOR: '0', METRICS_SETTLE_SECS: '0',
        METRICS_SAMPLES: '1', KUBECTL_TIMEOUT: '30', SVC_SCALE_STEPS: '100,200,300', ...env,
      },
    }),
  );
}

/** An activity body that waits until cancelled (heartbeating), then fails: a run held at a known point. */
export async function holdUntilCancelled(): Promise<never> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
