/**
 * The Cilium SIMULATOR's "agent": one lab daemon (in the lab's network
 * namespace) standing in for the cilium-agent of every node. Not Cilium:
 * it loads no BPF and touches no packet (the lab's real kube-proxy carries
 * them). What it does, from the cluster's real state:
 *
 *   - Config at start. A real agent reads cilium-config when it starts and
 *     keeps it until restarted. When a cilium pod is first seen Running it
 *     is stamped with the ConfigMap's data of that moment (annotation
 *     cilium-sim.netbench.dev/agent-config); answers use the stamp of the
 *     longest-running agent. So a patched bpf-lb-map-max or enable-hubble
 *     takes effect after `rollout restart ds/cilium`, as on a cluster.
 *   - The LB map: Services and EndpointSlices through list+watch
 *     (lb-cache.ts), cut at the agent's bpf-lb-map-max.
 *   - Resource usage of the cilium pods for metrics.k8s.io: the annotations
 *     kwok's ClusterResourceUsage reads, written from the REAL kube-proxy
 *     process (CPU from /proc/<pid>/stat, working set from VmRSS).
 *   - The agent CLI: a unix socket that lab/cilium-sim/client.ts (what
 *     `kubectl exec <cilium pod> -- cilium ...` runs) asks; see answer().
 *
 *   node --import ./lab/cilium-sim/resolve-ts.ts lab/cilium-sim/agent.ts <sim config.json>
 * (plain Node strips the types; resolve-ts.ts resolves './render' to render.ts)
 */
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { CoreV1Api, KubeConfig, PatchStrategy, VersionApi, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { LbCache } from './lb-cache';
import {
  AGENT_CONFIG_ANNOTATION,
  RESERVED_IDENTITIES,
  SIM_VERSION,
  allocateIdentities,
  bpfMaps,
  fitLbMap,
  lbListLines,
  lbMapMaxOf,
  parseNfConntrack,
  podIdentityLabels,
  renderCt,
  renderIdentities,
  renderStatus,
} from './render';

export interface SimConfig {
  /** kubeconfig valid inside the lab's network namespace. */
  kubeconfig: string;
  /** Where the agent listens for the CLI client. */
  socket: string;
  podCIDR: string;
  serviceCIDR: string;
  /** Pid file of the process whose /proc figures stand for the agent's (the real kube-proxy). */
  agentPidFile: string;
  /** kube-proxy's healthz in the lab namespace (its status.IPv4 appears after the first completed sync). */
  kubeProxyHealthz: string;
}

const NS = 'kube-system';
const USAGE_CPU = 'kwok.x-k8s.io/usage-cpu';
const USAGE_MEMORY = 'kwok.x-k8s.io/usage-memory';
const CLK_TCK = 100; // Linux USER_HZ on every mainstream kernel config
const USAGE_EVERY_MS = 5000;
const LOOP_MS = 500;

const log = (msg: string) => process.stderr.write(`${new Date().toISOString()} cilium-sim agent: ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  exit: number;
  stdout: string | Iterable<string>;
  stderr?: string;
}

const ok = (stdout: string | Iterable<string>): Answer => ({ exit: 0, stdout });
const fail = (stderr: string, exit = 1, stdout = ''): Answer => ({ exit, stdout, stderr });

const CILIUM_HELP = (name: string) => `CLI for interacting with the local Cilium Agent (netbench lab SIMULATOR ${SIM_VERSION})

Usage:
  ${name} [command]

Available Commands (simulated):
  bpf         Direct access to local BPF maps (lb list, ct list global)
  config      Cilium configuration options
  identity    Manage security identities (list)
  status      Display status of daemon
  version     Print version information
`;

class Agent {
  readonly cfg: SimConfig;
  readonly kc = new KubeConfig();
  readonly core: CoreV1Api;
  readonly lb: LbCache;

  constructor(cfg: SimConfig) {
    this.cfg = cfg;
    this.kc.loadFromFile(cfg.kubeconfig);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.lb = new LbCache(this.kc, log);
  }

  private kubeProxyPid(): number | null {
    try {
      const pid = Number.parseInt(readFileSync(this.cfg.agentPidFile, 'utf8').trim(), 10);
      return pid > 1 ? pid : null;
    } catch {
      return null;
    }
  }

  /** The config the agents run with: the stamp of the longest-running agent pod; before any stamp, the ConfigMap. */
  async agentConfig(): Promise<Record<string, string>> {
    const pods = (await this.core.listNamespacedPod({ namespace: NS, labelSelector: 'k8s-app=cilium' })).items
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.metadata?.annotations?.[AGENT_CONFIG_ANNOTATION])
      .sort((a, b) => +new Date(a.metadata?.creationTimestamp ?? 0) - +new Date(b.metadata?.creationTimestamp ?? 0));
    if (pods.length) return JSON.parse(pods[0].metadata!.annotations![AGENT_CONFIG_ANNOTATION]) as Record<string, string>;
    return this.configMap();
  }

  async configMap(): Promise<Record<string, string>> {
    try {
      return (await this.core.readNamespacedConfigMap({ namespace: NS, name: 'cilium-config' })).data ?? {};
    } catch {
      return {};
    }
  }

  /** Stamp newly started agents with the config they "read", and keep their usage annotations current. */
  async podLoop(): Promise<void> {
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    let prev: { ticks: number; at: number } | null = null;
    let usage: Record<string, string> | null = null;
    let lastError = '';
    for (;;) {
      try {
        const now = Date.now();
        if (!prev || now - prev.at >= USAGE_EVERY_MS) {
          const s = this.sample();
          if (s && prev && s.at > prev.at) {
            const cores = (s.ticks - prev.ticks) / CLK_TCK / ((s.at - prev.at) / 1000);
            usage = { [USAGE_CPU]: `${Math.max(1, Math.round(cores * 1000))}m`, [USAGE_MEMORY]: `${Math.max(1, s.rssKiB)}Ki` };
          }
          prev = s ?? { ticks: 0, at: now };
        }
        const pods: V1Pod[] = (await this.core.listNamespacedPod({ namespace: NS, labelSelector: 'k8s-app=cilium' })).items;
        let config: Record<string, string> | undefined;
        for (const pod of pods) {
          const name = pod.metadata?.name;
          if (!name || pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) continue;
          const have = pod.metadata?.annotations ?? {};
          const annotations: Record<string, string> = {};
          if (!have[AGENT_CONFIG_ANNOTATION]) {
            config ??= await this.configMap(); // this agent "starts" now: it reads the ConfigMap once
            annotations[AGENT_CONFIG_ANNOTATION] = JSON.stringify(config);
          }
          if (usage && (have[USAGE_CPU] !== usage[USAGE_CPU] || have[USAGE_MEMORY] !== usage[USAGE_MEMORY])) Object.assign(annotations, usage);
          if (Object.keys(annotations).length) await this.core.patchNamespacedPod({ namespace: NS, name, body: { metadata: { annotations } } }, mergePatch);
        }
        lastError = '';
      } catch (err) {
        const msg = (err as Error).message;
        if (msg !== lastError) log(`pods: ${msg}`);
        lastError = msg;
      }
      await sleep(LOOP_MS);
    }
  }

  private sample(): { ticks: number; at: number; rssKiB: number } | null {
    const pid = this.kubeProxyPid();
    if (!pid) return null;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the ")" of comm: utime is field 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return { ticks: Number(fields[11]) + Number(fields[12]), at: Date.now(), rssKiB: rss ? Number(rss[1]) : 0 };
    } catch {
      return null;
    }
  }

  private async waitSynced(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.lb.isSynced && Date.now() < deadline) await sleep(100);
    return this.lb.isSynced;
  }

  private async identities(): Promise<string> {
    const nsLabels = new Map((await this.core.listNamespace()).items.map((n) => [n.metadata!.name!, n.metadata?.labels ?? {}]));
    const sets: string[][] = [];
    let cont: string | undefined;
    do {
      const page = await this.core.listPodForAllNamespaces({ limit: 1000, _continue: cont });
      for (const p of page.items) {
        // hostNetwork pods have the host's identity; finished pods have none
        if (p.spec?.hostNetwork || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
        sets.push(podIdentityLabels(p, nsLabels.get(p.metadata?.namespace ?? '') ?? {}));
      }
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return renderIdentities([...RESERVED_IDENTITIES, ...allocateIdentities(sets)]);
  }

  /** What the agent CLI prints for `argv` (argv[0] = cilium | cilium-dbg | bpftool | cat). */
  async answer(argv: string[]): Promise<Answer> {
    const [tool, ...args] = argv;
    if (tool === '__ping') {
      // Ready = the LB view is listed and the real datapath underneath (kube-proxy) has programmed
      // the Services once. Not healthz's 200/503: that says "keeping up", and a kube-proxy behind
      // under 30,000 Services still carries the traffic of those it programmed.
      if (!this.lb.isSynced) return fail('Services/EndpointSlices not listed yet\n');
      const kp = await httpJson(this.cfg.kubeProxyHealthz);
      return kp?.status?.IPv4?.lastUpdated ? ok('synced\n') : fail(`kube-proxy has not completed a sync yet (healthz: ${JSON.stringify(kp)})\n`);
    }
    if (tool === '__stats') {
      const m = process.memoryUsage();
      return ok(JSON.stringify({ ...this.lb.counts(), synced: this.lb.isSynced, rssMb: Math.round(m.rss / 1048576), heapUsedMb: Math.round(m.heapUsed / 1048576) }) + '\n');
    }
    if (tool === 'cat') {
      if (args.length !== 1 || args[0] !== '/proc/1/status') return fail(`cat: the simulator answers only /proc/1/status\n`);
      // The agent is PID 1 of its container; the real kube-proxy process stands for it.
      const pid = this.kubeProxyPid();
      return ok(readFileSync(`/proc/${pid ?? 'self'}/status`, 'utf8'));
    }
    if (tool === 'bpftool') {
      const words = args.filter((a) => !a.startsWith('-'));
      if (!(words.length >= 2 && 'map'.startsWith(words[0]) && ['list', 'show'].includes(words[1]))) {
        return fail(`Error: the netbench lab's bpftool simulator answers only "bpftool map list -j" (got: ${args.join(' ')})\n`, 255);
      }
      const maps = bpfMaps(await this.agentConfig(), os.availableParallelism());
      if (args.some((a) => a === '-j' || a === '--json' || a === '-p' || a === '--pretty')) return ok(JSON.stringify(maps) + '\n');
      return ok(maps.map((m) => `${m.id}: ${m.type}  name ${m.name}  flags 0x${m.flags.toString(16)}\n\tkey ${m.bytes_key}B  value ${m.bytes_value}B  max_entries ${m.max_entries}  memlock ${m.bytes_memlock}B\n`).join(''));
    }
    if (tool !== 'cilium' && tool !== 'cilium-dbg') return fail(`unknown simulated tool "${tool}"\n`, 127);

    const words = args.filter((a) => !a.startsWith('-'));
    if (args.includes('-h') || args.includes('--help') || words.length === 0) return ok(CILIUM_HELP(tool));
    switch (words.join(' ')) {
      case 'status': {
        const [config, version, nodes] = await Promise.all([this.agentConfig(), this.kc.makeApiClient(VersionApi).getCode(), this.core.listNode()]);
        const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        return ok(renderStatus({ config, kubeVersion: version.gitVersion, readyNodes: ready, nodes: nodes.items.length }));
      }
      case 'version':
        return ok(`Client: ${SIM_VERSION} (netbench lab simulator) linux/amd64\nDaemon: ${SIM_VERSION} (netbench lab simulator) linux/amd64\n`);
      case 'bpf lb list': {
        if (!(await this.waitSynced(60_000))) return fail('Error: the simulated agent has not listed Services/EndpointSlices yet\n');
        const { kept } = fitLbMap(this.lb.frontends(), lbMapMaxOf(await this.agentConfig()));
        return ok(lbListLines(kept));
      }
      case 'bpf ct list global': {
        // The lab namespace's real kernel conntrack table (this daemon runs in that namespace).
        const text = readFileSync('/proc/net/nf_conntrack', 'utf8');
        const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
        return ok(renderCt(parseNfConntrack(text), this.cfg.podCIDR, this.cfg.serviceCIDR, uptime));
      }
      case 'identity list':
        return ok(await this.identities());
    }
    if (words[0] === 'config') {
      // The agent's `config` takes <Option>=<value> pairs; the reference's
      // `config set hubble-disable true` gets this answer from the real agent.
      if (words.length > 1 && !words[1].includes('=')) return fail('', 1, 'Invalid option format\n');
      return fail('netbench lab simulator: runtime options are not simulated; change cilium-config and restart the agents\n');
    }
    return fail(`Error: unknown command "${words.join(' ')}" for "${tool}"\nRun '${tool} --help' for usage.\n`);
  }

  /** One CLI request per connection: a JSON line {argv}; reply: a JSON line {exit, stderr}, then stdout until close. */
  serve(): void {
    rmSync(this.cfg.socket, { force: true }); // a stale socket of a killed agent would block listen()
    const server = net.createServer((conn) => {
      let buf = '';
      conn.setEncoding('utf8');
      conn.on('error', () => conn.destroy());
      const onData = async (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        conn.off('data', onData);
        let answer: Answer;
        try {
          answer = await this.answer((JSON.parse(buf.slice(0, nl)) as { argv: string[] }).argv);
        } catch (err) {
          answer = fail(`Error: netbench lab simulator: ${(err as Error).message}\n`);
        }
        conn.write(JSON.stringify({ exit: answer.exit, stderr: answer.stderr ?? '' }) + '\n');
        await writeAll(conn, answer.stdout);
        conn.end();
      };
      conn.on('data', onData);
    });
    server.on('error', (err) => {
      log(`socket: ${err.message}`);
      process.exit(1);
    });
    server.listen(this.cfg.socket, () => log(`listening on ${this.cfg.socket}`));
  }
}

/** The JSON body of a GET whatever its status (kube-proxy's healthz answers 503 with a body); null when nothing answers. */
function httpJson(url: string): Promise<{ status?: { IPv4?: { lastUpdated?: string } } } | null> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** Write text in 64 KiB chunks, waiting for the reader (a 30,000-Service listing never sits in memory twice). */
async function writeAll(conn: net.Socket, out: string | Iterable<string>): Promise<void> {
  const lines = typeof out === 'string' ? [out] : out;
  let buf = '';
  const flush = async () => {
    if (!buf || conn.destroyed) return;
    if (!conn.write(buf)) await new Promise((r) => (conn.once('drain', r), conn.once('close', r)));
    buf = '';
  };
  for (const line of lines) {
    buf += typeof out === 'string' ? line : line + '\n';
    if (buf.length >= 64 * 1024) await flush();
    if (conn.destroyed) return;
  }
  await flush();
}

function main(argv: string[]): void {
  const [configFile] = argv;
  if (!configFile) {
    process.stderr.write('usage: agent.ts <sim config.json>\n');
    process.exit(2);
  }
  const agent = new Agent(JSON.parse(readFileSync(configFile, 'utf8')) as SimConfig);
  process.on('SIGTERM', () => process.exit(0));
  agent.lb.start();
  agent.serve();
  void agent.podLoop();
}

main(process.argv.slice(2));
