/**
 * The report activities: a run's report files and the comparison of
 * finished runs, written by src/report/files.ts.
 */
import type { RunResults } from '../domain/results';
import { writeComparisonFiles, writeRunFiles } from '../report/files';

export function makeReportActivities() {
  return {
    /** The side-by-side comparison of finished runs, read from their run directories. */
    async writeComparison(input: { outputDir: string; runs: { name: string; dir: string }[] }): Promise<{ file: string }> {
      return { file: await writeComparisonFiles(input.outputDir, input.runs.map((r) => r.dir)) };
    },
    async writeReport(input: { results: RunResults }): Promise<{ files: string[] }> {
      return { files: await writeRunFiles(input.results.outputDir, input.results) };
    },
  };
}
