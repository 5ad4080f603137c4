/**
 * `lab up --network pods` on the real kernel, real kwok and a real apiserver:
 * each worker and each pod has a network namespace of its own, `kubectl exec`
 * runs in the pod's, a client pod reaches a server pod on another node by pod
 * IP through both nodes' namespaces, each server pod runs its own server,
 * and `lab down` leaves no namespace, device, route or process behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execInPod } from '../../src/kube/exec';
import { fortioServerArgs } from '../../src/tools/fortio';
import { iperf3ServerArgs } from '../../src/tools/iperf3';
import { waitFor } from '../../lab/cluster';
import { labPaths } from '../../lab/config';
import { labDown, labShape, labStatus, labUp, type LabInfo } from '../../lab/lab';
import { processArgv0 } from '../../lab/procs';
import { createPinnedPod, ensureNamespace, waitPodReady, added, labNetnsOf, netnsList, rootLinks, rootRoutes, sh } from '../support/lab';

const LAB = 'tpods';
const NS = 'pods-test';

const labNetns = () => labNetnsOf(LAB);
/** Pids of every process whose command line or cwd mentions the lab's state dir. */
function processesOf(stateDir: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(stateDir)) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}
/** Bytes a device has sent (its namespace's counters). */
function txBytes(netns: string, dev: string): number {
  const [link] = JSON.parse(sh(['ip', '-n', netns, '-s', '-j', 'link', 'show', 'dev', dev])) as { stats64: { tx: { bytes: number } } }[];
  return link!.stats64.tx.bytes;
}

describe('lab --network pods', { timeout: 600_000 }, () => {
  let info: LabInfo;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let linksBefore: string[];
  let routesBefore: string[];
  const ips: Record<string, string> = {};
  const exec = (pod: string, command: string[], timeoutMs = 30_000) => execInPod({ kubeConfig: kc, namespace: NS, pod, command, timeoutMs });

  before(async () => {
    await labDown({ name: LAB }); // leftovers of a crashed earlier run
    linksBefore = rootLinks();
    routesBefore = rootRoutes();
    info = await labUp({ name: LAB, network: 'pods', onProgress: process.env.LAB_VERBOSE ? (m) => console.error(`[lab ${LAB}] ${m}`) : undefined });
    console.error(`[pods] lab up --network pods: ${(info.upMs / 1000).toFixed(1)} s`);
    kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    await ensureNamespace(core, NS);
  });

  after(async () => {
    await labDown({ name: LAB });
  });

  it('makes each worker a namespace holding its InternalIP, a port of the lab bridge, with routes to the other podCIDRs', () => {
    assert.equal(info.network, 'pods');
    for (const n of info.nodes) {
      const ns = `${info.netns}.${n.name}`;
      assert.match(sh(['ip', '-n', ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${n.internalIP.replaceAll('.', '\\.')}/24 `));
      const routes = sh(['ip', '-n', ns, 'route']);
      for (const other of info.nodes.filter((o) => o !== n)) assert.ok(routes.includes(`${other.podCIDR} via ${other.internalIP} dev eth0`), routes);
      assert.doesNotMatch(routes, /^default/m);
      assert.match(sh(['ip', '-n', info.netns, '-o', 'link', 'show', 'dev', n.name]), /master br0/);
    }
    assert.match(sh(['ip', '-n', info.netns, '-4', '-o', 'addr', 'show', 'dev', 'br0']), /inet 10\.240\.0\.1\/24 /);
    assert.deepEqual(added(linksBefore, rootLinks()), [], 'no device added to the root namespace');
    assert.deepEqual(added(routesBefore, rootRoutes()), [], 'no route added to the root namespace');
  });

  it('gives each pod its own namespace: `kubectl exec` shows the pod IP on eth0', async () => {
    const [server, client] = info.nodes;
    await createPinnedPod(core, { namespace: NS, name: 'fortio-server', node: server!.name, command: fortioServerArgs() });
    await createPinnedPod(core, { namespace: NS, name: 'iperf-server', node: server!.name, command: iperf3ServerArgs({ port: 5201 }) });
    await createPinnedPod(core, { namespace: NS, name: 'client', node: client!.name });
    await createPinnedPod(core, { namespace: NS, name: 'host', node: server!.name, hostNetwork: true });
    for (const name of ['fortio-server', 'iperf-server', 'client', 'host']) {
      const ready = await waitPodReady(core, NS, name);
      ips[name] = ready.status!.podIP!;
      if (name === 'host') continue;
      // Ready only once the sandbox exists: kwok reports the IP the lab wrote, and the server already listens.
      assert.equal(ready.metadata?.annotations?.['netbench.io/pod-ip'], ips[name], `${name}: the IP kwok reports is the one the lab gave it`);
      if (name.endsWith('-server')) {
        const port = name === 'fortio-server' ? 8080 : 5201;
        assert.match(sh(['ip', 'netns', 'exec', `${info.netns}.${NS}.${name}`, 'ss', '-Hltn']), new RegExp(`:${port}\\b`), `${name} listens as soon as it is Ready`);
      }
    }
    // The real kubectl, as a person would type it.
    const kubectl = spawnSync('kubectl', ['--kubeconfig', info.kubeconfigPath, '-n', NS, 'exec', 'client', '--', 'ip', 'addr'], { encoding: 'utf8' });
    assert.equal(kubectl.status, 0, kubectl.stderr);
    console.error(`[pods] kubectl exec client -- ip addr:\n${kubectl.stdout}`);
    assert.match(kubectl.stdout, new RegExp(`inet ${ips.client!.replaceAll('.', '\\.')}/32 scope global eth0`));
    const devices = [...kubectl.stdout.matchAll(/^\d+: ([^:@]+)[:@]/gm)].map((m) => m[1]);
    assert.deepEqual(devices, ['lo', 'eth0'], 'only its own loopback and eth0');
    assert.match(kubectl.stdout, new RegExp(`link-netns ${info.netns}\\.${client!.name}\\b`), "eth0's peer is in its node's namespace");
    assert.doesNotMatch(kubectl.stdout, /inet 10\.240\./, 'no node address in the pod');
    const route = (await exec('client', ['ip', 'route'])).stdout;
    assert.doesNotMatch(route, /^default/m, 'no default route: nothing beyond the lab is reachable');
    assert.match((await exec('fortio-server', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout, new RegExp(`inet ${ips['fortio-server']!.replaceAll('.', '\\.')}/32`));
    // A hostNetwork pod runs in its node's namespace.
    assert.equal(ips.host, server!.internalIP);
    assert.match((await exec('host', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout, new RegExp(`inet ${server!.internalIP.replaceAll('.', '\\.')}/24`));
  });

  it('runs each server pod\'s own server in its namespace (no per-port stand-in in the lab namespace)', () => {
    const st = sh(['ip', 'netns', 'exec', info.netns, 'ss', '-Hltn']);
    assert.doesNotMatch(st, /:(5201|8080)\b/, `nothing listens on 5201/8080 in the lab namespace:\n${st}`);
    for (const [pod, port] of [['fortio-server', 8080], ['iperf-server', 5201]] as const) {
      const ss = sh(['ip', 'netns', 'exec', `${info.netns}.${NS}.${pod}`, 'ss', '-Hltnp']);
      assert.match(ss, new RegExp(`:${port}\\b.*(fortio|iperf3)`), ss);
    }
  });

  it('carries a client pod\'s TCP to a server pod on another node by pod IP, through both nodes', async () => {
    const before = txBytes(`${info.netns}.${info.nodes[1]!.name}`, 'eth0');
    const curl = await exec('client', ['fortio', 'curl', `http://${ips['fortio-server']}:8080/echo?size=100`]);
    assert.match(curl.stdout + curl.stderr, /HTTP\/1\.1 200/);
    const iperf = JSON.parse((await exec('client', ['iperf3', '-c', ips['iperf-server']!, '-p', '5201', '-t', '1', '-J'], 60_000)).stdout);
    assert.ok(iperf.end.sum_received.bits_per_second > 0);
    const sent = txBytes(`${info.netns}.${info.nodes[1]!.name}`, 'eth0') - before;
    assert.ok(sent >= iperf.end.sum_sent.bytes, `the client node's eth0 sent ${sent} bytes, iperf3 ${iperf.end.sum_sent.bytes}: the flow left through the node`);
    console.error(`[pods] client -> iperf-server (${ips['iperf-server']}, other node): ${(iperf.end.sum_received.bits_per_second / 1e9).toFixed(2)} Gbit/s; worker-2 eth0 sent ${sent} bytes`);
  });

  it('port-forwards to the pod itself (kwok dials the pod IP through its node)', async () => {
    const pf = spawn('kubectl', ['--kubeconfig', info.kubeconfigPath, '-n', NS, 'port-forward', 'pod/fortio-server', ':8080'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        pf.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        pf.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
        setTimeout(() => reject(new Error(`no port-forward after 20 s: ${out}`)), 20_000).unref();
      });
      const res = await fetch(`http://127.0.0.1:${port}/debug`);
      assert.equal(res.status, 200);
      // fortio's debug page names who connected: kwok-controller from the control plane's address over the
      // node network (a stand-in on the lab namespace's loopback would see 127.0.0.1).
      assert.match(await res.text(), /request from 10\.240\.0\.1:\d+/);
    } finally {
      pf.kill();
    }
  });

  it('translates the client pod\'s Service traffic in its own node: kube-proxy per node, PREROUTING from the pod\'s veth', async () => {
    const [serverNode, clientNode] = info.nodes;
    for (const n of info.nodes) {
      const comms = sh(['ip', 'netns', 'pids', `${info.netns}.${n.name}`]).split('\n').filter(Boolean).map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      assert.ok(comms.includes('kube-proxy'), `a kube-proxy runs in ${n.name}'s namespace: ${comms.join(' ')}`);
    }
    const labComms = sh(['ip', 'netns', 'pids', info.netns]).split('\n').filter(Boolean).map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
    assert.ok(!labComms.includes('kube-proxy'), 'none in the lab namespace');
    const svc = await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'fortio-service' }, spec: { selector: { role: 'fortio-server' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] } },
    });
    const clusterIP = svc.spec!.clusterIP!;
    const kubeProxyPods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-proxy' })).items;
    const onClientNode = kubeProxyPods.find((p) => p.spec?.nodeName === clientNode!.name)!.metadata!.name!;
    // exec into the client node's kube-proxy pod = iptables-save in that node's namespace.
    await waitFor(`the Service's rule on ${clientNode!.name}`, 30_000, async () => {
      const rules = (await execInPod({ kubeConfig: kc, namespace: 'kube-system', pod: onClientNode, command: ['iptables-save', '-t', 'nat'], timeoutMs: 15_000 })).stdout;
      return rules.includes(`-d ${clusterIP}/32`) && rules.includes(ips['fortio-server']!);
    });
    const counters = (node: string) => {
      const save = sh(['ip', 'netns', 'exec', `${info.netns}.${node}`, 'iptables-save', '-c', '-t', 'nat']);
      const pkts = (re: RegExp) => Number(re.exec(save)?.[1] ?? NaN);
      return {
        service: pkts(new RegExp(`^\\[(\\d+):\\d+\\] -A KUBE-SERVICES -d ${clusterIP.replaceAll('.', '\\.')}/32 `, 'm')),
        prerouting: pkts(/^\[(\d+):\d+\] -A PREROUTING .*-j KUBE-SERVICES$/m),
      };
    };
    const before = { client: counters(clientNode!.name), server: counters(serverNode!.name) };
    const curl = await exec('client', ['fortio', 'curl', `http://${clusterIP}:8080/echo?size=100`]);
    assert.match(curl.stdout + curl.stderr, /HTTP\/1\.1 200/);
    const afterCurl = { client: counters(clientNode!.name), server: counters(serverNode!.name) };
    assert.ok(afterCurl.client.service > before.client.service, `the client node translated it: ${JSON.stringify({ before, afterCurl })}`);
    assert.ok(afterCurl.client.prerouting > before.client.prerouting, 'in PREROUTING: the packets came in from the pod, not from a local process');
    assert.equal(afterCurl.server.service, before.server.service, 'the server node saw the pod IP, not the ClusterIP');
    const ct = sh(['ip', 'netns', 'exec', `${info.netns}.${clientNode!.name}`, 'conntrack', '-L', '-p', 'tcp', '--orig-dst', clusterIP]);
    console.error(`[pods] conntrack in ${clientNode!.name} for ${clusterIP}:\n${ct}`);
    assert.match(ct, new RegExp(`src=${ips.client!.replaceAll('.', '\\.')} dst=${clusterIP.replaceAll('.', '\\.')} .* src=${ips['fortio-server']!.replaceAll('.', '\\.')} dst=${ips.client!.replaceAll('.', '\\.')}`));
  });

  it('reports each kube-proxy pod\'s own node\'s process as its resource usage', async () => {
    const rssKiB = (node: string) => {
      const pid = Number(readFileSync(`${labPaths(LAB).pidDir}/kube-proxy-${node}.pid`, 'utf8').trim());
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    };
    const annotated = await waitFor('usage annotations on the three kube-proxy pods', 30_000, async () => {
      const pods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-proxy' })).items;
      return pods.every((p) => p.metadata?.annotations?.['kwok.x-k8s.io/usage-memory']) && pods.length === 3 ? pods : undefined;
    }, 1_000);
    for (const pod of annotated) {
      const node = pod.spec!.nodeName!;
      const reported = Number(pod.metadata!.annotations!['kwok.x-k8s.io/usage-memory']!.replace(/Ki$/, ''));
      const actual = rssKiB(node);
      assert.ok(Math.abs(reported - actual) / actual < 0.2, `${pod.metadata!.name} on ${node}: reported ${reported} KiB, that node's kube-proxy has ${actual} KiB`);
    }
  });

  it('caps one node\'s link, then one pod\'s, with `lab shape --link` (both ways), and lifts them', async () => {
    const iperf = async (reverse: boolean) => {
      const out = await exec('client', ['iperf3', '-c', ips['iperf-server']!, '-p', '5201', '-t', '1', '-J', ...(reverse ? ['-R'] : [])], 60_000);
      return JSON.parse(out.stdout).end.sum_received.bits_per_second as number;
    };
    const server = info.nodes[0]!.name;
    assert.equal(await labShape({ name: LAB, rate: '200mbit', link: server }), `200Mbit on ${server}`);
    assert.equal((await labStatus({ name: LAB })).shape, `200Mbit on ${server}`);
    const up = await iperf(false);
    const down = await iperf(true);
    console.error(`[pods] ${server}'s link capped at 200mbit: client -> server ${(up / 1e6).toFixed(0)} Mbit/s, server -> client ${(down / 1e6).toFixed(0)} Mbit/s`);
    for (const bps of [up, down]) assert.ok(bps > 100e6 && bps < 220e6, `${bps} bit/s under a 200mbit cap`);
    await assert.rejects(labShape({ name: LAB, rate: '200mbit', link: 'worker-9' }), /--link must be a node of the lab/);
    assert.equal(await labShape({ name: LAB, link: server }), null);
    assert.ok((await iperf(false)) > 1e9, 'the cap is gone');

    // One pod's link: the server pod's eth0 (its egress) and the veth's node end (its ingress).
    const pod = `${NS}/iperf-server`;
    assert.equal(await labShape({ name: LAB, rate: '150mbit', link: pod }), `150Mbit on ${pod}`);
    assert.equal((await labStatus({ name: LAB })).shape, `150Mbit on ${pod}`);
    const podUp = await iperf(false);
    const podDown = await iperf(true);
    console.error(`[pods] ${pod}'s link capped at 150mbit: client -> server ${(podUp / 1e6).toFixed(0)} Mbit/s, server -> client ${(podDown / 1e6).toFixed(0)} Mbit/s`);
    for (const bps of [podUp, podDown]) assert.ok(bps > 75e6 && bps < 170e6, `${bps} bit/s under a 150mbit cap on the pod's link`);
    const other = JSON.parse((await exec('client', ['fortio', 'load', '-quiet', '-qps', '0', '-c', '1', '-t', '1s', '-json', '-', `http://${ips['fortio-server']}:8080/echo?size=200000`], 60_000)).stdout);
    const otherBps = other.ActualQPS * 200_000 * 8;
    assert.ok(otherBps > 300e6, `another pod on the same node is not capped (${(otherBps / 1e6).toFixed(0)} Mbit/s of responses)`);
    await assert.rejects(labShape({ name: LAB, rate: '150mbit', link: `${NS}/nope` }), /no pod of that name has a network namespace/);
    assert.equal(await labShape({ name: LAB, link: pod }), null);
    assert.ok((await iperf(false)) > 1e9, 'the pod cap is gone');
  });

  it('removes a deleted pod\'s namespace and stops its server', async () => {
    const ns = `${info.netns}.${NS}.iperf-server`;
    const pid = Number(sh(['ip', 'netns', 'pids', ns]).trim().split('\n')[0]);
    assert.ok(pid > 1 && processArgv0(pid) !== null);
    await core.deleteNamespacedPod({ namespace: NS, name: 'iperf-server', gracePeriodSeconds: 0 });
    await waitFor(`namespace ${ns} removed`, 30_000, async () => !netnsList().includes(ns));
    await waitFor(`iperf3 server ${pid} stopped`, 10_000, async () => processArgv0(pid) === null);
  });

  it('is idempotent, and a restarted pod network controller catches up with pods deleted while it was down', async () => {
    const before = await labStatus({ name: LAB });
    const again = await labUp({ name: LAB });
    assert.equal(again.network, 'pods', 'the lab keeps its network without --network');
    const afterUp = await labStatus({ name: LAB });
    assert.deepEqual(afterUp.processes.map((p) => [p.id, p.pid]), before.processes.map((p) => [p.id, p.pid]), 'a second lab up keeps every process');
    await assert.rejects(labUp({ name: LAB, network: 'shared' }), /runs the pods network; run `lab down/);
    // The controller dies; a pod goes meanwhile; `lab up` restarts the controller, which removes what is left of it.
    await createPinnedPod(core, { namespace: NS, name: 'doomed', node: info.nodes[2]!.name });
    await waitPodReady(core, NS, 'doomed');
    const ns = `${info.netns}.${NS}.doomed`;
    await waitFor(`namespace ${ns}`, 10_000, async () => netnsList().includes(ns));
    const controller = afterUp.processes.find((p) => p.id === 'pod-network')!;
    process.kill(controller.pid!, 'SIGKILL');
    await waitFor('the controller gone', 5_000, async () => processArgv0(controller.pid!) === null);
    await core.deleteNamespacedPod({ namespace: NS, name: 'doomed', gracePeriodSeconds: 0 });
    await waitFor('pod doomed deleted', 10_000, async () => !(await core.listNamespacedPod({ namespace: NS })).items.some((p) => p.metadata?.name === 'doomed'));
    assert.ok(netnsList().includes(ns), 'nobody removed it while the controller was down');
    await labUp({ name: LAB });
    await waitFor(`namespace ${ns} removed by the restarted controller`, 15_000, async () => !netnsList().includes(ns));
    assert.match((await exec('client', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout, new RegExp(`inet ${ips.client!.replaceAll('.', '\\.')}/32`), 'the other pods are as they were');
  });

  it('`lab down` leaves no namespace, device, route or process behind', async () => {
    const st = await labStatus({ name: LAB });
    assert.equal(st.network, 'pods');
    assert.equal(st.childNetns.length, 5, `3 nodes, fortio-server, client: ${st.childNetns.join(' ')}`);
    const pids = [...st.processes.map((p) => p.pid), ...labNetns().flatMap((ns) => sh(['ip', 'netns', 'pids', ns]).split('\n').map(Number))]
      .filter((p): p is number => !!p && p !== process.pid);
    assert.ok(pids.length >= 10, `lab processes: ${pids.length}`);
    const started = Date.now();
    await labDown({ name: LAB });
    console.error(`[pods] lab down: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const pid of pids) assert.equal(processArgv0(pid), null, `pid ${pid} still alive`);
    assert.deepEqual(labNetns(), [], 'no namespace of the lab');
    assert.deepEqual(added(linksBefore, rootLinks()), [], 'no device left in the root namespace');
    assert.deepEqual(added(routesBefore, rootRoutes()), [], 'no route left in the root namespace');
    assert.deepEqual(processesOf(labPaths(LAB).stateDir), [], 'no process of the lab');
    assert.equal(existsSync(info.stateDir), false);
  });
});
