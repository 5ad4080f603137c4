/**
 * `netbench resume ID`: continue a run that failed, timed out, was
 * terminated or cancelled. A new benchmarkRun starts with the same input
 * (options, output directory, cluster) and `resume.fromWorkflowId`; it
 * adopts what the earlier run completed (read from that run's history by
 * the loadResumable activity) and measures only what is missing.
 *
 * Why a new run and not Temporal's reset: a reset replays the whole earlier
 * history into the new run (it grows with every resume), and it would
 * continue from a point where the cluster was as the earlier run had it,
 * although that run's cleanup has since deleted the fixtures and Services.
 * A new run re-creates what the next step needs, carries only the adopted
 * figures (each tagged with the run that measured it), and its history is
 * as small as any run's.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { planKey } from '../domain/regression';
import { SA, WORKFLOW } from '../shared';
import type { BenchmarkInput, benchmarkRun } from '../workflows/benchmark';

/** Run states that can be resumed (kept in step with activities/history.ts RESUMABLE_STATUSES). */
const RESUMABLE = ['FAILED', 'TIMED_OUT', 'TERMINATED', 'CANCELLED'];

export class ResumeRefused extends Error {}

export const RESUME_HELP = `netbench resume ID: continue a run that failed, timed out, was terminated or cancelled

Usage: netbench resume WORKFLOW_ID [--wait] [--id NEW_ID]

A new run starts with the same options, cluster and output directory. What the
earlier run completed is adopted and not measured again: every fixed-phase
figure, the Hubble and NetworkPolicy phases when complete, and every completed
Service-scale step. The fixtures and the Services the next step needs are
created again (what still exists counts as done). The report says which
figures came from which run.

Options:
  --wait        follow the new run until it ends, then print the summary
  --id NEW_ID   workflow id of the new run (default: <ID>-resume-<UTC time>)
  -h, --help    this help
`;

/** Start the run that resumes `id`; refuses (before anything starts) a run that is running, completed or not a benchmark. */
export async function startResume(client: Client, id: string, newId?: string): Promise<WorkflowHandle<typeof benchmarkRun>> {
  const old = client.workflow.getHandle(id);
  let desc;
  try {
    desc = await old.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ResumeRefused(`no run with id "${id}"`);
    throw err;
  }
  if (desc.type !== WORKFLOW.benchmarkRun) throw new ResumeRefused(`"${id}" is a ${desc.type} workflow, not a benchmark run`);
  const status = desc.status.name;
  if (status === 'RUNNING') throw new ResumeRefused(`run ${id} is still running: nothing to resume (follow it with netbench watch ${id})`);
  if (status === 'COMPLETED') throw new ResumeRefused(`run ${id} completed: nothing to resume (its results: netbench result ${id})`);
  if (!RESUMABLE.includes(status)) throw new ResumeRefused(`run ${id} is ${status.toLowerCase()}: it cannot be resumed`);
  const history = await old.fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new ResumeRefused(`run ${id} has no input in its history`);
  const earlier = defaultPayloadConverter.fromPayload(payload as never) as BenchmarkInput;
  const input: BenchmarkInput = { ...earlier, resume: { fromWorkflowId: id } };
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const workflowId = newId ?? `${id.replace(/-resume-\d{8}T\d{6}Z$/, '')}-resume-${stamp}`;
  return client.workflow.start<typeof benchmarkRun>(WORKFLOW.benchmarkRun, {
    taskQueue: desc.taskQueue,
    workflowId,
    args: [input],
    ...(input.searchAttributes
      ? {
          typedSearchAttributes: [
            { key: SA.cluster, value: input.contextName },
            { key: SA.plan, value: planKey(input.options) },
            { key: SA.phase, value: 'starting' },
            { key: SA.trusted, value: true },
            { key: SA.regression, value: false },
          ],
        }
      : {}),
    staticSummary: `netbench on ${input.contextName}: resumes ${id}`,
    staticDetails: `**Resumes** ${id}\n\n**Output** ${input.outputDir}`,
  });
}
