/**
 * The rows of the article's "At a glance" table, computed per run: the
 * headline figure (as benchmark-summary.json has it), its round samples
 * (for a confidence interval), whether higher or lower is better, and
 * whether the row applies at all (Cilium-only rows on a kube-proxy cluster
 * are "N/A", not "missing"). Shared by the single-run reports and by
 * compareRuns, so a figure reads the same everywhere.
 */
import type { RunResults } from '../domain/results';
import { ciText, estimate } from '../domain/stats';
import { fmtGbps, fmtInt, fmtMB, fmtMiB, fmtMs, fmtPct, fmtUs } from './format';
import { isCiliumType, viewSummary, type SummaryView } from './summary-view';

export interface GlanceRun {
  name: string;
  /** optional: gives latency samples for intervals; the summary alone is enough to render */
  results?: RunResults;
  summary: Record<string, unknown>;
}

export interface GlanceCell {
  applicable: boolean;
  value?: number;
  /** half-width of the 95% interval across rounds; absent with fewer than 2 samples */
  ci95?: number;
  n: number;
  /** the cell as printed: "10.43 Gbps", "N/A", "—" */
  text: string;
  /** "± 0.05" in the row's precision, when ci95 exists */
  ciText?: string;
  /** a qualifier printed after the figure, e.g. the change against baseline "-71.1%" */
  note?: string;
}

export interface GlanceRow {
  key: string;
  label: string;
  better: 'higher' | 'lower';
  /** 'pct' rows hold percentages (overheads): ties are judged in percentage points */
  kind: 'abs' | 'pct';
  /** Service count, for the per-step rows */
  step?: number;
  cells: GlanceCell[];
}

/** a figure with its round samples, or (summary only) the interval the summary's netbench block recorded */
type Extract = { value?: number; samples?: number[]; interval?: { n: number; ci95: number } };

interface RowDef {
  key: string;
  label: string;
  better: 'higher' | 'lower';
  kind: 'abs' | 'pct';
  ciliumOnly?: boolean;
  step?: number;
  /** decimals of the figure, for its interval */
  digits: number;
  format: (v: number) => string;
  /** optional qualifier after the figure (change against baseline) */
  note?: (s: SummaryView) => string | undefined;
  get: (s: SummaryView, r?: RunResults) => Extract;
}

/** Sample values of one figure across successful rounds of a scenario (outside any scale step). */
function figureSamples(r: RunResults | undefined, scenario: string, figure?: string): number[] | undefined {
  if (!r) return undefined;
  return r.measurements
    .filter((m) => m.scenario === scenario && m.step === undefined && m.ok)
    .map((m) => (figure ? m.figures?.[figure] : m.value))
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

function stepSamples(r: RunResults | undefined, step: number, scenario: string): number[] | undefined {
  const s = r?.scale.steps.find((x) => x.svcCount === step);
  if (!s) return undefined;
  return s.measurements.filter((m) => m.scenario === scenario && m.ok && typeof m.value === 'number').map((m) => m.value as number);
}

export const clusterTypeOf = (run: GlanceRun): string | undefined =>
  run.results?.cluster?.clusterType ?? viewSummary(run.summary).cluster.cluster_type;

/** Steps present (with a short-connection figure) in every run, ascending. */
export function commonSteps(views: SummaryView[]): number[] {
  const sets = views.map((v) => new Set((v.service_scale.steps ?? []).filter((s) => typeof s.short_conn_qps === 'number').map((s) => s.svc_count)));
  if (sets.length === 0) return [];
  return [...sets[0]].filter((n) => sets.every((s) => s.has(n))).sort((a, b) => a - b);
}

const stepOf = (s: SummaryView, n: number) => (s.service_scale.steps ?? []).find((x) => x.svc_count === n);

function rowDefs(steps: number[], withPct: boolean): RowDef[] {
  return [
    {
      key: 'pod2pod_8stream', label: 'Pod2Pod throughput (8 streams)', better: 'higher', kind: 'abs', digits: 2, format: fmtGbps,
      get: (s) => ({ value: s.throughput.pod2pod_8stream?.avg, samples: s.throughput.pod2pod_8stream?.gbps }),
    },
    {
      key: 'svc_c64', label: 'RPS keepalive (c64)', better: 'higher', kind: 'abs', digits: 0, format: fmtInt,
      get: (s) => ({ value: s.rps.svc_c64?.avg_qps, samples: s.rps.svc_c64?.qps }),
    },
    {
      key: 'svc_short_c64', label: 'RPS short conn (c64, small)', better: 'higher', kind: 'abs', digits: 0, format: fmtInt,
      get: (s) => ({ value: s.rps.svc_short_c64?.avg_qps, samples: s.rps.svc_short_c64?.qps }),
    },
    {
      key: 'tcp_rr_p99', label: 'TCP_RR p99 (baseline)', better: 'lower', kind: 'abs', digits: 0, format: fmtUs,
      // tcp_rr's headline value is its p99, so the summary's interval for tcp_rr serves when RunResults is absent.
      get: (s, r) => ({ value: s.latency.tcp_rr_p99_us, samples: figureSamples(r, 'tcp_rr', 'p99Us'), interval: s.netbench?.confidence_intervals?.tcp_rr }),
    },
    {
      key: 'http_p99', label: 'HTTP p99 @1000 QPS', better: 'lower', kind: 'abs', digits: 2, format: fmtMs,
      get: (s, r) => ({ value: s.latency.http_p99_1k_qps_ms, samples: figureSamples(r, 'http_1k_qps', 'p99Ms') }),
    },
    ...steps.map(
      (n): RowDef => ({
        key: `short_at_${n}`, label: `Short-conn RPS @${n} svc`, better: 'higher', kind: 'abs', step: n, digits: 0,
        format: fmtInt,
        note: (s) => {
          const pct = stepOf(s, n)?.short_conn_degradation_pct;
          return withPct && pct !== undefined ? fmtPct(pct) : undefined;
        },
        get: (s, r) => ({ value: stepOf(s, n)?.short_conn_qps, samples: stepSamples(r, n, 'short') }),
      }),
    ),
    {
      key: 'l3l4_overhead', label: 'L3/L4 NetworkPolicy overhead', better: 'higher', kind: 'pct', ciliumOnly: true, digits: 1, format: (v) => fmtPct(v),
      get: (s) => ({ value: s.networkpolicy?.l3l4_overhead_pct }),
    },
    {
      key: 'l7_overhead', label: 'L7 NetworkPolicy overhead', better: 'higher', kind: 'pct', ciliumOnly: true, digits: 1, format: (v) => fmtPct(v),
      get: (s) => ({ value: s.networkpolicy?.l7_overhead_pct }),
    },
    {
      key: 'hubble_overhead', label: 'Hubble L3/L4 overhead', better: 'higher', kind: 'pct', ciliumOnly: true, digits: 1, format: (v) => fmtPct(v),
      get: (s) => ({ value: s.hubble?.overhead_pct }),
    },
    {
      key: 'bpf_map_memory', label: 'BPF map memory / node', better: 'lower', kind: 'abs', ciliumOnly: true, digits: 1, format: (v) => fmtMB(v),
      get: (s) => ({ value: s.resources.bpf_maps?.total_mb }),
    },
    {
      key: 'datapath_memory', label: 'Datapath component mem / node', better: 'lower', kind: 'abs', digits: 0, format: (v) => fmtMiB(v),
      get: (s) => ({ value: (s.resources.cilium_agent ?? s.resources.kubeproxy)?.avg_mem_mb }),
    },
  ];
}

function cell(def: RowDef, run: GlanceRun, view: SummaryView): GlanceCell {
  const type = clusterTypeOf(run);
  // Without a known type we cannot call a Cilium row inapplicable: it is then just missing.
  const applicable = !def.ciliumOnly || type === undefined || isCiliumType(type);
  if (!applicable) return { applicable, n: 0, text: 'N/A' };
  const { value, samples, interval } = def.get(view, run.results);
  if (value === undefined || value === null || !Number.isFinite(value)) return { applicable, n: 0, text: '—' };
  const e = samples && samples.length ? estimate(samples) : undefined;
  const ci95 = e?.ci95 ?? interval?.ci95;
  const note = def.note?.(view);
  return {
    applicable, value, n: e?.n ?? interval?.n ?? 1, text: def.format(value),
    ...(ci95 !== undefined ? { ci95, ciText: ciText(ci95, def.digits) } : {}),
    ...(note ? { note } : {}),
  };
}

/**
 * The At-a-glance rows for one or more runs. `steps`: 'common' gives one
 * short-connection row per scale step every run measured (comparisons);
 * 'largest' gives only the largest step, with its change against baseline
 * (single-run reports).
 */
export function glanceRows(runs: GlanceRun[], steps: 'common' | 'largest' = 'common'): GlanceRow[] {
  const views = runs.map((r) => viewSummary(r.summary));
  let stepList = commonSteps(views);
  if (steps === 'largest') stepList = stepList.slice(-1);
  return rowDefs(stepList, steps === 'largest').map((def) => ({
    key: def.key,
    label: def.label,
    better: def.better,
    kind: def.kind,
    ...(def.step !== undefined ? { step: def.step } : {}),
    cells: runs.map((run, i) => cell(def, run, views[i])),
  }));
}

/**
 * The cell with its interval and note: "10.43 Gbps ± 0.05 (n=3)",
 * "9,057 ± 338 (-71.1%, n=3)", "9,057 (-71.1%)"; with one sample,
 * "(1 sample)" when asked.
 */
export function cellWithInterval(c: GlanceCell, sayOneSample = false): string {
  if (c.value === undefined) return c.text;
  const inParens = [c.note, c.ciText && c.n >= 2 ? `n=${c.n}` : sayOneSample && c.n === 1 ? '1 sample' : undefined].filter(Boolean);
  const ci = c.ciText && c.n >= 2 ? ` ${c.ciText}` : '';
  return `${c.text}${ci}${inParens.length ? ` (${inParens.join(', ')})` : ''}`;
}
