/**
 * The Service-scale curves of a run, as the catalogue defines them: each
 * scale scenario the regression check follows at every step (short-
 * connection RPS, keepalive RPS, TCP_CRR p99, in the catalogue's rank
 * order) against the Service count, with the small-scale baseline at 0.
 * Figures come from the summary (so a reference run has curves too); the
 * 95% interval of a step comes from the run's rounds when its results are
 * at hand. Shared by the run's HTML report and the comparison (overlaid
 * curves, crossings).
 */
import type { RunResults } from '../domain/results';
import { isMeasurementOf, SCALE_SCENARIOS, SCENARIOS, unitDigits, type Scenario, type Unit } from '../domain/scenarios';
import { estimate, intervalText } from '../domain/stats';
import { inSentence, type SummaryView } from './summary-view';

export interface CurvePointView {
  /** Service count; 0 = the small-scale baseline */
  x: number;
  y: number;
  n?: number;
  ci95?: number;
  /** "± 338 (n=3)", "1 sample" (empty when the summary alone has the figure) */
  spread: string;
  /** seconds the datapath took to program the step's Services (netbench runs) */
  syncSeconds?: number;
}

export interface ScaleCurveDef {
  id: string;
  /** "Short-conn RPS" (the catalogue's step label) */
  label: string;
  /** the label inside a sentence ("short-conn RPS", "TCP_CRR p99") */
  words: string;
  unit: Unit;
  better: 'higher' | 'lower';
}

/** The followed scale scenarios (they have a rank), in rank order. */
export const SCALE_CURVES: readonly (ScaleCurveDef & { scenario: Scenario })[] = SCALE_SCENARIOS.filter((s) => s.atScale?.rank !== undefined)
  .sort((a, b) => a.atScale!.rank! - b.atScale!.rank!)
  .map((s) => {
    const label = s.atScale!.label;
    return { id: s.id, label, words: inSentence(label), unit: s.unit, better: s.better, scenario: s };
  });

type Num = number | undefined;
const fig = (o: object | undefined, key: string): Num => {
  const v = (o as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** Where the summary keeps a curve's figure at a step, and its baseline. */
function keys(s: Scenario): { step: string; baseline: (v: SummaryView) => Num } {
  const a = s.atScale!;
  if (a.baselineKey) return { step: `${a.summaryKey}_qps`, baseline: (v) => fig(v.service_scale, a.baselineKey!) };
  // a latency row: its baseline is the fixed-phase scenario's latency figure of the same kind (its headline)
  const of = SCENARIOS.find((x) => x.id === a.of);
  const f = of?.figures?.find((x) => x.figure === of.headlineFigure);
  return { step: a.summaryKey, baseline: (v) => (f ? fig(v.latency, f.key) : undefined) };
}

function spreadOf(samples: number[] | undefined, unit: Unit): { n?: number; ci95?: number; spread: string } {
  const e = samples && samples.length ? estimate(samples) : undefined;
  return e ? { n: e.n, ...(e.ci95 !== undefined ? { ci95: e.ci95 } : {}), spread: intervalText(e, unitDigits(unit)) } : { spread: '' };
}

/** One curve of one run: the baseline (x = 0) and every step with a figure, ascending. */
export function scaleCurve(def: (typeof SCALE_CURVES)[number], v: SummaryView, r?: RunResults): CurvePointView[] {
  const k = keys(def.scenario);
  const pts: CurvePointView[] = [];
  const base = k.baseline(v);
  if (base !== undefined && base !== 0) {
    const of = def.scenario.atScale!.of;
    const samples = r?.measurements.filter((m) => isMeasurementOf(m, of) && m.ok && typeof m.value === 'number').map((m) => m.value!);
    pts.push({ x: 0, y: base, ...spreadOf(samples, def.unit) });
  }
  for (const st of [...(v.service_scale.steps ?? [])].sort((a, b) => a.svc_count - b.svc_count)) {
    const y = fig(st, k.step);
    if (y === undefined) continue;
    const sr = r?.scale.steps.find((x) => x.svcCount === st.svc_count);
    const samples = sr?.measurements.filter((m) => isMeasurementOf({ ...m, step: st.svc_count }, def.id, st.svc_count) && m.ok && typeof m.value === 'number').map((m) => m.value!);
    const sync = st.datapath_convergence?.seconds;
    pts.push({ x: st.svc_count, y, ...spreadOf(samples, def.unit), ...(sync !== undefined && st.datapath_convergence?.metric !== 'none' ? { syncSeconds: sync } : {}) });
  }
  return pts;
}
