/**
 * report.md for one cluster, in the shape of the article's tables: At a
 * glance; 1 Throughput; 2 RPS; 3 Latency; 4 Service scale degradation (with
 * a chart written beside the report); 5 Hubble & NetworkPolicy; 6 Resources;
 * then what a reader needs to trust the figures: Context, Failures &
 * skipped, Trust.
 *
 * Figures come from the summary (so report.md and benchmark-summary.json
 * never disagree); intervals, failures, convergence and options come from
 * RunResults, which holds what the summary does not.
 */
import type { PhaseName } from '../config';
import { referenceSyncSleepSecs } from '../domain/plan';
import { isFailure, type Measurement, type RunResults } from '../domain/results';
import { timeSplits, type TimeSplit } from '../domain/timeline';
import { GLANCE_AT_SCALE, isMeasurementOf, overheadPhase, SCALE_SCENARIOS, SCENARIOS, unitDigits, type Scenario } from '../domain/scenarios';
import { estimate, intervalText } from '../domain/stats';
import { SCALE_CHART_FILE, scaleChart } from './charts';
import { NONE, TIME_PARTS, bytesToMb, datapathStateRows, fmtGbps, fmtInt, fmtMB, fmtMs, fmtNum, fmtPct, fmtQps, fmtSecs, fmtUs, oneLine, orchestrationSentence, overheadNoise } from './format';
import { cellWithInterval, glanceRows } from './glance';
import { clusterLabel, isCiliumType, overheadOf, viewSummary, type StepEntry, type SummaryView } from './summary-view';
import { renderMarkdownTable as table, type Cell } from './table';

export { SCALE_CHART_FILE };

export interface MarkdownReport {
  /** contents of report.md */
  markdown: string;
  /** contents of scale-chart.svg (SCALE_CHART_FILE), linked from report.md; absent when no scale step has RPS figures */
  scaleChartSvg?: string;
}

const TITLES = new Map(SCENARIOS.map((s) => [s.id, s.title]));
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

/** Every measurement of the run, the fixed phases' and the scale steps'. */
function allMeasurements(r: RunResults): Measurement[] {
  return [...r.measurements, ...r.scale.steps.flatMap((s) => s.measurements.map((m) => ({ ...m, step: m.step ?? s.svcCount })))];
}

export function renderReportMarkdown(results: RunResults, summary: Record<string, unknown>): MarkdownReport {
  const s = viewSummary(summary);
  const c = results.cluster;
  const type = c?.clusterType ?? s.cluster.cluster_type;
  const label = clusterLabel(type);
  const name = c?.contextName ?? s.cluster.cluster_name ?? 'cluster';
  const out: string[] = [];
  const para = (...lines: string[]) => out.push(lines.join('\n'), '');
  const phase = (p: PhaseName) => results.phases.find((x) => x.phase === p);
  const failedOf = (scenario: string, step?: number) =>
    allMeasurements(results).filter((m) => isMeasurementOf(m, scenario, step) && isFailure(m));
  const notMeasuredOf = (scenario: string) => results.measurements.find((m) => isMeasurementOf(m, scenario) && m.notMeasured);

  /** What a cell shows when the summary has no figure: why. */
  const missing = (p: PhaseName, scenario: string, step?: number): string => {
    const ph = phase(p);
    if (ph?.status === 'skipped') return 'skipped';
    const nm = step === undefined ? notMeasuredOf(scenario) : undefined;
    if (nm) return `not measured: ${oneLine(nm.reason ?? 'no reason recorded')}`;
    const failed = failedOf(scenario, step);
    if (failed.length) return `failed (${failed.length}×, see Failures)`;
    if (ph?.status === 'failed' || ph?.status === 'cancelled') return `not measured (phase ${ph.status})`;
    return NONE;
  };
  /** A section that did not run says so, with the reason, instead of an empty table. */
  const notRun = (p: PhaseName): string | undefined => {
    const ph = phase(p);
    if (ph?.status === 'skipped') return `_Skipped: ${oneLine(ph.reason ?? 'no reason recorded')}._`;
    if (ph?.status === 'failed' || ph?.status === 'cancelled') return `**Phase ${ph.status}:** ${oneLine(ph.reason ?? 'no reason recorded')}. Figures below are partial.`;
    return undefined;
  };

  // ---- title
  out.push(`# Network benchmark: ${name} (${label})`, '');
  para(
    [
      type ? `Datapath **${type}**` : undefined,
      c?.k8sVersion ?? s.cluster.k8s_version ? `Kubernetes ${c?.k8sVersion ?? s.cluster.k8s_version}` : undefined,
      c ? `${c.nodeCount} nodes` : s.cluster.node_count ? `${s.cluster.node_count} nodes` : undefined,
      c?.testDate ?? s.cluster.test_date,
      `${results.options.rounds} round${results.options.rounds === 1 ? '' : 's'} per scenario`,
    ]
      .filter(Boolean)
      .join(' · '),
  );
  if (!results.scale.trusted) {
    para(
      `> **⚠ Untrusted large-scale results.** ${oneLine(results.scale.untrustedReason ?? 'The Cilium LB-map fix was not applied')}`,
      '> The Service-scale figures may show LB-map overflow (forwarding failures), not O(n) degradation. See [Trust](#trust).',
    );
  }
  if (results.status !== 'completed') {
    para(`> **Run ${results.status}.**${results.failure ? ` ${oneLine(results.failure)}` : ''} Figures are partial; see [Failures & skipped](#failures--skipped).`);
  }

  // ---- at a glance
  const glance = glanceRows([{ name: label, results, summary }], 'largest');
  const failures = failureRows(results);
  const notMeasured = results.measurements.filter((m) => m.notMeasured);
  const notDone = results.phases.filter((p) => p.status !== 'done');
  out.push('## At a glance', '');
  para(
    table(['Dimension', label], [
      ...glance.map((r) => [r.label, cellWithInterval(r.cells[0])]),
      ['Failed measurements', failures.length ? `${failures.length} (see [Failures](#failures--skipped))` : '0'],
      ...(notMeasured.length ? [['Not measured', `${notMeasured.length} (nothing to act on; see [Failures & skipped](#failures--skipped))`]] : []),
      ['Phases not run', notDone.length ? notDone.map((p) => `${p.phase} (${p.status})`).join(', ') : 'none'],
    ]),
  );

  // ---- 1 throughput
  out.push('## 1. Throughput', '');
  const tpNote = notRun('throughput');
  if (tpNote) para(tpNote);
  if (phase('throughput')?.status !== 'skipped') {
    const ids = SCENARIOS.filter((x) => x.phase === 'throughput').map((x) => x.id);
    para(
      table(['Scenario', label], ids.map((id) => {
        const e = s.throughput[id];
        return [TITLES.get(id), e ? withSamples(fmtGbps(e.avg), e.gbps, 2) : missing('throughput', id)];
      })),
      '',
      `iperf3, ${results.options.iperfDuration} s per run; received bits/s ÷ 1e9.`,
    );
  }

  // ---- 2 RPS
  out.push('## 2. RPS', '');
  const rpsNote = notRun('rps');
  if (rpsNote) para(rpsNote);
  if (phase('rps')?.status !== 'skipped') {
    const ids = SCENARIOS.filter((x) => x.phase === 'rps').map((x) => x.id);
    para(
      table(['Scenario', label], ids.map((id) => {
        const e = s.rps[id];
        return [TITLES.get(id), e ? withSamples(fmtQps(e.avg_qps), e.qps, 0) : missing('rps', id)];
      })),
      '',
      `fortio as fast as possible, ${results.options.fortioDuration} s per run, \`/echo?size=512\`.`,
    );
  }

  // ---- 3 latency
  out.push('## 3. Latency', '');
  const latNote = notRun('latency');
  if (latNote) para(latNote);
  if (phase('latency')?.status !== 'skipped') {
    const fig = (scenario: string, f: string) =>
      results.measurements.filter((m) => m.scenario === scenario && m.step === undefined && m.ok && typeof m.figures?.[f] === 'number').map((m) => m.figures![f]);
    const fmt = { 'µs': fmtUs, ms: fmtMs } as Record<string, (x: number) => string>;
    const rows = SCENARIOS.filter((x) => x.phase === 'latency').flatMap((sc) =>
      (sc.figures ?? []).map((f): Cell[] => {
        const v = s.latency[f.key as keyof typeof s.latency];
        return [f.label, v ? withSamples(fmt[f.unit](v), fig(sc.id, f.figure), unitDigits(f.unit)) : missing('latency', sc.id)];
      }),
    );
    para(
      table(['Metric', label], rows),
      '',
      'netperf TCP_RR / TCP_CRR to the server pod IP (1-byte request/response); fortio at a fixed 1000 QPS, c16, via the Service.',
    );
  }

  // ---- 4 service scale
  out.push('## 4. Service scale degradation', '');
  const scaleChartSvg = scaleChart(s, `${name} (${label})`);
  const ssNote = notRun('service-scale');
  if (ssNote) para(ssNote);
  const steps = [...(s.service_scale.steps ?? [])].sort((a, b) => a.svc_count - b.svc_count);
  if (steps.length) para(...scaleSection(results, s, steps, label, missing, !!scaleChartSvg));
  else if (phase('service-scale')?.status !== 'skipped') para('_No scale step was measured; see [Failures & skipped](#failures--skipped)._');

  // ---- 5 hubble & networkpolicy
  out.push('## 5. Hubble & NetworkPolicy', '');
  for (const [p, heading, name] of [['hubble', 'Hubble observability', 'Hubble'], ['networkpolicy', 'NetworkPolicy', 'NetworkPolicy']] as const) {
    out.push(`### ${heading}`, '');
    const note = notRun(p);
    if (note) para(note);
    const o = overheadPhase(p);
    const sec = overheadOf(s, p);
    if (sec) {
      // each configuration's rounds (from 0.5 ROUNDS of them): the mean with its 95% interval when there are 2 or more
      const est = (id: string) => {
        const xs = results.measurements.filter((m) => isMeasurementOf(m, id) && m.ok && typeof m.value === 'number').map((m) => m.value!);
        return xs.length ? estimate(xs) : undefined;
      };
      // one table per treatment: its configuration and the baseline in catalogue order, then the overhead (from the means)
      para(
        ...o.treatments.flatMap((t, i) => {
          const rows = o.rows.filter((x) => x === t || x === o.baseline).map((x) => {
            const v = sec[x.overhead.key];
            const e = est(x.id);
            return [x.overhead.label, v === undefined ? missing(p, x.id) : e?.ci95 !== undefined ? `${fmtQps(v)} ${intervalText(e, 0)}` : fmtQps(v)];
          });
          const pct = sec[t.overhead.pctKey];
          const noise = overheadNoise(est(t.id), est(o.baseline.id));
          const overhead = pct === undefined ? NONE : noise ? `${fmtPct(pct)} (${noise})` : fmtPct(pct);
          return [...(i ? [''] : []), ...(t.overhead.note ? [t.overhead.note, ''] : []), table(['Metric', label], [...rows, ['Overhead', overhead]])];
        }),
      );
    } else if (phase(p)?.status !== 'skipped' && o.rows.some((x) => notMeasuredOf(x.id))) {
      // configurations recorded as not measured: each row says why, where its figure would be
      para(table(['Metric', label], o.rows.map((x) => [x.overhead.label, missing(p, x.id)])));
    } else if (phase(p)?.status !== 'skipped') {
      para(`_No ${name} result: ${o.required.map((x) => `${x.overhead.short ?? x.overhead.label} ${missing(p, x.id)}`).join(', ')}._`);
    }
  }

  // ---- 6 resources
  out.push('## 6. Resources', '');
  const metNote = notRun('metrics');
  if (metNote) para(metNote);
  para(...resourcesSection(results, s));

  // ---- where the time went
  if (results.timeline?.length) {
    const { rows, total } = timeSplits(results.timeline);
    const cells = (r: TimeSplit) => [r.name, fmtSecs(r.seconds), ...TIME_PARTS.map((p) => fmtSecs(r[p.key]))];
    out.push('## Where the time went', '');
    para(
      orchestrationSentence(total),
      '',
      table(
        ['Phase / step', { header: 'Wall', align: 'right' }, ...TIME_PARTS.map((p) => ({ header: p.name[0].toUpperCase() + p.name.slice(1), align: 'right' as const }))],
        [...rows.map(cells), cells({ ...total, name: '**total**' })],
      ),
    );
  }

  // ---- context
  out.push('## Context', '');
  para(table(['Item', 'Value'], contextRows(results, s)));
  out.push('### Options used', '');
  para(
    table(['Option', 'Value'], Object.entries(results.options).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? (v.length ? v.join(',') : 'none') : String(v)])),
  );

  // ---- resumed runs: which figures came from which run
  const rs = results.resumedFrom;
  if (rs) {
    out.push('## Resumed run', '');
    const origin = new Map<string, string[]>();
    const add = (run: string | undefined, what: string) => run && origin.set(run, [...(origin.get(run) ?? []), what]);
    for (const m of results.measurements) add(m.adoptedFrom, `${m.scenario} r${m.round}`);
    for (const st of results.scale.steps) add(st.adoptedFrom, `scale step ${st.svcCount}`);
    para(
      `This run resumed \`${rs.fromWorkflowId}\`: ${rs.adoptedMeasurements} figure(s) and ${rs.adoptedSteps.length} scale step(s) were adopted, not measured again (about ${fmtSecs(rs.secondsSaved)} of measuring saved). Everything else was measured by \`${results.workflowId}\`.`,
      '',
      table(['Measured by run', 'Figures adopted'], [...origin].map(([run, what]) => [`\`${run}\``, what.join(', ')])),
    );
  }

  // ---- failures & skipped
  out.push('## Failures & skipped', '');
  if (results.status !== 'completed') para(`**Run ${results.status}:** ${oneLine(results.failure ?? 'no reason recorded')}`);
  if (failures.length) {
    para(
      `${failures.length} measurement${failures.length === 1 ? '' : 's'} failed; nothing was dropped silently:`,
      '',
      table(['Scenario', { header: 'Step', align: 'right' }, { header: 'Round', align: 'right' }, 'Reason', 'Raw file'], failures),
    );
  } else {
    para('No measurement failed.');
  }
  if (notMeasured.length) {
    para(
      `${notMeasured.length} scenario round${notMeasured.length === 1 ? '' : 's'} not measured: the datapath had nothing to act on, so there is no figure:`,
      '',
      table(['Scenario', { header: 'Round', align: 'right' }, 'Reason'], notMeasured.map((m) => [m.scenario, m.round, oneLine(m.reason ?? 'no reason recorded')])),
    );
  }
  if (notDone.length) {
    para('Phases not run to completion:', '', table(['Phase', 'Status', 'Reason'], notDone.map((p) => [p.phase, p.status, oneLine(p.reason ?? 'no reason recorded')])));
  } else {
    para('Every phase ran.');
  }
  if (results.cleanup) {
    const cl = results.cleanup;
    para(`Cleanup: ${cl.done ? 'done' : cl.skipped ? `skipped (${cl.reason ?? '--skip-cleanup'})` : `**not done**: ${oneLine(cl.reason ?? 'no reason recorded')}`}.`);
    for (const k of cl.kept ?? []) {
      para(`Namespace \`${k.namespace}\` existed before the run (--use-existing-ns): kept as it was; only netbench's ${k.removedObjects} object(s) were removed from it.`);
    }
    if (!cl.done && !cl.skipped) para(`**Do by hand:** \`kubectl delete namespace ${results.options.ns} ${results.options.scaleNamespace}\` (only if netbench created them).`);
  }
  const undo = results.undo ?? [];
  if (undo.length) {
    const failed = undo.filter((u) => !u.ok);
    para(
      failed.length ? `**${failed.length} change(s) to the cluster could not be undone; do them by hand:**` : 'What netbench changed in the cluster was put back:',
      '',
      table(['Change undone', 'Outcome', 'Do by hand'], undo.map((u) => [u.what, u.ok ? 'done' : `**failed**: ${oneLine(u.reason ?? '?')}`, u.ok ? '' : `\`${u.manual ?? '?'}\``])),
    );
  }

  // ---- trust
  out.push('## Trust', '');
  para(...trustSection(results, type));

  // ---- regression check
  const reg = results.regression;
  if (reg) {
    out.push('## Regression check', '');
    if (!reg.baselineWorkflowId) para(`No comparison: ${oneLine(reg.reason ?? 'no baseline')}.`);
    else {
      para(
        `Against run \`${reg.baselineWorkflowId}\` (${reg.baselineStartedAt ?? '?'}); ${reg.compared} figures compared; a change counts when the 95% intervals do not overlap (≥ 2 rounds on both sides), else beyond ${reg.tolerancePct}%.`,
      );
      const rows = (cs: typeof reg.regressions, what: string): Cell[][] =>
        cs.map((c) => [what, c.label, `${fmtNum(c.baseline, c.unit === 'Gbps' || c.unit === 'ms' ? 2 : 0)} ${c.unit}`, `${fmtNum(c.current, c.unit === 'Gbps' || c.unit === 'ms' ? 2 : 0)} ${c.unit}`, fmtPct(c.changePct), c.basis === 'ci95' ? '95% CI' : `> ${reg.tolerancePct}%`]);
      const all = [...rows(reg.regressions, '**REGRESSION**'), ...rows(reg.improvements, 'improvement')];
      if (all.length) out.push(table(['', 'Figure', 'Baseline', 'This run', 'Change', 'Basis'], all), '');
      else para('No figure changed beyond the noise.');
    }
  }

  return { markdown: out.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n+$/, '') + '\n', ...(scaleChartSvg ? { scaleChartSvg } : {}) };
}

/** "10.43 Gbps ± 0.05 (n=3)" with two or more rounds, "10.43 Gbps (1 sample)" with one, the plain text without samples. */
function withSamples(text: string, samples: number[] | undefined, digits: number): string {
  const e = samples && samples.length ? estimate(samples) : undefined;
  if (!e) return text;
  return e.ci95 !== undefined ? `${text} ${intervalText(e, digits)}` : `${text} (${intervalText(e, digits)})`;
}

function scaleSection(
  r: RunResults,
  s: SummaryView,
  steps: StepEntry[],
  label: string,
  missing: (p: PhaseName, scenario: string, step?: number) => string,
  hasChart: boolean,
): string[] {
  const ss = s.service_scale;
  const eps = ss.endpoints_per_svc ?? r.scale.endpointsPerSvc;
  const lines: string[] = [
    `Dummy Services created cumulatively up to ${fmtInt(steps[steps.length - 1].svc_count)}, ${eps} endpoints each (${r.options.endpointsMode}); ` +
      'at each step the run waits until the datapath has programmed every Service (measured, not a fixed sleep), then benchmarks via the Service. ' +
      'Change = (step − baseline) ÷ baseline × 100; negative means slower.',
    '',
  ];
  const fig = (o: object | undefined, key: string) => (o as Record<string, number | undefined> | undefined)?.[key];
  const qpsCell = (st: StepEntry, sc: Scenario) => {
    const qps = fig(st, `${sc.atScale!.summaryKey}_qps`);
    const pct = fig(st, `${sc.atScale!.summaryKey}_degradation_pct`);
    return qps === undefined ? missing('service-scale', sc.id, st.svc_count) : pct === undefined ? fmtInt(qps) : `${fmtInt(qps)} (${fmtPct(pct)})`;
  };
  const base = (sc: Scenario) => {
    const v = fig(ss, sc.atScale!.baselineKey!);
    return v ? fmtQps(v) : missing('rps', sc.atScale!.of);
  };
  const span = (vals: (number | undefined)[]) => {
    const xs = vals.filter((v): v is number => typeof v === 'number');
    return xs.length === 0 ? undefined : xs.length === 1 ? fmtInt(xs[0]) : `${xs[0]}→${xs[xs.length - 1]}`;
  };
  const chain = span(steps.map((st) => st.kube_services_chain));
  const rules = span(steps.map((st) => st.rules_count));
  // one table per RPS row of the catalogue's scale scenarios; the followed one (short connections) also shows the datapath's size
  for (const sc of SCALE_SCENARIOS.filter((x) => x.atScale?.section)) {
    lines.push(`### ${sc.atScale!.section}`, '');
    lines.push(
      table(['Service count', label], [
        ['Baseline (small)', base(sc)],
        ...steps.map((st) => [fmtInt(st.svc_count), qpsCell(st, sc)]),
        ...(sc === GLANCE_AT_SCALE && chain ? [['KUBE-SERVICES chain', chain]] : []),
        ...(sc === GLANCE_AT_SCALE && rules ? [[rulesLabel(r.cluster?.clusterType ?? s.cluster.cluster_type), rules]] : []),
      ]),
      '',
    );
  }
  if (hasChart) lines.push(`![Short-connection and keepalive RPS against Service count](${SCALE_CHART_FILE})`, '');

  lines.push('### Datapath per step', '');
  const latencyAtScale = SCALE_SCENARIOS.filter((x) => !x.atScale?.baselineKey);
  const hasChain = steps.some((st) => st.kube_services_chain !== undefined); // kube-proxy iptables only
  const stepResult = (n: number) => r.scale.steps.find((x) => x.svcCount === n);
  lines.push(
    table(
      [
        { header: 'Service count', align: 'right' }, { header: 'Rules / LB entries', align: 'right' },
        ...(hasChain ? [{ header: 'KUBE-SERVICES chain', align: 'right' as const }] : []),
        'Datapath convergence', { header: 'Reference\'s fixed sleep', align: 'right' },
        ...latencyAtScale.map((sc) => ({ header: sc.atScale!.label, align: 'right' as const })),
      ],
      steps.map((st) => [
        fmtInt(st.svc_count),
        st.rules_count !== undefined ? fmtInt(st.rules_count) : NONE,
        ...(hasChain ? [st.kube_services_chain !== undefined ? fmtInt(st.kube_services_chain) : NONE] : []),
        convergenceCell(st),
        `${referenceSyncSleepSecs(st.svc_count, eps)} s`,
        ...latencyAtScale.map((sc) => {
          const v = fig(st, sc.atScale!.summaryKey);
          return v ? fmtUs(v) : missing('service-scale', sc.id, st.svc_count);
        }),
      ]),
    ),
    '',
  );

  lines.push('### Service creation', '');
  const created = steps.map((st) => ({ st, sr: stepResult(st.svc_count) }));
  lines.push(
    table(
      [{ header: 'Service count', align: 'right' }, { header: 'Created', align: 'right' }, { header: 'Already existed', align: 'right' }, { header: 'Time', align: 'right' }, { header: 'Rate', align: 'right' }],
      created.map(({ st, sr }) => {
        const cr = st.create ?? (sr ? { created: sr.created, existed: sr.existed, seconds: sr.createSeconds, per_second: sr.createRatePerSec } : undefined);
        return cr
          ? [fmtInt(st.svc_count), fmtInt(cr.created), fmtInt(cr.existed), fmtSecs(cr.seconds), `${fmtNum(cr.per_second, 1)} Services/s`]
          : [fmtInt(st.svc_count), NONE, NONE, NONE, NONE];
      }),
    ),
  );
  return lines;
}

/** What the reference's rules_count counts on this datapath. */
const rulesLabel = (type: string | undefined) =>
  isCiliumType(type) ? 'LB entries' : type === 'kubeproxy-iptables' ? 'Rules (iptables-save lines)' : 'Rules / entries';

function convergenceCell(st: StepEntry): string {
  const c = st.datapath_convergence;
  if (!c) return NONE;
  if (c.metric === 'none') return `not measured${c.reason ? `: ${oneLine(c.reason)}` : ''}`;
  const counts = `${fmtInt(c.observed)}/${fmtInt(c.expected)} ${c.metric}`;
  if (!c.converged) return `**not converged** after ${fmtSecs(c.seconds)} (${counts})${c.reason ? `: ${oneLine(c.reason)}` : ''}`;
  return `${fmtSecs(c.seconds)} (${counts})`;
}

function resourcesSection(r: RunResults, s: SummaryView): string[] {
  const lines: string[] = [];
  const comps = [['kubeproxy', 'kube-proxy'], ['cilium_agent', 'Cilium Agent']] as const;
  const rows = comps
    .filter(([k]) => s.resources[k])
    .map(([k, name]) => {
      const e = s.resources[k]!;
      const samples = r.resources.find((x) => x.component === k)?.samples;
      return [name, `${fmtNum(e.avg_cpu_m, 1)}m / ${fmtNum(e.max_cpu_m, 1)}m`, `${fmtNum(e.avg_mem_mb, 0)} / ${fmtNum(e.max_mem_mb, 0)} MiB`, fmtInt(e.pods_sampled), samples !== undefined ? fmtInt(samples) : NONE];
    });
  const largest = r.scale.steps.length ? Math.max(...r.scale.steps.map((x) => x.svcCount)) : undefined;
  lines.push(
    `### CPU / Memory (steady state after ${r.options.metricsSettleSecs} s, ${r.options.metricsSamples} samples${largest ? `, with ${fmtInt(largest)} Services × ${r.scale.endpointsPerSvc} endpoints in place` : ''})`,
    '',
  );
  lines.push(rows.length ? table(['Component', 'CPU avg / max', 'Memory avg / max', { header: 'Pods sampled', align: 'right' }, { header: 'Samples', align: 'right' }], rows) : '_No CPU/memory samples (see Failures)._', '');

  const bpf = s.resources.bpf_maps;
  const rss = s.resources.cilium_agent_rss_mb;
  if (bpf || rss !== undefined) {
    lines.push('### BPF map memory', '');
    lines.push(
      table(['Metric', 'Value'], [
        ...(bpf ? [['BPF map total', fmtMB(bpf.total_mb)], ['BPF map count', fmtInt(bpf.map_count)]] : []),
        ...(rss !== undefined ? [['Cilium Agent RSS', fmtMB(rss)]] : []),
      ]),
      '',
    );
    if (bpf?.top_maps?.length) {
      lines.push(
        'Top BPF map memory consumers:',
        '',
        table(['Map name', { header: 'Max Entries', align: 'right' }, { header: 'Memory', align: 'right' }], bpf.top_maps.map((m) => [m.name, fmtInt(m.max_entries), fmtMB(bytesToMb(m.bytes))])),
        '',
        'BPF maps allocate memory for `max_entries` when created: the total follows the configured limits (e.g. `bpf-lb-map-max`), not the number of Services.',
        '',
      );
    }
  }

  const comp = r.component;
  const state: Cell[][] = datapathStateRows(comp);
  if (state.length) lines.push('### Datapath state', '', table(['Metric', 'Value'], state), '');
  if (comp?.failures.length) lines.push(`_${comp.failures.length} component-metric collection(s) failed; see [Failures & skipped](#failures--skipped)._`, '');
  return lines;
}

function contextRows(r: RunResults, s: SummaryView): Cell[][] {
  const c = r.cluster;
  const rows: Cell[][] = [
    ['Cluster (kube context)', c?.contextName ?? s.cluster.cluster_name ?? '?'],
    ['Cluster type', c?.clusterType ?? s.cluster.cluster_type ?? '?'],
  ];
  if (c) {
    rows.push(
      ['Detected by', c.detectedBy],
      ['Proxy mode', c.proxyMode],
      ['Kubernetes version', c.k8sVersion],
      ['Node count', fmtInt(c.nodeCount)],
      ['Node OS', c.nodeOs],
      ['Kernel version', c.kernelVersion],
      ['Node spec', c.nodeModel],
      ...c.nodes.slice(0, 2).map((n, i): Cell[] => [i === 0 ? 'Server node' : 'Client node', `${n.name} (${n.internalIp})`]),
      ['Test date', c.testDate],
    );
  } else {
    rows.push(['Cluster facts', 'not collected (the run stopped before inspecting the cluster)']);
  }
  rows.push(
    ['Started', r.startedAt],
    ['Finished', r.finishedAt ?? NONE],
    ['Status', r.status],
    ['Workflow', `${r.workflowId} / ${r.runId}`],
    ['Output directory', r.outputDir],
  );
  return rows;
}

/** Every failed measurement (fixed phases, scale steps) and component collection, with reason and raw file. */
function failureRows(r: RunResults): Cell[][] {
  const ms = allMeasurements(r)
    .filter(isFailure)
    .map((m): Cell[] => [m.scenario, m.step !== undefined ? fmtInt(m.step) : '', m.round, oneLine(m.reason ?? 'no reason recorded'), code(m.file)]);
  const comp = (r.component?.failures ?? []).map((f): Cell[] => [f.what, '', '', oneLine(f.reason), NONE]);
  return [...ms, ...comp];
}

function trustSection(r: RunResults, type: string | undefined): string[] {
  const lb = r.scale.lbMap;
  const lines: string[] = [];
  lines.push(
    r.scale.trusted
      ? '**Large-scale results: trusted.**'
      : `**Large-scale results: NOT trusted.** ${oneLine(r.scale.untrustedReason ?? 'The Cilium LB-map fix was not applied.')}`,
    '',
  );
  if (lb) {
    lines.push(
      'Cilium LB-map capacity check (each Service needs 1 + endpoints entries; an overflowing map drops traffic, which would look like degradation):',
      '',
      table(['Item', 'Value'], [
        ['bpf-lb-map-max before', fmtInt(lb.current)],
        ['Entries needed (largest step)', fmtInt(lb.needed)],
        ['Proposed', lb.proposed !== undefined ? fmtInt(lb.proposed) : NONE],
        ['Decision', lb.decision],
        ['Decided by', lb.decidedBy ?? NONE],
        ['Fix applied', lb.applied ? 'yes' : 'no'],
        ['bpf-lb-map-max after', lb.after !== undefined ? fmtInt(lb.after) : NONE],
        ...(lb.reason ? [['Note', oneLine(lb.reason)]] : []),
      ]),
    );
  } else if (type && !isCiliumType(type)) {
    lines.push('LB-map check: not applicable (kube-proxy datapath has no BPF LB map).');
  } else {
    const ph = r.phases.find((p) => p.phase === 'service-scale');
    lines.push(`LB-map check: not run${ph?.reason ? ` (${oneLine(ph.reason)})` : ''}.`);
  }
  return lines;
}
