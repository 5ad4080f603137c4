/**
 * A typed, defensive view of a benchmark-summary.json object (what
 * buildSummary returns, or a file the reference or an older netbench wrote).
 * Every field is optional: a reference file has no `netbench` block, a
 * kube-proxy run has no `hubble`, a failed phase leaves keys out. Renderers
 * read the summary only through this view, so a missing key renders as a
 * missing value instead of throwing.
 */
import type { PhaseName } from '../config';
import type { Scenario } from '../domain/scenarios';

export interface ThroughputEntry {
  gbps: number[];
  avg: number;
}
export interface RpsEntry {
  qps: number[];
  avg_qps: number;
}
export interface StepEntry {
  svc_count: number;
  keepalive_qps?: number;
  keepalive_degradation_pct?: number;
  short_conn_qps?: number;
  short_conn_degradation_pct?: number;
  tcp_crr_p99_us?: number;
  tcp_rr_p99_us?: number;
  rules_count?: number;
  kube_services_chain?: number;
  datapath_convergence?: { metric: string; expected: number; observed: number; converged: boolean; seconds: number; reason?: string };
  create?: { created: number; existed: number; seconds: number; per_second: number };
}
export interface ResourceEntry {
  avg_cpu_m: number;
  max_cpu_m: number;
  avg_mem_mb: number;
  max_mem_mb: number;
  pods_sampled: number;
}
export interface BpfMapsEntry {
  total_bytes: number;
  map_count: number;
  top_maps: { name: string; bytes: number; max_entries: number }[];
  total_mb: number;
}
export interface FailureEntry {
  scenario: string;
  step?: number;
  round?: number;
  file?: string;
  reason: string;
}
export interface NetbenchBlock {
  status?: string;
  failure?: string;
  proxy_mode?: string;
  trusted?: boolean;
  untrusted_reason?: string;
  lb_map?: { current: number; needed: number; proposed?: number; decision: string; decidedBy?: string; applied: boolean; after?: number; reason?: string };
  phases?: { phase: string; status: string; reason?: string }[];
  failures?: FailureEntry[];
  /** scenarios not attempted, each with why (the datapath had nothing to act on) */
  not_measured?: { scenario: string; round?: number; reason: string }[];
  confidence_intervals?: Record<string, { n: number; mean: number; ci95: number }>;
  regression?: {
    baseline_workflow_id: string | null;
    reason?: string;
    tolerance_pct: number;
    compared: number;
    regressions: RegressionEntry[];
    improvements: RegressionEntry[];
  };
}

export interface RegressionEntry {
  metric: string;
  label: string;
  unit: string;
  baseline: number;
  current: number;
  change_pct: number;
  basis: 'ci95' | 'tolerance';
}

export interface SummaryView {
  cluster: Partial<Record<'cluster_name' | 'cluster_type' | 'test_date' | 'k8s_version' | 'node_count' | 'node_os' | 'kernel_version' | 'node_model', string>>;
  throughput: Record<string, ThroughputEntry>;
  rps: Record<string, RpsEntry>;
  latency: Partial<Record<'tcp_rr_p50_us' | 'tcp_rr_p99_us' | 'tcp_crr_p99_us' | 'http_p99_1k_qps_ms', number>>;
  service_scale: { keepalive_baseline_qps?: number; short_conn_baseline_qps?: number; endpoints_per_svc?: number; steps?: StepEntry[] };
  resources: { kubeproxy?: ResourceEntry; cilium_agent?: ResourceEntry; bpf_maps?: BpfMapsEntry; cilium_agent_rss_mb?: number };
  netbench?: NetbenchBlock;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Read a summary object; absent top-level sections become empty objects (as the reference always writes them). */
export function viewSummary(summary: Record<string, unknown>): SummaryView {
  const s = obj(summary);
  return {
    ...(s as unknown as SummaryView),
    cluster: obj(s.cluster) as SummaryView['cluster'],
    throughput: obj(s.throughput) as SummaryView['throughput'],
    rps: obj(s.rps) as SummaryView['rps'],
    latency: obj(s.latency) as SummaryView['latency'],
    service_scale: obj(s.service_scale) as SummaryView['service_scale'],
    resources: obj(s.resources) as SummaryView['resources'],
  };
}

/**
 * An overhead phase's section (`hubble`, `networkpolicy`): figures by the
 * keys the catalogue's overhead rows give; undefined when the summary has none.
 */
export function overheadOf(v: SummaryView, phase: PhaseName): Partial<Record<string, number>> | undefined {
  const section = (v as unknown as Record<string, unknown>)[phase];
  return section && typeof section === 'object' && !Array.isArray(section) ? (section as Partial<Record<string, number>>) : undefined;
}

/** A scale-step row's label inside a sentence: "Short-conn RPS" reads "short-conn RPS"; "TCP_CRR p99" stays as it is. */
export const inSentence = (label: string): string => (/^[A-Z][a-z]/.test(label) ? label[0].toLowerCase() + label.slice(1) : label);

/**
 * A scale-step row's figures in a step entry, under the catalogue's keys
 * (atScale): an RPS row's req/s and its change against the baseline, a
 * latency row's p99.
 */
export function stepFigures(st: StepEntry | undefined, s: Scenario): { value?: number; pct?: number } {
  const a = s.atScale!;
  const e = st as Partial<Record<string, number>> | undefined;
  return a.baselineKey ? { value: e?.[`${a.summaryKey}_qps`], pct: e?.[`${a.summaryKey}_degradation_pct`] } : { value: e?.[a.summaryKey] };
}

/** An RPS scale-step row's small-scale baseline (service_scale.<baselineKey>); undefined for a latency row. */
export const stepBaseline = (v: SummaryView, s: Scenario): number | undefined =>
  s.atScale?.baselineKey ? (v.service_scale as Partial<Record<string, number>>)[s.atScale.baselineKey] : undefined;

/** True when the run's cluster type says Cilium (Hubble, NetworkPolicy and BPF maps apply). */
export const isCiliumType = (t: string | undefined): boolean => !!t && t.startsWith('cilium');

const LABELS: Record<string, string> = {
  'kubeproxy-iptables': 'iptables',
  'kubeproxy-ipvs': 'IPVS',
  'kubeproxy-nftables': 'nftables',
  'cilium-native': 'Cilium Native',
  'cilium-overlay': 'Cilium Overlay',
};
/** The article's short name of a datapath: "iptables", "Cilium Native", ... */
export const clusterLabel = (t: string | undefined): string => (t ? (LABELS[t] ?? t) : 'cluster');
