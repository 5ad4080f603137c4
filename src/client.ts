/**
 * The `netbench` CLI.
 *
 *   netbench run [options] [--wait]     start a benchmark run (prints its id and Web UI link)
 *   netbench status|watch ID            progress of a run
 *   netbench approve|decline ID         answer the Cilium LB-map fix
 *   netbench cancel ID                  cancel (cleanup still runs)
 *   netbench result ID [--dir DIR]      write summary and report of a finished run
 *   netbench worker [options]           run a worker
 *   netbench lab up|down|status|shape   the local lab cluster
 *
 * Bad input exits with status 2 and one message naming every bad field,
 * before anything talks to the cluster or to Temporal.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { ConfigError, paramsHelp, safeDirName, toRunOptions, type Config } from './config';
import { parseRunArgs, resolveContextName, runStart } from './cli/run-input';
import { loadKubeConfig } from './kube/client';
import { connect, missingSearchAttributes, TEMPORAL_FLAGS_HELP, temporalFlagOptions, temporalTargetFrom, workflowUrl, type TemporalTarget } from './cli/connect';
import { follow, progressLine } from './cli/progress';
import { approveLbMapFixUpdate, childRunId, clusterTaskQueue, compareProgressQuery, progressQuery, SA, DEFAULT_TASK_QUEUE, WORKFLOW } from './shared';
import type { RunResults } from './domain/results';
import { buildSummary } from './domain/summary';
import { renderSummaryTable } from './report/terminal';
import type { benchmarkRun } from './workflows/benchmark';
import type { compareClusters, CompareClustersResult } from './workflows/compare';
import { compareRuns } from './report/compare';
import { nameRuns, writeRunFiles } from './activities/report';
import { RESUME_HELP, ResumeRefused, startResume } from './cli/resume';

class UsageError extends Error {}

const MAIN_HELP = `netbench — Kubernetes network benchmarks (kube-proxy vs Cilium) as durable Temporal workflows

Usage: netbench <command> [options]

Commands:
  run                start a benchmark run on a cluster (netbench run --help for every parameter)
  status ID          show a run's progress once
  watch ID           follow a run's progress until it ends
  approve ID         approve the Cilium LB-map capacity fix a run is waiting for
  decline ID         decline it (large-scale results are then marked untrustworthy)
  cancel ID          cancel a run (cleanup and Hubble restore still run)
  resume ID          continue a failed, timed-out, terminated or cancelled run: adopt what it completed, measure the rest
  result ID          write benchmark-summary.json and report.md of a finished run, print the summary
  list               runs from Temporal visibility, filtered by cluster, type, status, date (netbench list --help)
  schedule ...       nightly runs on a Temporal Schedule: create|list|describe|pause|unpause|trigger|delete
  compare DIR...     side-by-side "At a glance" table of finished run directories, with a Winner column
  worker             run a netbench worker for one cluster (netbench worker --help)
  setup-namespace    register netbench's search attributes on a Temporal namespace (idempotent)
  lab up|down|status|shape  the local lab: a real control plane, kwok nodes and a kube-proxy datapath on this machine
  dev-server start|stop|status  a local Temporal dev server with the Web UI (:8233) and netbench's search attributes

Temporal options (every command): --address, --namespace, --ui-url, --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name, --api-key
(see netbench setup-namespace --help for each flag and its environment variable)
`;

const RUN_HELP = `netbench run: start a benchmark run (a benchmarkRun workflow) on one cluster

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

const COMMON_FLAGS = {
  ...temporalFlagOptions,
  help: { type: 'boolean', short: 'h' },
} as const;

function target(values: Record<string, unknown>): TemporalTarget {
  return temporalTargetFrom(values, process.env);
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

async function cmdRun(argv: string[]): Promise<number> {
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
async function finish(handle: WorkflowHandle, t: TemporalTarget): Promise<number> {
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
    for (const u of (results.undo ?? []).filter((x) => !x.ok)) {
      process.stderr.write(`⚠ NOT UNDONE: ${u.what}: ${u.reason}\n  do it by hand: ${u.manual}\n`);
    }
    if (results.cleanup && !results.cleanup.done && !results.cleanup.skipped) {
      process.stderr.write(`⚠ cleanup failed: ${results.cleanup.reason}\n  do it by hand: kubectl delete namespace ${results.options.ns} ${results.options.scaleNamespace} (only if netbench created them)\n`);
    }
    process.stdout.write(`Results: ${results.outputDir}\n  summary: ${path.join(results.outputDir, 'benchmark-summary.json')}\n  report:  ${path.join(results.outputDir, 'report.md')}\n`);
    return 0;
  }
  try {
    await handle.result();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    process.stderr.write(`run ${handle.workflowId} ended ${status}: ${cause?.message ?? (err as Error).message}\n  Web UI: ${workflowUrl(t, handle.workflowId)}\n`);
  }
  return 1;
}

function idArg(cmd: string, argv: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  const { values, positionals } = parseArgs({ args: argv, options: { ...COMMON_FLAGS, ...extra }, allowPositionals: true, strict: true });
  if (values.help) return { help: true as const, values, id: '' };
  if (positionals.length !== 1) throw new UsageError(`usage: netbench ${cmd} WORKFLOW_ID`);
  return { help: false as const, values: values as Record<string, unknown>, id: positionals[0] };
}

async function withHandle(cmd: string, argv: string[], extra: Record<string, { type: 'string' | 'boolean' }>, help: string, fn: (h: WorkflowHandle, values: Record<string, unknown>, t: TemporalTarget) => Promise<number>) {
  const a = idArg(cmd, argv, extra);
  if (a.help) {
    process.stdout.write(help);
    return 0;
  }
  const t = target(a.values);
  const client = await connect(t);
  const h = client.workflow.getHandle(a.id);
  try {
    await h.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`no run with id "${a.id}" in namespace ${t.namespace}`);
    throw err;
  }
  return fn(h, a.values, t);
}

async function cmdStatus(argv: string[]) {
  return withHandle('status', argv, {}, 'netbench status ID: show a run\'s progress once\n', async (h, _v, t) => {
    const d = await h.describe();
    process.stdout.write(`${h.workflowId}: ${d.status.name}\n  Web UI: ${workflowUrl(t, h.workflowId)}\n`);
    if (d.status.name === 'RUNNING') {
      try {
        const p = await h.query(progressQuery);
        process.stdout.write(`  ${progressLine(p)}\n`);
        for (const f of p.lastFigures) process.stdout.write(`    ${f.label}: ${f.value}\n`);
      } catch (err) {
        process.stdout.write(`  progress unavailable: ${(err as Error).message} (is a netbench worker running?)\n`);
      }
    }
    return 0;
  });
}

async function cmdWatch(argv: string[]) {
  return withHandle('watch', argv, {}, 'netbench watch ID: follow a run until it ends (redraws on a terminal, one line per change elsewhere)\n', (h, _v, t) => finish(h, t));
}

async function cmdDecide(approve: boolean, argv: string[]) {
  const cmd = approve ? 'approve' : 'decline';
  return withHandle(cmd, argv, { by: { type: 'string' } }, `netbench ${cmd} ID [--by NAME]: ${approve ? 'approve' : 'decline'} the Cilium LB-map capacity fix the run waits for\n`, async (h, v) => {
    const by = (v.by as string) ?? process.env.USER ?? 'cli';
    try {
      const r = await h.executeUpdate(approveLbMapFixUpdate, { args: [{ approve, by }] });
      process.stdout.write(`${r.message}\n`);
      return 0;
    } catch (err) {
      const cause = (err as { cause?: Error }).cause;
      throw new UsageError(`${cmd} refused: ${cause?.message ?? (err as Error).message}`);
    }
  });
}

async function cmdCancel(argv: string[]) {
  return withHandle('cancel', argv, {}, 'netbench cancel ID: cancel a run; its cleanup (and Hubble restore) still runs\n', async (h) => {
    await h.cancel();
    process.stdout.write(`cancellation requested for ${h.workflowId}; cleanup runs before it ends (netbench watch ${h.workflowId})\n`);
    return 0;
  });
}

async function cmdResume(argv: string[]) {
  const a = idArg('resume', argv, { wait: { type: 'boolean' }, id: { type: 'string' } });
  if (a.help) {
    process.stdout.write(RESUME_HELP);
    return 0;
  }
  const t = target(a.values);
  const client = await connect(t);
  let handle;
  try {
    handle = await startResume(client, a.id, a.values.id as string | undefined);
  } catch (err) {
    if (err instanceof ResumeRefused) throw new UsageError(`resume refused: ${err.message}`);
    throw err;
  }
  process.stdout.write(`started ${handle.workflowId}, resuming ${a.id}\n  Web UI: ${workflowUrl(t, handle.workflowId)}\n`);
  if (!a.values.wait) {
    process.stdout.write(`follow it with: netbench watch ${handle.workflowId}\n`);
    return 0;
  }
  return finish(handle, t);
}

async function cmdResult(argv: string[]) {
  return withHandle('result', argv, { dir: { type: 'string' } }, 'netbench result ID [--dir DIR]: write benchmark-summary.json, report.md and netbench-results.json of a finished run (default: its own output directory) and print the summary\n', async (h, v) => {
    const d = await h.describe();
    if (d.status.name === 'RUNNING') throw new UsageError(`run ${h.workflowId} is still running (netbench watch ${h.workflowId})`);
    const results = (await h.result()) as RunResults;
    const dir = path.resolve((v.dir as string) ?? results.outputDir);
    const files = await writeRunFiles(dir, { ...results, outputDir: dir });
    process.stdout.write(`${renderSummaryTable(buildSummary(results), { color: !!process.stdout.isTTY })}\n`);
    process.stdout.write(`wrote ${files.length} files under ${dir}\n`);
    return 0;
  });
}

/** The lab is not part of src/: bin/netbench sends `netbench lab ...` to lab/cli.ts. */
function cmdLab(): number {
  process.stderr.write('netbench lab: run it through bin/netbench (bin/netbench lab up|down|status|shape), or: npx tsx lab/cli.ts ...\n');
  return 2;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run':
        return await cmdRun(rest);
      case 'status':
        return await cmdStatus(rest);
      case 'watch':
        return await cmdWatch(rest);
      case 'approve':
        return await cmdDecide(true, rest);
      case 'decline':
        return await cmdDecide(false, rest);
      case 'cancel':
        return await cmdCancel(rest);
      case 'resume':
        return await cmdResume(rest);
      case 'result':
        return await cmdResult(rest);
      case 'worker': {
        const { workerMain } = await import('./worker');
        return await workerMain(rest);
      }
      case 'lab':
        return cmdLab();
      case 'setup-namespace': {
        const { setupNamespaceMain } = await import('./cli/namespace');
        return await setupNamespaceMain(rest);
      }
      case 'list': {
        const { listMain } = await import('./cli/list');
        const { values } = parseArgs({ args: rest, options: { ...COMMON_FLAGS }, strict: false });
        return await listMain(rest, () => connect(target(values)));
      }
      case 'schedule': {
        const { scheduleMain } = await import('./cli/schedule');
        return await scheduleMain(rest, (values) => connect(target(values)));
      }
      case 'compare': {
        const { compareMain } = await import('./cli/compare');
        return await compareMain(rest);
      }
      case 'dev-server': {
        const { devServerMain } = await import('./cli/devserver');
        return await devServerMain(rest);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`netbench: unknown command "${cmd}"\n\n${MAIN_HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError || (err as { usage?: boolean }).usage || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`netbench ${cmd}: ${(err as Error).message}\n${err instanceof ConfigError ? `\nSee: netbench ${cmd} --help\n` : ''}`);
      return 2;
    }
    process.stderr.write(`netbench ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}

export { DEFAULT_TASK_QUEUE };
