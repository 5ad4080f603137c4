/**
 * `netbench compare DIR...`: the article's side-by-side "At a glance" table
 * (with a Winner column) from finished run directories; writes compare.md
 * and its chart into --out (default: the current directory).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildSummary } from '../domain/summary';
import { compareRuns, COMPARE_CHART_FILE } from '../report/compare';
import { loadRun, nameRuns, RESULTS_FILE } from '../report/files';

export const COMPARE_HELP = `netbench compare DIR... : side-by-side "At a glance" table of finished runs (one column per run, a Winner column)

Each DIR is a run directory (it holds ${RESULTS_FILE}). Columns are named after the cluster type
(iptables, Cilium Native, ...) unless named explicitly as NAME=DIR.

Options:
  --out DIR              where to write compare.md and ${COMPARE_CHART_FILE} (default: .)
  --tolerance PCT        single-sample figures within PCT percent tie (default 5)
  -h, --help             this help
`;

export async function compareMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' }, tolerance: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  if (positionals.length < 2) throw Object.assign(new Error('compare needs at least two run directories'), { usage: true });
  const tolerance = values.tolerance === undefined ? undefined : Number(values.tolerance);
  if (tolerance !== undefined && !(tolerance >= 0)) throw Object.assign(new Error(`--tolerance must be a non-negative number, not "${values.tolerance}"`), { usage: true });
  const runs = nameRuns(
    positionals.map((p) => {
      const m = /^([^=]+)=(.+)$/.exec(p);
      const results = loadRun(m ? m[2] : p);
      return { name: m?.[1], results, summary: buildSummary(results) };
    }),
  );
  const c = compareRuns(runs, { tolerancePct: tolerance, color: !!process.stdout.isTTY });
  process.stdout.write(c.terminal + '\n');
  const out = path.resolve(values.out ?? '.');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'compare.md'), c.markdown);
  if (c.scaleChartSvg) await writeFile(path.join(out, COMPARE_CHART_FILE), c.scaleChartSvg);
  process.stdout.write(`wrote ${path.join(out, 'compare.md')}${c.scaleChartSvg ? ` and ${COMPARE_CHART_FILE}` : ''}\n`);
  return 0;
}
