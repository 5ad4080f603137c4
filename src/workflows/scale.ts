/**
 * serviceScaleStep: one child workflow per Service-scale step, so each
 * step's history is its own and visible in the UI. create the missing dummy
 * Services -> wait until the datapath really programmed them (measured, not
 * a fixed sleep) -> count rules -> measure.
 */
import { getExternalWorkflowHandle, patched, workflowInfo, setCurrentDetails, ParentClosePolicy } from '@temporalio/workflow';
import type { RunOptions } from '../config';
import type { ClusterType, Convergence, Measurement, ProxyMode, ScaleStepResult } from '../domain/results';
import { SCALE_SCENARIOS, scenarioLabel, type Targets } from '../domain/scenarios';
import { roundsOf } from '../domain/plan';
import { scaleProgressSignal } from '../shared';
import { failureReason, formatFigure, longActivities, clusterActivities, measuredNow, measureOnce, pause } from './common';

export interface ScaleStepInput {
  options: RunOptions;
  outputDir: string;
  targets: Targets;
  clusterType: ClusterType;
  proxyMode: ProxyMode;
  /** Services that exist before this step (the previous step's count) */
  fromCount: number;
  svcCount: number;
  /** parent to report progress to (absent when run on its own) */
  parentWorkflowId?: string;
}

export async function serviceScaleStep(input: ScaleStepInput): Promise<ScaleStepResult> {
  const { options: o, svcCount, fromCount } = input;
  const parent = input.parentWorkflowId ? getExternalWorkflowHandle(input.parentWorkflowId) : undefined;
  // A signal is an event in both histories. From 0.3 on a finished measurement's figure rides on the
  // next signal (the next start, or the step's last signal) instead of one of its own; runs recorded
  // before signalled both, and replay keeps that.
  const quiet = patched('netbench-quiet-signals');
  let untold: { doneDelta: number; lastFigure?: string } = { doneDelta: 0 };
  const send = async (p: { scenario?: string; waitingFor?: string; servicesCreated?: number; doneDelta?: number; lastFigure?: string }) => {
    // Progress display only: a parent that cannot be signalled (closed, or run on its own) does not change the step's figures.
    if (parent) await parent.signal(scaleProgressSignal, { step: svcCount, servicesCreated: p.servicesCreated ?? svcCount, ...p }).catch(() => undefined);
  };
  const report = async (p: { scenario?: string; waitingFor?: string; servicesCreated?: number; doneDelta?: number }) => {
    setCurrentDetails(`**Scale step ${svcCount} Services** — ${p.scenario ?? p.waitingFor ?? ''}`);
    if (!quiet) return send(p);
    if (p.doneDelta) {
      untold = { doneDelta: untold.doneDelta + p.doneDelta, lastFigure: p.scenario };
      return;
    }
    await send({ ...p, ...(untold.doneDelta ? untold : {}) });
    untold = { doneDelta: 0 };
  };
  /** The last figure of the step, if no later signal carried it. */
  const flush = async () => {
    if (quiet && untold.doneDelta) await send({ scenario: untold.lastFigure, ...untold });
    untold = { doneDelta: 0 };
  };

  // 1. Create the missing dummy Services in SVC_CREATE_PARALLEL contiguous slices, each resumable from its heartbeat.
  await report({ waitingFor: `creating dummy Services ${fromCount + 1}..${svcCount}`, servicesCreated: fromCount });
  const started = Date.now();
  const missing = svcCount - fromCount;
  const slices = Math.max(1, Math.min(o.svcCreateParallel, missing));
  const per = Math.ceil(missing / slices);
  const parts = [];
  for (let k = 0; k < slices; k++) {
    const from = fromCount + 1 + k * per;
    const to = Math.min(svcCount, from + per - 1);
    if (from > to) break;
    parts.push(
      longActivities(`create dummy Services ${from}..${to}`).createDummyServices({
        namespace: o.scaleNamespace,
        from,
        to,
        endpointsPerService: o.svcEndpoints,
        endpointsMode: o.endpointsMode,
      }),
    );
  }
  const made = await Promise.all(parts);
  const created = made.reduce((a, m) => a + m.created, 0);
  const existed = made.reduce((a, m) => a + m.existed, 0);
  const createSeconds = (Date.now() - started) / 1000;
  await report({ waitingFor: 'datapath convergence', servicesCreated: svcCount });

  // 2. Wait until the datapath shows every dummy Service (measured convergence time).
  let convergence: Convergence;
  try {
    convergence = await longActivities(`wait for ${input.proxyMode} datapath to program ${svcCount} Services`).waitDatapathConverged({
      proxyMode: input.proxyMode,
      scaleNamespace: o.scaleNamespace,
      expectedServices: svcCount,
      endpointsPerService: o.svcEndpoints,
      timeoutSec: o.syncTimeout,
    });
  } catch (err) {
    convergence = { metric: 'none', expected: svcCount, observed: -1, converged: false, seconds: 0, reason: failureReason(err) };
  }

  // 3. Rule counts at this scale (the reference's per-step files).
  let rules: { rulesCount?: number; kubeServicesChain?: number } = {};
  try {
    rules = await clusterActivities(`count datapath rules at ${svcCount} Services`).countRules({
      proxyMode: input.proxyMode,
      outputDir: input.outputDir,
      svcCount,
    });
  } catch (err) {
    convergence.reason = [convergence.reason, `rule count failed: ${failureReason(err)}`].filter(Boolean).join('; ');
  }

  // 4. Measure: keepalive, short connections, TCP_CRR, TCP_RR (ROUNDS each, ROUND_SLEEP after each).
  const measurements: Measurement[] = [];
  let pauseSeconds = 0;
  for (const s of SCALE_SCENARIOS.filter(measuredNow)) {
    for (let r = 1; r <= roundsOf(s, o.rounds); r++) {
      const label = scenarioLabel(s, r, o.rounds, svcCount);
      await report({ scenario: label });
      const m = await measureOnce(input, s, r, svcCount);
      measurements.push(m);
      await report({ scenario: `${label}: ${formatFigure(s, m)}`, doneDelta: 1 });
      pauseSeconds += await pause(o.roundSleep, `burst-credit recovery ${o.roundSleep} s`);
    }
  }
  await flush();

  return {
    svcCount,
    created,
    existed,
    createSeconds,
    createRatePerSec: createSeconds > 0 ? (created + existed) / createSeconds : 0,
    convergence,
    ...rules,
    measurements,
    pauseSeconds,
  };
}

/** Deterministic child id: a resumed parent finds the same child instead of starting another. */
export function scaleStepWorkflowId(parentId: string, svcCount: number): string {
  return `${parentId}/scale-${svcCount}`;
}

export const scaleChildOptions = (parentId: string, svcCount: number, summary: string) => ({
  workflowId: scaleStepWorkflowId(parentId, svcCount),
  parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  staticSummary: summary,
  taskQueue: workflowInfo().taskQueue,
});
