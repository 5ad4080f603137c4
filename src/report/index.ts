/**
 * Pure rendering of run results: the terminal summary, report.md (+ its
 * chart), comparisons of runs, and the table/SVG primitives they use.
 * No I/O here: the report activity and the CLI write what these return.
 */
export { renderSummaryTable, type TerminalOptions } from './terminal';
export { renderReportMarkdown, SCALE_CHART_FILE, type MarkdownReport } from './markdown';
export { compareRuns, judgeRow, defaultRunName, COMPARE_CHART_FILE, type CompareRun, type CompareOptions, type Comparison, type ComparedRow, type Verdict } from './compare';
export { glanceRows, type GlanceRow, type GlanceCell, type GlanceRun } from './glance';
export { renderTextTable, renderMarkdownTable, visibleWidth, stripAnsi, paint, type Column, type Cell, type TextTableOptions } from './table';
export { lineChart, niceTicks, type LineChartOptions, type Series, type Point } from './svg';
export { scaleChart, compareScaleChart } from './charts';
export { viewSummary, clusterLabel, type SummaryView } from './summary-view';
