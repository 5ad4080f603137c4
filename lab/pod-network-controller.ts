/**
 * The lab's stand-in for a kubelet's sandbox + CNI (`--network pods`):
 * watches the pods on the lab's workers and, for each one,
 *   - creates its kwok `Exec` object at once (env NETBENCH_POD_NETNS = the
 *     namespace its execs run in: lab/exec-shim.ts),
 *   - its network namespace with eth0 (a veth into its node's namespace)
 *     holding an IP from its node's podCIDR (lab/pod-network.ts, freePodIP);
 *     a hostNetwork pod uses its node's namespace,
 *   - runs its container's server (iperf3, netserver, fortio) as a real
 *     process in that namespace (other commands, e.g. `sleep infinity`, are
 *     not run: the namespace is what an exec needs),
 *   - marks the namespace ready (execs wait for that) and writes the IP into
 *     the pod's annotation, on which kwok reports the pod Ready with that IP
 *     (lab/datapath/kwok-stages.ts): a Ready pod has its network and server,
 *   - gives it a kwok `PortForward` object: port-forward to its declared
 *     ports (and the tools' ports) dials <pod IP>:<port>;
 * and undoes all of it when the pod is deleted. Records in
 * <state>/net/sandboxes make it restartable: on start it reconciles what
 * exists with the pods listed.
 *
 * On a Cilium lab a pod's namespace, eth0 and IP come from the real
 * cilium-cni (lab/datapath/cilium-cni.ts) instead, its processes join its
 * node's cgroup (that node's agent's socket LB), and a cilium pod gets a
 * kwok `Logs` object naming its own node's agent's log.
 *
 *   node --import tsx lab/pod-network-controller.ts <lab name> [kube-proxy|cilium]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, makeInformer, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { TOOL_PORTS, labNodes, labPaths, type LabNode, type LabPaths } from './config';
import { isStatus } from './cluster';
import { POD_CGROUP_ENV, POD_NETNS_ENV } from './exec-shim';
import { AGENT_CONTAINER, PIDFILE_ENV, agentSites, cgroup2Mount, criLogFile, type AgentSite } from './datapath/cilium';
import { cniAdd, cniDel } from './datapath/cilium-cni';
import { POD_IP_ANNOTATION } from './datapath/kwok-stages';
import { ensureNetns } from './netns';
import {
  deletePodSandbox,
  ensurePodSandbox,
  freePodIP,
  markPending,
  markReady,
  netPaths,
  nodeNetns,
  podNetns,
  podVeth,
  type Sandbox,
} from './pod-network';
import { checkPrerequisites, type ResolvedBins } from './prereq';
import { startDaemon, stopDaemon } from './procs';

/** Container commands that are servers the lab runs for real, by program name. */
const SERVERS = ['iperf3', 'netserver', 'fortio'] as const;

/** The server argv to run for a container command, with the lab's binary (null: not a server the lab runs). */
export function serverArgv(command: string[] | undefined, bins: ResolvedBins): string[] | null {
  if (!command?.length) return null;
  const prog = path.basename(command[0]!);
  if (!(SERVERS as readonly string[]).includes(prog)) return null;
  if (prog === 'fortio' && command[1] !== 'server') return null;
  if (prog === 'iperf3' && !command.includes('-s')) return null;
  return [bins[prog]!, ...command.slice(1)];
}

/** Daemon id (pid file name) of a pod container's server. */
export function serverDaemonId(namespace: string, name: string, container: string): string {
  return `pod.${namespace}.${name}.${container}`;
}

interface Record_ extends Sandbox {
  hostNetwork: boolean;
  daemons: string[];
  /** A Cilium lab: eth0 and the IP are cilium-cni's (ADD done; DEL before the namespace goes). */
  cni?: boolean;
}

/** A cilium pod (the DaemonSet's): its execs run the node's agent's CLI (lab/datapath/cilium.ts, execWrapperScript). */
function isCiliumAgentPod(pod: V1Pod): boolean {
  return pod.metadata?.namespace === 'kube-system' && pod.metadata?.labels?.['k8s-app'] === 'cilium';
}

class Controller {
  private readonly nodes: Map<string, LabNode>;
  private readonly records = new Map<string, Record_>();
  /** Pods whose Exec object this process made or updated: key -> pod uid. */
  private readonly execObjects = new Map<string, string>();
  /** Keys to reconcile; each is reconciled with the pod as the informer has it then. */
  private readonly queue = new Set<string>();
  /** The informer's cache (set once it runs). */
  lookup: (key: string) => V1Pod | undefined = () => undefined;
  /** Pods reconciled to the end since this process started. */
  private readonly readyOnce = new Set<string>();
  /** Pods seen without a namespace yet (their pending marker), by key. */
  private readonly pending = new Map<string, string>();
  private running = false;
  /** A Cilium lab: each node's agent (its cgroup, socket and pid file); empty for kube-proxy. */
  private readonly agents: Map<string, AgentSite>;

  constructor(
    private readonly p: LabPaths,
    private readonly kc: KubeConfig,
    private readonly bins: ResolvedBins,
    datapath: string,
  ) {
    this.nodes = new Map(labNodes().map((n) => [n.name, n]));
    this.agents = new Map(datapath === 'cilium' ? agentSites(p, 'pods').map((s) => [s.node, s]) : []);
    mkdirSync(netPaths(p).sandboxes, { recursive: true });
    // Pending markers are this process's: start with none (a pod still waiting is seen again in the first list).
    rmSync(netPaths(p).pending, { recursive: true, force: true });
    for (const f of readdirSync(netPaths(p).sandboxes)) {
      try {
        const r = JSON.parse(readFileSync(path.join(netPaths(p).sandboxes, f), 'utf8')) as Record_;
        this.records.set(`${r.namespace}/${r.name}`, r);
      } catch {
        rmSync(path.join(netPaths(p).sandboxes, f), { force: true });
      }
    }
  }

  private log(msg: string): void {
    process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
  }

  enqueue(key: string): void {
    this.queue.add(key);
    // The pod's Exec object at once, on a chain of its own (a few ms each): an exec into a pod kwok has
    // just made Ready must find it, and building other pods' namespaces and servers takes longer.
    this.registering = this.registering.then(() => this.register(key));
    void this.drain();
  }

  private registering: Promise<void> = Promise.resolve();

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.size) {
        const key = this.queue.values().next().value as string;
        this.queue.delete(key);
        try {
          await this.reconcile(key, this.lookup(key) ?? null);
        } catch (err) {
          this.log(`ERROR ${key}: ${(err as Error).message}`);
          // Try again later (a transient apiserver or ip failure), with the pod as it is then.
          setTimeout(() => this.enqueue(key), 2_000).unref();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async register(key: string): Promise<void> {
    const pod = this.lookup(key);
    const node = pod?.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    if (!pod || !node || pod.metadata?.deletionTimestamp || this.execObjects.get(key) === pod.metadata?.uid) return;
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    const hostNetwork = pod.spec?.hostNetwork === true;
    const netns = hostNetwork ? nodeNetns(this.p, node.name) : podNetns(this.p, namespace, name, uid);
    if (!hostNetwork && this.records.get(key)?.uid !== uid) {
      markPending(this.p, netns, true);
      this.pending.set(key, netns);
    }
    try {
      await this.ensureExecObject(pod, netns);
    } catch (err) {
      this.log(`ERROR registering ${key}: ${(err as Error).message}`); // reconcile() tries again
    }
  }

  /** Forget pods that are gone (after the informer's first list). */
  sweep(present: Set<string>): void {
    for (const key of this.records.keys()) if (!present.has(key)) this.enqueue(key);
  }

  private recordFile(r: Pick<Record_, 'namespace' | 'name'>): string {
    return path.join(netPaths(this.p).sandboxes, `${r.namespace}.${r.name}.json`);
  }

  private saveRecord(r: Record_): void {
    writeFileSync(this.recordFile(r), JSON.stringify(r, null, 2));
    this.records.set(`${r.namespace}/${r.name}`, r);
  }

  private async teardown(key: string): Promise<void> {
    const pendingNs = this.pending.get(key);
    if (pendingNs) markPending(this.p, pendingNs, false);
    this.pending.delete(key);
    this.readyOnce.delete(key);
    if (this.execObjects.has(key) && !this.records.has(key)) {
      const [namespace, name] = key.split('/');
      await this.deleteKwokObjects(namespace!, name!);
      this.execObjects.delete(key);
    }
    const r = this.records.get(key);
    if (!r) return;
    this.log(`pod ${key} gone: removing ${r.hostNetwork ? 'its servers' : `namespace ${r.netns}`}`);
    for (const id of r.daemons) await stopDaemon(this.p, id, 2_000);
    const agent = this.agents.get(r.node);
    if (r.cni && agent) {
      const complaint = await cniDel(this.p, agent, r);
      if (complaint) this.log(`cilium-cni DEL ${key}: ${complaint}`);
    }
    if (!r.hostNetwork) await deletePodSandbox(this.p, r);
    rmSync(this.recordFile(r), { force: true });
    this.records.delete(key);
    this.execObjects.delete(key);
    await this.deleteKwokObjects(r.namespace, r.name);
  }

  private async reconcile(key: string, pod: V1Pod | null): Promise<void> {
    const node = pod?.spec?.nodeName ? this.nodes.get(pod.spec.nodeName) : undefined;
    const uid = pod?.metadata?.uid ?? '';
    if (!pod || !node || pod.metadata?.deletionTimestamp) {
      await this.teardown(key);
      return;
    }
    if (this.records.get(key) && this.records.get(key)!.uid !== uid) await this.teardown(key); // same name, a new pod
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const hostNetwork = pod.spec?.hostNetwork === true;
    const netns = hostNetwork ? nodeNetns(this.p, node.name) : podNetns(this.p, namespace, name, uid);
    if (!this.records.has(key) && !hostNetwork) {
      markPending(this.p, netns, true);
      this.pending.set(key, netns);
    }
    await this.ensureExecObject(pod, netns);
    const agent = this.agents.get(node.name);
    const current = this.records.get(key);
    let r: Record_;
    if (hostNetwork) {
      const ip = pod.status?.podIP;
      if (!ip) return; // kwok has not given it its node's IP yet: the next update has it
      if (current?.ip === ip && this.readyOnce.has(key)) return; // done (a status update that changes nothing here)
      r = { namespace, name, uid, node: node.name, ip, netns, veth: podVeth(uid), hostNetwork, daemons: current?.daemons ?? [] };
    } else {
      if (current?.ip && current.ip === pod.status?.podIP && this.readyOnce.has(key)) return; // done
      // As a kubelet does: the sandbox (namespace, eth0, IP) and the containers first, then kwok reports the pod
      // Ready with that IP (the annotation; lab/datapath/kwok-stages.ts). So a Ready pod's server listens.
      r = agent ? await this.cniSandbox(pod, agent, netns) : await this.ownSandbox(pod, node, netns);
    }
    await this.startServers(pod, r, agent);
    this.saveRecord(r);
    if (!hostNetwork) {
      markReady(this.p, netns, true);
      if (pod.metadata?.annotations?.[POD_IP_ANNOTATION] !== r.ip) {
        await this.kc.makeApiClient(CoreV1Api).patchNamespacedPod(
          { namespace, name, body: { metadata: { annotations: { [POD_IP_ANNOTATION]: r.ip } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      }
      if (pod.status?.podIP !== r.ip) return; // kwok reports it with the next update
    }
    await this.ensurePortForward(pod, r.ip);
    this.pending.delete(key);
    this.readyOnce.add(key);
    this.log(`pod ${key} on ${node.name}: ${hostNetwork ? 'node namespace' : `namespace ${netns}, eth0 ${r.ip}`}${r.daemons.length ? `, running ${r.daemons.join(' ')}` : ''}`);
  }

  /** The pod's containers' servers (iperf3, netserver, fortio) as processes in its namespace (idempotent). */
  private async startServers(pod: V1Pod, r: Record_, agent: AgentSite | undefined): Promise<void> {
    const ids: string[] = [];
    for (const c of pod.spec?.containers ?? []) {
      const argv = serverArgv(c.command ?? c.args, this.bins);
      if (!argv) continue;
      const id = serverDaemonId(r.namespace, r.name, c.name);
      // A Cilium lab: in its node's cgroup, where that node's agent's socket LB is attached (joined
      // before `ip netns exec`, which mounts a /sys of its own without the cgroup tree).
      const spec = agent
        ? { id, argv: ['sh', '-c', 'echo $$ > "$1/cgroup.procs" && ns="$2" && shift 2 && exec ip netns exec "$ns" "$@"', 'sh', agent.cgroup, r.netns, ...argv], program: argv[0] }
        : { id, netns: r.netns, argv };
      await startDaemon(this.p, { ...spec, cwd: this.p.execDir }, 150);
      ids.push(id);
    }
    r.daemons = ids;
  }

  /**
   * A kube-proxy lab: the pod's IP from its node's podCIDR (the lowest one no
   * other pod's sandbox on that node holds; a pod already annotated or
   * reported with one keeps it), then its namespace and eth0.
   */
  private async ownSandbox(pod: V1Pod, node: LabNode, netns: string): Promise<Record_> {
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    let r = this.records.get(`${namespace}/${name}`);
    if (!r || r.uid !== uid || !r.ip || r.cni) {
      const used = new Set([...this.records.values()].filter((o) => o.node === node.name && !o.hostNetwork && o.uid !== uid).map((o) => o.ip));
      const ip = pod.metadata?.annotations?.[POD_IP_ANNOTATION] ?? pod.status?.podIP ?? freePodIP(node.podCIDR, used);
      r = { namespace, name, uid, node: node.name, ip, netns, veth: podVeth(uid), hostNetwork: false, daemons: [] };
      this.saveRecord(r); // before the namespace exists: a crash in between still gets it removed
    }
    await ensurePodSandbox(this.p, node, r);
    return r;
  }

  /** A Cilium lab: the pod's namespace and eth0 from cilium-cni (once). */
  private async cniSandbox(pod: V1Pod, agent: AgentSite, netns: string): Promise<Record_> {
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    const key = `${namespace}/${name}`;
    let r = this.records.get(key);
    if (!r?.cni || r.uid !== uid || !r.ip) {
      // Recorded before the namespace and the endpoint exist: a crash in between still gets both removed.
      r = { namespace, name, uid, node: agent.node, ip: '', netns, veth: podVeth(uid), hostNetwork: false, daemons: [], cni: true };
      this.saveRecord(r);
      await ensureNetns(netns, 'pods');
      const started = Date.now();
      r.ip = await cniAdd(this.p, agent, r);
      this.saveRecord(r);
      this.log(`pod ${key}: cilium-cni ADD on ${agent.node} gave ${r.ip} in ${Date.now() - started} ms`);
    }
    return r;
  }

  private async ensureExecObject(pod: V1Pod, netns: string): Promise<void> {
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    const key = `${namespace}/${name}`;
    if (this.execObjects.get(key) === uid) return;
    const agent = this.agents.get(pod.spec?.nodeName ?? '');
    const envs = [{ name: POD_NETNS_ENV, value: netns }];
    if (agent) envs.push({ name: POD_CGROUP_ENV, value: path.relative(cgroup2Mount(), agent.cgroup) });
    if (agent && isCiliumAgentPod(pod)) envs.push({ name: PIDFILE_ENV, value: agent.pidFile });
    const spec = { execs: [{ local: { workDir: this.p.execDir, envs } }] };
    if (!(await this.applyKwokObject('Exec', 'execs', namespace, name, uid, spec))) return;
    // `kubectl logs` of a cilium pod: its own node's agent (the ClusterLogs rule names the first node's).
    if (agent && isCiliumAgentPod(pod)) {
      const logs = { logs: [{ containers: [AGENT_CONTAINER], logsFile: criLogFile(this.p, agent.id), follow: true }] };
      if (!(await this.applyKwokObject('Logs', 'logs', namespace, name, uid, logs))) return;
    }
    this.execObjects.set(key, uid);
  }

  /** `kubectl port-forward` to the pod's declared ports (and the tools' ports) reaches the pod itself: kwok-controller dials <pod IP>:<port>. */
  private async ensurePortForward(pod: V1Pod, ip: string): Promise<void> {
    const ports = new Set<number>(Object.values(TOOL_PORTS));
    for (const c of pod.spec?.containers ?? []) for (const cp of c.ports ?? []) if (cp.protocol !== 'UDP') ports.add(cp.containerPort);
    const spec = { forwards: [...ports].sort((a, b) => a - b).map((port) => ({ ports: [port], target: { address: ip, port } })) };
    await this.applyKwokObject('PortForward', 'portforwards', pod.metadata!.namespace!, pod.metadata!.name!, pod.metadata!.uid!, spec);
  }

  /** Create or replace a namespaced kwok object named like the pod; false when its namespace is going away. */
  private async applyKwokObject(kind: string, plural: string, namespace: string, name: string, uid: string, spec: object): Promise<boolean> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    const body = {
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind,
      metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'netbench-lab' }, annotations: { 'netbench.dev/pod-uid': uid } },
      spec,
    };
    const ref = { group: 'kwok.x-k8s.io', version: 'v1alpha1', namespace, plural };
    try {
      await api.createNamespacedCustomObject({ ...ref, body });
    } catch (err) {
      if (isStatus(err, 403) || isStatus(err, 404)) return false; // namespace terminating: the pod goes with it
      if (!isStatus(err, 409)) throw err;
      const current = (await api.getNamespacedCustomObject({ ...ref, name })) as { metadata: { resourceVersion: string } };
      await api.replaceNamespacedCustomObject({ ...ref, name, body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } } });
    }
    return true;
  }

  private async deleteKwokObjects(namespace: string, name: string): Promise<void> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    for (const plural of ['execs', 'portforwards', 'logs']) {
      try {
        await api.deleteNamespacedCustomObject({ group: 'kwok.x-k8s.io', version: 'v1alpha1', namespace, plural, name });
      } catch (err) {
        if (!isStatus(err, 404) && !isStatus(err, 403)) throw err;
      }
    }
  }
}

async function main(labName: string, datapath: string): Promise<void> {
  const p = labPaths(labName);
  const kc = new KubeConfig();
  kc.loadFromFile(p.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const ctl = new Controller(p, kc, checkPrerequisites(), datapath);
  for (const n of labNodes()) markReady(p, nodeNetns(p, n.name), true);
  const keyOf = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const informer = makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
  ctl.lookup = (key) => {
    const [namespace, name] = key.split('/');
    return informer.get(name!, namespace);
  };
  informer.on('add', (pod) => ctl.enqueue(keyOf(pod)));
  informer.on('update', (pod) => ctl.enqueue(keyOf(pod)));
  informer.on('delete', (pod) => ctl.enqueue(keyOf(pod)));
  informer.on('error', (err) => {
    process.stdout.write(`${new Date().toISOString()} watch error: ${String(err)}; restarting the watch in 1 s\n`);
    setTimeout(() => void informer.start(), 1_000);
  });
  await informer.start();
  ctl.sweep(new Set(informer.list().map(keyOf)));
  // `lab up` waits for this: pods made after it returns are seen from their first event.
  writeFileSync(netPaths(p).controllerReady, `${process.pid}\n`);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const [name, datapath = 'kube-proxy'] = process.argv.slice(2);
  if (!name) {
    process.stderr.write('usage: pod-network-controller.ts <lab name> [kube-proxy|cilium]\n');
    process.exit(2);
  }
  main(name, datapath).catch((err) => {
    process.stderr.write(`pod-network-controller: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
