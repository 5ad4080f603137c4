/**
 * The test workloads of the reference (step 5), as Kubernetes objects:
 * eight pods pinned by nodeName with grace 0, labels app=benchmark and
 * role=<pod name>, and the iperf-service / fortio-service ClusterIPs.
 * Pure: the fixtures activity applies them.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

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

const PODS: PodDef[] = [
  { name: 'iperf-server-host', node: 'server', image: 'iperf', container: 'iperf', command: ['iperf3', '-s', '-p', '5202'], port: 5202, hostNetwork: true },
  { name: 'iperf-client-host', node: 'client', image: 'iperf', container: 'iperf', command: ['sleep', 'infinity'], hostNetwork: true },
  { name: 'iperf-server', node: 'server', image: 'iperf', container: 'iperf', command: ['iperf3', '-s'], port: 5201 },
  { name: 'iperf-client', node: 'client', image: 'iperf', container: 'iperf', command: ['sleep', 'infinity'] },
  { name: 'netperf-server', node: 'server', image: 'netperf', container: 'netperf', command: ['netserver', '-D'], port: 12865 },
  { name: 'netperf-client', node: 'client', image: 'netperf', container: 'netperf', command: ['sleep', 'infinity'] },
  { name: 'fortio-server', node: 'server', image: 'fortio', container: 'fortio', command: ['fortio', 'server'], port: 8080 },
  {
    name: 'fortio-client',
    node: 'client',
    image: 'fortio',
    container: 'fortio',
    // fortio's image is distroless (no sleep): a minimal server keeps the pod alive for exec.
    command: ['fortio', 'server', '-http-port', '9999', '-grpc-port', 'disabled', '-tcp-port', 'disabled', '-udp-port', 'disabled', '-redirect-port', 'disabled'],
  },
];

/** Container name of each fixture pod (for exec). */
export const FIXTURE_CONTAINER: Record<string, string> = Object.fromEntries(PODS.map((p) => [p.name, p.container]));

export function fixtureObjects(f: FixtureInput): KubernetesObject[] {
  const labels = (role: string) => ({ app: 'benchmark', role, 'app.kubernetes.io/managed-by': 'netbench' });
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
  return [ns, ...pods, svc('iperf-service', 'iperf-server', 5201), svc('fortio-service', 'fortio-server', 8080)] as KubernetesObject[];
}
