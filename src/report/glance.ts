/**
 * The rows of the article's "At a glance" table, computed per run: the
 * headline figure (as benchmark-summary.json has it), its round samples
 * (for a confidence interval), whether higher or lower is better, and
 * whether the row applies at all (Cilium-only rows on a kube-proxy cluster
 * are "N/A", not "missing"). Shared by the single-run reports and by
 * compareRuns, so a figure reads the same everywhere.
 */
import type { RunResults } from '../domain/results';
import { canonicalId, GLANCE_AT_SCALE, overheadPhase, SCENARIOS, unitDigits, type Unit } from '../domain/scenarios';
import { ciText, estimate } from '../domain/stats';
import { fmtGbps, fmtInt, fmtMB, fmtMiB, fmtMs, fmtPct, fmtUs, overheadNoise } from './format';
import { isCiliumType, overheadOf, stepFigures, viewSummary, type SummaryView } from './summary-view';

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

/**
 * a figure with its round samples, or (summary only) the interval the summary's netbench block recorded;
 * `n`: the rounds behind a figure derived from others (an overhead: the fewer of its two configurations')
 */
type Extract = { value?: number; samples?: number[]; interval?: { n: number; ci95: number }; n?: number };

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
  return s.measurements.filter((m) => canonicalId(m.scenario, step) === scenario && m.ok && typeof m.value === 'number').map((m) => m.value as number);
}

export const clusterTypeOf = (run: GlanceRun): string | undefined =>
  run.results?.cluster?.clusterType ?? viewSummary(run.summary).cluster.cluster_type;

const STEP = GLANCE_AT_SCALE;

/** Steps present (with a figure of the followed scale scenario) in every run, ascending. */
export function commonSteps(views: SummaryView[]): number[] {
  const sets = views.map((v) => new Set((v.service_scale.steps ?? []).filter((s) => typeof stepFigures(s, STEP).value === 'number').map((s) => s.svc_count)));
  if (sets.length === 0) return [];
  return [...sets[0]].filter((n) => sets.every((s) => s.has(n))).sort((a, b) => a - b);
}

const stepOf = (s: SummaryView, n: number) => (s.service_scale.steps ?? []).find((x) => x.svc_count === n);

/** Each unit's spelling in the At-a-glance table. */
const FORMAT: Record<Unit, (v: number) => string> = { Gbps: fmtGbps, 'req/s': fmtInt, 'µs': fmtUs, ms: fmtMs };

/** The catalogue's At-a-glance rows: headline figures of the fixed phases, then latency figures, in catalogue order. */
function scenarioRows(): RowDef[] {
  const rows: RowDef[] = [];
  for (const sc of SCENARIOS) {
    const id = sc.id;
    if (sc.glance) {
      const common = { key: id, label: sc.glance, better: sc.better, kind: 'abs' as const, digits: unitDigits(sc.unit), format: FORMAT[sc.unit] };
      if (sc.phase === 'throughput') rows.push({ ...common, get: (s) => ({ value: s.throughput[id]?.avg, samples: s.throughput[id]?.gbps }) });
      else rows.push({ ...common, get: (s) => ({ value: s.rps[id]?.avg_qps, samples: s.rps[id]?.qps }) });
    }
    for (const f of sc.figures ?? []) {
      if (!f.glance) continue;
      // when the figure is the scenario's headline (netperf's p99), the summary's interval for the scenario serves without RunResults
      const ownInterval = f.figure === sc.headlineFigure;
      rows.push({
        key: f.glance.key, label: f.glance.label, better: f.better, kind: 'abs', digits: unitDigits(f.unit), format: FORMAT[f.unit],
        get: (s, r) => ({
          value: s.latency[f.key as keyof SummaryView['latency']], samples: figureSamples(r, id, f.figure),
          ...(ownInterval ? { interval: s.netbench?.confidence_intervals?.[id] } : {}),
        }),
      });
    }
  }
  return rows;
}

/** The catalogue's overhead treatments (percentages; Cilium-only phases), NetworkPolicy before Hubble as in the article. */
function overheadRows(): RowDef[] {
  return (['networkpolicy', 'hubble'] as const).flatMap((p) =>
    overheadPhase(p).treatments.map(({ id, overhead: o }): RowDef => {
      // with rounds (0.5 on) the summary has both configurations' intervals: their rounds, and whether the overhead is beyond the noise
      const ci = (s: SummaryView) => [s.netbench?.confidence_intervals?.[id], s.netbench?.confidence_intervals?.[overheadPhase(p).baseline.id]] as const;
      return {
        key: o.glance.key, label: o.glance.label, better: 'higher', kind: 'pct', ciliumOnly: true, digits: 1, format: (v) => fmtPct(v),
        note: (s) => overheadNoise(...ci(s)),
        get: (s) => {
          const [t, b] = ci(s);
          return { value: overheadOf(s, p)?.[o.pctKey], ...(t && b ? { n: Math.min(t.n, b.n) } : {}) };
        },
      };
    }),
  );
}

function rowDefs(steps: number[], withPct: boolean): RowDef[] {
  return [
    ...scenarioRows(),
    ...steps.map(
      (n): RowDef => ({
        key: `${STEP.rawName}_at_${n}`, label: `${STEP.atScale!.label} @${n} svc`, better: STEP.better, kind: 'abs', step: n, digits: unitDigits(STEP.unit),
        format: FORMAT[STEP.unit],
        note: (s) => {
          const pct = stepFigures(stepOf(s, n), STEP).pct;
          return withPct && pct !== undefined ? fmtPct(pct) : undefined;
        },
        get: (s, r) => ({ value: stepFigures(stepOf(s, n), STEP).value, samples: stepSamples(r, n, STEP.id) }),
      }),
    ),
    ...overheadRows(),
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
  const { value, samples, interval, n } = def.get(view, run.results);
  if (value === undefined || value === null || !Number.isFinite(value)) return { applicable, n: 0, text: '—' };
  const e = samples && samples.length ? estimate(samples) : undefined;
  const ci95 = e?.ci95 ?? interval?.ci95;
  const note = def.note?.(view);
  return {
    applicable, value, n: e?.n ?? interval?.n ?? n ?? 1, text: def.format(value),
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
