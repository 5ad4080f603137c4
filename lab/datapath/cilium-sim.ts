/**
 * Cilium-SIMULATOR datapath (`lab up --datapath cilium-native|cilium-overlay`):
 * a lab that netbench detects as a Cilium cluster, for testing netbench's
 * Cilium-only orchestration. It is NOT Cilium.
 *
 * Real (Kubernetes objects, reconciled by the real controllers):
 *   - CRD ciliumnetworkpolicies.cilium.io (v2, namespaced, schemaless);
 *   - ConfigMap kube-system/cilium-config (routing per mode, enable-hubble
 *     "true", no bpf-lb-map-max = Cilium's default 65536);
 *   - DaemonSet kube-system/cilium (k8s-app=cilium, container cilium-agent)
 *     on the kwok workers, Deployment kube-system/cilium-operator: rollout
 *     restarts really replace pods and the DaemonSet/Deployment controllers
 *     report it in their status;
 *   - the packets: ONE real kube-proxy process (no kube-proxy pods or
 *     ConfigMap, so detection says Cilium) keeps programming the lab
 *     namespace, so ClusterIP traffic flows as in the kube-proxy lab.
 *
 * Simulated (lab/cilium-sim/):
 *   - the agent CLI: `cilium`/`cilium-dbg`, `bpftool` and
 *     `cat /proc/1/status` exec'd in a cilium-agent container run
 *     lab/cilium-sim/client.ts, which asks the simulated agent
 *     (lab/cilium-sim/agent.ts, one daemon in the lab namespace) over a unix
 *     socket; the agent answers from the cluster's state (list+watch of
 *     Services/EndpointSlices, the pods, cilium-config as each agent
 *     started with it, the namespace's conntrack table, kube-proxy's /proc);
 *   - the agents' config lifetime and the cilium pods' resource usage.
 *
 * How exec finds the simulator: kwok-controller runs an exec's argv with Go's
 * exec.Command, which looks the program up on kwok-controller's OWN PATH (an
 * exec rule's env only reaches the child). So kwok-controller's PATH starts
 * with <state>/cilium-sim/bin, a dispatcher named cilium, cilium-dbg, bpftool
 * and cat; the lab's ClusterExec gets a rule for the `cilium-agent` container
 * that adds NETBENCH_CILIUM_SIM_SOCKET. Only with that variable does the
 * dispatcher answer; in any other pod it restores the original PATH and
 * execs the real program (or fails "not found" for cilium), so nothing else
 * is shadowed.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1CustomResourceDefinition,
  type V1DaemonSet,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { POD_CIDR, SERVICE_CIDR, type LabPaths, type ProxyMode } from '../config';
import { isStatus, waitFor } from '../cluster';
import { writeFileIfChanged } from '../files';
import { startDaemon, stopDaemon } from '../procs';
import { runInNetns } from '../run';
import { kubeProxyConfigYaml } from './kube-proxy';
import type { DatapathContext, LabDatapath } from './types';
import { AGENT_CONFIG_ANNOTATION } from '../cilium-sim/render';
import { SOCKET_ENV, askAgent } from '../cilium-sim/client';
import type { SimConfig } from '../cilium-sim/agent';

const NS = 'kube-system';
const KUBE_PROXY = 'kube-proxy';
const SIM_AGENT = 'cilium-sim-agent';
export const AGENT_CONTAINER = 'cilium-agent';
/** The "image" of the simulated pods: never pulled (kwok runs no containers), named so nobody mistakes it. */
export const SIM_IMAGE = 'netbench.dev/lab/cilium-agent-simulator:1.16.0';
const SIM_NOTE = {
  'netbench.dev/simulator':
    'netbench lab: Cilium is SIMULATED (lab/cilium-sim answers the agent CLI from cluster state; a real kube-proxy carries the packets)',
};
const SIM_DIR = path.join(import.meta.dirname, '..', 'cilium-sim');

export type CiliumRouting = 'native' | 'overlay';

/** Where the simulator's files live in a lab's state directory. */
export function simPaths(p: LabPaths) {
  const dir = path.join(p.stateDir, 'cilium-sim');
  return { dir, bin: path.join(dir, 'bin'), config: path.join(dir, 'config.json'), socket: path.join(dir, 'agent.sock') };
}

/** cilium-config keys that differ between the two modes (null = absent). */
export function routingConfig(routing: CiliumRouting): Record<string, string | null> {
  return routing === 'overlay'
    ? { 'routing-mode': 'tunnel', 'tunnel-protocol': 'vxlan', 'ipv4-native-routing-cidr': null, 'auto-direct-node-routes': null }
    : { 'routing-mode': 'native', 'tunnel-protocol': null, 'ipv4-native-routing-cidr': POD_CIDR, 'auto-direct-node-routes': 'true' };
}

function defaultConfig(routing: CiliumRouting): Record<string, string> {
  const data: Record<string, string> = {
    'cluster-name': 'default',
    'cluster-id': '0',
    'identity-allocation-mode': 'crd',
    ipam: 'kubernetes',
    'enable-ipv4': 'true',
    'enable-ipv6': 'false',
    'kube-proxy-replacement': 'true',
    'enable-hubble': 'true',
    'hubble-socket-path': '/var/run/cilium/hubble.sock',
    // bpf-lb-map-max deliberately absent: Cilium's default 65536 applies.
  };
  for (const [k, v] of Object.entries(routingConfig(routing))) if (v !== null) data[k] = v;
  return data;
}

const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The dispatcher kwok-controller finds first on its PATH (see the file comment). */
export function dispatcherScript(node: string, cli: string, originalPath: string): string {
  return `#!/bin/sh
# netbench lab: dispatcher of the Cilium agent CLI SIMULATOR (written by lab/datapath/cilium-sim.ts).
# kwok-controller's PATH starts with this directory. Only an exec in a
# cilium-agent container (the lab's ClusterExec rule sets ${SOCKET_ENV}) is
# answered by the simulator; everything else runs as if this directory
# were not on PATH.
name=\${0##*/}
if [ -n "\$${SOCKET_ENV}" ]; then
  case "\$name" in
    cilium|cilium-dbg|bpftool) exec ${shq(node)} ${shq(cli)} "\$name" "\$@" ;;
    cat) if [ "\$#" -eq 1 ] && [ "\$1" = /proc/1/status ]; then exec ${shq(node)} ${shq(cli)} cat "\$@"; fi ;;
  esac
fi
PATH=${shq(originalPath)}
export PATH
exec "\$name" "\$@"
`;
}

export const SIMULATED_COMMANDS = ['cilium', 'cilium-dbg', 'bpftool', 'cat'] as const;

export class CiliumSimDatapath implements LabDatapath {
  readonly kind = 'cilium-sim';
  readonly daemonSet = 'cilium';
  readonly settings: Record<string, string>;

  constructor(
    readonly routing: CiliumRouting,
    readonly proxyMode: ProxyMode = 'iptables',
  ) {
    // `mode` = the real kube-proxy underneath (lab status shows it as the proxy mode).
    this.settings = { datapath: `cilium-sim-${routing}`, mode: proxyMode };
  }

  daemonIds(): string[] {
    return [KUBE_PROXY, SIM_AGENT];
  }

  /**
   * Adds to the kwokctl config (JSON documents joined by `---`, as
   * lab/kwokctl.ts writes it) what only this datapath needs: the exec rule
   * for the cilium-agent container and the dispatcher directory first on
   * kwok-controller's PATH. kwokctl reads the file only when it creates the
   * cluster, which is why lab.ts refuses to switch an existing lab between
   * kube-proxy and Cilium.
   */
  patchKwokctlConfig(file: string, p: LabPaths): void {
    const sp = simPaths(p);
    const docs = readFileSync(file, 'utf8')
      .split(/\n---\n/)
      .filter((d) => d.trim())
      .map((d) => JSON.parse(d) as Record<string, any>);
    const exec = docs.find((d) => d.kind === 'ClusterExec');
    const kwokctl = docs.find((d) => d.kind === 'KwokctlConfiguration');
    if (!exec || !kwokctl) throw new Error(`${file}: no ClusterExec or KwokctlConfiguration document to extend`);
    const catchAll = (exec.spec.execs as { containers?: string[]; local?: { workDir?: string } }[]).find((e) => !e.containers?.length);
    exec.spec.execs = [
      ...exec.spec.execs.filter((e: { containers?: string[] }) => !e.containers?.includes(AGENT_CONTAINER)),
      // A container-specific target wins over the catch-all in kwok's lookup, whatever the order.
      { containers: [AGENT_CONTAINER], local: { workDir: catchAll?.local?.workDir ?? p.execDir, envs: [{ name: SOCKET_ENV, value: sp.socket }] } },
    ];
    const patches = ((kwokctl.componentsPatches ?? []) as { name: string }[]).filter((c) => c.name !== 'kwok-controller');
    patches.push({ name: 'kwok-controller', extraEnvs: [{ name: 'PATH', value: `${sp.bin}:${process.env.PATH ?? '/usr/bin:/bin'}` }] } as { name: string });
    kwokctl.componentsPatches = patches;
    writeFileIfChanged(file, docs.map((d) => JSON.stringify(d, null, 2)).join('\n---\n') + '\n');
  }

  async applyObjects(ctx: DatapathContext): Promise<void> {
    const core = ctx.kc.makeApiClient(CoreV1Api);
    const apps = ctx.kc.makeApiClient(AppsV1Api);
    const ext = ctx.kc.makeApiClient(ApiextensionsV1Api);
    const ignoreExists = (err: unknown) => {
      if (!isStatus(err, 409)) throw err;
    };
    for (const name of ['cilium', 'cilium-operator']) {
      await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name, namespace: NS } } }).catch(ignoreExists);
    }
    await ext.createCustomResourceDefinition({ body: cnpCrd() }).catch(ignoreExists);
    await waitFor('CRD ciliumnetworkpolicies.cilium.io Established', 30_000, async () => {
      const crd = await ext.readCustomResourceDefinition({ name: 'ciliumnetworkpolicies.cilium.io' });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
    const cm: V1ConfigMap = {
      metadata: { name: 'cilium-config', namespace: NS, annotations: SIM_NOTE },
      data: defaultConfig(this.routing),
    };
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: cm });
    } catch (err) {
      ignoreExists(err);
      // Keep what netbench (or a person) changed (bpf-lb-map-max, enable-hubble); fix only the routing keys.
      const have = (await core.readNamespacedConfigMap({ namespace: NS, name: 'cilium-config' })).data ?? {};
      const want = routingConfig(this.routing);
      if (Object.entries(want).some(([k, v]) => (have[k] ?? null) !== v)) {
        await core.patchNamespacedConfigMap({ namespace: NS, name: 'cilium-config', body: { data: want } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      }
    }
    await apps.createNamespacedDaemonSet({ namespace: NS, body: agentDaemonSet() }).catch(ignoreExists);
    await apps.createNamespacedDeployment({ namespace: NS, body: operatorDeployment() }).catch(ignoreExists);
  }

  async start(ctx: DatapathContext, previous?: Record<string, string>): Promise<void> {
    const p = ctx.paths;
    const sp = simPaths(p);
    mkdirSync(sp.bin, { recursive: true });
    const simConfig: SimConfig = {
      kubeconfig: ctx.innerKubeconfig,
      socket: sp.socket,
      podCIDR: POD_CIDR,
      serviceCIDR: SERVICE_CIDR,
      agentPidFile: path.join(p.pidDir, `${KUBE_PROXY}.pid`),
      // healthzBindAddress of kubeProxyConfigYaml(); its status.IPv4 appears after the first sync
      kubeProxyHealthz: 'http://127.0.0.1:10256/healthz',
    };
    writeFileIfChanged(sp.config, JSON.stringify(simConfig, null, 2) + '\n');
    const dispatcher = path.join(sp.bin, 'dispatch');
    writeFileIfChanged(dispatcher, dispatcherScript(process.execPath, path.join(SIM_DIR, 'client.ts'), process.env.PATH ?? '/usr/bin:/bin'));
    chmodSync(dispatcher, 0o755);
    for (const name of SIMULATED_COMMANDS) {
      const link = path.join(sp.bin, name);
      if (!existsSync(link) || !lstatSync(link).isSymbolicLink()) {
        rmSync(link, { force: true });
        symlinkSync('dispatch', link);
      }
    }

    // The packets: a real kube-proxy, as in the kube-proxy lab (same daemon id, same config file).
    const kubeProxy = ctx.bins['kube-proxy'];
    if (previous?.mode && previous.mode !== this.proxyMode) {
      ctx.onProgress(`switching the kube-proxy underneath from ${previous.mode} to ${this.proxyMode} mode`);
      await stopDaemon(p, KUBE_PROXY);
      await runInNetns(p.netns, [kubeProxy, '--cleanup'], { allowFailure: true });
    }
    const file = path.join(p.stateDir, 'kube-proxy.yaml');
    writeFileIfChanged(file, kubeProxyConfigYaml(this.proxyMode, ctx.innerKubeconfig));
    await startDaemon(p, {
      id: KUBE_PROXY,
      netns: p.netns,
      argv: [kubeProxy, `--config=${file}`, `--hostname-override=${ctx.nodes[0].name}`],
    });
    // In the lab namespace: `cilium bpf ct list` reads that namespace's conntrack table.
    await startDaemon(p, {
      id: SIM_AGENT,
      netns: p.netns,
      // The agent's live data is compact (~2 kB per Service); the cap keeps V8 from growing the heap far beyond it.
      argv: [process.execPath, '--max-old-space-size=512', '--import', path.join(SIM_DIR, 'resolve-ts.ts'), path.join(SIM_DIR, 'agent.ts'), sp.config],
    });

    if (previous?.datapath && previous.datapath !== this.settings.datapath) {
      // The agents read cilium-config at start: a routing change needs them restarted, as on a cluster.
      ctx.onProgress(`${previous.datapath} -> ${this.settings.datapath}: rollout restart ds/cilium`);
      await restartAgents(ctx);
    }
  }

  async waitReady(ctx: DatapathContext, timeoutMs: number): Promise<void> {
    // The agent answers __ping once it has listed Services/EndpointSlices and kube-proxy's healthz
    // says synced (cheap at any scale, unlike reading 30,000 Services' rules back).
    const socket = simPaths(ctx.paths).socket;
    await waitFor(`the simulated agent (Services listed) and kube-proxy (${this.proxyMode}) underneath`, timeoutMs, async () => {
      const r = await askAgent(socket, ['__ping'], () => {}, 5_000);
      if (r.exit !== 0) throw new Error(r.stderr.trim()); // waitFor quotes the last reason on timeout
      return true;
    }, 200);
    // Every node's agent runs with the current routing mode (after a mode switch: the restarted ones).
    const core = ctx.kc.makeApiClient(CoreV1Api);
    const routingMode = routingConfig(this.routing)['routing-mode'];
    await waitFor(`cilium agents (simulated) on ${ctx.nodes.length} nodes with routing-mode ${routingMode}`, timeoutMs, async () => {
      const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'k8s-app=cilium' })).items;
      const started = pods.filter((pod) => agentConfigOf(pod)?.['routing-mode'] === routingMode && !pod.metadata?.deletionTimestamp);
      return pods.length === ctx.nodes.length && started.length === ctx.nodes.length;
    });
  }
}

/** The cilium-config a simulated agent started with (stamped by lab/cilium-sim/agent.ts), if stamped. */
export function agentConfigOf(pod: V1Pod): Record<string, string> | undefined {
  const raw = pod.metadata?.annotations?.[AGENT_CONFIG_ANNOTATION];
  return raw ? (JSON.parse(raw) as Record<string, string>) : undefined;
}

/** `kubectl rollout restart ds/cilium`: a new template annotation, the DaemonSet controller replaces the pods. */
async function restartAgents(ctx: DatapathContext): Promise<void> {
  const apps = ctx.kc.makeApiClient(AppsV1Api);
  await apps.patchNamespacedDaemonSet(
    {
      namespace: NS,
      name: 'cilium',
      body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

function cnpCrd(): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'ciliumnetworkpolicies.cilium.io', annotations: SIM_NOTE },
    spec: {
      group: 'cilium.io',
      scope: 'Namespaced',
      names: {
        kind: 'CiliumNetworkPolicy',
        listKind: 'CiliumNetworkPolicyList',
        plural: 'ciliumnetworkpolicies',
        singular: 'ciliumnetworkpolicy',
        shortNames: ['cnp', 'ciliumnp'],
        categories: ['cilium', 'ciliumpolicy'],
      },
      versions: [
        {
          name: 'v2',
          served: true,
          storage: true,
          subresources: { status: {} },
          // Schemaless: the simulator enforces no policy, so it validates none either.
          schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
        },
      ],
    },
  };
}

function agentDaemonSet(): V1DaemonSet {
  const labels = { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' };
  return {
    metadata: { name: 'cilium', namespace: NS, labels, annotations: SIM_NOTE },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'cilium' } },
      // Cilium's chart default: two nodes at a time.
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } },
      template: {
        metadata: { labels, annotations: { 'kubectl.kubernetes.io/default-container': AGENT_CONTAINER, ...SIM_NOTE } },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          serviceAccountName: 'cilium',
          terminationGracePeriodSeconds: 1,
          tolerations: [{ operator: 'Exists' }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          containers: [
            {
              name: AGENT_CONTAINER,
              image: SIM_IMAGE,
              command: ['cilium-agent'],
              args: ['--config-dir=/tmp/cilium/config-map'],
              env: [{ name: 'K8S_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              securityContext: { privileged: true },
              volumeMounts: [{ name: 'cilium-config-path', mountPath: '/tmp/cilium/config-map', readOnly: true }],
            },
          ],
          volumes: [{ name: 'cilium-config-path', configMap: { name: 'cilium-config' } }],
        },
      },
    },
  };
}

function operatorDeployment(): V1Deployment {
  const labels = { 'io.cilium/app': 'operator', name: 'cilium-operator', 'app.kubernetes.io/part-of': 'cilium' };
  return {
    metadata: { name: 'cilium-operator', namespace: NS, labels, annotations: SIM_NOTE },
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'io.cilium/app': 'operator', name: 'cilium-operator' } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-cluster-critical',
          serviceAccountName: 'cilium-operator',
          terminationGracePeriodSeconds: 1,
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: 'cilium-operator',
              image: SIM_IMAGE.replace('agent', 'operator'),
              command: ['cilium-operator-generic'],
              args: ['--config-dir=/tmp/cilium/config-map'],
            },
          ],
        },
      },
    },
  };
}
