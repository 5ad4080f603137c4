/**
 * Where one run's scale curve crosses another's: the article's headline
 * finding ("iptables short-connection RPS is overtaken by Cilium at about
 * 20,000 Services"), computed instead of eyeballed.
 *
 * Two curves are compared at the Service counts both measured. Between two
 * such counts where the order of the curves flips, the crossing lies in
 * between; its position is estimated by linear interpolation of the
 * difference. Where the curves are equal at a measured count and the order
 * flips across it, the crossing is exactly there. Curves that touch and part
 * in the same order do not cross. Pure.
 */
import { beyondNoise, fmtNum } from './stats';

export interface CurvePoint {
  /** Service count (0 = the small-scale baseline) */
  x: number;
  y: number;
  /** half-width of the 95% interval across rounds, when there were 2 or more */
  ci95?: number;
}

export interface Curve {
  /** the run's name ("iptables", "Cilium Overlay") */
  name: string;
  points: readonly CurvePoint[];
}

export interface Crossing {
  /** the run ahead before the crossing (better by the metric's direction), behind after it */
  loser: string;
  /** the run that takes the lead */
  winner: string;
  /** last Service count with the old order and first with the new one; equal when the crossing is exactly at a measured count */
  from: number;
  to: number;
  /** estimated Service count of the crossing (linear interpolation; `from` when exact) */
  at: number;
  exact: boolean;
  /** the figure both curves have at an exact crossing */
  value?: number;
  /** both curves have 95% intervals at the counts around the crossing and they overlap at each: the order may be noise */
  withinNoise?: boolean;
}

/** The points of a curve by x (the last one wins when an x repeats). */
const byX = (c: Curve) => new Map(c.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p) => [p.x, p]));

/** Every crossing of two curves, in order of Service count. `better` says which way is ahead. */
export function crossingsOf(a: Curve, b: Curve, better: 'higher' | 'lower'): Crossing[] {
  const pa = byX(a);
  const pb = byX(b);
  const xs = [...pa.keys()].filter((x) => pb.has(x)).sort((p, q) => p - q);
  // d > 0: a is ahead
  const sign = better === 'higher' ? 1 : -1;
  const d = xs.map((x) => sign * (pa.get(x)!.y - pb.get(x)!.y));
  // the stats rule of "larger than the noise", where both curves have intervals at a count (tolerance 0: intervals only)
  const noisy = (x: number) => {
    const [p, q] = [pa.get(x)!, pb.get(x)!];
    if (p.ci95 === undefined || q.ci95 === undefined) return false;
    return !beyondNoise({ mean: p.y, ci95: p.ci95 }, { mean: q.y, ci95: q.ci95 }, 0).significant;
  };
  const out: Crossing[] = [];
  let last = -1; // index of the last point where the curves differ
  for (let i = 0; i < xs.length; i++) {
    if (d[i] === 0) continue;
    if (last >= 0 && Math.sign(d[i]) !== Math.sign(d[last])) {
      const [loser, winner] = d[last] > 0 ? [a.name, b.name] : [b.name, a.name];
      const noise = noisy(xs[last]) && noisy(xs[i]) ? { withinNoise: true } : {};
      if (i - last > 1) {
        // equal at the counts in between: exactly there (the first of them)
        const x = xs[last + 1];
        out.push({ loser, winner, from: x, to: x, at: x, exact: true, value: pa.get(x)!.y, ...noise });
      } else {
        const at = xs[last] + ((xs[i] - xs[last]) * d[last]) / (d[last] - d[i]);
        out.push({ loser, winner, from: xs[last], to: xs[i], at, exact: false, ...noise });
      }
    }
    last = i;
  }
  return out;
}

/** Every crossing between every pair of curves (in the order the curves are given). */
export function allCrossings(curves: readonly Curve[], better: 'higher' | 'lower'): Crossing[] {
  const out: Crossing[] = [];
  for (let i = 0; i < curves.length; i++) for (let j = i + 1; j < curves.length; j++) out.push(...crossingsOf(curves[i], curves[j], better));
  return out.sort((p, q) => p.at - q.at);
}

/** "10,000 Services", or "the small-scale baseline" for 0. */
const servicesText = (x: number) => (x === 0 ? 'the small-scale baseline' : `${fmtNum(x)} Services`);

/** The estimate as a person would say it ("19,600"): to the nearest 100 when the bracket spans 1,000 or more; exact crossings as measured. */
export const about = (c: Crossing): string => fmtNum(c.exact ? c.at : c.to - c.from >= 1000 ? Math.round(c.at / 100) * 100 : Math.round(c.at));

/**
 * A crossing in words, e.g. "iptables short-connection RPS falls below
 * Cilium Overlay's between 10,000 and 20,000 Services, at about 19,600 by
 * linear interpolation". `metric` names the curve ("short-connection RPS");
 * `better` picks the verb (a lower-is-better figure "rises above").
 */
export function crossingText(c: Crossing, metric: string, better: 'higher' | 'lower', valueText: (v: number) => string = (v) => fmtNum(v)): string {
  const verb = better === 'higher' ? 'falls below' : 'rises above';
  const head = `${c.loser} ${metric} ${verb} ${c.winner}${c.winner.endsWith('s') ? "'" : "'s"}`;
  const noise = c.withinNoise ? ' (within the noise: the 95% intervals overlap on both sides)' : '';
  if (c.exact) {
    const at = c.at === 0 ? 'at the small-scale baseline' : `at ${fmtNum(c.at)} Services`;
    return `${head} exactly ${at}, where both measured ${valueText(c.value!)}${noise}`;
  }
  const from = c.from === 0 ? 'the small-scale baseline' : fmtNum(c.from);
  return `${head} between ${from} and ${servicesText(c.to)}, at about ${about(c)} by linear interpolation${noise}`;
}
