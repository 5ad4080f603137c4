/**
 * The Service-scale chart (the article's pivot, as a picture): RPS against
 * the number of Services, with the small-scale baseline drawn at 0 Services.
 * One cluster: short-connection and keepalive lines. Several: one
 * short-connection line per run.
 */
import { fmtInt } from './format';
import { lineChart, type Series } from './svg';
import type { SummaryView } from './summary-view';

/** File name of the chart beside report.md (the Markdown links to it). */
export const SCALE_CHART_FILE = 'scale-chart.svg';

function points(v: SummaryView, which: 'short' | 'keepalive') {
  const base = which === 'short' ? v.service_scale.short_conn_baseline_qps : v.service_scale.keepalive_baseline_qps;
  const pts = base ? [{ x: 0, y: base }] : [];
  for (const s of v.service_scale.steps ?? []) {
    const y = which === 'short' ? s.short_conn_qps : s.keepalive_qps;
    if (typeof y === 'number') pts.push({ x: s.svc_count, y });
  }
  return pts;
}

function ticks(views: SummaryView[]) {
  const steps = [...new Set(views.flatMap((v) => (v.service_scale.steps ?? []).map((s) => s.svc_count)))].sort((a, b) => a - b);
  return [{ value: 0, label: 'baseline' }, ...steps.map((value) => ({ value, label: fmtInt(value) }))];
}

const common = {
  xLabel: 'dummy Services in the cluster (cumulative)',
  yLabel: 'requests per second (fortio, c64)',
  xFormat: (v: number) => (v === 0 ? 'baseline' : `${fmtInt(v)} svc`),
  yFormat: (v: number) => fmtInt(v),
};

/** One run's chart, or undefined when no scale step has an RPS figure. */
export function scaleChart(v: SummaryView, name: string): string | undefined {
  const series: Series[] = [
    { name: 'Short connection (new TCP per request)', points: points(v, 'short') },
    { name: 'Keepalive (reused connections)', points: points(v, 'keepalive') },
  ].filter((s) => s.points.some((p) => p.x > 0));
  if (!series.length) return undefined;
  return lineChart({ title: `Service scale: RPS vs Service count — ${name}`, series, xTicks: ticks([v]), ...common });
}

/** Short-connection RPS per run against Service count, or undefined when no run has a step. */
export function compareScaleChart(runs: { name: string; view: SummaryView }[]): string | undefined {
  const series: Series[] = runs.map((r) => ({ name: r.name, points: points(r.view, 'short') })).filter((s) => s.points.some((p) => p.x > 0));
  if (!series.length) return undefined;
  return lineChart({ title: 'Short-connection RPS vs Service count', series, xTicks: ticks(runs.map((r) => r.view)), ...common });
}
