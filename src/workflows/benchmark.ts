/**
 * benchmarkRun: the run's script. Reads top to bottom like the reference:
 * inspect cluster -> plan -> deploy fixtures -> throughput -> RPS -> latency
 * -> Hubble -> NetworkPolicy -> Service scale (one child per step) ->
 * component metrics -> report -> cleanup (non-cancellable, always).
 *
 * History stays small: counts, cursors and parsed figures only.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  executeChild,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PhaseName, RunOptions } from '../config';
import { buildPlan, isCilium, lbEntriesNeeded, roundsOf, scenariosOf, type Plan } from '../domain/plan';
import type { ClusterFacts, LbMapCheck, Measurement, PhaseRecord, RunResults, UndoRecord } from '../domain/results';
import { scenarioById, scenarioLabel, WARMUP, type Scenario, type Targets } from '../domain/scenarios';
import {
  approveLbMapFixUpdate,
  progressQuery,
  SA,
  scaleProgressSignal,
  type LbMapDecision,
  type Progress,
  type RunPhase,
} from '../shared';
import { clusterActivities, failureReason, formatFigure, longActivities, measureOnce, pause, settle, type MeasureContext } from './common';
import { scaleChildOptions, serviceScaleStep } from './scale';
import { compareHeadlines, headlines, planKey, type RegressionReport } from '../domain/regression';
import { AdoptedWork } from '../domain/resume';

export interface BenchmarkInput {
  options: RunOptions;
  /** absolute output directory on the worker's filesystem */
  outputDir: string;
  /** kube context name (resolved by the client from the kubeconfig) */
  contextName: string;
  /** keep netbench's search attributes current (the client checks they are registered) */
  searchAttributes?: boolean;
  /** continue this unfinished run: adopt what it completed, measure only what is missing (netbench resume) */
  resume?: { fromWorkflowId: string };
}

/** `{date}` / `{datetime}` in the output directory (scheduled runs) become the run's start time, UTC. */
export function datedDir(dir: string, start: Date): string {
  const iso = start.toISOString();
  return dir.replaceAll('{date}', iso.slice(0, 10)).replaceAll('{datetime}', `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`);
}

export async function benchmarkRun(rawInput: BenchmarkInput): Promise<RunResults> {
  const info = workflowInfo();
  const input = { ...rawInput, outputDir: datedDir(rawInput.outputDir, info.startTime) };
  const o = input.options;
  const results: RunResults = {
    schema: 'netbench/run-results@1',
    workflowId: info.workflowId,
    runId: info.runId,
    startedAt: new Date(Date.now()).toISOString(),
    status: 'completed',
    options: o,
    outputDir: input.outputDir,
    phases: [],
    measurements: [],
    scale: { endpointsPerSvc: o.svcEndpoints, steps: [], trusted: true },
    resources: [],
  };
  const progress: Progress = {
    phase: 'starting',
    servicesCreated: 0,
    done: 0,
    total: 0,
    failures: 0,
    trusted: true,
    lastFigures: [],
    phasesDone: [],
    phasesLeft: [],
  };

  // ---- messages ------------------------------------------------------------
  setHandler(progressQuery, () => progress);
  setHandler(scaleProgressSignal, (p) => {
    progress.scaleStep = p.step;
    progress.servicesCreated = p.servicesCreated;
    progress.scenario = p.scenario;
    progress.waitingFor = p.waitingFor;
    progress.done += p.doneDelta ?? 0;
    if (p.scenario && p.doneDelta) note(p.scenario);
    showDetails();
    upsert({ servicesCreated: p.servicesCreated });
  });
  let lbDecision: LbMapDecision | undefined;
  setHandler(
    approveLbMapFixUpdate,
    (d) => {
      lbDecision = d;
      return { accepted: true, message: d.approve ? 'LB-map fix approved: Cilium will be patched and restarted' : 'LB-map fix declined: large-scale results will be marked untrustworthy' };
    },
    {
      validator: (d) => {
        if (!progress.pendingApproval) throw new Error('no LB-map fix is waiting for a decision in this run');
        if (!d || typeof d.approve !== 'boolean') throw new Error('decision must be { approve: true|false }');
      },
    },
  );

  // ---- progress display --------------------------------------------------------
  const note = (line: string) => {
    progress.lastFigures = [...progress.lastFigures.slice(-4), { label: line.split(': ')[0], value: line.split(': ').slice(1).join(': ') }];
  };
  const showDetails = () => {
    const rows = [
      `**${progress.phase}**${progress.scaleStep ? ` — step ${progress.scaleStep} Services` : ''} — ${progress.done}/${progress.total} done` +
        (progress.failures ? `, ${progress.failures} failed` : '') +
        (progress.trusted ? '' : ' — ⚠ large-scale results untrusted'),
      '',
      '| phase | state |',
      '| --- | --- |',
      ...progress.phasesDone.map((p) => `| ${p} | done |`),
      ...(isPhase(progress.phase) ? [`| ${progress.phase} | running${progress.scenario ? `: ${progress.scenario}` : ''} |`] : []),
      ...progress.phasesLeft.filter((p) => p !== progress.phase && !progress.phasesDone.includes(p)).map((p) => `| ${p} | to do |`),
      ...(progress.waitingFor ? ['', `Waiting for: ${progress.waitingFor}`] : []),
      ...(progress.lastFigures.length ? ['', '| last figures | |', '| --- | --- |', ...progress.lastFigures.map((f) => `| ${f.label} | ${f.value} |`)] : []),
    ];
    setCurrentDetails(rows.join('\n'));
  };
  const upsert = (v: { phase?: string; scaleStep?: number; servicesCreated?: number; trusted?: boolean; clusterType?: string; regression?: boolean }) => {
    if (!input.searchAttributes) return;
    const pairs = [];
    if (v.phase !== undefined) pairs.push({ key: SA.phase, value: v.phase });
    if (v.scaleStep !== undefined) pairs.push({ key: SA.scaleStep, value: v.scaleStep });
    if (v.servicesCreated !== undefined) pairs.push({ key: SA.servicesCreated, value: v.servicesCreated });
    if (v.trusted !== undefined) pairs.push({ key: SA.trusted, value: v.trusted });
    if (v.clusterType !== undefined) pairs.push({ key: SA.clusterType, value: v.clusterType });
    if (v.regression !== undefined) pairs.push({ key: SA.regression, value: v.regression });
    if (pairs.length) upsertSearchAttributes(pairs);
  };
  const enter = (phase: RunPhase) => {
    if (isPhase(progress.phase) && !progress.phasesDone.includes(progress.phase)) progress.phasesDone.push(progress.phase);
    progress.phase = phase;
    progress.scenario = undefined;
    progress.waitingFor = undefined;
    showDetails();
    upsert({ phase });
  };
  const record = (s: Scenario, m: Measurement) => {
    results.measurements.push(m);
    progress.done++;
    if (!m.ok) progress.failures++;
    note(`${scenarioLabel(s, m.round, o.rounds, m.step)}: ${formatFigure(s, m)}`);
    showDetails();
  };
  const phaseRecord = (phase: PhaseName, status: PhaseRecord['status'], reason?: string) => {
    results.phases.push({ phase, status, ...(reason ? { reason } : {}) });
  };

  let hubbleDisabled = false;
  /** a policy netbench applied and has not deleted yet */
  let policyApplied: 'l3l4' | 'l7' | undefined;
  /** bpf-lb-map-max as it was before netbench raised it ({ previous: undefined }: the key was not set) */
  let lbMapBefore: { previous?: string } | undefined;
  const undone: UndoRecord[] = [];
  /** One undo step: its own retries are the activity's; what still fails is recorded with what to do by hand. */
  const undo = async (what: string, manual: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      undone.push({ what, ok: true });
    } catch (err) {
      undone.push({ what, ok: false, reason: failureReason(err), manual });
    }
  };
  let hubbleNote: string | undefined;
  let plan: Plan | undefined;
  let cancelled: unknown;
  let refusedBeforeChanges = false;
  let adopted = new AdoptedWork(undefined);
  /** every (scenario, round) of a phase */
  const roundsOfPhase = (phase: PhaseName) => scenariosOf(phase).flatMap((s) => Array.from({ length: roundsOf(s, o.rounds) }, (_, i) => ({ scenario: s.id, round: i + 1 })));
  /** A phase whose every round an earlier run measured: record those figures, run nothing. */
  const adoptWhole = (phase: PhaseName): boolean => {
    if (!adopted.hasAll(roundsOfPhase(phase))) return false;
    enter(phase);
    for (const r of roundsOfPhase(phase)) record(scenarioById(r.scenario), adopted.take(r.scenario, r.round)!);
    phaseRecord(phase, 'done', `adopted from ${adopted.adopted!.fromWorkflowId}`);
    return true;
  };
  try {
    // ---- 1-3. prerequisites, cluster type, context record ------------------------
    enter('inspect');
    const cluster: ClusterFacts = await clusterActivities('inspect cluster: nodes, type, versions').inspectCluster({
      context: o.context,
      kubeconfig: o.kubeconfig,
      contextName: input.contextName,
      outputDir: input.outputDir,
    });
    results.cluster = cluster;
    progress.clusterType = cluster.clusterType;
    upsert({ clusterType: cluster.clusterType, trusted: true });
    plan = buildPlan(o, cluster.clusterType);
    progress.total = plan.totalUnits;
    progress.phasesLeft = plan.phases.filter((p) => p.run).map((p) => p.phase);
    for (const p of plan.phases.filter((x) => !x.run)) phaseRecord(p.phase, 'skipped', p.reason);
    const runs = (phase: PhaseName) => plan!.phases.find((p) => p.phase === phase)?.run ?? false;

    // ---- namespaces: a user's namespace is never taken over by mistake (added in 0.3) ----
    if (patched('netbench-namespace-claim')) {
      refusedBeforeChanges = true; // until the claim succeeds: a refused run has nothing to clean up
      await clusterActivities(`check namespaces ${o.ns} and ${o.scaleNamespace} are netbench's to use`).claimNamespaces({
        workloads: o.ns,
        services: o.scaleNamespace,
        useExisting: o.useExistingNs ?? false,
      });
      refusedBeforeChanges = false;
    }

    // ---- resume: what the unfinished run completed is adopted, not measured again ---
    if (input.resume) {
      adopted = new AdoptedWork(
        await clusterActivities(`adopt what ${input.resume.fromWorkflowId} completed`).loadResumable({ workflowId: input.resume.fromWorkflowId }),
      );
    }

    // ---- 4-5. test workloads ------------------------------------------------------
    enter('deploy');
    const targets: Targets = await longActivities('deploy test workloads and wait Ready (300 s)').deployFixtures({
      ns: o.ns,
      serverNode: cluster.nodes[0].name,
      clientNode: cluster.nodes[1].name,
      images: { iperf: o.iperfImage, netperf: o.netperfImage, fortio: o.fortioImage },
      readyTimeoutSec: 300,
    });
    const ctx: MeasureContext = { options: o, outputDir: input.outputDir, targets };
    const component = isCilium(cluster.clusterType)
      ? { name: 'cilium_agent' as const, selector: 'k8s-app=cilium', csv: 'cilium' }
      : { name: 'kubeproxy' as const, selector: 'k8s-app=kube-proxy', csv: 'kubeproxy' };

    /** Every scenario of a phase, ROUNDS each, ROUND_SLEEP after each round, with the resource monitor running. */
    const runPhase = async (phase: PhaseName, monitor: boolean) => {
      enter(phase);
      const mon = new CancellationScope();
      const monitorDone = monitor
        ? mon
            .run(() =>
              longActivities(`resource monitor (${component.selector}, every 5 s)`).monitorResources({
                labelSelector: component.selector,
                csvFile: `${input.outputDir}/resources/${component.csv}_${phase}.csv`,
                intervalSec: 5,
              }),
            )
            .catch(() => undefined)
        : Promise.resolve();
      for (const s of scenariosOf(phase)) {
        for (let r = 1; r <= roundsOf(s, o.rounds); r++) {
          const prior = adopted.take(s.id, r);
          if (prior) {
            record(s, prior);
            continue;
          }
          progress.scenario = scenarioLabel(s, r, o.rounds);
          showDetails();
          record(s, await measureOnce(ctx, s, r));
          await pause(o.roundSleep, `burst-credit recovery ${o.roundSleep} s`);
        }
      }
      mon.cancel();
      await monitorDone;
      phaseRecord(phase, 'done');
    };

    // ---- 6. throughput (with warm-up) ----------------------------------------------------
    if (runs('throughput') && !adoptWhole('throughput')) {
      enter('throughput');
      await measureOnce(ctx, WARMUP, 1); // output discarded, as in the reference
      await settle(o, 5, 'after warm-up');
      await runPhase('throughput', true);
      await settle(o, 10, 'settle after throughput');
    }
    // ---- 7. RPS ------------------------------------------------------------------------------
    if (runs('rps') && !adoptWhole('rps')) {
      await runPhase('rps', true);
      await settle(o, 10, 'settle after RPS');
    }
    // ---- 8. latency ---------------------------------------------------------------------------
    if (runs('latency') && !adoptWhole('latency')) await runPhase('latency', false);

    // ---- 9. Hubble overhead (Cilium only) ----------------------------------------------------------
    if (runs('hubble') && !adoptWhole('hubble')) {
      enter('hubble');
      const one = async (id: string) => {
        const s = scenarioById(id);
        progress.scenario = s.title;
        record(s, await measureOnce(ctx, s, 1));
      };
      await one('hubble_on');
      hubbleDisabled = true;
      const before = await longActivities('Hubble off: enable-hubble=false in cilium-config, roll the agents').setHubble({ enabled: false });
      if (before.previous === 'false') hubbleNote = 'Hubble was already disabled in cilium-config: "Hubble ON" was measured without Hubble';
      await settle(o, 15, 'Hubble off: settle');
      await one('hubble_off');
      if (before.restarted) await longActivities('Hubble on again: enable-hubble=true, roll the agents').setHubble({ enabled: true });
      hubbleDisabled = false;
      await settle(o, 10, 'Hubble on again: settle');
      phaseRecord('hubble', 'done', hubbleNote);
    }

    // ---- 10. NetworkPolicy overhead (Cilium only) ---------------------------------------------------
    if (runs('networkpolicy') && !adoptWhole('networkpolicy')) {
      enter('networkpolicy');
      const one = async (id: string) => {
        const s = scenarioById(id);
        progress.scenario = s.title;
        record(s, await measureOnce(ctx, s, 1));
      };
      const act = clusterActivities();
      await one('no_policy');
      policyApplied = 'l3l4';
      await clusterActivities('apply L3/L4 CiliumNetworkPolicy').applyPolicy({ ns: o.ns, kind: 'l3l4' });
      await settle(o, 10, 'L3/L4 policy: settle');
      await one('l3l4_policy');
      await act.deletePolicy({ ns: o.ns, kind: 'l3l4' });
      policyApplied = undefined;
      await settle(o, 5, 'policy removed: settle');
      policyApplied = 'l7';
      await clusterActivities('apply L7 CiliumNetworkPolicy (HTTP GET rule)').applyPolicy({ ns: o.ns, kind: 'l7' });
      await settle(o, 30, 'L7 policy: Envoy start');
      await one('l7_policy');
      await act.deletePolicy({ ns: o.ns, kind: 'l7' });
      policyApplied = undefined;
      await settle(o, 10, 'policy removed: settle');
      phaseRecord('networkpolicy', 'done');
    }

    // ---- 11. Service scale ---------------------------------------------------------------------------
    if (runs('service-scale')) {
      enter('service-scale');
      if (isCilium(cluster.clusterType)) results.scale.lbMap = await lbMapCapacity();
      let fromCount = 0;
      for (const svcCount of o.svcScaleSteps) {
        const prior = adopted.step(svcCount);
        if (prior) {
          // Measured by the earlier run. Its Services may be gone (its cleanup ran): the next
          // measured step creates every Service up to its count (what exists counts as done).
          results.scale.steps.push(prior);
          progress.done += 1 + prior.measurements.length;
          progress.servicesCreated = svcCount;
          fromCount = 0;
          continue;
        }
        progress.scaleStep = svcCount;
        upsert({ scaleStep: svcCount });
        showDetails();
        const step = await executeChild(serviceScaleStep, {
          ...scaleChildOptions(info.workflowId, svcCount, `${input.contextName}: scale step ${fromCount} -> ${svcCount} Services`),
          args: [
            {
              options: o,
              outputDir: input.outputDir,
              targets,
              clusterType: cluster.clusterType,
              proxyMode: cluster.proxyMode,
              fromCount,
              svcCount,
              parentWorkflowId: info.workflowId,
            },
          ],
        });
        results.scale.steps.push(step);
        progress.failures += step.measurements.filter((m) => !m.ok).length;
        progress.done += 1; // the step's creation + convergence unit
        progress.servicesCreated = svcCount;
        fromCount = svcCount;
      }
      phaseRecord('service-scale', 'done');
    }

    // ---- 12. component metrics -------------------------------------------------------------------------
    if (runs('metrics')) {
      enter('metrics');
      await pause(o.metricsSettleSecs, `quiet time before sampling ${o.metricsSettleSecs} s`);
      try {
        const stats = await longActivities(`sample ${component.selector} CPU/memory ×${o.metricsSamples}`).sampleResources({
          component: component.name,
          labelSelector: component.selector,
          samples: o.metricsSamples,
          intervalSec: 5,
          csvFile: `${input.outputDir}/resources/${component.name === 'cilium_agent' ? 'cilium_agent_cpu_mem' : 'kubeproxy_cpu_mem'}.csv`,
        });
        if (stats) results.resources.push(stats);
      } catch (err) {
        if (isCancellation(err)) throw err;
        results.component = { failures: [{ what: 'resource sampling (metrics.k8s.io)', reason: failureReason(err) }] };
      }
      try {
        const comp = await clusterActivities('component metrics: rules, BPF maps, agent RSS').collectComponentMetrics({
          proxyMode: cluster.proxyMode,
          outputDir: input.outputDir,
        });
        results.component = { ...comp, failures: [...(results.component?.failures ?? []), ...comp.failures] };
      } catch (err) {
        if (isCancellation(err)) throw err;
        results.component = { failures: [...(results.component?.failures ?? []), { what: 'component metrics', reason: failureReason(err) }] };
      }
      progress.done += 1;
      phaseRecord('metrics', 'done');
    }

    // ---- regression check against the previous run of this cluster and plan (added in 0.2) ------------
    if (patched('netbench-regression-check')) results.regression = await regressionCheck();
  } catch (err) {
    if (isCancellation(err)) {
      results.status = 'cancelled';
      cancelled = err;
    } else {
      results.status = 'failed';
      results.failure = failureReason(err);
    }
    if (isPhase(progress.phase)) phaseRecord(progress.phase, results.status === 'cancelled' ? 'cancelled' : 'failed', results.failure);
  } finally {
    // Cleanup and the report run even when the run is cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (hubbleDisabled) {
        await undo('Hubble back on (enable-hubble=true in cilium-config)', 'kubectl -n kube-system patch configmap cilium-config -p \'{"data":{"enable-hubble":"true"}}\' && kubectl -n kube-system rollout restart ds/cilium', () =>
          longActivities('restore Hubble (enable-hubble=true)').setHubble({ enabled: true }),
        );
      }
      if (policyApplied && patched('netbench-undo-policy')) {
        const kind = policyApplied;
        await undo(`CiliumNetworkPolicy ${kind} removed`, `kubectl -n ${o.ns} delete ciliumnetworkpolicy -l app.kubernetes.io/managed-by=netbench`, () =>
          clusterActivities(`remove the ${kind} CiliumNetworkPolicy`).deletePolicy({ ns: o.ns, kind }),
        );
      }
      enter('cleanup');
      if (o.skipCleanup) {
        results.cleanup = { done: false, skipped: true, reason: '--skip-cleanup' };
      } else if (refusedBeforeChanges) {
        results.cleanup = { done: false, skipped: true, reason: 'nothing to clean up: the run stopped before it created anything' };
      } else {
        try {
          const gone = await longActivities(`delete namespaces ${o.ns} and ${o.scaleNamespace}`).deleteNamespaces({ namespaces: [o.ns, o.scaleNamespace] });
          results.cleanup = { done: true, skipped: false, ...(gone.kept?.length ? { kept: gone.kept } : {}) };
        } catch (err) {
          results.cleanup = { done: false, skipped: false, reason: failureReason(err) };
        }
      }
      // The LB map goes back to its size only once the dummy Services are gone (it must hold them until then).
      if (lbMapBefore) {
        const before = lbMapBefore.previous;
        await undo(
          `cilium-config bpf-lb-map-max back to ${before ?? '(unset)'}, Cilium restarted`,
          before === undefined
            ? `kubectl -n kube-system patch configmap cilium-config --type=json -p '[{"op":"remove","path":"/data/bpf-lb-map-max"}]' && kubectl -n kube-system rollout restart ds/cilium`
            : `kubectl -n kube-system patch configmap cilium-config -p '{"data":{"bpf-lb-map-max":"${before}"}}' && kubectl -n kube-system rollout restart ds/cilium`,
          () => longActivities('restore bpf-lb-map-max, roll the agents').restoreCiliumConfig({ key: 'bpf-lb-map-max', previous: before, timeoutSec: 300 }),
        );
      }
      if (undone.length) results.undo = undone;
      const resumed = adopted.record();
      if (resumed) results.resumedFrom = resumed;
      enter('report');
      results.finishedAt = new Date(Date.now()).toISOString();
      try {
        await clusterActivities('write benchmark-summary.json and report.md').writeReport({ results });
      } catch (err) {
        // The run's figures are in its result; the CLI writes the files from there (netbench result) and says why.
        results.reportFailure = failureReason(err);
      }
      enter('done');
    });
  }
  if (cancelled) throw cancelled;
  if (results.status === 'failed') {
    throw ApplicationFailure.nonRetryable(results.failure ?? 'run failed', 'BenchmarkFailed');
  }
  return results;

  async function regressionCheck(): Promise<RegressionReport> {
    const tolerancePct = o.regressionTolerance ?? 10;
    const none = (reason: string): RegressionReport => ({ reason, tolerancePct, regressions: [], improvements: [], compared: 0 });
    try {
      const found = await clusterActivities(o.baseline ? `load pinned baseline ${o.baseline}` : 'find the previous run of this cluster and plan').findBaseline({
        cluster: input.contextName,
        planKey: planKey(o),
        currentWorkflowId: info.workflowId,
        baselineWorkflowId: o.baseline,
      });
      if ('reason' in found) return none(found.reason);
      const cmp = compareHeadlines(headlines(results), found.headlines, tolerancePct);
      if (cmp.regressions.length) upsert({ regression: true });
      return { baselineWorkflowId: found.workflowId, baselineStartedAt: found.startedAt, tolerancePct, ...cmp };
    } catch (err) {
      if (isCancellation(err)) throw err;
      return none(`baseline look-up failed: ${failureReason(err)}`);
    }
  }

  // ---- the Cilium LB-map capacity check: a person approves in the loop, or AUTO_FIX_LB_MAP --------------
  async function lbMapCapacity(): Promise<LbMapCheck> {
    const act = clusterActivities();
    const current = await act.getLbMapMax();
    const needed = lbEntriesNeeded(o);
    if (needed <= current) return { current, needed, decision: 'not-needed', applied: false };
    const proposed = needed * 2;
    let decision: LbMapCheck['decision'];
    let decidedBy: string | undefined;
    if (o.autoFixLbMap) {
      decision = 'auto';
      decidedBy = 'AUTO_FIX_LB_MAP=true';
    } else {
      progress.pendingApproval = { current, needed, proposed };
      progress.waitingFor = `approval: raise bpf-lb-map-max ${current} -> ${proposed} and restart Cilium (netbench approve|decline ${info.workflowId})`;
      showDetails();
      upsert({ phase: 'awaiting-approval' });
      const answered = await condition(() => lbDecision !== undefined, o.lbMapApprovalTimeout * 1000, {
        summary: `waiting for approveLbMapFix (up to ${o.lbMapApprovalTimeout} s)`,
      });
      progress.pendingApproval = undefined;
      progress.waitingFor = undefined;
      upsert({ phase: 'service-scale' });
      decision = !answered ? 'timed-out' : lbDecision!.approve ? 'approved' : 'declined';
      decidedBy = answered ? lbDecision!.by : undefined;
    }
    const check: LbMapCheck = { current, needed, proposed, decision, applied: false, ...(decidedBy ? { decidedBy } : {}) };
    if (decision === 'auto' || decision === 'approved') {
      try {
        const patchedFrom = await clusterActivities(`patch cilium-config bpf-lb-map-max=${proposed}`).patchLbMapMax({ value: proposed });
        if (patched('netbench-restore-lbmap')) lbMapBefore = { previous: patchedFrom?.previous };
        progress.waitingFor = 'rollout of ds/cilium and deploy/cilium-operator';
        showDetails();
        await longActivities('rollout restart ds/cilium, deploy/cilium-operator; wait Ready (300 s)').rolloutRestartCilium({ timeoutSec: 300 });
        await settle(o, 10, 'after Cilium restart');
        check.after = await act.getLbMapMax();
        check.applied = true;
      } catch (err) {
        if (isCancellation(err)) throw err;
        check.decision = 'failed';
        check.reason = failureReason(err);
      }
    }
    if (!check.applied) {
      const fits = Math.floor(current / (o.svcEndpoints + 1));
      results.scale.trusted = false;
      results.scale.untrustedReason =
        `Cilium's LB map holds ${current} entries but ${needed} are needed; the fix was ${check.decision}` +
        (check.reason ? ` (${check.reason})` : '') +
        `: results above ~${fits} Services may show map overflow (forwarding failures), not datapath scaling`;
      progress.trusted = false;
      upsert({ trusted: false });
    }
    progress.waitingFor = undefined;
    showDetails();
    return check;
  }
}

function isPhase(p: RunPhase): p is PhaseName {
  return ['throughput', 'rps', 'latency', 'hubble', 'networkpolicy', 'service-scale', 'metrics'].includes(p);
}
