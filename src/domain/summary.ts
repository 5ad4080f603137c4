/**
 * RunResults -> benchmark-summary.json, keeping the reference's keys,
 * meanings, rounding and order so existing consumers keep working. New
 * fields are additions (per-step convergence, the `netbench` block with
 * failures, skipped phases, trust and confidence intervals).
 */
import { isFailure, type Measurement, type RunResults, type ScaleStepResult } from './results';
import { isMeasurementOf, OVERHEAD_PHASES, SCALE_SCENARIOS, scenariosOf, type OverheadPhase, type Scenario } from './scenarios';
import { changePct, estimate, mean, pyInt, pyRound } from './stats';

type Obj = Record<string, unknown>;

const okValues = (ms: Measurement[], scenario: string, step?: number) =>
  ms.filter((m) => isMeasurementOf(m, scenario, step) && m.ok && typeof m.value === 'number').map((m) => m.value as number);

/** The reference's average of rounds: the mean, truncated. */
const avgInt = (xs: number[]) => (xs.length ? pyInt(mean(xs)) : undefined);

function throughputEntry(ms: Measurement[], id: string): Obj | undefined {
  const vals = okValues(ms, id).map((v) => pyRound(v, 2));
  if (!vals.length) return undefined;
  return { gbps: vals, avg: pyRound(mean(vals), 2) };
}

function rpsEntry(ms: Measurement[], id: string, step?: number): Obj | undefined {
  const vals = okValues(ms, id, step).map(pyInt);
  if (!vals.length) return undefined;
  return { qps: vals, avg_qps: avgInt(vals) };
}

/** Mean of one parsed figure across successful rounds, truncated like the reference. */
function figureAvgInt(ms: Measurement[], id: string, fig: string, step?: number): number | undefined {
  const vals = ms
    .filter((m) => isMeasurementOf(m, id, step) && m.ok && typeof m.figures?.[fig] === 'number')
    .map((m) => m.figures![fig]);
  return avgInt(vals);
}

export function buildSummary(r: RunResults): Obj {
  const ms = r.measurements;
  const c = r.cluster;
  const summary: Obj = {
    cluster: c
      ? {
          cluster_name: c.contextName,
          cluster_type: c.clusterType,
          test_date: c.testDate,
          k8s_version: c.k8sVersion,
          node_count: String(c.nodeCount),
          node_os: c.nodeOs,
          kernel_version: c.kernelVersion,
          node_model: c.nodeModel,
        }
      : {},
    throughput: {},
    rps: {},
    latency: {},
    service_scale: {},
    resources: {},
  };

  const tp = summary.throughput as Obj;
  for (const { id } of scenariosOf('throughput')) {
    const e = throughputEntry(ms, id);
    if (e) tp[id] = e;
  }
  const rps = summary.rps as Obj;
  for (const { id } of scenariosOf('rps')) {
    const e = rpsEntry(ms, id);
    if (e) rps[id] = e;
  }

  const lat = summary.latency as Obj;
  const setIf = (o: Obj, k: string, v: number | undefined) => {
    if (v) o[k] = v; // the reference omits zero/missing values
  };
  for (const s of scenariosOf('latency')) {
    for (const f of s.figures ?? []) {
      if (f.pick === 'avg-int') setIf(lat, f.key, figureAvgInt(ms, s.id, f.figure));
      else {
        const first = ms.find((m) => m.scenario === s.id && m.round === 1 && m.ok && typeof m.figures?.[f.figure] === 'number');
        if (first) setIf(lat, f.key, pyRound(first.figures![f.figure], 2));
      }
    }
  }

  const ss = summary.service_scale as Obj;
  // the small-scale baselines of the scale steps' RPS rows: the fixed-phase figure each one measures again
  const baselines = new Map<string, number | undefined>();
  for (const s of SCALE_SCENARIOS) {
    if (!s.atScale?.baselineKey) continue;
    const base = (rps[s.atScale.of] as Obj | undefined)?.avg_qps as number | undefined;
    baselines.set(s.id, base);
    setIf(ss, s.atScale.baselineKey, base);
  }
  if (r.scale.steps.length || !r.options.skip.includes('service-scale')) ss.endpoints_per_svc = r.scale.endpointsPerSvc;
  if (r.scale.steps.length) ss.steps = [...r.scale.steps].sort((a, b) => a.svcCount - b.svcCount).map((s) => stepEntry(s, baselines));

  const res = summary.resources as Obj;
  for (const rs of r.resources) {
    res[rs.component] = {
      avg_cpu_m: pyRound(rs.avgCpuM, 1),
      max_cpu_m: pyRound(rs.maxCpuM, 1),
      avg_mem_mb: pyRound(rs.avgMemMb, 1),
      max_mem_mb: pyRound(rs.maxMemMb, 1),
      pods_sampled: rs.podsSampled,
    };
  }
  const comp = r.component;
  if (comp?.bpfMaps) {
    res.bpf_maps = {
      total_bytes: comp.bpfMaps.totalBytes,
      map_count: comp.bpfMaps.mapCount,
      top_maps: comp.bpfMaps.topMaps.map((m) => ({ name: m.name, bytes: m.bytes, max_entries: m.maxEntries })),
      total_mb: pyRound(comp.bpfMaps.totalMb, 1),
    };
  }
  if (comp?.agentRssMb !== undefined) res.cilium_agent_rss_mb = pyRound(comp.agentRssMb, 1);

  for (const o of OVERHEAD_PHASES) {
    const section = overheadSection(ms, o);
    if (section) summary[o.phase] = section;
  }

  summary.netbench = netbenchBlock(r);
  return summary;
}

/**
 * An overhead phase's section (`hubble`, `networkpolicy`): each
 * configuration's req/s and each treatment's change against the baseline,
 * in catalogue order with a percentage after the later of its two figures.
 * None without the baseline, nor (unless the baseline stands alone) without
 * every treatment.
 */
function overheadSection(ms: Measurement[], o: OverheadPhase): Obj | undefined {
  const qps = new Map(o.rows.map((s) => [s.id, avgInt(okValues(ms, s.id))]));
  const base = qps.get(o.baseline.id);
  if (!base || base <= 0) return undefined;
  if (!o.baseline.overhead.alone && o.treatments.some((t) => !qps.get(t.id))) return undefined;
  const section: Obj = {};
  for (const s of o.rows) {
    const v = qps.get(s.id);
    if (!v) continue;
    section[s.overhead.key] = v;
    // a treatment's percentage follows the later of its figure and the baseline's: written once both are in
    for (const { id, overhead: t } of o.treatments) {
      if (t.key in section && o.baseline.overhead.key in section && !(t.pctKey in section)) section[t.pctKey] = changePct(qps.get(id)!, base);
    }
  }
  return section;
}

/** A scale step's RPS rows (with their baselines) and latency rows, as the catalogue's atScale says. */
const rpsAtScale = (s: Scenario) => s.atScale?.baselineKey !== undefined;

function stepEntry(s: ScaleStepResult, baselines: Map<string, number | undefined>): Obj {
  const ms = s.measurements;
  const e: Obj = { svc_count: s.svcCount };
  const qps = new Map(SCALE_SCENARIOS.filter(rpsAtScale).map((sc) => [sc.id, avgInt(okValues(ms, sc.id, s.svcCount))]));
  for (const sc of SCALE_SCENARIOS) {
    const key = sc.atScale!.summaryKey;
    if (rpsAtScale(sc)) {
      const v = qps.get(sc.id);
      const base = baselines.get(sc.id);
      if (v && base) Object.assign(e, { [`${key}_qps`]: v, [`${key}_degradation_pct`]: changePct(v, base) });
    } else {
      // the step's latency rows report the p99 (their headline)
      const v = figureAvgInt(ms, sc.id, 'p99Us', s.svcCount);
      if (v) e[key] = v;
    }
  }
  if (s.rulesCount !== undefined) e.rules_count = s.rulesCount;
  if (s.kubeServicesChain !== undefined) e.kube_services_chain = s.kubeServicesChain;
  // additions: an RPS figure without a baseline to compare it with
  for (const sc of SCALE_SCENARIOS.filter(rpsAtScale)) {
    const v = qps.get(sc.id);
    if (v && !baselines.get(sc.id)) e[`${sc.atScale!.summaryKey}_qps`] = v;
  }
  e.datapath_convergence = {
    metric: s.convergence.metric,
    expected: s.convergence.expected,
    observed: s.convergence.observed,
    converged: s.convergence.converged,
    seconds: pyRound(s.convergence.seconds, 1),
    ...(s.convergence.reason ? { reason: s.convergence.reason } : {}),
  };
  e.create = { created: s.created, existed: s.existed, seconds: pyRound(s.createSeconds, 1), per_second: pyRound(s.createRatePerSec, 1) };
  return e;
}

function netbenchBlock(r: RunResults): Obj {
  const failures = [
    ...r.measurements.filter(isFailure).map((m) => ({ scenario: m.scenario, round: m.round, file: m.file, reason: m.reason ?? 'unknown' })),
    ...r.scale.steps.flatMap((s) =>
      s.measurements.filter(isFailure).map((m) => ({ scenario: m.scenario, step: s.svcCount, round: m.round, file: m.file, reason: m.reason ?? 'unknown' })),
    ),
    ...(r.component?.failures ?? []).map((f) => ({ scenario: f.what, reason: f.reason })),
  ];
  const notMeasured = r.measurements.filter((m) => m.notMeasured).map((m) => ({ scenario: m.scenario, round: m.round, reason: m.reason ?? 'unknown' }));
  const intervals: Obj = {};
  const ids = [...new Set(r.measurements.filter((m) => m.ok).map((m) => m.scenario))];
  for (const id of ids) {
    const e = estimate(okValues(r.measurements, id));
    if (e && e.n >= 2) intervals[id] = { n: e.n, mean: pyRound(e.mean, 2), ci95: pyRound(e.ci95!, 2) };
  }
  return {
    schema: 'netbench/summary-additions@1',
    workflow_id: r.workflowId,
    run_id: r.runId,
    status: r.status,
    ...(r.failure ? { failure: r.failure } : {}),
    proxy_mode: r.cluster?.proxyMode,
    trusted: r.scale.trusted,
    ...(r.scale.untrustedReason ? { untrusted_reason: r.scale.untrustedReason } : {}),
    ...(r.scale.lbMap ? { lb_map: r.scale.lbMap } : {}),
    phases: r.phases.map((p) => ({ phase: p.phase, status: p.status, ...(p.reason ? { reason: p.reason } : {}) })),
    ...(r.regression
      ? {
          regression: {
            baseline_workflow_id: r.regression.baselineWorkflowId ?? null,
            ...(r.regression.reason ? { reason: r.regression.reason } : {}),
            tolerance_pct: r.regression.tolerancePct,
            compared: r.regression.compared,
            regressions: r.regression.regressions.map((c) => ({ metric: c.key, label: c.label, unit: c.unit, baseline: pyRound(c.baseline, 2), current: pyRound(c.current, 2), change_pct: c.changePct, basis: c.basis })),
            improvements: r.regression.improvements.map((c) => ({ metric: c.key, label: c.label, unit: c.unit, baseline: pyRound(c.baseline, 2), current: pyRound(c.current, 2), change_pct: c.changePct, basis: c.basis })),
          },
        }
      : {}),
    failures,
    // scenarios not attempted because the datapath had nothing to act on (not failures): each with its reason
    ...(notMeasured.length ? { not_measured: notMeasured } : {}),
    confidence_intervals: intervals,
  };
}

/** Keys the reference wrote as Python floats: a whole value still prints with ".0" (the catalogue's percentages and 2-decimal figures among them). */
const FLOAT_KEYS = new Set([
  'gbps', 'avg',
  ...SCALE_SCENARIOS.filter(rpsAtScale).map((s) => `${s.atScale!.summaryKey}_degradation_pct`),
  ...OVERHEAD_PHASES.flatMap((o) => o.treatments.map((t) => t.overhead.pctKey)),
  ...scenariosOf('latency').flatMap((s) => (s.figures ?? []).filter((f) => f.pick === 'first-round').map((f) => f.key)),
  'avg_cpu_m', 'max_cpu_m', 'avg_mem_mb', 'max_mem_mb', 'total_mb', 'cilium_agent_rss_mb',
]);

/** JSON with indent 2 and Python's float spelling on the reference's float fields. */
export function summaryJson(summary: Obj): string {
  const mark = (v: unknown): unknown => (typeof v === 'number' && Number.isInteger(v) ? `\u0000F${v}.0\u0000` : v);
  const text = JSON.stringify(
    summary,
    function (this: Obj, key: string, value: unknown) {
      if (!FLOAT_KEYS.has(key) || this.netbench === value) return value;
      return Array.isArray(value) ? value.map(mark) : mark(value);
    },
    2,
  );
  return text.replace(/"\\u0000F(-?\d+\.0)\\u0000"/g, '$1') + '\n';
}
