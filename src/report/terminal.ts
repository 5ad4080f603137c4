/**
 * The summary printed at the end of a run: the reference's print_summary_table
 * (same sections, wording and order; missing values print as "?") laid out
 * as aligned tables, preceded by an "At a glance" block, and followed by
 * what the reference lost silently: every failed measurement with its
 * reason and raw file, every skipped or failed phase with its reason, and a
 * loud warning when large-scale results cannot be trusted.
 *
 * Input: the object buildSummary returns (or a benchmark-summary.json read
 * back, including one the reference wrote: the netbench block is optional).
 */
import { overheadPhase, SCALE_SCENARIOS, SCENARIOS, type Scenario } from '../domain/scenarios';
import { intervalText, samplesInterval } from '../domain/stats';
import { NONE, bytesToMb, fmtInt, fmtNum, fmtPct, fmtSecs, oneLine, overheadNoise, pyList } from './format';
import { cellWithInterval, glanceRows } from './glance';
import { paint, renderTextTable, type Cell, type Column } from './table';
import { inSentence, overheadOf, stepBaseline, stepFigures, viewSummary, type StepEntry } from './summary-view';

export interface TerminalOptions {
  /** ANSI colour (the CLI turns it on for a TTY without NO_COLOR) */
  color?: boolean;
}

const TITLES = new Map(SCENARIOS.map((s) => [s.id, s.title]));
const q = (v: unknown): string => (v === undefined || v === null || v === '' ? '?' : String(v));

/** Render the summary; returns the text without a trailing newline. */
export function renderSummaryTable(summary: Record<string, unknown>, opts: TerminalOptions = {}): string {
  const color = opts.color ?? false;
  const s = viewSummary(summary);
  const nb = s.netbench;
  const out: string[] = [];
  const section = (title: string) => out.push(paint(`  ── ${title} ──`, ['bold', 'blue'], color));
  const table = (cols: (string | Column)[], rows: Cell[][]) => out.push(renderTextTable(cols, rows, { color, indent: 4 }));
  const line = (text = '') => out.push(text);
  const pct = (p: number | undefined) => (p === undefined ? '' : paint(fmtPct(p), p <= -5 ? 'red' : p < 0 ? 'yellow' : 'green', color));

  out.push(paint('━━━ Benchmark Results Summary ━━━', ['bold', 'blue'], color));
  line();
  line(`  Cluster:       ${q(s.cluster.cluster_name)}`);
  line(`  Type:          ${q(s.cluster.cluster_type)}`);
  line(`  K8s Version:   ${q(s.cluster.k8s_version)}`);
  line();

  // ---- loud things first: an untrusted scale result, a run that did not complete
  if (nb?.trusted === false) {
    const msg = [
      '!! UNTRUSTED: large-scale Service results may show forwarding failures, not O(n) degradation.',
      `!! ${oneLine(nb.untrusted_reason ?? 'the Cilium LB-map fix was not applied')}`,
    ];
    const w = Math.max(...msg.map((m) => m.length));
    out.push(paint(`  ${'!'.repeat(w)}`, ['bold', 'red'], color));
    for (const m of msg) out.push(paint(`  ${m}`, ['bold', 'red'], color));
    out.push(paint(`  ${'!'.repeat(w)}`, ['bold', 'red'], color));
    line();
  }
  if (nb?.status && nb.status !== 'completed') {
    out.push(paint(`  Run ${nb.status}${nb.failure ? `: ${oneLine(nb.failure)}` : ''} — figures below are partial.`, ['bold', 'yellow'], color));
    line();
  }

  // ---- at a glance
  const glance = glanceRows([{ name: 'run', summary }], 'largest');
  const failures = nb?.failures ?? [];
  const notMeasured = nb?.not_measured ?? [];
  const notDone = (nb?.phases ?? []).filter((p) => p.status !== 'done');
  section('At a glance');
  table(
    ['Dimension', 'Value'],
    [
      ...glance.map((r) => [r.label, cellWithInterval(r.cells[0])] as Cell[]),
      ...(nb ? [['Failed measurements', failures.length ? paint(String(failures.length), 'red', color) : '0'] as Cell[]] : []),
      ...(notMeasured.length ? [['Not measured', `${notMeasured.length} (nothing to act on; reasons below)`] as Cell[]] : []),
      ...(nb ? [['Phases skipped / failed', notDone.length ? notDone.map((p) => `${p.phase} (${p.status})`).join(', ') : 'none'] as Cell[]] : []),
      ...(nb?.trusted !== undefined ? [['Large-scale results trusted', nb.trusted ? 'yes' : paint('NO', ['bold', 'red'], color)] as Cell[]] : []),
    ],
  );
  line();

  // ---- the reference's sections, in its order
  const tp = Object.entries(s.throughput);
  if (tp.length) {
    section('Throughput');
    table(
      ['scenario', '', { header: 'avg', align: 'right' }, 'rounds', { header: '95% CI', align: 'right' }],
      tp.map(([k, e]) => [k, TITLES.get(k) ?? '', `${fmtNum(e.avg, 2)} Gbps`, pyList(e.gbps ?? [], true), samplesInterval(e.gbps, 2)]),
    );
    line();
  }

  const rps = Object.entries(s.rps);
  if (rps.length) {
    section('RPS');
    table(
      ['scenario', '', { header: 'avg', align: 'right' }, 'rounds', { header: '95% CI', align: 'right' }],
      rps.map(([k, e]) => [k, TITLES.get(k) ?? '', `${fmtInt(e.avg_qps)} req/s`, pyList(e.qps ?? [], false), samplesInterval(e.qps, 0)]),
    );
    line();
  }

  const lat = Object.entries(s.latency).filter(([, v]) => typeof v === 'number');
  if (lat.length) {
    section('Latency');
    // netperf's headline value is its p99, so the summary's per-scenario interval belongs to the p99 rows.
    const latCi: Record<string, string> = Object.fromEntries(SCENARIOS.flatMap((sc) => (sc.figures ?? []).filter((f) => f.figure === sc.headlineFigure).map((f) => [f.key, sc.id])));
    const intervalOf = (k: string) => {
      const e = latCi[k] ? nb?.confidence_intervals?.[latCi[k]] : undefined;
      return intervalText(e, 0);
    };
    const withCi = lat.some(([k]) => intervalOf(k) !== '');
    table(
      ['metric', { header: 'value', align: 'right' }, ...(withCi ? [{ header: '95% CI', align: 'right' as const }] : [])],
      lat.map(([k, v]) => [k, latencyValue(k, v as number), ...(withCi ? [intervalOf(k)] : [])]),
    );
    line();
  }

  const ss = s.service_scale;
  if (Object.keys(ss).length) {
    const steps = ss.steps ?? [];
    if (steps.length) {
      section(ss.endpoints_per_svc ? `Service Scale (${ss.endpoints_per_svc} endpoints/svc)` : 'Service Scale');
      // the catalogue's scale-step rows: RPS rows ("keepalive", "short-conn") with their baselines, latency rows (p99)
      const name = (sc: Scenario) => inSentence(sc.atScale!.label).replace(/ RPS$/, '');
      for (const sc of SCALE_SCENARIOS) {
        const base = stepBaseline(s, sc);
        if (base) line(`    ${`${name(sc)} baseline:`.padEnd(23)}${fmtInt(base)} ${sc.unit}`);
      }
      // Only kube-proxy iptables has a KUBE-SERVICES chain: no empty column on other datapaths.
      const hasChain = steps.some((st) => st.kube_services_chain !== undefined);
      table(
        [
          { header: 'Services', align: 'right' },
          ...SCALE_SCENARIOS.map((sc): Column => ({ header: sc.atScale!.baselineKey ? `${name(sc)} ${sc.unit}` : sc.atScale!.label, align: 'right' })),
          { header: 'rules/entries', align: 'right' },
          ...(hasChain ? [{ header: 'KUBE-SERVICES chain', align: 'right' as const }] : []),
          { header: 'datapath sync', align: 'right' },
        ],
        steps.map((st) => [
          fmtInt(st.svc_count),
          ...SCALE_SCENARIOS.map((sc) => {
            const f = stepFigures(st, sc);
            if (sc.atScale!.baselineKey) return qpsPct(f.value, f.pct, pct);
            return f.value ? `${fmtInt(f.value)} ${sc.unit}` : NONE;
          }),
          st.rules_count !== undefined ? fmtInt(st.rules_count) : NONE,
          ...(hasChain ? [st.kube_services_chain !== undefined ? fmtInt(st.kube_services_chain) : NONE] : []),
          syncCell(st, color),
        ]),
      );
      line(`    TCP_CRR p99 = new-conn latency, TCP_RR p99 = established-conn latency${hasChain ? '; KUBE-SERVICES chain = hot-path scan length' : ''}`);
      if (nb?.trusted === false) out.push(paint('    !! untrusted: see the warning at the top', ['bold', 'red'], color));
    }
    line();
  }

  for (const [p, title] of [['hubble', 'Hubble Overhead'], ['networkpolicy', 'NetworkPolicy Overhead']] as const) {
    const sec = overheadOf(s, p);
    const o = overheadPhase(p);
    const why = (id: string) => notMeasured.find((x) => x.scenario === id)?.reason;
    if (!sec && o.rows.some((x) => why(x.id))) {
      // recorded as not measured: each configuration with its reason, where its figure would be
      section(title);
      table(['', 'req/s'], o.rows.map((x) => [x.overhead.terminal, why(x.id) ? `not measured: ${oneLine(why(x.id)!)}` : '']));
      line();
      continue;
    }
    if (!sec) continue;
    // with 2 or more rounds (0.5 on) the summary has each configuration's 95% interval: shown beside its mean, and whether the overhead is beyond it
    const ci = (id: string) => nb?.confidence_intervals?.[id];
    const measured = o.rows.flatMap((x) => (sec[x.overhead.key] === undefined ? [] : [{ ...x.overhead, qps: fmtInt(sec[x.overhead.key]!), ci: intervalText(ci(x.id), 0), noise: overheadNoise(ci(x.id), ci(o.baseline.id)) }]));
    const withCi = measured.some((x) => x.ci !== '');
    const ciCol: Column[] = withCi ? [{ header: '95% CI', align: 'right' }] : [];
    section(title);
    if (o.treatments.length === 1) {
      // one comparison: its configurations, then the overhead as a row of its own (whether it is beyond the noise in the CI column)
      const t = measured.find((x) => x.role === 'treatment');
      table(['', { header: 'req/s', align: 'right' }, ...ciCol], [
        ...measured.map((x) => [x.terminal, x.qps, ...(withCi ? [x.ci] : [])]),
        ['overhead', pct(sec[o.treatments[0].overhead.pctKey]), ...(withCi ? [t?.noise ?? ''] : [])],
      ]);
    } else {
      // several: each treatment's overhead beside it (and whether it is beyond the noise)
      const withNoise = measured.some((x) => x.role === 'treatment' && x.noise);
      table(
        ['', { header: 'req/s', align: 'right' }, ...ciCol, { header: 'overhead', align: 'right' }, ...(withNoise ? [`vs ${o.baseline.overhead.terminal}`] : [])],
        measured.map((x) => [
          x.terminal, x.qps, ...(withCi ? [x.ci] : []), x.role === 'treatment' ? pct(sec[x.pctKey]) : '',
          ...(withNoise ? [x.role === 'treatment' ? (x.noise ?? '') : ''] : []),
        ]),
      );
    }
    for (const x of o.rows.filter((r) => sec[r.overhead.key] === undefined && why(r.id))) line(`    ${x.overhead.terminal}: not measured: ${oneLine(why(x.id)!)}`);
    line();
  }

  for (const [key, label] of [['kubeproxy', 'kube-proxy'], ['cilium_agent', 'Cilium Agent']] as const) {
    const r = s.resources[key];
    if (!r) continue;
    section(`Resource: ${label} (per-pod, steady state)`);
    table(
      ['', { header: 'avg', align: 'right' }, { header: 'max', align: 'right' }],
      [
        ['CPU', `${fmtNum(r.avg_cpu_m, 1)}m`, `${fmtNum(r.max_cpu_m, 1)}m`],
        ['Memory', `${fmtNum(r.avg_mem_mb, 1)} MiB`, `${fmtNum(r.max_mem_mb, 1)} MiB`],
      ],
    );
    line(`    (sampled across ${q(r.pods_sampled)} pod(s))`);
    line();
  }

  const bpf = s.resources.bpf_maps;
  if (bpf) {
    section('BPF Map Memory');
    line(`    total: ${bpf.total_mb !== undefined ? fmtNum(bpf.total_mb, 1) : '?'} MB (${q(bpf.map_count)} maps)`);
    const top = (bpf.top_maps ?? []).slice(0, 5);
    if (top.length) {
      line('    top maps:');
      table(
        ['map', { header: 'MB', align: 'right' }, { header: 'max_entries', align: 'right' }],
        top.map((m) => [m.name, fmtNum(bytesToMb(m.bytes), 1), fmtInt(m.max_entries)]),
      );
    }
    line();
  }

  if (s.resources.cilium_agent_rss_mb !== undefined) {
    line(`  Cilium Agent RSS: ${fmtNum(s.resources.cilium_agent_rss_mb, 1)} MB`);
    line();
  }

  // ---- what the reference lost silently
  if (notDone.length) {
    section(notDone.every((p) => p.status === 'skipped') ? 'Skipped phases' : 'Skipped / failed phases');
    table(['phase', 'status', 'reason'], notDone.map((p) => [p.phase, p.status === 'skipped' ? p.status : paint(p.status, 'red', color), oneLine(p.reason ?? 'no reason recorded')]));
    line();
  }
  if (failures.length) {
    section('Failed measurements');
    table(
      ['scenario', { header: 'step', align: 'right' }, { header: 'round', align: 'right' }, 'reason', 'raw file'],
      failures.map((f) => [f.scenario, f.step !== undefined ? fmtInt(f.step) : '', f.round ?? '', oneLine(f.reason), f.file ?? '']),
    );
    line();
  }

  const reg = nb?.regression;
  if (reg) {
    section('Regression check');
    if (!reg.baseline_workflow_id) line(`    no comparison: ${oneLine(reg.reason ?? 'no baseline')}`);
    else {
      line(`    against ${reg.baseline_workflow_id}: ${reg.compared} figures compared, ${reg.regressions.length} regression(s)`);
      const rows = [
        ...reg.regressions.map((c) => [paint('REGRESSION', ['bold', 'red'], color), c.label, `${fmtNum(c.baseline, 2)} ${c.unit}`, `${fmtNum(c.current, 2)} ${c.unit}`, fmtPct(c.change_pct), c.basis === 'ci95' ? '95% CI' : `> ${reg.tolerance_pct}%`]),
        ...reg.improvements.map((c) => ['improvement', c.label, `${fmtNum(c.baseline, 2)} ${c.unit}`, `${fmtNum(c.current, 2)} ${c.unit}`, fmtPct(c.change_pct), c.basis === 'ci95' ? '95% CI' : `> ${reg.tolerance_pct}%`]),
      ];
      if (rows.length) table(['', 'figure', 'baseline', 'this run', 'change', 'basis'], rows);
    }
    line();
  }

  return out.join('\n').replace(/\n+$/, '');
}


function latencyValue(key: string, v: number): string {
  if (key.endsWith('_ms')) return `${fmtNum(v, 2)} ms`;
  if (key.endsWith('_us')) return `${fmtInt(v)} µs`;
  return String(v);
}

function qpsPct(qps: number | undefined, p: number | undefined, pct: (p: number | undefined) => string): string {
  if (qps === undefined) return NONE;
  return p === undefined ? fmtInt(qps) : `${fmtInt(qps)} (${pct(p)})`;
}

function syncCell(st: StepEntry, color: boolean): string {
  const c = st.datapath_convergence;
  if (!c) return NONE;
  if (c.metric === 'none') return 'not measured';
  if (!c.converged) return paint(`NOT converged (${fmtInt(c.observed)}/${fmtInt(c.expected)})`, 'red', color);
  return fmtSecs(c.seconds);
}

