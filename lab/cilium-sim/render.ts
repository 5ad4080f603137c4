/**
 * Renderers of the Cilium agent CLI SIMULATOR's answers (pure: no I/O).
 * The layouts follow the real agent's output closely enough for netbench's
 * parsers and the reference's greps; sizes and ids are the simulator's own
 * (see each function). Used by lab/cilium-sim/agent.ts.
 */
import type { V1Pod } from '@kubernetes/client-node';

export const SIM_VERSION = '1.16.0-netbench-sim';
/** Pod annotation: the cilium-config data the simulated agent started with, as JSON (written by agent.ts). */
export const AGENT_CONFIG_ANNOTATION = 'cilium-sim.netbench.dev/agent-config';
export const DEFAULT_LB_MAP_MAX = 65536;

/** A cilium-config value as the agent parses it: a positive integer, else the default. */
export function configInt(config: Record<string, string>, key: string, dflt: number): number {
  const v = config[key];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : dflt;
}

export function lbMapMaxOf(config: Record<string, string>): number {
  return configInt(config, 'bpf-lb-map-max', DEFAULT_LB_MAP_MAX);
}

const isTrue = (v: string | undefined) => (v ?? '').trim().toLowerCase() === 'true';

export interface StatusInput {
  config: Record<string, string>;
  kubeVersion: string;
  readyNodes: number;
  nodes: number;
}

/** `cilium status`: the lines netbench and the reference read, in the agent's layout. */
export function renderStatus(s: StatusInput): string {
  const c = s.config;
  const tunnel = (c['routing-mode'] ?? 'tunnel') === 'tunnel';
  const proto = c['tunnel-protocol'] || 'vxlan';
  const minor = /^v?(\d+\.\d+)/.exec(s.kubeVersion)?.[1] ?? '?';
  const kpr = isTrue(c['kube-proxy-replacement']) ? 'True' : 'False';
  const hubble = isTrue(c['enable-hubble'])
    ? 'Ok              Current/Max Flows: 0/4095 (0.00%), Flows/s: 0.00   Metrics: Disabled'
    : 'Disabled';
  const row = (k: string, v: string) => `${`${k}:`.padEnd(25)}${v}`;
  return [
    row('KVStore', 'Disabled'),
    row('Kubernetes', `Ok   ${minor} (${s.kubeVersion}) [linux/amd64]`),
    row('Kubernetes APIs', '["EndpointSliceOrEndpoint", "cilium/v2::CiliumNetworkPolicy", "core/v1::Namespace", "core/v1::Pods", "core/v1::Service"]'),
    row('KubeProxyReplacement', kpr),
    row('Cilium', `Ok   ${SIM_VERSION} (the netbench lab's simulator of the agent CLI; kube-proxy carries the packets)`),
    row('Cilium health daemon', 'Ok'),
    row('Routing', tunnel ? `Network: Tunnel [${proto}]   Host: Legacy` : 'Network: Native   Host: Legacy'),
    row('Masquerading', 'IPTables [IPv4: Enabled, IPv6: Disabled]'),
    row('Controller Status', '1/1 healthy'),
    row('Hubble', hubble),
    row('Encryption', 'Disabled'),
    row('Cluster health', `${s.readyNodes}/${s.nodes} reachable`),
    '',
  ].join('\n');
}

export interface Frontend {
  /** "10.96.0.1:443" (TCP) or "10.96.0.10:53/UDP" */
  address: string;
  /** Reverse-NAT id: the Service frontend's id, allocated in creation order. */
  revNat: number;
  /** Backend addresses ("ip:port") in slot order. */
  backends: string[];
}

/** Entries a frontend takes in the LB map: its master slot plus one slot per backend. */
export const entriesOf = (f: Frontend) => 1 + f.backends.length;

/**
 * The LB map as a fixed-size table: frontends fill it in creation order
 * (`frontends` must be in that order) until `max` entries; the rest do not
 * fit, as when the real agent's map is full. Returns what fits, the last
 * frontend possibly cut after its master slot.
 */
export function fitLbMap(frontends: Frontend[], max: number): { kept: Frontend[]; dropped: number } {
  const kept: Frontend[] = [];
  let used = 0;
  let dropped = 0;
  for (const f of frontends) {
    const room = max - used;
    if (room <= 0) {
      dropped += entriesOf(f);
      continue;
    }
    if (entriesOf(f) <= room) {
      kept.push(f);
      used += entriesOf(f);
    } else {
      kept.push({ ...f, backends: f.backends.slice(0, room - 1) });
      dropped += entriesOf(f) - room;
      used = max;
    }
  }
  return { kept, dropped };
}

/**
 * `cilium bpf lb list` lines: a header, then per frontend (sorted as the
 * agent sorts them: by address string) its master entry and one line per
 * backend slot, the address only on the first line, columns padded as Go's
 * tabwriter does (padding 3).
 */
export function* lbListLines(kept: Frontend[]): Generator<string> {
  const sorted = [...kept].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const first = 'SERVICE ADDRESS';
  const width = Math.max(first.length, ...sorted.map((f) => f.address.length)) + 3;
  yield `${first.padEnd(width)}BACKEND ADDRESS (REVNAT_ID) (SLOT)`;
  for (const f of sorted) {
    yield `${f.address.padEnd(width)}0.0.0.0:0 (${f.revNat}) (0) [ClusterIP, non-routable]`;
    for (let i = 0; i < f.backends.length; i++) yield `${''.padEnd(width)}${f.backends[i]} (${f.revNat}) (${i + 1})`;
  }
}

export interface BpfMapInfo {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
  bytes_memlock: number;
  frozen: number;
}

const r8 = (n: number) => Math.ceil(n / 8) * 8;
const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const pageRound = (n: number) => Math.ceil(n / 4096) * 4096;

/**
 * Memory of a map, the simulator's estimate shaped like the kernel's:
 * preallocated hash maps pay per element (element header + key + value,
 * value × CPUs for per-CPU maps) plus a bucket array; arrays pay per slot;
 * page-rounded. It grows linearly with max_entries, which is the point.
 */
export function memlockOf(type: string, key: number, value: number, maxEntries: number, cpus: number): number {
  switch (type) {
    case 'hash':
    case 'lru_hash':
      return pageRound(maxEntries * (48 + r8(key) + r8(value)) + pow2(maxEntries) * 16);
    case 'percpu_hash':
    case 'lru_percpu_hash':
      return pageRound(maxEntries * (48 + r8(key) + r8(value) * cpus) + pow2(maxEntries) * 16);
    case 'lpm_trie':
      return pageRound(maxEntries * (40 + r8(key) + r8(value)));
    case 'perf_event_array':
    case 'prog_array':
      return pageRound(maxEntries * 8);
    default:
      return pageRound(maxEntries * r8(value));
  }
}

/** The kernel keeps 15 characters of a map name (BPF_OBJ_NAME_LEN 16 with the NUL); bpftool shows those. */
export const kernelMapName = (name: string) => name.slice(0, 15);

/**
 * `bpftool map list -j` of a Cilium node: the agent's maps with the sizes
 * its config gives them (LB maps: bpf-lb-map-max; CT: bpf-ct-global-*-max;
 * NAT: bpf-nat-global-max; policy: bpf-policy-map-max). Key/value sizes
 * are the simulator's approximations of Cilium's structs.
 */
export function bpfMaps(config: Record<string, string>, cpus: number): BpfMapInfo[] {
  const lb = lbMapMaxOf(config);
  const ctTcp = configInt(config, 'bpf-ct-global-tcp-max', 524288);
  const ctAny = configInt(config, 'bpf-ct-global-any-max', 262144);
  const nat = configInt(config, 'bpf-nat-global-max', 524288);
  const policy = configInt(config, 'bpf-policy-map-max', 16384);
  const tunnel = (config['routing-mode'] ?? 'tunnel') === 'tunnel';
  const NO_PREALLOC = 1;
  const defs: [string, string, number, number, number, number][] = [
    // name, type, key, value, max_entries, flags
    ['cilium_lb4_services_v2', 'hash', 12, 12, lb, 0],
    ['cilium_lb4_backends_v3', 'hash', 4, 16, lb, 0],
    ['cilium_lb4_reverse_nat', 'hash', 2, 6, lb, 0],
    ['cilium_lb4_affinity', 'lru_hash', 16, 16, lb, 0],
    ['cilium_lb_affinity_match', 'hash', 8, 4, lb, 0],
    ['cilium_lb4_source_range', 'lpm_trie', 20, 1, lb, NO_PREALLOC],
    ['cilium_ct4_global', 'lru_hash', 14, 56, ctTcp, 0],
    ['cilium_ct_any4_global', 'lru_hash', 14, 56, ctAny, 0],
    ['cilium_snat_v4_external', 'lru_hash', 14, 40, nat, 0],
    ['cilium_nodeport_neigh4', 'lru_hash', 4, 12, nat, 0],
    ['cilium_ipcache_v2', 'lpm_trie', 40, 24, 512000, NO_PREALLOC],
    ['cilium_lxc', 'hash', 20, 48, 65535, 0],
    ['cilium_policy_v2_00001', 'hash', 16, 8, policy, 0],
    ['cilium_metrics', 'percpu_hash', 8, 16, 1024, 0],
    ['cilium_node_map_v2', 'hash', 20, 8, 16384, 0],
    ['cilium_events', 'perf_event_array', 4, 4, cpus, 0],
    ['cilium_signals', 'perf_event_array', 4, 4, cpus, 0],
    ['cilium_calls_hostns', 'prog_array', 4, 4, 50, 0],
  ];
  if (tunnel) defs.push(['cilium_tunnel_map', 'hash', 20, 20, 65536, 0]);
  return defs.map(([name, type, key, value, max, flags], i) => ({
    id: 100 + i,
    type,
    name: kernelMapName(name),
    flags,
    bytes_key: key,
    bytes_value: value,
    max_entries: max,
    bytes_memlock: memlockOf(type, key, value, max, cpus),
    frozen: 0,
  }));
}

export interface Identity {
  id: number;
  labels: string[];
}

export const RESERVED_IDENTITIES: Identity[] = [
  { id: 1, labels: ['reserved:host'] },
  { id: 2, labels: ['reserved:world'] },
  { id: 3, labels: ['reserved:unmanaged'] },
  { id: 4, labels: ['reserved:health'] },
  { id: 5, labels: ['reserved:init'] },
  { id: 6, labels: ['reserved:remote-node'] },
  { id: 7, labels: ['reserved:kube-apiserver', 'reserved:remote-node'] },
  { id: 8, labels: ['reserved:ingress'] },
];

/** Labels Cilium leaves out of a pod's identity (they differ per pod or per rollout). */
const IGNORED_LABELS = new Set(['pod-template-hash', 'controller-revision-hash', 'pod-template-generation', 'controller-uid', 'job-name', 'batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name']);

/** The security labels of a pod, as Cilium derives its identity from them (sorted). */
export function podIdentityLabels(pod: V1Pod, namespaceLabels: Record<string, string>): string[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Set<string>([
    `k8s:io.kubernetes.pod.namespace=${ns}`,
    `k8s:io.cilium.k8s.policy.cluster=default`,
    `k8s:io.cilium.k8s.policy.serviceaccount=${pod.spec?.serviceAccountName ?? 'default'}`,
  ]);
  for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) if (!IGNORED_LABELS.has(k)) out.add(`k8s:${k}=${v}`);
  for (const [k, v] of Object.entries(namespaceLabels)) out.add(`k8s:io.cilium.k8s.namespace.labels.${k}=${v}`);
  return [...out].sort();
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * One identity per distinct label set, numbered like Cilium's CRD allocator
 * (256..65535), by a hash of the labels so a set keeps its number while it
 * exists.
 */
export function allocateIdentities(labelSets: string[][]): Identity[] {
  const unique = [...new Map(labelSets.map((l) => [l.join('\n'), l])).values()].sort((a, b) => (a.join('\n') < b.join('\n') ? -1 : 1));
  const used = new Set<number>();
  const out: Identity[] = [];
  for (const labels of unique) {
    let id = 256 + (fnv1a(labels.join('\n')) % (65536 - 256));
    while (used.has(id)) id = id === 65535 ? 256 : id + 1;
    used.add(id);
    out.push({ id, labels });
  }
  return out.sort((a, b) => a.id - b.id);
}

export function renderIdentities(ids: Identity[]): string {
  const lines = ['ID      LABELS'];
  for (const i of ids) {
    i.labels.forEach((l, n) => lines.push(`${(n === 0 ? String(i.id) : '').padEnd(8)}${l}`));
  }
  return lines.join('\n') + '\n';
}

export interface CtTuple {
  proto: 'TCP' | 'UDP';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** Where the connection really went (differs from dst:dport after a Service's DNAT). */
  replySrc: string;
  replySport: number;
  timeout: number;
}

/** Kernel conntrack entries (/proc/net/nf_conntrack), TCP and UDP over IPv4. */
export function parseNfConntrack(text: string): CtTuple[] {
  const out: CtTuple[] = [];
  for (const line of text.split('\n')) {
    const m = /^ipv4\s+2\s+(tcp|udp)\s+\d+\s+(\d+)\s/.exec(line);
    if (!m) continue;
    const f = (k: string, n: number) => [...line.matchAll(new RegExp(`\\b${k}=(\\S+)`, 'g'))][n]?.[1];
    const src = f('src', 0);
    const dst = f('dst', 0);
    if (!src || !dst) continue;
    out.push({
      proto: m[1].toUpperCase() as 'TCP' | 'UDP',
      src,
      sport: Number(f('sport', 0)),
      dst,
      dport: Number(f('dport', 0)),
      replySrc: f('src', 1) ?? dst,
      replySport: Number(f('sport', 1) ?? f('dport', 0)),
      timeout: Number(m[2]),
    });
  }
  return out;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

/**
 * `cilium bpf ct list global`: the connections of pods and Services (the
 * traffic Cilium's programs would see); a Service connection shows as its
 * frontend entry plus the backend entry, as Cilium keeps both.
 */
export function renderCt(tuples: CtTuple[], podCIDR: string, serviceCIDR: string, uptimeSec: number): string {
  const lines: string[] = [];
  const tail = 'Packets=0 Bytes=0 RxFlagsSeen=0x00 LastRxReport=0 TxFlagsSeen=0x00 LastTxReport=0 Flags=0x0000 [ ] RevNAT=0 SourceSecurityID=0 IfIndex=0 BackendID=0';
  for (const t of tuples) {
    const relevant = [t.src, t.dst].some((ip) => inCidr(ip, podCIDR) || inCidr(ip, serviceCIDR));
    if (!relevant) continue;
    const expires = Math.floor(uptimeSec) + t.timeout;
    lines.push(`${t.proto} OUT ${t.src}:${t.sport} -> ${t.dst}:${t.dport} expires=${expires} ${tail}`);
    if (t.replySrc !== t.dst || t.replySport !== t.dport) {
      lines.push(`${t.proto} OUT ${t.src}:${t.sport} -> ${t.replySrc}:${t.replySport} expires=${expires} ${tail}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}
