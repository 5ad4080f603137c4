/**
 * Every measurement of a run as one row (for spreadsheets and dashboards):
 * scenario, step, round, value, unit, raw file, ok / reason. A netbench run
 * gives one row per tool run, failed ones included with their reason. A
 * summary alone (the reference script's) gives what it kept: one row per
 * round of throughput and RPS (the raw file named in the reference's
 * layout), and the averages of the rest (round empty). Pure.
 */
import type { RunResults } from '../domain/results';
import { canonicalId, rawFile, SCALE_SCENARIOS, scenarioById, SCENARIOS } from '../domain/scenarios';
import { viewSummary } from './summary-view';

export interface ExportRow {
  scenario: string;
  title: string;
  phase: string;
  /** Service count of the scale step; null outside the steps */
  step: number | null;
  /** round number; null for a figure that is an average over rounds (summary alone) */
  round: number | null;
  /** the headline figure (Gbps, req/s, p99 µs); null when the measurement failed */
  value: number | null;
  unit: string;
  file: string;
  ok: boolean;
  reason: string;
}

export const EXPORT_COLUMNS: readonly (keyof ExportRow)[] = ['scenario', 'title', 'phase', 'step', 'round', 'value', 'unit', 'file', 'ok', 'reason'];

function describe(id: string, step?: number): { title: string; phase: string; unit: string } {
  try {
    const s = scenarioById(id, step);
    return { title: s.title, phase: s.phase, unit: s.unit };
  } catch {
    return { title: id, phase: '', unit: '' }; // a scenario this version does not know
  }
}

/** One row per recorded tool run: fixed phases in the catalogue's order, then each scale step. */
export function resultRows(r: RunResults): ExportRow[] {
  const ms = [...r.measurements, ...r.scale.steps.flatMap((s) => s.measurements.map((m) => ({ ...m, step: m.step ?? s.svcCount })))];
  return ms.map((m) => {
    const id = canonicalId(m.scenario, m.step);
    return {
      scenario: id,
      ...describe(id, m.step),
      step: m.step ?? null,
      round: m.round,
      value: m.ok && typeof m.value === 'number' ? m.value : null,
      file: m.file,
      ok: m.ok,
      reason: m.ok ? '' : (m.reason ?? 'no reason recorded'),
    } satisfies ExportRow;
  });
}

/** What a summary alone holds, as rows. */
export function summaryRows(summary: Record<string, unknown>): ExportRow[] {
  const v = viewSummary(summary);
  const rows: ExportRow[] = [];
  const row = (id: string, step: number | null, round: number | null, value: number, file = ''): ExportRow => ({
    scenario: id, ...describe(id, step ?? undefined), step, round, value, file, ok: true, reason: '',
  });
  for (const s of SCENARIOS) {
    const rounds = s.phase === 'throughput' ? v.throughput[s.id]?.gbps : s.phase === 'rps' ? v.rps[s.id]?.qps : undefined;
    (rounds ?? []).forEach((value, i) => rows.push(row(s.id, null, i + 1, value, rawFile(s, i + 1))));
    // latency: the summary's headline figure of the scenario (an average over rounds)
    const f = s.figures?.find((x) => x.figure === s.headlineFigure);
    const lat = f ? v.latency[f.key as keyof typeof v.latency] : undefined;
    if (typeof lat === 'number') rows.push(row(s.id, null, null, lat));
  }
  for (const st of v.service_scale.steps ?? []) {
    for (const s of SCALE_SCENARIOS) {
      const a = s.atScale!;
      const val = (st as unknown as Record<string, unknown>)[a.baselineKey ? `${a.summaryKey}_qps` : a.summaryKey];
      if (typeof val === 'number') rows.push(row(s.id, st.svc_count, null, val));
    }
  }
  return rows;
}

const csvField = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** RFC 4180 CSV with a header row. */
export const rowsCsv = (rows: readonly ExportRow[]): string =>
  [EXPORT_COLUMNS.join(','), ...rows.map((r) => EXPORT_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\r\n') + '\r\n';

/** A JSON array of row objects. */
export const rowsJson = (rows: readonly ExportRow[]): string => JSON.stringify(rows.map((r) => Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, r[c]]))), null, 2) + '\n';
