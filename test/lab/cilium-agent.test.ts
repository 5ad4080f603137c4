/**
 * The lab with a REAL Cilium (`lab up --datapath cilium-native`): the real
 * cilium-agent (kube-proxy replacement) and operator built by
 * `scripts/setup.sh cilium`, no kube-proxy.
 *
 *   - Cilium, not kube-proxy, translates a ClusterIP: no kube-proxy process,
 *     no KUBE-* iptables or nftables rule in the lab namespace, yet a
 *     process in the lab's cgroup (a `kubectl exec`) reaches the Service,
 *     and the real `cilium-dbg bpf lb list` shows its frontend and backend;
 *   - a process OUTSIDE the lab's cgroup (same network namespace) is never
 *     translated, while the lab runs and after `lab down`;
 *   - socket LB is attached to the lab's cgroup only (`bpftool cgroup tree`);
 *   - `lab down` leaves no Cilium program, map, cgroup link, cgroup, mount,
 *     process or changed sysctl behind (`bpftool prog/map list`, /proc).
 *
 * Skipped when the Cilium build is missing (`scripts/setup.sh cilium`).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { labDown, labUp, type LabInfo } from '../../lab/lab';
import { waitFor } from '../../lab/cluster';
import { labPaths } from '../../lab/config';
import { GUARDED_SYSCTLS, cgroup2Mount, checkCiliumBuild, ciliumPaths, labCgroup } from '../../lab/datapath/cilium';
import { execInPod } from '../../src/kube/exec';
import { createPinnedPod, ensureNamespace, netnsCommands, waitPodReady } from '../support/lab';

const LAB = 'tcr';
const NS = 'cilium-real';
const SVC = 'echo';
/** A backend in worker-1's podCIDR (the agent runs as worker-3): the lab's fortio server on 8080 answers every pod IP. */
const BACKEND_IP = '10.244.1.50';
const OUTSIDE_NETNS = 'nb-tcr-outside';

let buildProblem: string | null = null;
try {
  checkCiliumBuild();
} catch (err) {
  buildProblem = (err as Error).message;
}

function sh(argv: string[], timeoutMs = 30_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

interface BpfObject {
  id: number;
  name?: string;
}
/** Ids of the Cilium programs and maps on the machine (names as the kernel keeps them: cil_*, cilium_*). */
function ciliumBpfObjects(): { progs: Set<number>; maps: Set<number> } {
  const progs = JSON.parse(sh(['bpftool', 'prog', 'list', '-j']).stdout || '[]') as BpfObject[];
  const maps = JSON.parse(sh(['bpftool', 'map', 'list', '-j']).stdout || '[]') as BpfObject[];
  return {
    progs: new Set(progs.filter((p) => /^(cil_|tail_|__send_drop_notify|handle_policy)/.test(p.name ?? '')).map((p) => p.id)),
    maps: new Set(maps.filter((m) => /^cilium_/.test(m.name ?? '')).map((m) => m.id)),
  };
}

/** A connect() from a process that is NOT in the lab's cgroup, in network namespace `netns`; true when it got an answer. */
function outsideConnectAnswers(netns: string, ip: string, port: number): boolean {
  const r = sh(['ip', 'netns', 'exec', netns, 'fortio', 'curl', '-timeout', '2s', `http://${ip}:${port}/`], 20_000);
  return r.code === 0 && / 200 /.test(r.stdout + r.stderr);
}

function hookLabDown(): void {
  const cli = path.join(import.meta.dirname, '..', '..', 'lab', 'cli.ts');
  process.on('exit', () => {
    spawnSync(process.execPath, ['--import', 'tsx', cli, 'down', '--name', LAB], { stdio: 'ignore', timeout: 120_000 });
    spawnSync('ip', ['netns', 'del', OUTSIDE_NETNS], { stdio: 'ignore' });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}

describe('lab with a real Cilium agent', { skip: buildProblem ?? false, timeout: 900_000 }, () => {
  let info: LabInfo;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let clusterIP = '';
  let before0: { progs: Set<number>; maps: Set<number> };
  let sysctlsBefore: Record<string, string>;
  const p = labPaths(LAB);

  const agentExec = async (command: string[]) => {
    const pods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=cilium' })).items;
    const pod = pods.find((x) => x.status?.phase === 'Running')!;
    return execInPod({ kubeConfig: kc, namespace: 'kube-system', pod: pod.metadata!.name!, container: 'cilium-agent', command, timeoutMs: 60_000 });
  };

  before(async () => {
    hookLabDown();
    await labDown({ name: LAB });
    before0 = ciliumBpfObjects();
    sysctlsBefore = Object.fromEntries(GUARDED_SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));
    info = await labUp({ name: LAB, datapath: 'cilium-native', onProgress: process.env.LAB_VERBOSE ? (m) => console.error(`[lab ${LAB}] ${m}`) : undefined });
    kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    await ensureNamespace(core, NS);
  });

  after(async () => {
    await labDown({ name: LAB });
    sh(['ip', 'netns', 'del', OUTSIDE_NETNS]);
  });

  it('runs the real agent with kube-proxy replacement, and no kube-proxy at all', async () => {
    assert.equal(info.datapath.kind, 'cilium');
    const status = (await agentExec(['cilium-dbg', 'status'])).stdout;
    assert.match(status, /^KubeProxyReplacement:\s+True/m, status);
    assert.match(status, /^Cilium:\s+Ok\s+1\.19\.4/m, status);
    // `cilium` is the same CLI
    assert.match((await agentExec(['cilium', 'version'])).stdout, /1\.19\.4/);
    const procs = netnsCommands(p.netns);
    assert.ok(procs.some((c) => /cilium-agent /.test(c)), procs.join('\n'));
    assert.ok(!procs.some((c) => /kube-proxy/.test(c)), `no kube-proxy process: ${procs.join('\n')}`);
    const ipt = sh(['ip', 'netns', 'exec', p.netns, 'iptables-save']).stdout;
    assert.doesNotMatch(ipt, /KUBE-/);
    const nft = sh(['ip', 'netns', 'exec', p.netns, 'nft', 'list', 'ruleset']).stdout;
    assert.doesNotMatch(nft, /kube-proxy|KUBE-/);
  });

  it('translates a ClusterIP for processes in the lab cgroup; the real `cilium-dbg bpf lb list` shows it', async () => {
    const svc = await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: SVC }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    });
    clusterIP = svc.spec!.clusterIP!;
    await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
      namespace: NS,
      body: {
        metadata: { name: `${SVC}-manual`, labels: { 'kubernetes.io/service-name': SVC, 'endpointslice.kubernetes.io/managed-by': 'netbench-test' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [BACKEND_IP], conditions: { ready: true } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    });
    const lb = await waitFor(`${clusterIP}:80 in cilium-dbg bpf lb list`, 60_000, async () => {
      const out = (await agentExec(['cilium-dbg', 'bpf', 'lb', 'list'])).stdout;
      return out.includes(`${BACKEND_IP}:8080`) && out.includes(`${clusterIP}:80`) ? out : null;
    }, 500);
    // "<frontend>/TCP (<slot>)   <backend>/TCP (<revnat id>) (<slot>)", the frontend's own entry is slot 0.
    const q = (ip: string) => ip.replaceAll('.', '\\.');
    assert.match(lb, new RegExp(`^${q(clusterIP)}:80/TCP \\(1\\)\\s+${q(BACKEND_IP)}:8080/TCP \\(\\d+\\) \\(1\\)`, 'm'), lb);
    assert.match(lb, new RegExp(`^${q(clusterIP)}:80/TCP \\(0\\)\\s+0\\.0\\.0\\.0:0 \\(\\d+\\) \\(0\\) \\[ClusterIP, non-routable\\]`, 'm'), lb);

    // A client pod (on worker-2): its exec runs under kwok-controller, inside the lab's cgroup.
    const [, client] = info.nodes;
    await createPinnedPod(core, { namespace: NS, name: 'client', node: client!.name });
    await waitPodReady(core, NS, 'client');
    const r = await execInPod({ kubeConfig: kc, namespace: NS, pod: 'client', command: ['fortio', 'curl', `http://${clusterIP}:80/`], timeoutMs: 30_000 });
    assert.match(r.stdout + r.stderr, /HTTP\/1\.1 200/);
  });

  it('never translates a connect() from outside the lab cgroup while the lab runs; socket LB is attached to the lab cgroup only', () => {
    assert.ok(clusterIP);
    // The agent's programs and maps exist now (so the leftovers check below can see them).
    const during = ciliumBpfObjects();
    assert.ok([...during.progs].some((id) => !before0.progs.has(id)), 'no Cilium program loaded');
    assert.ok([...during.maps].some((id) => !before0.maps.has(id)), 'no Cilium map created');
    assert.equal(outsideConnectAnswers(p.netns, clusterIP, 80), false, 'a process outside the lab cgroup reached the ClusterIP');
    // ... while the backend itself answers that process directly.
    assert.equal(outsideConnectAnswers(p.netns, BACKEND_IP, 8080), true, 'the backend does not answer');
    const tree = sh(['bpftool', 'cgroup', 'tree', cgroup2Mount()]).stdout;
    const attachedAt = tree
      .split('\n')
      .reduce<{ cg: string; lines: string[] }[]>((acc, line) => {
        if (line.startsWith('/')) acc.push({ cg: line.trim(), lines: [] });
        else if (acc.length && line.trim() && !/^CgroupPath/.test(line)) acc.at(-1)!.lines.push(line);
        return acc;
      }, [])
      .filter((g) => g.lines.some((l) => /cil_sock/.test(l)));
    assert.deepEqual(attachedAt.map((g) => g.cg), [labCgroup(p)], tree);
  });

  it('`lab down` leaves nothing: programs, maps, cgroup links, cgroup, mounts, processes, sysctls; still no translation after', async () => {
    const cp = ciliumPaths(p);
    await labDown({ name: LAB });
    const now = ciliumBpfObjects();
    assert.deepEqual([...now.progs].filter((id) => !before0.progs.has(id)), [], 'Cilium programs left');
    assert.deepEqual([...now.maps].filter((id) => !before0.maps.has(id)), [], 'Cilium maps left');
    assert.doesNotMatch(sh(['bpftool', 'cgroup', 'tree', cgroup2Mount()]).stdout, new RegExp(p.netns));
    assert.equal(existsSync(labCgroup(p)), false, 'lab cgroup left');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(cp.dir), 'a mount under the lab state dir is left');
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      assert.ok(!cmd.includes(p.stateDir), `process ${pid} of the lab is left: ${cmd.replaceAll('\0', ' ')}`);
    }
    for (const [k, v] of Object.entries(sysctlsBefore)) assert.equal(readFileSync(`/proc/sys/${k}`, 'utf8').trim(), v, k);

    // After: a namespace of the test's own with the lab's address plan and a server on the backend's
    // address; a translation left behind would connect the ClusterIP to it.
    sh(['ip', 'netns', 'del', OUTSIDE_NETNS]);
    assert.equal(sh(['ip', 'netns', 'add', OUTSIDE_NETNS]).code, 0);
    sh(['ip', '-n', OUTSIDE_NETNS, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', OUTSIDE_NETNS, 'route', 'replace', 'local', '10.244.0.0/16', 'dev', 'lo', 'table', 'local']);
    sh(['ip', '-n', OUTSIDE_NETNS, 'route', 'add', '10.96.0.0/16', 'dev', 'lo']);
    const server = spawn('ip', ['netns', 'exec', OUTSIDE_NETNS, 'fortio', 'server', '-http-port', `${BACKEND_IP}:8080`, '-grpc-port', 'disabled', '-redirect-port', 'disabled'], { stdio: 'ignore' });
    try {
      await waitFor('the test server on the backend address', 10_000, async () => outsideConnectAnswers(OUTSIDE_NETNS, BACKEND_IP, 8080), 200);
      assert.equal(outsideConnectAnswers(OUTSIDE_NETNS, clusterIP, 80), false, 'the old ClusterIP is still translated');
    } finally {
      server.kill('SIGTERM');
      sh(['ip', 'netns', 'del', OUTSIDE_NETNS]);
    }
  });
});
