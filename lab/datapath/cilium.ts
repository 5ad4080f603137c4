/**
 * A REAL Cilium datapath (`lab up --datapath cilium-native|cilium-overlay`):
 * the real cilium-operator-generic registers Cilium's CRDs, and real
 * cilium-agents (v1.19.4, built by `scripts/setup.sh cilium`) with kube-proxy
 * replacement translate Service traffic with their BPF load balancer. No
 * kube-proxy runs.
 *
 * On the pods network (`--network pods`) there is one agent per node, in the
 * node's namespace, and the real cilium-cni makes each pod an endpoint of its
 * node's agent (lab/datapath/cilium-cni.ts, lab/README.md "Cilium on the pods
 * network"); each agent is set up as below, with the node's eth0 for its
 * devices and a cgroup of its own (AgentSite). The rest of this comment is
 * the shared network's single agent.
 *
 * What the agent is given, so that it touches nothing outside the lab:
 *   - a cgroup2 subtree `<cgroup2 mount>/nb-<lab>` holding ONLY the lab's
 *     processes (everything in the lab's network namespace is moved there
 *     before the agent starts, and again once the tool servers run; whatever
 *     kwok-controller execs inherits it). It is the agent's `--cgroup-root`,
 *     so its socket-LB programs attach there and never to the machine's root
 *     cgroup: a connect() from any other process is not translated.
 *   - a private mount namespace (`unshare --mount`, then `ip netns exec`),
 *     in which: a bpffs of its own at <state>/cilium/bpffs (`--bpf-root`;
 *     outside /sys, which `ip netns exec` remounts), the cgroup subtree
 *     bind-mounted at <state>/cilium/cgroup, <state>/cilium/run bind-mounted
 *     over /var/run/cilium (its socket, pid file and other fixed paths), and
 *     /proc/sys/kernel read-only: the agent would otherwise set the
 *     machine-wide kernel.unprivileged_bpf_disabled=1 (irreversible until
 *     reboot) and kernel.timer_migration=0; it ignores that failure. When
 *     the agent exits, its mount namespace and with it the bpffs go: every
 *     pinned map, program and cgroup link is released.
 *   - a veth pair `nbc0`/`nbc1` in the namespace for `--devices` and
 *     `--direct-routing-device` (the namespace otherwise has only `lo`);
 *   - `--lib-dir` a writable copy of the agent's bpf/ sources (it compiles
 *     them with clang-19 at start), `--state-dir` under the lab's state dir;
 *   - `K8S_NODE_NAME` = the LAST worker: the agent takes its node's podCIDR
 *     for its own endpoints (route via cilium_host), so a backend in that
 *     CIDR does not answer; netbench's server and client pods are on the
 *     first two workers.
 *
 * The objects netbench's detection reads are as on a cluster: ConfigMap
 * kube-system/cilium-config (the agent's and operator's --config-dir is
 * written from it at each start, a file per key as a ConfigMap volume
 * would), DaemonSet `cilium` (container `cilium-agent`) and Deployment
 * `cilium-operator` (kwok pods: they stand for the one real agent and
 * operator). `kubectl exec` into a cilium-agent container runs the REAL
 * `cilium-dbg`/`cilium`, `bpftool` and `hubble` inside the agent's mount and
 * network namespaces (nsenter), and `cat /proc/1/status` reads the agent's
 * own status: kwok-controller's PATH starts with <state>/cilium/exec-bin,
 * whose wrappers do that only when the lab's exec rule for the
 * `cilium-agent` container has set NETBENCH_CILIUM_AGENT_PIDFILE; in every
 * other pod they run the program that is next on PATH.
 */
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  ApiextensionsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1DaemonSet,
  type V1Deployment,
} from '@kubernetes/client-node';
import { POD_CIDR, componentVersion, labNodes, netbenchCache, type LabNetwork, type LabNode, type LabPaths } from '../config';
import { isStatus, waitFor } from '../cluster';
import { writeFileIfChanged } from '../files';
import { kwokControllerPath, readKwokctlDocs, setKwokControllerPath, writeKwokctlDocs } from '../kwokctl';
import { netnsPids } from '../netns';
import { netPaths, nodeNetns, writeNodeKubeconfig } from '../pod-network';
import { daemonState, startDaemon, stopDaemon, tailOf, logFile, type DaemonSpec } from '../procs';
import { run, runInNetns } from '../run';
import type { DatapathContext, LabDatapath } from './types';

const NS = 'kube-system';
export const AGENT = 'cilium-agent';
export const OPERATOR = 'cilium-operator';
const USAGE_AGENT = 'usage-agent';
const ROLLOUT = 'cilium-rollout';
const CRI_LOGS = 'cilium-logs';
/** The CRI-format copy of a daemon's log that kwok serves as `kubectl logs` (lab/cri-log.ts). */
export function criLogFile(p: LabPaths, id: string): string {
  return path.join(p.logDir, `${id}.cri.log`);
}
export const AGENT_CONTAINER = 'cilium-agent';
export const PIDFILE_ENV = 'NETBENCH_CILIUM_AGENT_PIDFILE';
/** The devices the agent is given (the namespace otherwise has only `lo`). */
export const VETH = ['nbc0', 'nbc1'] as const;
/** Machine-wide sysctls the agent writes (pkg/datapath/loader/base.go); kept read-only for it, checked at `lab down`. */
export const GUARDED_SYSCTLS = ['kernel/unprivileged_bpf_disabled', 'kernel/timer_migration'] as const;
/** The CRDs the agent waits for; the operator registers them. */
const KEY_CRDS = ['ciliumnetworkpolicies.cilium.io', 'ciliumidentities.cilium.io', 'ciliumnodes.cilium.io', 'ciliumendpoints.cilium.io'];

export type CiliumRouting = 'native' | 'overlay';

export function ciliumVersion(): string {
  return componentVersion('CILIUM_VERSION') || 'v1.19.4';
}
export function llvmVersion(): string {
  return componentVersion('CILIUM_LLVM_VERSION') || '19';
}

/** Where `scripts/setup.sh cilium` put the build. */
export function ciliumBuild() {
  const dir = path.join(netbenchCache(), `cilium-${ciliumVersion()}`);
  return {
    dir,
    bin: path.join(dir, 'bin'),
    agent: path.join(dir, 'bin', 'cilium-agent'),
    dbg: path.join(dir, 'bin', 'cilium-dbg'),
    operator: path.join(dir, 'bin', 'cilium-operator-generic'),
    hubble: path.join(dir, 'bin', 'hubble'),
    cni: path.join(dir, 'bin', 'cilium-cni'),
    bpf: path.join(dir, 'bpf'),
    llvmBin: `/usr/lib/llvm-${llvmVersion()}/bin`,
  };
}

/** Says what is missing for a real Cilium, and how to get it. */
export function checkCiliumBuild(): ReturnType<typeof ciliumBuild> {
  const b = ciliumBuild();
  const missing = [b.agent, b.dbg, b.operator, b.hubble, b.cni, path.join(b.bpf, 'bpf_lxc.c'), path.join(b.llvmBin, 'clang')].filter((f) => !existsSync(f));
  for (const tool of ['unshare', 'nsenter', 'bpftool', 'ipset', 'iptables', 'mount']) {
    if (!whichSync(tool)) missing.push(tool);
  }
  if (missing.length) {
    throw new Error(`a real Cilium needs what \`scripts/setup.sh cilium\` provides; missing:\n  - ${missing.join('\n  - ')}`);
  }
  return b;
}
function whichSync(bin: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, bin))) return path.join(dir, bin);
  return null;
}

/** The lab's Cilium files. */
export function ciliumPaths(p: LabPaths) {
  const dir = path.join(p.stateDir, 'cilium');
  return {
    dir,
    lib: path.join(dir, 'lib'),
    state: path.join(dir, 'state'),
    run: path.join(dir, 'run'),
    bpffs: path.join(dir, 'bpffs'),
    cgroupMount: path.join(dir, 'cgroup'),
    config: path.join(dir, 'config'),
    execBin: path.join(dir, 'exec-bin'),
    sysctls: path.join(dir, 'sysctls.json'),
    /** Created by the lab in the root mount namespace as the mount point of the agent's private /var/run/cilium. */
    runMarker: path.join(dir, 'created-run-cilium'),
    agentPid: path.join(p.pidDir, `${AGENT}.pid`),
    /** How the agent was started (argv, env), for restarts by lab/cilium-rollout.ts. */
    agentSpec: path.join(dir, 'agent-spec.json'),
    /** The ds/cilium pod template the running agent stands for. */
    seenTemplate: path.join(dir, 'agent-template.json'),
    /** Exists while the agent restarts (the exec wrappers wait for it). */
    restarting: path.join(dir, 'restarting'),
  };
}

/** The machine's cgroup2 mount (hybrid layout: /sys/fs/cgroup/unified; unified: /sys/fs/cgroup). */
export function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.split(' ')[0] === 'cgroup2') return pre!.split(' ')[4]!;
  }
  throw new Error('no cgroup2 file system is mounted: Cilium socket LB needs cgroup v2');
}

/** The lab's own cgroup2 subtree: socket LB attaches here and nowhere else. */
export function labCgroup(p: LabPaths): string {
  return path.join(cgroup2Mount(), p.netns);
}

/**
 * Where one cilium-agent runs. The shared network: one agent in the lab
 * namespace (see the file comment). The pods network: one agent per worker,
 * in the node's namespace, as on a cluster: its `--devices` is the node's
 * eth0 (the InternalIP), its `--cgroup-root` a cgroup of its own under the
 * lab's holding that node's pods' processes (so each agent's socket LB
 * translates its own node's pods), its own bpffs, run, state and lib dirs.
 */
export interface AgentSite {
  /** Daemon id (pid file and log name). */
  id: string;
  node: string;
  netns: string;
  /** Its --cgroup-root, as a path in the root mount namespace. */
  cgroup: string;
  devices: string[];
  bpffs: string;
  run: string;
  state: string;
  lib: string;
  /** Where the cgroup is bind-mounted in its mount namespace. */
  cgroupMount: string;
  pidFile: string;
}

export function agentSites(p: LabPaths, network: LabNetwork, nodes: LabNode[] = labNodes()): AgentSite[] {
  const cp = ciliumPaths(p);
  if (network === 'shared') {
    return [{
      id: AGENT,
      node: nodes[nodes.length - 1]!.name,
      netns: p.netns,
      cgroup: labCgroup(p),
      devices: [VETH[0]],
      bpffs: cp.bpffs,
      run: cp.run,
      state: cp.state,
      lib: cp.lib,
      cgroupMount: cp.cgroupMount,
      pidFile: cp.agentPid,
    }];
  }
  return nodes.map((n) => {
    const dir = path.join(cp.dir, n.name);
    const id = `${AGENT}.${n.name}`;
    return {
      id,
      node: n.name,
      netns: nodeNetns(p, n.name),
      cgroup: path.join(labCgroup(p), n.name),
      devices: ['eth0'],
      bpffs: path.join(dir, 'bpffs'),
      run: path.join(dir, 'run'),
      state: path.join(dir, 'state'),
      lib: path.join(dir, 'lib'),
      cgroupMount: path.join(dir, 'cgroup'),
      pidFile: path.join(p.pidDir, `${id}.pid`),
    };
  });
}

/** The agent socket of a site (what cilium-cni dials: CILIUM_SOCK). */
export function agentSocket(site: AgentSite): string {
  return path.join(site.run, 'cilium.sock');
}

/** cilium-config keys that differ between the two routing modes (null = absent). */
export function routingConfig(routing: CiliumRouting, network: LabNetwork = 'shared'): Record<string, string | null> {
  return routing === 'overlay'
    ? { 'routing-mode': 'tunnel', 'tunnel-protocol': 'vxlan', 'ipv4-native-routing-cidr': null, 'auto-direct-node-routes': 'false' }
    : {
        'routing-mode': 'native',
        'tunnel-protocol': null,
        'ipv4-native-routing-cidr': POD_CIDR,
        // On the pods network the nodes share one L2 segment (the lab bridge): each agent routes the
        // other nodes' podCIDRs to their InternalIPs itself (the lab adds no such route).
        'auto-direct-node-routes': network === 'pods' ? 'true' : 'false',
      };
}

/** cilium-config as a lab creates it (Helm's keys; what the lab cannot have is off, with the reason). */
export function defaultCiliumConfig(routing: CiliumRouting, network: LabNetwork = 'shared'): Record<string, string> {
  const data: Record<string, string> = {
    'cluster-name': 'default',
    'cluster-id': '0',
    'identity-allocation-mode': 'crd',
    ipam: 'kubernetes',
    'k8s-require-ipv4-pod-cidr': 'true',
    'enable-ipv4': 'true',
    'enable-ipv6': 'false',
    'kube-proxy-replacement': 'true',
    'enable-hubble': 'true',
    'hubble-socket-path': '/var/run/cilium/hubble.sock',
    // cilium-envoy (Envoy with Cilium's filters) cannot be had here: no L7 proxy, so no L7 policy.
    'enable-l7-proxy': 'false',
    // No health endpoints (no pod a kubelet would start for them); agents are not probed.
    'enable-health-checking': 'false',
    'enable-endpoint-health-checking': 'false',
    'preallocate-bpf-maps': 'false',
    // Helm's trace aggregation (the agent's own default, None, emits an event for every packet):
    // what Hubble costs on a cluster installed the usual way.
    'monitor-aggregation': 'medium',
    'monitor-aggregation-interval': '5s',
    'monitor-aggregation-flags': 'all',
    // bpf-lb-map-max deliberately absent: Cilium's default 65536 applies.
  };
  for (const [k, v] of Object.entries(routingConfig(routing, network))) if (v !== null) data[k] = v;
  return data;
}

const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The exec wrapper kwok-controller finds first on its PATH. In a
 * cilium-agent container (PIDFILE_ENV set by the lab's exec rule) the agent
 * CLI, bpftool and hubble run inside the agent's mount and network
 * namespaces, and `cat /proc/1/status` reads the agent's status; elsewhere
 * the next program of that name on PATH runs, as if this directory were not
 * there.
 */
export function execWrapperScript(restarting: string, dbg: string, hubble: string, labPath: string, fallbackPath = labPath): string {
  return `#!/bin/sh
# netbench lab: kubectl exec into a cilium-agent pod runs the REAL Cilium CLI
# against the REAL agent (written by lab/datapath/cilium.ts).
name=\${0##*/}
if [ -n "\$${PIDFILE_ENV}" ]; then
  PATH=${shq(labPath)}
  export PATH
  # While lab/cilium-rollout.ts restarts the agent, wait for it (as an exec waits for a restarted pod).
  n=0
  while [ -e ${shq(restarting)} ] && [ \$n -lt 600 ]; do sleep 0.5; n=\$((n + 1)); done
  pid=\$(cat "\$${PIDFILE_ENV}" 2>/dev/null)
  if [ -z "\$pid" ] || [ ! -e "/proc/\$pid/ns/mnt" ]; then
    echo "netbench lab: the cilium-agent process is not running (pid file \$${PIDFILE_ENV})" >&2
    exit 1
  fi
  case "\$name" in
    cilium|cilium-dbg) exec nsenter -t "\$pid" -m -n ${shq(dbg)} "\$@" ;;
    # As in the cilium image: the hubble CLI talks to the agent's own Hubble socket (there is no relay).
    hubble) HUBBLE_SERVER=unix:///var/run/cilium/hubble.sock exec nsenter -t "\$pid" -m -n ${shq(hubble)} "\$@" ;;
    bpftool) exec nsenter -t "\$pid" -m -n bpftool "\$@" ;;
    cat) if [ "\$#" -eq 1 ] && [ "\$1" = /proc/1/status ]; then exec cat "/proc/\$pid/status"; fi ;;
  esac
fi
# Every other command runs with the PATH this directory is not on (the pods network: the exec shim's first).
PATH=${shq(fallbackPath)}
export PATH
exec "\$name" "\$@"
`;
}

export const WRAPPED_COMMANDS = ['cilium', 'cilium-dbg', 'bpftool', 'hubble', 'cat'] as const;

/** The launcher of the agent: cgroup, private mounts, then the namespace and the agent. */
export function agentLauncherScript(): string {
  // Positional: $1 cgroup dir, $2 bpffs, $3 cgroup mount point, $4 run dir, $5 netns, then the agent's argv.
  return [
    'set -e',
    'echo $$ > "$1/cgroup.procs"',
    'mount -t bpf bpf "$2"',
    'mount --bind "$1" "$3"',
    'mount --bind "$4" /run/cilium',
    // Machine-wide sysctls stay the machine's: the agent ignores the failed writes.
    'mount --bind /proc/sys/kernel /proc/sys/kernel',
    'mount -o remount,bind,ro /proc/sys/kernel',
    'ns="$5"; shift 5',
    'exec ip netns exec "$ns" "$@"',
  ].join('\n');
}

export class CiliumDatapath implements LabDatapath {
  readonly kind = 'cilium';
  readonly daemonSet = 'cilium';
  readonly settings: Record<string, string>;

  constructor(
    readonly routing: CiliumRouting,
    readonly network: LabNetwork = 'shared',
  ) {
    this.settings = { datapath: `cilium-${routing}` };
  }

  preflight(): void {
    checkCiliumBuild();
  }

  sites(p: LabPaths): AgentSite[] {
    return agentSites(p, this.network);
  }

  daemonIds(p?: LabPaths): string[] {
    const agents = p ? this.sites(p).map((s) => s.id) : [AGENT];
    return [...agents, OPERATOR, USAGE_AGENT, ROLLOUT, CRI_LOGS];
  }

  patchKwokctlConfig(file: string, p: LabPaths): void {
    const cp = ciliumPaths(p);
    const { docs, exec, kwokctl } = readKwokctlDocs(file);
    if (this.network === 'shared') {
      // The pods network gives each cilium pod an Exec object of its own naming its node's agent (lab/pod-network-controller.ts).
      const catchAll = (exec.spec.execs as { containers?: string[]; local?: { workDir?: string } }[]).find((e) => !e.containers?.length);
      exec.spec.execs = [
        ...exec.spec.execs.filter((e: { containers?: string[] }) => !e.containers?.includes(AGENT_CONTAINER)),
        { containers: [AGENT_CONTAINER], local: { workDir: catchAll?.local?.workDir ?? p.execDir, envs: [{ name: PIDFILE_ENV, value: cp.agentPid }] } },
      ];
    }
    // The wrappers first, then whatever kwok-controller's PATH was (on the pods network: the exec shim's dir).
    setKwokControllerPath(kwokctl, `${cp.execBin}:${kwokControllerPath(kwokctl) ?? process.env.PATH ?? '/usr/bin:/bin'}`);
    // `kubectl logs` of the cilium-agent and cilium-operator pods: the real processes' logs, as a kubelet serves them.
    // On the pods network each cilium pod also gets a Logs object naming its own node's agent (lab/pod-network-controller.ts);
    // this rule is the fallback until it exists.
    const logs = {
      kind: 'ClusterLogs',
      apiVersion: exec.apiVersion,
      metadata: { name: 'netbench-lab-cilium-logs' },
      spec: {
        selector: { matchNamespaces: [NS] },
        logs: [
          { containers: [AGENT_CONTAINER], logsFile: criLogFile(p, this.sites(p)[0]!.id), follow: true },
          { containers: ['cilium-operator'], logsFile: criLogFile(p, OPERATOR), follow: true },
        ],
      },
    };
    writeKwokctlDocs(file, [...docs.filter((d) => !(d.kind === 'ClusterLogs' && d.metadata?.name === logs.metadata.name)), logs]);
  }

  async applyObjects(ctx: DatapathContext): Promise<void> {
    const core = ctx.kc.makeApiClient(CoreV1Api);
    const apps = ctx.kc.makeApiClient(AppsV1Api);
    const ignoreExists = (err: unknown) => {
      if (!isStatus(err, 409)) throw err;
    };
    for (const name of ['cilium', 'cilium-operator']) {
      await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name, namespace: NS } } }).catch(ignoreExists);
    }
    const cm: V1ConfigMap = { metadata: { name: 'cilium-config', namespace: NS }, data: defaultCiliumConfig(this.routing, this.network) };
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: cm });
    } catch (err) {
      ignoreExists(err);
      // Keep what netbench (or a person) changed (bpf-lb-map-max, enable-hubble); fix only the routing keys.
      const have = (await core.readNamespacedConfigMap({ namespace: NS, name: 'cilium-config' })).data ?? {};
      const want = routingConfig(this.routing, this.network);
      if (Object.entries(want).some(([k, v]) => (have[k] ?? null) !== v)) {
        await core.patchNamespacedConfigMap({ namespace: NS, name: 'cilium-config', body: { data: want } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      }
    }
    await apps.createNamespacedDaemonSet({ namespace: NS, body: agentDaemonSet() }).catch(ignoreExists);
    await apps.createNamespacedDeployment({ namespace: NS, body: operatorDeployment() }).catch(ignoreExists);
  }

  async start(ctx: DatapathContext, previous?: Record<string, string>): Promise<void> {
    const p = ctx.paths;
    const b = checkCiliumBuild();
    const cp = ciliumPaths(p);
    const sites = this.sites(p);
    for (const d of [cp.dir, cp.config, cp.execBin]) mkdirSync(d, { recursive: true });
    for (const site of sites) for (const d of [site.state, site.run, site.bpffs, site.cgroupMount]) mkdirSync(d, { recursive: true });

    // Exec wrappers first on kwok-controller's PATH (see patchKwokctlConfig); what they fall back to is the rest of it.
    const labPath = process.env.PATH ?? '/usr/bin:/bin';
    const wrapper = path.join(cp.execBin, 'wrapper');
    writeFileIfChanged(wrapper, execWrapperScript(cp.restarting, b.dbg, b.hubble, labPath, this.network === 'pods' ? `${netPaths(p).shim}:${labPath}` : labPath));
    chmodSync(wrapper, 0o755);
    for (const name of WRAPPED_COMMANDS) {
      const link = path.join(cp.execBin, name);
      if (!existsSync(link) || !lstatSync(link).isSymbolicLink()) {
        rmSync(link, { force: true });
        symlinkSync('wrapper', link);
      }
    }

    // A writable copy of the agent's BPF sources per agent (it writes probe headers into them).
    for (const site of sites) {
      if (!existsSync(path.join(site.lib, 'bpf', 'bpf_lxc.c'))) {
        rmSync(site.lib, { recursive: true, force: true });
        cpSync(b.bpf, path.join(site.lib, 'bpf'), { recursive: true });
      }
    }

    // The lab's cgroup (and, on the pods network, one per node under it).
    const cg = labCgroup(p);
    mkdirSync(cg, { recursive: true });
    for (const site of sites) mkdirSync(site.cgroup, { recursive: true });
    if (this.network === 'shared') {
      // Every lab process in the lab's cgroup.
      await this.sweepIntoCgroup(p);
      // The agent's devices.
      const links = (await run(['ip', '-n', p.netns, '-o', 'link', 'show'])).stdout;
      if (!links.includes(`${VETH[0]}@`)) {
        await run(['ip', '-n', p.netns, 'link', 'add', VETH[0], 'type', 'veth', 'peer', 'name', VETH[1]]);
      }
      for (const dev of VETH) await run(['ip', '-n', p.netns, 'link', 'set', dev, 'up']);
      // The direct-routing device needs an IPv4 address: the agent's node's InternalIP (already local on lo).
      const nodeIP = ctx.nodes.find((n) => n.name === sites[0]!.node)!.internalIP;
      const addrs = (await run(['ip', '-n', p.netns, '-4', '-o', 'addr', 'show', 'dev', VETH[0]])).stdout;
      if (!addrs.includes(`${nodeIP}/32`)) await run(['ip', '-n', p.netns, 'addr', 'add', `${nodeIP}/32`, 'dev', VETH[0]]);
    }

    // Mount point of the agent's private /var/run/cilium (made only in its mount namespace).
    // Made by a lab (this one, or another Cilium lab still up): the last Cilium lab down removes it
    // again; a /run/cilium that was there before any lab is never removed.
    const labsDir = path.dirname(p.stateDir);
    const madeByALab = readdirSync(labsDir).some((n) => existsSync(path.join(labsDir, n, 'cilium', 'created-run-cilium')));
    if (!existsSync('/run/cilium')) {
      mkdirSync('/run/cilium');
      writeFileSync(cp.runMarker, '/run/cilium\n');
    } else if (madeByALab && !existsSync(cp.runMarker)) {
      writeFileSync(cp.runMarker, '/run/cilium\n');
    }

    // Machine-wide sysctls before the agent (checked and restored at `lab down`).
    if (!existsSync(cp.sysctls)) {
      const values = Object.fromEntries(GUARDED_SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));
      writeFileSync(cp.sysctls, JSON.stringify(values, null, 2) + '\n');
    }

    const core = ctx.kc.makeApiClient(CoreV1Api);
    const data = (await core.readNamespacedConfigMap({ namespace: NS, name: 'cilium-config' })).data ?? {};
    const configChanged = writeConfigDir(cp.config, data);
    const env = { ...process.env, PATH: `${b.llvmBin}:${labPath}` };

    // kubectl logs (see patchKwokctlConfig).
    await startDaemon(p, {
      id: CRI_LOGS,
      argv: [process.execPath, path.join(import.meta.dirname, '..', 'cri-log.ts'), ...sites.flatMap((s) => [logFile(p, s.id), criLogFile(p, s.id)]), logFile(p, OPERATOR), criLogFile(p, OPERATOR)],
    });

    // The operator registers the CRDs the agents wait for (they wait by themselves: both start at once).
    await startDaemon(p, {
      id: OPERATOR,
      program: b.operator,
      argv: ['sh', '-c', 'echo $$ > "$1/cgroup.procs" && ns="$2" && shift 2 && exec ip netns exec "$ns" "$@"', 'sh', cg, p.netns,
        b.operator,
        `--config-dir=${cp.config}`,
        `--k8s-kubeconfig-path=${ctx.innerKubeconfig}`,
        '--operator-api-serve-addr=127.0.0.1:9234',
        '--enable-metrics=false',
      ],
      env,
    }, 1_000);

    const routingChanged = !!previous?.datapath && previous.datapath !== this.settings.datapath;
    if ((routingChanged || configChanged) && sites.some((site) => daemonState(p, site.id).running)) {
      ctx.onProgress(`cilium-config changed: restarting ${sites.length === 1 ? 'cilium-agent' : `the ${sites.length} cilium-agents`}`);
      await this.stopAgent(p);
    }
    if (routingChanged && this.network === 'pods') {
      // An agent does not take back the routes its routing mode installed (native: the other podCIDRs via
      // their nodes, on eth0; overlay: via cilium_host with the tunnel's MTU): as on a node that changes
      // mode, they go before the agents of the new mode install theirs.
      for (const site of sites) {
        for (const other of ctx.nodes.filter((n) => n.name !== site.node)) {
          await run(['ip', '-n', site.netns, 'route', 'del', other.podCIDR], { allowFailure: true });
        }
      }
    }
    // The agents of the pods network reach the apiserver over the node network, as a node's do.
    const agentKubeconfig = this.network === 'pods' ? writeNodeKubeconfig(p, ctx.innerKubeconfig) : ctx.innerKubeconfig;
    const agents: SiteSpec[] = sites.map((site) => ({
      site,
      spec: {
        id: site.id,
        program: b.agent,
        argv: ['unshare', '--mount', '--propagation', 'slave', 'sh', '-c', agentLauncherScript(), 'sh', site.cgroup, site.bpffs, site.cgroupMount, site.run, site.netns,
          b.agent,
          `--config-dir=${cp.config}`,
          `--k8s-kubeconfig-path=${agentKubeconfig}`,
          `--lib-dir=${site.lib}`,
          `--state-dir=${site.state}`,
          `--bpf-root=${site.bpffs}`,
          `--cgroup-root=${site.cgroupMount}`,
          `--devices=${site.devices.join(',')}`,
          `--direct-routing-device=${site.devices[0]}`,
        ],
        env: { ...env, K8S_NODE_NAME: site.node },
      },
    }));
    writeFileSync(cp.agentSpec, JSON.stringify(agents, null, 2) + '\n');
    await Promise.all(agents.map((a) => startDaemon(p, a.spec, 2_000)));
    // Here rather than before the agents: their start overlaps the operator's registration.
    const ext = ctx.kc.makeApiClient(ApiextensionsV1Api);
    await waitFor(`cilium-operator to register Cilium's CRDs (log: ${logFile(p, OPERATOR)})`, 120_000, async () => {
      for (const name of KEY_CRDS) {
        // Not there yet (404) or the apiserver busy: the error goes to waitFor, which asks again in 500 ms
        // and, on its timeout, names the last error with what never came.
        const crd = await ext.readCustomResourceDefinition({ name });
        if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
      }
      return true;
    }, 500);

    await startDaemon(p, {
      id: USAGE_AGENT,
      // Each cilium pod reports its own node's agent ({node}: the pod's node).
      argv: [process.execPath, path.join(import.meta.dirname, '..', 'usage-agent.ts'), ctx.kubeconfig,
        this.network === 'shared' ? cp.agentPid : path.join(p.pidDir, `${AGENT}.{node}.pid`), '5000', 'k8s-app=cilium'],
    });
    // `rollout restart ds/cilium` restarts the real agents (see lab/cilium-rollout.ts).
    await startDaemon(p, {
      id: ROLLOUT,
      argv: [process.execPath, '--import', import.meta.resolve('tsx'), path.join(import.meta.dirname, '..', 'cilium-rollout.ts'), p.name],
    });
  }

  /** Move every process of the lab's namespace into the lab's cgroup (children inherit it); the shared network only. */
  async sweepIntoCgroup(p: LabPaths): Promise<void> {
    const procs = path.join(labCgroup(p), 'cgroup.procs');
    for (let round = 0; round < 2; round++) {
      for (const pid of await netnsPids(p.netns)) {
        try {
          writeFileSync(procs, `${pid}\n`);
        } catch {
          // exited meanwhile
        }
      }
    }
  }

  async stopAgent(p: LabPaths): Promise<void> {
    await Promise.all(this.sites(p).map((site) => stopDaemon(p, site.id, 10_000)));
  }

  async waitReady(ctx: DatapathContext, timeoutMs: number): Promise<void> {
    const p = ctx.paths;
    // Tool servers started after start(): into the cgroup too.
    if (this.network === 'shared') await this.sweepIntoCgroup(p);
    // The agent compiles its programs at start: a minute on a busy 2-core machine.
    await waitAgentReady(p, Math.max(timeoutMs, 240_000));
  }
}

/** An agent's site and how it was started (kept in ciliumPaths().agentSpec for restarts). */
interface SiteSpec {
  site: AgentSite;
  spec: DaemonSpec;
}

function readSiteSpecs(p: LabPaths): SiteSpec[] {
  return JSON.parse(readFileSync(ciliumPaths(p).agentSpec, 'utf8')) as SiteSpec[];
}

/** cilium-config -> one file per key (what a ConfigMap volume shows the agent). True when it changed. */
export function writeConfigDir(dir: string, data: Record<string, string>): boolean {
  let changed = false;
  for (const f of readdirSync(dir)) {
    if (!(f in data)) {
      rmSync(path.join(dir, f), { force: true });
      changed = true;
    }
  }
  for (const [k, v] of Object.entries(data)) changed = writeFileIfChanged(path.join(dir, k), v) || changed;
  return changed;
}

/** Restart every agent with `data` as its cilium-config (lab/cilium-rollout.ts, on `rollout restart ds/cilium`). */
export async function restartAgent(p: LabPaths, data: Record<string, string>): Promise<void> {
  const cp = ciliumPaths(p);
  const agents = readSiteSpecs(p);
  writeConfigDir(cp.config, data);
  await Promise.all(agents.map((a) => stopDaemon(p, a.spec.id, 15_000)));
  await Promise.all(agents.map((a) => startDaemon(p, a.spec, 2_000)));
  await waitAgentReady(p, 300_000);
}

/** Every agent answers `cilium-dbg status --brief` with OK, its socket LB is attached and it has the `kubernetes` Service in its LB map. */
export async function waitAgentReady(p: LabPaths, timeoutMs: number): Promise<void> {
  const b = ciliumBuild();
  await Promise.all(readSiteSpecs(p).map(({ site }) =>
    waitFor(`the real cilium-agent${site.id === AGENT ? '' : ` of ${site.node}`} to be ready (log: ${logFile(p, site.id)})`, timeoutMs, async () => {
      const st = daemonState(p, site.id);
      if (!st.running) throw new Error(`${site.id} is not running; last log lines:\n${tailOf(logFile(p, site.id), 2000)}`);
      const pid = readFileSync(site.pidFile, 'utf8').trim();
      const status = await run(['nsenter', '-t', pid, '-m', '-n', b.dbg, 'status', '--brief'], { allowFailure: true, timeoutMs: 10_000 });
      if (!/^OK\b/m.test(status.stdout)) return false;
      // The datapath is loaded: socket LB attached to the agent's cgroup (and to no other).
      const attached = await run(['bpftool', 'cgroup', 'show', site.cgroup], { allowFailure: true });
      if (!/cil_sock4_connect/.test(attached.stdout)) return false;
      const lb = await run(['nsenter', '-t', pid, '-m', '-n', b.dbg, 'bpf', 'lb', 'list'], { allowFailure: true, timeoutMs: 30_000 });
      return /^10\.96\.0\.1:443\b/m.test(lb.stdout);
    }, 1_000),
  ));
}

export interface CiliumTeardown {
  cgroupRemoved: boolean;
  /** Machine-wide sysctls that differed from their value before the lab (restored where the kernel allows). */
  sysctlsChanged: string[];
}

/**
 * After every lab process is gone (`lab down`): the lab's cgroup, the
 * /run/cilium mount point the lab made, and the machine-wide sysctls. The
 * agent's bpffs, pins and mounts lived in its private mount namespace and
 * went with it; its devices go with the network namespace.
 */
export async function teardownCilium(p: LabPaths): Promise<CiliumTeardown> {
  const cp = ciliumPaths(p);
  const result: CiliumTeardown = { cgroupRemoved: false, sysctlsChanged: [] };
  let cg: string | null = null;
  try {
    cg = labCgroup(p);
  } catch {
    cg = null;
  }
  if (cg && existsSync(cg)) {
    // Children first (the agent may have made none; be thorough).
    const rmTree = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(path.join(dir, e.name));
      rmdirSync(dir);
    };
    for (let i = 0; i < 50; i++) {
      try {
        rmTree(cg);
        result.cgroupRemoved = true;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // processes still exiting
      }
    }
    if (!result.cgroupRemoved) {
      const left = readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean);
      throw new Error(`cannot remove the lab's cgroup ${cg}: processes ${left.join(', ')} are still in it`);
    }
  }
  // Another Cilium lab's agent has its /var/run/cilium mounted on that directory in its own mount
  // namespace (removing it would detach that mount): leave it while any other Cilium lab exists.
  const labsDir = path.dirname(p.stateDir);
  const otherCiliumLab = existsSync(labsDir) && readdirSync(labsDir).some((n) => n !== p.name && existsSync(path.join(labsDir, n, 'cilium')));
  if (existsSync(cp.runMarker) && !otherCiliumLab) {
    try {
      rmdirSync('/run/cilium');
    } catch {
      // not empty or in use by someone else: leave it
    }
  }
  if (existsSync(cp.sysctls)) {
    const before = JSON.parse(readFileSync(cp.sysctls, 'utf8')) as Record<string, string>;
    for (const [k, v] of Object.entries(before)) {
      const now = readFileSync(`/proc/sys/${k}`, 'utf8').trim();
      if (now !== v) {
        result.sysctlsChanged.push(`${k.replace('/', '.')}: ${v} -> ${now}`);
        try {
          writeFileSync(`/proc/sys/${k}`, v);
        } catch {
          // e.g. unprivileged_bpf_disabled=1 cannot be undone until reboot
        }
      }
    }
  }
  return result;
}

function agentDaemonSet(): V1DaemonSet {
  const labels = { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' };
  return {
    metadata: { name: 'cilium', namespace: NS, labels },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'cilium' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } },
      // kwok makes a replaced pod Ready at once; this keeps a rollout from being reported done before
      // lab/cilium-rollout.ts (polling every 0.5 s) has seen it and marked the real agent as restarting.
      minReadySeconds: 3,
      template: {
        metadata: { labels, annotations: { 'kubectl.kubernetes.io/default-container': AGENT_CONTAINER } },
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
              image: `quay.io/cilium/cilium:${ciliumVersion()}`,
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
    metadata: { name: 'cilium-operator', namespace: NS, labels },
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
              image: `quay.io/cilium/operator-generic:${ciliumVersion()}`,
              command: ['cilium-operator-generic'],
              args: ['--config-dir=/tmp/cilium/config-map'],
            },
          ],
        },
      },
    },
  };
}
