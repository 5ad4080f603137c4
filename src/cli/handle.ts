/**
 * The commands on one run, by workflow id: status, watch, approve/decline
 * (the LB-map Update), cancel, resume and result.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { RunResults } from '../domain/results';
import { buildSummary } from '../domain/summary';
import { writeRunFiles } from '../report/files';
import { renderSummaryTable } from '../report/terminal';
import { approveLbMapFixUpdate, progressQuery } from '../shared';
import { connect, workflowUrl, type TemporalTarget } from './connect';
import { progressLine } from './progress';
import { RESUME_HELP, ResumeRefused, startResume } from './resume';
import { finish, writtenResults } from './run';
import { COMMON_FLAGS, target, UsageError } from './usage';

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

export async function statusMain(argv: string[]) {
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

export async function watchMain(argv: string[]) {
  return withHandle('watch', argv, {}, 'netbench watch ID: follow a run until it ends (redraws on a terminal, one line per change elsewhere)\n', (h, _v, t) => finish(h, t));
}

export async function decideMain(approve: boolean, argv: string[]) {
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

export async function cancelMain(argv: string[]) {
  return withHandle('cancel', argv, {}, 'netbench cancel ID: cancel a run; its cleanup (and Hubble restore) still runs\n', async (h) => {
    await h.cancel();
    process.stdout.write(`cancellation requested for ${h.workflowId}; cleanup runs before it ends (netbench watch ${h.workflowId})\n`);
    return 0;
  });
}

export async function resumeMain(argv: string[]) {
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

export async function resultMain(argv: string[]) {
  return withHandle('result', argv, { dir: { type: 'string' } }, 'netbench result ID [--dir DIR]: write benchmark-summary.json, report.md, report.html and netbench-results.json of a finished run (default: its own output directory) and print the summary\n', async (h, v) => {
    const d = await h.describe();
    if (d.status.name === 'RUNNING') throw new UsageError(`run ${h.workflowId} is still running (netbench watch ${h.workflowId})`);
    // A failed or cancelled run has no result; what it measured is in the results file its worker wrote.
    const results = d.status.name === 'COMPLETED' ? ((await h.result()) as RunResults) : await writtenResults(h);
    if (!results) throw new UsageError(`run ${h.workflowId} ended ${d.status.name} and its worker's results file is not on this machine (see its output directory on the worker)`);
    if (d.status.name !== 'COMPLETED') process.stderr.write(`run ${h.workflowId} ended ${d.status.name}: its report shows what it measured (continue it: netbench resume ${h.workflowId})\n`);
    const dir = path.resolve((v.dir as string) ?? results.outputDir);
    const files = await writeRunFiles(dir, { ...results, outputDir: dir });
    process.stdout.write(`${renderSummaryTable(buildSummary(results), { color: !!process.stdout.isTTY })}\n`);
    process.stdout.write(`wrote ${files.length} files under ${dir}\n`);
    return 0;
  });
}

