/**
 * `lab up | down | status`: a local stand-in for a 3-worker kube-proxy
 * cluster (or, with `--datapath cilium-native|cilium-overlay`, a real Cilium
 * agent in place of kube-proxy: lab/datapath/cilium.ts). See lab/README.md for the
 * picture; in short:
 *
 *   - a network namespace (nb-<name>) with only a loopback device;
 *   - inside it, a real control plane made by kwokctl (binary runtime),
 *     kwok-controller simulating three workers, metrics-server, a real
 *     kube-proxy, and the real tool servers (iperf3, netserver, fortio);
 *   - a bridge that exposes the apiserver on 127.0.0.1:<port> in the root
 *     namespace, so netbench and kubectl use the lab's kubeconfig like any
 *     other cluster's.
 *
 * Every step is idempotent: `lab up` twice keeps what runs and fixes what
 * does not. `lab down` removes every process, the namespace and the state.
 */
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiregistrationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  DEFAULT_NETWORK,
  NODE_NET,
  POD_CIDR,
  UNRECORDED_NETWORK,
  SERVICE_CIDR,
  TOOL_PORTS,
  labNodes,
  labPaths,
  type DatapathName,
  type LabNetwork,
  type LabNode,
  type LabPaths,
  type ProxyMode,
} from './config';
import { ensureNodes, waitApiserver, waitDaemonSetReady, waitFor, waitNodesReady } from './cluster';
import { KubeProxyDatapath } from './datapath/kube-proxy';
import { CiliumDatapath, teardownCilium } from './datapath/cilium';
import type { DatapathContext, LabDatapath } from './datapath/types';
import { kwokctlCreate, kwokctlDelete, writeKwokctlConfig } from './kwokctl';
import { commOf, deleteNetns, ensureNetns, loopbackShape, netnsExists, netnsPids, shapeLoopback } from './netns';
import { ensureLabBridge, ensureNodeNetwork, labChildNetns, netPaths, nodeLinkShape, podLinkShape, podLinks, shapeNodeLink, shapePodLink } from './pod-network';
import { patchKwokctlForPods, writeExecShim } from './exec-shim';
import { checkPrerequisites, type ResolvedBins } from './prereq';
import { daemonState, knownDaemons, processArgv0, startDaemon, stopDaemon, stopPid, type DaemonState } from './procs';
import { run } from './run';
import { writeFileIfChanged } from './files';
import { startToolServers, stopToolServers } from './tool-servers';
import { cniPodStages } from './datapath/kwok-stages';

export type { DatapathName, LabNetwork, ProxyMode } from './config';

export interface LabOptions {
  /** Lab name (default `lab`): namespace `nb-<name>`, state in ${NETBENCH_CACHE}/lab/<name>. */
  name?: string;
  /** kube-proxy mode (default iptables); with a Cilium datapath, the mode of the real kube-proxy underneath. */
  proxyMode?: ProxyMode;
  /** kube-proxy (default), or a real Cilium in native or overlay routing (lab/datapath/cilium.ts). */
  datapath?: DatapathName;
  /**
   * `pods` (DEFAULT_NETWORK; a lab already up keeps its own): each worker
   * and each pod has a network namespace of its own (lab/pod-network.ts);
   * with Cilium, one agent per node and the real cilium-cni per pod
   * (lab/datapath/cilium.ts). `shared`: every pod is a process in the one
   * lab namespace.
   */
  network?: LabNetwork;
  onProgress?: (msg: string) => void;
}

export interface LabInfo {
  name: string;
  /** kubeconfig for the root namespace (embedded credentials). */
  kubeconfigPath: string;
  context: string;
  /** https://127.0.0.1:<port> */
  server: string;
  netns: string;
  network: LabNetwork;
  datapath: { kind: string; settings: Record<string, string> };
  proxyMode: ProxyMode;
  nodes: LabNode[];
  serviceCIDR: string;
  podCIDR: string;
  nodeNetwork: string;
  toolPorts: typeof TOOL_PORTS;
  stateDir: string;
  logDir: string;
  /** Working directory of every `kubectl exec` into a lab pod. */
  execDir: string;
  /** How long this `lab up` took. */
  upMs: number;
}

export interface LabStatus {
  name: string;
  /** State directory exists. */
  exists: boolean;
  netns: string;
  netnsExists: boolean;
  apiserverReady: boolean;
  kubeconfigPath: string | null;
  proxyMode: ProxyMode | null;
  /** What `lab up` set up (kind and settings), null when unknown. */
  datapath: { kind: string; settings: Record<string, string> } | null;
  network: LabNetwork | null;
  /** The nodes' and pods' own namespaces (`--network pods`). */
  childNetns: string[];
  /** Every lab process (own daemons and kwokctl's components) and whether it runs. */
  processes: DaemonState[];
  /** Processes in the namespace that no pid file accounts for (e.g. a tool still running after its exec ended). */
  strayPids: { pid: number; comm: string }[];
  /** The bandwidth cap `lab shape` put on the datapath ("500Mbit"), or null; on the pods network, on which node links ("500Mbit on worker-1"). */
  shape: string | null;
}

interface SavedState {
  apiserverPort: number;
  /** Absent in labs made before `--network` existed: shared. */
  network?: LabNetwork;
  datapath: { kind: string; settings: Record<string, string> };
  kubeVersion: string;
}

const BRIDGE_HOST = 'bridge-host';
const BRIDGE_NETNS = 'bridge-netns';
/** `--network pods`: lab/pod-network-controller.ts. */
const POD_NETWORK = 'pod-network';

function makeDatapath(name: DatapathName, mode: ProxyMode, network: LabNetwork): LabDatapath {
  if (name === 'cilium-native') return new CiliumDatapath('native', network);
  if (name === 'cilium-overlay') return new CiliumDatapath('overlay', network);
  return new KubeProxyDatapath(mode, network);
}

function savedDatapathName(saved: SavedState | null): DatapathName | undefined {
  if (!saved) return undefined;
  return saved.datapath.kind === 'kube-proxy' ? 'kube-proxy' : (saved.datapath.settings.datapath as DatapathName | undefined);
}

function readState(p: LabPaths): SavedState | null {
  try {
    return JSON.parse(readFileSync(p.stateFile, 'utf8')) as SavedState;
  } catch {
    return null;
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** One lab command at a time per lab (two `up`s racing would fight over ports and pids). */
function lock(p: LabPaths): () => void {
  mkdirSync(p.stateDir, { recursive: true });
  const file = path.join(p.stateDir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch {
      const holder = Number.parseInt(readFileSync(file, 'utf8') || '0', 10);
      if (holder > 1 && holder !== process.pid && processArgv0(holder) !== null) {
        throw new Error(`another lab command (pid ${holder}) is working on lab "${p.name}"`);
      }
      rmSync(file, { force: true }); // stale lock of a dead process
    }
  }
  throw new Error(`could not lock ${file}`);
}

async function kubeVersionOf(bins: ResolvedBins): Promise<string> {
  const { stdout } = await run([bins['kube-apiserver'], '--version']);
  return /v\d+\.\d+\.\d+\S*/.exec(stdout)?.[0] ?? 'v0.0.0';
}

/** The user's kubeconfig: credentials embedded, one context named after the lab. */
function writeUserKubeconfig(p: LabPaths, server: string): void {
  const pki = path.join(p.clusterDir, 'pki');
  const b64 = (f: string) => readFileSync(path.join(pki, f)).toString('base64');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: p.context, server, caData: b64('ca.crt'), skipTLSVerify: false }],
    users: [{ name: `${p.context}-admin`, certData: b64('admin.crt'), keyData: b64('admin.key') }],
    contexts: [{ name: p.context, cluster: p.context, user: `${p.context}-admin` }],
    currentContext: p.context,
  });
  writeFileIfChanged(p.kubeconfig, kc.exportConfig(), 0o600);
}

export async function labUp(opts: LabOptions = {}): Promise<LabInfo> {
  const started = Date.now();
  const p = labPaths(opts.name ?? 'lab');
  const say = (msg: string) => opts.onProgress?.(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
  const bins = checkPrerequisites();
  const unlock = lock(p);
  try {
    const saved = readState(p);
    const mode: ProxyMode = opts.proxyMode ?? (saved?.datapath.settings.mode as ProxyMode | undefined) ?? 'iptables';
    const network: LabNetwork = opts.network ?? (saved ? (saved.network ?? UNRECORDED_NETWORK) : DEFAULT_NETWORK);
    const datapath = makeDatapath(opts.datapath ?? savedDatapathName(saved) ?? 'kube-proxy', mode, network);
    if (saved && (saved.network ?? UNRECORDED_NETWORK) !== network) {
      throw new Error(`lab "${p.name}" runs the ${saved.network ?? UNRECORDED_NETWORK} network; run \`lab down --name ${p.name}\` before switching to --network ${network}`);
    }
    datapath.preflight?.();
    if (network === 'pods') cniPodStages(); // kwok's own stage documents are there (else: what to run)
    if (saved && saved.datapath.kind !== datapath.kind) {
      // kwok's exec rules and kwok-controller's environment are fixed when kwokctl creates the cluster.
      throw new Error(`lab "${p.name}" runs the ${saved.datapath.kind} datapath; run \`lab down --name ${p.name}\` before switching to ${datapath.kind}`);
    }
    for (const d of [p.pidDir, p.logDir, p.execDir]) mkdirSync(d, { recursive: true });
    const apiserverPort = saved?.apiserverPort ?? (await freeLoopbackPort());
    const kubeVersion = saved?.kubeVersion ?? (await kubeVersionOf(bins));
    const server = `https://127.0.0.1:${apiserverPort}`;

    say(`network namespace ${p.netns} (${network} network)`);
    await ensureNetns(p.netns, network);
    if (network === 'pods') await ensureLabBridge(p);

    say(`control plane (kwokctl, binary runtime) on ${server}`);
    const config = writeKwokctlConfig(p, { apiserverPort, bins });
    if (network === 'pods') {
      const labPath = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin';
      writeExecShim(p, labPath);
      patchKwokctlForPods(config, p, labPath);
    }
    datapath.patchKwokctlConfig?.(config, p);
    await kwokctlCreate(p, bins, config);

    say('apiserver bridge 127.0.0.1 (root ns) <-> netns');
    const bridge = path.join(import.meta.dirname, 'bridge.ts');
    await startDaemon(p, {
      id: BRIDGE_NETNS,
      netns: p.netns,
      argv: [process.execPath, bridge, 'unix-to-tcp', p.bridgeSocket, '127.0.0.1', String(apiserverPort)],
    });
    await startDaemon(p, {
      id: BRIDGE_HOST,
      argv: [process.execPath, bridge, 'tcp-to-unix', '127.0.0.1', String(apiserverPort), p.bridgeSocket],
    });
    writeUserKubeconfig(p, server);
    const kc = new KubeConfig();
    kc.loadFromFile(p.kubeconfig);
    await waitApiserver(kc, 60_000);

    const nodes = labNodes();
    say(`nodes ${nodes.map((n) => `${n.name}=${n.internalIP}`).join(' ')}`);
    await ensureNodes(kc, nodes, kubeVersion);
    await waitNodesReady(kc, nodes, 60_000);
    if (network === 'pods') {
      const kubeletPort = await kubeletPortOf(kc, nodes[0]!.name);
      say(`node namespaces ${nodes.map((n) => `${p.netns}.${n.name}`).join(' ')} on bridge ${p.netns}/br0; kubelet port ${kubeletPort}`);
      // Cilium routes pods between nodes itself (native: its direct routes; overlay: VXLAN).
      await ensureNodeNetwork(p, nodes, kubeletPort, { podRoutes: datapath.kind !== 'cilium' });
      say('pod network controller (a namespace per pod, its servers, its exec rule)');
      const pid = await startDaemon(p, {
        id: POD_NETWORK,
        argv: [process.execPath, '--import', import.meta.resolve('tsx'), path.join(import.meta.dirname, 'pod-network-controller.ts'), p.name, datapath.kind],
      });
      await waitFor('the pod network controller to watch the pods', 30_000, async () => {
        try {
          return readFileSync(netPaths(p).controllerReady, 'utf8').trim() === String(pid);
        } catch {
          return false;
        }
      }, 100);
    }

    const ctx: DatapathContext = {
      paths: p,
      bins,
      innerKubeconfig: p.innerKubeconfig,
      kubeconfig: p.kubeconfig,
      nodes,
      kc,
      kubeVersion,
      onProgress: say,
    };
    say(`datapath ${datapath.kind} ${JSON.stringify(datapath.settings)}`);
    await datapath.applyObjects(ctx);
    await datapath.start(ctx, saved?.datapath.kind === datapath.kind ? saved.datapath.settings : undefined);
    writeFileSync(
      p.stateFile,
      JSON.stringify({ apiserverPort, kubeVersion, network, datapath: { kind: datapath.kind, settings: datapath.settings } } satisfies SavedState, null, 2),
    );

    if (network === 'shared') {
      say('tool servers (iperf3 5201/5202, netserver 12865, fortio 8080/9999)');
      await startToolServers(p, bins);
    }

    const daemonSet = datapath.daemonSet ?? 'kube-proxy';
    say(`waiting for the datapath, the ${daemonSet} DaemonSet and the metrics API`);
    await datapath.waitReady(ctx, 60_000);
    await waitDaemonSetReady(kc, 'kube-system', daemonSet, nodes.length, 60_000);
    await waitMetricsApi(kc, 240_000); // metrics-server is slow to become Available on a loaded 2-core machine

    const info: LabInfo = {
      name: p.name,
      kubeconfigPath: p.kubeconfig,
      context: p.context,
      server,
      netns: p.netns,
      network,
      datapath: { kind: datapath.kind, settings: datapath.settings },
      proxyMode: mode,
      nodes,
      serviceCIDR: SERVICE_CIDR,
      podCIDR: POD_CIDR,
      nodeNetwork: NODE_NET,
      toolPorts: TOOL_PORTS,
      stateDir: p.stateDir,
      logDir: p.logDir,
      execDir: p.execDir,
      upMs: Date.now() - started,
    };
    say(`lab "${p.name}" is up: KUBECONFIG=${p.kubeconfig} (context ${p.context})`);
    return info;
  } finally {
    unlock();
  }
}

/** The port kwok-controller serves as every node's kubelet (what the apiserver dials at the InternalIP). */
async function kubeletPortOf(kc: KubeConfig, node: string): Promise<number> {
  const core = kc.makeApiClient(CoreV1Api);
  return waitFor(`node ${node} kubelet endpoint`, 30_000, async () => {
    const n = await core.readNode({ name: node });
    return n.status?.daemonEndpoints?.kubeletEndpoint?.Port || undefined;
  });
}

async function waitMetricsApi(kc: KubeConfig, timeoutMs: number): Promise<void> {
  const reg = kc.makeApiClient(ApiregistrationV1Api);
  await waitFor('metrics.k8s.io APIService Available', timeoutMs, async () => {
    const svc = await reg.readAPIService({ name: 'v1beta1.metrics.k8s.io' });
    return svc.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
  }, 500);
}

export interface LabDownResult {
  name: string;
  stoppedProcesses: string[];
  netnsRemoved: boolean;
  stateRemoved: boolean;
}

export async function labDown(opts: Pick<LabOptions, 'name' | 'onProgress'> = {}): Promise<LabDownResult> {
  const p = labPaths(opts.name ?? 'lab');
  const say = (msg: string) => opts.onProgress?.(msg);
  const stopped: string[] = [];
  const haveState = existsSync(p.stateDir);
  const unlock = haveState ? lock(p) : () => {};
  try {
    // The pod network controller first (it would remake what goes below), then
    // our other daemons (pod servers, tools, kube-proxy, agent, bridges) ...
    if (daemonState(p, POD_NETWORK).running) stopped.push(POD_NETWORK);
    await stopDaemon(p, POD_NETWORK, 3_000);
    for (const id of knownDaemons(p)) {
      const st = daemonState(p, id);
      if (st.running) stopped.push(id);
      await stopDaemon(p, id, 3_000);
    }
    await stopToolServers(p);
    // ... then the control plane kwokctl started (it kills by its own pid files).
    if (existsSync(p.clusterDir)) {
      say('stopping the control plane (kwokctl delete cluster)');
      stopped.push(...kwokctlComponents(p).filter((c) => c.running).map((c) => c.id));
      try {
        const bins = checkPrerequisites();
        await kwokctlDelete(p, bins);
      } catch (err) {
        say(`kwokctl delete failed (${(err as Error).message}); killing what is left in the namespace`);
      }
    }
    // Anything still inside the namespace is ours (the namespace is the lab's):
    // e.g. a tool an exec started whose stream was closed.
    // `--network pods`: the pods' and nodes' namespaces too, each removed once emptied.
    for (const ns of [p.netns, ...(await labChildNetns(p))]) {
      for (const pid of await netnsPids(ns)) {
        const argv0 = processArgv0(pid);
        if (argv0 === null) continue;
        stopped.push(`${commOf(pid)}(${pid})`);
        await stopPid(pid, argv0, 2_000);
      }
      if (ns !== p.netns) await deleteNetns(ns);
    }
    // A real Cilium's cgroup, mount point and machine-wide sysctls (its bpffs went with its mount namespace).
    const cilium = await teardownCilium(p);
    if (cilium.cgroupRemoved) say('removed the lab cgroup (Cilium socket LB was attached there)');
    if (cilium.sysctlsChanged.length) say(`WARNING: the Cilium agent changed machine-wide sysctls (restored where possible): ${cilium.sysctlsChanged.join('; ')}`);
    const hadNetns = await netnsExists(p.netns);
    if (hadNetns) {
      say(`removing network namespace ${p.netns} (its routes and iptables/nftables rules go with it)`);
      await deleteNetns(p.netns);
    }
    if (haveState) {
      say(`removing ${p.stateDir}`);
    }
    unlock();
    rmSync(p.stateDir, { recursive: true, force: true });
    return { name: p.name, stoppedProcesses: stopped, netnsRemoved: hadNetns, stateRemoved: haveState };
  } finally {
    unlock();
  }
}

/** Pid-file daemons of kwokctl's components (etcd, kube-apiserver, ...). */
function kwokctlComponents(p: LabPaths): DaemonState[] {
  const dirs = { pidDir: path.join(p.clusterDir, 'pids'), logDir: path.join(p.clusterDir, 'logs') };
  return knownDaemons(dirs).map((id) => {
    const st = daemonState(dirs, id);
    // kwokctl's pid files hold only the pid; the component name is the program name.
    const pid = st.pid;
    const argv0 = pid ? processArgv0(pid) : null;
    return { ...st, running: argv0 !== null && path.basename(argv0) === id, command: argv0 ?? '' };
  });
}

export async function labStatus(opts: Pick<LabOptions, 'name'> = {}): Promise<LabStatus> {
  const p = labPaths(opts.name ?? 'lab');
  const exists = existsSync(p.stateDir);
  const saved = readState(p);
  const processes = [...kwokctlComponents(p), ...knownDaemons(p).map((id) => daemonState(p, id))];
  const hasNetns = await netnsExists(p.netns);
  const known = new Set(processes.filter((d) => d.running && d.pid).map((d) => d.pid));
  const childNetns = await labChildNetns(p);
  const allPids = [...(hasNetns ? await netnsPids(p.netns) : []), ...(await Promise.all(childNetns.map((ns) => netnsPids(ns)))).flat()];
  const strayPids = allPids.filter((pid) => !known.has(pid)).map((pid) => ({ pid, comm: commOf(pid) }));
  let apiserverReady = false;
  if (exists && existsSync(p.kubeconfig)) {
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(p.kubeconfig);
      await Promise.race([waitApiserver(kc, 0), sleep(3_000, undefined, { ref: false }).then(() => Promise.reject(new Error('timeout')))]);
      apiserverReady = true;
    } catch {
      apiserverReady = false;
    }
  }
  return {
    name: p.name,
    exists,
    netns: p.netns,
    netnsExists: hasNetns,
    apiserverReady,
    kubeconfigPath: existsSync(p.kubeconfig) ? p.kubeconfig : null,
    proxyMode: (saved?.datapath.settings.mode as ProxyMode | undefined) ?? null,
    datapath: saved?.datapath ?? null,
    network: saved ? (saved.network ?? UNRECORDED_NETWORK) : null,
    childNetns,
    processes,
    strayPids,
    shape: !hasNetns ? null : saved?.network === 'pods' ? await linkShapes(p) : await loopbackShape(p.netns),
  };
}

/**
 * `lab shape`: cap the lab datapath's bandwidth (a tbf qdisc on the
 * namespace's loopback, which every lab flow crosses), or lift the cap with
 * rate undefined. For rehearsing a regression: the next run measures less.
 */
export async function labShape(opts: Pick<LabOptions, 'name'> & { rate?: string; link?: string }): Promise<string | null> {
  const p = labPaths(opts.name ?? 'lab');
  if (!existsSync(p.stateDir)) throw new Error(`lab "${p.name}" is not up (netbench lab up${opts.name ? ` --name ${opts.name}` : ''})`);
  if (readState(p)?.network === 'pods') {
    // Each node's link to the "VPC" (both ways): one node's with --link NODE, else all; or one pod's link (--link NS/POD).
    const nodes = labNodes().map((n) => n.name);
    if (opts.link?.includes('/')) {
      const pods = podLinks(p);
      const link = pods.find((l) => l.pod === opts.link);
      if (!link) throw new Error(`--link ${opts.link}: no pod of that name has a network namespace in lab "${p.name}" (pods: ${pods.map((l) => l.pod).join(', ') || 'none'}; hostNetwork pods share their node's link)`);
      await shapePodLink(p, link, opts.rate);
      return linkShapes(p);
    }
    if (opts.link !== undefined && !nodes.includes(opts.link)) throw new Error(`--link must be a node of the lab (${nodes.join(', ')}) or a pod as <namespace>/<name>, not "${opts.link}"`);
    for (const node of opts.link ? [opts.link] : nodes) await shapeNodeLink(p, node, opts.rate);
    return linkShapes(p);
  }
  if (opts.link !== undefined) throw new Error(`--link needs a lab made with --network pods; lab "${p.name}" shares one namespace (every flow crosses its loopback)`);
  await shapeLoopback(p.netns, opts.rate);
  return loopbackShape(p.netns);
}

/** "500Mbit on worker-1, t1/server" (by rate, "; " between rates): the capped node and pod links only; null when none is. */
async function linkShapes(p: LabPaths): Promise<string | null> {
  const byRate = new Map<string, string[]>();
  const add = (cap: string | null, what: string) => {
    if (cap) byRate.set(cap, [...(byRate.get(cap) ?? []), what]);
  };
  for (const n of labNodes()) add(await nodeLinkShape(p, n.name), n.name);
  for (const l of podLinks(p)) add(await podLinkShape(l), l.pod);
  return byRate.size ? [...byRate].map(([rate, nodes]) => `${rate} on ${nodes.join(', ')}`).join('; ') : null;
}
