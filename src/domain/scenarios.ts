/**
 * The scenario catalogue: every measurement of the reference run, with the
 * summary key it feeds and the file its raw output goes to (the reference's
 * layout, so existing tooling that reads run directories keeps working).
 *
 * Pure data: imported by workflows (to plan and label) and activities (to
 * build the tool's argv and the file path).
 *
 * Adding a scenario is one row in SCENARIOS (its tool's driver must support
 * it): the plan, the workflow, the summary, the reports, comparisons and the
 * progress display derive from it. Give the row `since: 'netbench-scenario-<id>'`
 * so recorded histories keep replaying; the tests that spell out the plan's
 * counts, the workflow's order and the report fixtures' figures then say
 * what changed.
 */
import type { PhaseName } from '../config';

export type Tool = 'iperf3' | 'fortio' | 'netperf';

/** Where a scenario points: resolved to an IP by the measure activity. */
export type TargetKind =
  | 'server-node' // hostIP of the server node (hostNetwork iperf3 on 5202)
  | 'iperf-server-pod'
  | 'iperf-service'
  | 'fortio-server-pod'
  | 'fortio-service'
  | 'netperf-server-pod';

export interface Targets {
  serverNodeIp: string;
  iperfServerPodIp: string;
  iperfServiceIp: string;
  fortioServerPodIp: string;
  fortioServiceIp: string;
  netperfServerPodIp: string;
}

export function targetIp(t: Targets, kind: TargetKind): string {
  switch (kind) {
    case 'server-node':
      return t.serverNodeIp;
    case 'iperf-server-pod':
      return t.iperfServerPodIp;
    case 'iperf-service':
      return t.iperfServiceIp;
    case 'fortio-server-pod':
      return t.fortioServerPodIp;
    case 'fortio-service':
      return t.fortioServiceIp;
    case 'netperf-server-pod':
      return t.netperfServerPodIp;
  }
}

/** Units of headline figures, with the decimals every renderer prints them in. */
export const UNITS = { Gbps: 2, 'req/s': 0, 'µs': 0, ms: 2 } as const;
export type Unit = keyof typeof UNITS;
export const unitDigits = (u: string): number => UNITS[u as Unit] ?? 0;

/**
 * A latency figure a scenario reports besides its headline: where the
 * summary puts it, and how the regression check and the reports name it.
 */
export interface FigureDef {
  /** key in benchmark-summary.json's latency section (and the regression check's key) */
  key: string;
  /** the parsed figure it is taken from (Measurement.figures) */
  figure: string;
  /** name in the regression check and the report's Latency table */
  label: string;
  unit: Unit;
  better: 'higher' | 'lower';
  /** the summary's figure: the mean of the rounds truncated ('avg-int'), or round 1 to 2 decimals (the reference ran it once) */
  pick: 'avg-int' | 'first-round';
  /** its At-a-glance row, when it has one */
  glance?: { key: string; label: string };
}

/** How a Service-scale step reports a scenario it measures again (benchmark-summary.json's step keys). */
export interface AtScale {
  /** id of the fixed-phase scenario measured again */
  of: string;
  /** summary keys of the step entry: `<prefix>_qps` + `<prefix>_degradation_pct` (RPS), or the key of a latency figure */
  summaryKey: string;
  /** the fixed-phase figure it is compared with (the baseline), for RPS rows: service_scale.<baseline> */
  baselineKey?: string;
  /** its name in step tables and the regression check ("<label> @<n> svc") */
  label: string;
  /** the regression check follows it at every step under `<id>@<n>`; `rank` orders a step's headlines (short connections, the article's pivot, first) */
  rank?: number;
  /** the report's table of this RPS row across steps */
  section?: string;
  /** the At-a-glance table has a row for it at the largest step (single runs) or every common step (comparisons) */
  glance?: boolean;
}

/**
 * A configuration of an overhead phase (Hubble, NetworkPolicy): fortio
 * ROUNDS times per configuration (once before 0.5, as in the reference:
 * `roundsSince`), the mean of each treatment compared with its phase's
 * baseline. benchmark-summary.json has a section per phase (its name is
 * the phase's) with each configuration's req/s under `key` and each
 * treatment's change against the baseline under `pctKey`; in catalogue
 * order, a treatment's percentage follows the later of its two figures
 * (the reference's key order).
 */
export type OverheadDef = {
  /** key of its req/s in the phase's summary section */
  key: string;
  /** its row in report.md's table */
  label: string;
  /** its row in the terminal summary */
  terminal: string;
  /** how the "no result" line names it, when the section cannot go without it (else by its label) */
  short?: string;
} & (
  | {
      role: 'baseline';
      /**
       * true: the section is written with the baseline alone, each treatment
       * measured adds its figures; false: only when every configuration is measured
       */
      alone: boolean;
    }
  | {
      role: 'treatment';
      /** key of its change against the baseline in the phase's summary section (%) */
      pctKey: string;
      /** its At-a-glance row (the overhead) */
      glance: { key: string; label: string };
      /** report.md's line above its table, when the configuration needs saying */
      note?: string;
    }
);

interface ScenarioBase {
  /** summary key (reference-compatible) and stable id */
  id: string;
  phase: PhaseName;
  title: string;
  /** pod the tool runs in */
  client: string;
  target: TargetKind;
  port: number;
  /** repeated ROUNDS times, or run once (as in the reference) */
  repeat: 'rounds' | 'once';
  /**
   * A row the reference ran once that netbench repeats ROUNDS times from a
   * later release on (the Hubble and NetworkPolicy configurations): the
   * patch id (`patched()`) the workflow repeats it behind, so runs that
   * started before it (recorded histories) keep measuring it once.
   */
  roundsSince?: string;
  /** the headline figure (Measurement.value): the parsed figure it is, its unit and which way is better */
  headlineFigure: 'gbps' | 'qps' | 'p99Us';
  unit: Unit;
  better: 'higher' | 'lower';
  /** the regression check follows the headline under this label (throughput and RPS rows) */
  headline?: string;
  /** its At-a-glance row label, when it has one */
  glance?: string;
  /** latency figures beyond the headline (summary latency keys, regression, report rows) */
  figures?: FigureDef[];
  /** raw file name when it is not the id (the reference's layout) */
  rawName?: string;
  /** scale-step rows: how the step entry reports it */
  atScale?: AtScale;
  /** overhead-phase rows: baseline or treatment, and where the summary and reports put it */
  overhead?: OverheadDef;
  /**
   * A scenario added after a release: the patch id (`patched()`) the workflow
   * measures it behind, so histories recorded before it keep replaying.
   * Adding a row: give it `since: 'netbench-scenario-<id>'`.
   */
  since?: string;
}
export interface IperfScenario extends ScenarioBase {
  tool: 'iperf3';
  streams: number;
}
export interface FortioScenario extends ScenarioBase {
  tool: 'fortio';
  connections: number;
  keepalive: boolean;
  /** 0 = as fast as possible */
  qps: number;
}
export interface NetperfScenario extends ScenarioBase {
  tool: 'netperf';
  test: 'TCP_RR' | 'TCP_CRR';
}
export type Scenario = IperfScenario | FortioScenario | NetperfScenario;

const ECHO_PATH = '/echo?size=512';
export const fortioUrl = (ip: string, port = 8080) => `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}${ECHO_PATH}`;

type Extra = Partial<Pick<ScenarioBase, 'headline' | 'glance' | 'figures' | 'rawName' | 'atScale' | 'repeat' | 'overhead' | 'since' | 'roundsSince'>>;

const iperf = (id: string, title: string, target: TargetKind, port: number, streams: number, extra: Extra & { client?: string } = {}): IperfScenario => ({
  id, title, phase: 'throughput', tool: 'iperf3', client: extra.client ?? 'iperf-client', target, port, streams, repeat: 'rounds', headlineFigure: 'gbps', unit: 'Gbps', better: 'higher', ...withoutClient(extra),
});
const fortio = (
  id: string, phase: PhaseName, title: string, target: TargetKind, connections: number, keepalive: boolean, extra: Extra & { qps?: number } = {},
): FortioScenario => {
  const { qps = 0, ...rest } = extra;
  return { id, title, phase, tool: 'fortio', client: 'fortio-client', target, port: 8080, connections, keepalive, qps, repeat: 'rounds', headlineFigure: 'qps', unit: 'req/s', better: 'higher', ...rest };
};
const netperf = (id: string, phase: PhaseName, title: string, test: 'TCP_RR' | 'TCP_CRR', extra: Extra = {}): NetperfScenario => ({
  // the headline of a netperf run is its p99 latency
  id, title, phase, tool: 'netperf', client: 'netperf-client', target: 'netperf-server-pod', port: 12865, test, repeat: 'rounds', headlineFigure: 'p99Us', unit: 'µs', better: 'lower', ...extra,
});
function withoutClient<T extends { client?: string }>(x: T): Omit<T, 'client'> {
  const { client: _client, ...rest } = x;
  return rest;
}
const µs = (key: string, figure: string, label: string, glance?: FigureDef['glance']): FigureDef => ({ key, figure, label, unit: 'µs', better: 'lower', pick: 'avg-int', ...(glance ? { glance } : {}) });

/** The patch id behind which the overhead phases measure each configuration ROUNDS times (the reference, and runs before 0.5, once). */
export const OVERHEAD_ROUNDS_PATCH = 'netbench-overhead-rounds';
const OVERHEAD_ROUNDS = { repeat: 'rounds', roundsSince: OVERHEAD_ROUNDS_PATCH } as const;

/**
 * How many rounds a run measures a scenario: ROUNDS, or 1 for a row run
 * once, and for a row repeated since a patch the run predates (`since`:
 * the workflow's patched(); outside a workflow every patch applies).
 */
export function roundsOf(s: Scenario, rounds: number, since: (patchId: string) => boolean = () => true): number {
  return s.repeat === 'rounds' && (!s.roundsSince || since(s.roundsSince)) ? rounds : 1;
}

/** Measurements of the fixed phases, in the reference's order. */
export const SCENARIOS: readonly Scenario[] = [
  // Node to node: the hostNetwork client pod on node 2 to the hostNetwork server on node 1. (The
  // reference deployed iperf-client-host but ran this test from the pod network, i.e. pod-to-node.)
  iperf('node_level_8stream', 'Node hostNet (8 streams)', 'server-node', 5202, 8, { client: 'iperf-client-host', headline: 'Node hostNet 8 streams', rawName: 'node_throughput' }),
  iperf('pod2pod_single', 'Pod-to-Pod (single)', 'iperf-server-pod', 5201, 1, { headline: 'Pod-to-Pod single stream' }),
  iperf('pod2pod_8stream', 'Pod-to-Pod (8 streams)', 'iperf-server-pod', 5201, 8, { headline: 'Pod-to-Pod 8 streams', glance: 'Pod2Pod throughput (8 streams)' }),
  iperf('pod2pod_16stream', 'Pod-to-Pod (16 streams)', 'iperf-server-pod', 5201, 16, { headline: 'Pod-to-Pod 16 streams' }),
  iperf('via_service_8stream', 'Via Service (8 streams)', 'iperf-service', 5201, 8, { headline: 'Via Service 8 streams' }),
  fortio('pod2pod_c64', 'rps', 'Pod-to-Pod c64 keepalive', 'fortio-server-pod', 64, true, { headline: 'RPS pod-to-pod c64 keepalive' }),
  fortio('svc_c64', 'rps', 'Via Svc c64 keepalive', 'fortio-service', 64, true, { headline: 'RPS via Svc c64 keepalive', glance: 'RPS keepalive (c64)' }),
  fortio('svc_c256', 'rps', 'Via Svc c256 keepalive', 'fortio-service', 256, true, { headline: 'RPS via Svc c256 keepalive' }),
  fortio('svc_short_c64', 'rps', 'Via Svc c64 short conn', 'fortio-service', 64, false, { headline: 'RPS via Svc c64 short conn', glance: 'RPS short conn (c64, small)' }),
  netperf('tcp_rr', 'latency', 'TCP_RR (pod IP)', 'TCP_RR', {
    figures: [µs('tcp_rr_p50_us', 'p50Us', 'TCP_RR p50'), µs('tcp_rr_p99_us', 'p99Us', 'TCP_RR p99', { key: 'tcp_rr_p99', label: 'TCP_RR p99 (baseline)' })],
  }),
  netperf('tcp_crr', 'latency', 'TCP_CRR (pod IP)', 'TCP_CRR', { figures: [µs('tcp_crr_p99_us', 'p99Us', 'TCP_CRR p99')] }),
  fortio('http_1k_qps', 'latency', 'HTTP p99 @1000 QPS (c16, via Svc)', 'fortio-service', 16, true, {
    qps: 1000,
    figures: [{ key: 'http_p99_1k_qps_ms', figure: 'p99Ms', label: 'HTTP p99 @1000 QPS', unit: 'ms', better: 'lower', pick: 'first-round', glance: { key: 'http_p99', label: 'HTTP p99 @1000 QPS' } }],
  }),
  fortio('hubble_on', 'hubble', 'Hubble ON (c64 keepalive via Svc)', 'fortio-service', 64, true, {
    ...OVERHEAD_ROUNDS,
    overhead: { role: 'treatment', key: 'with_hubble_qps', pctKey: 'overhead_pct', label: 'Hubble ON', terminal: 'with Hubble', short: 'ON', glance: { key: 'hubble_overhead', label: 'Hubble L3/L4 overhead' } },
  }),
  fortio('hubble_off', 'hubble', 'Hubble OFF (c64 keepalive via Svc)', 'fortio-service', 64, true, {
    ...OVERHEAD_ROUNDS,
    overhead: { role: 'baseline', key: 'without_hubble_qps', alone: false, label: 'Hubble OFF', terminal: 'without Hubble', short: 'OFF' },
  }),
  fortio('no_policy', 'networkpolicy', 'No policy (c64 keepalive via Svc)', 'fortio-service', 64, true, {
    ...OVERHEAD_ROUNDS,
    overhead: { role: 'baseline', key: 'baseline_qps', alone: true, label: 'No policy', terminal: 'no policy', short: 'baseline' },
  }),
  fortio('l3l4_policy', 'networkpolicy', 'L3/L4 CNP applied', 'fortio-service', 64, true, {
    ...OVERHEAD_ROUNDS,
    overhead: {
      role: 'treatment', key: 'l3l4_qps', pctKey: 'l3l4_overhead_pct', label: 'L3/L4 CNP applied', terminal: 'L3/L4 CNP', glance: { key: 'l3l4_overhead', label: 'L3/L4 NetworkPolicy overhead' },
      note: '**L3/L4** CiliumNetworkPolicy (fortio-client → fortio-server 8080/TCP):',
    },
  }),
  fortio('l7_policy', 'networkpolicy', 'L7 CNP applied (HTTP GET rule, Envoy)', 'fortio-service', 64, true, {
    ...OVERHEAD_ROUNDS,
    overhead: {
      role: 'treatment', key: 'l7_qps', pctKey: 'l7_overhead_pct', label: 'L7 CNP applied', terminal: 'L7 CNP (HTTP)', glance: { key: 'l7_overhead', label: 'L7 NetworkPolicy overhead' },
      note: '**L7** CiliumNetworkPolicy (same, plus an HTTP `GET` rule: traffic goes through Envoy):',
    },
  }),
];

/**
 * Measurements repeated at every Service-scale step: fixed-phase scenarios
 * measured again, with the same ids. A row adds what a step reports of it
 * (atScale) and keeps the raw file name it has had since v0.1
 * (service-scale/short_at_5000svc_r1.json).
 */
export const SCALE_SCENARIOS: readonly Scenario[] = [
  atStep('svc_c64', 'ka', 'Via Svc c64 keepalive', { summaryKey: 'keepalive', baselineKey: 'keepalive_baseline_qps', label: 'Keepalive RPS', rank: 2, section: 'Keepalive' }),
  atStep('svc_short_c64', 'short', 'Via Svc c64 short conn', { summaryKey: 'short_conn', baselineKey: 'short_conn_baseline_qps', label: 'Short-conn RPS', rank: 1, section: 'Short connection', glance: true }),
  atStep('tcp_crr', 'crr', 'TCP_CRR p99 (pod IP)', { summaryKey: 'tcp_crr_p99_us', label: 'TCP_CRR p99', rank: 3 }),
  atStep('tcp_rr', 'rr', 'TCP_RR p99 (pod IP)', { summaryKey: 'tcp_rr_p99_us', label: 'TCP_RR p99' }),
];

/** A fixed-phase scenario measured again at each scale step: same id, its step raw-file name, what the step reports. */
function atStep(id: string, rawName: string, title: string, atScale: Omit<AtScale, 'of'>): Scenario {
  const s = SCENARIOS.find((x) => x.id === id);
  if (!s) throw new Error(`scale scenario ${rawName}: no fixed-phase scenario "${id}"`);
  const { headline: _h, glance: _g, figures: _f, rawName: _r, ...base } = s;
  return { ...base, id, rawName, title, phase: 'service-scale', repeat: 'rounds', atScale: { of: id, ...atScale } };
}

/**
 * Ids scale-step measurements were recorded under before v0.3 (ka, short,
 * crr, rr: their raw-file names), for results, baselines and resumed runs
 * from earlier versions.
 */
const LEGACY_STEP_IDS = new Map(SCALE_SCENARIOS.map((s) => [s.rawName!, s.id]));

/** The catalogue id of a measurement: a pre-v0.3 scale-step id reads as the scenario it measured. */
export function canonicalId(scenario: string, step?: number): string {
  return step !== undefined ? (LEGACY_STEP_IDS.get(scenario) ?? scenario) : scenario;
}

/** Does a recorded measurement belong to this catalogue id (at this step, or outside any step)? */
export const isMeasurementOf = (m: { scenario: string; step?: number }, id: string, step?: number): boolean =>
  m.step === step && canonicalId(m.scenario, m.step) === id;

/** The fixed-phase scenario a scale-step scenario measures again (its small-scale baseline). */
export function baselineOf(id: string): Scenario | undefined {
  const of = SCALE_SCENARIOS.find((x) => x.id === canonicalId(id, 0))?.atScale?.of;
  return of === undefined ? undefined : SCENARIOS.find((x) => x.id === of);
}

/** The 5 s iperf3 warm-up before the throughput phase (output discarded, as in the reference). */
export const WARMUP: IperfScenario = { ...iperf('warmup', 'Warm-up (5 s, 8 streams)', 'server-node', 5202, 8, { client: 'iperf-client-host' }) };

const byId = new Map<string, Scenario>([...SCENARIOS, WARMUP].map((s) => [s.id, s]));
const atScaleById = new Map<string, Scenario>(SCALE_SCENARIOS.map((s) => [s.id, s]));

/**
 * A scenario by id; with a step, its scale-step row. A pre-v0.3 step id
 * (ka, short, crr, rr) names the scale-step row too.
 */
export function scenarioById(id: string, step?: number): Scenario {
  const legacy = LEGACY_STEP_IDS.get(id);
  const s = step !== undefined || legacy ? atScaleById.get(legacy ?? id) : byId.get(id);
  if (!s) throw new Error(`unknown scenario "${id}"${step !== undefined ? ` at a scale step` : ''}`);
  return s;
}

/** The scale-step scenario the At-a-glance table and comparisons follow (short connections: the article's pivot). */
export const GLANCE_AT_SCALE: Scenario = SCALE_SCENARIOS.find((s) => s.atScale?.glance)!;

/** Scenarios of one phase, in the catalogue's order. */
export const scenariosOf = (phase: PhaseName): Scenario[] => SCENARIOS.filter((s) => s.phase === phase);

export type OverheadScenario = Scenario & { overhead: OverheadDef };
export type OverheadTreatment = Scenario & { overhead: Extract<OverheadDef, { role: 'treatment' }> };
export type OverheadBaseline = Scenario & { overhead: Extract<OverheadDef, { role: 'baseline' }> };

/** An overhead phase's configurations: its baseline and treatments, and all of them in catalogue order. */
export interface OverheadPhase {
  phase: PhaseName;
  baseline: OverheadBaseline;
  treatments: OverheadTreatment[];
  rows: OverheadScenario[];
  /** the rows the phase's summary section cannot go without */
  required: OverheadScenario[];
}

/** The overhead phases (the catalogue's rows with `overhead`), in catalogue order. */
export const OVERHEAD_PHASES: readonly OverheadPhase[] = [...new Set(SCENARIOS.filter((s) => s.overhead).map((s) => s.phase))].map((phase) => {
  const rows = SCENARIOS.filter((s): s is OverheadScenario => s.phase === phase && s.overhead !== undefined);
  const baselines = rows.filter((s): s is OverheadBaseline => s.overhead.role === 'baseline');
  if (baselines.length !== 1) throw new Error(`overhead phase ${phase}: needs exactly one baseline, has ${baselines.length}`);
  const baseline = baselines[0];
  return { phase, baseline, rows, treatments: rows.filter((s): s is OverheadTreatment => s.overhead.role === 'treatment'), required: baseline.overhead.alone ? [baseline] : rows };
});

/** An overhead phase by name (throws for a phase without overhead rows). */
export function overheadPhase(phase: PhaseName): OverheadPhase {
  const o = OVERHEAD_PHASES.find((x) => x.phase === phase);
  if (!o) throw new Error(`phase ${phase} has no overhead rows`);
  return o;
}

/**
 * Path of a measurement's raw output inside the run directory, in the
 * reference's layout. `step` is the Service count of a scale step.
 */
export function rawFile(scenario: Scenario, round: number, step?: number): string {
  // a step's measurement of a fixed-phase scenario goes to its scale-step file
  const s = step !== undefined && scenario.phase !== 'service-scale' ? scenarioById(scenario.id, step) : scenario;
  const ext = s.tool === 'netperf' ? 'txt' : 'json';
  const name = s.rawName ?? s.id;
  switch (s.phase) {
    case 'throughput':
      return s.id === 'warmup' ? `throughput/warmup.json` : `throughput/${name}_r${round}.${ext}`;
    case 'rps':
      return `rps/${name}_r${round}.${ext}`;
    case 'latency':
      // The reference ran the 1000-QPS HTTP test once into http_1k_qps.json; later rounds get their own file.
      if (s.figures?.some((f) => f.pick === 'first-round')) return round === 1 ? `latency/${name}.${ext}` : `latency/${name}_r${round}.${ext}`;
      return `latency/${name}_r${round}.${ext}`;
    case 'hubble':
    case 'networkpolicy':
      // The reference ran each configuration once into <phase>/<name>.json; later rounds get their own file.
      return round === 1 ? `${s.phase}/${name}.json` : `${s.phase}/${name}_r${round}.json`;
    case 'service-scale':
      if (step === undefined) throw new Error(`scale scenario "${s.id}" needs a step`);
      return `service-scale/${name}_at_${step}svc_r${round}.${ext}`;
    default:
      return `${s.phase}/${name}_r${round}.${ext}`;
  }
}

/**
 * The headline of one measurement as the progress display shows it:
 * "10.43 Gbps", "31,365 req/s", "p99 101 µs", "p99 1.67 ms" (a scenario
 * whose figure is picked from round 1 shows that figure).
 */
export function headlineText(s: Scenario, m: { ok: boolean; value?: number; reason?: string; figures?: Record<string, number> }): string {
  if (!m.ok) return `failed: ${m.reason}`;
  const first = s.figures?.find((f) => f.pick === 'first-round');
  if (first) return `p99 ${m.figures?.[first.figure]?.toFixed(unitDigits(first.unit))} ${first.unit}`;
  if (s.unit === 'Gbps') return `${m.value?.toFixed(2)} Gbps`;
  if (s.unit === 'µs') return `p99 ${Math.round(m.value ?? 0)} µs`;
  return `${Math.round(m.value ?? 0).toLocaleString('en-US')} req/s`;
}

/** Seconds a tool run lasts, from the config (the activity's timeout adds the exec margin). */
export function toolSeconds(s: Scenario, d: { iperfDuration: number; fortioDuration: number }): number {
  if (s.id === 'warmup') return 5;
  return s.tool === 'iperf3' ? d.iperfDuration : d.fortioDuration;
}

/** Short human label used for activity summaries and progress ("iperf3 pod-to-pod 8 streams, round 2"). */
export function scenarioLabel(s: Scenario, round: number, rounds: number, step?: number): string {
  const where = step !== undefined ? ` @${step} svc` : '';
  const r = s.repeat === 'rounds' && rounds > 1 ? `, round ${round}/${rounds}` : '';
  return `${s.tool} ${s.title}${where}${r}`;
}
