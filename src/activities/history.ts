/**
 * Earlier runs, through Temporal itself: the baseline of the regression
 * check is the previous successful run of the same cluster and plan
 * (visibility query on netbench's search attributes), or a pinned run id.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { headlines, type Headline } from '../domain/regression';
import type { Measurement, RunResults, ScaleStepResult } from '../domain/results';
import type { Adopted } from '../domain/resume';
import { SA, WORKFLOW } from '../shared';

/** Run states that `netbench resume` continues (a completed run has nothing left to do). */
export const RESUMABLE_STATUSES = ['FAILED', 'TIMED_OUT', 'TERMINATED', 'CANCELLED'] as const;

type Payloads = { payloads?: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }[] | null } | null | undefined;
const first = <T>(p: Payloads): T | undefined => {
  const x = p?.payloads?.[0];
  return x ? (defaultPayloadConverter.fromPayload(x as never) as T) : undefined;
};

export interface BaselineFound {
  workflowId: string;
  startedAt: string;
  headlines: Headline[];
}

export function makeHistoryActivities(deps: { temporal?: () => Promise<Client> }) {
  return {
    /**
     * What an unfinished run completed, read from its history (and, for a
     * run that itself resumed another, what that one had adopted): every
     * fixed-phase figure and every completed Service-scale step, each tagged
     * with the run that measured it. Failed measurements are not adopted.
     */
    async loadResumable(input: { workflowId: string }): Promise<Adopted> {
      if (!deps.temporal) throw ApplicationFailure.nonRetryable('this worker has no Temporal client: it cannot read the run to resume', 'NoTemporalClient');
      const client = await deps.temporal();
      const handle = client.workflow.getHandle(input.workflowId);
      const desc = await handle.describe();
      if (desc.type !== WORKFLOW.benchmarkRun) throw ApplicationFailure.nonRetryable(`${input.workflowId} is a ${desc.type}, not a benchmark run`, 'NotResumable');
      if (!(RESUMABLE_STATUSES as readonly string[]).includes(desc.status.name)) {
        throw ApplicationFailure.nonRetryable(`run ${input.workflowId} is ${desc.status.name.toLowerCase()}: only a failed, timed-out, terminated or cancelled run can be resumed`, 'NotResumable');
      }
      const history = await handle.fetchHistory();
      const scheduled = new Map<string, { type: string; input: unknown }>();
      const own = new Map<string, Measurement>();
      const steps = new Map<number, ScaleStepResult>();
      let earlier: Adopted | undefined;
      for (const e of history.events ?? []) {
        const sch = e.activityTaskScheduledEventAttributes;
        if (sch) scheduled.set(String(e.eventId), { type: sch.activityType?.name ?? '', input: first(sch.input) });
        const done = e.activityTaskCompletedEventAttributes;
        if (done) {
          const what = scheduled.get(String(done.scheduledEventId));
          if (what?.type === 'measure') {
            const m = first<Measurement>(done.result);
            if (m?.ok && m.step === undefined) own.set(`${m.scenario}#${m.round}`, { ...m, adoptedFrom: input.workflowId });
          } else if (what?.type === 'loadResumable') {
            earlier = first<Adopted>(done.result);
          }
        }
        const child = e.childWorkflowExecutionCompletedEventAttributes;
        if (child && child.workflowType?.name === WORKFLOW.serviceScaleStep) {
          const st = first<ScaleStepResult>(child.result);
          if (st) steps.set(st.svcCount, { ...st, adoptedFrom: input.workflowId });
        }
      }
      // What the earlier run had adopted itself keeps its origin; what this run measured wins over it.
      const measurements = new Map<string, Measurement>();
      for (const m of earlier?.measurements ?? []) measurements.set(`${m.scenario}#${m.round}`, m);
      for (const [k, m] of own) measurements.set(k, m);
      const allSteps = new Map<number, ScaleStepResult>();
      for (const st of earlier?.steps ?? []) allSteps.set(st.svcCount, st);
      for (const [k, st] of steps) allSteps.set(k, st);
      return {
        fromWorkflowId: input.workflowId,
        measurements: [...measurements.values()],
        steps: [...allSteps.values()].sort((a, b) => a.svcCount - b.svcCount),
      };
    },

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
