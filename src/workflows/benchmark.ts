/**
 * benchmarkRun: the run's script. Its body reads top to bottom like the
 * reference's main(): inspect the cluster -> plan -> deploy the test
 * workloads -> throughput -> RPS -> latency -> Hubble -> NetworkPolicy ->
 * Service scale (one child workflow per step) -> component metrics ->
 * regression check; then, always and not cancellable: undo what the run
 * changed, clean up, write the report.
 *
 * The bookkeeping lives elsewhere: progress.ts (query, current details,
 * search attributes), lbmap.ts (the LB-map approval), regression.ts (the
 * baseline comparison), undo.ts (the compensations). History stays small:
 * counts, cursors and parsed figures only.
 */
import { ApplicationFailure, CancellationScope, executeChild, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { datedDir, type PhaseName, type RunOptions } from '../config';
import { buildPlan, isCilium, roundsOf, scenariosOf, type Plan } from '../domain/plan';
import { baselineNotMeasured, CILIUM_AGENT_SELECTOR, hubbleNotMeasured, missingEndpoints, policyNotMeasured, POLICY_PODS, unknownEndpoints } from '../domain/cilium-checks';
import { KUBE_PROXY_SELECTOR, type ClusterFacts, type Measurement, type PhaseRecord, type RunResults } from '../domain/results';
import { AdoptedWork } from '../domain/resume';
import { scenarioById, scenarioLabel, WARMUP, type Scenario, type Targets } from '../domain/scenarios';
import { clusterActivities, failureReason, formatFigure, longActivities, measuredNow, measureOnce, pause, settle, type MeasureContext } from './common';
import { LbMapApproval } from './lbmap';
import { isPhase, RunProgress } from './progress';
import { regressionCheck } from './regression';
import { scaleChildOptions, serviceScaleStep } from './scale';
import { Compensations } from './undo';

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


/** The component whose resources the run samples: the Cilium agent or kube-proxy. */
function datapathComponent(cluster: ClusterFacts) {
  return isCilium(cluster.clusterType)
    ? { name: 'cilium_agent' as const, selector: CILIUM_AGENT_SELECTOR, csv: 'cilium', samplesCsv: 'cilium_agent_cpu_mem' }
    : { name: 'kubeproxy' as const, selector: KUBE_PROXY_SELECTOR, csv: 'kubeproxy', samplesCsv: 'kubeproxy_cpu_mem' };
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
  const progress = new RunProgress(!!input.searchAttributes, patched('netbench-quiet-search-attributes'));
  const lbMap = new LbMapApproval(progress);
  const undo = new Compensations();
  let adopted = new AdoptedWork(undefined);
  let cluster: ClusterFacts | undefined;
  let plan: Plan | undefined;
  let ctx: MeasureContext | undefined;
  let cancelled: unknown;

  try {
    cluster = await inspectCluster(); // 1-3. prerequisites, cluster type, context record
    plan = planRun(cluster);
    if (patched('netbench-namespace-claim')) await claimNamespaces(); // a user's namespace is never taken by mistake (0.3)
    undo.add('namespaces', { what: 'namespaces deleted', manual: '', recordsItself: true, run: cleanup });
    if (input.resume) await adoptEarlierRun(input.resume.fromWorkflowId);
    ctx = { options: o, outputDir: input.outputDir, targets: await deployWorkloads(cluster) }; // 4-5. test workloads
    if (runs('throughput')) await throughputPhase(); // 6
    if (runs('rps')) await rpsPhase(); // 7
    if (runs('latency')) await latencyPhase(); // 8
    if (runs('hubble')) await hubblePhase(); // 9 (Cilium only)
    if (runs('networkpolicy')) await networkPolicyPhase(); // 10 (Cilium only)
    if (runs('service-scale')) await serviceScalePhase(cluster); // 11
    if (runs('metrics')) await componentMetrics(cluster); // 12
    if (patched('netbench-regression-check')) results.regression = await regressionCheck(results, input.contextName, progress); // (0.2)
  } catch (err) {
    if (isCancellation(err)) {
      results.status = 'cancelled';
      cancelled = err;
    } else {
      results.status = 'failed';
      results.failure = failureReason(err);
    }
    const p = progress.state.phase;
    if (isPhase(p)) phaseRecord(p, results.status === 'cancelled' ? 'cancelled' : 'failed', results.failure);
  } finally {
    // Undo, cleanup and the report run even when the run is cancelled.
    await CancellationScope.nonCancellable(async () => {
      const records = await undo.runAll();
      if (records.length) results.undo = records;
      const resumed = adopted.record();
      if (resumed) results.resumedFrom = resumed;
      await writeReport();
      progress.enter('done');
    });
  }
  if (cancelled) throw cancelled;
  if (results.status === 'failed') throw ApplicationFailure.nonRetryable(results.failure ?? 'run failed', 'BenchmarkFailed');
  return results;

  // ---- the steps ---------------------------------------------------------------------------------

  function runs(phase: PhaseName): boolean {
    return plan?.phases.find((p) => p.phase === phase)?.run ?? false;
  }

  function phaseRecord(phase: PhaseName, status: PhaseRecord['status'], reason?: string) {
    results.phases.push({ phase, status, ...(reason ? { reason } : {}) });
  }

  /** A collection that failed (resource sampling, component metrics), listed with its reason in the summary and the report. */
  function recordFailure(what: string, reason: string) {
    results.component = { ...results.component, failures: [...(results.component?.failures ?? []), { what, reason }] };
  }

  /** How many rounds this run measures a scenario (the overhead configurations: once in runs from before 0.5). */
  function roundsFor(s: Scenario): number {
    return roundsOf(s, o.rounds, patched);
  }

  function record(s: Scenario, m: Measurement) {
    results.measurements.push(m);
    if (!m.adoptedFrom) progress.spent({ tool: m.seconds ?? 0 });
    progress.recorded(scenarioLabel(s, m.round, m.step === undefined ? roundsFor(s) : o.rounds, m.step), m.notMeasured ? `not measured: ${m.reason}` : formatFigure(s, m), m.ok || !!m.notMeasured);
  }

  /**
   * A configuration recorded once as not measured, with the reason (no tool
   * run, no figure), however many rounds it would have had; the rounds the
   * plan counted for it are settled with it.
   */
  function notMeasured(id: string, reason: string) {
    const s = scenarioById(id);
    record(s, { scenario: id, round: 1, ok: false, notMeasured: true, reason, file: '' });
    progress.state.done += roundsFor(s) - 1;
  }

  /**
   * Do the Cilium agents have endpoints for the pods the Hubble and policy
   * scenarios use? Returns the reason when they have none; undefined when
   * they have (or when they could not be asked: then the phase measures as
   * it always did, and the phase record says why).
   */
  async function endpointGap(phase: 'hubble' | 'networkpolicy'): Promise<{ missing?: string; unknown?: string }> {
    const pods = [POLICY_PODS.server, POLICY_PODS.client];
    const check = await clusterActivities(`Cilium endpoints of ${pods.join(', ')} (cilium-dbg endpoint list)`).ciliumEndpoints({ ns: o.ns, pods });
    const unknown = unknownEndpoints(check, pods);
    if (unknown) return { unknown: `could not ask the Cilium agents for the benchmark pods' endpoints (${unknown}); ${phase} measured as on any cluster` };
    return { missing: missingEndpoints(check, pods) };
  }

  /** Measure one round of one scenario now (its failure is recorded with the reason, never thrown). */
  async function measure(s: Scenario, round: number): Promise<void> {
    progress.doing({ scenario: scenarioLabel(s, round, roundsFor(s)) });
    record(s, await measureOnce(ctx!, s, round, undefined, roundsFor(s)));
  }

  /** Every round of one overhead configuration, back to back with ROUND_SLEEP between them (no change to the cluster in between). */
  async function measureRounds(s: Scenario): Promise<void> {
    const n = roundsFor(s);
    for (let r = 1; r <= n; r++) {
      if (r > 1) progress.spent({ pause: await pause(o.roundSleep, `burst-credit recovery ${o.roundSleep} s`) });
      await measure(s, r);
    }
  }

  async function inspectCluster(): Promise<ClusterFacts> {
    progress.enter('inspect');
    const facts = await clusterActivities('inspect cluster: nodes, type, versions').inspectCluster({
      context: o.context,
      kubeconfig: o.kubeconfig,
      contextName: input.contextName,
      outputDir: input.outputDir,
    });
    results.cluster = facts;
    progress.state.clusterType = facts.clusterType;
    progress.upsert({ clusterType: facts.clusterType, trusted: true });
    return facts;
  }

  function planRun(facts: ClusterFacts): Plan {
    const p = buildPlan(o, facts.clusterType, measuredNow, patched);
    progress.state.total = p.totalUnits;
    progress.state.phasesLeft = p.phases.filter((x) => x.run).map((x) => x.phase);
    for (const x of p.phases.filter((y) => !y.run)) phaseRecord(x.phase, 'skipped', x.reason);
    return p;
  }

  async function claimNamespaces(): Promise<void> {
    await clusterActivities(`check namespaces ${o.ns} and ${o.scaleNamespace} are netbench's to use`).claimNamespaces({
      workloads: o.ns,
      services: o.scaleNamespace,
      useExisting: o.useExistingNs ?? false,
      access: { phases: plan!.phases.filter((p) => p.run).map((p) => p.phase), cilium: isCilium(cluster!.clusterType), endpointsMode: o.endpointsMode },
    });
  }

  async function adoptEarlierRun(fromWorkflowId: string): Promise<void> {
    adopted = new AdoptedWork(await clusterActivities(`adopt what ${fromWorkflowId} completed`).loadResumable({ workflowId: fromWorkflowId }));
  }

  async function deployWorkloads(facts: ClusterFacts): Promise<Targets> {
    progress.enter('deploy');
    const t0 = Date.now();
    const targets = await longActivities('deploy test workloads and wait Ready (300 s)').deployFixtures({
      ns: o.ns,
      serverNode: facts.nodes[0].name,
      clientNode: facts.nodes[1].name,
      images: { iperf: o.iperfImage, netperf: o.netperfImage, fortio: o.fortioImage },
      readyTimeoutSec: 300,
    });
    progress.spent({ create: (Date.now() - t0) / 1000 });
    return targets;
  }

  /** Every (scenario, round) of a phase. */
  function roundsOfPhase(phase: PhaseName) {
    return scenariosOf(phase).filter(measuredNow).flatMap((s) => Array.from({ length: roundsFor(s) }, (_, i) => ({ scenario: s.id, round: i + 1 })));
  }

  /** A phase whose every round an earlier run measured: record those figures, run nothing. */
  function adoptedWhole(phase: PhaseName): boolean {
    if (!adopted.hasAll(roundsOfPhase(phase))) return false;
    progress.enter(phase);
    for (const r of roundsOfPhase(phase)) record(scenarioById(r.scenario), adopted.take(r.scenario, r.round)!);
    phaseRecord(phase, 'done', `adopted from ${adopted.adopted!.fromWorkflowId}`);
    return true;
  }

  /** Every scenario of a phase, ROUNDS each, ROUND_SLEEP after each round, with the resource monitor running. */
  async function runPhase(phase: PhaseName, monitor: boolean): Promise<void> {
    progress.enter(phase);
    const component = datapathComponent(cluster!);
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
          // mon.cancel() below ends it (or the run's own cancel does): that cancellation is its normal end, silent.
          // Anything else (it could not sample) is recorded with its reason; the phase's measurements go on.
          .catch((err) => {
            if (isCancellation(err) || !patched('netbench-monitor-failures')) return;
            recordFailure(`resource sampling during ${phase}`, failureReason(err));
          })
      : Promise.resolve();
    for (const s of scenariosOf(phase).filter(measuredNow)) {
      for (let r = 1; r <= roundsFor(s); r++) {
        const prior = adopted.take(s.id, r);
        if (prior) {
          record(s, prior);
          continue;
        }
        await measure(s, r);
        progress.spent({ pause: await pause(o.roundSleep, `burst-credit recovery ${o.roundSleep} s`) });
      }
    }
    mon.cancel();
    await monitorDone;
    phaseRecord(phase, 'done');
  }

  // 6. throughput, after a warm-up whose output is discarded (as in the reference)
  async function throughputPhase(): Promise<void> {
    if (adoptedWhole('throughput')) return;
    progress.enter('throughput');
    progress.spent({ tool: (await measureOnce(ctx!, WARMUP, 1)).seconds ?? 0 });
    progress.spent({ pause: await settle(o, 5, 'after warm-up') });
    await runPhase('throughput', true);
    progress.spent({ pause: await settle(o, 10, 'settle after throughput') });
  }

  // 7. RPS
  async function rpsPhase(): Promise<void> {
    if (adoptedWhole('rps')) return;
    await runPhase('rps', true);
    progress.spent({ pause: await settle(o, 10, 'settle after RPS') });
  }

  // 8. latency
  async function latencyPhase(): Promise<void> {
    if (adoptedWhole('latency')) return;
    await runPhase('latency', false);
  }

  // 9. Hubble on, off (enable-hubble=false in cilium-config, agents rolled), on again: each configuration ROUNDS times (from 0.5)
  async function hubblePhase(): Promise<void> {
    if (adoptedWhole('hubble')) return;
    progress.enter('hubble');
    let note: string | undefined;
    if (patched('netbench-cilium-reasons')) {
      // Without endpoints Hubble has nothing to observe: record why, and spare the agent two restarts.
      const gap = await endpointGap('hubble');
      if (gap.missing) {
        for (const id of ['hubble_on', 'hubble_off']) notMeasured(id, hubbleNotMeasured(gap.missing));
        phaseRecord('hubble', 'done', 'not measured: no Cilium endpoint for the benchmark pods (see the scenarios\' reasons)');
        return;
      }
      note = gap.unknown;
    }
    // From 0.5 each configuration ROUNDS times (an overhead with its uncertainty), still with one restart each way.
    await measureRounds(scenarioById('hubble_on'));
    undo.add('hubble', {
      what: 'Hubble back on (enable-hubble=true in cilium-config)',
      manual: `kubectl -n kube-system patch configmap cilium-config -p '{"data":{"enable-hubble":"true"}}' && kubectl -n kube-system rollout restart ds/cilium`,
      run: () => longActivities('restore Hubble (enable-hubble=true)').setHubble({ enabled: true }),
    });
    const before = await longActivities('Hubble off: enable-hubble=false in cilium-config, roll the agents').setHubble({ enabled: false });
    if (before.previous === 'false') note = [note, 'Hubble was already disabled in cilium-config: "Hubble ON" was measured without Hubble'].filter(Boolean).join('; ');
    progress.spent({ pause: await settle(o, 15, 'Hubble off: settle') });
    await measureRounds(scenarioById('hubble_off'));
    if (before.restarted) await longActivities('Hubble on again: enable-hubble=true, roll the agents').setHubble({ enabled: true });
    undo.done('hubble');
    progress.spent({ pause: await settle(o, 10, 'Hubble on again: settle') });
    phaseRecord('hubble', 'done', note);
  }

  // 10. no policy, L3/L4 CiliumNetworkPolicy, L7 CiliumNetworkPolicy: each configuration ROUNDS times (from 0.5)
  async function networkPolicyPhase(): Promise<void> {
    if (adoptedWhole('networkpolicy')) return;
    progress.enter('networkpolicy');
    // From 0.4: ask the agents whether the benchmark pods have endpoints and what they did with each
    // policy; a policy the agent refused or cannot enforce is recorded with that reason, not measured.
    const ask = patched('netbench-cilium-reasons');
    const gap = ask ? await endpointGap('networkpolicy') : {};
    const notes: string[] = gap.unknown ? [gap.unknown] : [];
    // no_policy is only the policies' baseline (the same path is svc_c64 of the RPS phase): without
    // endpoints no policy can act, so there is nothing to compare it with.
    if (gap.missing) notMeasured('no_policy', baselineNotMeasured(gap.missing));
    else await measureRounds(scenarioById('no_policy'));
    for (const [kind, id, title, settleSecs] of [
      ['l3l4', 'l3l4_policy', 'L3/L4 CiliumNetworkPolicy', 10],
      ['l7', 'l7_policy', 'L7 CiliumNetworkPolicy (HTTP GET rule)', 30],
    ] as const) {
      undo.add('policy', {
        what: `CiliumNetworkPolicy ${kind} removed`,
        manual: `kubectl -n ${o.ns} delete ciliumnetworkpolicy -l app.kubernetes.io/managed-by=netbench`,
        run: async () => {
          if (!patched('netbench-undo-policy')) return false;
          return clusterActivities(`remove the ${kind} CiliumNetworkPolicy`).deletePolicy({ ns: o.ns, kind });
        },
      });
      const since = new Date().toISOString();
      await clusterActivities(`apply ${title}`).applyPolicy({ ns: o.ns, kind });
      let why: string | undefined;
      if (ask) {
        const verdict = await clusterActivities(`did the Cilium agent import the ${kind} policy? (cilium-dbg policy get, agent log)`).policyVerdict({
          ns: o.ns,
          kind,
          node: cluster!.nodes[0].name, // fortio-server's node: where the ingress policy is enforced
          since,
        });
        why = policyNotMeasured(kind, verdict, gap.missing);
        if (!why && verdict.verdict === 'unknown') notes.push(`${kind} policy: no verdict from the Cilium agent (${verdict.detail}); measured as on any cluster`);
      }
      if (why) notMeasured(id, why);
      else {
        progress.spent({ pause: await settle(o, settleSecs, kind === 'l7' ? 'L7 policy: Envoy start' : 'L3/L4 policy: settle') });
        await measureRounds(scenarioById(id));
      }
      await clusterActivities().deletePolicy({ ns: o.ns, kind });
      undo.done('policy');
      // a policy the agent never enforced leaves nothing to settle
      if (!why) progress.spent({ pause: await settle(o, kind === 'l7' ? 10 : 5, 'policy removed: settle') });
    }
    phaseRecord('networkpolicy', 'done', notes.length ? notes.join('; ') : undefined);
  }

  // 11. Service scale: the LB-map check (Cilium), then one child workflow per step
  async function serviceScalePhase(facts: ClusterFacts): Promise<void> {
    progress.enter('service-scale');
    if (isCilium(facts.clusterType)) results.scale.lbMap = await lbMap.check(o, results, undo);
    let fromCount = 0;
    for (const svcCount of o.svcScaleSteps) {
      const prior = adopted.step(svcCount);
      if (prior) {
        // Measured by the earlier run. Its Services may be gone (its cleanup ran): the next
        // measured step creates every Service up to its count (what exists counts as done).
        results.scale.steps.push(prior);
        progress.state.done += 1 + prior.measurements.length;
        progress.state.servicesCreated = svcCount;
        fromCount = 0;
        continue;
      }
      progress.state.scaleStep = svcCount;
      progress.upsert({ scaleStep: svcCount });
      progress.open(`service-scale @${svcCount}`);
      progress.show();
      const step = await executeChild(serviceScaleStep, {
        ...scaleChildOptions(info.workflowId, svcCount, `${input.contextName}: scale step ${fromCount} -> ${svcCount} Services`),
        args: [
          {
            options: o,
            outputDir: input.outputDir,
            targets: ctx!.targets,
            clusterType: facts.clusterType,
            proxyMode: facts.proxyMode,
            fromCount,
            svcCount,
            parentWorkflowId: info.workflowId,
          },
        ],
      });
      results.scale.steps.push(step);
      progress.spent({
        tool: step.measurements.reduce((a, m) => a + (m.seconds ?? 0), 0),
        create: step.createSeconds,
        converge: step.convergence.seconds,
        pause: step.pauseSeconds ?? 0,
      });
      progress.state.failures += step.measurements.filter((m) => !m.ok).length;
      progress.state.done += 1; // the step's creation + convergence unit
      progress.state.servicesCreated = svcCount;
      fromCount = svcCount;
    }
    phaseRecord('service-scale', 'done');
  }

  // 12. component metrics: steady-state CPU/memory, then rules, BPF maps, agent RSS
  async function componentMetrics(facts: ClusterFacts): Promise<void> {
    progress.enter('metrics');
    const component = datapathComponent(facts);
    progress.spent({ pause: await pause(o.metricsSettleSecs, `quiet time before sampling ${o.metricsSettleSecs} s`) });
    const t0 = Date.now();
    try {
      const stats = await longActivities(`sample ${component.selector} CPU/memory ×${o.metricsSamples}`).sampleResources({
        component: component.name,
        labelSelector: component.selector,
        samples: o.metricsSamples,
        intervalSec: 5,
        csvFile: `${input.outputDir}/resources/${component.samplesCsv}.csv`,
      });
      if (stats) results.resources.push(stats);
    } catch (err) {
      if (isCancellation(err)) throw err;
      recordFailure('resource sampling (metrics.k8s.io)', failureReason(err));
    }
    try {
      const comp = await clusterActivities('component metrics: rules, BPF maps, agent RSS').collectComponentMetrics({
        proxyMode: facts.proxyMode,
        outputDir: input.outputDir,
      });
      results.component = { ...comp, failures: [...(results.component?.failures ?? []), ...comp.failures] };
    } catch (err) {
      if (isCancellation(err)) throw err;
      recordFailure('component metrics', failureReason(err));
    }
    progress.spent({ tool: (Date.now() - t0) / 1000 }); // sampling and reading the datapath is measuring
    progress.state.done += 1;
    phaseRecord('metrics', 'done');
  }

  // ---- the end: cleanup (a compensation like the others) and the report ------------------------

  async function cleanup(): Promise<void> {
    progress.enter('cleanup');
    if (o.skipCleanup) {
      results.cleanup = { done: false, skipped: true, reason: '--skip-cleanup' };
      return;
    }
    const t0 = Date.now();
    try {
      const gone = await longActivities(`delete namespaces ${o.ns} and ${o.scaleNamespace}`).deleteNamespaces({ namespaces: [o.ns, o.scaleNamespace] });
      progress.spent({ create: (Date.now() - t0) / 1000 }); // deleting what the run created: object churn, like creating it
      results.cleanup = { done: true, skipped: false, ...(gone.kept?.length ? { kept: gone.kept } : {}) };
    } catch (err) {
      results.cleanup = { done: false, skipped: false, reason: failureReason(err) };
    }
  }

  async function writeReport(): Promise<void> {
    if (!results.cleanup && !undo.has('namespaces')) {
      // the run stopped before it could create anything (e.g. a namespace that is not netbench's)
      progress.enter('cleanup');
      results.cleanup = { done: false, skipped: true, reason: 'nothing to clean up: the run stopped before it created anything' };
    }
    progress.enter('report');
    results.finishedAt = new Date(Date.now()).toISOString();
    results.timeline = progress.timeline();
    try {
      await clusterActivities('write benchmark-summary.json and report.md').writeReport({ results });
    } catch (err) {
      // The run's figures are in its result; the CLI writes the files from there (netbench result) and says why.
      results.reportFailure = failureReason(err);
    }
  }
}
