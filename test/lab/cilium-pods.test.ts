/**
 * A REAL Cilium on the lab's pods network (`lab up --network pods
 * --datapath cilium-native`, then re-upped as cilium-overlay): one real
 * cilium-agent per node namespace, each pod wired by the real cilium-cni,
 * so the agents' per-endpoint programs carry, observe (Hubble) and police
 * (CiliumNetworkPolicy) the pods' real traffic; `lab down` leaves nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { execInPod } from '../../src/kube/exec';
import { fortioServerArgs } from '../../src/tools/fortio';
import { iperf3ServerArgs } from '../../src/tools/iperf3';
import { CNP, policyObject } from '../../src/activities/cilium';
import { waitFor } from '../../lab/cluster';
import { labPaths } from '../../lab/config';
import { agentSites, labCgroup } from '../../lab/datapath/cilium';
import { labDown, labUp, type LabInfo } from '../../lab/lab';
import { logFile, processArgv0 } from '../../lab/procs';
import { createPinnedPod, ensureNamespace, waitPodReady, added, labNetnsOf, netnsList, rootLinks, rootRoutes, sh } from '../support/lab';

const LAB = 'tcpods';
const NS = 'cilium-pods-test';

const labNetns = () => labNetnsOf(LAB);
const comms = (netns: string) => sh(['ip', 'netns', 'pids', netns]).split('\n').filter(Boolean).map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
const link = (netns: string, dev: string) => (JSON.parse(sh(['ip', '-n', netns, '-s', '-d', '-j', 'link', 'show', 'dev', dev])) as { mtu: number; stats64: { tx: { bytes: number } }; linkinfo?: { info_kind?: string } }[])[0]!;

describe('lab --network pods --datapath cilium-*: a real Cilium agent per node', { timeout: 900_000 }, () => {
  let info: LabInfo;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let linksBefore: string[];
  let routesBefore: string[];
  let clusterIP = '';
  const ips: Record<string, string> = {};
  const exec = (pod: string, command: string[], timeoutMs = 30_000) => execInPod({ kubeConfig: kc, namespace: NS, pod, command, timeoutMs });
  /** The cilium pod on a node (the DaemonSet's), and an exec into it: its node's real agent. */
  const agentPod = async (node: string) =>
    (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=cilium', fieldSelector: `spec.nodeName=${node}` })).items[0]!.metadata!.name!;
  const inAgent = async (node: string, command: string[], timeoutMs = 30_000) =>
    (await execInPod({ kubeConfig: kc, namespace: 'kube-system', pod: await agentPod(node), command, timeoutMs })).stdout;
  const curl = async (timeout = '5s') => {
    const r = await exec('fortio-client', ['fortio', 'curl', '-timeout', timeout, `http://${clusterIP}:8080/echo?size=100`]).then(
      (x) => x.stdout + x.stderr,
      (err: Error) => `failed: ${err.message}`,
    );
    return /HTTP\/1\.1 200/.test(r) ? 'ok' : r;
  };

  before(async () => {
    await labDown({ name: LAB });
    linksBefore = rootLinks();
    routesBefore = rootRoutes();
    info = await labUp({ name: LAB, network: 'pods', datapath: 'cilium-native', onProgress: process.env.LAB_VERBOSE ? (m) => console.error(`[lab ${LAB}] ${m}`) : undefined });
    console.error(`[cilium-pods] lab up --network pods --datapath cilium-native: ${(info.upMs / 1000).toFixed(1)} s`);
    kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    await ensureNamespace(core, NS);
  });
  after(async () => {
    await labDown({ name: LAB });
  });

  it('runs one real agent per node namespace (none in the lab namespace), each with its own cgroup under the lab\'s', async () => {
    for (const n of info.nodes) assert.ok(comms(`${info.netns}.${n.name}`).includes('cilium-agent'), `an agent in ${n.name}'s namespace`);
    assert.ok(!comms(info.netns).includes('cilium-agent'), 'none in the lab namespace');
    for (const site of agentSites(labPaths(LAB), 'pods')) {
      assert.match(sh(['bpftool', 'cgroup', 'show', site.cgroup]), /cil_sock4_connect/, `${site.node}'s socket LB attached to its own cgroup`);
      assert.match(await inAgent(site.node, ['cilium-dbg', 'status', '--brief']), /^OK/m);
    }
    assert.doesNotMatch(sh(['bpftool', 'cgroup', 'show', labCgroup(labPaths(LAB))]), /cil_sock/, 'nothing attached to the lab cgroup itself');
  });

  it('wires each pod with the real cilium-cni: its node\'s agent has it as an endpoint with the IP kwok reports and eth0 holds', async () => {
    const [serverNode, clientNode] = info.nodes;
    await createPinnedPod(core, { namespace: NS, name: 'fortio-server', node: serverNode!.name, command: fortioServerArgs() });
    await createPinnedPod(core, { namespace: NS, name: 'iperf-server', node: serverNode!.name, command: iperf3ServerArgs({ port: 5201 }) });
    await createPinnedPod(core, { namespace: NS, name: 'fortio-client', node: clientNode!.name });
    for (const name of ['fortio-server', 'iperf-server', 'fortio-client']) ips[name] = (await waitPodReady(core, NS, name)).status!.podIP!;
    for (const [name, node] of [['fortio-server', serverNode!], ['iperf-server', serverNode!], ['fortio-client', clientNode!]] as const) {
      const ip = ips[name]!;
      assert.ok(ip.startsWith(node.podCIDR.split('.').slice(0, 3).join('.') + '.'), `${name}'s IP ${ip} is from ${node.name}'s podCIDR ${node.podCIDR}`);
      assert.match((await exec(name, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout, new RegExp(`inet ${ip.replaceAll('.', '\\.')}/32`));
      const eps = JSON.parse(await inAgent(node.name, ['cilium-dbg', 'endpoint', 'list', '-o', 'json'])) as { status: { state: string; networking?: { addressing?: { ipv4?: string }[] }; labels?: { 'security-relevant'?: string[] } } }[];
      const ep = eps.find((e) => e.status.networking?.addressing?.some((a) => a.ipv4 === ip));
      assert.ok(ep, `${node.name}'s agent has an endpoint for ${name} (${ip})`);
      assert.equal(ep.status.state, 'ready');
      assert.ok(ep.status.labels?.['security-relevant']?.includes(`k8s:role=${name}`), JSON.stringify(ep.status.labels));
    }
    const route = (await exec('fortio-client', ['ip', 'route'])).stdout;
    assert.match(route, /^default via 10\.244\.2\.\d+ dev eth0/m, `the CNI's route via the node's cilium_host:\n${route}`);
    assert.match(sh(['ip', '-n', `${info.netns}.${clientNode!.name}`, '-o', 'link', 'show']), /lxc[0-9a-f]+@/, 'the lxc end in the node namespace');
  });

  it('translates the client pod\'s Service traffic with its node\'s agent (no kube-proxy rule anywhere), and Hubble on both agents shows the flow', async () => {
    const svc = await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'fortio-server' }, spec: { selector: { role: 'fortio-server' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] } },
    });
    clusterIP = svc.spec!.clusterIP!;
    const [serverNode, clientNode] = info.nodes;
    await waitFor(`${clusterIP} in worker-2's LB map`, 30_000, async () => (await inAgent(clientNode!.name, ['cilium-dbg', 'bpf', 'lb', 'list'])).includes(ips['fortio-server']!), 1_000);
    assert.equal(await curl(), 'ok');
    for (const n of info.nodes) assert.doesNotMatch(sh(['ip', 'netns', 'exec', `${info.netns}.${n.name}`, 'iptables-save', '-t', 'nat']), /KUBE-SERVICES/, `no kube-proxy rule in ${n.name}`);
    type Flow = { flow?: { source?: { pod_name?: string }; destination?: { pod_name?: string }; verdict?: string; traffic_direction?: string; Type?: string } };
    const flows = async (node: string) =>
      (await inAgent(node, ['hubble', 'observe', '--namespace', NS, '--last', '200', '-o', 'json']))
        .split('\n').filter(Boolean).map((l) => JSON.parse(l) as Flow).map((f) => f.flow!).filter(Boolean);
    const server = await flows(serverNode!.name);
    const client = await flows(clientNode!.name);
    const between = (fs: Flow['flow'][]) => fs.filter((f) => f?.source?.pod_name === 'fortio-client' && f?.destination?.pod_name === 'fortio-server' && f?.verdict === 'FORWARDED');
    assert.ok(between(server).length > 0, `the server node's agent saw fortio-client -> fortio-server: ${JSON.stringify(server.slice(-5))}`);
    assert.ok(between(client).length > 0, `the client node's agent saw it leave: ${JSON.stringify(client.slice(-5))}`);
    console.error(`[cilium-pods] hubble: ${between(server).length} flows fortio-client -> fortio-server on ${serverNode!.name}, ${between(client).length} on ${clientNode!.name}`);
  });

  it('enforces a deny CiliumNetworkPolicy on the server endpoint (Hubble: Policy denied), and netbench\'s L3/L4 policy lets the client through', async () => {
    const cnp = kc.makeApiClient(CustomObjectsApi);
    const deny = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'only-someone-else', namespace: NS },
      spec: { endpointSelector: { matchLabels: { role: 'fortio-server' } }, ingress: [{ fromEndpoints: [{ matchLabels: { role: 'someone-else' } }] }] },
    };
    await cnp.createNamespacedCustomObject({ ...CNP, namespace: NS, body: deny });
    await waitFor('the deny policy to cut the connection', 30_000, async () => (await curl('2s')) !== 'ok', 500);
    // The drop as the server node's Hubble reports it (its events may reach the agent's buffer a moment later).
    let dropped = '';
    await waitFor('Hubble to report the policy drop', 15_000, async () => {
      dropped = await inAgent(info.nodes[0]!.name, ['hubble', 'observe', '--namespace', NS, '--verdict', 'DROPPED', '--last', '50']);
      return /fortio-client.*fortio-server:8080.*Policy denied DROPPED/.test(dropped);
    }, 1_000).catch((err: Error) => assert.fail(`${err.message}; hubble observe --verdict DROPPED printed:\n${dropped}`));
    await cnp.deleteNamespacedCustomObject({ ...CNP, namespace: NS, name: deny.metadata.name });
    // netbench's own L3/L4 policy (the NetworkPolicy phase's): it selects the server and allows the client.
    await cnp.createNamespacedCustomObject({ ...CNP, namespace: NS, body: policyObject(NS, 'l3l4') });
    // Enforced on the server's endpoint once the agent has realized it (a moment after the object exists) ...
    type Ep = { status: { networking?: { addressing?: { ipv4?: string }[] }; policy?: { realized?: { 'policy-enabled'?: string } } } };
    await waitFor('ingress policy realized on the server endpoint', 30_000, async () => {
      const eps = JSON.parse(await inAgent(info.nodes[0]!.name, ['cilium-dbg', 'endpoint', 'list', '-o', 'json'])) as Ep[];
      const server = eps.find((e) => e.status.networking?.addressing?.some((a) => a.ipv4 === ips['fortio-server']));
      return /ingress|both/.test(server?.status.policy?.realized?.['policy-enabled'] ?? '');
    }, 500);
    // ... and it lets the client through.
    assert.equal(await curl(), 'ok');
    await cnp.deleteNamespacedCustomObject({ ...CNP, namespace: NS, name: policyObject(NS, 'l3l4').metadata.name });
  });

  it('routes natively in cilium-native: the agents route the other podCIDRs via eth0; no tunnel device', () => {
    for (const n of info.nodes) {
      const ns = `${info.netns}.${n.name}`;
      const routes = sh(['ip', '-n', ns, 'route']);
      for (const other of info.nodes.filter((o) => o !== n)) assert.ok(routes.includes(`${other.podCIDR} via ${other.internalIP} dev eth0`), routes);
      assert.doesNotMatch(sh(['ip', '-n', ns, '-o', 'link', 'show']), /cilium_vxlan/);
    }
  });

  it('carries pod traffic in VXLAN between node namespaces once re-upped as cilium-overlay (the tunnel device and its MTU, its counters rise; no native route)', async () => {
    const again = await labUp({ name: LAB, datapath: 'cilium-overlay' });
    assert.equal(again.datapath.settings.datapath, 'cilium-overlay');
    const [serverNode, clientNode] = info.nodes;
    const clientNs = `${info.netns}.${clientNode!.name}`;
    await waitFor('cilium_vxlan in the client node', 60_000, async () => sh(['ip', '-n', clientNs, '-o', 'link', 'show']).includes('cilium_vxlan'), 1_000);
    const vx = link(clientNs, 'cilium_vxlan');
    assert.equal(vx.linkinfo?.info_kind, 'vxlan');
    const routes = sh(['ip', '-n', clientNs, 'route']);
    assert.ok(!routes.includes(`${serverNode!.podCIDR} via ${serverNode!.internalIP} dev eth0`), `no native route to the server's podCIDR:\n${routes}`);
    await waitFor('the client reaches the server through the tunnel', 60_000, async () => (await curl('2s')) === 'ok', 1_000);
    const before = link(clientNs, 'cilium_vxlan').stats64.tx.bytes;
    const iperf = JSON.parse((await exec('fortio-client', ['iperf3', '-c', ips['iperf-server']!, '-p', '5201', '-t', '2', '-J'], 60_000)).stdout);
    const sent = link(clientNs, 'cilium_vxlan').stats64.tx.bytes - before;
    // The bulk of the flow crosses the tunnel device (its counters see the inner packets; a few of iperf3's
    // bytes may still sit in socket buffers when it reports); a native path would put ~0 bytes here.
    assert.ok(sent >= 0.95 * iperf.end.sum_sent.bytes, `cilium_vxlan sent ${sent} bytes for iperf3's ${iperf.end.sum_sent.bytes}`);
    const podMtu = (await exec('fortio-client', ['ip', '-o', 'link', 'show', 'dev', 'eth0'])).stdout;
    console.error(`[cilium-pods] overlay: cilium_vxlan mtu ${vx.mtu}, ${(iperf.end.sum_received.bits_per_second / 1e9).toFixed(2)} Gbit/s, tunnel sent ${sent} bytes; pod eth0: ${/mtu \d+/.exec(podMtu)?.[0]}; routes:\n${routes}`);
  });

  it('`kubectl logs` of each cilium pod is its own node\'s agent\'s log', async () => {
    const p = labPaths(LAB);
    const sites = agentSites(p, 'pods');
    const linesOf = (id: string) => new Set(readFileSync(logFile(p, id), 'utf8').split('\n').filter((l) => l.startsWith('time=')));
    const own = new Map(sites.map((s) => [s.node, linesOf(s.id)]));
    const pods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=cilium' })).items;
    assert.equal(pods.length, sites.length);
    for (const pod of pods) {
      const node = pod.spec!.nodeName!;
      // Lines only this node's agent wrote (every line carries the agent's own time=) and lines only the others wrote.
      const mine = [...own.get(node)!].filter((l) => [...own].every(([n, set]) => n === node || !set.has(l)));
      const theirs = new Set([...own].filter(([n]) => n !== node).flatMap(([, set]) => [...set]).filter((l) => !own.get(node)!.has(l)));
      const served = await waitFor(`kubectl logs of ${pod.metadata!.name} (${node})`, 30_000, async () => {
        const log = await core.readNamespacedPodLog({ namespace: 'kube-system', name: pod.metadata!.name!, container: 'cilium-agent' });
        const lines = log.split('\n');
        return lines.some((l) => mine.includes(l)) ? lines : undefined;
      }, 1_000);
      const foreign = served.filter((l) => theirs.has(l));
      assert.deepEqual(foreign.slice(0, 3), [], `${pod.metadata!.name} on ${node} serves another agent's lines`);
      assert.ok(mine.length > 10, `${node}'s agent has lines of its own (${mine.length})`);
    }
  });

  it('reports each cilium pod\'s own node\'s agent as its resource usage', async () => {
    const annotated = await waitFor('usage annotations on the three cilium pods', 30_000, async () => {
      const pods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=cilium' })).items;
      return pods.length === 3 && pods.every((p) => p.metadata?.annotations?.['kwok.x-k8s.io/usage-memory']) ? pods : undefined;
    }, 1_000);
    for (const pod of annotated) {
      const site = agentSites(labPaths(LAB), 'pods').find((s) => s.node === pod.spec!.nodeName)!;
      const pid = Number(readFileSync(site.pidFile, 'utf8').trim());
      const actual = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      const reported = Number(pod.metadata!.annotations!['kwok.x-k8s.io/usage-memory']!.replace(/Ki$/, ''));
      assert.ok(Math.abs(reported - actual) / actual < 0.25, `${pod.metadata!.name} on ${site.node}: reported ${reported} KiB, its agent ${actual} KiB`);
    }
  });

  it('`lab down` leaves no namespace, lxc, cgroup, Cilium program, device, route or process behind', async () => {
    const p = labPaths(LAB);
    const pids = labNetns().flatMap((ns) => sh(['ip', 'netns', 'pids', ns]).split('\n').map(Number)).filter((x) => x > 1 && x !== process.pid);
    const progsBefore = sh(['bpftool', 'prog', 'list']).split('\n').filter((l) => /cil_|tail_|handle_/.test(l)).length;
    assert.ok(progsBefore > 0, 'the agents loaded programs');
    const started = Date.now();
    await labDown({ name: LAB });
    console.error(`[cilium-pods] lab down: ${((Date.now() - started) / 1000).toFixed(1)} s; ${pids.length} processes stopped`);
    for (const pid of pids) assert.equal(processArgv0(pid), null, `pid ${pid} still alive`);
    assert.deepEqual(labNetns(), [], 'no namespace of the lab');
    assert.equal(existsSync(labCgroup(p)), false, 'no lab cgroup');
    assert.deepEqual(added(linksBefore, rootLinks()), [], 'no device left in the root namespace');
    assert.deepEqual(added(routesBefore, rootRoutes()), [], 'no route left in the root namespace');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(p.stateDir), 'no mount of the lab left');
    const otherLabs = existsSync(`${p.stateDir}/..`) ? readdirSync(`${p.stateDir}/..`).filter((n) => n !== LAB) : [];
    if (otherLabs.length === 0) {
      const progsAfter = sh(['bpftool', 'prog', 'list']).split('\n').filter((l) => /cil_|tail_|handle_/.test(l)).length;
      assert.equal(progsAfter, 0, 'no Cilium program left loaded');
    }
    assert.equal(existsSync(info.stateDir), false);
  });
});
