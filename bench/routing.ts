/**
 * Cilium native routing against VXLAN overlay, A/B on ONE lab on the pods
 * network (real agents, real cilium-cni): the lab is re-upped with the
 * other routing (the agents restart with the new cilium-config), the
 * benchmark pods are made again (as after a migration: a pod keeps the
 * routes and MTU its CNI ADD gave it), and each mode is measured in turn,
 * `--pairs` times, so both modes see the same machine.
 *
 *   npx tsx bench/routing.ts [--pairs 3] [--seconds 5]
 *
 * Per mode: iperf3 pod to pod across nodes (1 stream), fortio keepalive c64
 * through the ClusterIP, and what the lab shows of the path (the tunnel
 * device and the route MTU in the client's node). Run it on a quiet machine.
 */
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { labDown, labUp, type LabInfo } from '../lab/lab';
import { run } from '../lab/run';
import { isStatus, waitFor } from '../lab/cluster';
import { execInPod } from '../src/kube/exec';
import { fortioLoadArgs, fortioServerArgs, parseFortioJson } from '../src/tools/fortio';
import { iperf3ClientArgs, iperf3ServerArgs, parseIperf3Json } from '../src/tools/iperf3';
import { estimate } from '../src/domain/stats';
import { renderMarkdownTable } from '../src/report/table';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log(`usage: npx tsx bench/routing.ts [--pairs 3] [--seconds 5]

Cilium native routing vs VXLAN overlay on one lab (--network pods), measured in turn --pairs times:
iperf3 pod to pod across nodes and fortio keepalive c64 via a ClusterIP, --seconds each. Needs root
and \`scripts/setup.sh all\`; the lab "routing" is made and removed.`);
  process.exit(0);
}
const pairs = Number(values.pairs);
const seconds = Number(values.seconds);
if (!Number.isInteger(pairs) || pairs < 1 || !Number.isInteger(seconds) || seconds < 1) throw new Error('--pairs and --seconds: whole numbers ≥ 1');

const LAB = 'routing';
const NS = 'routing-bench';
type Mode = 'native' | 'overlay';
const PODS: { name: string; node: number; command: string[] }[] = [
  { name: 'fortio-server', node: 0, command: fortioServerArgs() },
  { name: 'iperf-server', node: 0, command: iperf3ServerArgs({ port: 5201 }) },
  { name: 'client', node: 1, command: ['sleep', 'infinity'] },
];

async function makePods(core: CoreV1Api, info: LabInfo): Promise<Record<string, string>> {
  for (const p of PODS) {
    await core.deleteNamespacedPod({ namespace: NS, name: p.name, gracePeriodSeconds: 0 }).catch((err: unknown) => {
      if (!isStatus(err, 404)) throw err; // not made yet: the first round
    });
  }
  await waitFor('the old pods gone', 60_000, async () => (await core.listNamespacedPod({ namespace: NS })).items.length === 0, 500);
  for (const p of PODS) {
    const body: V1Pod = {
      metadata: { name: p.name, namespace: NS, labels: { app: 'routing-bench', role: p.name } },
      spec: { nodeName: info.nodes[p.node]!.name, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'netbench/tools:lab', command: p.command }] },
    };
    await core.createNamespacedPod({ namespace: NS, body });
  }
  const ips: Record<string, string> = {};
  for (const p of PODS) {
    ips[p.name] = await waitFor(`pod ${p.name} Ready`, 120_000, async () => {
      const pod = await core.readNamespacedPod({ namespace: NS, name: p.name });
      return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod.status?.podIP : undefined;
    }, 300);
  }
  return ips;
}

async function main(): Promise<void> {
  await labDown({ name: LAB });
  let info = await labUp({ name: LAB, network: 'pods', datapath: 'cilium-native' });
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } }).catch((err: unknown) => {
    if (!isStatus(err, 409)) throw err; // already there
  });
  const svc = await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'fortio' }, spec: { selector: { role: 'fortio-server' }, ports: [{ port: 8080, targetPort: 8080 }] } } });
  const clusterIP = svc.spec!.clusterIP!;
  const exec = (command: string[]) => execInPod({ kubeConfig: kc, namespace: NS, pod: 'client', command, timeoutMs: (seconds + 60) * 1000 });
  const results: Record<Mode, { gbps: number[]; rps: number[]; path: string }> = { native: { gbps: [], rps: [], path: '' }, overlay: { gbps: [], rps: [], path: '' } };
  try {
    for (let i = 0; i < pairs; i++) {
      for (const mode of (i % 2 === 0 ? ['native', 'overlay'] : ['overlay', 'native']) as Mode[]) {
        if (info.datapath.settings.datapath !== `cilium-${mode}`) info = await labUp({ name: LAB, datapath: `cilium-${mode}` });
        const ips = await makePods(core, info);
        await waitFor('fortio through the ClusterIP', 60_000, async () => {
          const r = await exec(['fortio', 'curl', '-timeout', '2s', `http://${clusterIP}:8080/`]).catch(() => null);
          return r !== null;
        }, 1_000);
        const iperf = parseIperf3Json((await exec(iperf3ClientArgs({ host: ips['iperf-server']!, port: 5201, seconds, streams: 1 }))).stdout);
        const fortio = parseFortioJson((await exec(fortioLoadArgs({ url: `http://${clusterIP}:8080/echo?size=512`, qps: 0, connections: 64, seconds, keepalive: true, json: true }))).stdout);
        results[mode].gbps.push(iperf.gbps);
        results[mode].rps.push(fortio.actualQps);
        const node = `${info.netns}.${info.nodes[1]!.name}`;
        const links = (await run(['ip', '-n', node, '-o', 'link', 'show'])).stdout;
        const vx = /cilium_vxlan: .*? mtu (\d+)/.exec(links);
        const route = (await run(['ip', '-n', node, 'route', 'show', info.nodes[0]!.podCIDR])).stdout.trim();
        const podRoute = (await exec(['ip', 'route', 'show', 'default'])).stdout.trim();
        results[mode].path = `${vx ? `cilium_vxlan mtu ${vx[1]}` : 'no tunnel device'}; node route: ${route}; pod: ${podRoute}`;
        console.error(`[routing] pair ${i + 1}/${pairs} ${mode}: iperf3 ${iperf.gbps} Gbit/s, fortio ${Math.round(fortio.actualQps)} req/s`);
      }
    }
  } finally {
    await labDown({ name: LAB });
  }
  const fmt = (xs: number[], digits: number) => {
    const e = estimate(xs)!;
    return `${e.mean.toFixed(digits)}${e.ci95 !== undefined ? ` ±${e.ci95.toFixed(digits)}` : ''} [${xs.map((x) => x.toFixed(digits)).join(', ')}]`;
  };
  console.log(renderMarkdownTable(
    ['routing', 'iperf3 pod→pod, 1 stream (Gbit/s)', 'fortio c64 keepalive via ClusterIP (req/s)', 'path in the client node'],
    (['native', 'overlay'] as Mode[]).map((m) => [m, fmt(results[m].gbps, 2), fmt(results[m].rps, 0), results[m].path]),
  ));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
