/**
 * The scenario catalogue: every measurement of the reference run, with the
 * summary key it feeds and the file its raw output goes to (the reference's
 * layout, so existing tooling that reads run directories keeps working).
 *
 * Pure data: imported by workflows (to plan and label) and activities (to
 * build the tool's argv and the file path).
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

interface ScenarioBase {
  /** summary key (reference-compatible) and stable id */
  id: string;
  phase: PhaseName;
  title: string;
  /** pod the tool runs in */
  client: string;
  target: TargetKind;
  port: number;
  /** repeated ROUNDS times, or run once (Hubble, NetworkPolicy, HTTP p99 as in the reference) */
  repeat: 'rounds' | 'once';
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

const iperf = (id: string, title: string, target: TargetKind, port: number, streams: number, client = 'iperf-client'): IperfScenario => ({
  id, title, phase: 'throughput', tool: 'iperf3', client, target, port, streams, repeat: 'rounds',
});
const fortio = (
  id: string, phase: PhaseName, title: string, target: TargetKind, connections: number, keepalive: boolean,
  repeat: 'rounds' | 'once' = 'rounds', qps = 0,
): FortioScenario => ({ id, title, phase, tool: 'fortio', client: 'fortio-client', target, port: 8080, connections, keepalive, qps, repeat });
const netperf = (id: string, phase: PhaseName, title: string, test: 'TCP_RR' | 'TCP_CRR'): NetperfScenario => ({
  id, title, phase, tool: 'netperf', client: 'netperf-client', target: 'netperf-server-pod', port: 12865, test, repeat: 'rounds',
});

/** Measurements of the fixed phases, in the reference's order. */
export const SCENARIOS: readonly Scenario[] = [
  // Node to node: the hostNetwork client pod on node 2 to the hostNetwork server on node 1. (The
  // reference deployed iperf-client-host but ran this test from the pod network, i.e. pod-to-node.)
  iperf('node_level_8stream', 'Node hostNet (8 streams)', 'server-node', 5202, 8, 'iperf-client-host'),
  iperf('pod2pod_single', 'Pod-to-Pod (single)', 'iperf-server-pod', 5201, 1),
  iperf('pod2pod_8stream', 'Pod-to-Pod (8 streams)', 'iperf-server-pod', 5201, 8),
  iperf('pod2pod_16stream', 'Pod-to-Pod (16 streams)', 'iperf-server-pod', 5201, 16),
  iperf('via_service_8stream', 'Via Service (8 streams)', 'iperf-service', 5201, 8),
  fortio('pod2pod_c64', 'rps', 'Pod-to-Pod c64 keepalive', 'fortio-server-pod', 64, true),
  fortio('svc_c64', 'rps', 'Via Svc c64 keepalive', 'fortio-service', 64, true),
  fortio('svc_c256', 'rps', 'Via Svc c256 keepalive', 'fortio-service', 256, true),
  fortio('svc_short_c64', 'rps', 'Via Svc c64 short conn', 'fortio-service', 64, false),
  netperf('tcp_rr', 'latency', 'TCP_RR (pod IP)', 'TCP_RR'),
  netperf('tcp_crr', 'latency', 'TCP_CRR (pod IP)', 'TCP_CRR'),
  fortio('http_1k_qps', 'latency', 'HTTP p99 @1000 QPS (c16, via Svc)', 'fortio-service', 16, true, 'rounds', 1000),
  fortio('hubble_on', 'hubble', 'Hubble ON (c64 keepalive via Svc)', 'fortio-service', 64, true, 'once'),
  fortio('hubble_off', 'hubble', 'Hubble OFF (c64 keepalive via Svc)', 'fortio-service', 64, true, 'once'),
  fortio('no_policy', 'networkpolicy', 'No policy (c64 keepalive via Svc)', 'fortio-service', 64, true, 'once'),
  fortio('l3l4_policy', 'networkpolicy', 'L3/L4 CNP applied', 'fortio-service', 64, true, 'once'),
  fortio('l7_policy', 'networkpolicy', 'L7 CNP applied (HTTP GET rule, Envoy)', 'fortio-service', 64, true, 'once'),
];

/** Measurements repeated at every Service-scale step. */
export const SCALE_SCENARIOS: readonly Scenario[] = [
  fortio('ka', 'service-scale', 'Via Svc c64 keepalive', 'fortio-service', 64, true),
  fortio('short', 'service-scale', 'Via Svc c64 short conn', 'fortio-service', 64, false),
  netperf('crr', 'service-scale', 'TCP_CRR p99 (pod IP)', 'TCP_CRR'),
  netperf('rr', 'service-scale', 'TCP_RR p99 (pod IP)', 'TCP_RR'),
];

/** The 5 s iperf3 warm-up before the throughput phase (output discarded, as in the reference). */
export const WARMUP: IperfScenario = { ...iperf('warmup', 'Warm-up (5 s, 8 streams)', 'server-node', 5202, 8, 'iperf-client-host') };

const byId = new Map<string, Scenario>([...SCENARIOS, ...SCALE_SCENARIOS, WARMUP].map((s) => [s.id, s]));
export function scenarioById(id: string): Scenario {
  const s = byId.get(id);
  if (!s) throw new Error(`unknown scenario "${id}"`);
  return s;
}

const THROUGHPUT_FILES: Record<string, string> = {
  node_level_8stream: 'node_throughput',
  pod2pod_single: 'pod2pod_single',
  pod2pod_8stream: 'pod2pod_8stream',
  pod2pod_16stream: 'pod2pod_16stream',
  via_service_8stream: 'via_service_8stream',
};

/**
 * Path of a measurement's raw output inside the run directory, in the
 * reference's layout. `step` is the Service count of a scale step.
 */
export function rawFile(s: Scenario, round: number, step?: number): string {
  const ext = s.tool === 'netperf' ? 'txt' : 'json';
  switch (s.phase) {
    case 'throughput':
      return s.id === 'warmup' ? `throughput/warmup.json` : `throughput/${THROUGHPUT_FILES[s.id]}_r${round}.${ext}`;
    case 'rps':
      return `rps/${s.id}_r${round}.${ext}`;
    case 'latency':
      // The reference ran the 1000-QPS HTTP test once into http_1k_qps.json; later rounds get their own file.
      if (s.id === 'http_1k_qps') return round === 1 ? 'latency/http_1k_qps.json' : `latency/http_1k_qps_r${round}.json`;
      return `latency/${s.id}_r${round}.${ext}`;
    case 'hubble':
      return `hubble/${s.id}.json`;
    case 'networkpolicy':
      return `networkpolicy/${s.id}.json`;
    case 'service-scale':
      if (step === undefined) throw new Error(`scale scenario "${s.id}" needs a step`);
      return `service-scale/${s.id}_at_${step}svc_r${round}.${ext}`;
    default:
      return `${s.phase}/${s.id}_r${round}.${ext}`;
  }
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
