/**
 * compareClusters: one benchmarkRun per cluster (in parallel or one after
 * another), each on the task queue of a worker holding that cluster's
 * credentials; then the side-by-side "At a glance" comparison. Returns ids
 * and statuses only (each child's full results stay in its own history).
 */
import { executeChild, isCancellation, ParentClosePolicy, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BenchmarkInput } from './benchmark';
import { benchmarkRun } from './benchmark';
import { clusterActivities, failureReason } from './common';
import { childRunId, compareProgressQuery, type CompareProgress } from '../shared';

export interface CompareClustersInput {
  clusters: { contextName: string; taskQueue: string; input: BenchmarkInput }[];
  mode: 'parallel' | 'sequential';
  /** where the comparison (compare.md + chart) is written on the worker */
  outputDir: string;
}

export interface CompareClustersResult {
  runs: { contextName: string; workflowId: string; status: 'completed' | 'failed' | 'cancelled'; reason?: string; outputDir: string }[];
  compareFile?: string;
}


export async function compareClusters(input: CompareClustersInput): Promise<CompareClustersResult> {
  const parent = workflowInfo().workflowId;
  const runs: CompareClustersResult['runs'] = input.clusters.map((c) => ({
    contextName: c.contextName,
    workflowId: childRunId(parent, c.contextName),
    status: 'failed' as const,
    reason: 'not started',
    outputDir: c.input.outputDir,
  }));
  const progress: CompareProgress = { clusters: runs.map((r) => ({ contextName: r.contextName, workflowId: r.workflowId, state: 'pending' })) };
  setHandler(compareProgressQuery, () => progress);
  const show = () =>
    setCurrentDetails(['| cluster | run | state |', '| --- | --- | --- |', ...progress.clusters.map((c) => `| ${c.contextName} | ${c.workflowId} | ${c.state} |`)].join('\n'));
  show();

  const one = async (i: number) => {
    const c = input.clusters[i];
    progress.clusters[i].state = 'running';
    show();
    try {
      await executeChild(benchmarkRun, {
        workflowId: runs[i].workflowId,
        taskQueue: c.taskQueue,
        args: [c.input],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `netbench on ${c.contextName} (part of ${parent})`,
      });
      runs[i].status = 'completed';
      delete runs[i].reason;
    } catch (err) {
      if (isCancellation(err)) {
        runs[i].status = 'cancelled';
        runs[i].reason = 'cancelled';
        throw err;
      }
      runs[i].status = 'failed';
      runs[i].reason = failureReason(err);
    } finally {
      progress.clusters[i].state = runs[i].status;
      show();
    }
  };
  if (input.mode === 'parallel') await Promise.all(input.clusters.map((_, i) => one(i)));
  else for (let i = 0; i < input.clusters.length; i++) await one(i);

  const done = runs.filter((r) => r.status === 'completed');
  let compareFile: string | undefined;
  if (done.length >= 2) {
    const r = await clusterActivities('write the side-by-side comparison').writeComparison({
      outputDir: input.outputDir,
      runs: done.map((d) => ({ name: d.contextName, dir: d.outputDir })),
    });
    compareFile = r.file;
  }
  return { runs, compareFile };
}
