/**
 * kube-proxy datapath: ONE real kube-proxy process in the lab's netns
 * (acting for the first worker), programming real iptables or nftables
 * rules there; with `--network pods`, one real kube-proxy per worker in that
 * worker's namespace (`kube-proxy-<node>`, reaching the apiserver at the
 * control plane's address over the node network), so a pod's Service traffic
 * is translated in its own node's PREROUTING, as it comes in from the pod's
 * veth. Plus the objects a kube-proxy cluster shows: the
 * `kube-proxy` DaemonSet (k8s-app=kube-proxy; its pods are kwok pods,
 * Running on every worker, and `kubectl exec` into them runs
 * `iptables-save`/`nft` in the netns, i.e. against the real rules) and the
 * `kube-proxy` ConfigMap with the mode.
 */
import path from 'node:path';
import { AppsV1Api, CoreV1Api, type V1ConfigMap, type V1DaemonSet } from '@kubernetes/client-node';
import { NODE_NET, POD_CIDR, type LabNetwork, type LabPaths, type ProxyMode } from '../config';
import { nodeNetns, writeNodeKubeconfig } from '../pod-network';
import { isStatus, waitFor } from '../cluster';
import { writeFileIfChanged } from '../files';
import { startDaemon, stopDaemon } from '../procs';
import { runInNetns } from '../run';
import type { DatapathContext, LabDatapath } from './types';

const NS = 'kube-system';
const DAEMON = 'kube-proxy';
const USAGE_AGENT = 'usage-agent';

/** KubeProxyConfiguration as kubeadm writes it (kube-proxy reads this exact text from its file). */
export function kubeProxyConfigYaml(mode: ProxyMode, kubeconfigPath: string): string {
  return [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    `mode: "${mode}"`,
    `clusterCIDR: "${POD_CIDR}"`,
    'bindAddress: 0.0.0.0',
    'healthzBindAddress: 127.0.0.1:10256',
    'metricsBindAddress: 127.0.0.1:10249',
    'nodePortAddresses:',
    `- "${NODE_NET}"`,
    'clientConnection:',
    `  kubeconfig: "${kubeconfigPath}"`,
    // No conntrack sysctl writes: the lab does not own the host's conntrack table.
    'conntrack:',
    '  maxPerCore: 0',
    '  tcpEstablishedTimeout: 0s',
    '  tcpCloseWaitTimeout: 0s',
    '',
  ].join('\n');
}

export class KubeProxyDatapath implements LabDatapath {
  readonly kind = 'kube-proxy';
  readonly settings: Record<string, string>;

  constructor(
    readonly mode: ProxyMode,
    readonly network: LabNetwork = 'shared',
  ) {
    this.settings = { mode };
  }

  daemonIds(): string[] {
    return [DAEMON, USAGE_AGENT];
  }

  /** Where each kube-proxy runs: the lab namespace (shared network), or each node's own. */
  private placements(ctx: DatapathContext): { id: string; netns: string; node: string }[] {
    const p = ctx.paths;
    if (this.network === 'shared') return [{ id: DAEMON, netns: p.netns, node: ctx.nodes[0]!.name }];
    return ctx.nodes.map((n) => ({ id: `${DAEMON}-${n.name}`, netns: nodeNetns(p, n.name), node: n.name }));
  }

  async applyObjects(ctx: DatapathContext): Promise<void> {
    const core = ctx.kc.makeApiClient(CoreV1Api);
    const apps = ctx.kc.makeApiClient(AppsV1Api);
    try {
      await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'kube-proxy', namespace: NS } } });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
    const conf = kubeProxyConfigYaml(this.mode, '/var/lib/kube-proxy/kubeconfig.conf');
    const cm: V1ConfigMap = {
      metadata: { name: 'kube-proxy', namespace: NS, labels: { app: 'kube-proxy' } },
      // `config.conf` is kubeadm's key; `config` is the key other distributions use. Same text.
      data: { 'config.conf': conf, config: conf },
    };
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: cm });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      await core.replaceNamespacedConfigMap({ namespace: NS, name: 'kube-proxy', body: cm });
    }
    try {
      await apps.createNamespacedDaemonSet({ namespace: NS, body: daemonSet(ctx.kubeVersion) });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
  }

  async start(ctx: DatapathContext, previous?: Record<string, string>): Promise<void> {
    const p = ctx.paths;
    const kubeProxy = ctx.bins['kube-proxy'];
    const placements = this.placements(ctx);
    if (previous?.mode && previous.mode !== this.mode) {
      ctx.onProgress(`switching kube-proxy from ${previous.mode} to ${this.mode} mode`);
      for (const k of placements) {
        await stopDaemon(p, k.id);
        // Remove the other mode's rules, as a node would on a mode change.
        await runInNetns(k.netns, [kubeProxy, '--cleanup'], { allowFailure: true });
      }
    }
    const file = path.join(p.stateDir, 'kube-proxy.yaml');
    writeFileIfChanged(file, kubeProxyConfigYaml(this.mode, this.network === 'shared' ? ctx.innerKubeconfig : writeNodeKubeconfig(p, ctx.innerKubeconfig)));
    for (const k of placements) {
      await startDaemon(p, { id: k.id, netns: k.netns, argv: [kubeProxy, `--config=${file}`, `--hostname-override=${k.node}`] });
    }
    // Real CPU/memory of that process (of each node's, on the pods network) -> pod annotations -> metrics.k8s.io (see usage-agent.ts).
    const pidFile = path.join(p.pidDir, this.network === 'shared' ? `${DAEMON}.pid` : `${DAEMON}-{node}.pid`);
    await startDaemon(p, {
      id: USAGE_AGENT,
      argv: [process.execPath, path.join(import.meta.dirname, '..', 'usage-agent.ts'), ctx.kubeconfig, pidFile],
    });
  }

  async waitReady(ctx: DatapathContext, timeoutMs: number): Promise<void> {
    // The `kubernetes` Service exists from the start: once its rule is in, kube-proxy has synced.
    for (const k of this.placements(ctx)) {
      await waitFor(`kube-proxy (${this.mode}) in ${k.netns} to program Services`, timeoutMs, async () => {
        const out = await programmedRules(k.netns, this.mode);
        // iptables comments say "default/kubernetes:https", nftables chain names "default/kubernetes/tcp/https".
        return out.includes(this.mode === 'iptables' ? 'default/kubernetes:https' : 'default/kubernetes/tcp/https');
      }, 300);
    }
  }
}

/** The rules kube-proxy wrote, as text (iptables-save or nft list). */
export async function programmedRules(netns: string, mode: ProxyMode): Promise<string> {
  const argv = mode === 'iptables' ? ['iptables-save', '-t', 'nat'] : ['nft', 'list', 'table', 'ip', 'kube-proxy'];
  return (await runInNetns(netns, argv, { allowFailure: true })).stdout;
}

function daemonSet(kubeVersion: string): V1DaemonSet {
  const labels = { 'k8s-app': 'kube-proxy' };
  return {
    metadata: { name: 'kube-proxy', namespace: NS, labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          serviceAccountName: 'kube-proxy',
          tolerations: [{ operator: 'Exists' }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          containers: [
            {
              name: 'kube-proxy',
              image: `registry.k8s.io/kube-proxy:${kubeVersion}`,
              command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              securityContext: { privileged: true },
              volumeMounts: [{ name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' }],
            },
          ],
          volumes: [{ name: 'kube-proxy', configMap: { name: 'kube-proxy' } }],
        },
      },
    },
  };
}
