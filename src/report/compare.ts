/**
 * Side-by-side comparison of runs (clusters A/B/C, or one cluster over
 * time): the article's "At a glance" table with one column per run and a
 * Winner column, the test-environment table, and the short-connection
 * Service-scale table and chart.
 *
 * Winner rule, per row (higher or lower is better):
 *  - fewer than two runs with a figure: "N/A";
 *  - best vs runner-up: when both have a 95% interval (>= 2 rounds), "Tie"
 *    if the intervals overlap; otherwise "Tie" if they differ by at most
 *    `tolerancePct` percent (overhead rows, which are percentages already:
 *    at most `tolerancePoints` percentage points);
 *  - else "<run> (+14%)" ("+2.2x" from twice on; "(12% lower)" where lower
 *    is better; "(+3.1 pp)" on overhead rows).
 * Short-connection rows at scale also say when the leader changed from the
 * small-scale baseline (the article's crossover). Where a row has a winner,
 * every other run's cell says how far it is behind (the reference's change
 * in percent, stats.changePct; percentage points on overhead rows).
 *
 * Runs are netbench runs (with their whole record) or summaries alone (the
 * reference script's, either format: report/reference.ts). The scale curves
 * of all runs are overlaid (compare.html) and every crossing is named in
 * words (domain/crossings.ts).
 */
import { about, allCrossings, crossingText, type Crossing } from '../domain/crossings';
import { isFailure, type RunResults } from '../domain/results';
import { GLANCE_AT_SCALE, unitDigits } from '../domain/scenarios';
import { beyondNoise, changePct, fmtNum } from '../domain/stats';
import { compareScaleChart } from './charts';
import { SCALE_CURVES, scaleCurve, type CurvePointView } from './curves';
import { NONE, fmtInt, fmtMargin, fmtPct, fmtQps, oneLine } from './format';
import { banner, esc, figure, page, para, section, table as htmlTable, toc, type CellIn } from './html';
import { lineChart } from './svg';
import { clusterTypeOf, commonSteps, glanceRows, type GlanceCell, type GlanceRow } from './glance';
import { paint, renderMarkdownTable, renderTextTable, type Cell, type Column } from './table';
import { clusterLabel, stepBaseline, stepFigures, viewSummary } from './summary-view';

/** File name the comparison Markdown links its chart as. */
export const COMPARE_CHART_FILE = 'compare-scale-chart.svg';

export interface CompareRun {
  name: string;
  /** the whole record of a netbench run; absent for a summary alone (the reference script's) */
  results?: RunResults;
  summary: Record<string, unknown>;
  /** where it came from, for the environment table ("netbench", "reference multi-step", ...) */
  origin?: string;
}

export interface CompareOptions {
  /** relative difference (percent) under which single-sample figures tie; default 5 */
  tolerancePct?: number;
  /** absolute difference (percentage points) under which overhead percentages tie; default 5 */
  tolerancePoints?: number;
  /** ANSI colour in the terminal rendering */
  color?: boolean;
}

export interface Verdict {
  kind: 'win' | 'tie' | 'n/a';
  /** index into runs of the leader (best figure), also for ties */
  leader?: number;
  /** how the tie or win was decided */
  basis?: 'ci-overlap' | 'tolerance' | 'equal';
  /** the Winner cell: "iptables (+14%)", "Tie", "N/A" */
  text: string;
}

export interface ComparedRow extends GlanceRow {
  verdict: Verdict;
  /** per run: how far behind the winner ("56% behind", "3.1 pp behind"); only on rows with a winner, undefined for the winner and missing figures */
  behind: (string | undefined)[];
}

/** A crossing of two runs' scale curves, with its sentence. */
export interface NamedCrossing {
  /** the curve's catalogue id (svc_short_c64, svc_c64, tcp_crr) */
  curve: string;
  crossing: Crossing;
  text: string;
}

export interface Comparison {
  rows: ComparedRow[];
  /** Service counts measured by every run (the per-step rows) */
  steps: number[];
  markdown: string;
  terminal: string;
  /** short-connection RPS per run against Service count (a file beside the Markdown) */
  scaleChartSvg?: string;
  /** every crossing of two runs' scale curves, by Service count */
  crossings: NamedCrossing[];
  /** compare.html: self-contained, the curves of all runs overlaid */
  html: string;
}

/** How far each run is behind the winner of a row (nothing on a tie). */
export function behindWinner(row: GlanceRow, v: Verdict): (string | undefined)[] {
  if (v.kind !== 'win' || v.leader === undefined) return row.cells.map(() => undefined);
  const best = row.cells[v.leader].value!;
  return row.cells.map((c, i) => {
    if (i === v.leader || c.value === undefined) return undefined;
    if (row.kind === 'pct') return `${fmtNum(Math.abs(best - c.value), 1)} pp behind`;
    const pct = changePct(c.value, best);
    return pct === undefined ? undefined : `${fmtNum(Math.abs(pct), 1)}% behind`;
  });
}

/** Decide one row. Exported for tests and for callers that build their own rows. */
export function judgeRow(row: GlanceRow, names: string[], opts: CompareOptions = {}): Verdict {
  const tolPct = opts.tolerancePct ?? 5;
  const tolPts = opts.tolerancePoints ?? 5;
  const have = row.cells.map((c, i) => ({ c, i })).filter((x): x is { c: GlanceCell & { value: number }; i: number } => x.c.value !== undefined);
  if (have.length < 2) return { kind: 'n/a', text: 'N/A' };
  const sign = row.better === 'higher' ? -1 : 1;
  have.sort((a, b) => sign * (a.c.value - b.c.value));
  const [best, second] = have;
  const b = best.c.value;
  const s = second.c.value;
  if (b === s) return { kind: 'tie', leader: best.i, basis: 'equal', text: 'Tie' };
  const withCi = best.c.ci95 !== undefined && second.c.ci95 !== undefined && best.c.n >= 2 && second.c.n >= 2;
  if (withCi || row.kind !== 'pct') {
    const noise = beyondNoise({ mean: b, ci95: withCi ? best.c.ci95 : undefined }, { mean: s, ci95: withCi ? second.c.ci95 : undefined }, tolPct);
    if (!noise.significant) return noise.basis === 'ci95' ? { kind: 'tie', leader: best.i, basis: 'ci-overlap', text: 'Tie (95% CIs overlap)' } : { kind: 'tie', leader: best.i, basis: 'tolerance', text: 'Tie' };
  } else if (Math.abs(b - s) <= tolPts) {
    // overhead rows are percentages already: the tolerance is in percentage points
    return { kind: 'tie', leader: best.i, basis: 'tolerance', text: 'Tie' };
  }
  const basis = best.c.ci95 !== undefined && second.c.ci95 !== undefined ? 'ci-overlap' : 'tolerance';
  let margin: string;
  if (row.kind === 'pct') margin = `+${Math.abs(b - s).toFixed(1)} pp`;
  else if (row.better === 'higher') margin = s > 0 ? fmtMargin(b / s) : 'only positive figure';
  else margin = `${Math.round(((s - b) / s) * 100)}% lower`;
  return { kind: 'win', leader: best.i, basis, text: `${names[best.i]} (${margin})` };
}

export function compareRuns(runs: CompareRun[], opts: CompareOptions = {}): Comparison {
  const names = runs.map((r) => r.name);
  const glance = glanceRows(runs, 'common');
  const rows: ComparedRow[] = glance.map((row) => {
    const verdict = judgeRow(row, names, opts);
    return { ...row, verdict, behind: behindWinner(row, verdict) };
  });

  // Crossover: say when a scale step's leader differs from the small-scale short-connection leader.
  const baseLeader = rows.find((r) => r.key === GLANCE_AT_SCALE.atScale!.of)?.verdict.leader;
  for (const r of rows) {
    if (r.step === undefined || baseLeader === undefined || r.verdict.leader === undefined || r.verdict.leader === baseLeader) continue;
    if (r.cells[baseLeader].value === undefined) continue;
    const who = names[r.verdict.leader];
    const was = names[baseLeader];
    r.verdict = {
      ...r.verdict,
      text: r.verdict.kind === 'tie' ? `Tie (crossover: ${who} now ahead of ${was})` : `${r.verdict.text}, overtakes ${was}`,
    };
  }

  const views = runs.map((r) => viewSummary(r.summary));
  const steps = commonSteps(views);
  // a summary alone says whether its large-scale results are trusted only when netbench wrote it
  const trusted = runs.map((r, i) => r.results?.scale.trusted ?? views[i].netbench?.trusted ?? true);
  const untrustedReason = (i: number) => runs[i].results?.scale.untrustedReason ?? views[i].netbench?.untrusted_reason;
  const untrusted = runs.filter((_, i) => !trusted[i]);
  const mark = (row: ComparedRow, i: number, text: string) => (row.step !== undefined && !trusted[i] && row.cells[i].value !== undefined ? `${text} †` : text);
  const cellBase = (row: ComparedRow, i: number) => {
    const c = row.cells[i];
    // an overhead (a pct row) says whether it is beyond its own run's noise, when that run has the rounds to tell
    const text = c.ciText && c.n >= 2 ? `${c.text} ${c.ciText}` : row.kind === 'pct' && c.note ? `${c.text} (${c.note})` : c.text;
    return mark(row, i, text);
  };
  const cellText = (row: ComparedRow, i: number) => `${cellBase(row, i)}${row.behind[i] ? ` (${row.behind[i]})` : ''}`;
  /** rounds of a summary alone: the longest per-round list it holds */
  const roundsOf = (i: number) =>
    runs[i].results?.options.rounds ?? Math.max(0, ...[...Object.values(views[i].throughput).map((e) => e.gbps?.length ?? 0), ...Object.values(views[i].rps).map((e) => e.qps?.length ?? 0)]);

  // ---- shared pieces
  const glanceCols = ['Dimension', ...names, 'Winner'];
  const glanceBody = (winner: (row: ComparedRow) => string): Cell[][] =>
    rows.map((row) => [row.label, ...row.cells.map((_, i) => cellText(row, i)), winner(row)]);
  const envRows: Cell[][] = [
    ['Network solution', ...runs.map((r, i) => r.results?.cluster?.clusterType ?? views[i].cluster.cluster_type ?? '?')],
    ['Kubernetes version', ...runs.map((r, i) => r.results?.cluster?.k8sVersion ?? views[i].cluster.k8s_version ?? '?')],
    ['Node OS', ...runs.map((r, i) => r.results?.cluster?.nodeOs ?? views[i].cluster.node_os ?? '?')],
    ['Kernel version', ...runs.map((r, i) => r.results?.cluster?.kernelVersion ?? views[i].cluster.kernel_version ?? '?')],
    ['Node spec', ...runs.map((r, i) => r.results?.cluster?.nodeModel ?? views[i].cluster.node_model ?? '?')],
    ['Node count', ...runs.map((r, i) => (r.results?.cluster ? String(r.results.cluster.nodeCount) : (views[i].cluster.node_count ?? '?')))],
    ['Rounds per scenario', ...runs.map((_, i) => String(roundsOf(i) || '?'))],
    ['Endpoints per dummy Service', ...runs.map((r, i) => String(r.results?.scale.endpointsPerSvc ?? views[i].service_scale.endpoints_per_svc ?? '?'))],
    ['Test date', ...runs.map((r, i) => r.results?.cluster?.testDate ?? views[i].cluster.test_date ?? '?')],
    ...(runs.some((r) => r.origin && r.origin !== 'netbench') ? [['Read from', ...runs.map((r) => ORIGIN_TEXT[r.origin ?? 'netbench'] ?? r.origin ?? '?')]] : []),
  ];
  const allSteps = [...new Set(views.flatMap((v) => (v.service_scale.steps ?? []).map((s) => s.svc_count)))].sort((a, b) => a - b);
  const scaleRows: Cell[][] = [
    ['Baseline (small)', ...views.map((v) => {
      const base = stepBaseline(v, GLANCE_AT_SCALE);
      return base ? fmtQps(base) : NONE;
    })],
    ...allSteps.map((n): Cell[] => [
      fmtInt(n),
      ...views.map((v, i) => {
        const st = (v.service_scale.steps ?? []).find((x) => x.svc_count === n);
        const { value, pct } = stepFigures(st, GLANCE_AT_SCALE);
        if (!st || value === undefined) return NONE;
        const t = pct !== undefined ? `${fmtInt(value)} (${fmtPct(pct)})` : fmtInt(value);
        return !trusted[i] ? `${t} †` : t;
      }),
    ]),
  ];
  const failureCounts = runs.map((r, i) =>
    r.results
      ? r.results.measurements.filter(isFailure).length + r.results.scale.steps.reduce((a, s) => a + s.measurements.filter(isFailure).length, 0) + (r.results.component?.failures.length ?? 0)
      : (views[i].netbench?.failures?.length ?? 0),
  );
  const notes: string[] = [
    `Tie: overlapping 95% confidence intervals when both runs have 2 or more rounds, else within ${opts.tolerancePct ?? 5}% (overheads: within ${opts.tolerancePoints ?? 5} percentage points). Winner margins compare the best run with the runner-up; "behind" is each other run's distance from the winner.`,
    `N/A: not applicable to that datapath (Cilium only). ${NONE}: not measured (skipped or failed; see the run's report).`,
    ...untrusted.map((r) => `† ${r.name}: large-scale results untrusted — ${oneLine(untrustedReason(runs.indexOf(r)) ?? 'the Cilium LB-map fix was not applied')}.`),
    ...runs.map((r, i) => (failureCounts[i] ? `${r.name}: ${failureCounts[i]} failed measurement(s); see its report's Failures section.` : '')).filter(Boolean),
    ...runs
      .map((r, i) => {
        const skipped = (r.results?.phases ?? views[i].netbench?.phases ?? []).filter((p) => p.status !== 'done');
        return skipped.length ? `${r.name}: not run — ${skipped.map((p) => `${p.phase} (${oneLine(p.reason ?? p.status)})`).join('; ')}.` : '';
      })
      .filter(Boolean),
  ];

  // ---- the scale curves of all runs, and where they cross
  const curves = SCALE_CURVES.map((def) => ({ def, perRun: runs.map((r, i) => scaleCurve(def, views[i], r.results)) }));
  const crossings: NamedCrossing[] = curves.flatMap(({ def, perRun }) =>
    allCrossings(perRun.map((points, i) => ({ name: names[i], points })), def.better).map((crossing) => ({
      curve: def.id,
      crossing,
      text: crossingText(crossing, def.words, def.better, (v) => `${fmtNum(v, unitDigits(def.unit))} ${def.unit}`),
    })),
  );
  const measuredCurves = curves.filter((c) => c.perRun.filter((pts) => pts.some((p) => p.x > 0)).length >= 2);
  const crossingLines = measuredCurves.length
    ? crossings.length
      ? crossings.map((c) => `${c.text}.`)
      : ['No crossing: on every scale curve the runs keep their order at every Service count they all measured.']
    : [];

  // ---- Markdown
  const md: string[] = [];
  md.push(`# Comparison: ${names.join(' vs ')}`, '');
  md.push('## Test environment', '', renderMarkdownTable(['Item', ...names], envRows), '');
  md.push('## At a glance', '', renderMarkdownTable(glanceCols, glanceBody((r) => r.verdict.text)), '');
  md.push(...notes.map((n) => `- ${n}`), '');
  const scaleChartSvg = compareScaleChart(runs.map((r, i) => ({ name: r.name, view: views[i] })));
  if (allSteps.length) {
    md.push('## Short-connection RPS by Service count', '', renderMarkdownTable(['Service count', ...names], scaleRows), '');
    if (scaleChartSvg) md.push(`![Short-connection RPS against Service count, per run](${COMPARE_CHART_FILE})`, '');
  }
  if (crossingLines.length) md.push('## Crossings', '', ...crossingLines.map((l) => `- ${l}`), '');

  // ---- terminal
  const color = opts.color ?? false;
  const tcols: (string | Column)[] = glanceCols;
  const term: string[] = [];
  term.push(paint(`━━━ Comparison: ${names.join(' vs ')} ━━━`, ['bold', 'blue'], color), '');
  term.push(paint('  ── Test environment ──', ['bold', 'blue'], color), renderTextTable(['Item', ...names], envRows, { color, indent: 4 }), '');
  term.push(
    paint('  ── At a glance ──', ['bold', 'blue'], color),
    renderTextTable(tcols, glanceBody((r) => paint(r.verdict.text, r.verdict.kind === 'win' ? ['bold', 'green'] : 'dim', color)), { color, indent: 4 }),
    ...notes.map((n) => `    ${n}`),
    '',
  );
  if (allSteps.length) {
    term.push(paint('  ── Short-connection RPS by Service count ──', ['bold', 'blue'], color), renderTextTable(['Service count', ...names], scaleRows, { color, indent: 4 }), '');
  }
  if (crossingLines.length) term.push(paint('  ── Crossings ──', ['bold', 'blue'], color), ...crossingLines.map((l) => `    ${l}`));

  return {
    rows,
    steps,
    markdown: md.join('\n').replace(/\n+$/, '') + '\n',
    terminal: term.join('\n').replace(/\n+$/, ''),
    ...(scaleChartSvg ? { scaleChartSvg } : {}),
    crossings,
    html: compareHtml({ names, envRows, rows, glanceCell: cellBase, notes, curves: measuredCurves, crossings, crossingLines, scaleRows: allSteps.length ? scaleRows : [] }),
  };
}

const ORIGIN_TEXT: Record<string, string> = {
  netbench: 'netbench run',
  'netbench summary': 'netbench summary',
  'reference multi-step': 'reference script (multi-step summary)',
  'reference single-step': 'reference script (single-step summary)',
};

/** compare.html: environment, the At-a-glance table with winners, the overlaid scale curves and their crossings. */
function compareHtml(o: {
  names: string[];
  envRows: Cell[][];
  rows: ComparedRow[];
  glanceCell: (row: ComparedRow, i: number) => string;
  notes: string[];
  curves: { def: (typeof SCALE_CURVES)[number]; perRun: CurvePointView[][] }[];
  crossings: NamedCrossing[];
  crossingLines: string[];
  scaleRows: Cell[][];
}): string {
  const title = `Comparison: ${o.names.join(' vs ')}`;
  const glance = htmlTable(
    ['Dimension', ...o.names, 'Winner'],
    o.rows.map((row): CellIn[] => [
      row.label,
      ...row.cells.map((c, i): CellIn => {
        return { text: o.glanceCell(row, i), cls: c.value === undefined ? (c.applicable ? 'missing' : '') : row.verdict.kind === 'win' && row.verdict.leader === i ? 'best' : '', sub: row.behind[i] };
      }),
      { text: row.verdict.text, cls: row.verdict.kind === 'win' ? 'win' : 'tie' },
    ]),
  );
  const charts = o.curves.map(({ def, perRun }) => {
    const xs = [...new Set(perRun.flatMap((pts) => pts.map((p) => p.x)))].sort((a, b) => a - b);
    const svg = lineChart({
      title: `${def.label} vs Service count`,
      series: perRun.map((pts, i) => ({ name: o.names[i], points: pts.map((p) => ({ x: p.x, y: p.y, note: p.spread || undefined, ...(p.ci95 !== undefined ? { lo: p.y - p.ci95, hi: p.y + p.ci95 } : {}) })) })).filter((s) => s.points.length),
      xTicks: xs.map((value) => ({ value, label: value === 0 ? 'baseline' : fmtInt(value) })),
      xLabel: 'dummy Services in the cluster (cumulative)',
      yLabel: `${def.unit} (${def.better} is better)`,
      yFormat: (v) => fmtNum(v, def.unit === 'ms' ? 2 : 0),
      width: 960,
      height: 400,
      markers: o.crossings.filter((c) => c.curve === def.id).map((c) => ({ x: c.crossing.at, label: `${c.crossing.winner} overtakes ${c.crossing.loser} ≈ ${about(c.crossing)}` })),
    });
    return figure(svg, 'Whiskers: 95% interval across rounds (netbench runs with 2 or more rounds); the reference\'s summaries keep no per-step rounds.');
  });
  const header = ['<header>', `<h1>${esc(title)}</h1>`, para(`${o.names.length} runs side by side; a winner only where the difference is larger than the noise.`, 'meta'), toc([['environment', 'Test environment'], ['glance', 'At a glance'], ['crossings', 'Crossings'], ['scale', 'Service scale']]), '</header>'].join('\n');
  const asCells = (rows: Cell[][]) => rows.map((r) => r.map((c) => String(c)));
  return page({
    title: `netbench: ${title}`,
    header,
    sections: [
      section('environment', 'Test environment', htmlTable(['Item', ...o.names], asCells(o.envRows))),
      section('glance', 'At a glance', glance, `<ul class="note">${o.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`),
      section('crossings', 'Crossings', o.crossingLines.length ? `<ul class="crossings">${o.crossingLines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>` : para('No scale curves to cross.', 'note')),
      section(
        'scale',
        'Service scale',
        charts.length ? charts.join('\n') : para('Fewer than two runs measured Service-scale steps: no curves to overlay.', 'note'),
        o.scaleRows.length ? '<h3>Short-connection RPS by Service count</h3>' + htmlTable(['Service count', ...o.names], asCells(o.scaleRows), o.names.map((_, i) => i + 1).concat(0)) : '',
      ),
    ],
    footer: esc('netbench compare. Crossings: where two runs\' curves change order between Service counts both measured, located by linear interpolation of their difference.'),
  });
}

/** Column header for a run when the caller has no better name: its datapath's short name. */
export const defaultRunName = (r: { results?: RunResults; summary: Record<string, unknown> }): string =>
  clusterLabel(clusterTypeOf({ name: '', results: r.results, summary: r.summary }));
