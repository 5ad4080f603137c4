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
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { labDown, labUp, type LabInfo } from '../../lab/lab';
import { waitFor } from '../../lab/cluster';
import { labPaths } from '../../lab/config';
import { GUARDED_SYSCTLS, cgroup2Mount, checkCiliumBuild, ciliumPaths, labCgroup } from '../../lab/datapath/cilium';
import { execInPod } from '../../src/kube/exec';
import { MockActivityEnvironment } from '@temporalio/testing';
import { makeCiliumActivities } from '../../src/activities/cilium';
import { DEFAULT_LB_MAP_MAX, makeClusterActivities } from '../../src/activities/cluster';
import { DATAPATH_COMMAND, dummyMatchers, makeDatapathActivities } from '../../src/activities/datapath';
import { makeMetricsActivities } from '../../src/activities/metrics';
import { makeServiceActivities } from '../../src/activities/services';
import { makeKubeClients, type KubeClients } from '../../src/kube/client';
import { parseBpftoolMapList } from '../../src/tools/bpftool';
import { ciliumEndpointListArgs, ciliumPolicyGetArgs, ciliumStatusArgs, countCiliumLines, describeEndpoints, parseCiliumEndpointList, parseCiliumPolicyGet, policyImported } from '../../src/tools/cilium';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createPinnedPod, ensureNamespace, netnsCommands, waitPodReady } from '../support/lab';

const LAB = 'tcr';
/** Real outputs for the parsers' unit tests (test/unit/tools/cilium-real.test.ts), rewritten with CILIUM_SAVE_FIXTURES=1. */
const FIXTURES = path.join(import.meta.dirname, '..', 'unit', 'tools', 'fixtures', 'cilium-v1.19.4');
function saveFixture(name: string, text: string): void {
  if (process.env.CILIUM_SAVE_FIXTURES === '1') writeFileSync(path.join(FIXTURES, name), text);
}
const NS = 'cilium-real';
const SVC = 'echo';
/** A backend in worker-1's podCIDR (the agent runs as worker-3): the lab's fortio server on 8080 answers every pod IP. */
const BACKEND_IP = '10.244.1.50';
const OUTSIDE_NETNS = 'nb-tcr-outside';
const SCALE_NS = 'cilium-real-scale';
const EPS = 4;
/** Run an activity as the worker would (its Context, heartbeats, cancellation). */
const act = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment().run(fn as never, ...(args as unknown[] as never[])) as Promise<R>;

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

/**
 * The programs and maps the lab's agent pinned (its own bpffs, seen from its
 * mount namespace): what is certainly this lab's, even while other Cilium
 * labs run on the machine. Links count by the program they hold.
 */
function pinnedObjects(agentPid: string, bpffs: string): { progs: Set<number>; maps: Set<number> } {
  const out = { progs: new Set<number>(), maps: new Set<number>() };
  const pins = sh(['nsenter', '-t', agentPid, '-m', 'find', bpffs, '-type', 'f']).stdout.split('\n').filter(Boolean);
  for (const pin of pins) {
    const show = (kind: string) => {
      const r = sh(['nsenter', '-t', agentPid, '-m', 'bpftool', '-j', kind, 'show', 'pinned', pin]);
      return r.code === 0 ? (JSON.parse(r.stdout) as { id: number; prog_id?: number }) : null;
    };
    const map = show('map');
    if (map) {
      out.maps.add(map.id);
      continue;
    }
    const prog = show('prog');
    if (prog) {
      out.progs.add(prog.id);
      continue;
    }
    const link = show('link');
    if (link?.prog_id) out.progs.add(link.prog_id);
  }
  return out;
}

/** Another cilium-agent on the machine (another lab, another engineer's). */
function otherCiliumAgents(): number {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d) && (() => {
    try {
      return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'cilium-agent';
    } catch {
      return false;
    }
  })()).length;
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
  /** Pinned by the lab's agent (ids), recorded while it runs, before every agent restart. */
  const ours = { progs: new Set<number>(), maps: new Set<number>() };
  const recordOurs = () => {
    const cp = ciliumPaths(p);
    const got = pinnedObjects(readFileSync(cp.agentPid, 'utf8').trim(), cp.bpffs);
    for (const id of got.progs) ours.progs.add(id);
    for (const id of got.maps) ours.maps.add(id);
    return got;
  };
  let sysctlsBefore: Record<string, string>;
  let kube: KubeClients;
  let tmp: string;
  const timings: Record<string, number> = {};
  const p = labPaths(LAB);
  const lbEntries = async () => countCiliumLines((await agentExec(DATAPATH_COMMAND.cilium)).stdout, 'lb').entries;
  /** The lab agent's own LB services map, by its pin (`bpftool map list` sees every Cilium lab's maps on this machine). */
  const lbServicesMap = async () => {
    const pin = path.join(ciliumPaths(p).bpffs, 'tc', 'globals', 'cilium_lb4_services_v2');
    return parseBpftoolMapList(`[${(await agentExec(['bpftool', 'map', 'show', 'pinned', pin, '-j'])).stdout}]`).maps[0]!;
  };

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
    info = await labUp({ name: LAB, network: 'shared', datapath: 'cilium-native', onProgress: process.env.LAB_VERBOSE ? (m) => console.error(`[lab ${LAB}] ${m}`) : undefined });
    kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    kube = makeKubeClients({ kubeConfig: kc });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'netbench-cilium-agent-'));
    await ensureNamespace(core, NS);
  });

  after(async () => {
    await kube?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    console.log(`real cilium lab timings: ${JSON.stringify(timings)}`);
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
    const pinned = recordOurs();
    assert.ok(pinned.progs.size >= 10 && pinned.maps.size >= 10, `pinned by the lab's agent: ${pinned.progs.size} programs, ${pinned.maps.size} maps`);
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
    // Ours has them; the machine's root cgroup never; any other holder is another lab's own cgroup.
    assert.ok(attachedAt.some((g) => g.cg === labCgroup(p)), tree);
    assert.ok(!attachedAt.some((g) => g.cg === cgroup2Mount()), tree);
    for (const g of attachedAt) assert.match(g.cg, new RegExp(`^${cgroup2Mount()}/nb-[a-z0-9-]+$`), tree);
  });

  it('netbench detects it as cilium-native through the real `cilium status`', async () => {
    const facts = await act(makeClusterActivities({ kubeConfig: kc }).inspectCluster, { contextName: info.context, outputDir: tmp });
    assert.equal(facts.clusterType, 'cilium-native');
    assert.equal(facts.proxyMode, 'cilium');
    assert.match(facts.detectedBy, /cilium status tunnel: disabled/);
  });

  it('convergence counts real LB entries: per Service a wildcard, a frontend and one entry per backend', async () => {
    const before = await lbEntries();
    const n = 20;
    const created = await act(makeServiceActivities({ kube }).createDummyServices, { namespace: SCALE_NS, from: 1, to: n, endpointsPerService: EPS, parallel: 8 });
    assert.equal(created.created + created.existed, n);
    const t0 = Date.now();
    const conv = await act(makeDatapathActivities({ kubeConfig: kc }).waitDatapathConverged, {
      proxyMode: 'cilium',
      scaleNamespace: SCALE_NS,
      expectedServices: n,
      endpointsPerService: EPS,
      timeoutSec: 60,
    });
    timings.convergeSec = (Date.now() - t0) / 1000;
    assert.equal(conv.converged, true, conv.reason);
    assert.equal(conv.observed, n * EPS);
    const out = (await agentExec(DATAPATH_COMMAND.cilium)).stdout;
    saveFixture(('cilium-bpf-lb-list-dummies.txt'), out);
    const m = dummyMatchers('cilium', SCALE_NS, EPS);
    assert.equal(out.split('\n').filter((l) => m.line.test(l)).length, n * EPS);
    assert.equal(await lbEntries(), before + n * (2 + EPS), 'Cilium 1.19: "<ClusterIP>:0/ANY" wildcard + frontend + one per backend');
  });

  it('LB map: the real bpf-lb-map-max is read, an approved fix patches cilium-config, restarts the real agent, and the real map grows', async () => {
    const cluster = makeClusterActivities({ kubeConfig: kc });
    recordOurs();
    const cilium = makeCiliumActivities({ kubeConfig: kc });
    assert.equal(await act(cluster.getLbMapMax), DEFAULT_LB_MAP_MAX);
    const before = await lbServicesMap();
    assert.equal(before.maxEntries, DEFAULT_LB_MAP_MAX);
    const entries = await lbEntries();
    const agentPid = readFileSync(ciliumPaths(p).agentPid, 'utf8').trim();

    const big = 131_072;
    await act(cilium.patchLbMapMax, { value: big });
    assert.equal((await lbServicesMap()).maxEntries, DEFAULT_LB_MAP_MAX, 'the running agent keeps its map until restarted');
    const t0 = Date.now();
    await act(cilium.rolloutRestartCilium, { timeoutSec: 300 });
    const after = await waitFor('the restarted agent with the bigger map', 300_000, async () => {
      const m = await lbServicesMap();
      return m.maxEntries === big ? m : null;
    }, 1_000);
    timings.lbMapRestartSec = (Date.now() - t0) / 1000;
    assert.notEqual(readFileSync(ciliumPaths(p).agentPid, 'utf8').trim(), agentPid, 'a new agent process');
    assert.ok(after.bytes > before.bytes, `map memory ${before.bytes} -> ${after.bytes}`);
    await waitFor('every LB entry back after the restart', 60_000, async () => (await lbEntries()) === entries);
    // ... and restored as a run restores it.
    await act(cilium.restoreCiliumConfig, { key: 'bpf-lb-map-max', timeoutSec: 300 });
    await waitFor('the default map again', 300_000, async () => (await lbServicesMap()).maxEntries === DEFAULT_LB_MAP_MAX, 1_000);
  });

  it('Hubble toggle: enable-hubble in cilium-config and a real agent restart', async () => {
    recordOurs();
    const cilium = makeCiliumActivities({ kubeConfig: kc });
    const t0 = Date.now();
    assert.deepEqual(await act(cilium.setHubble, { enabled: false, timeoutSec: 300 }), { previous: 'true', restarted: true });
    await waitFor('Hubble: Disabled in the real cilium status', 300_000, async () => /^Hubble:\s+Disabled/m.test((await agentExec(ciliumStatusArgs())).stdout), 1_000);
    timings.hubbleOffSec = (Date.now() - t0) / 1000;
    saveFixture(('cilium-status-native-hubble-disabled.txt'), (await agentExec(ciliumStatusArgs())).stdout);
    assert.deepEqual(await act(cilium.setHubble, { enabled: true, timeoutSec: 300 }), { previous: 'false', restarted: true });
    await waitFor('Hubble: Ok in the real cilium status', 300_000, async () => /^Hubble:\s+Ok/m.test((await agentExec(ciliumStatusArgs())).stdout), 1_000);
  });

  it('L7 policy: the real agent refuses netbench\'s L7 CiliumNetworkPolicy (no L7 proxy here) and says why in its pod log; L3/L4 is imported', async () => {
    const cilium = makeCiliumActivities({ kubeConfig: kc });
    const since = new Date().toISOString();
    await act(cilium.applyPolicy, { ns: NS, kind: 'l3l4' });
    await act(cilium.applyPolicy, { ns: NS, kind: 'l7' });
    const pods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=cilium' })).items;
    const agentPod = pods.find((x) => x.status?.phase === 'Running')!;
    const podName = agentPod.metadata!.name!;
    const refusal = await waitFor('the agent\'s refusal in `kubectl logs`', 30_000, async () => {
      const log = await core.readNamespacedPodLog({ namespace: 'kube-system', name: podName, container: 'cilium-agent', sinceSeconds: 120 });
      return /Unable to add CiliumNetworkPolicy.*ciliumNetworkPolicyName=allow-fortio-benchmark-l7 .*error="([^"]+)"/.exec(log)?.[1];
    }, 1_000);
    assert.equal(refusal, 'Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled');
    // `cilium-dbg policy get -o json`: the agent's policy repository, its rules with their labels.
    const policyGet = async () => (await agentExec(ciliumPolicyGetArgs())).stdout;
    const repoText = await waitFor('the L3/L4 rule in `cilium-dbg policy get -o json`', 30_000, async () => {
      const text = await policyGet();
      return policyImported(parseCiliumPolicyGet(text), NS, 'allow-fortio-benchmark') ? text : null;
    }, 1_000);
    assert.equal(policyImported(parseCiliumPolicyGet(repoText), NS, 'allow-fortio-benchmark-l7'), false, 'the L7 rule was not imported');
    saveFixture('cilium-policy-get-l3l4-imported.json', repoText);
    const log = await core.readNamespacedPodLog({ namespace: 'kube-system', name: podName, container: 'cilium-agent', sinceSeconds: 120, timestamps: true });
    saveFixture('cilium-agent-log-policies.txt', log.split('\n').filter((l) => /CiliumNetworkPolicy/.test(l)).join('\n') + '\n');

    // netbench's own questions, as the run asks them (activities/cilium.ts), on the node of each pod.
    const node = agentPod.spec!.nodeName!;
    const l7 = await act(cilium.policyVerdict, { ns: NS, kind: 'l7', node, since, timeoutSec: 30 });
    assert.equal(l7.verdict, 'refused', JSON.stringify(l7));
    assert.equal(l7.refusal, 'Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled');
    assert.match(l7.logLine!, /msg="Unable to add CiliumNetworkPolicy".*ciliumNetworkPolicyName=allow-fortio-benchmark-l7/);
    const l34 = await act(cilium.policyVerdict, { ns: NS, kind: 'l3l4', node, since, timeoutSec: 30 });
    assert.equal(l34.verdict, 'imported', JSON.stringify(l34));
    assert.ok((l34.revision ?? 0) >= 1);
    // A refusal logged before `since` (an earlier run's) is not this policy's verdict.
    await act(cilium.deletePolicy, { ns: NS, kind: 'l7' });
    await act(cilium.applyPolicy, { ns: NS, kind: 'l7' });
    const later = await act(cilium.policyVerdict, { ns: NS, kind: 'l7', node, since: new Date(Date.now() + 60_000).toISOString(), timeoutSec: 3 });
    assert.equal(later.verdict, 'unknown', JSON.stringify(later));

    // The benchmark pods' endpoints: the lab's pods share one network namespace, so the agent has none for them.
    const endpointsText = (await agentExec(ciliumEndpointListArgs())).stdout;
    saveFixture('cilium-endpoint-list.json', endpointsText);
    const eps = await act(cilium.ciliumEndpoints, { ns: NS, pods: ['client'] });
    assert.equal(eps.pods[0]!.node, info.nodes[1]!.name);
    assert.ok(eps.pods[0]!.agentPod, JSON.stringify(eps));
    assert.equal(eps.pods[0]!.endpointId, undefined, JSON.stringify(eps));
    assert.equal(eps.agents[0]!.lab, true);
    assert.equal(eps.agents[0]!.error, undefined);
    assert.equal(eps.agents[0]!.endpoints, describeEndpoints(parseCiliumEndpointList(endpointsText)));
    console.log(`real agent: ${JSON.stringify(eps)}`);
    await act(cilium.deletePolicy, { ns: NS, kind: 'l3l4' });
    await act(cilium.deletePolicy, { ns: NS, kind: 'l7' });
  });

  it('component metrics from the real agent: bpftool map memory, LB/CT/identity counts, agent RSS', async () => {
    const metrics = await act(makeMetricsActivities({ kubeConfig: kc }).collectComponentMetrics, { proxyMode: 'cilium', outputDir: tmp });
    assert.deepEqual(metrics.failures, []);
    assert.ok((metrics.bpfMaps?.mapCount ?? 0) >= 15, JSON.stringify(metrics.bpfMaps));
    assert.equal(metrics.lbEntries, await lbEntries());
    assert.ok((metrics.ctEntries ?? -1) >= 0);
    assert.ok((metrics.identities ?? 0) >= 8);
    assert.ok((metrics.agentRssMb ?? 0) > 50, `VmRSS of the real cilium-agent: ${metrics.agentRssMb} MB`);
    timings.agentRssMb = metrics.agentRssMb ?? 0;
    timings.bpfMapsMb = metrics.bpfMaps?.totalMb ?? 0;
    saveFixture(('cilium-status-native.txt'), (await agentExec(ciliumStatusArgs())).stdout);
  });

  it('switches to cilium-overlay: cilium-config gets tunnel/vxlan, the real agent restarts, detection says overlay, the ClusterIP still answers', async () => {
    recordOurs();
    const pid = readFileSync(ciliumPaths(p).agentPid, 'utf8').trim();
    const up = await labUp({ name: LAB, datapath: 'cilium-overlay' });
    assert.equal(up.datapath.settings.datapath, 'cilium-overlay');
    assert.notEqual(readFileSync(ciliumPaths(p).agentPid, 'utf8').trim(), pid, 'a new agent process');
    const status = (await agentExec(ciliumStatusArgs())).stdout;
    assert.match(status, /^Routing:\s+Network: Tunnel \[vxlan\]/m, status);
    assert.match(sh(['ip', '-n', p.netns, 'link', 'show', 'cilium_vxlan']).stdout, /cilium_vxlan/);
    const facts = await act(makeClusterActivities({ kubeConfig: kc }).inspectCluster, { contextName: info.context, outputDir: tmp });
    assert.equal(facts.clusterType, 'cilium-overlay');
    const r = await execInPod({ kubeConfig: kc, namespace: NS, pod: 'client', command: ['fortio', 'curl', `http://${clusterIP}:80/`], timeoutMs: 30_000 });
    assert.match(r.stdout + r.stderr, /HTTP\/1\.1 200/);
    assert.equal(outsideConnectAnswers(p.netns, clusterIP, 80), false);
  });

  it('`lab down` leaves nothing: programs, maps, cgroup links, cgroup, mounts, processes, sysctls; still no translation after', async () => {
    const cp = ciliumPaths(p);
    recordOurs();
    await labDown({ name: LAB });
    const now = ciliumBpfObjects();
    assert.deepEqual([...now.progs].filter((id) => ours.progs.has(id)), [], 'programs of the lab\'s agent left');
    assert.deepEqual([...now.maps].filter((id) => ours.maps.has(id)), [], 'maps of the lab\'s agent left');
    if (otherCiliumAgents() === 0) {
      // Nothing else runs Cilium: no Cilium object at all may be new since before the lab.
      assert.deepEqual([...now.progs].filter((id) => !before0.progs.has(id)), [], 'Cilium programs left');
      assert.deepEqual([...now.maps].filter((id) => !before0.maps.has(id)), [], 'Cilium maps left');
    } else {
      console.log('another cilium-agent runs on this machine: the leftovers check counts the lab agent\'s pinned objects only');
    }
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
