/**
 * `netbench compare RUN...`: the article's side-by-side "At a glance" table
 * (with a Winner column and how far each run is behind it), the Service-scale
 * curves of all runs and where they cross, from any runs: netbench run
 * directories, the reference script's result directories, or either's
 * benchmark-summary.json (both of the reference's formats), mixed. Prints the
 * table and the crossings; writes compare.md and compare.html into --out.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareRuns } from '../report/compare';
import { COMPARE_FILES, loadAnyRun, nameRuns, RESULTS_FILE, writeComparison } from '../report/files';

export const COMPARE_HELP = `netbench compare RUN... : side-by-side "At a glance" table of finished runs (one column per run, a Winner column),
their Service-scale curves overlaid and every crossing named

Each RUN is one of:
  - a netbench run directory (it holds ${RESULTS_FILE})
  - a result directory of the reference script (network-benchmark.sh; it holds benchmark-summary.json)
  - a benchmark-summary.json file (the reference's current or older single-step format, or netbench's)
mixed freely. Columns are named after the cluster type (iptables, Cilium Native, ...) unless named
explicitly as NAME=RUN.

A winner only where the difference is larger than the noise: non-overlapping 95% intervals when both
runs have 2 or more rounds, else a difference beyond --tolerance; otherwise "Tie".

Options:
  --out DIR              where to write ${COMPARE_FILES.markdown}, ${COMPARE_FILES.html} and ${COMPARE_FILES.chart} (default: .)
  --tolerance PCT        single-sample figures within PCT percent tie (default 5)
  -h, --help             this help
`;

export async function compareMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' }, tolerance: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  if (positionals.length < 2) throw Object.assign(new Error('compare needs at least two run directories (or benchmark-summary.json files)'), { usage: true });
  const tolerance = values.tolerance === undefined ? undefined : Number(values.tolerance);
  if (tolerance !== undefined && !(tolerance >= 0)) throw Object.assign(new Error(`--tolerance must be a non-negative number, not "${values.tolerance}"`), { usage: true });
  const runs = nameRuns(
    positionals.map((p) => {
      const m = /^([^=]+)=(.+)$/.exec(p);
      return { ...loadAnyRun(m ? m[2] : p), name: m?.[1] };
    }),
  );
  const c = compareRuns(runs, { tolerancePct: tolerance, color: !!process.stdout.isTTY });
  process.stdout.write(c.terminal + '\n');
  const written = await writeComparison(path.resolve(values.out ?? '.'), c);
  process.stdout.write(`wrote ${written.join(', ')}\n`);
  return 0;
}
