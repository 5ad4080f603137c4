/**
 * Number and unit spelling shared by every renderer, in the article's style:
 * thousands separators ("31,365"), signed one-decimal percentages ("-29.1%",
 * "-0.0%" kept as the reference computes it), µs / ms / Gbps / MiB.
 *
 * Our own separator code instead of toLocaleString: the output must not
 * depend on the ICU data or locale of the machine that renders it.
 */

import type { ComponentMetrics } from '../domain/results';
import { beyondNoise, fmtNum } from '../domain/stats';
import type { TimeSplit } from '../domain/timeline';

/** The datapath's state after the run (report.md and report.html): each count the component metrics collected. */
export function datapathStateRows(comp: ComponentMetrics | undefined): [string, string][] {
  const state: [string, string][] = [];
  if (comp?.lbEntries !== undefined) state.push(['Cilium LB entries', fmtInt(comp.lbEntries)]);
  if (comp?.ctEntries !== undefined) state.push(['Conntrack entries', fmtInt(comp.ctEntries)]);
  if (comp?.identities !== undefined) state.push(['Cilium identities', fmtInt(comp.identities)]);
  if (comp?.iptablesRules !== undefined) state.push(['iptables rules', fmtInt(comp.iptablesRules)]);
  if (comp?.ipvsRules !== undefined) state.push(['IPVS rules', fmtInt(comp.ipvsRules)]);
  if (comp?.nftServiceIps !== undefined) state.push(['nftables service-ips elements', fmtInt(comp.nftServiceIps)]);
  return state;
}

/** Missing value in a table cell (the measurement has no figure). */
export const NONE = '—';

/**
 * Where the time went (report.md and report.html): the parts of a phase's wall
 * time (domain/timeline.ts) in report order, each with the one name both reports
 * give it (chart series, table column, prose).
 */
export const TIME_PARTS = [
  { key: 'toolSeconds', name: 'tools' },
  { key: 'createSeconds', name: 'creating / deleting objects' },
  { key: 'convergeSeconds', name: 'convergence waits' },
  { key: 'pauseSeconds', name: 'durable pauses' },
  { key: 'otherSeconds', name: 'orchestration' },
] as const satisfies readonly { key: keyof TimeSplit; name: string }[];

/** What orchestration is not: "the tools, creating / deleting objects, convergence waits and durable pauses". */
export const NOT_ORCHESTRATION = ((names: string[]) => `the ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`)(
  TIME_PARTS.filter((p) => p.key !== 'otherSeconds').map((p) => p.name),
);

/** A part of a whole as a percentage ("5.0%"); NONE when the whole is zero. */
export const fmtShare = (part: number, whole: number): string => (whole > 0 ? fmtPct((part / whole) * 100) : NONE);

/** The opening sentence of both reports' time section. */
export const orchestrationSentence = (total: TimeSplit): string =>
  `Orchestration (everything but ${NOT_ORCHESTRATION}) took ${fmtShare(total.otherSeconds, total.seconds)} of the ${fmtSecs(total.seconds)} wall time.`;

/** "31,365", "10.43" (digits after the point), "-1,234.5": the spelling lives with the statistics. */
export { fmtNum };

/** Whole number with separators (truncation is the caller's business). */
export const fmtInt = (x: number): string => fmtNum(x, 0);

/**
 * "-29.1%", "0.5%", "-0.0%": the sign of a tiny negative change survives
 * (the reference's round() keeps it, and the article prints it).
 */
export function fmtPct(p: number, digits = 1): string {
  if (!Number.isFinite(p)) return String(p);
  const negative = p < 0 || Object.is(p, -0);
  return `${negative ? '-' : ''}${Math.abs(p).toFixed(digits)}%`;
}

/**
 * An overhead against the noise of its two configurations (report.md,
 * report.html, the terminal summary): "within noise: 95% CIs overlap" or
 * "beyond noise: 95% CIs apart" when both have a 95% interval (2 or more
 * rounds), nothing otherwise. The rule is the regression check's and the
 * comparison's (stats.beyondNoise).
 */
export function overheadNoise(treatment: { mean: number; ci95?: number } | undefined, baseline: { mean: number; ci95?: number } | undefined): string | undefined {
  if (treatment?.ci95 === undefined || baseline?.ci95 === undefined) return undefined;
  return beyondNoise(treatment, baseline, 0).significant ? 'beyond noise: 95% CIs apart' : 'within noise: 95% CIs overlap';
}

export const fmtGbps = (x: number): string => `${fmtNum(x, 2)} Gbps`;
export const fmtQps = (x: number): string => `${fmtInt(x)} req/s`;
export const fmtUs = (x: number): string => `${fmtInt(x)} µs`;
export const fmtMs = (x: number): string => `${fmtNum(x, 2)} ms`;
export const fmtMiB = (x: number, digits = 0): string => `${fmtNum(x, digits)} MiB`;
export const fmtMB = (x: number, digits = 1): string => `${fmtNum(x, digits)} MB`;
export const fmtSecs = (x: number): string => `${fmtNum(x, x < 10 ? 1 : 0)} s`;

/** Bytes as the reference's top-maps MB: bytes / 1048576, one decimal. */
export const bytesToMb = (b: number): number => Math.round((b / 1048576) * 10) / 10;

/** Python's repr of a float (whole values keep ".0"), for the reference's wording. */
export function pyFloat(x: number): string {
  if (Object.is(x, -0)) return '-0.0';
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

/** Python's repr of a list of numbers: "[10.43, 10.4]". */
export function pyList(xs: readonly number[], float: boolean): string {
  return `[${xs.map((x) => (float ? pyFloat(x) : String(x))).join(', ')}]`;
}

/** "+14%" for a gain below 2x, "+2.2x" from 2x on (the article's At a glance). */
export function fmtMargin(ratio: number): string {
  if (!Number.isFinite(ratio)) return '';
  if (ratio >= 2) return `+${ratio.toFixed(1)}x`;
  return `+${Math.round((ratio - 1) * 100)}%`;
}

/** Newlines folded to spaces (a table cell is one line); cut at `max` characters only when asked. */
export function oneLine(s: string, max = Infinity): string {
  const line = s.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
