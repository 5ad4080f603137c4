/**
 * report.html for one run: the article's sections as charts a person reads
 * at a glance (throughput bars, RPS bars, latency percentiles, the
 * Service-scale curves with each step's datapath sync time, Hubble and
 * NetworkPolicy, datapath CPU/memory and BPF maps), the environment, and
 * every failed or skipped measurement with its reason. Every bar and point
 * says its rounds and spread: a 95% interval whisker with 2 or more rounds,
 * "1 sample" with one. A cancelled or failed run gets the report of what it
 * measured. Self-contained (html.ts); figures come from the summary, so
 * report.html, report.md and benchmark-summary.json agree.
 */
import type { PhaseName } from '../config';
import { isFailure, type Measurement, type RunResults } from '../domain/results';
import { timeSplits, type TimeSplit } from '../domain/timeline';
import { isMeasurementOf, OVERHEAD_PHASES, overheadPhase, scenarioById, SCENARIOS, scenariosOf, unitDigits, type Scenario, type Unit } from '../domain/scenarios';
import { estimate, intervalText } from '../domain/stats';
import { barChart, stackedBarChart, type Bar } from './bars';
import { SCALE_CURVES, scaleCurve } from './curves';
import { NONE, NOT_ORCHESTRATION, TIME_PARTS, bytesToMb, datapathStateRows, fmtGbps, fmtInt, fmtMB, fmtMs, fmtNum, fmtPct, fmtQps, fmtSecs, fmtShare, fmtUs, oneLine, orchestrationSentence, overheadNoise } from './format';
import { cellWithInterval, glanceRows } from './glance';
import { banner, esc, figure, page, para, section, table, toc, type CellIn } from './html';
import { clusterLabel, isCiliumType, overheadOf, viewSummary, type SummaryView } from './summary-view';
import { lineChart } from './svg';

const UNIT_TEXT: Record<Unit, (v: number) => string> = { Gbps: fmtGbps, 'req/s': fmtQps, 'µs': fmtUs, ms: fmtMs };

/** Every measurement of the run, the fixed phases' and the scale steps'. */
const allMeasurements = (r: RunResults): Measurement[] => [...r.measurements, ...r.scale.steps.flatMap((s) => s.measurements.map((m) => ({ ...m, step: m.step ?? s.svcCount })))];

/** Why a figure is missing, in a few words: the phase was skipped or stopped, or its rounds failed (with the last reason). */
function whyMissing(r: RunResults, p: PhaseName, scenario: string, step?: number): string {
  const ph = r.phases.find((x) => x.phase === p);
  if (ph?.status === 'skipped') return `skipped: ${oneLine(ph.reason ?? 'no reason recorded', 90)}`;
  const nm = step === undefined ? r.measurements.find((m) => isMeasurementOf(m, scenario) && m.notMeasured) : undefined;
  if (nm) return `not measured: ${oneLine(nm.reason ?? 'no reason recorded')}`;
  const failed = allMeasurements(r).filter((m) => isMeasurementOf(m, scenario, step) && isFailure(m));
  if (failed.length) return `failed ${failed.length}×: ${oneLine(failed[failed.length - 1].reason ?? 'no reason recorded', 80)}`;
  if (ph?.status === 'failed' || ph?.status === 'cancelled') return `not measured (phase ${ph.status})`;
  if (!ph) return `not measured (run ${r.status} before this phase)`;
  return 'not measured';
}

/** The samples of one figure (the headline by default) across a scenario's successful rounds outside any step. */
function samples(r: RunResults, id: string, figure?: string): number[] {
  return r.measurements
    .filter((m) => isMeasurementOf(m, id) && m.ok)
    .map((m) => (figure ? m.figures?.[figure] : m.value))
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** A bar for a figure with its samples: whisker from the 95% interval, "1 sample" with one. */
function bar(label: string, series: string, value: number | undefined, xs: number[], unit: Unit, missing: () => string, note?: string): Bar {
  if (value === undefined) return { label, series, missing: missing() };
  const e = xs.length ? estimate(xs) : undefined;
  return {
    label, series, value, text: `${UNIT_TEXT[unit](value)}${note ? ` (${note})` : ''}`,
    spread: e ? intervalText(e, unitDigits(unit)) : undefined,
    ...(e?.ci95 !== undefined ? { lo: value - e.ci95, hi: value + e.ci95 } : {}),
  };
}

/** A bar chart, or, when no bar has a figure, the reasons in words (an empty chart says nothing). */
function barsOrReasons(o: Parameters<typeof barChart>[0], caption?: string): string {
  if (o.bars.some((b) => b.value !== undefined)) return figure(barChart(o), caption);
  const reasons = [...new Set(o.bars.map((b) => b.missing ?? 'no figure'))];
  if (reasons.length === 1) return para(`${o.title}: ${reasons[0]}.`, 'missing');
  return `<p>${esc(o.title)}:</p><ul>${o.bars.map((b) => `<li>${esc(b.label)}: <span class="missing">${esc(b.missing ?? 'no figure')}</span></li>`).join('')}</ul>`;
}

const notRun = (r: RunResults, p: PhaseName): string => {
  const ph = r.phases.find((x) => x.phase === p);
  if (ph?.status === 'skipped') return para(`Skipped: ${oneLine(ph.reason ?? 'no reason recorded')}.`, 'note');
  if (ph?.status === 'failed' || ph?.status === 'cancelled') return banner('bad', `Phase ${ph.status}: ${oneLine(ph.reason ?? 'no reason recorded')}. The figures below are what it measured before.`);
  if (!ph && r.status !== 'completed') return banner('bad', `Not reached: the run was ${r.status} before this phase.`);
  return '';
};
const skipped = (r: RunResults, p: PhaseName) => r.phases.find((x) => x.phase === p)?.status === 'skipped';

export function renderReportHtml(results: RunResults, summary: Record<string, unknown>): string {
  const r = results;
  const s = viewSummary(summary);
  const c = r.cluster;
  const type = c?.clusterType ?? s.cluster.cluster_type;
  const label = clusterLabel(type);
  const name = c?.contextName ?? s.cluster.cluster_name ?? 'cluster';
  const rounds = r.options.rounds;

  const header = [
    '<header>',
    `<h1>Network benchmark: ${esc(name)} <span style="color:#5b6473;font-weight:400">(${esc(label)})</span></h1>`,
    `<p class="meta">${esc(
      [type ? `datapath ${type}` : undefined, c?.k8sVersion ?? s.cluster.k8s_version, c ? `${c.nodeCount} nodes` : undefined, c?.testDate ?? s.cluster.test_date, `${rounds} round${rounds === 1 ? '' : 's'} per scenario`, `run ${r.status}`]
        .filter(Boolean)
        .join(' · '),
    )}</p>`,
    r.status !== 'completed' ? banner('bad', `Run ${r.status}${r.failure ? `: ${oneLine(r.failure)}` : ''}. This report shows what it measured; see Failures & skipped.`) : '',
    !r.scale.trusted ? banner('warn', `Untrusted large-scale results: ${oneLine(r.scale.untrustedReason ?? 'the Cilium LB-map fix was not applied')}. Service-scale figures may show LB-map overflow, not O(n) degradation.`) : '',
    toc([['glance', 'At a glance'], ['throughput', '1. Throughput'], ['rps', '2. RPS'], ['latency', '3. Latency'], ['scale', '4. Service scale'], ['overheads', '5. Hubble & NetworkPolicy'], ['resources', '6. Resources'], ...(r.timeline?.length ? [['time', 'Where the time went'] as [string, string]] : []), ['environment', 'Environment'], ['failures', 'Failures & skipped']]),
    '</header>',
  ].join('\n');

  const sections = [
    glanceSection(r, summary, label),
    throughputSection(r, s),
    rpsSection(r, s),
    latencySection(r, s),
    scaleSection(r, s, label),
    overheadSection(r, s, type),
    resourcesSection(r, s),
    timeSection(r),
    section('environment', 'Environment', table(['Item', 'Value'], environmentRows(r, s))),
    failuresSection(r),
    regressionSection(r),
  ];
  return page({
    title: `netbench: ${name} (${label})`,
    header,
    sections,
    footer: esc(`netbench report of workflow ${r.workflowId} (run ${r.runId}); raw tool output under ${r.outputDir}. Whiskers: 95% confidence interval across rounds (Student t).`),
  });
}

/** At-a-glance rows whose figure comes from tool runs (their rounds are the samples): the catalogue's. */
const ONE_RUN_ROWS = new Set(SCENARIOS.flatMap((s) => [...(s.glance ? [s.id] : []), ...(s.figures ?? []).flatMap((f) => (f.glance ? [f.glance.key] : []))]));

function glanceSection(r: RunResults, summary: Record<string, unknown>, label: string): string {
  const rows = glanceRows([{ name: label, results: r, summary }], 'largest');
  const failures = allMeasurements(r).filter(isFailure).length + (r.component?.failures.length ?? 0);
  const notMeasured = r.measurements.filter((m) => m.notMeasured).length;
  const notDone = r.phases.filter((p) => p.status !== 'done');
  return section(
    'glance',
    'At a glance',
    table(['Dimension', label], [
      // "1 sample" where the figure is one tool run (a catalogue row, a step, an overhead); resource figures are averages of their own samples
      ...rows.map((row): CellIn[] => [row.label, row.cells[0].value === undefined ? { text: row.cells[0].text, cls: row.cells[0].applicable ? 'missing' : 'tie' } : cellWithInterval(row.cells[0], ONE_RUN_ROWS.has(row.key) || row.step !== undefined || row.kind === 'pct')]),
      ['Failed measurements', failures ? `${failures} (see Failures & skipped)` : '0'],
      ...(notMeasured ? [['Not measured', `${notMeasured} (nothing to act on; see Failures & skipped)`]] : []),
      ['Phases not run', notDone.length ? notDone.map((p) => `${p.phase} (${p.status})`).join(', ') : 'none'],
    ]),
  );
}

function throughputSection(r: RunResults, s: SummaryView): string {
  if (skipped(r, 'throughput')) return section('throughput', '1. Throughput', notRun(r, 'throughput'));
  const bars = scenariosOf('throughput').map((sc) =>
    bar(sc.title, 'iperf3', s.throughput[sc.id]?.avg, samples(r, sc.id), sc.unit, () => whyMissing(r, 'throughput', sc.id)),
  );
  return section(
    'throughput',
    '1. Throughput',
    notRun(r, 'throughput'),
    barsOrReasons({ title: 'Throughput (iperf3)', bars, xLabel: 'Gbps received (higher is better)', yLabel: 'scenario', xFormat: (v) => fmtNum(v, v < 10 && v % 1 ? 1 : 0) }, `iperf3, ${r.options.iperfDuration} s per run, ${r.options.rounds} round(s); received bits/s ÷ 1e9.`),
  );
}

function rpsSection(r: RunResults, s: SummaryView): string {
  if (skipped(r, 'rps')) return section('rps', '2. RPS', notRun(r, 'rps'));
  const bars = scenariosOf('rps').map((sc) =>
    bar(sc.title, sc.tool === 'fortio' && !sc.keepalive ? 'Short connection (new TCP per request)' : 'Keepalive (reused connections)', s.rps[sc.id]?.avg_qps, samples(r, sc.id), sc.unit, () => whyMissing(r, 'rps', sc.id)),
  );
  return section(
    'rps',
    '2. RPS',
    notRun(r, 'rps'),
    barsOrReasons({ title: 'Requests per second (fortio, as fast as possible)', bars, xLabel: 'requests per second (higher is better)', yLabel: 'scenario', xFormat: (v) => fmtInt(v) }, `fortio, ${r.options.fortioDuration} s per run, /echo?size=512.`),
  );
}

/** The percentiles the latency chart shows, as parsed figure names per unit (netperf: p50Us, fortio: p50Ms). */
const PERCENTILES = [50, 90, 99] as const;
const percentileFigure = (q: number, unit: Unit) => `p${q}${unit === 'ms' ? 'Ms' : 'Us'}`;

function latencySection(r: RunResults, s: SummaryView): string {
  if (skipped(r, 'latency')) return section('latency', '3. Latency', notRun(r, 'latency'));
  const byUnit = new Map<Unit, Bar[]>();
  for (const sc of scenariosOf('latency')) {
    const unit = sc.figures?.[0]?.unit ?? sc.unit;
    const short = sc.tool === 'netperf' ? sc.test : 'HTTP';
    const bars = byUnit.get(unit) ?? [];
    byUnit.set(unit, bars);
    const measured = PERCENTILES.map((q) => ({ q, xs: samples(r, sc.id, percentileFigure(q, unit)) })).filter((x) => x.xs.length);
    // no round measured: one row saying why
    if (!measured.length) bars.push({ label: short, series: sc.title, missing: whyMissing(r, 'latency', sc.id) });
    for (const { q, xs } of measured) bars.push(bar(`${short} p${q}`, sc.title, estimate(xs)!.mean, xs, unit, () => ''));
  }
  const figs = [...byUnit].map(([unit, bars]) =>
    barsOrReasons(
      { title: unit === 'ms' ? 'HTTP latency at a fixed 1000 QPS (fortio, c16, via Service)' : 'TCP round-trip latency (netperf, pod IP)', bars, xLabel: `${unit}, lower is better`, yLabel: 'percentile', xFormat: (v) => fmtNum(v, unit === 'ms' ? 2 : 0) },
      unit === 'ms' ? 'The 1000-QPS test is the realistic load: the article found no difference between datapaths here.' : 'TCP_RR: round trips on one connection; TCP_CRR: connect + round trip + close per transaction.',
    ),
  );
  const summaryRows = scenariosOf('latency').flatMap((sc) =>
    (sc.figures ?? []).map((f): CellIn[] => {
      const v = s.latency[f.key as keyof SummaryView['latency']];
      return [f.label, v ? `${UNIT_TEXT[f.unit](v)}` : { text: whyMissing(r, 'latency', sc.id), cls: 'missing' }];
    }),
  );
  return section('latency', '3. Latency', notRun(r, 'latency'), ...figs, '<h3>As in benchmark-summary.json</h3>', table(['Metric', 'Value'], summaryRows));
}

function scaleSection(r: RunResults, s: SummaryView, label: string): string {
  const head = notRun(r, 'service-scale');
  const steps = [...(s.service_scale.steps ?? [])].sort((a, b) => a.svc_count - b.svc_count);
  if (!steps.length) return section('scale', '4. Service scale', head || para('No Service-scale step was measured.', 'note'));
  const eps = s.service_scale.endpoints_per_svc ?? r.scale.endpointsPerSvc;
  const charts = SCALE_CURVES.map((def) => {
    const pts = scaleCurve(def, s, r);
    if (!pts.some((p) => p.x > 0)) return '';
    const ticks = pts.map((p) => ({ value: p.x, label: p.x === 0 ? 'baseline' : `${fmtInt(p.x)}${p.syncSeconds !== undefined ? `\nsync ${fmtSecs(p.syncSeconds)}` : ''}` }));
    const svg = lineChart({
      title: `${def.label} vs Service count`,
      series: [{ name: `${label} — ${def.label}`, points: pts.map((p) => ({ x: p.x, y: p.y, note: p.spread || undefined, ...(p.ci95 !== undefined ? { lo: p.y - p.ci95, hi: p.y + p.ci95 } : {}) })) }],
      xTicks: ticks,
      xLabel: 'dummy Services in the cluster (sync = datapath programming time)',
      yLabel: `${def.unit} (${def.better} is better)`,
      yFormat: (v) => fmtNum(v, def.unit === 'ms' ? 2 : 0),
      width: 480,
      height: 330,
    });
    const spreads = pts.map((p) => `${p.x === 0 ? 'baseline' : fmtInt(p.x)}: ${p.spread || NONE}`).join('; ');
    return figure(svg, `Rounds and spread — ${spreads}.`);
  });
  const syncBars: Bar[] = steps.map((st) => {
    const conv = st.datapath_convergence;
    const label = `${fmtInt(st.svc_count)} Services`;
    if (!conv || conv.metric === 'none') return { label, series: 'sync', missing: conv?.reason ? `not measured: ${oneLine(conv.reason, 60)}` : 'not measured' };
    return { label, series: conv.converged ? 'converged' : 'not converged (timed out)', value: conv.seconds, text: fmtSecs(conv.seconds) };
  });
  if (syncBars.some((b) => b.value !== undefined)) {
    charts.push(
      figure(
        barChart({ title: 'Datapath sync time per step', bars: syncBars, xLabel: 'seconds until every Service was programmed', yLabel: 'step', width: 480, xFormat: (v) => fmtNum(v) }),
        `Measured by counting ${steps.find((x) => x.datapath_convergence)?.datapath_convergence?.metric ?? 'entries'}; the reference slept a fixed 60 s + 1 s per 1,000 endpoints instead.`,
      ),
    );
  }
  const latencyKeys = SCALE_CURVES.filter((d) => !d.scenario.atScale!.baselineKey);
  const rpsKeys = SCALE_CURVES.filter((d) => d.scenario.atScale!.baselineKey);
  const fig = (o: object, k: string) => (o as Record<string, number | undefined>)[k];
  const rows = steps.map((st): CellIn[] => {
    const conv = st.datapath_convergence;
    return [
      fmtInt(st.svc_count),
      ...rpsKeys.map((d): CellIn => {
        const k = d.scenario.atScale!.summaryKey;
        const q = fig(st, `${k}_qps`);
        const pct = fig(st, `${k}_degradation_pct`);
        return q === undefined ? { text: whyMissing(r, 'service-scale', d.id, st.svc_count), cls: 'missing' } : `${fmtInt(q)}${pct !== undefined ? ` (${fmtPct(pct)})` : ''}`;
      }),
      ...latencyKeys.map((d): CellIn => {
        const v = fig(st, d.scenario.atScale!.summaryKey);
        return v === undefined ? { text: whyMissing(r, 'service-scale', d.id, st.svc_count), cls: 'missing' } : fmtUs(v);
      }),
      st.rules_count !== undefined ? fmtInt(st.rules_count) : NONE,
      !conv ? NONE : conv.metric === 'none' ? `not measured${conv.reason ? `: ${oneLine(conv.reason)}` : ''}` : conv.converged ? `${fmtSecs(conv.seconds)} (${fmtInt(conv.observed)}/${fmtInt(conv.expected)} ${conv.metric})` : { text: `not converged after ${fmtSecs(conv.seconds)}`, cls: 'missing', sub: conv.reason },
    ];
  });
  return section(
    'scale',
    '4. Service scale',
    head,
    para(`Dummy Services created cumulatively up to ${fmtInt(steps[steps.length - 1].svc_count)}, ${eps} endpoints each; at every step netbench waits until the datapath has programmed them all (measured, not a fixed sleep), then measures via the Service. Change against the small-scale baseline in brackets; negative is slower.`),
    `<div class="grid2">${charts.filter(Boolean).join('\n')}</div>`,
    table(['Service count', ...rpsKeys.map((d) => d.label), ...latencyKeys.map((d) => d.label), 'Rules / LB entries', 'Datapath sync'], rows, [0, 1, 2, 3, 4]),
  );
}

function overheadSection(r: RunResults, s: SummaryView, type: string | undefined): string {
  const parts: string[] = [];
  for (const [p, title] of [['hubble', 'Hubble on / off'], ['networkpolicy', 'NetworkPolicy']] as const) {
    if (skipped(r, p) || (type && !isCiliumType(type) && !r.phases.some((x) => x.phase === p && x.status === 'done'))) {
      parts.push(`<h3>${esc(title)}</h3>`, para(`Not applicable here: ${oneLine(r.phases.find((x) => x.phase === p)?.reason ?? 'Cilium only')}.`, 'note'));
      continue;
    }
    const sec = overheadOf(s, p);
    const bars = overheadPhase(p).rows.map((sc) => {
      const xs = samples(r, sc.id);
      const e = xs.length ? estimate(xs) : undefined;
      const o = sc.overhead.role === 'treatment' ? sec?.[sc.overhead.pctKey] : undefined;
      const base = samples(r, overheadPhase(p).baseline.id);
      const noise = o !== undefined ? overheadNoise(e, base.length ? estimate(base) : undefined) : undefined;
      return bar(sc.title, title, e ? Math.trunc(e.mean) : undefined, xs, sc.unit, () => whyMissing(r, p, sc.id), o !== undefined ? `overhead ${fmtPct(o)}${noise ? `, ${noise}` : ''}` : undefined);
    });
    parts.push(notRun(r, p), barsOrReasons({ title: `${title} (fortio c64 keepalive via Service)`, bars, xLabel: 'requests per second (higher is better)', yLabel: 'configuration', xFormat: (v) => fmtInt(v) }));
  }
  const rounds = Math.max(0, ...OVERHEAD_PHASES.flatMap((o) => o.rows.map((sc) => samples(r, sc.id).length)));
  const runs = rounds > 1 ? `Each configuration runs ${rounds} times (its mean, whisker: 95% interval); the overhead is computed from the means.` : 'Each configuration runs once, as in the reference.';
  return section('overheads', '5. Hubble & NetworkPolicy', ...parts, para(`Overhead = (with − without) ÷ without × 100: negative costs throughput. ${runs}`, 'note'));
}

function resourcesSection(r: RunResults, s: SummaryView): string {
  const comps = [['kubeproxy', 'kube-proxy'], ['cilium_agent', 'Cilium Agent']] as const;
  const present = comps.filter(([k]) => s.resources[k]);
  const parts: string[] = [notRun(r, 'metrics')];
  if (present.length) {
    const cpu: Bar[] = [];
    const mem: Bar[] = [];
    for (const [k, name] of present) {
      const e = s.resources[k]!;
      const n = r.resources.find((x) => x.component === k)?.samples;
      const spread = n !== undefined ? `${n} sample${n === 1 ? '' : 's'}, ${e.pods_sampled} pod(s)` : undefined;
      cpu.push({ label: name, series: 'average', value: e.avg_cpu_m, text: `${fmtNum(e.avg_cpu_m, 1)}m`, spread }, { label: name, series: 'maximum', value: e.max_cpu_m, text: `${fmtNum(e.max_cpu_m, 1)}m` });
      mem.push({ label: name, series: 'average', value: e.avg_mem_mb, text: `${fmtNum(e.avg_mem_mb, 0)} MiB`, spread }, { label: name, series: 'maximum', value: e.max_mem_mb, text: `${fmtNum(e.max_mem_mb, 0)} MiB` });
    }
    parts.push(
      barsOrReasons({ title: 'Datapath component CPU per pod', bars: cpu, xLabel: 'millicores (lower is better)', yLabel: 'component' }),
      barsOrReasons({ title: 'Datapath component memory per pod', bars: mem, xLabel: 'MiB (lower is better)', yLabel: 'component' }),
      para(`Steady state after ${r.options.metricsSettleSecs} s, ${r.options.metricsSamples} samples (metrics API), with the largest Service step still in place.`, 'note'),
    );
  } else if (r.phases.some((p) => p.phase === 'metrics')) {
    parts.push(para(`No CPU/memory samples: ${oneLine(r.component?.failures.find((f) => /resource|metrics/i.test(f.what))?.reason ?? r.phases.find((p) => p.phase === 'metrics')?.reason ?? 'not collected')}.`, 'missing'));
  }
  const bpf = s.resources.bpf_maps;
  if (bpf?.top_maps?.length) {
    const bars: Bar[] = bpf.top_maps.map((m) => ({ label: m.name, series: 'BPF map', value: bytesToMb(m.bytes), text: fmtMB(bytesToMb(m.bytes)), spread: `max_entries ${fmtInt(m.max_entries)}` }));
    parts.push(barsOrReasons({ title: `BPF map memory: ${fmtMB(bpf.total_mb)} in ${fmtInt(bpf.map_count)} maps`, bars, xLabel: 'MB (pre-allocated for max_entries)', yLabel: 'map' }));
  }
  const comp = r.component;
  const state: CellIn[][] = [
    ...(s.resources.cilium_agent_rss_mb !== undefined ? [['Cilium Agent RSS', fmtMB(s.resources.cilium_agent_rss_mb)]] : []),
    ...datapathStateRows(comp),
  ];
  if (state.length) parts.push('<h3>Datapath state</h3>', table(['Metric', 'Value'], state, [1]));
  return section('resources', '6. Resources', ...parts);
}

function environmentRows(r: RunResults, s: SummaryView): CellIn[][] {
  const c = r.cluster;
  const o = r.options;
  return [
    ['Cluster (kube context)', c?.contextName ?? s.cluster.cluster_name ?? '?'],
    ['Datapath', c ? `${c.clusterType} (proxy mode ${c.proxyMode}; ${c.detectedBy})` : (s.cluster.cluster_type ?? 'not collected')],
    ['Kubernetes version', c?.k8sVersion ?? s.cluster.k8s_version ?? '?'],
    ['Nodes', c ? `${c.nodeCount} (${c.nodes.slice(0, 2).map((n, i) => `${i === 0 ? 'server' : 'client'} ${n.name} ${n.internalIp}`).join(', ')})` : (s.cluster.node_count ?? '?')],
    ['Node OS / kernel', `${c?.nodeOs ?? s.cluster.node_os ?? '?'} / ${c?.kernelVersion ?? s.cluster.kernel_version ?? '?'}`],
    ['Node spec', c?.nodeModel ?? s.cluster.node_model ?? '?'],
    ['Rounds · pause between rounds', `${o.rounds} · ${o.roundSleep} s`],
    ['Durations (iperf3 · fortio/netperf)', `${o.iperfDuration} s · ${o.fortioDuration} s`],
    ['Service scale steps · endpoints', `${o.svcScaleSteps.map((x) => fmtInt(x)).join(', ')} · ${o.svcEndpoints} per Service`],
    ['Started · finished', `${r.startedAt} · ${r.finishedAt ?? NONE}`],
    ['Status', r.status + (r.failure ? `: ${oneLine(r.failure)}` : '')],
    ['Workflow', `${r.workflowId} / ${r.runId}`],
    ['Output directory', r.outputDir],
  ];
}

/** Where the time went: each phase and scale step split into tools, creation, convergence, pauses and orchestration (domain/timeline.ts). */
function timeSection(r: RunResults): string {
  if (!r.timeline?.length) return '';
  const { rows, total } = timeSplits(r.timeline);
  const parts = (t: TimeSplit) => TIME_PARTS.map((p) => ({ series: p.name, value: t[p.key] }));
  return section(
    'time',
    'Where the time went',
    para(orchestrationSentence(total)),
    figure(
      stackedBarChart({
        title: 'Wall time per phase and scale step',
        rows: rows.map((t) => ({ label: t.name, parts: parts(t), text: `${fmtSecs(t.seconds)} · orchestration ${fmtShare(t.otherSeconds, t.seconds)}` })),
        series: TIME_PARTS.map((p) => p.name),
        xLabel: 'seconds (workflow time)',
        yLabel: 'phase / step',
        xFormat: (v) => fmtNum(v),
      }),
      `From the workflow's own records (workflow time): one bar per phase and scale step; orchestration (${fmtShare(total.otherSeconds, total.seconds)} in all) is what is left after ${NOT_ORCHESTRATION}.`,
    ),
  );
}

/** The comparison with the baseline run, when the run made one. */
function regressionSection(r: RunResults): string {
  const reg = r.regression;
  if (!reg) return '';
  if (!reg.baselineWorkflowId) return section('regression', 'Regression check', para(`No comparison: ${oneLine(reg.reason ?? 'no baseline')}.`, 'note'));
  const changes = [...reg.regressions.map((c) => ({ c, what: 'regression' })), ...reg.improvements.map((c) => ({ c, what: 'improvement' }))];
  const num = (v: number, unit: string) => `${fmtNum(v, unitDigits(unit))} ${unit}`;
  return section(
    'regression',
    'Regression check',
    para(`Against run ${reg.baselineWorkflowId} (${reg.baselineStartedAt ?? '?'}): ${reg.compared} figures compared; a change counts when the 95% intervals do not overlap (2 or more rounds on both sides), else beyond ${reg.tolerancePct}%.`),
    changes.length
      ? table(['', 'Figure', 'Baseline', 'This run', 'Change', 'Basis'], changes.map(({ c, what }): CellIn[] => [{ text: what, cls: what === 'regression' ? 'missing' : 'win' }, c.label, num(c.baseline, c.unit), num(c.current, c.unit), fmtPct(c.changePct), c.basis === 'ci95' ? '95% CI' : `> ${reg.tolerancePct}%`]), [2, 3, 4])
      : para('No figure changed beyond the noise.'),
  );
}

function failuresSection(r: RunResults): string {
  const title = (m: Measurement) => {
    let t = m.scenario;
    try {
      t = scenarioById(m.scenario, m.step).title;
    } catch {
      // a scenario this version does not know: its id says enough
    }
    return m.step !== undefined ? `${t} @${fmtInt(m.step)} svc` : t;
  };
  const rows: CellIn[][] = [
    ...allMeasurements(r)
      .filter(isFailure)
      .map((m): CellIn[] => [title(m), String(m.round), { text: oneLine(m.reason ?? 'no reason recorded'), cls: 'missing' }, m.file]),
    ...(r.component?.failures ?? []).map((f): CellIn[] => [f.what, '', { text: oneLine(f.reason), cls: 'missing' }, NONE]),
  ];
  const notDone = r.phases.filter((p) => p.status !== 'done');
  const notMeasured = r.measurements.filter((m) => m.notMeasured);
  return section(
    'failures',
    'Failures & skipped',
    r.status !== 'completed' ? banner('bad', `Run ${r.status}: ${oneLine(r.failure ?? 'no reason recorded')}`) : '',
    rows.length ? para(`${rows.length} measurement(s) or collection(s) failed; nothing was dropped silently.`) + table(['Measurement', 'Round', 'Reason', 'Raw file'], rows, [1]) : para('No measurement failed.'),
    notMeasured.length
      ? para(`${notMeasured.length} scenario round(s) not measured: the datapath had nothing to act on, so there is no figure.`) +
        table(['Measurement', 'Round', 'Reason'], notMeasured.map((m): CellIn[] => [title(m), String(m.round), { text: oneLine(m.reason ?? 'no reason recorded'), cls: 'missing' }]), [1])
      : '',
    notDone.length ? '<h3>Phases not run to completion</h3>' + table(['Phase', 'Status', 'Reason'], notDone.map((p) => [p.phase, p.status, oneLine(p.reason ?? 'no reason recorded')])) : para('Every phase ran.'),
  );
}
