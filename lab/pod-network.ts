/**
 * `lab up --network pods`: nodes and pods in network namespaces of their own.
 *
 *   lab namespace nb-<lab>      br0 10.240.0.1/24 (the "VPC" segment; control plane)
 *     │ veth worker-N (port of br0)                 routes 10.244.N.0/24 via 10.240.0.1N
 *   node namespace nb-<lab>.worker-N
 *     eth0 10.240.0.1N/24       routes: other nodes' podCIDRs via their InternalIP (native routing)
 *                               ip_forward=1; the kubelet port of the node is DNATed to the one
 *                               kwok-controller in the lab namespace (see ensureNodeNetwork)
 *     veth<uid8> ──┐            route <pod IP>/32 dev veth<uid8>
 *   pod namespace nb-<lab>.<k8s namespace>.<pod>
 *     eth0 <pod IP>/32          routes: the node's InternalIP on link, the lab's three ranges
 *                               (pods, Services, nodes) via it; NO default route
 *
 * Every device is created inside a lab namespace (a veth pair is made in one
 * lab namespace with its peer put straight into another), so nothing ever
 * appears in the root namespace, and deleting the namespaces removes every
 * device, address, route and rule. Namespace names are `<lab netns>.` plus a
 * suffix: a lab name cannot contain a dot, so one lab's names never start
 * with another lab's prefix.
 *
 * Pod IPs are kwok's (from the node's podCIDR); the lab's pod-network
 * controller (lab/pod-network-controller.ts) builds a pod's namespace once
 * kwok gave the pod its IP, and removes it when the pod goes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileIfChanged } from './files';
import path from 'node:path';
import { CONTROL_PLANE_IP, NODE_NET, POD_CIDR, SERVICE_CIDR, type LabNode, type LabPaths } from './config';
import { deleteNetns, deviceShape, ensureNetns, listNetns, netnsExists, shapeDevice } from './netns';
import { run, runInNetns } from './run';

/** The bridge in the lab namespace that the nodes' eth0 are ports of. */
export const LAB_BRIDGE = 'br0';
/** What a pod can reach (through its node): pods, Services, nodes. Nothing else is routed. */
export const POD_ROUTES = [POD_CIDR, SERVICE_CIDR, NODE_NET] as const;

export function nodeNetns(p: LabPaths, node: string): string {
  return `${p.netns}.${node}`;
}

/** A pod's namespace: readable (namespace and name) unless that is too long for a file name. */
export function podNetns(p: LabPaths, namespace: string, name: string, uid: string): string {
  const readable = `${p.netns}.${namespace}.${name}`;
  return readable.length <= 200 ? readable : `${p.netns}.pod-${uid}`;
}

/**
 * A kube-proxy lab's IPAM (the lab's stand-in for host-local): the lowest
 * address of a node's podCIDR that is neither its network nor broadcast
 * address nor in `used`.
 */
export function freePodIP(podCIDR: string, used: Set<string>): string {
  const [base, bits] = podCIDR.split('/');
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const toIp = (n: number) => [24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join('.');
  const size = 2 ** (32 - Number(bits));
  const first = toInt(base!) - (toInt(base!) % size);
  for (let i = 1; i < size - 1; i++) {
    const ip = toIp(first + i);
    if (!used.has(ip)) return ip;
  }
  throw new Error(`no free pod IP left in ${podCIDR} (${used.size} in use)`);
}

/** The node end of a pod's veth pair (unique per pod in its node's namespace, at most 15 characters). */
export function podVeth(uid: string): string {
  return `veth${uid.replace(/-/g, '').slice(0, 8)}`;
}

/** Files of the pod network: sandbox records, ready markers (the exec shim waits for them), the shim. */
export function netPaths(p: LabPaths) {
  return {
    /** One JSON record per pod namespace the controller made. */
    sandboxes: path.join(p.netDir, 'sandboxes'),
    /** `<netns>` exists once that namespace is ready for execs and servers. */
    ready: path.join(p.netDir, 'ready'),
    /** `<netns>` exists while a pod the controller has seen waits for its namespace. */
    pending: path.join(p.netDir, 'pending'),
    /** The exec shim kwok-controller finds first on its PATH (lab/exec-shim.ts). */
    shim: path.join(p.netDir, 'exec-shim'),
    /** Written by the pod-network controller (its pid) once it watches the pods. */
    controllerReady: path.join(p.netDir, 'controller-ready'),
  };
}

export function markReady(p: LabPaths, netns: string, ready: boolean): void {
  const np = netPaths(p);
  mkdirSync(np.ready, { recursive: true });
  mkdirSync(np.pending, { recursive: true });
  if (ready) {
    writeFileSync(path.join(np.ready, netns), '');
    rmSync(path.join(np.pending, netns), { force: true });
  } else {
    rmSync(path.join(np.ready, netns), { force: true });
  }
}

export function markPending(p: LabPaths, netns: string, pending: boolean): void {
  const np = netPaths(p);
  mkdirSync(np.pending, { recursive: true });
  if (pending) writeFileSync(path.join(np.pending, netns), '');
  else rmSync(path.join(np.pending, netns), { force: true });
}

export function isReady(p: LabPaths, netns: string): boolean {
  return existsSync(path.join(netPaths(p).ready, netns));
}

/** Every namespace of this lab besides the lab's own (nodes and pods). */
export async function labChildNetns(p: LabPaths): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`${p.netns}.`));
}

async function linkExists(netns: string, dev: string): Promise<boolean> {
  const { stdout } = await run(['ip', '-n', netns, '-o', 'link', 'show', 'dev', dev], { allowFailure: true });
  return stdout.trim() !== '';
}

async function sysctl(netns: string, key: string, value: string): Promise<void> {
  await runInNetns(netns, ['sysctl', '-qw', `${key}=${value}`]);
}

/** An iptables rule in a namespace, added once (checked with -C first). */
async function ensureIptablesRule(netns: string, table: string, chain: string, rule: string[]): Promise<void> {
  const ipt = (op: string) => ['iptables', '-w', '-t', table, op, chain, ...rule];
  const present = await runInNetns(netns, ipt('-C')).then(
    () => true,
    () => false,
  );
  if (!present) await runInNetns(netns, ipt('-A'));
}

/**
 * The lab namespace's side of the node network: a bridge holding the
 * control plane's address. Called before the control plane starts (the
 * apiserver advertises 10.240.0.1).
 */
export async function ensureLabBridge(p: LabPaths): Promise<void> {
  if (!(await linkExists(p.netns, LAB_BRIDGE))) await run(['ip', '-n', p.netns, 'link', 'add', LAB_BRIDGE, 'type', 'bridge']);
  const prefix = NODE_NET.split('/')[1];
  await run(['ip', '-n', p.netns, 'addr', 'replace', `${CONTROL_PLANE_IP}/${prefix}`, 'dev', LAB_BRIDGE]);
  await run(['ip', '-n', p.netns, 'link', 'set', LAB_BRIDGE, 'up']);
}

/**
 * Each worker's namespace: eth0 with its InternalIP, a port of the lab
 * bridge; routes to the other nodes' podCIDRs; the lab namespace routes each
 * podCIDR to its node. `kubeletPort` is where the apiserver and
 * metrics-server dial a node's "kubelet": the one kwok-controller listens on
 * it in the lab namespace, so each node forwards its own InternalIP:port
 * there (DNAT, and MASQUERADE so the reply comes back through the node).
 */
export async function ensureNodeNetwork(p: LabPaths, nodes: LabNode[], kubeletPort: number, opts: { podRoutes: boolean } = { podRoutes: true }): Promise<void> {
  const prefix = NODE_NET.split('/')[1];
  for (const n of nodes) {
    const ns = nodeNetns(p, n.name);
    await ensureNetns(ns, 'pods');
    if (!(await linkExists(ns, 'eth0'))) {
      await run(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', n.name, 'netns', p.netns]);
    }
    await run(['ip', '-n', p.netns, 'link', 'set', n.name, 'master', LAB_BRIDGE, 'up']);
    await run(['ip', '-n', ns, 'addr', 'replace', `${n.internalIP}/${prefix}`, 'dev', 'eth0']);
    await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    await sysctl(ns, 'net.ipv4.ip_forward', '1');
    for (const other of nodes) {
      if (other.name === n.name || !opts.podRoutes) continue;
      await run(['ip', '-n', ns, 'route', 'replace', other.podCIDR, 'via', other.internalIP, 'dev', 'eth0']);
    }
    await run(['ip', '-n', p.netns, 'route', 'replace', n.podCIDR, 'via', n.internalIP, 'dev', LAB_BRIDGE]);
    const port = String(kubeletPort);
    await ensureIptablesRule(ns, 'nat', 'PREROUTING', [
      '-d', `${n.internalIP}/32`, '-p', 'tcp', '--dport', port,
      '-m', 'comment', '--comment', 'netbench-lab: kubelet port -> kwok-controller',
      '-j', 'DNAT', '--to-destination', `${CONTROL_PLANE_IP}:${port}`,
    ]);
    await ensureIptablesRule(ns, 'nat', 'POSTROUTING', [
      '-d', `${CONTROL_PLANE_IP}/32`, '-p', 'tcp', '--dport', port,
      '-m', 'comment', '--comment', 'netbench-lab: kubelet port -> kwok-controller',
      '-j', 'MASQUERADE',
    ]);
    markReady(p, ns, true);
  }
}

/**
 * kwokctl's kubeconfig with the apiserver at the control plane's address
 * (10.240.0.1, in its certificate) instead of 127.0.0.1: what a process in a
 * node's namespace reaches over the node network.
 */
export function writeNodeKubeconfig(p: LabPaths, innerKubeconfig: string): string {
  const kc = new KubeConfig();
  kc.loadFromFile(innerKubeconfig);
  if (!kc.clusters.some((c) => c.server.startsWith('https://127.0.0.1:'))) {
    throw new Error(`${innerKubeconfig}: no server https://127.0.0.1:<port> to point at ${CONTROL_PLANE_IP}`);
  }
  const clusters = kc.clusters.map((c) => ({ ...c, server: c.server.replace(/^https:\/\/127\.0\.0\.1:/, `https://${CONTROL_PLANE_IP}:`) }));
  kc.loadFromOptions({ clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
  const file = path.join(p.stateDir, 'node-kubeconfig.yaml');
  writeFileIfChanged(file, kc.exportConfig(), 0o600);
  return file;
}

/**
 * `lab shape` on the pods network: cap a node's link to the "VPC" both ways
 * (tbf on the node's eth0, its egress, and on its bridge port in the lab
 * namespace, its ingress), or lift the cap (rate undefined).
 */
export async function shapeNodeLink(p: LabPaths, node: string, rate: string | undefined): Promise<void> {
  await shapeDevice(nodeNetns(p, node), 'eth0', rate);
  await shapeDevice(p.netns, node, rate);
}

/** The cap on a node's link ("500Mbit"), or null. */
export async function nodeLinkShape(p: LabPaths, node: string): Promise<string | null> {
  return deviceShape(nodeNetns(p, node), 'eth0');
}

/** The pods that have a namespace of their own ("<namespace>/<name>"), from the controller's sandbox records. */
export function podLinks(p: LabPaths): { pod: string; netns: string; node: string }[] {
  const dir = netPaths(p).sandboxes;
  if (!existsSync(dir)) return [];
  const out: { pod: string; netns: string; node: string }[] = [];
  for (const f of readdirSync(dir).sort()) {
    try {
      const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Sandbox & { hostNetwork?: boolean };
      if (!r.hostNetwork && r.netns) out.push({ pod: `${r.namespace}/${r.name}`, netns: r.netns, node: r.node });
    } catch {
      /* a record being written: not a link yet */
    }
  }
  return out;
}

/** The node end of a pod's eth0 (its veth peer: `vethXXXX`, or Cilium's `lxcXXXX`), found by the peer's ifindex. */
async function podPeerDevice(p: LabPaths, link: { pod: string; netns: string; node: string }): Promise<string> {
  const eth0 = (await run(['ip', '-n', link.netns, '-o', 'link', 'show', 'dev', 'eth0'])).stdout;
  const peer = /eth0@if(\d+)/.exec(eth0)?.[1];
  const nodeLinks = (await run(['ip', '-n', nodeNetns(p, link.node), '-o', 'link', 'show'])).stdout;
  const dev = peer ? new RegExp(`^${peer}: ([^:@]+)[:@]`, 'm').exec(nodeLinks)?.[1] : undefined;
  if (!dev) throw new Error(`pod ${link.pod}: the node end of its eth0 is not in ${nodeNetns(p, link.node)} (${eth0.trim()})`);
  return dev;
}

/**
 * `lab shape --link <namespace>/<pod>`: cap one pod's link both ways (tbf on
 * its eth0, its egress, and on the veth's node end, its ingress), or lift it.
 */
export async function shapePodLink(p: LabPaths, link: { pod: string; netns: string; node: string }, rate: string | undefined): Promise<void> {
  const peer = await podPeerDevice(p, link);
  await shapeDevice(link.netns, 'eth0', rate);
  await shapeDevice(nodeNetns(p, link.node), peer, rate);
}

/** The cap on a pod's link ("500Mbit"), or null. */
export async function podLinkShape(link: { netns: string }): Promise<string | null> {
  return deviceShape(link.netns, 'eth0');
}

export interface Sandbox {
  /** Pod namespace/name and uid. */
  namespace: string;
  name: string;
  uid: string;
  node: string;
  ip: string;
  netns: string;
  veth: string;
}

/** A pod's namespace with eth0 = its end of a veth pair into the node's namespace; idempotent. */
export async function ensurePodSandbox(p: LabPaths, node: LabNode, sb: Sandbox): Promise<void> {
  const nodeNs = nodeNetns(p, node.name);
  await ensureNetns(sb.netns, 'pods');
  if (!(await linkExists(sb.netns, 'eth0'))) {
    // Made in the node's namespace, its peer put straight into the pod's: never in the root namespace.
    if (await linkExists(nodeNs, sb.veth)) await run(['ip', '-n', nodeNs, 'link', 'del', sb.veth]);
    await run(['ip', '-n', nodeNs, 'link', 'add', sb.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', sb.netns]);
  }
  await run(['ip', '-n', nodeNs, 'link', 'set', sb.veth, 'up']);
  await run(['ip', '-n', nodeNs, 'route', 'replace', `${sb.ip}/32`, 'dev', sb.veth]);
  await run(['ip', '-n', sb.netns, 'addr', 'replace', `${sb.ip}/32`, 'dev', 'eth0']);
  await run(['ip', '-n', sb.netns, 'link', 'set', 'eth0', 'up']);
  await run(['ip', '-n', sb.netns, 'route', 'replace', node.internalIP, 'dev', 'eth0', 'scope', 'link']);
  for (const cidr of POD_ROUTES) {
    await run(['ip', '-n', sb.netns, 'route', 'replace', cidr, 'via', node.internalIP, 'dev', 'eth0']);
  }
}

/** Remove a pod's namespace (its veth pair goes with it) and its route in the node's namespace. */
export async function deletePodSandbox(p: LabPaths, sb: Pick<Sandbox, 'netns' | 'node' | 'ip' | 'veth'>): Promise<void> {
  markReady(p, sb.netns, false);
  markPending(p, sb.netns, false);
  await deleteNetns(sb.netns);
  const nodeNs = nodeNetns(p, sb.node);
  if (await netnsExists(nodeNs)) {
    // The veth's deletion took its route; a route to the IP via another pod's veth (IP reused) stays.
    await run(['ip', '-n', nodeNs, 'route', 'del', `${sb.ip}/32`, 'dev', sb.veth], { allowFailure: true });
  }
}
