/**
 * What a run records: small, parsed figures only (raw tool output stays in
 * files under the run directory). This is the workflow's result and the
 * input of every rendering (summary.json, report.md, comparisons), so a run
 * directory's `netbench-results.json` regenerates every report.
 */
import type { PhaseName, RunOptions } from '../config';

export type ClusterType = 'cilium-overlay' | 'cilium-native' | 'kubeproxy-ipvs' | 'kubeproxy-iptables' | 'kubeproxy-nftables';
export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'cilium';
/** kube-proxy's pods in kube-system, by the label kubeadm and most installers give them (Cilium's: CILIUM_AGENT_SELECTOR). */
export const KUBE_PROXY_SELECTOR = 'k8s-app=kube-proxy';

export interface NodeFacts {
  name: string;
  internalIp: string;
}

export interface ClusterFacts {
  contextName: string;
  clusterType: ClusterType;
  proxyMode: ProxyMode;
  testDate: string;
  k8sVersion: string;
  nodeCount: number;
  nodeOs: string;
  kernelVersion: string;
  nodeModel: string;
  /** first = server side, second = client side */
  nodes: NodeFacts[];
  /** how the type was decided, for the report */
  detectedBy: string;
}

/** One tool run: its headline figure, or the reason it has none. */
export interface Measurement {
  scenario: string;
  round: number;
  /** Service count of the scale step, when measured inside one */
  step?: number;
  ok: boolean;
  /**
   * Not attempted, on purpose: the datapath had nothing to act on (no Cilium
   * endpoint for the benchmark pods, a policy the agent refused). `reason`
   * says why; there is no figure and no raw file. Not a failure.
   */
  notMeasured?: boolean;
  /** headline: Gbps (iperf3), req/s (fortio), p99 µs (netperf) */
  value?: number;
  /** every parsed figure (p50Us, p99Ms, retransmits, ...) */
  figures?: Record<string, number>;
  reason?: string;
  /** raw output, relative to the run directory */
  file: string;
  seconds?: number;
  attempts?: number;
  /** measured by this earlier run and adopted when this run resumed it */
  adoptedFrom?: string;
}

/** A failed measurement: not ok, and not one left out on purpose (`notMeasured` is not a failure). */
export const isFailure = (m: Measurement): boolean => !m.ok && !m.notMeasured;

export interface Convergence {
  /** what was counted: KUBE-SERVICES rules, nftables service-ips elements, Cilium LB entries, IPVS services */
  metric: 'kube-services-rules' | 'nft-service-ips' | 'lb-entries' | 'ipvs-services' | 'none';
  expected: number;
  observed: number;
  converged: boolean;
  /** seconds from the last object created to the datapath showing all of them */
  seconds: number;
  reason?: string;
}

export interface ScaleStepResult {
  svcCount: number;
  created: number;
  existed: number;
  createSeconds: number;
  createRatePerSec: number;
  convergence: Convergence;
  /** total iptables-save lines (iptables) or LB entries lines (Cilium), as the reference's rules_count */
  rulesCount?: number;
  /** -A KUBE-SERVICES rules in the nat table (iptables) */
  kubeServicesChain?: number;
  measurements: Measurement[];
  /** measured by this earlier run and adopted when this run resumed it */
  adoptedFrom?: string;
  /** round sleeps inside the step (durable timers) */
  pauseSeconds?: number;
}

export interface ResourceStats {
  component: 'kubeproxy' | 'cilium_agent';
  avgCpuM: number;
  maxCpuM: number;
  avgMemMb: number;
  maxMemMb: number;
  podsSampled: number;
  samples: number;
}

export interface BpfMapsSummary {
  totalBytes: number;
  mapCount: number;
  topMaps: { name: string; bytes: number; maxEntries: number }[];
  totalMb: number;
}

export interface ComponentMetrics {
  bpfMaps?: BpfMapsSummary;
  agentRssMb?: number;
  lbEntries?: number;
  ctEntries?: number;
  identities?: number;
  iptablesRules?: number;
  ipvsRules?: number;
  nftServiceIps?: number;
  /** each collection that failed, with its reason */
  failures: { what: string; reason: string }[];
}

/**
 * Where a phase's (or a scale step's) wall time went, from the workflow's own
 * records: the tools running (and the resource sampling), creating and
 * deleting what the run puts in the cluster (test workloads, dummy
 * Services), waiting for the datapath to converge, durable pauses (round
 * sleeps, settle pauses, an approval), and the rest: orchestration
 * (activity scheduling, retries, cluster calls between the steps).
 */
export interface TimelineEntry {
  /** a phase, or `service-scale @N` for one scale step */
  name: string;
  startedAt: string;
  seconds: number;
  toolSeconds: number;
  /** creating and deleting the test workloads and dummy Services */
  createSeconds: number;
  convergeSeconds: number;
  pauseSeconds: number;
}

export interface UndoRecord {
  what: string;
  ok: boolean;
  reason?: string;
  /** what to do by hand when it failed */
  manual?: string;
}

export interface LbMapCheck {
  current: number;
  needed: number;
  proposed?: number;
  decision: 'not-needed' | 'auto' | 'approved' | 'declined' | 'timed-out' | 'failed';
  decidedBy?: string;
  applied: boolean;
  after?: number;
  reason?: string;
}

export interface PhaseRecord {
  phase: PhaseName;
  status: 'done' | 'skipped' | 'failed' | 'cancelled';
  reason?: string;
}

export interface RunResults {
  schema: 'netbench/run-results@1';
  workflowId: string;
  runId: string;
  startedAt: string;
  finishedAt?: string;
  status: 'completed' | 'cancelled' | 'failed';
  failure?: string;
  /**
   * What netbench changed in the cluster and put back at the end (Hubble,
   * policies, the LB-map size), each with its outcome; a failed one carries
   * what the user must do by hand.
   */
  undo?: UndoRecord[];
  /** this run resumed an earlier one: what it adopted from it */
  resumedFrom?: import('./resume').ResumeRecord;
  /** each phase and scale step's wall time, split by what it was spent on */
  timeline?: TimelineEntry[];
  /** the worker could not write the report files (the CLI writes them instead, and says so) */
  reportFailure?: string;
  options: RunOptions;
  outputDir: string;
  cluster?: ClusterFacts;
  phases: PhaseRecord[];
  measurements: Measurement[];
  scale: {
    endpointsPerSvc: number;
    steps: ScaleStepResult[];
    lbMap?: LbMapCheck;
    /** false when a needed LB-map fix was declined: large-scale results may be forwarding failures */
    trusted: boolean;
    untrustedReason?: string;
  };
  resources: ResourceStats[];
  component?: ComponentMetrics;
  cleanup?: {
    done: boolean;
    skipped: boolean;
    reason?: string;
    /** namespaces that existed before the run (--use-existing-ns): kept, only netbench's objects removed */
    kept?: { namespace: string; removedObjects: number }[];
  };
  /** comparison with the previous run of the same cluster and plan (or a pinned baseline) */
  regression?: RegressionReport;
}

/** One headline figure that changed beyond the noise (domain/regression.ts decides). */
export interface Change {
  key: string;
  label: string;
  unit: string;
  baseline: number;
  current: number;
  changePct: number;
  basis: 'ci95' | 'tolerance';
}

/** The run's comparison with a baseline run: part of the record, computed by domain/regression.ts. */
export interface RegressionReport {
  baselineWorkflowId?: string;
  baselineStartedAt?: string;
  /** why there is no comparison (first run of this plan, baseline not found, ...) */
  reason?: string;
  tolerancePct: number;
  regressions: Change[];
  improvements: Change[];
  compared: number;
}
