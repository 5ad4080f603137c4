/**
 * Inspect the cluster: it answers, has >= 2 nodes, what datapath it runs
 * (the reference's detection order), and the context record (context.yaml).
 * Also the Cilium LB-map capacity (cilium-config bpf-lb-map-max).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { AppsV1Api, CoreV1Api, VersionApi, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { CILIUM_AGENT_SELECTOR } from '../domain/cilium-checks';
import { KUBE_PROXY_SELECTOR, type ClusterFacts, type ClusterType, type ProxyMode } from '../domain/results';
import { agentContainer } from './cilium';
import { isNotFound } from '../kube/client';
import { ciliumStatus, withAgentCli } from '../tools/cilium';
import { execInPod } from '../kube/exec';

export const DEFAULT_LB_MAP_MAX = 65536;

export interface InspectInput {
  context?: string;
  kubeconfig?: string;
  contextName: string;
  outputDir: string;
}

/** kube-proxy's mode from its ConfigMap's config (quoted or not; the reference only read the quoted form). */
export function kubeProxyModeFromConfig(config: string | undefined): 'iptables' | 'ipvs' | 'nftables' {
  const m = /^\s*mode:\s*["']?([A-Za-z]*)["']?\s*$/m.exec(config ?? '');
  const mode = (m?.[1] ?? '').toLowerCase();
  return mode === 'ipvs' ? 'ipvs' : mode === 'nftables' ? 'nftables' : 'iptables';
}

function internalIp(n: V1Node): string {
  return n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
}

export function makeClusterActivities(deps: { kubeConfig: KubeConfig }) {
  const kc = deps.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);

  async function detect(): Promise<{ type: ClusterType; mode: ProxyMode; by: string }> {
    // 1. Cilium: DaemonSet kube-system/cilium with ready pods.
    let ciliumReady = 0;
    try {
      const ds = await apps.readNamespacedDaemonSet({ name: 'cilium', namespace: 'kube-system' });
      ciliumReady = ds.status?.numberReady ?? 0;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (ciliumReady > 0) {
      const pods = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: CILIUM_AGENT_SELECTOR });
      const pod = pods.items.find((p) => p.status?.phase === 'Running');
      let tunnel = 'unknown';
      if (pod) {
        const r = await withAgentCli(ciliumStatus.argv(), (command) =>
          execInPod({ kubeConfig: kc, namespace: 'kube-system', pod: pod.metadata!.name!, container: agentContainer(pod), command, timeoutMs: 60_000 }),
        ).catch((err: Error) => {
          // Detection goes on as cilium-native; the reason stands in the detection's evidence (`by`).
          tunnel = `unknown (cilium status failed: ${err.message.slice(0, 200)})`;
          return undefined;
        });
        if (r) tunnel = ciliumStatus.parse({ stdout: r.stdout ?? '', stderr: r.stderr ?? '' });
      }
      const overlay = tunnel === 'vxlan' || tunnel === 'geneve';
      return {
        type: overlay ? 'cilium-overlay' : 'cilium-native',
        mode: 'cilium',
        by: `DaemonSet kube-system/cilium has ${ciliumReady} ready pods; cilium status tunnel: ${tunnel}`,
      };
    }
    // 2./3. kube-proxy: running pods labelled k8s-app=kube-proxy, or its ConfigMap.
    const kp = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: KUBE_PROXY_SELECTOR, fieldSelector: 'status.phase=Running' });
    let config: string | undefined;
    let cmFound = false;
    try {
      const cm = await core.readNamespacedConfigMap({ name: 'kube-proxy', namespace: 'kube-system' });
      config = cm.data?.config ?? cm.data?.['config.conf'];
      cmFound = true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (kp.items.length > 0 || cmFound) {
      const mode = kubeProxyModeFromConfig(config);
      const by = kp.items.length > 0 ? `${kp.items.length} running kube-proxy pods; ConfigMap mode: ${mode}` : `kube-proxy ConfigMap (mode: ${mode}), no running pods`;
      return { type: `kubeproxy-${mode}`, mode, by };
    }
    throw ApplicationFailure.nonRetryable(
      'unable to detect the cluster type: no ready Cilium DaemonSet (kube-system/cilium) and no kube-proxy pods or ConfigMap in kube-system',
      'UnknownClusterType',
    );
  }

  return {
    async inspectCluster(input: InspectInput): Promise<ClusterFacts> {
      const nodes = (await core.listNode()).items;
      if (nodes.length < 2) {
        throw ApplicationFailure.nonRetryable(
          `need at least 2 nodes (server and client sides must differ), found ${nodes.length}`,
          'TooFewNodes',
        );
      }
      const chosen = nodes.slice(0, 2).map((n) => ({ name: n.metadata!.name!, internalIp: internalIp(n) }));
      const { type, mode, by } = await detect();
      const version = await kc.makeApiClient(VersionApi).getCode();
      const first = nodes[0];
      const labels = first.metadata?.labels ?? {};
      const model =
        Object.entries(labels).find(([k]) => k.includes('machine-size'))?.[1] ?? labels['node.kubernetes.io/instance-type'] ?? 'unknown';
      const facts: ClusterFacts = {
        contextName: input.contextName,
        clusterType: type,
        proxyMode: mode,
        testDate: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        k8sVersion: version.gitVersion,
        nodeCount: nodes.length,
        nodeOs: first.status?.nodeInfo?.osImage ?? '',
        kernelVersion: first.status?.nodeInfo?.kernelVersion ?? '',
        nodeModel: model,
        nodes: chosen,
        detectedBy: by,
      };
      await mkdir(input.outputDir, { recursive: true });
      const yaml = [
        `cluster_name: "${facts.contextName}"`,
        `cluster_type: ${facts.clusterType}`,
        `test_date: ${facts.testDate}`,
        `k8s_version: ${facts.k8sVersion}`,
        `node_count: ${facts.nodeCount}`,
        `node_os: ${facts.nodeOs}`,
        `kernel_version: ${facts.kernelVersion}`,
        `node_model: ${facts.nodeModel}`,
        '',
      ].join('\n');
      await writeFile(path.join(input.outputDir, 'context.yaml'), yaml);
      return facts;
    },

    /** cilium-config's bpf-lb-map-max (absent = Cilium's default 65536). */
    async getLbMapMax(): Promise<number> {
      try {
        const cm = await core.readNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system' });
        const v = cm.data?.['bpf-lb-map-max'];
        const n = v === undefined || v.trim() === '' ? DEFAULT_LB_MAP_MAX : Number(v);
        if (!Number.isFinite(n) || n <= 0) throw ApplicationFailure.nonRetryable(`cilium-config bpf-lb-map-max is not a number: "${v}"`);
        return n;
      } catch (err) {
        if (isNotFound(err)) return DEFAULT_LB_MAP_MAX;
        throw err;
      }
    },
  };
}
