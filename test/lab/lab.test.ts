/**
 * The shared-network lab as netbench sees it: a 3-worker kube-proxy cluster
 * whose Service traffic really crosses kube-proxy's rules in the lab's one
 * network namespace, where one process per tool port serves every pod IP
 * (so its pods need no server command). The pods network, the default, has
 * its own test: test/lab/pod-network.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, DiscoveryV1Api, Metrics } from '@kubernetes/client-node';
import { execInPod } from '../../src/kube/exec';
import { labPaths } from '../../lab/config';
import { kwokctlDryRun, writeKwokctlConfig } from '../../lab/kwokctl';
import { labDown, labStatus, labUp } from '../../lab/lab';
import { processArgv0 } from '../../lab/procs';
import { checkPrerequisites } from '../../lab/prereq';
import { waitFor } from '../../lab/cluster';
import { createPinnedPod, ensureNamespace, netnsPids, startTestLab, waitPodReady, type TestLab } from '../support/lab';

const LAB = 'tlab';
const NS = 'lab-test';

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === '0' ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

describe('lab (kube-proxy, shared network)', { timeout: 600_000 }, () => {
  let lab: TestLab;
  let kubeProxyPod: string;
  let serverIP: string;
  let clusterIP: string;
  const exec = (pod: string, command: string[], namespace = NS, timeoutMs = 30_000) =>
    execInPod({ kubeConfig: lab.kubeConfig, namespace, pod, command, timeoutMs });

  before(async () => {
    lab = await startTestLab(LAB, undefined, 'shared');
    await ensureNamespace(lab.core, NS);
  });

  after(async () => {
    await lab?.down();
  });

  it('has three Ready workers with InternalIPs and podCIDRs of the lab plan', async () => {
    const nodes = (await lab.core.listNode()).items;
    assert.deepEqual(nodes.map((n) => n.metadata?.name).sort(), ['worker-1', 'worker-2', 'worker-3']);
    for (const n of nodes) {
      assert.ok(n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${n.metadata?.name} Ready`);
      const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
      assert.ok(inCidr(ip, lab.info.nodeNetwork), `${ip} in ${lab.info.nodeNetwork}`);
      assert.ok(inCidr(n.spec!.podCIDR!.split('/')[0], lab.info.podCIDR));
    }
  });

  it('looks like a kube-proxy cluster: DaemonSet pods Running, ConfigMap mode iptables', async () => {
    const pods = (await lab.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-proxy' })).items;
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.status?.phase === 'Running'));
    kubeProxyPod = pods[0].metadata!.name!;
    const cm = await lab.core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'kube-proxy' });
    assert.match(cm.data!.config, /^mode: "iptables"$/m);
    assert.equal(cm.data!['config.conf'], cm.data!.config);
    const ds = await lab.kubeConfig.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ namespace: 'kube-system', name: 'kube-proxy' });
    assert.equal(ds.status?.numberReady, 3);
  });

  it('makes a pod pinned to a node Ready, with an IP from that node', async () => {
    const [server, client] = lab.info.nodes;
    await createPinnedPod(lab.core, { namespace: NS, name: 'iperf-server', node: server.name, labels: { 'netbench-app': 'iperf' } });
    await createPinnedPod(lab.core, { namespace: NS, name: 'iperf-client', node: client.name });
    await createPinnedPod(lab.core, { namespace: NS, name: 'iperf-server-host', node: server.name, hostNetwork: true });
    const pod = await waitPodReady(lab.core, NS, 'iperf-server');
    serverIP = pod.status!.podIP!;
    assert.ok(inCidr(serverIP, server.podCIDR), `${serverIP} in ${server.podCIDR}`);
    const host = await waitPodReady(lab.core, NS, 'iperf-server-host');
    assert.equal(host.status?.podIP, server.internalIP);
    await waitPodReady(lab.core, NS, 'iperf-client');
  });

  it('runs the real tools between pods: iperf3 (pod and host network), netperf, fortio', async () => {
    const iperf = JSON.parse((await exec('iperf-client', ['iperf3', '-c', serverIP, '-p', '5201', '-t', '1', '-J'])).stdout);
    assert.ok(iperf.end.sum_received.bits_per_second > 0);
    const host = JSON.parse((await exec('iperf-client', ['iperf3', '-c', lab.info.nodes[0].internalIP, '-p', '5202', '-t', '1', '-J'])).stdout);
    assert.ok(host.end.sum_received.bits_per_second > 0);
    const rr = await exec('iperf-client', ['netperf', '-H', serverIP, '-t', 'TCP_RR', '-l', '1', '--', '-r', '1,1', '-o', 'P50_LATENCY,THROUGHPUT']);
    const last = rr.stdout.trim().split('\n').pop()!.split(',');
    assert.ok(Number(last[1]) > 0, rr.stdout);
    const fortio = await exec('iperf-client', ['fortio', 'load', '-quiet', '-qps', '0', '-c', '2', '-t', '1s', '-json', '-', `http://${serverIP}:8080/echo?size=512`]);
    assert.ok(JSON.parse(fortio.stdout).ActualQPS > 0);
  });

  it('routes a ClusterIP through kube-proxy: rule in iptables-save, traffic reaches the server', async () => {
    const svc = await lab.core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: 'iperf-service' },
        spec: { selector: { 'netbench-app': 'iperf' }, ports: [{ port: 5201, targetPort: 5201, protocol: 'TCP' }] },
      },
    });
    clusterIP = svc.spec!.clusterIP!;
    assert.ok(inCidr(clusterIP, lab.info.serviceCIDR));
    const discovery = lab.kubeConfig.makeApiClient(DiscoveryV1Api);
    await waitFor('EndpointSlice of iperf-service', 30_000, async () => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=iperf-service' });
      return slices.items.some((s) => s.endpoints?.some((e) => e.addresses.includes(serverIP)));
    });
    // exec into the kube-proxy pod = iptables-save in the lab netns, i.e. the real rules.
    await waitFor('KUBE-SERVICES rule for iperf-service', 30_000, async () => {
      const rules = (await exec(kubeProxyPod, ['iptables-save', '-t', 'nat'], 'kube-system')).stdout;
      return rules.split('\n').some((l) => l.startsWith('-A KUBE-SERVICES') && l.includes(`-d ${clusterIP}/32`) && l.includes('lab-test/iperf-service'));
    });
    const viaService = JSON.parse((await exec('iperf-client', ['iperf3', '-c', clusterIP, '-p', '5201', '-t', '1', '-J'])).stdout);
    assert.ok(viaService.end.sum_received.bits_per_second > 0);
    // The Service range is routed but not local: without a kube-proxy rule nothing answers.
    const unused = clusterIP === '10.96.255.254' ? '10.96.255.253' : '10.96.255.254';
    const miss = await execInPod({
      kubeConfig: lab.kubeConfig, namespace: NS, pod: 'iperf-client', timeoutMs: 15_000, allowNonZeroExit: true,
      command: ['iperf3', '-c', unused, '-p', '5201', '-t', '1', '--connect-timeout', '1000'],
    });
    assert.notEqual(miss.exitCode, 0, `no answer expected from ${unused}`);
  });

  it('serves metrics.k8s.io for the kube-proxy pods (real process memory)', async () => {
    const metrics = new Metrics(lab.kubeConfig);
    const got = await waitFor('pod metrics of the 3 kube-proxy pods', 120_000, async () => {
      const list = await metrics.getPodMetrics('kube-system');
      const kp = list.items.filter((m) => m.metadata.name.startsWith('kube-proxy-'));
      return kp.length === 3 ? kp : undefined;
    }, 2_000);
    for (const m of got) {
      const mem = m.containers[0].usage.memory;
      assert.match(mem, /^\d+Ki$/);
      assert.ok(Number(mem.slice(0, -2)) > 10_000, `kube-proxy working set ${mem} is the real process's (> 10 MiB)`);
      assert.match(m.containers[0].usage.cpu, /^\d+[nmu]?$/);
    }
  });

  it('is idempotent: a second `lab up` keeps every process', async () => {
    const before = await labStatus({ name: LAB });
    const again = await labUp({ name: LAB });
    const afterUp = await labStatus({ name: LAB });
    assert.equal(again.server, lab.info.server);
    assert.ok(again.upMs < 20_000);
    assert.deepEqual(
      afterUp.processes.map((p) => [p.id, p.pid, p.running]),
      before.processes.map((p) => [p.id, p.pid, p.running]),
    );
    assert.ok(afterUp.processes.every((p) => p.running), JSON.stringify(afterUp.processes));
  });

  it('switches to nftables mode: rules in `nft`, old iptables rules gone, Service still answers', async () => {
    const info = await labUp({ name: LAB, proxyMode: 'nftables' });
    assert.equal(info.proxyMode, 'nftables');
    const cm = await lab.core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'kube-proxy' });
    assert.match(cm.data!.config, /^mode: "nftables"$/m);
    await waitFor('nftables rule for iperf-service', 30_000, async () => {
      const out = await exec(kubeProxyPod, ['nft', 'list', 'table', 'ip', 'kube-proxy'], 'kube-system');
      return out.stdout.includes(clusterIP);
    });
    const nat = (await exec(kubeProxyPod, ['iptables-save', '-t', 'nat'], 'kube-system')).stdout;
    assert.ok(!nat.includes('KUBE-SERVICES'), 'iptables-mode rules cleaned up');
    const viaService = JSON.parse((await exec('iperf-client', ['iperf3', '-c', clusterIP, '-p', '5201', '-t', '1', '-J'])).stdout);
    assert.ok(viaService.end.sum_received.bits_per_second > 0);
  });

  it('`lab down` leaves no process, namespace or state behind', async () => {
    const st = await labStatus({ name: LAB });
    const pids = [...st.processes.map((p) => p.pid), ...netnsPids(lab.info.netns)].filter((p): p is number => !!p);
    assert.ok(pids.length >= 14, `lab processes: ${pids.length}`);
    await lab.down();
    for (const pid of pids) assert.equal(processArgv0(pid), null, `pid ${pid} still alive`);
    assert.equal((await labStatus({ name: LAB })).netnsExists, false);
    assert.equal(existsSync(lab.info.stateDir), false);
    await labDown({ name: LAB }); // twice is fine
  });
});

describe('lab control plane config', () => {
  it('kwokctl --dry-run uses only local binaries and downloads nothing', async () => {
    const bins = checkPrerequisites();
    const p = labPaths('tdry');
    try {
      const cfg = writeKwokctlConfig(p, { apiserverPort: 6443, bins });
      const out = await kwokctlDryRun(p, bins, cfg);
      const downloads = out.split('\n').filter((l) => l.startsWith('# Download '));
      assert.ok(downloads.length >= 6, out);
      for (const l of downloads) assert.match(l, /^# Download \/\S+ to \//, 'only local files are "downloaded" (copied)');
      assert.doesNotMatch(out, /Download https?:|docker|podman|nerdctl/);
      for (const bin of ['kube-apiserver', 'etcd', 'kwok', 'metrics-server']) {
        assert.ok(out.includes(`# Download ${bins[bin]} to `), `${bin} copied from ${bins[bin]}`);
      }
      assert.match(out, /--service-cluster-ip-range=10\.96\.0\.0\/16/);
      assert.match(readFileSync(cfg, 'utf8'), /ClusterExec/);
    } finally {
      rmSync(p.stateDir, { recursive: true, force: true });
    }
  });
});
