/**
 * Write a run's results: netbench-results.json (everything, regenerates any
 * report), benchmark-summary.json (reference-compatible), report.md with its
 * chart, and the reference's service-scale metadata files. The same
 * rendering serves `netbench result` on a finished run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunResults } from '../domain/results';
import { buildSummary, summaryJson } from '../domain/summary';
import { renderReportMarkdown } from '../report/markdown';

export const RESULTS_FILE = 'netbench-results.json';

/** Every file of a run's report, by path relative to the run directory. */
export function renderRunFiles(results: RunResults): Record<string, string> {
  const summary = buildSummary(results);
  const report = renderReportMarkdown(results, summary);
  const files: Record<string, string> = {
    [RESULTS_FILE]: JSON.stringify(results, null, 2) + '\n',
    'benchmark-summary.json': summaryJson(summary),
    'report.md': report.markdown,
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

export function makeReportActivities() {
  return {
    async writeReport(input: { results: RunResults }): Promise<{ files: string[] }> {
      return { files: await writeRunFiles(input.results.outputDir, input.results) };
    },
  };
}
