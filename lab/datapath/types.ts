/**
 * The seam between the lab and its datapath: a real kube-proxy (iptables or
 * nftables) in the lab's netns (kube-proxy.ts), or a real Cilium agent
 * (cilium.ts): its own Kubernetes objects (the `cilium`
 * DaemonSet, `cilium-config` ConfigMap, the CiliumNetworkPolicy CRD), its
 * own processes, its own readiness check, an exec rule for its agent
 * container; the rest of the lab (control plane, nodes, tool servers, exec)
 * does not change.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { LabNode, LabPaths } from '../config';
import type { ResolvedBins } from '../prereq';

export interface DatapathContext {
  paths: LabPaths;
  bins: ResolvedBins;
  /** kubeconfig valid inside the netns (127.0.0.1:<apiserver port>, kwokctl's file). */
  innerKubeconfig: string;
  /** The lab's user kubeconfig (root namespace, through the bridge). */
  kubeconfig: string;
  nodes: LabNode[];
  /** Client for the root namespace side (through the bridge). */
  kc: KubeConfig;
  kubeVersion: string;
  onProgress: (msg: string) => void;
}

export interface DatapathStatus {
  kind: string;
  /** e.g. { mode: 'iptables' } */
  settings: Record<string, string>;
  /** Ids of the lab daemons this datapath owns. */
  daemons: string[];
}

export interface LabDatapath {
  readonly kind: string;
  /** Settings that, when changed between two `lab up`, need a restart of the datapath. */
  readonly settings: Record<string, string>;
  /** Kubernetes objects detection looks at (DaemonSet, ConfigMap ...); idempotent. */
  applyObjects(ctx: DatapathContext): Promise<void>;
  /** Start (or keep) the real processes; idempotent. `previous` = settings of the running one, if any. */
  start(ctx: DatapathContext, previous?: Record<string, string>): Promise<void>;
  /** Resolves when the datapath has programmed the cluster's Services. */
  waitReady(ctx: DatapathContext, timeoutMs: number): Promise<void>;
  /** Daemon ids (see lab/procs.ts) owned by this datapath. */
  daemonIds(): string[];
  /** The kube-system DaemonSet `lab up` waits for (default `kube-proxy`). */
  readonly daemonSet?: string;
  /** Throws, saying what is missing, before `lab up` makes anything (a build, kwok's stages); optional. */
  preflight?(): void;
  /** Extend the kwokctl config file before the cluster is created (e.g. exec rules); optional. */
  patchKwokctlConfig?(file: string, paths: LabPaths): void;
}
