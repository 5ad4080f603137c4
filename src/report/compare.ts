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
 * small-scale baseline (the article's crossover).
 */
import type { RunResults } from '../domain/results';
import { GLANCE_AT_SCALE } from '../domain/scenarios';
import { beyondNoise } from '../domain/stats';
import { compareScaleChart } from './charts';
import { NONE, fmtInt, fmtMargin, fmtPct, fmtQps, oneLine } from './format';
import { clusterTypeOf, commonSteps, glanceRows, type GlanceCell, type GlanceRow } from './glance';
import { paint, renderMarkdownTable, renderTextTable, type Cell, type Column } from './table';
import { clusterLabel, viewSummary } from './summary-view';

/** File name the comparison Markdown links its chart as. */
export const COMPARE_CHART_FILE = 'compare-scale-chart.svg';

export interface CompareRun {
  name: string;
  results: RunResults;
  summary: Record<string, unknown>;
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
}

export interface Comparison {
  rows: ComparedRow[];
  /** Service counts measured by every run (the per-step rows) */
  steps: number[];
  markdown: string;
  terminal: string;
  /** short-connection RPS per run against Service count (a file beside the Markdown) */
  scaleChartSvg?: string;
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
  const rows: ComparedRow[] = glance.map((row) => ({ ...row, verdict: judgeRow(row, names, opts) }));

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
  const untrusted = runs.filter((r) => r.results.scale.trusted === false);
  const mark = (row: ComparedRow, i: number, text: string) => (row.step !== undefined && runs[i].results.scale.trusted === false && row.cells[i].value !== undefined ? `${text} †` : text);
  const cellText = (row: ComparedRow, i: number) => {
    const c = row.cells[i];
    return mark(row, i, c.ciText && c.n >= 2 ? `${c.text} ${c.ciText}` : c.text);
  };

  // ---- shared pieces
  const glanceCols = ['Dimension', ...names, 'Winner'];
  const glanceBody = (winner: (row: ComparedRow) => string): Cell[][] =>
    rows.map((row) => [row.label, ...row.cells.map((_, i) => cellText(row, i)), winner(row)]);
  const envRows: Cell[][] = [
    ['Network solution', ...runs.map((r) => r.results.cluster?.clusterType ?? views[runs.indexOf(r)].cluster.cluster_type ?? '?')],
    ['Kubernetes version', ...runs.map((r, i) => r.results.cluster?.k8sVersion ?? views[i].cluster.k8s_version ?? '?')],
    ['Node OS', ...runs.map((r, i) => r.results.cluster?.nodeOs ?? views[i].cluster.node_os ?? '?')],
    ['Kernel version', ...runs.map((r, i) => r.results.cluster?.kernelVersion ?? views[i].cluster.kernel_version ?? '?')],
    ['Node spec', ...runs.map((r, i) => r.results.cluster?.nodeModel ?? views[i].cluster.node_model ?? '?')],
    ['Node count', ...runs.map((r, i) => (r.results.cluster ? String(r.results.cluster.nodeCount) : (views[i].cluster.node_count ?? '?')))],
    ['Rounds per scenario', ...runs.map((r) => String(r.results.options.rounds))],
    ['Endpoints per dummy Service', ...runs.map((r) => String(r.results.scale.endpointsPerSvc))],
    ['Test date', ...runs.map((r, i) => r.results.cluster?.testDate ?? views[i].cluster.test_date ?? '?')],
  ];
  const allSteps = [...new Set(views.flatMap((v) => (v.service_scale.steps ?? []).map((s) => s.svc_count)))].sort((a, b) => a - b);
  const scaleRows: Cell[][] = [
    ['Baseline (small)', ...views.map((v) => (v.service_scale.short_conn_baseline_qps ? fmtQps(v.service_scale.short_conn_baseline_qps) : NONE))],
    ...allSteps.map((n): Cell[] => [
      fmtInt(n),
      ...views.map((v, i) => {
        const st = (v.service_scale.steps ?? []).find((x) => x.svc_count === n);
        if (!st || st.short_conn_qps === undefined) return NONE;
        const t = st.short_conn_degradation_pct !== undefined ? `${fmtInt(st.short_conn_qps)} (${fmtPct(st.short_conn_degradation_pct)})` : fmtInt(st.short_conn_qps);
        return runs[i].results.scale.trusted === false ? `${t} †` : t;
      }),
    ]),
  ];
  const failureCounts = runs.map((r) => r.results.measurements.filter((m) => !m.ok).length + r.results.scale.steps.reduce((a, s) => a + s.measurements.filter((m) => !m.ok).length, 0) + (r.results.component?.failures.length ?? 0));
  const notes: string[] = [
    `Tie: overlapping 95% confidence intervals when both runs have 2 or more rounds, else within ${opts.tolerancePct ?? 5}% (overheads: within ${opts.tolerancePoints ?? 5} percentage points). Winner margins compare the best run with the runner-up.`,
    `N/A: not applicable to that datapath (Cilium only). ${NONE}: not measured (skipped or failed; see the run's report).`,
    ...untrusted.map((r) => `† ${r.name}: large-scale results untrusted — ${oneLine(r.results.scale.untrustedReason ?? 'the Cilium LB-map fix was not applied')}.`),
    ...runs.map((r, i) => (failureCounts[i] ? `${r.name}: ${failureCounts[i]} failed measurement(s); see its report's Failures section.` : '')).filter(Boolean),
    ...runs
      .map((r) => {
        const skipped = r.results.phases.filter((p) => p.status !== 'done');
        return skipped.length ? `${r.name}: not run — ${skipped.map((p) => `${p.phase} (${oneLine(p.reason ?? p.status)})`).join('; ')}.` : '';
      })
      .filter(Boolean),
  ];

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
    term.push(paint('  ── Short-connection RPS by Service count ──', ['bold', 'blue'], color), renderTextTable(['Service count', ...names], scaleRows, { color, indent: 4 }));
  }

  return {
    rows,
    steps,
    markdown: md.join('\n').replace(/\n+$/, '') + '\n',
    terminal: term.join('\n').replace(/\n+$/, ''),
    ...(scaleChartSvg ? { scaleChartSvg } : {}),
  };
}

/** Column header for a run when the caller has no better name: its datapath's short name. */
export const defaultRunName = (r: { results: RunResults; summary: Record<string, unknown> }): string =>
  clusterLabel(clusterTypeOf({ name: '', results: r.results, summary: r.summary }));
