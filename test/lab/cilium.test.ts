/**
 * The lab in Cilium mode (`lab up --datapath cilium-native`, later switched
 * to cilium-overlay): real Kubernetes objects (DaemonSet, ConfigMap, CRD,
 * controllers), the agent CLI answered by the lab's SIMULATOR from the
 * cluster's state, a real kube-proxy carrying the packets. Exercised with
 * netbench's own activities (detection, LB-map check and patch, rollout
 * restart, Hubble toggle, policies, convergence, component metrics) and
 * its own parsers.
 *
 * Set CILIUM_SIM_SCALE=30000 to also time `cilium bpf lb list` at that many
 * dummy Services (slow: creating them and kube-proxy programming them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Metrics, type V1Pod } from '@kubernetes/client-node';
import { MockActivityEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { labDown, labStatus, labUp, type LabInfo } from '../../lab/lab';
import { waitFor } from '../../lab/cluster';
import { labPaths } from '../../lab/config';
import { kwokctlDryRun, writeKwokctlConfig } from '../../lab/kwokctl';
import { checkPrerequisites, which } from '../../lab/prereq';
import { CiliumSimDatapath, agentConfigOf, simPaths } from '../../lab/datapath/cilium-sim';
import { fitLbMap, lbListLines, memlockOf, type Frontend } from '../../lab/cilium-sim/render';
import { CNP, POLICY_NAMES, daemonSetRolledOut, makeCiliumActivities } from '../../src/activities/cilium';
import { DEFAULT_LB_MAP_MAX, makeClusterActivities } from '../../src/activities/cluster';
import { DATAPATH_COMMAND, dummyMatchers, makeDatapathActivities } from '../../src/activities/datapath';
import { makeMetricsActivities } from '../../src/activities/metrics';
import { makeServiceActivities } from '../../src/activities/services';
import { makeKubeClients, type KubeClients } from '../../src/kube/client';
import { ExecCommandError, execInPod } from '../../src/kube/exec';
import { parseBpftoolMapList } from '../../src/tools/bpftool';
import { ciliumBpfCtListGlobalArgs, ciliumIdentityListArgs, ciliumStatusArgs, countCiliumLines, parseCiliumStatusTunnel, parseProcStatusVmRssKb, procStatusArgs } from '../../src/tools/cilium';
import { createPinnedPod, ensureNamespace, waitPodReady } from '../support/lab';

const LAB = 'tcil';
const NS = 'cil-test';
const SCALE_NS = 'test-services';
const EPS = 4;

/** `lab down` even when the test process dies first (async work does not run in an exit handler). */
function hookLabDown(): void {
  const cli = path.join(import.meta.dirname, '..', '..', 'lab', 'cli.ts');
  process.on('exit', () => {
    spawnSync(process.execPath, ['--import', 'tsx', cli, 'down', '--name', LAB], { stdio: 'ignore', timeout: 60_000 });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}

describe('lab (Cilium simulator)', { timeout: 900_000 }, () => {
  let info: LabInfo;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let kube: KubeClients;
  let tmp: string;
  /** Run an activity as the worker would (its Context, heartbeats, cancellation signal). */
  const act = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    new MockActivityEnvironment().run(fn as never, ...(args as unknown[] as never[])) as Promise<R>;
  const cilium = () => makeCiliumActivities({ kubeConfig: kc });
  const timings: Record<string, number> = {};

  const agentPods = async (): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=cilium' })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  /** Run a command in a cilium agent pod (as netbench does: first container). */
  const agent = async (command: string[], opts: { allowNonZeroExit?: boolean } = {}) => {
    const pod = (await agentPods())[0];
    return execInPod({ kubeConfig: kc, namespace: 'kube-system', pod: pod.metadata!.name!, container: pod.spec!.containers[0].name, command, timeoutMs: 60_000, ...opts });
  };
  const lbEntries = async () => countCiliumLines((await agent(DATAPATH_COMMAND.cilium)).stdout, 'lb').entries;
  const bpfMaps = async () => parseBpftoolMapList((await agent(['bpftool', 'map', 'list', '-j'])).stdout);
  const lbServicesMap = async () => (await bpfMaps()).maps.find((m) => m.name === 'cilium_lb4_serv')!;

  before(async () => {
    hookLabDown();
    await labDown({ name: LAB });
    const started = Date.now();
    info = await labUp({ name: LAB, datapath: 'cilium-sim-native', onProgress: process.env.LAB_VERBOSE ? (m) => console.error(`[lab ${LAB}] ${m}`) : undefined });
    timings.labUpSec = (Date.now() - started) / 1000;
    kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    kube = makeKubeClients({ kubeConfig: kc });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'netbench-cilium-lab-'));
    await ensureNamespace(core, NS);
  });

  after(async () => {
    await kube?.close();
    await labDown({ name: LAB });
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    console.log(`cilium lab timings: ${JSON.stringify(timings)}`);
  });

  it('shows detection a Cilium cluster: ds/cilium Ready on 3 nodes, no kube-proxy objects, `cilium status` says Native', async () => {
    assert.equal(info.datapath.kind, 'cilium-sim');
    assert.equal(info.datapath.settings.datapath, 'cilium-sim-native');
    const ds = await apps.readNamespacedDaemonSet({ namespace: 'kube-system', name: 'cilium' });
    assert.equal(ds.status?.numberReady, 3);
    assert.equal(ds.spec?.template.spec?.containers[0].name, 'cilium-agent');
    assert.equal((await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-proxy' })).items.length, 0);
    await assert.rejects(core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'kube-proxy' }), (e: { code?: number }) => e.code === 404);
    const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'cilium-config' });
    assert.equal(cm.data?.['enable-hubble'], 'true');
    assert.equal(cm.data?.['bpf-lb-map-max'], undefined, 'absent: Cilium default');

    const status = (await agent(ciliumStatusArgs())).stdout;
    assert.equal(parseCiliumStatusTunnel(status), 'disabled');
    assert.match(status, /^KubeProxyReplacement:\s+True$/m);
    assert.match(status, /^Hubble:\s+Ok/m);
    assert.match(status, /simulator/);
    assert.doesNotMatch(status, /Tunnel.*(vxlan|geneve)/i, "the reference's overlay regex must not match");
    // cilium-dbg is the same CLI
    assert.equal(parseCiliumStatusTunnel((await agent(ciliumStatusArgs('cilium-dbg'))).stdout), 'disabled');

    const facts = await act(makeClusterActivities({ kubeConfig: kc }).inspectCluster, { contextName: info.context, outputDir: tmp });
    assert.equal(facts.clusterType, 'cilium-native');
    assert.equal(facts.proxyMode, 'cilium');
    assert.match(facts.detectedBy, /3 ready pods; cilium status tunnel: disabled/);
  });

  it('answers the agent CLI only in cilium-agent containers; kube-proxy still carries ClusterIP traffic', async () => {
    const [server, client] = info.nodes;
    await createPinnedPod(core, { namespace: NS, name: 'fortio-server', node: server.name });
    await createPinnedPod(core, { namespace: NS, name: 'fortio-client', node: client.name });
    const serverIP = (await waitPodReady(core, NS, 'fortio-server')).status!.podIP!;
    await waitPodReady(core, NS, 'fortio-client');
    const exec = (command: string[], allowNonZeroExit = false) =>
      execInPod({ kubeConfig: kc, namespace: NS, pod: 'fortio-client', command, timeoutMs: 30_000, allowNonZeroExit });

    // Elsewhere the simulator is invisible: no `cilium`, the real bpftool and cat.
    const missing = await exec(['sh', '-c', 'cilium status'], true);
    assert.equal(missing.exitCode, 127, missing.stderr);
    await assert.rejects(exec(['cilium', 'status']), ExecCommandError);
    if (which('bpftool')) assert.match((await exec(['bpftool', 'version'])).stdout, /bpftool v\d/);
    else assert.equal((await exec(['bpftool', 'version'], true)).exitCode, 127);
    writeFileSync(path.join(info.execDir, 'cilium-sim-probe.txt'), 'plain cat\n');
    assert.equal((await exec(['cat', 'cilium-sim-probe.txt'])).stdout, 'plain cat\n');
    // In the agent: the reference's Hubble switch fails like the real agent's.
    const set = await agent(['cilium', 'config', 'set', 'hubble-disable', 'true'], { allowNonZeroExit: true });
    assert.equal(set.exitCode, 1);
    assert.match(set.stdout, /Invalid option format/);
    const unknown = await agent(['cilium', 'frobnicate'], { allowNonZeroExit: true });
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);

    // The packets: ClusterIP -> fortio-server through the real kube-proxy's rules.
    const svc = await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'fortio-service' }, spec: { selector: { role: 'fortio-server' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] } },
    });
    const clusterIP = svc.spec!.clusterIP!;
    await waitFor('fortio-service in `cilium bpf lb list` with its backend', 30_000, async () => {
      const out = (await agent(['cilium', 'bpf', 'lb', 'list'])).stdout;
      return out.includes(`${clusterIP}:8080 `) && out.includes(`${serverIP}:8080 (`);
    });
    const fortio = await waitFor('fortio through the ClusterIP', 30_000, async () => {
      const r = await exec(['fortio', 'load', '-quiet', '-qps', '0', '-c', '2', '-t', '1s', '-json', '-', `http://${clusterIP}:8080/echo?size=512`]);
      const q = JSON.parse(r.stdout).ActualQPS as number;
      return q > 0 ? q : undefined;
    });
    assert.ok(fortio > 0);
    // ... and the simulated conntrack table shows that connection (kernel conntrack of the lab namespace).
    const ct = (await agent(ciliumBpfCtListGlobalArgs())).stdout;
    assert.ok(countCiliumLines(ct, 'ct').entries >= 2, ct);
    assert.ok(ct.includes(`-> ${clusterIP}:8080 `) && ct.includes(`-> ${serverIP}:8080 `), ct);
  });

  it('`cilium bpf lb list` tracks Services and EndpointSlices (convergence measured by the datapath activity)', async () => {
    const before = await lbEntries();
    const n = 20;
    const services = makeServiceActivities({ kube });
    const created = await act(services.createDummyServices, { namespace: SCALE_NS, from: 1, to: n, endpointsPerService: EPS, parallel: 8 });
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
    assert.equal(await lbEntries(), before + n * (1 + EPS), 'one master entry + one per backend');

    // Endpoints objects (the reference's way) reach the LB map through the real EndpointSlice mirroring controller.
    await act(services.createDummyServices, { namespace: SCALE_NS, from: n + 1, to: n + 2, endpointsPerService: EPS, endpointsMode: 'endpoints' });
    await waitFor('mirrored Endpoints in the LB map', 30_000, async () => (await lbEntries()) === before + (n + 2) * (1 + EPS));

    const out = (await agent(DATAPATH_COMMAND.cilium)).stdout;
    const m = dummyMatchers('cilium', SCALE_NS, EPS);
    assert.equal(out.split('\n').filter((l) => m.line.test(l)).length, (n + 2) * EPS);
    const rules = await act(makeDatapathActivities({ kubeConfig: kc }).countRules, { proxyMode: 'cilium', outputDir: tmp, svcCount: n + 2 });
    assert.equal(rules.rulesCount, before + (n + 2) * (1 + EPS) + 1, 'lines = entries + header');
  });

  it('bpf-lb-map-max: the patch alone changes nothing, the rollout restart applies it, the map overflows at the limit', async () => {
    const entries = await lbEntries();
    const cluster = makeClusterActivities({ kubeConfig: kc });
    assert.equal(await act(cluster.getLbMapMax), DEFAULT_LB_MAP_MAX);
    const defaultMaps = await bpfMaps();
    assert.equal(defaultMaps.maps.find((x) => x.name === 'cilium_lb4_serv')?.maxEntries, DEFAULT_LB_MAP_MAX);

    const small = entries - 7;
    await act(cilium().patchLbMapMax, { value: small });
    assert.equal(await act(cluster.getLbMapMax), small);
    assert.equal(await lbEntries(), entries, 'agents keep the map size they started with');
    assert.equal((await lbServicesMap()).maxEntries, DEFAULT_LB_MAP_MAX);

    const oldPods = new Set((await agentPods()).map((p) => p.metadata!.name));
    const t0 = Date.now();
    const rolled = await act(cilium().rolloutRestartCilium, { timeoutSec: 180 });
    timings.rolloutRestartSec = (Date.now() - t0) / 1000;
    assert.ok(rolled.seconds > 0);
    const ds = await apps.readNamespacedDaemonSet({ namespace: 'kube-system', name: 'cilium' });
    assert.ok(daemonSetRolledOut(ds), JSON.stringify(ds.status));
    assert.equal(ds.status?.numberReady, 3);
    const op = await apps.readNamespacedDeployment({ namespace: 'kube-system', name: 'cilium-operator' });
    assert.ok(op.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']);
    await waitFor('restarted agents stamped with the new config', 30_000, async () => {
      const pods = await agentPods();
      return pods.length === 3 && pods.every((p) => !oldPods.has(p.metadata!.name) && agentConfigOf(p)?.['bpf-lb-map-max'] === String(small));
    });

    assert.equal(await lbEntries(), small, 'entries beyond bpf-lb-map-max are dropped');
    const smallMaps = await bpfMaps();
    assert.equal(smallMaps.maps.find((x) => x.name === 'cilium_lb4_serv')?.maxEntries, small);
    assert.ok(smallMaps.totalBytes < defaultMaps.totalBytes);

    // The reference's fix: 2 x needed, applied the same way.
    const big = 300_000;
    await act(cilium().patchLbMapMax, { value: big });
    await act(cilium().rolloutRestartCilium, { timeoutSec: 180 });
    await waitFor('agents with the raised map', 30_000, async () => (await lbServicesMap()).maxEntries === big);
    assert.equal(await lbEntries(), entries);
    const bigMaps = await bpfMaps();
    const lbBytes = (l: typeof bigMaps) => l.maps.filter((x) => x.name.startsWith('cilium_lb')).reduce((a, x) => a + x.bytes, 0);
    assert.ok(lbBytes(bigMaps) > 4 * lbBytes(defaultMaps), 'LB map memory grows with bpf-lb-map-max');
    assert.ok(bigMaps.totalBytes > defaultMaps.totalBytes);
  });

  it('toggles Hubble through cilium-config and a restart (netbench\'s setHubble)', async () => {
    const off = await act(cilium().setHubble, { enabled: false, timeoutSec: 180 });
    assert.deepEqual(off, { previous: 'true', restarted: true });
    await waitFor('Hubble: Disabled in cilium status', 30_000, async () => /^Hubble:\s+Disabled$/m.test((await agent(ciliumStatusArgs())).stdout));
    const on = await act(cilium().setHubble, { enabled: true, timeoutSec: 180 });
    assert.deepEqual(on, { previous: 'false', restarted: true });
    await waitFor('Hubble: Ok in cilium status', 30_000, async () => /^Hubble:\s+Ok/m.test((await agent(ciliumStatusArgs())).stdout));
    assert.deepEqual(await act(cilium().setHubble, { enabled: true }), { previous: 'true', restarted: false });
  });

  it('applies and deletes CiliumNetworkPolicies against the CRD', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const kind of ['l3l4', 'l7'] as const) {
      await act(cilium().applyPolicy, { ns: NS, kind });
      await act(cilium().applyPolicy, { ns: NS, kind }); // idempotent
    }
    const l7 = (await custom.getNamespacedCustomObject({ ...CNP, namespace: NS, name: POLICY_NAMES.l7 })) as { spec: { ingress: { toPorts: { rules?: { http: { method: string }[] } }[] }[] } };
    assert.deepEqual(l7.spec.ingress[0].toPorts[0].rules, { http: [{ method: 'GET' }] }, 'schemaless CRD keeps every field');
    const list = (await custom.listNamespacedCustomObject({ ...CNP, namespace: NS })) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(list.items.map((i) => i.metadata.name).sort(), [POLICY_NAMES.l3l4, POLICY_NAMES.l7].sort());
    for (const kind of ['l3l4', 'l7'] as const) {
      await act(cilium().deletePolicy, { ns: NS, kind });
      await act(cilium().deletePolicy, { ns: NS, kind });
      await assert.rejects(custom.getNamespacedCustomObject({ ...CNP, namespace: NS, name: POLICY_NAMES[kind] }), (e: { code?: number }) => e.code === 404);
    }
  });

  it('feeds netbench\'s component metrics: every output parses (bpftool, lb/ct/identity counts, agent RSS, metrics.k8s.io)', async () => {
    const metrics = await act(makeMetricsActivities({ kubeConfig: kc }).collectComponentMetrics, { proxyMode: 'cilium', outputDir: tmp });
    assert.deepEqual(metrics.failures, []);
    assert.ok((metrics.bpfMaps?.mapCount ?? 0) >= 15);
    assert.ok((metrics.bpfMaps?.totalMb ?? 0) > 10);
    assert.equal(metrics.lbEntries, await lbEntries());
    assert.ok((metrics.ctEntries ?? -1) >= 0);
    assert.ok((metrics.identities ?? 0) >= 8 + 2, 'reserved + the two fortio pods');
    assert.ok((metrics.agentRssMb ?? 0) > 5, 'VmRSS of the real kube-proxy process');

    const ids = (await agent(ciliumIdentityListArgs())).stdout;
    assert.ok(ids.includes('k8s:role=fortio-server') && ids.includes(`k8s:io.kubernetes.pod.namespace=${NS}`), ids);
    assert.ok(parseProcStatusVmRssKb((await agent(procStatusArgs())).stdout) > 1000);
    assert.match((await agent(['sh', '-c', 'cat /proc/1/status | grep ^Name:'])).stdout, /kube-proxy/, 'also through a shell');

    const m = new Metrics(kc);
    const pods = await waitFor('metrics.k8s.io for the 3 cilium pods', 150_000, async () => {
      const names = new Set((await agentPods()).map((p) => p.metadata!.name!));
      const got = (await m.getPodMetrics('kube-system')).items.filter((x) => names.has(x.metadata.name));
      return got.length === 3 && got.every((x) => Number(x.containers[0].usage.memory.replace(/Ki$/, '')) > 10_000) ? got : undefined;
    }, 3_000);
    assert.equal(pods.length, 3);
  });

  it('switches to cilium-overlay: the ConfigMap is updated, the agents restart, detection says overlay', async () => {
    const daemons = async () => (await labStatus({ name: LAB })).processes.map((p) => [p.id, p.pid, p.running]);
    const before = await daemons();
    assert.ok(before.some(([id]) => id === 'cilium-sim-agent') && before.some(([id]) => id === 'kube-proxy'));
    const oldPods = new Set((await agentPods()).map((p) => p.metadata!.name));
    const t0 = Date.now();
    const up = await labUp({ name: LAB, datapath: 'cilium-sim-overlay' });
    timings.switchToOverlaySec = (Date.now() - t0) / 1000;
    assert.deepEqual(await daemons(), before, 'the lab processes keep running');
    assert.ok((await agentPods()).every((p) => !oldPods.has(p.metadata!.name)), 'agents restarted');
    assert.equal(up.datapath.settings.datapath, 'cilium-sim-overlay');
    const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'cilium-config' });
    assert.equal(cm.data?.['routing-mode'], 'tunnel');
    assert.equal(cm.data?.['tunnel-protocol'], 'vxlan');
    assert.equal(cm.data?.['bpf-lb-map-max'], '300000', 'what netbench patched survives `lab up`');
    const status = (await agent(ciliumStatusArgs())).stdout;
    assert.equal(parseCiliumStatusTunnel(status), 'vxlan');
    assert.match(status, /Tunnel.*vxlan/i, "the reference's overlay regex");
    const facts = await act(makeClusterActivities({ kubeConfig: kc }).inspectCluster, { contextName: info.context, outputDir: tmp });
    assert.equal(facts.clusterType, 'cilium-overlay');
    assert.ok((await bpfMaps()).maps.some((x) => x.name === 'cilium_tunnel_m'));
    assert.equal((await labStatus({ name: LAB })).datapath?.settings.datapath, 'cilium-sim-overlay');
  });

  it('refuses to turn a Cilium lab into a kube-proxy one without `lab down`', async () => {
    await assert.rejects(labUp({ name: LAB, datapath: 'kube-proxy' }), /lab down --name tcil/);
  });

  it('answers `cilium bpf lb list` at CILIUM_SIM_SCALE Services in a few seconds', { skip: !process.env.CILIUM_SIM_SCALE }, async () => {
    const n = Number(process.env.CILIUM_SIM_SCALE);
    const t0 = Date.now();
    await act(makeServiceActivities({ kube }).createDummyServices, { namespace: SCALE_NS, from: 1, to: n, endpointsPerService: EPS, parallel: 32 });
    timings.createScaleSec = (Date.now() - t0) / 1000;
    const conv = await act(makeDatapathActivities({ kubeConfig: kc }).waitDatapathConverged, {
      proxyMode: 'cilium', scaleNamespace: SCALE_NS, expectedServices: n, endpointsPerService: EPS, timeoutSec: 600,
    });
    assert.equal(conv.converged, true, conv.reason);
    const runs: number[] = [];
    let entries = 0;
    for (let i = 0; i < 3; i++) {
      const t1 = Date.now();
      entries = await lbEntries();
      runs.push((Date.now() - t1) / 1000);
    }
    timings.lbListAtScaleSec = Math.min(...runs);
    assert.ok(entries >= n * (1 + EPS), `${entries}`);
    assert.ok(timings.lbListAtScaleSec < 10, `cilium bpf lb list took ${runs.join(', ')} s`);
  });
});

describe('Cilium simulator pieces (no lab)', () => {
  it('adds the cilium-agent exec rule and kwok-controller PATH to the kwokctl config, idempotently, still downloading nothing', async () => {
    const bins = checkPrerequisites();
    const p = labPaths('tdryc');
    try {
      const file = writeKwokctlConfig(p, { apiserverPort: 6443, bins });
      const dp = new CiliumSimDatapath('overlay');
      dp.patchKwokctlConfig(file, p);
      const once = readFileSync(file, 'utf8');
      dp.patchKwokctlConfig(file, p);
      assert.equal(readFileSync(file, 'utf8'), once);
      const docs = once.split('\n---\n').map((d) => JSON.parse(d));
      const exec = docs.find((d) => d.kind === 'ClusterExec');
      assert.equal(exec.spec.execs.length, 2);
      assert.deepEqual(exec.spec.execs[1].containers, ['cilium-agent']);
      assert.deepEqual(exec.spec.execs[1].local.envs, [{ name: 'NETBENCH_CILIUM_SIM_SOCKET', value: simPaths(p).socket }]);
      assert.equal(exec.spec.execs[0].containers, undefined, 'every other container keeps the plain rule');
      const kwok = docs.find((d) => d.kind === 'KwokctlConfiguration').componentsPatches.find((c: { name: string }) => c.name === 'kwok-controller');
      assert.ok(kwok.extraEnvs[0].value.startsWith(`${simPaths(p).bin}:`));
      const out = await kwokctlDryRun(p, bins, file);
      assert.doesNotMatch(out, /Download https?:/);
    } finally {
      rmSync(p.stateDir, { recursive: true, force: true });
    }
  });

  it('fills the LB map in creation order up to its size and lists it sorted, backends as continuation lines', () => {
    const fes: Frontend[] = [
      { address: '10.96.0.20:80', revNat: 1, backends: ['10.100.0.1:80', '10.100.0.2:80'] },
      { address: '10.96.0.3:80', revNat: 2, backends: ['10.100.0.3:80', '10.100.0.4:80'] },
    ];
    assert.deepEqual(fitLbMap(fes, 100).kept, fes);
    const cut = fitLbMap(fes, 4);
    assert.equal(cut.dropped, 2);
    assert.deepEqual(cut.kept[1].backends, [], 'the first Service fits, of the second only its master entry');
    const lines = [...lbListLines(cut.kept)];
    assert.equal(lines.length, 1 + 4);
    assert.match(lines[0], /^SERVICE ADDRESS\s+BACKEND ADDRESS \(REVNAT_ID\) \(SLOT\)$/);
    assert.match(lines[1], /^10\.96\.0\.20:80\s+0\.0\.0\.0:0 \(1\) \(0\) \[ClusterIP, non-routable\]$/, 'string order, as the agent sorts');
    assert.match(lines[2], /^\s+10\.100\.0\.1:80 \(1\) \(1\)$/);
    assert.equal(countCiliumLines(lines.join('\n') + '\n', 'lb').entries, 4);
    const m = dummyMatchers('cilium', SCALE_NS, 2);
    assert.equal(lines.filter((l) => m.line.test(l)).length, 2);
  });

  it('sizes map memory linearly in max_entries', () => {
    const a = memlockOf('hash', 12, 12, 65536, 2);
    const b = memlockOf('hash', 12, 12, 300000, 2);
    assert.ok(b > 4 * a && b < 6 * a, `${a} -> ${b}`);
    assert.ok(memlockOf('percpu_hash', 8, 16, 1024, 8) > memlockOf('percpu_hash', 8, 16, 1024, 1));
  });
});

