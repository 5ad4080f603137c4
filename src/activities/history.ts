/**
 * Earlier runs, through Temporal itself: the baseline of the regression
 * check is the previous successful run of the same cluster and plan
 * (visibility query on netbench's search attributes), or a pinned run id.
 */
import type { Client } from '@temporalio/client';
import { headlines, type Headline } from '../domain/regression';
import type { RunResults } from '../domain/results';
import { SA, WORKFLOW } from '../shared';

export interface BaselineFound {
  workflowId: string;
  startedAt: string;
  headlines: Headline[];
}

export function makeHistoryActivities(deps: { temporal?: () => Promise<Client> }) {
  return {
    async findBaseline(input: { cluster: string; planKey: string; currentWorkflowId: string; baselineWorkflowId?: string }): Promise<BaselineFound | { reason: string }> {
      if (!deps.temporal) return { reason: 'this worker has no Temporal client for history look-ups' };
      const client = await deps.temporal();
      let id = input.baselineWorkflowId;
      if (!id) {
        const q = `WorkflowType = '${WORKFLOW.benchmarkRun}' AND ExecutionStatus = 'Completed' AND ${SA.cluster.name} = '${input.cluster.replace(/'/g, "\\'")}' AND ${SA.plan.name} = '${input.planKey}' AND WorkflowId != '${input.currentWorkflowId.replace(/'/g, "\\'")}'`;
        for await (const w of client.workflow.list({ query: q })) {
          id = w.workflowId;
          break;
        }
        if (!id) return { reason: `no earlier completed run of cluster ${input.cluster} with the same plan (${input.planKey})` };
      }
      let results: RunResults;
      try {
        results = (await client.workflow.getHandle(id).result()) as RunResults;
      } catch (err) {
        return { reason: `baseline ${id} has no result: ${(err as Error).message}` };
      }
      return { workflowId: id, startedAt: results.startedAt, headlines: headlines(results) };
    },
  };
}
