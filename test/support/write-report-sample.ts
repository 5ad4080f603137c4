// Writes sample renderings from the article-shaped fixtures, for a person to
// look at: /tmp/report-sample.md (+ its charts) and the terminal outputs.
//   node --import tsx test/support/write-report-sample.ts [outDir]
// Cluster A carries a few failures so the Failures section shows; B is a Cilium run.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSummary } from '../../src/domain/summary';
import { compareRuns, COMPARE_CHART_FILE, renderReportMarkdown, renderSummaryTable, SCALE_CHART_FILE } from '../../src/report';
import { A, B, C, failed, makeRun } from './report-fixtures';

const dir = process.argv[2] ?? '/tmp';
const a = makeRun(A, { rounds: 3, spread: 1.5 });
// Round 3 of two scenarios failed: the figure comes from rounds 1-2 and the failure is listed.
a.measurements = a.measurements.filter((m) => !(m.scenario === 'svc_c256' && m.round === 3));
a.measurements.push(failed('svc_c256', 'exec stream closed (websocket 1006) after 3 attempts', { round: 3 }));
a.scale.steps[2].measurements = a.scale.steps[2].measurements.filter((m) => !(m.scenario === 'tcp_crr' && m.round === 3));
a.scale.steps[2].measurements.push(failed('tcp_crr', 'netperf: no CSV line in output (timed out after 180 s)', { round: 3, step: 20000 }));
a.component!.failures.push({ what: 'resource sampling (metrics.k8s.io)', reason: 'metrics API not available: 503 Service Unavailable' });
const b = makeRun(B, { rounds: 3, spread: 1.5 });
const c = makeRun(C);

const sa = buildSummary(a);
const report = renderReportMarkdown(a, sa);
writeFileSync(join(dir, 'report-sample.md'), report.markdown.replace(`](${SCALE_CHART_FILE})`, `](report-sample-${SCALE_CHART_FILE})`));
if (report.scaleChartSvg) writeFileSync(join(dir, `report-sample-${SCALE_CHART_FILE}`), report.scaleChartSvg);
writeFileSync(join(dir, 'report-sample-terminal.txt'), renderSummaryTable(sa) + '\n');

const sb = buildSummary(b);
const rb = renderReportMarkdown(b, sb);
writeFileSync(join(dir, 'report-sample-cilium.md'), rb.markdown.replace(`](${SCALE_CHART_FILE})`, `](report-sample-${SCALE_CHART_FILE})`));
writeFileSync(join(dir, 'report-sample-cilium-terminal.txt'), renderSummaryTable(sb) + '\n');

const cmp = compareRuns([
  { name: 'iptables', results: a, summary: sa },
  { name: 'Cilium Native', results: b, summary: sb },
  { name: 'Cilium Overlay', results: c, summary: buildSummary(c) },
]);
writeFileSync(join(dir, 'report-sample-compare.md'), cmp.markdown);
if (cmp.scaleChartSvg) writeFileSync(join(dir, COMPARE_CHART_FILE), cmp.scaleChartSvg);
writeFileSync(join(dir, 'report-sample-compare-terminal.txt'), cmp.terminal + '\n');
console.log(`wrote ${dir}/report-sample.md (+ -cilium.md, -compare.md, -*terminal.txt, report-sample-${SCALE_CHART_FILE}, ${COMPARE_CHART_FILE})`);
