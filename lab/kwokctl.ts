/**
 * The control plane, made by `kwokctl create cluster --runtime binary`,
 * run INSIDE the lab's network namespace: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, kwok-controller and
 * metrics-server are forked by kwokctl and inherit the namespace.
 *
 * Why inside: the apiserver dials kubelets (here: kwok-controller) at the
 * nodes' InternalIPs for exec/logs/port-forward, and metrics-server scrapes
 * the same addresses. Those are 10.240.0.x, which exist only in the netns;
 * from the root namespace such a dial would go to a real private address.
 *
 * Nothing is downloaded: every binary is a local path, the metrics-server
 * manifest is a local kustomize directory, and `--dry-run` of the same
 * command prints only local copies (see lab/README.md).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONTROL_PLANE_IP, SERVICE_CIDR, TOOL_PORTS, type LabPaths } from './config';
import { run, runInNetns, type RunResult } from './run';
import { writeFileIfChanged } from './files';
import type { ResolvedBins } from './prereq';

export interface KwokctlSettings {
  apiserverPort: number;
  bins: ResolvedBins;
}

/** Documents are JSON (valid YAML) joined with `---`, as kwokctl reads a multi-document file. */
function yamlDocs(docs: object[]): string {
  return docs.map((d) => JSON.stringify(d, null, 2)).join('\n---\n') + '\n';
}

const KWOK_API = 'kwok.x-k8s.io/v1alpha1';

/** kwok objects: how exec, port-forward, logs and resource usage of the simulated pods behave. */
function kwokObjects(p: LabPaths): object[] {
  return [
    {
      // Every `kubectl exec` runs the requested argv as a real process in
      // the netns (kwok-controller lives there), in one shared scratch dir.
      kind: 'ClusterExec',
      apiVersion: KWOK_API,
      metadata: { name: 'netbench-lab-exec' },
      spec: { execs: [{ local: { workDir: p.execDir } }] },
    },
    {
      // port-forward to a pod reaches the real tool server of that port.
      kind: 'ClusterPortForward',
      apiVersion: KWOK_API,
      metadata: { name: 'netbench-lab-port-forward' },
      spec: {
        forwards: Object.values(TOOL_PORTS).map((port) => ({
          ports: [port],
          target: { address: '127.0.0.1', port },
        })),
      },
    },
    {
      // metrics.k8s.io figures come from pod annotations; the lab's sampler
      // writes the real kube-proxy process's CPU and memory there.
      kind: 'ClusterResourceUsage',
      apiVersion: KWOK_API,
      metadata: { name: 'netbench-lab-usage' },
      spec: {
        usages: [
          {
            usage: {
              cpu: {
                expression:
                  '"kwok.x-k8s.io/usage-cpu" in pod.metadata.annotations ? Quantity(pod.metadata.annotations["kwok.x-k8s.io/usage-cpu"]) : Quantity("1m")',
              },
              memory: {
                expression:
                  '"kwok.x-k8s.io/usage-memory" in pod.metadata.annotations ? Quantity(pod.metadata.annotations["kwok.x-k8s.io/usage-memory"]) : Quantity("1Mi")',
              },
            },
          },
        ],
      },
    },
  ];
}

/** kwokctl's metrics-server component wants a manifest with the APIService; a local kustomize dir. */
function writeMetricsServerManifest(p: LabPaths): string {
  const dir = path.join(p.stateDir, 'manifests', 'metrics-server');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n- metrics-server.yaml\n');
  writeFileSync(
    path.join(dir, 'metrics-server.yaml'),
    yamlDocs([
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
        spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }], selector: { 'k8s-app': 'metrics-server' } },
      },
      {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'k8s-app': 'metrics-server' } },
        spec: {
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          groupPriorityMinimum: 100,
          versionPriority: 100,
          insecureSkipTLSVerify: true,
          service: { name: 'metrics-server', namespace: 'kube-system' },
        },
      },
    ]),
  );
  return dir;
}

/** The lab's kwokctl config file as its documents, with the two that a datapath or the pod network extends. */
export function readKwokctlDocs(file: string): { docs: Record<string, any>[]; exec: Record<string, any>; kwokctl: Record<string, any> } {
  const docs = readFileSync(file, 'utf8')
    .split(/\n---\n/)
    .filter((d) => d.trim())
    .map((d) => JSON.parse(d) as Record<string, any>);
  const exec = docs.find((d) => d.kind === 'ClusterExec');
  const kwokctl = docs.find((d) => d.kind === 'KwokctlConfiguration');
  if (!exec || !kwokctl) throw new Error(`${file}: no ClusterExec or KwokctlConfiguration document to extend`);
  return { docs, exec, kwokctl };
}

/** Write the documents back (only if they changed: kwokctl is not restarted for nothing). */
export function writeKwokctlDocs(file: string, docs: Record<string, any>[]): void {
  writeFileIfChanged(file, docs.map((d) => JSON.stringify(d, null, 2)).join('\n---\n') + '\n');
}

/** kwok-controller's PATH (it resolves every exec's argv[0] with its own PATH). */
/** The PATH kwok-controller was given (setKwokControllerPath), if any. */
export function kwokControllerPath(kwokctl: Record<string, any>): string | undefined {
  const patch = ((kwokctl.componentsPatches ?? []) as { name: string; extraEnvs?: { name: string; value: string }[] }[]).find((c) => c.name === 'kwok-controller');
  return patch?.extraEnvs?.find((e) => e.name === 'PATH')?.value;
}

export function setKwokControllerPath(kwokctl: Record<string, any>, value: string): void {
  const patches = ((kwokctl.componentsPatches ?? []) as { name: string }[]).filter((c) => c.name !== 'kwok-controller');
  patches.push({ name: 'kwok-controller', extraEnvs: [{ name: 'PATH', value }] } as { name: string });
  kwokctl.componentsPatches = patches;
}

export function writeKwokctlConfig(p: LabPaths, s: KwokctlSettings): string {
  const b = s.bins;
  const file = path.join(p.stateDir, 'kwokctl.yaml');
  const arg = (key: string, value: string) => ({ key, value });
  const config = {
    kind: 'KwokctlConfiguration',
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    options: {
      runtime: 'binary',
      kubeApiserverPort: s.apiserverPort,
      kubeBinaryPrefix: path.dirname(b['kube-apiserver']),
      kubeApiserverBinary: b['kube-apiserver'],
      kubeControllerManagerBinary: b['kube-controller-manager'],
      kubeSchedulerBinary: b['kube-scheduler'],
      kubectlBinary: b.kubectl,
      etcdBinary: b.etcd,
      kwokControllerBinary: b.kwok,
      metricsServerBinary: b['metrics-server'],
      metricsServerManifests: [writeMetricsServerManifest(p)],
      enable: ['metrics-server'],
      cacheDir: path.join(p.kwokWorkdir, 'cache'),
    },
    componentsPatches: [
      {
        name: 'kube-apiserver',
        extraArgs: [
          arg('service-cluster-ip-range', SERVICE_CIDR),
          arg('advertise-address', CONTROL_PLANE_IP),
          // Dial kwok "kubelets" at the InternalIP (local in the netns), never resolve node names.
          arg('kubelet-preferred-address-types', 'InternalIP'),
        ],
      },
    ],
  };
  mkdirSync(p.stateDir, { recursive: true });
  writeFileIfChanged(file, yamlDocs([config, ...kwokObjects(p)]));
  return file;
}

/** Environment of kwokctl and everything it forks (the control plane, kwok-controller and so every exec). */
export function kwokctlEnv(p: LabPaths): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KWOK_WORKDIR: p.kwokWorkdir,
    // kubectl (run by kwokctl) keeps its discovery cache here, not in ~/.kube.
    KUBECACHEDIR: path.join(p.kwokWorkdir, 'kube-cache'),
    // Never touch the user's kubeconfig.
    KUBECONFIG: path.join(p.stateDir, 'kwokctl-kubeconfig'),
  };
}

function kwokctlArgs(p: LabPaths, bins: ResolvedBins, args: string[]): string[] {
  // kwokctl adds/removes its context in the file given by --kubeconfig; keep that in the state dir.
  return [bins.kwokctl, '--name', p.netns, ...args, '--kubeconfig', path.join(p.stateDir, 'kwokctl-kubeconfig')];
}

export async function kwokctlCreate(p: LabPaths, bins: ResolvedBins, configFile: string): Promise<RunResult> {
  writeFileSync(path.join(p.stateDir, 'kwokctl-kubeconfig'), '', { flag: 'a' });
  return runInNetns(p.netns, kwokctlArgs(p, bins, ['create', 'cluster', '--config', configFile, '--wait', '120s']), {
    env: kwokctlEnv(p),
    timeoutMs: 240_000,
  });
}

/** What kwokctl would run, without running it (used by tests to prove nothing is downloaded). */
export async function kwokctlDryRun(p: LabPaths, bins: ResolvedBins, configFile: string): Promise<string> {
  const { stdout, stderr } = await run(
    kwokctlArgs(p, bins, ['create', 'cluster', '--config', configFile, '--dry-run']),
    { env: { ...kwokctlEnv(p), KWOK_WORKDIR: path.join(p.stateDir, 'dry-run') } },
  );
  return stdout + stderr;
}

export async function kwokctlDelete(p: LabPaths, bins: ResolvedBins): Promise<void> {
  writeFileSync(path.join(p.stateDir, 'kwokctl-kubeconfig'), '', { flag: 'a' });
  await run(kwokctlArgs(p, bins, ['delete', 'cluster']), { env: kwokctlEnv(p), timeoutMs: 120_000 });
}
