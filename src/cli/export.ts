/**
 * `netbench export RUN --format csv|json`: every measurement of a run as one
 * row (scenario, step, round, value, unit, raw file, ok / reason), for
 * spreadsheets and dashboards. RUN is anything `compare` reads.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXPORT_COLUMNS, resultRows, rowsCsv, rowsJson, summaryRows } from '../report/export';
import { loadAnyRun, RESULTS_FILE } from '../report/files';

export const EXPORT_HELP = `netbench export RUN --format csv|json [--out FILE] : every measurement of a run, one row each

RUN is a netbench run directory (it holds ${RESULTS_FILE}): one row per tool run, failed ones
included with their reason. A result directory of the reference script, or a benchmark-summary.json,
gives what the summary kept: throughput and RPS per round, the other figures as averages (round empty).

Columns: ${EXPORT_COLUMNS.join(', ')}
  step    Service count of the scale step (empty outside the steps)
  value   the scenario's headline figure in unit (Gbps, req/s, p99 µs); empty when the run failed
  file    the raw tool output, relative to the run directory

Options:
  --format csv|json      required
  --out FILE             write to FILE instead of standard output
  -h, --help             this help
`;

export async function exportMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  const bad: string[] = [];
  if (positionals.length !== 1) bad.push(`export needs exactly one run directory or summary file (got ${positionals.length})`);
  if (values.format !== 'csv' && values.format !== 'json') bad.push(`--format must be csv or json${values.format === undefined ? '' : `, not "${values.format}"`}`);
  if (bad.length) throw Object.assign(new Error(bad.join('; ')), { usage: true });
  const run = loadAnyRun(positionals[0]);
  const rows = run.results ? resultRows(run.results) : summaryRows(run.summary);
  const text = values.format === 'csv' ? rowsCsv(rows) : rowsJson(rows);
  if (values.out) {
    await writeFile(values.out, text);
    process.stderr.write(`wrote ${rows.length} rows to ${values.out}\n`);
  } else process.stdout.write(text);
  return 0;
}
