/**
 * The regression check at the end of a run: compare its headline figures
 * with the previous completed run of the same cluster and plan (or a pinned
 * baseline) and flag what got worse by more than the noise. A look-up that
 * fails is a reason in the report, never a failed run.
 */
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import { compareHeadlines, headlines, planKey } from '../domain/regression';
import type { RegressionReport, RunResults } from '../domain/results';
import { clusterActivities, failureReason } from './common';
import type { RunProgress } from './progress';

export async function regressionCheck(results: RunResults, contextName: string, progress: RunProgress): Promise<RegressionReport> {
  const o = results.options;
  const tolerancePct = o.regressionTolerance ?? 10;
  const none = (reason: string): RegressionReport => ({ reason, tolerancePct, regressions: [], improvements: [], compared: 0 });
  try {
    const found = await clusterActivities(o.baseline ? `load pinned baseline ${o.baseline}` : 'find the previous run of this cluster and plan').findBaseline({
      cluster: contextName,
      planKey: planKey(o),
      currentWorkflowId: workflowInfo().workflowId,
      baselineWorkflowId: o.baseline,
    });
    if ('reason' in found) return none(found.reason);
    const cmp = compareHeadlines(headlines(results), found.headlines, tolerancePct);
    if (cmp.regressions.length) progress.upsert({ regression: true });
    return { baselineWorkflowId: found.workflowId, baselineStartedAt: found.startedAt, tolerancePct, ...cmp };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return none(`baseline look-up failed: ${failureReason(err)}`);
  }
}
