/**
 * A run's report files: netbench-results.json (everything, regenerates any
 * report), benchmark-summary.json (reference-compatible), report.md with its
 * chart, report.html (self-contained, charts inline), and the reference's service-scale metadata files; and a run
 * directory read back. The one file of report/ that touches the filesystem:
 * the report activity and the CLI (`result`, `compare`) write through it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResults } from '../domain/results';
import { buildSummary, summaryJson } from '../domain/summary';
import { compareRuns, defaultRunName, COMPARE_CHART_FILE, type CompareRun, type Comparison } from './compare';
import { renderReportMarkdown } from './markdown';
import { renderReportHtml } from './report-html';
import { viewSummary } from './summary-view';
import { parseContextYaml, readReferenceSummary, type ReferenceFormat } from './reference';

export const RESULTS_FILE = 'netbench-results.json';

/** Every file of a run's report, by path relative to the run directory. */
export function renderRunFiles(results: RunResults): Record<string, string> {
  const summary = buildSummary(results);
  const report = renderReportMarkdown(results, summary);
  const files: Record<string, string> = {
    [RESULTS_FILE]: JSON.stringify(results, null, 2) + '\n',
    'benchmark-summary.json': summaryJson(summary),
    'report.md': report.markdown,
    'report.html': renderReportHtml(results, summary),
  };
  if (report.scaleChartSvg) files['scale-chart.svg'] = report.scaleChartSvg;
  if (!results.options.skip.includes('service-scale')) {
    files['service-scale/scale_steps.txt'] = `${results.options.svcScaleSteps.join(',')}\n`;
    files['service-scale/endpoints_per_svc.txt'] = `${results.options.svcEndpoints}\n`;
    const lb = results.scale.lbMap;
    if (lb) files['service-scale/bpf_lb_map_max.txt'] = `${lb.after ?? lb.current}\n`;
  }
  return files;
}

export async function writeRunFiles(dir: string, results: RunResults): Promise<string[]> {
  const files = renderRunFiles(results);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, content);
  }
  return Object.keys(files).map((f) => path.join(dir, f));
}

export function loadRun(dir: string): RunResults {
  const file = path.join(dir, RESULTS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${dir} is not a netbench run directory (no ${RESULTS_FILE})`);
  }
  const r = JSON.parse(text) as RunResults;
  if (r.schema !== 'netbench/run-results@1') throw new Error(`${file}: unknown schema ${String(r.schema)}`);
  return r;
}

/** A run read for comparison or export: a netbench run, or a summary alone (the reference's, or netbench's without its results). */
export interface LoadedRun {
  /** the path it was read from */
  source: string;
  /** netbench: a run directory with netbench-results.json; otherwise the benchmark-summary.json it was read from and its format */
  origin: 'netbench' | 'netbench summary' | `reference ${ReferenceFormat}`;
  /** the whole record (netbench runs only) */
  results?: RunResults;
  summary: Record<string, unknown>;
}

const SUMMARY_FILE = 'benchmark-summary.json';

/**
 * Any run: a netbench run directory, the reference script's result
 * directory (benchmark-summary.json, plus context.yaml when the summary
 * lacks the cluster facts), or a benchmark-summary.json file of either
 * (both of the reference's formats; a netbench summary beside its
 * netbench-results.json reads as the whole run).
 */
export function loadAnyRun(p: string): LoadedRun {
  let isDir: boolean;
  try {
    isDir = statSync(p).isDirectory();
  } catch {
    throw new Error(`${p}: no such file or directory`);
  }
  const dir = isDir ? p : path.dirname(p);
  if (existsSync(path.join(dir, RESULTS_FILE)) && (isDir || path.basename(p) === SUMMARY_FILE || path.basename(p) === RESULTS_FILE)) {
    const results = loadRun(dir);
    return { source: p, origin: 'netbench', results, summary: buildSummary(results) };
  }
  const file = isDir ? path.join(p, SUMMARY_FILE) : p;
  if (!existsSync(file)) throw new Error(`${p} is neither a netbench run directory (no ${RESULTS_FILE}) nor a result directory of the reference script (no ${SUMMARY_FILE})`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  const ref = readReferenceSummary(json, file);
  const cluster = ref.summary.cluster as Record<string, unknown>;
  const ctx = path.join(dir, 'context.yaml');
  if (Object.keys(cluster).length === 0 && existsSync(ctx)) ref.summary.cluster = parseContextYaml(readFileSync(ctx, 'utf8'));
  // a netbench summary alone (copied away from its run directory) has the current format and its netbench block
  return { source: p, origin: 'netbench' in ref.summary ? 'netbench summary' : `reference ${ref.format}`, summary: ref.summary };
}

/** Unique column names: the cluster label, disambiguated by context when two runs share it. */
export function nameRuns(runs: { results?: RunResults; summary: Record<string, unknown>; name?: string; origin?: string }[]): CompareRun[] {
  const base = runs.map((r) => r.name ?? defaultRunName(r));
  return runs.map((r, i) => {
    const dup = base.filter((b) => b === base[i]).length > 1;
    const ctxOf = (j: number) => runs[j].results?.cluster?.contextName ?? viewSummary(runs[j].summary).cluster.cluster_name ?? `run ${j + 1}`;
    const ctx = ctxOf(i);
    // "#n" only when an earlier run has the same label and the same context too
    const again = runs.slice(0, i).some((_, j) => base[j] === base[i] && ctxOf(j) === ctx);
    return {
      name: r.name ?? (dup ? `${base[i]} (${ctx}${again ? ` #${i + 1}` : ''})` : base[i]),
      ...(r.results ? { results: r.results } : {}),
      summary: r.summary,
      ...(r.origin ? { origin: r.origin } : {}),
    };
  });
}

/** File names of a comparison in its output directory. */
export const COMPARE_FILES = { markdown: 'compare.md', html: 'compare.html', chart: COMPARE_CHART_FILE } as const;

/** A comparison's files (compare.md, compare.html, the Markdown's chart) in `outputDir`; the paths written. */
export async function writeComparison(outputDir: string, c: Comparison): Promise<string[]> {
  await mkdir(outputDir, { recursive: true });
  const files: [string, string | undefined][] = [[COMPARE_FILES.markdown, c.markdown], [COMPARE_FILES.html, c.html], [COMPARE_FILES.chart, c.scaleChartSvg]];
  const written: string[] = [];
  for (const [name, content] of files) {
    if (content === undefined) continue;
    await writeFile(path.join(outputDir, name), content);
    written.push(path.join(outputDir, name));
  }
  return written;
}

/** The side-by-side comparison of finished runs (any run loadAnyRun reads): compare.md, compare.html (+ the Markdown's chart) in outputDir. */
export async function writeComparisonFiles(outputDir: string, dirs: string[]): Promise<string> {
  const c = compareRuns(nameRuns(dirs.map((dir) => loadAnyRun(dir))));
  await writeComparison(outputDir, c);
  return path.join(outputDir, COMPARE_FILES.markdown);
}
