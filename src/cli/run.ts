/**
 * `netbench run`: parse the run's flags, start the workflow, print its id
 * and Web UI link, and with --wait follow it to the summary table.
 */
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { ConfigError, datedDir, paramsHelp, safeDirName, toRunOptions, type Config } from '../config';
import type { RunResults } from '../domain/results';
import { buildSummary } from '../domain/summary';
import { loadKubeConfig } from '../kube/client';
import { compareRuns } from '../report/compare';
import { loadRun, nameRuns, writeRunFiles } from '../report/files';
import { renderSummaryTable } from '../report/terminal';
import { childRunId, clusterTaskQueue, compareProgressQuery, progressQuery, WORKFLOW } from '../shared';
import type { BenchmarkInput, benchmarkRun } from '../workflows/benchmark';
import type { compareClusters, CompareClustersResult } from '../workflows/compare';
import { connect, missingSearchAttributes, temporalFlagOptions, temporalTargetFrom, workflowUrl, type TemporalTarget } from './connect';
import { follow } from './progress';
import { parseRunArgs, resolveContextName, runStart } from './run-input';

export const RUN_HELP = `netbench run: start a benchmark run (a benchmarkRun workflow) on one cluster

Usage: netbench run [options]

Every parameter of the reference run, by flag or by its environment variable
(flag > environment > --config file > default):

${paramsHelp()}Run options:
  --config FILE                    JSON file of parameters (keys: names above, e.g. "rounds" or "ROUNDS")
  --wait                           follow progress until the run ends, then print the summary
  --context A --context B ...      several clusters: one run each (workers serve <queue>@<context>), then the
                                   side-by-side "At a glance" table with a Winner column
  --clusters parallel|sequential   how several clusters run (default sequential)
  --id ID                          workflow id (default: netbench-<context>-<UTC time>)
  --ui-url URL                     Temporal Web UI base URL (default: gRPC port + 1000) [env TEMPORAL_UI_URL]
  -h, --help                       this help

Examples:
  netbench run --wait
  ROUNDS=3 IPERF_DURATION=120 FORTIO_DURATION=120 netbench run --dir ./bench
  SVC_SCALE_STEPS=1000,5000,10000 AUTO_FIX_LB_MAP=true netbench run --context prod-a
`;

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** `netbench run`: start one benchmarkRun (or, with several --context, a compareClusters parent); --wait follows it. */
export async function runMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const { config, values, contexts } = parseRunArgs(argv, process.env, temporalFlagOptions);
  if (contexts.length > 1) return runClusters(config, values, contexts);
  const contextName = resolveContextName(config);
  const t: TemporalTarget = { ...temporalTargetFrom(values, process.env), address: config.temporalAddress, namespace: config.temporalNamespace };
  const client = await connect(t);
  const missing = await missingSearchAttributes(client, t.namespace);
  if (missing.length) {
    process.stderr.write(`note: search attributes not registered on namespace "${t.namespace}" (${missing.join(', ')}); the Web UI cannot filter netbench runs. Register them with: netbench setup-namespace\n`);
  }
  const { outputDir, start } = runStart(config, contextName, missing.length === 0);
  const workflowId = (values.id as string) ?? `netbench-${contextName.replace(/[^A-Za-z0-9._-]+/g, '-')}-${stamp()}`;
  const handle = await client.workflow.start<typeof benchmarkRun>(WORKFLOW.benchmarkRun, { ...start, workflowId });
  process.stdout.write(`started ${workflowId}\n  Web UI: ${workflowUrl(t, workflowId)}\n  output: ${outputDir}\n`);
  if (!values.wait) {
    process.stdout.write(`follow it with: netbench watch ${workflowId}\n`);
    return 0;
  }
  return finish(handle, t);
}

/** `run --context A --context B ...`: one benchmarkRun per cluster under a compareClusters parent. */
async function runClusters(config: Config, values: Record<string, unknown>, contexts: string[]): Promise<number> {
  const kc = (() => {
    try {
      return loadKubeConfig({ kubeconfigPath: config.kubeconfig });
    } catch (err) {
      throw new ConfigError([`kubeconfig: ${(err as Error).message}`]);
    }
  })();
  const unknown = contexts.filter((c) => !kc.getContextObject(c));
  if (unknown.length) throw new ConfigError(unknown.map((c) => `--context ${c}: not in the kubeconfig (known: ${kc.getContexts().map((x) => x.name).join(', ')})`));
  const t: TemporalTarget = { ...temporalTargetFrom(values, process.env), address: config.temporalAddress, namespace: config.temporalNamespace };
  const root = path.resolve(config.dir ?? './benchmark-results-compare');
  const client = await connect(t);
  const sa = (await missingSearchAttributes(client, t.namespace)).length === 0;
  const workflowId = (values.id as string) ?? `netbench-compare-${stamp()}`;
  const clusters = contexts.map((ctx) => ({
    contextName: ctx,
    taskQueue: clusterTaskQueue(config.taskQueue, ctx),
    input: { options: toRunOptions({ ...config, context: ctx, dir: undefined }), outputDir: path.join(root, safeDirName(ctx)), contextName: ctx, searchAttributes: sa },
  }));
  const handle = await client.workflow.start<typeof compareClusters>(WORKFLOW.compareClusters, {
    taskQueue: config.taskQueue,
    workflowId,
    args: [{ clusters, mode: (values.clusters as 'parallel' | 'sequential') ?? 'sequential', outputDir: root }],
    staticSummary: `netbench comparison: ${contexts.join(' vs ')}`,
  });
  process.stdout.write(`started ${workflowId} (${contexts.length} clusters, ${(values.clusters as string) ?? 'sequential'})\n  Web UI: ${workflowUrl(t, workflowId)}\n`);
  for (const c of clusters) process.stdout.write(`  ${c.contextName}: run ${childRunId(workflowId, c.contextName)} on task queue ${c.taskQueue} -> ${c.input.outputDir}\n`);
  process.stdout.write(`  (a worker must serve each cluster: netbench worker ${contexts.map((c) => `--context ${c}`).join(' ')})\n`);
  if (!values.wait) return 0;
  const status = await follow(handle, { progress: async () => {
    const p = await handle.query(compareProgressQuery);
    const parts = await Promise.all(p.clusters.map(async (c) => {
      if (c.state !== 'running') return `${c.contextName}: ${c.state}`;
      // Display only: a run between workflow tasks may not answer a query yet; it shows as 'running' and is asked again on the next redraw.
      const cp = await client.workflow.getHandle(c.workflowId).query(progressQuery).catch(() => undefined);
      return `${c.contextName}: ${cp ? `${cp.phase} ${cp.done}/${cp.total}` : 'running'}`;
    }));
    return parts.join(' | ');
  } });
  if (status !== 'COMPLETED') return finish(handle, t);
  const r = (await handle.result()) as CompareClustersResult;
  const done = [];
  for (const run of r.runs) {
    if (run.status !== 'completed') {
      process.stdout.write(`${run.contextName}: ${run.status}${run.reason ? ` (${run.reason})` : ''}\n`);
      continue;
    }
    const results = (await client.workflow.getHandle(run.workflowId).result()) as RunResults;
    done.push({ name: undefined, results, summary: buildSummary(results) });
  }
  if (done.length >= 2) process.stdout.write(`\n${compareRuns(nameRuns(done), { color: !!process.stdout.isTTY }).terminal}\n`);
  if (r.compareFile) process.stdout.write(`comparison: ${r.compareFile}\n`);
  return r.runs.every((x) => x.status === 'completed') ? 0 : 1;
}

/** Follow to the end; print the summary table and report paths (or the failure). */
export async function finish(handle: WorkflowHandle, t: TemporalTarget): Promise<number> {
  const status = await follow(handle, {
    approvalHint: (p) =>
      `\n⚠ The run waits for a decision: raise Cilium's bpf-lb-map-max ${p.pendingApproval!.current} -> ${p.pendingApproval!.proposed} (needs ${p.pendingApproval!.needed}) and restart Cilium?\n` +
      `  approve: netbench approve ${handle.workflowId}\n  decline: netbench decline ${handle.workflowId}  (large-scale results then marked untrustworthy)`,
  });
  if (status === 'COMPLETED') {
    const results = (await handle.result()) as RunResults;
    if (results.reportFailure) {
      // The worker could not write the files; the figures are in the run's result, so write them here.
      process.stderr.write(`⚠ the worker could not write the report files: ${results.reportFailure}\n  writing them from this machine instead\n`);
      await writeRunFiles(results.outputDir, results).catch((err: Error) =>
        process.stderr.write(`⚠ could not write them here either (${err.message}): netbench result ${handle.workflowId} --dir DIR\n`),
      );
    }
    process.stdout.write(`\n${renderSummaryTable(buildSummary(results), { color: !!process.stdout.isTTY })}\n`);
    warnLeftovers(results);
    process.stdout.write(`Results: ${results.outputDir}\n  summary: ${path.join(results.outputDir, 'benchmark-summary.json')}\n  report:  ${path.join(results.outputDir, 'report.md')}\n`);
    return 0;
  }
  try {
    await handle.result();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    process.stderr.write(`run ${handle.workflowId} ended ${status}: ${cause?.message ?? (err as Error).message}\n  Web UI: ${workflowUrl(t, handle.workflowId)}\n`);
  }
  // A failed or cancelled run has no result, but its worker wrote what it measured and what it undid.
  const written = await writtenResults(handle);
  if (written) {
    warnLeftovers(written);
    process.stderr.write(`what it measured: ${path.join(written.outputDir, 'report.md')}${status === 'CANCELLED' ? '' : `; continue it with: netbench resume ${handle.workflowId}`}\n`);
  }
  return 1;
}

/** Loud: what the run could not put back or clean up, with what to do by hand. */
export function warnLeftovers(results: RunResults): void {
  for (const u of (results.undo ?? []).filter((x) => !x.ok)) {
    process.stderr.write(`⚠ NOT UNDONE: ${u.what}: ${u.reason}\n  do it by hand: ${u.manual}\n`);
  }
  if (results.cleanup && !results.cleanup.done && !results.cleanup.skipped) {
    process.stderr.write(`⚠ cleanup failed: ${results.cleanup.reason}\n  do it by hand: kubectl delete namespace ${results.options.ns} ${results.options.scaleNamespace} (only if netbench created them)\n`);
  }
}

/** The results file the worker wrote for this run, when it is on this machine (undefined otherwise). */
export async function writtenResults(handle: WorkflowHandle): Promise<RunResults | undefined> {
  try {
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = started?.input?.payloads?.[0] ? (defaultPayloadConverter.fromPayload(started.input.payloads[0] as never) as BenchmarkInput) : undefined;
    const startTime = (await handle.describe()).startTime;
    if (!input) return undefined;
    const dir = datedDir(input.outputDir, startTime);
    const r = loadRun(dir);
    return r.workflowId === handle.workflowId ? r : undefined;
  } catch {
    return undefined;
  }
}
