/**
 * Statistics in one place: mean, spread, a 95% confidence interval across
 * rounds (with one sample we say so instead of inventing an interval), and
 * the reference's degradation/overhead percentage and rounding.
 */

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1). */
export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

// Two-sided 95% Student t quantiles by degrees of freedom (1..30), then the normal value.
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
export function t95(df: number): number {
  return df >= 1 && df <= 30 ? T95[df - 1] : 1.96;
}

export interface Estimate {
  n: number;
  mean: number;
  stddev?: number;
  /** half-width of the 95% confidence interval; absent with one sample */
  ci95?: number;
  min: number;
  max: number;
}

export function estimate(xs: readonly number[]): Estimate | undefined {
  if (xs.length === 0) return undefined;
  const m = mean(xs);
  const e: Estimate = { n: xs.length, mean: m, min: Math.min(...xs), max: Math.max(...xs) };
  if (xs.length >= 2) {
    e.stddev = stddev(xs);
    e.ci95 = (t95(xs.length - 1) * e.stddev) / Math.sqrt(xs.length);
  }
  return e;
}

/**
 * The one number spelling of figures and intervals: "31,365", "10.43",
 * "-1,234.5" (our own separators, not toLocaleString: output must not depend
 * on the machine's ICU data or locale). report/format.ts re-exports it.
 */
export function fmtNum(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return String(x);
  const fixed = Math.abs(x).toFixed(digits);
  const [int, frac] = fixed.split('.');
  const negative = x < 0 && Number(fixed) !== 0;
  return `${negative ? '-' : ''}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac !== undefined ? `.${frac}` : ''}`;
}

/** "± 0.05": the half-width of a 95% interval in `digits` decimals. */
export const ciText = (ci95: number, digits: number): string => `± ${fmtNum(ci95, digits)}`;

/** "± 0.05 (n=3)" with an interval, "1 sample" with one sample, "" with none. */
export function intervalText(e: { n: number; ci95?: number } | undefined, digits: number): string {
  if (!e || e.n === 0) return '';
  return e.ci95 === undefined ? '1 sample' : `${ciText(e.ci95, digits)} (n=${e.n})`;
}

/** The interval of a figure's samples, spelled as intervalText does. */
export const samplesInterval = (xs: readonly number[] | undefined, digits: number): string => intervalText(xs && xs.length ? estimate(xs) : undefined, digits);

/**
 * Is the difference between two figures larger than the noise? With a 95%
 * interval on both sides: the intervals do not overlap (basis "ci95").
 * Otherwise: the change from `b` exceeds `tolerancePct` percent of |b|
 * (basis "tolerance"). The one rule of the regression check and the
 * comparison's Winner column.
 */
export function beyondNoise(
  a: { mean: number; ci95?: number },
  b: { mean: number; ci95?: number },
  tolerancePct: number,
): { significant: boolean; basis: 'ci95' | 'tolerance' } {
  if (a.ci95 !== undefined && b.ci95 !== undefined) return { significant: Math.abs(a.mean - b.mean) > a.ci95 + b.ci95, basis: 'ci95' };
  const rel = (Math.abs(a.mean - b.mean) / Math.abs(b.mean)) * 100;
  return { significant: Number.isFinite(rel) && rel > tolerancePct, basis: 'tolerance' };
}

/**
 * Python's round(x, n): round half to even on the exact binary value.
 * Used wherever the reference's summary rounded, so figures match it.
 */
export function pyRound(x: number, n = 0): number {
  if (!Number.isFinite(x)) return x;
  // toFixed rounds the exact binary value correctly, except that an exact
  // tie goes away from zero; Python sends it to the even neighbour.
  const exact = Math.abs(x).toFixed(Math.min(100, n + 40));
  const tail = exact.slice(exact.indexOf('.') + 1 + n);
  if (/^50*$/.test(tail)) {
    const f = 10 ** n;
    const down = Math.trunc(Math.abs(x) * f);
    const even = down % 2 === 0 ? down : down + 1;
    return (Math.sign(x) * even) / f;
  }
  return Number(x.toFixed(n));
}

/** Python's int(): truncation toward zero. */
export const pyInt = (x: number): number => Math.trunc(x);

/**
 * The reference's change in percent: (measured - baseline) / baseline * 100,
 * rounded to one decimal. Negative means slower (degradation / overhead).
 */
export function changePct(measured: number, baseline: number): number | undefined {
  if (!baseline || !Number.isFinite(measured)) return undefined;
  return pyRound(((measured - baseline) / baseline) * 100, 1);
}
