/**
 * Regression check: a run's headline figures against a baseline run of the
 * same cluster and plan. A change counts only when it is larger than the
 * noise: with >= 2 rounds on both sides the 95% confidence intervals must
 * not overlap; otherwise the relative change must exceed a tolerance
 * (default 10%). Only changes for the worse are regressions; changes for the
 * better are listed as improvements.
 */
import type { RunOptions } from '../config';
import type { Change, Measurement, RegressionReport, RunResults } from './results';
import { isMeasurementOf, SCALE_SCENARIOS, SCENARIOS } from './scenarios';
import { beyondNoise, estimate, pyRound, type Estimate } from './stats';

export type { Change, RegressionReport };

export interface Headline {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  est: Estimate;
}

/** A short stable key of the options that make two runs comparable. */
export function planKey(o: RunOptions): string {
  const s = JSON.stringify([o.iperfDuration, o.fortioDuration, o.rounds, o.svcScaleSteps, o.svcEndpoints, o.endpointsMode, [...o.skip].sort()]);
  let h = 0x811c9dc5; // FNV-1a, 32 bit
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `p${h.toString(16).padStart(8, '0')}`;
}

/** The figures a regression check looks at, each with its spread across rounds (the catalogue says which, and how named). */
export function headlines(r: RunResults): Headline[] {
  const out: Headline[] = [];
  const add = (key: string, label: string, unit: string, better: 'higher' | 'lower', xs: number[]) => {
    const est = estimate(xs);
    if (est) out.push({ key, label, unit, better, est });
  };
  const vals = (ms: Measurement[], id: string, pick: (m: Measurement) => number | undefined, step?: number) =>
    ms.filter((m) => m.ok && isMeasurementOf(m, id, step)).map(pick).filter((v): v is number => typeof v === 'number');
  for (const s of SCENARIOS) if (s.headline) add(s.id, s.headline, s.unit, s.better, vals(r.measurements, s.id, (m) => m.value));
  for (const s of SCENARIOS) for (const f of s.figures ?? []) add(f.key, f.label, f.unit, f.better, vals(r.measurements, s.id, (m) => m.figures?.[f.figure]));
  const atScale = SCALE_SCENARIOS.filter((s) => s.atScale?.rank !== undefined).sort((a, b) => a.atScale!.rank! - b.atScale!.rank!);
  for (const st of r.scale.steps) {
    const n = st.svcCount;
    // keys as since v0.1 (short@5000): summaries of older runs stay comparable
    for (const s of atScale) add(`${s.rawName}@${n}`, `${s.atScale!.label} @${n} svc`, s.unit, s.better, vals(st.measurements, s.id, (m) => m.value, n));
  }
  return out;
}

export function compareHeadlines(current: Headline[], baseline: Headline[], tolerancePct: number): Pick<RegressionReport, 'regressions' | 'improvements' | 'compared'> {
  const base = new Map(baseline.map((h) => [h.key, h]));
  const regressions: Change[] = [];
  const improvements: Change[] = [];
  let compared = 0;
  for (const c of current) {
    const b = base.get(c.key);
    if (!b || !b.est.mean) continue;
    compared++;
    const pct = ((c.est.mean - b.est.mean) / b.est.mean) * 100;
    const { significant, basis } = beyondNoise(c.est, b.est, tolerancePct);
    if (!significant) continue;
    const worse = c.better === 'higher' ? pct < 0 : pct > 0;
    const change: Change = { key: c.key, label: c.label, unit: c.unit, baseline: b.est.mean, current: c.est.mean, changePct: pyRound(pct, 1), basis };
    (worse ? regressions : improvements).push(change);
  }
  return { regressions, improvements, compared };
}
