/**
 * The Service-scale chart (the article's pivot, as a picture): RPS against
 * the number of Services, with the small-scale baseline drawn at 0 Services.
 * One cluster: a line per RPS scale-step row of the catalogue (short
 * connections, keepalive). Several: one short-connection line per run.
 */
import { GLANCE_AT_SCALE, SCALE_SCENARIOS, type Scenario } from '../domain/scenarios';
import { fmtInt } from './format';
import { lineChart, type Series } from './svg';
import { stepBaseline, stepFigures, type SummaryView } from './summary-view';

/** File name of the chart beside report.md (the Markdown links to it). */
export const SCALE_CHART_FILE = 'scale-chart.svg';

/** The catalogue's RPS scale-step rows, in rank order. */
const RPS_ROWS = SCALE_SCENARIOS.filter((s) => s.atScale?.baselineKey !== undefined).sort((a, b) => (a.atScale!.rank ?? Infinity) - (b.atScale!.rank ?? Infinity));

/** A line's name: the row's section and how its connections go ("Short connection (new TCP per request)"). */
const lineName = (s: Scenario) => `${s.atScale!.section} (${s.tool === 'fortio' && s.keepalive ? 'reused connections' : 'new TCP per request'})`;

function points(v: SummaryView, s: Scenario) {
  const base = stepBaseline(v, s);
  const pts = base ? [{ x: 0, y: base }] : [];
  for (const st of v.service_scale.steps ?? []) {
    const y = stepFigures(st, s).value;
    if (typeof y === 'number') pts.push({ x: st.svc_count, y });
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
  const series: Series[] = RPS_ROWS.map((s) => ({ name: lineName(s), points: points(v, s) })).filter((s) => s.points.some((p) => p.x > 0));
  if (!series.length) return undefined;
  return lineChart({ title: `Service scale: RPS vs Service count — ${name}`, series, xTicks: ticks([v]), ...common });
}

/** Short-connection RPS per run against Service count, or undefined when no run has a step. */
export function compareScaleChart(runs: { name: string; view: SummaryView }[]): string | undefined {
  const series: Series[] = runs.map((r) => ({ name: r.name, points: points(r.view, GLANCE_AT_SCALE) })).filter((s) => s.points.some((p) => p.x > 0));
  if (!series.length) return undefined;
  return lineChart({ title: 'Short-connection RPS vs Service count', series, xTicks: ticks(runs.map((r) => r.view)), ...common });
}
