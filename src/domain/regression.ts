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

const TITLES: Record<string, [string, string, 'higher' | 'lower']> = {
  node_level_8stream: ['Node hostNet 8 streams', 'Gbps', 'higher'],
  pod2pod_single: ['Pod-to-Pod single stream', 'Gbps', 'higher'],
  pod2pod_8stream: ['Pod-to-Pod 8 streams', 'Gbps', 'higher'],
  pod2pod_16stream: ['Pod-to-Pod 16 streams', 'Gbps', 'higher'],
  via_service_8stream: ['Via Service 8 streams', 'Gbps', 'higher'],
  pod2pod_c64: ['RPS pod-to-pod c64 keepalive', 'req/s', 'higher'],
  svc_c64: ['RPS via Svc c64 keepalive', 'req/s', 'higher'],
  svc_c256: ['RPS via Svc c256 keepalive', 'req/s', 'higher'],
  svc_short_c64: ['RPS via Svc c64 short conn', 'req/s', 'higher'],
};

/** The figures a regression check looks at, each with its spread across rounds. */
export function headlines(r: RunResults): Headline[] {
  const out: Headline[] = [];
  const add = (key: string, label: string, unit: string, better: 'higher' | 'lower', xs: number[]) => {
    const est = estimate(xs);
    if (est) out.push({ key, label, unit, better, est });
  };
  const vals = (ms: Measurement[], id: string, pick: (m: Measurement) => number | undefined, step?: number) =>
    ms.filter((m) => m.ok && m.scenario === id && m.step === step).map(pick).filter((v): v is number => typeof v === 'number');
  for (const [id, [label, unit, better]] of Object.entries(TITLES)) add(id, label, unit, better, vals(r.measurements, id, (m) => m.value));
  add('tcp_rr_p50_us', 'TCP_RR p50', 'µs', 'lower', vals(r.measurements, 'tcp_rr', (m) => m.figures?.p50Us));
  add('tcp_rr_p99_us', 'TCP_RR p99', 'µs', 'lower', vals(r.measurements, 'tcp_rr', (m) => m.figures?.p99Us));
  add('tcp_crr_p99_us', 'TCP_CRR p99', 'µs', 'lower', vals(r.measurements, 'tcp_crr', (m) => m.figures?.p99Us));
  add('http_p99_1k_qps_ms', 'HTTP p99 @1000 QPS', 'ms', 'lower', vals(r.measurements, 'http_1k_qps', (m) => m.figures?.p99Ms));
  for (const s of r.scale.steps) {
    const n = s.svcCount;
    add(`short@${n}`, `Short-conn RPS @${n} svc`, 'req/s', 'higher', vals(s.measurements, 'short', (m) => m.value, n));
    add(`ka@${n}`, `Keepalive RPS @${n} svc`, 'req/s', 'higher', vals(s.measurements, 'ka', (m) => m.value, n));
    add(`crr@${n}`, `TCP_CRR p99 @${n} svc`, 'µs', 'lower', vals(s.measurements, 'crr', (m) => m.figures?.p99Us, n));
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
