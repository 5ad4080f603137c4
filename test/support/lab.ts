/**
 * The lab for tests: one lab per test file (its own name, so files can run
 * in parallel), brought up fresh in before() and removed in after(); if the
 * test process dies first, an exit hook removes it synchronously.
 *
 *   const lab = await startTestLab('texec');
 *   ... lab.kubeConfig, lab.info.nodes ...
 *   await lab.down();
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { labDown, labUp, type LabInfo, type LabNetwork, type ProxyMode } from '../../lab/lab';

export interface TestLab {
  info: LabInfo;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  down(): Promise<void>;
}

const live = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const cli = path.join(import.meta.dirname, '..', '..', 'lab', 'cli.ts');
  process.on('exit', () => {
    for (const name of live) {
      // Synchronous on purpose: async work does not run in an exit handler.
      spawnSync(process.execPath, ['--import', 'tsx', cli, 'down', '--name', name], { stdio: 'ignore', timeout: 60_000 });
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => process.exit(130));
  }
}

/**
 * NETBENCH_LAB_NETWORK=shared runs a test file's lab on the shared network
 * (every pod in the one lab namespace) instead of the default pods network
 * (each node and pod in a namespace of its own, lab/pod-network.ts).
 */
export function labNetwork(): LabNetwork | undefined {
  const v = process.env.NETBENCH_LAB_NETWORK;
  if (v === undefined || v === '') return undefined;
  if (v !== 'shared' && v !== 'pods') throw new Error(`NETBENCH_LAB_NETWORK must be shared or pods, not "${v}"`);
  return v;
}

export async function startTestLab(name: string, proxyMode?: ProxyMode, network: LabNetwork | undefined = labNetwork()): Promise<TestLab> {
  hookExit();
  await labDown({ name }); // leftovers of a crashed earlier run
  live.add(name);
  const info = await labUp({ name, proxyMode, network, onProgress: process.env.LAB_VERBOSE ? (m) => console.error(`[lab ${name}] ${m}`) : undefined });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfigPath);
  return {
    info,
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    async down() {
      await labDown({ name });
      live.delete(name);
    },
  };
}

export async function ensureNamespace(core: CoreV1Api, name: string): Promise<void> {
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

export interface PinnedPod {
  namespace: string;
  name: string;
  node: string;
  labels?: Record<string, string>;
  hostNetwork?: boolean;
  command?: string[];
}

/** A pod pinned by nodeName (as netbench's fixtures are), grace period 0. */
export async function createPinnedPod(core: CoreV1Api, p: PinnedPod): Promise<void> {
  const body: V1Pod = {
    metadata: { name: p.name, namespace: p.namespace, labels: { app: 'benchmark', role: p.name, ...p.labels } },
    spec: {
      nodeName: p.node,
      hostNetwork: p.hostNetwork,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: 'netbench/tools:lab', command: p.command ?? ['sleep', 'infinity'] }],
    },
  };
  try {
    await core.createNamespacedPod({ namespace: p.namespace, body });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

export async function waitPodReady(core: CoreV1Api, namespace: string, name: string, timeoutMs = 60_000): Promise<V1Pod> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pod = await core.readNamespacedPod({ namespace, name });
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready && pod.status?.podIP) return pod;
    if (Date.now() > deadline) throw new Error(`pod ${namespace}/${name} not Ready after ${timeoutMs} ms: ${JSON.stringify(pod.status)}`);
    await sleep(200);
  }
}

/** Pids of the processes inside the lab's namespace (from the root namespace). */
export function netnsPids(netns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  return (out.stdout ?? '')
    .split('\n')
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n));
}

/** Command lines of the processes inside the lab's namespace and, on the pods network, its node and pod namespaces (`<netns>.*`). */
export function netnsCommands(netns: string): string[] {
  const all = netnsList().filter((n) => n === netns || n.startsWith(`${netns}.`));
  return [...new Set(all.flatMap((n) => netnsPids(n)))].map((pid) => {
    const r = spawnSync('cat', [`/proc/${pid}/cmdline`], { encoding: 'utf8' });
    return (r.stdout ?? '').split('\0').join(' ').trim();
  });
}

/** A command's stdout; a non-zero exit throws with its stderr (lab tests' checks of the real kernel). */
export function sh(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
export const netnsList = () => sh(['ip', 'netns', 'list']).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
/** A lab's own namespace and its nodes' and pods'. */
export const labNetnsOf = (lab: string) => netnsList().filter((n) => n === `nb-${lab}` || n.startsWith(`nb-${lab}.`));
/** Devices of the root namespace, by name (what a lab must not add to). */
export const rootLinks = () => sh(['ip', '-o', 'link', 'show']).split('\n').filter(Boolean).map((l) => l.split(': ')[1]!.split('@')[0]!).sort();
export const rootRoutes = () => sh(['ip', 'route', 'show', 'table', 'all']).split('\n').filter(Boolean).sort();
/** What `now` has that `before` had not (other work on the machine may remove things meanwhile; the lab must add nothing). */
export const added = (before: string[], now: string[]) => now.filter((x) => !before.includes(x));
