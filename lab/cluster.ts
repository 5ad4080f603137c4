/**
 * Kubernetes objects the lab creates so the cluster looks like a real one:
 * three worker Nodes (kwok "kubelets") with InternalIPs and podCIDRs, and
 * helpers to wait for the control plane, nodes and DaemonSets.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabNode } from './config';

export function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}

/** Poll `check` until it returns a truthy value; errors count as "not yet" until the deadline. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | null | false>, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

function osImage(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    return `${pretty ?? 'Linux'} (netbench lab, kwok node)`;
  } catch {
    return 'Linux (netbench lab, kwok node)';
  }
}

/** A Node as a kubelet would register it; status is kept on create, kwok fills in conditions. */
export function nodeObject(n: LabNode, kubeVersion: string): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'netbench-lab',
        'netbench.dev/lab': 'true',
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        // metrics-server reads the node's resource metrics from kwok's per-node path.
        'metrics.k8s.io/resource-metrics-path': `/metrics/nodes/${n.name}/metrics/resource`,
      },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.internalIP },
        { type: 'Hostname', address: n.name },
      ],
      capacity: { cpu: '32', memory: '64Gi', pods: '250' },
      allocatable: { cpu: '32', memory: '64Gi', pods: '250' },
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: osImage(),
        // The datapath is this machine's kernel, so say which one.
        kernelVersion: os.release(),
        kubeletVersion: kubeVersion,
        kubeProxyVersion: kubeVersion,
        containerRuntimeVersion: 'kwok://v0.8.0',
        bootID: '',
        machineID: '',
        systemUUID: '',
      },
    },
  };
}

export async function ensureNodes(kc: KubeConfig, nodes: LabNode[], kubeVersion: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const n of nodes) {
    try {
      await core.createNode({ body: nodeObject(n, kubeVersion) });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
  }
}

export function nodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function waitNodesReady(kc: KubeConfig, nodes: LabNode[], timeoutMs: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor('nodes Ready', timeoutMs, async () => {
    for (const n of nodes) {
      if (!nodeReady(await core.readNode({ name: n.name }))) return false;
    }
    return true;
  });
}

export async function waitDaemonSetReady(kc: KubeConfig, namespace: string, name: string, want: number, timeoutMs: number): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await waitFor(`DaemonSet ${namespace}/${name} ready on ${want} nodes`, timeoutMs, async () => {
    const ds = await apps.readNamespacedDaemonSet({ namespace, name });
    return (ds.status?.numberReady ?? 0) >= want;
  });
}

/** The apiserver answers /readyz. */
export async function waitApiserver(kc: KubeConfig, timeoutMs: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor('kube-apiserver', timeoutMs, async () => {
    await core.listNamespace({ limit: 1 });
    return true;
  });
}
