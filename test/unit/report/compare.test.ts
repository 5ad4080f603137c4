// Comparing runs: the article's side-by-side At-a-glance table with a Winner
// column. The article's three clusters must come out with the article's
// verdicts; ties follow confidence intervals when there are rounds, else the
// tolerance, which is a parameter.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunResults } from '../../../src/domain/results';
import { buildSummary } from '../../../src/domain/summary';
import { compareRuns, judgeRow, type CompareRun } from '../../../src/report/compare';
import type { GlanceRow } from '../../../src/report/glance';
import { stripAnsi } from '../../../src/report/table';
import { A, B, C, makeRun, type ClusterFigures } from '../../support/report-fixtures';
import { assertWellFormedSvg } from '../../support/svg-check';

const run = (name: string, f: ClusterFigures, o: Parameters<typeof makeRun>[1] = {}): CompareRun & { results: RunResults } => {
  const results = makeRun(f, o);
  return { name, results, summary: buildSummary(results) };
};
const article = () => [run('iptables', A), run('Cilium Native', B), run('Cilium Overlay', C)];
const winners = (rows: ReturnType<typeof compareRuns>['rows']) => Object.fromEntries(rows.map((r) => [r.label, r.verdict.text]));

describe('compareRuns', () => {
  it("reproduces the article's At a glance verdicts for clusters A, B and C", () => {
    const cmp = compareRuns(article());
    assert.deepEqual(cmp.steps, [5000, 10000, 20000, 30000]);
    assert.deepEqual(winners(cmp.rows), {
      'Pod2Pod throughput (8 streams)': 'Tie',
      'RPS keepalive (c64)': 'iptables (+14%)',
      'RPS short conn (c64, small)': 'iptables (+2.2x)',
      'TCP_RR p99 (baseline)': 'Tie',
      'HTTP p99 @1000 QPS': 'Tie',
      'Short-conn RPS @5000 svc': 'iptables (+69%)',
      'Short-conn RPS @10000 svc': 'iptables (+35%)',
      'Short-conn RPS @20000 svc': 'Tie (crossover: Cilium Overlay now ahead of iptables)',
      'Short-conn RPS @30000 svc': 'Cilium Overlay (+25%), overtakes iptables',
      'L3/L4 NetworkPolicy overhead': 'Tie',
      'L7 NetworkPolicy overhead': 'Tie',
      'Hubble L3/L4 overhead': 'Tie',
      'BPF map memory / node': 'Tie',
      'Datapath component mem / node': 'iptables (16% lower)',
    });
  });

  it('prints the figures per run, N/A for Cilium-only rows on kube-proxy', () => {
    const cmp = compareRuns(article());
    const row = (label: string) => cmp.rows.find((r) => r.label === label)!.cells.map((c) => c.text);
    assert.deepEqual(row('Pod2Pod throughput (8 streams)'), ['10.43 Gbps', '10.43 Gbps', '10.77 Gbps']);
    assert.deepEqual(row('RPS keepalive (c64)'), ['115,434', '100,416', '100,955']);
    assert.deepEqual(row('Short-conn RPS @30000 svc'), ['9,057', '10,286', '12,879']);
    assert.deepEqual(row('L3/L4 NetworkPolicy overhead'), ['N/A', '-0.0%', '-2.2%']);
    assert.deepEqual(row('L7 NetworkPolicy overhead'), ['N/A', '-86.1%', '-88.7%']);
    assert.deepEqual(row('BPF map memory / node'), ['N/A', '289.7 MB', '289.7 MB']);
    assert.deepEqual(row('Datapath component mem / node'), ['926 MiB', '1,111 MiB', '1,104 MiB']);
  });

  it('renders Markdown and terminal tables with one column per run and a Winner column', () => {
    const cmp = compareRuns(article());
    assert.ok(cmp.markdown.includes('| Dimension | iptables | Cilium Native | Cilium Overlay | Winner |'));
    // every run but the winner says how far behind it is
    assert.ok(cmp.markdown.includes('| RPS short conn (c64, small) | 31,365 | 13,826 (55.9% behind) | 14,193 (54.7% behind) | iptables (+2.2x) |'));
    assert.ok(cmp.markdown.includes('| L7 NetworkPolicy overhead | N/A | -86.1% | -88.7% | Tie |'));
    assert.ok(cmp.markdown.includes('| 30,000 | 9,057 (-71.1%) | 10,286 (-25.6%) | 12,879 (-9.3%) |'), 'short-connection scale table');
    assert.ok(cmp.markdown.includes('| Network solution | kubeproxy-iptables | cilium-native | cilium-overlay |'));
    const term = cmp.terminal;
    assert.equal(term, stripAnsi(term));
    assert.match(term, /│ RPS keepalive \(c64\) +│ +115,434 │ +100,416 \(13\.0% behind\) │ +100,955 \(12\.5% behind\) │ iptables \(\+14%\) +│/);
    assert.ok(stripAnsi(compareRuns(article(), { color: true }).terminal) === term);
  });

  it('draws one short-connection line per run', () => {
    const { scaleChartSvg, markdown } = compareRuns(article());
    assert.ok(scaleChartSvg);
    assertWellFormedSvg(scaleChartSvg);
    assert.equal((scaleChartSvg.match(/<polyline /g) ?? []).length, 3);
    assert.ok(markdown.includes('](compare-scale-chart.svg)'));
  });

  it('the tolerance is a parameter (single rounds)', () => {
    const w = winners(compareRuns(article(), { tolerancePct: 2 }).rows);
    assert.equal(w['TCP_RR p99 (baseline)'], 'Cilium Native (4% lower)');
    assert.equal(w['Pod2Pod throughput (8 streams)'], 'Cilium Overlay (+3%)');
    assert.equal(w['RPS keepalive (c64)'], 'iptables (+14%)');
    const w1 = winners(compareRuns(article(), { tolerancePct: 1 }).rows);
    assert.equal(w1['Short-conn RPS @20000 svc'], 'Cilium Overlay (+1%), overtakes iptables');
    const pts = winners(compareRuns(article(), { tolerancePoints: 2 }).rows);
    assert.equal(pts['L7 NetworkPolicy overhead'], 'Cilium Native (+2.6 pp)');
    assert.equal(pts['L3/L4 NetworkPolicy overhead'], 'Cilium Native (+2.2 pp)');
  });

  it('overhead rows with rounds (0.5 on): each run\'s overhead says whether it is beyond that run\'s noise; measured once: the percentage alone', () => {
    const cells = (runs: CompareRun[]) => {
      const md = compareRuns(runs).markdown;
      return (label: string) => md.split('\n').find((l) => l.startsWith(`| ${label} |`))!.split('|').slice(2, -2).map((c) => c.trim());
    };
    const three = cells([run('Cilium Native', B, { rounds: 3 }), run('Cilium Overlay', C, { rounds: 3 })]);
    assert.deepEqual(three('Hubble L3/L4 overhead'), ['-0.3% (within noise: 95% CIs overlap)', '-0.2% (within noise: 95% CIs overlap)']);
    assert.deepEqual(three('L7 NetworkPolicy overhead'), ['-86.1% (beyond noise: 95% CIs apart)', '-88.7% (beyond noise: 95% CIs apart)']);
    // summaries alone carry the intervals too (netbench.confidence_intervals)
    const summaries = cells([run('Cilium Native', B, { rounds: 3 }), run('Cilium Overlay', C, { rounds: 3 })].map(({ name, summary }) => ({ name, summary })));
    assert.deepEqual(summaries('Hubble L3/L4 overhead'), three('Hubble L3/L4 overhead'));
    const once = cells([run('Cilium Native', B, { rounds: 3, overheadOnce: true }), run('Cilium Overlay', C, { rounds: 3, overheadOnce: true })]);
    assert.deepEqual(once('Hubble L3/L4 overhead'), ['-0.3%', '-0.2%']);
  });

  it('with rounds, overlapping 95% intervals tie and separated ones win, whatever the tolerance', () => {
    // TCP_RR p99 107 vs 103 µs: 3.7% apart, inside the 5% tolerance.
    const tight = compareRuns([run('iptables', A, { rounds: 3, spread: 0.1 }), run('Cilium Native', B, { rounds: 3, spread: 0.1 })]);
    const tr = tight.rows.find((r) => r.key === 'tcp_rr_p99')!;
    assert.equal(tr.verdict.text, 'Cilium Native (4% lower)');
    assert.equal(tr.verdict.basis, 'ci-overlap');
    assert.ok(tr.cells[0].ci95! > 0 && tr.cells[0].n === 3);

    const noisy = compareRuns([run('iptables', A, { rounds: 3, spread: 5 }), run('Cilium Native', B, { rounds: 3, spread: 5 })]);
    assert.equal(noisy.rows.find((r) => r.key === 'tcp_rr_p99')!.verdict.text, 'Tie (95% CIs overlap)');
    // 31,365 vs 13,826 stays a win even with 5% spread
    assert.equal(noisy.rows.find((r) => r.key === 'svc_short_c64')!.verdict.text, 'iptables (+2.3x)');
    assert.match(noisy.markdown, /\| RPS keepalive \(c64\) \| 115,43\d ± [\d,]+ \| 100,41\d ± [\d,]+ \|/);
  });

  it('N/A when fewer than two runs have the figure; "—" for a figure that is missing, not inapplicable', () => {
    const b = run('Cilium Native', B);
    b.results.measurements = b.results.measurements.filter((m) => m.scenario !== 'hubble_on');
    b.summary = buildSummary(b.results);
    const cmp = compareRuns([run('iptables', A), b]);
    const hub = cmp.rows.find((r) => r.key === 'hubble_overhead')!;
    assert.deepEqual(hub.cells.map((c) => c.text), ['N/A', '—']);
    assert.equal(hub.verdict.text, 'N/A');
    assert.equal(cmp.rows.find((r) => r.key === 'l7_overhead')!.verdict.text, 'N/A');
  });

  it('uses only scale steps every run measured, and marks untrusted runs', () => {
    const c = run('Cilium Overlay', C);
    c.results.scale.steps = c.results.scale.steps.filter((s) => s.svcCount !== 10000);
    c.results.scale.trusted = false;
    c.results.scale.untrustedReason = 'LB-map fix declined';
    c.summary = buildSummary(c.results);
    const cmp = compareRuns([run('iptables', A), c]);
    assert.deepEqual(cmp.steps, [5000, 20000, 30000]);
    assert.ok(!cmp.rows.some((r) => r.label === 'Short-conn RPS @10000 svc'));
    assert.ok(cmp.markdown.includes('| Short-conn RPS @30000 svc | 9,057 (29.7% behind) | 12,879 † |'));
    assert.ok(cmp.markdown.includes('† Cilium Overlay: large-scale results untrusted — LB-map fix declined.'));
    assert.ok(cmp.markdown.includes('| 10,000 | 17,261 (-45.0%) | — |'), 'the per-step table still lists every step');
  });
});

describe('crossings and compare.html', () => {
  it("names the article's crossings in words, in the terminal and in compare.md", () => {
    const cmp = compareRuns(article());
    const short = cmp.crossings.filter((c) => c.curve === 'svc_short_c64').map((c) => c.text);
    assert.deepEqual(short, [
      "iptables short-conn RPS falls below Cilium Overlay's between 10,000 and 20,000 Services, at about 19,600 by linear interpolation",
      "iptables short-conn RPS falls below Cilium Native's between 20,000 and 30,000 Services, at about 24,700 by linear interpolation",
    ]);
    assert.ok(cmp.markdown.includes(`## Crossings\n\n- ${short[0]}.`));
    assert.ok(cmp.terminal.includes(`── Crossings ──\n    ${short[0]}.`));
    // keepalive RPS: the article's curves keep their order
    assert.deepEqual(cmp.crossings.filter((c) => c.curve === 'svc_c64'), []);
  });

  it('says so when no curve crosses', () => {
    const cmp = compareRuns([run('Cilium Native', B), run('Cilium Overlay', C)]);
    const short = cmp.crossings.filter((c) => c.curve === 'svc_short_c64');
    assert.deepEqual(short, []);
  });

  it('writes a self-contained compare.html: tables, one overlaid chart per scale curve, the crossings', () => {
    const { html, crossings } = compareRuns(article());
    assert.match(html, /^<!doctype html>/);
    assert.ok(!/<script|<link|@import|url\(http|src="http/i.test(html), 'nothing loaded from anywhere');
    const charts = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(charts.length, 3, 'short-conn RPS, keepalive RPS, TCP_CRR p99');
    for (const svg of charts) {
      assertWellFormedSvg(svg);
      assert.equal((svg.match(/<g class="series"/g) ?? []).length, 3);
    }
    for (const c of crossings) assert.ok(html.includes(c.text.replace(/'/g, '&apos;')), c.text);
    assert.ok(html.includes('<td class="win">iptables (+2.2x)</td>'));
  });
});

describe('judgeRow', () => {
  const row = (better: 'higher' | 'lower', kind: 'abs' | 'pct', values: (number | undefined)[]): GlanceRow => ({
    key: 'k', label: 'k', better, kind,
    cells: values.map((value) => ({ applicable: true, value, n: value === undefined ? 0 : 1, text: String(value) })),
  });
  it('picks the highest or lowest by direction and states the margin over the runner-up', () => {
    assert.equal(judgeRow(row('higher', 'abs', [100, 150, 120]), ['a', 'b', 'c']).text, 'b (+25%)');
    assert.equal(judgeRow(row('lower', 'abs', [100, 150, 120]), ['a', 'b', 'c']).text, 'a (17% lower)');
    assert.equal(judgeRow(row('higher', 'abs', [10, 30]), ['a', 'b']).text, 'b (+3.0x)');
    assert.equal(judgeRow(row('higher', 'pct', [-10, -1]), ['a', 'b']).text, 'b (+9.0 pp)');
  });
  it('ties within the tolerance and on equal values; N/A with under two figures', () => {
    assert.equal(judgeRow(row('higher', 'abs', [100, 104]), ['a', 'b']).text, 'Tie');
    assert.equal(judgeRow(row('higher', 'abs', [100, 104]), ['a', 'b'], { tolerancePct: 3 }).text, 'b (+4%)');
    assert.equal(judgeRow(row('lower', 'abs', [5, 5]), ['a', 'b']).kind, 'tie');
    assert.equal(judgeRow(row('higher', 'abs', [5, undefined]), ['a', 'b']).text, 'N/A');
  });
});
