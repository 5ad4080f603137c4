/**
 * Run one scenario round: exec the tool in its client pod (heartbeating its
 * elapsed seconds through liveness.ts heartbeatWhile, cancellable, bounded by
 * KUBECTL_TIMEOUT), stream its raw output to the run directory in the
 * reference's layout, parse it, return the figures.
 * A failure throws (Temporal retries, up to 3 attempts); the workflow then
 * records the last reason.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Measurement } from '../domain/results';
import { rawFile, scenarioById, targetIp, type Targets } from '../domain/scenarios';
import { FIXTURE_CONTAINER } from '../domain/fixtures';
import { ExecCommandError, execInPod } from '../kube/exec';
import { driverFor } from '../tools';
import { ToolOutputError } from '../tools/errors';
import { heartbeatWhile } from './liveness';

export interface MeasureInput {
  outputDir: string;
  ns: string;
  scenario: string;
  round: number;
  step?: number;
  targets: Targets;
  seconds: number;
  execTimeoutSec: number;
}

export function makeMeasureActivities(deps: { kubeConfig: KubeConfig }) {
  return {
    async measure(input: MeasureInput): Promise<Measurement> {
      const ctx = Context.current();
      const s = scenarioById(input.scenario, input.step);
      const ip = targetIp(input.targets, s.target);
      if (!ip) throw ApplicationFailure.nonRetryable(`no address for target ${s.target}`, 'BadTarget');
      const rel = rawFile(s, input.round, input.step);
      const file = path.join(input.outputDir, rel);
      await mkdir(path.dirname(file), { recursive: true });
      const driver = driverFor(s);
      const argv = driver.argv(s, { ip, seconds: input.seconds });
      const started = Date.now();
      let exitCode: number | undefined;
      let stderr = '';
      try {
        const r = await heartbeatWhile(
          () =>
            execInPod({
              kubeConfig: deps.kubeConfig,
              namespace: input.ns,
              pod: s.client,
              container: FIXTURE_CONTAINER[s.client],
              command: argv,
              timeoutMs: input.execTimeoutSec * 1000,
              signal: ctx.cancellationSignal,
              stdoutFile: `${file}.partial`,
            }),
          () => ({ elapsedSec: Math.round((Date.now() - started) / 1000), of: input.seconds }),
        );
        exitCode = r.exitCode;
        stderr = r.stderr ?? '';
      } catch (err) {
        // A non-zero exit still leaves the tool's own output (iperf3 prints an error JSON): parse it for the reason.
        if (!(err instanceof ExecCommandError)) throw err;
        exitCode = err.exitCode;
        stderr = err.stderrTail;
      }
      await rename(`${file}.partial`, file).catch(() => undefined);
      if (stderr.trim()) await writeFile(`${file}.err`, stderr);
      const text = await readFile(file, 'utf8').catch(() => '');
      try {
        const { value, figures } = driver.parse({ stdout: text, stderr });
        return { scenario: s.id, round: input.round, step: input.step, ok: true, value, figures, file: rel, seconds: (Date.now() - started) / 1000, attempts: ctx.info.attempt };
      } catch (err) {
        if (err instanceof ToolOutputError) {
          const code = exitCode ? ` (exit ${exitCode})` : '';
          throw ApplicationFailure.retryable(`${s.tool}: ${err.reason}${code}`, 'ToolOutputError');
        }
        throw err;
      }
    },
  };
}
