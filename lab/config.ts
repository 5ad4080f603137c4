/**
 * The lab's fixed shape: names, address plan and where its state lives.
 *
 * Address plan (all of it exists only inside the lab's network namespace;
 * the root namespace never gets a route to any of these ranges):
 *
 *   10.240.0.0/24   "node network": an address on the netns' lo, so the whole
 *                   /24 is local. 10.240.0.1 = control plane (apiserver's
 *                   advertise address), 10.240.0.11.. = worker InternalIPs.
 *   10.244.0.0/16   pod CIDR, a `local` route on lo: every pod IP answers.
 *                   Worker n gets podCIDR 10.244.n.0/24; 10.244.0.1 is the
 *                   source address of connections to Services (as if sent
 *                   from a pod, so kube-proxy does not masquerade them).
 *   10.96.0.0/16    Service CIDR (room for 65k ClusterIPs), routed to lo but
 *                   NOT local: a ClusterIP only answers once kube-proxy's
 *                   DNAT rule for it exists.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type ProxyMode = 'iptables' | 'nftables';

/** The lab's datapath: kube-proxy, or a real Cilium agent in one of its routing modes. */
export const DATAPATH_NAMES = ['kube-proxy', 'cilium-native', 'cilium-overlay'] as const;
export type DatapathName = (typeof DATAPATH_NAMES)[number];

/**
 * The lab's network: `pods` (default) = each worker node and each pod has a
 * network namespace of its own (lab/pod-network.ts), so packets take a node's
 * path; `shared` = every pod and node is a process in the one lab namespace,
 * pod IPs are local on its `lo` (the first lab, kept for its lighter footprint).
 */
export const NETWORK_NAMES = ['pods', 'shared'] as const;
export type LabNetwork = (typeof NETWORK_NAMES)[number];
export const DEFAULT_NETWORK: LabNetwork = 'pods';
/** A lab state written before the network was recorded ran the shared network. */
export const UNRECORDED_NETWORK: LabNetwork = 'shared';

export const NODE_NET = '10.240.0.0/24';
export const CONTROL_PLANE_IP = '10.240.0.1';
export const POD_CIDR = '10.244.0.0/16';
export const SERVICE_SOURCE_IP = '10.244.0.1';
export const SERVICE_CIDR = '10.96.0.0/16';
export const WORKER_COUNT = 3;

export interface LabNode {
  name: string;
  internalIP: string;
  podCIDR: string;
}

/** The simulated workers, in the order netbench picks them (server = first). */
export function labNodes(): LabNode[] {
  return Array.from({ length: WORKER_COUNT }, (_, i) => ({
    name: `worker-${i + 1}`,
    internalIP: `10.240.0.${11 + i}`,
    podCIDR: `10.244.${i + 1}.0/24`,
  }));
}

/** Servers the benchmark workloads declare; started as real processes in the netns. */
export const TOOL_PORTS = {
  iperfPod: 5201,
  iperfHost: 5202,
  netperf: 12865,
  fortioServer: 8080,
  fortioClientRest: 9999,
} as const;

const NAME_RE = /^[a-z][a-z0-9-]{0,11}$/;

export function checkLabName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new Error(`lab name "${name}" is invalid: use 1-12 of [a-z0-9-], starting with a letter`);
  }
  return name;
}

/** Every path and name derived from a lab name. */
export interface LabPaths {
  name: string;
  /** Network namespace (also the kwokctl cluster name). */
  netns: string;
  /** kube context name written to the lab's kubeconfig. */
  context: string;
  stateDir: string;
  /** kwokctl's workdir (KWOK_WORKDIR); the cluster lives in clusters/<netns>. */
  kwokWorkdir: string;
  clusterDir: string;
  /** kwokctl's own kubeconfig (valid inside the netns and, via the bridge, outside). */
  innerKubeconfig: string;
  /** The kubeconfig handed to users: embedded credentials, context `context`. */
  kubeconfig: string;
  pidDir: string;
  logDir: string;
  /** Working directory of every `kubectl exec` (shared by all simulated pods). */
  execDir: string;
  /** Unix socket the two bridge halves talk over. */
  bridgeSocket: string;
  /** JSON record of what `lab up` decided (ports, proxy mode). */
  stateFile: string;
  /** `--network pods`: sandbox records, ready markers, the exec shim (lab/pod-network.ts). */
  netDir: string;
}

/** A component version: the environment (as scripts/env.sh exports it), else scripts/versions.env (the one place it is written). */
export function componentVersion(key: string): string | undefined {
  if (process.env[key]) return process.env[key];
  try {
    const text = readFileSync(path.join(import.meta.dirname, '..', 'scripts', 'versions.env'), 'utf8');
    return new RegExp(`^${key}=(\\S+)`, 'm').exec(text)?.[1];
  } catch {
    return undefined;
  }
}

export function netbenchCache(): string {
  return process.env.NETBENCH_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'netbench');
}

export function labPaths(name = 'lab'): LabPaths {
  checkLabName(name);
  const stateDir = path.join(netbenchCache(), 'lab', name);
  const netns = `nb-${name}`;
  const kwokWorkdir = path.join(stateDir, 'kwok');
  return {
    name,
    netns,
    context: name === 'lab' ? 'netbench-lab' : `netbench-lab-${name}`,
    stateDir,
    kwokWorkdir,
    clusterDir: path.join(kwokWorkdir, 'clusters', netns),
    innerKubeconfig: path.join(kwokWorkdir, 'clusters', netns, 'kubeconfig.yaml'),
    kubeconfig: path.join(stateDir, 'kubeconfig'),
    pidDir: path.join(stateDir, 'pids'),
    logDir: path.join(stateDir, 'logs'),
    execDir: path.join(stateDir, 'exec'),
    bridgeSocket: path.join(stateDir, 'apiserver.sock'),
    stateFile: path.join(stateDir, 'lab.json'),
    netDir: path.join(stateDir, 'net'),
  };
}
