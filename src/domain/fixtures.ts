/**
 * The test workloads of the reference (step 5), as Kubernetes objects:
 * eight pods pinned by nodeName with grace 0, labels app=benchmark and
 * role=<pod name>, and the iperf-service / fortio-service ClusterIPs.
 * Pure: the fixtures activity applies them.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { fortioServerArgs } from '../tools/fortio';
import { iperf3ServerArgs } from '../tools/iperf3';
import { netserverArgs } from '../tools/netperf';

export interface FixtureInput {
  ns: string;
  serverNode: string;
  clientNode: string;
  images: { iperf: string; netperf: string; fortio: string };
}

export const FIXTURE_PODS = [
  'iperf-server-host',
  'iperf-client-host',
  'iperf-server',
  'iperf-client',
  'netperf-server',
  'netperf-client',
  'fortio-server',
  'fortio-client',
] as const;

interface PodDef {
  name: (typeof FIXTURE_PODS)[number];
  node: 'server' | 'client';
  image: keyof FixtureInput['images'];
  container: string;
  command: string[];
  port?: number;
  hostNetwork?: boolean;
}

// The servers run the tools' own server argv (tools/*: the same files that build the client argv).
const PODS: PodDef[] = [
  { name: 'iperf-server-host', node: 'server', image: 'iperf', container: 'iperf', command: iperf3ServerArgs({ port: 5202 }), port: 5202, hostNetwork: true },
  { name: 'iperf-client-host', node: 'client', image: 'iperf', container: 'iperf', command: ['sleep', 'infinity'], hostNetwork: true },
  { name: 'iperf-server', node: 'server', image: 'iperf', container: 'iperf', command: iperf3ServerArgs(), port: 5201 },
  { name: 'iperf-client', node: 'client', image: 'iperf', container: 'iperf', command: ['sleep', 'infinity'] },
  { name: 'netperf-server', node: 'server', image: 'netperf', container: 'netperf', command: netserverArgs(), port: 12865 },
  { name: 'netperf-client', node: 'client', image: 'netperf', container: 'netperf', command: ['sleep', 'infinity'] },
  { name: 'fortio-server', node: 'server', image: 'fortio', container: 'fortio', command: fortioServerArgs(), port: 8080 },
  {
    name: 'fortio-client',
    node: 'client',
    image: 'fortio',
    container: 'fortio',
    // fortio's image is distroless (no sleep): a minimal server (HTTP on 9999, nothing else) keeps the pod alive for exec.
    command: fortioServerArgs({ httpPort: 9999, httpOnly: true }),
  },
];

/** Container name of each fixture pod (for exec). */
export const FIXTURE_CONTAINER: Record<string, string> = Object.fromEntries(PODS.map((p) => [p.name, p.container]));

/** The label every object netbench creates carries (namespaces, pods, Services, policies). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_NETBENCH = `${MANAGED_BY_LABEL}=netbench`;
/** The Pod Security label netbench sets on a workload namespace it creates. */
export const PSA_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
/** The fixture Services (besides the pods in FIXTURE_PODS). */
export const FIXTURE_SERVICES = ['iperf-service', 'fortio-service'] as const;

/**
 * Whose a namespace is: `absent` (netbench will create it), `netbench` (it
 * carries netbench's label: created by a run, e.g. one left with
 * --skip-cleanup) or `user` (it existed before and netbench did not make it:
 * never deleted, relabelled or given another Pod Security level).
 */
export type NamespaceOwner = 'absent' | 'netbench' | 'user';
export function namespaceOwner(ns: { metadata?: { labels?: Record<string, string> } } | undefined): NamespaceOwner {
  if (!ns) return 'absent';
  return ns.metadata?.labels?.[MANAGED_BY_LABEL] === 'netbench' ? 'netbench' : 'user';
}

/**
 * Why netbench may not use a namespace that already exists (undefined: it may).
 * `useExisting` is the user's explicit --use-existing-ns.
 */
export function namespaceRefusal(
  name: string,
  ns: { metadata?: { labels?: Record<string, string> } } | undefined,
  opts: { useExisting: boolean; role: 'workloads' | 'services' },
): string | undefined {
  if (namespaceOwner(ns) !== 'user') return undefined;
  const flag = opts.role === 'workloads' ? '--ns' : '--svc-namespace (SVC_NAMESPACE)';
  if (!opts.useExisting) {
    return (
      `namespace "${name}" (${flag}) already exists and netbench did not create it (no ${MANAGED_BY_NETBENCH} label). ` +
      `netbench deletes the namespaces it creates when a run ends, so it will not use one it did not create unless told to: ` +
      `choose another ${flag}, or pass --use-existing-ns to run in it (netbench then removes only its own objects and leaves the namespace as it is). Nothing was changed.`
    );
  }
  const level = ns?.metadata?.labels?.[PSA_ENFORCE_LABEL];
  if (opts.role === 'workloads' && level && level !== 'privileged') {
    return (
      `namespace "${name}" enforces Pod Security level "${level}", but the node-level tests need hostNetwork pods (level "privileged"), ` +
      `and netbench does not change a namespace it did not create. Choose another --ns (netbench creates it), or have its owner allow privileged pods. Nothing was changed.`
    );
  }
  return undefined;
}

export function fixtureObjects(f: FixtureInput, opts: { createNamespace?: boolean } = {}): KubernetesObject[] {
  const labels = (role: string) => ({ app: 'benchmark', role, [MANAGED_BY_LABEL]: 'netbench' });
  // The node-level pods use hostNetwork and hostPorts: clusters that enforce the baseline or
  // restricted Pod Security level would reject them, so the benchmark namespace asks for privileged.
  const ns = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: f.ns, labels: { 'app.kubernetes.io/managed-by': 'netbench', 'pod-security.kubernetes.io/enforce': 'privileged' } },
  };
  const pods = PODS.map((p) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: f.ns, labels: labels(p.name) },
    spec: {
      nodeName: p.node === 'server' ? f.serverNode : f.clientNode,
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: p.container,
          image: f.images[p.image],
          command: p.command,
          ...(p.port ? { ports: [{ containerPort: p.port, ...(p.hostNetwork ? { hostPort: p.port } : {}) }] } : {}),
        },
      ],
    },
  }));
  const svc = (name: string, role: string, port: number) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: f.ns, labels: { 'app.kubernetes.io/managed-by': 'netbench' } },
    spec: { type: 'ClusterIP', selector: { app: 'benchmark', role }, ports: [{ port, targetPort: port, protocol: 'TCP' }] },
  });
  const objects = [...pods, svc(FIXTURE_SERVICES[0], 'iperf-server', 5201), svc(FIXTURE_SERVICES[1], 'fortio-server', 8080)];
  // A namespace that existed before the run (--use-existing-ns) is left exactly as it is.
  return (opts.createNamespace === false ? objects : [ns, ...objects]) as KubernetesObject[];
}
