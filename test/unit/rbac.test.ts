/**
 * deploy/ grants the worker exactly what its activities need: every
 * Kubernetes call of src/activities (the NEEDED table, one row per call
 * site) is allowed in the namespace where it happens, nothing is granted
 * that no row needs, and no rule uses a "*" wildcard.
 *
 * First on the manifests themselves (an evaluator of RBAC's matching rules),
 * then on a real kube-apiserver with RBAC: the manifests applied, every row
 * asked as a SubjectAccessReview for the worker's ServiceAccount (and things
 * it must NOT do), and real activity code run with that ServiceAccount's
 * token: server-side apply of the fixtures, dummy Services, the exec API,
 * Cilium's ConfigMap and policies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  loadYaml,
  VersionApi,
  type KubernetesObject,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1Deployment,
  type V1PolicyRule,
  type V1Role,
  type V1RoleBinding,
} from '@kubernetes/client-node';
import { MockActivityEnvironment } from '@temporalio/testing';
import { resolveConfig } from '../../src/config';
import { FIXTURE_PODS, fixtureObjects } from '../../src/domain/fixtures';
import { SCALE_SCENARIOS, SCENARIOS, WARMUP } from '../../src/domain/scenarios';
import { POLICY_NAMES, makeCiliumActivities } from '../../src/activities/cilium';
import { makeClusterActivities } from '../../src/activities/cluster';
import { makeServiceActivities } from '../../src/activities/services';
import { makeFixtureActivities } from '../../src/activities/fixtures';
import { applyObjects } from '../../src/kube/apply';
import { makeKubeClients } from '../../src/kube/client';
import { execInPod } from '../../src/kube/exec';
import { CILIUM_POLICY_CRD } from '../support/apiserver';
import { repoRoot } from '../support/binaries';

const DEPLOY = path.join(repoRoot, 'deploy');
const SA = { name: 'netbench-worker', namespace: 'netbench-system' };
const SA_USER = `system:serviceaccount:${SA.namespace}:${SA.name}`;

// The run's namespaces as a user gets them by default (--ns, --svc-namespace).
const defaults = resolveConfig({ env: {} });
const BENCH = defaults.ns;
const SCALE = defaults.scaleNamespace;
const CLIENT_PODS = [...new Set([...SCENARIOS, ...SCALE_SCENARIOS, WARMUP].map((s) => s.client))];

interface Need {
  group?: string;
  resource?: string;
  /** non-resource URL instead of group/resource */
  url?: string;
  verbs: string[];
  /** undefined = cluster-scoped */
  namespace?: string;
  /** object names; absent = a request without a name (list, POST create) */
  names?: string[];
  /** the call site that needs it */
  why: string;
}

/** Every Kubernetes request the worker makes, by call site. */
const NEEDED: Need[] = [
  // src/activities/cluster.ts
  { group: '', resource: 'nodes', verbs: ['list'], why: 'cluster.ts inspectCluster: listNode (>= 2 nodes, context record); cilium.ts ciliumEndpoints: the lab\'s nodes by label' },
  { url: '/version', verbs: ['get'], why: 'cluster.ts inspectCluster: VersionApi.getCode (server version)' },
  { group: 'apps', resource: 'daemonsets', verbs: ['get'], namespace: 'kube-system', names: ['cilium'], why: 'cluster.ts detect: Cilium DaemonSet with ready pods?' },
  { group: '', resource: 'pods', verbs: ['list'], namespace: 'kube-system', why: 'cluster.ts detect, datapath.ts datapathPod, metrics.ts sample, cilium.ts agentPods: agent pods by label' },
  { group: '', resource: 'configmaps', verbs: ['get'], namespace: 'kube-system', names: ['kube-proxy'], why: 'cluster.ts detect: kube-proxy mode from its ConfigMap' },
  { group: '', resource: 'configmaps', verbs: ['get'], namespace: 'kube-system', names: ['cilium-config'], why: 'cluster.ts getLbMapMax; cilium.ts setHubble, patchLbMapMax (read)' },
  { group: '', resource: 'pods/exec', verbs: ['get', 'create'], namespace: 'kube-system', names: ['cilium-x7k2p', 'kube-proxy-9zq4m'], why: 'cluster.ts detect (cilium status), datapath.ts listing, metrics.ts figures, cilium.ts ciliumEndpoints/policyVerdict: exec in agent pods (generated names)' },
  { group: '', resource: 'pods/log', verbs: ['get'], namespace: 'kube-system', names: ['cilium-x7k2p'], why: 'cilium.ts policyVerdict: the cilium-agent\'s log, its reason for refusing a policy (generated names)' },
  // src/activities/fixtures.ts (+ src/kube/apply.ts server-side apply)
  { url: '/api/v1', verbs: ['get'], why: 'kube/apply.ts applyObjects: KubernetesObjectApi resolves kinds from API discovery' },
  { group: '', resource: 'namespaces', verbs: ['create', 'patch'], names: [BENCH], why: 'fixtures.ts deployFixtures: server-side apply of the workload namespace' },
  { group: '', resource: 'pods', verbs: ['create', 'patch'], namespace: BENCH, names: [...FIXTURE_PODS], why: 'fixtures.ts deployFixtures: server-side apply of the test pods' },
  { group: '', resource: 'services', verbs: ['create', 'patch', 'get'], namespace: BENCH, names: ['iperf-service', 'fortio-service'], why: 'fixtures.ts deployFixtures: apply the Services, read their ClusterIPs' },
  { group: '', resource: 'pods', verbs: ['list'], namespace: BENCH, why: 'fixtures.ts deployFixtures: wait for the test pods to be Ready; cilium.ts ciliumEndpoints: the test pods\' nodes' },
  { group: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list'], namespace: BENCH, why: 'fixtures.ts deployFixtures: wait for a ready endpoint per Service' },
  { group: '', resource: 'namespaces', verbs: ['delete', 'get'], names: [BENCH, SCALE], why: 'fixtures.ts claimNamespaces (is it netbench\'s?), deployFixtures (read before apply), deleteNamespaces (read, delete, wait until gone)' },
  // src/activities/datapath.ts
  { group: '', resource: 'pods', verbs: ['get'], namespace: BENCH, names: ['fortio-client'], why: 'datapath.ts datapathPod: the node of fortio-client' },
  // src/activities/measure.ts (+ src/kube/exec.ts)
  { group: '', resource: 'pods/exec', verbs: ['get', 'create'], namespace: BENCH, names: CLIENT_PODS, why: 'measure.ts measure: run the tool in its client pod (websocket: get up to 1.34, also create from 1.35)' },
  // src/activities/services.ts (+ src/kube/waits.ts)
  { group: '', resource: 'namespaces', verbs: ['get'], names: [SCALE], why: 'services.ts ensureNamespace, kube/waits.ts waitForNamespaceGone' },
  { group: '', resource: 'namespaces', verbs: ['create'], why: 'services.ts ensureNamespace: createNamespace (POST, no name)' },
  { group: '', resource: 'services', verbs: ['create'], namespace: SCALE, why: 'services.ts createDummyServices: createNamespacedService' },
  { group: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['create'], namespace: SCALE, why: 'services.ts createDummyServices (endpointslices mode)' },
  { group: '', resource: 'endpoints', verbs: ['create'], namespace: SCALE, why: 'services.ts createDummyServices (endpoints mode, the reference\'s objects)' },
  { group: '', resource: 'services', verbs: ['list'], namespace: SCALE, why: 'services.ts countDummyServices' },
  { group: '', resource: 'namespaces', verbs: ['delete'], names: [SCALE], why: 'services.ts deleteDummyServices' },
  // src/activities/cilium.ts
  { group: '', resource: 'configmaps', verbs: ['update'], namespace: 'kube-system', names: ['cilium-config'], why: 'cilium.ts setHubble, patchLbMapMax: replace cilium-config' },
  { group: 'apps', resource: 'daemonsets', verbs: ['get', 'update'], namespace: 'kube-system', names: ['cilium'], why: 'cilium.ts restartAndWait: rollout restart ds/cilium, wait' },
  { group: 'apps', resource: 'deployments', verbs: ['get', 'update'], namespace: 'kube-system', names: ['cilium-operator'], why: 'cilium.ts restartAndWait: rollout restart deploy/cilium-operator, wait' },
  { group: 'cilium.io', resource: 'ciliumnetworkpolicies', verbs: ['create'], namespace: BENCH, why: 'cilium.ts applyPolicy (POST, no name)' },
  { group: 'cilium.io', resource: 'ciliumnetworkpolicies', verbs: ['delete'], namespace: BENCH, names: Object.values(POLICY_NAMES), why: 'cilium.ts deletePolicy' },
  // src/activities/metrics.ts
  { group: 'metrics.k8s.io', resource: 'pods', verbs: ['list'], namespace: 'kube-system', why: 'metrics.ts sample: Metrics.getPodMetrics(kube-system)' },
];

/** Requests the worker must NOT be able to make. */
const FORBIDDEN: Need[] = [
  { group: '', resource: 'namespaces', verbs: ['delete'], names: ['kube-system', 'default'], why: 'only the run\'s own namespaces may be deleted' },
  { group: '', resource: 'secrets', verbs: ['get', 'list'], namespace: 'kube-system', why: 'no secrets' },
  { group: '', resource: 'pods', verbs: ['create'], namespace: 'kube-system', why: 'no pods created by POST (fixtures use apply)' },
  { group: '', resource: 'pods', verbs: ['patch', 'create'], namespace: 'kube-system', names: ['backdoor'], why: 'no pods other than the fixtures' },
  { group: '', resource: 'pods', verbs: ['delete'], namespace: BENCH, names: ['fortio-client'], why: 'pods go with their namespace' },
  { group: '', resource: 'pods/exec', verbs: ['create', 'get'], namespace: BENCH, names: ['iperf-server', 'fortio-server'], why: 'exec only in client pods outside kube-system' },
  { group: '', resource: 'pods/exec', verbs: ['create', 'get'], namespace: 'default', names: ['web-0'], why: 'exec only in client pods outside kube-system' },
  { group: '', resource: 'configmaps', verbs: ['update', 'get'], namespace: 'kube-system', names: ['coredns'], why: 'only the datapath ConfigMaps' },
  { group: '', resource: 'configmaps', verbs: ['update'], namespace: 'kube-system', names: ['kube-proxy'], why: 'kube-proxy ConfigMap is read only' },
  { group: 'apps', resource: 'daemonsets', verbs: ['update'], namespace: 'kube-system', names: ['kube-proxy'], why: 'only Cilium is restarted' },
  { group: '', resource: 'nodes', verbs: ['patch', 'delete'], names: ['node-1'], why: 'no node writes' },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', verbs: ['create'], why: 'no RBAC writes' },
  { url: '/metrics', verbs: ['get'], why: 'no other non-resource URLs' },
];

/** One request of a Need (verbs × names expanded). */
interface Req {
  group: string;
  resource: string;
  url?: string;
  verb: string;
  namespace?: string;
  name?: string;
}
const expand = (n: Need): Req[] =>
  n.verbs.flatMap((verb) => (n.names ?? [undefined]).map((name) => ({ group: n.group ?? '', resource: n.resource ?? '', url: n.url, verb, namespace: n.namespace, name })));
const show = (r: Req) => (r.url ? `${r.verb} ${r.url}` : `${r.verb} ${r.group || 'core'}/${r.resource}${r.name ? `/${r.name}` : ''}${r.namespace ? ` in ${r.namespace}` : ' (cluster)'}`);

// ---------------------------------------------------------------- manifests

const yamlFiles = readdirSync(DEPLOY).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
const objects: KubernetesObject[] = yamlFiles.flatMap((f) => loadAllYaml(readFileSync(path.join(DEPLOY, f), 'utf8')) as KubernetesObject[]);
const ofKind = <T>(kind: string) => objects.filter((o) => o.kind === kind) as T[];

/** RBAC's matching (no wildcards to handle: they are refused below). */
function ruleAllows(rule: V1PolicyRule, r: Req): boolean {
  if (!rule.verbs.includes(r.verb)) return false;
  if (r.url) return rule.nonResourceURLs?.includes(r.url) ?? false;
  if (!rule.apiGroups?.includes(r.group) || !rule.resources?.includes(r.resource)) return false;
  return !rule.resourceNames?.length || (r.name !== undefined && rule.resourceNames.includes(r.name));
}

/** The rules that apply to the ServiceAccount for a request in a namespace (undefined = cluster scope). */
function rulesFor(namespace: string | undefined): V1PolicyRule[] {
  const isSa = (s: { kind: string; name: string; namespace?: string }) => s.kind === 'ServiceAccount' && s.name === SA.name && s.namespace === SA.namespace;
  const clusterRole = (name: string) => ofKind<V1ClusterRole>('ClusterRole').find((c) => c.metadata?.name === name)?.rules ?? [];
  const rules = ofKind<V1ClusterRoleBinding>('ClusterRoleBinding')
    .filter((b) => b.subjects?.some(isSa))
    .flatMap((b) => clusterRole(b.roleRef.name));
  if (namespace) {
    for (const b of ofKind<V1RoleBinding>('RoleBinding').filter((b) => b.metadata?.namespace === namespace && b.subjects?.some(isSa))) {
      if (b.roleRef.kind === 'ClusterRole') rules.push(...clusterRole(b.roleRef.name));
      else rules.push(...(ofKind<V1Role>('Role').find((r) => r.metadata?.name === b.roleRef.name && r.metadata?.namespace === namespace)?.rules ?? []));
    }
  }
  return rules;
}
const allowed = (r: Req) => rulesFor(r.namespace).some((rule) => ruleAllows(rule, r));

describe('deploy/ RBAC: the manifests', () => {
  it('kustomization.yaml applies every manifest in deploy/', () => {
    const k = loadYaml<{ resources: string[] }>(readFileSync(path.join(DEPLOY, 'kustomization.yaml'), 'utf8'));
    assert.deepEqual([...k.resources].sort(), yamlFiles);
  });

  it('grants every request the activities make, where they make it', () => {
    const missing = NEEDED.flatMap((n) => expand(n).filter((r) => !allowed(r)).map((r) => `${show(r)}  <- ${n.why}`));
    assert.deepEqual(missing, []);
  });

  it('refuses what the worker must not do', () => {
    const granted = FORBIDDEN.flatMap((n) => expand(n).filter(allowed).map((r) => `${show(r)}  (${n.why})`));
    assert.deepEqual(granted, []);
  });

  it('grants nothing that no activity needs (every verb, resource, name and URL is in the table)', () => {
    const roles = [...ofKind<V1ClusterRole>('ClusterRole'), ...ofKind<V1Role>('Role')];
    const extra: string[] = [];
    for (const role of roles) {
      const ns = role.metadata?.namespace;
      for (const rule of role.rules ?? []) {
        for (const verb of rule.verbs) {
          for (const url of rule.nonResourceURLs ?? []) {
            if (!NEEDED.some((n) => n.url === url && n.verbs.includes(verb))) extra.push(`${role.kind} ${role.metadata?.name}: ${verb} ${url}`);
          }
          for (const group of rule.apiGroups ?? []) {
            for (const resource of rule.resources ?? []) {
              const rows = NEEDED.filter((n) => (n.group ?? '') === group && n.resource === resource && n.verbs.includes(verb) && (!ns || n.namespace === ns));
              const what = `${role.kind} ${role.metadata?.name}: ${verb} ${group || 'core'}/${resource}`;
              if (!rows.length) extra.push(what);
              // A name is granted only if a row uses it.
              for (const name of rule.resourceNames ?? []) if (!rows.some((n) => n.names?.includes(name))) extra.push(`${what}/${name}`);
              // A rule without names is granted only if some row needs it without a name (or for generated names).
              if (!rule.resourceNames?.length && !rows.some((n) => !n.names || n.why.includes('generated names'))) extra.push(`${what} (any name)`);
            }
          }
        }
      }
    }
    assert.deepEqual(extra, []);
  });

  it('uses no "*" wildcard anywhere', () => {
    const roles = [...ofKind<V1ClusterRole>('ClusterRole'), ...ofKind<V1Role>('Role')];
    assert.ok(roles.length >= 2);
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'] as const) {
          for (const v of rule[field] ?? []) assert.ok(!v.includes('*'), `${role.metadata?.name}: ${field} contains "${v}"`);
        }
      }
    }
  });

  it('pins names to the code: fixture pods, client pods, policies, the run\'s namespaces', () => {
    const names = (group: string, resource: string, verb: string) =>
      ofKind<V1ClusterRole>('ClusterRole').flatMap((c) => c.rules ?? []).filter((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb)).flatMap((r) => r.resourceNames ?? []);
    assert.deepEqual(names('', 'pods', 'create').sort(), [...FIXTURE_PODS].sort());
    const exec = names('', 'pods/exec', 'create');
    for (const c of CLIENT_PODS) assert.ok(exec.includes(c), `exec into ${c} (a scenario client) is granted`);
    for (const p of exec) assert.ok((FIXTURE_PODS as readonly string[]).includes(p) && p.includes('client'), `${p} is a fixture client pod`);
    assert.deepEqual(names('cilium.io', 'ciliumnetworkpolicies', 'delete').sort(), Object.values(POLICY_NAMES).sort());
    assert.deepEqual(names('', 'namespaces', 'delete').sort(), [BENCH, SCALE].sort());
  });

  it('binds the roles to the worker\'s ServiceAccount, which the Deployment runs as', () => {
    const dep = ofKind<V1Deployment>('Deployment')[0];
    assert.equal(dep.metadata?.namespace, SA.namespace);
    assert.equal(dep.spec?.template.spec?.serviceAccountName, SA.name);
    assert.ok(ofKind<KubernetesObject>('ServiceAccount').some((s) => s.metadata?.name === SA.name && s.metadata?.namespace === SA.namespace));
    assert.ok(ofKind<V1RoleBinding>('RoleBinding').every((b) => b.metadata?.namespace === 'kube-system'));
  });

  it('runs the worker non-root, read-only, within its memory budget, with metrics on the configured port', () => {
    const dep = ofKind<V1Deployment>('Deployment')[0];
    const pod = dep.spec!.template.spec!;
    const c = pod.containers[0];
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.runAsUser, 1000, 'the Dockerfile\'s "node" user, numerically');
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(c.resources?.limits?.memory, '512Mi');
    assert.ok(c.volumeMounts?.some((m) => m.mountPath === '/tmp'), 'a writable /tmp (tsx cache, datapath listings)');
    assert.ok(c.volumeMounts?.some((m) => m.mountPath === '/results'), 'a results volume');
    assert.equal(c.env?.find((e) => e.name === 'KUBECONFIG')?.value, '', 'in-cluster credentials, not the image\'s /kube/config');
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === c.envFrom?.[0]?.configMapRef?.name) as { data: Record<string, string> } | undefined;
    assert.ok(cm, 'the ConfigMap the worker reads its settings from');
    const port = Number(cm.data.NETBENCH_METRICS_ADDRESS.split(':').pop());
    assert.equal(c.ports?.find((p) => p.name === 'metrics')?.containerPort, port);
    assert.ok(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8').includes('USER node'));
  });
});

// ------------------------------------------------------ a real kube-apiserver

describe('deploy/ RBAC on a real kube-apiserver, as the worker\'s ServiceAccount', () => {
  // test/support/apiserver.ts: etcd + kube-apiserver (RBAC on) + the namespace and ServiceAccount controllers.
  let api: Awaited<ReturnType<typeof import('../support/apiserver').startApiserver>>;
  let admin: KubeConfig;
  let worker: KubeConfig;

  before(async () => {
    const { startApiserver } = await import('../support/apiserver');
    api = await startApiserver({ controllers: ['namespace-controller', 'serviceaccount-controller'] });
    admin = api.kubeConfig;
    const objectsApi = KubernetesObjectApi.makeApiClient(admin);
    // In kustomization order (the Namespace first), as `kubectl apply -k deploy/` would.
    const k = loadYaml<{ resources: string[] }>(readFileSync(path.join(DEPLOY, 'kustomization.yaml'), 'utf8'));
    for (const f of k.resources) for (const o of loadAllYaml(readFileSync(path.join(DEPLOY, f), 'utf8')) as KubernetesObject[]) await objectsApi.create(o);
    // What a cluster has before netbench comes: the datapath's ConfigMaps and Cilium's policy CRD.
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'cilium-config' }, data: { 'bpf-lb-map-max': '65536' } } });
    await objectsApi.create(CILIUM_POLICY_CRD);
    // The ServiceAccount's own token, as the Deployment's pod would get it.
    const tr = await core.createNamespacedServiceAccountToken({ name: SA.name, namespace: SA.namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    worker = new KubeConfig();
    worker.loadFromOptions({
      clusters: [{ name: 'c', server: api.server, skipTLSVerify: true }],
      users: [{ name: 'netbench-worker', token: tr.status!.token }],
      contexts: [{ name: 'c', cluster: 'c', user: 'netbench-worker' }],
      currentContext: 'c',
    });
  });
  after(async () => {
    await api?.stop();
  });

  async function review(r: Req): Promise<boolean> {
    const authz = admin.makeApiClient(AuthorizationV1Api);
    const res = await authz.createSubjectAccessReview({
      body: {
        spec: {
          user: SA_USER,
          // Only netbench's bindings count: no system:authenticated defaults.
          groups: [],
          ...(r.url
            ? { nonResourceAttributes: { path: r.url, verb: r.verb } }
            : { resourceAttributes: { group: r.group, resource: r.resource.split('/')[0], subresource: r.resource.split('/')[1], verb: r.verb, namespace: r.namespace, name: r.name } }),
        },
      },
    });
    return res.status?.allowed === true;
  }

  it('the apiserver\'s authorizer allows every row of the table', async () => {
    const denied: string[] = [];
    for (const n of NEEDED) for (const r of expand(n)) if (!(await review(r))) denied.push(`${show(r)}  <- ${n.why}`);
    assert.deepEqual(denied, []);
  });

  it('and denies what the worker must not do', async () => {
    const granted: string[] = [];
    for (const n of FORBIDDEN) for (const r of expand(n)) if (await review(r)) granted.push(show(r));
    assert.deepEqual(granted, []);
  });

  it('cluster facts: nodes and the server version', async () => {
    await worker.makeApiClient(CoreV1Api).listNode();
    assert.match((await worker.makeApiClient(VersionApi).getCode()).gitVersion, /^v1\./);
  });

  it('fixtures: server-side apply of the namespace, pods and Services (twice: idempotent)', async () => {
    const objs = fixtureObjects({ ns: BENCH, serverNode: 'node-a', clientNode: 'node-b', images: { iperf: 'iperf3', netperf: 'netperf', fortio: 'fortio' } });
    // A fresh namespace has no "default" ServiceAccount for a moment (the
    // controller adds it): pods are refused until then, in real clusters too;
    // the activity's retry covers it. Retry the same way here.
    for (let attempt = 1; ; attempt++) {
      try {
        await applyObjects(worker, objs);
        break;
      } catch (err) {
        if (attempt >= 20 || !/serviceaccount "default" not found/.test(String((err as { body?: string }).body))) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await applyObjects(worker, objs);
    const pods = await admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: BENCH });
    assert.deepEqual(pods.items.map((p) => p.metadata!.name).sort(), [...FIXTURE_PODS].sort());
    const svc = await worker.makeApiClient(CoreV1Api).readNamespacedService({ namespace: BENCH, name: 'fortio-service' });
    assert.match(svc.spec!.clusterIP!, /^10\.96\./);
  });

  it('exec: allowed into a client pod (fails later: no kubelet here), refused into a server pod', async () => {
    const exec = (pod: string) =>
      execInPod({ kubeConfig: worker, namespace: BENCH, pod, container: FIXTURE_PODS.includes(pod as never) ? pod.split('-')[0] : undefined, command: ['true'], timeoutMs: 15_000 }).then(
        () => 'ran',
        (err: Error) => err.message,
      );
    const client = await exec('fortio-client');
    assert.doesNotMatch(client, /forbidden|403/i, 'authorized; the apiserver then cannot reach a kubelet');
    assert.notEqual(client, 'ran');
    assert.match(await exec('fortio-server'), /forbidden|403/i);
  });

  it('Cilium: read and patch cilium-config, apply and delete both policies', async () => {
    const cluster = makeClusterActivities({ kubeConfig: worker });
    const cilium = makeCiliumActivities({ kubeConfig: worker });
    assert.equal(await cluster.getLbMapMax(), 65536);
    await cilium.patchLbMapMax({ value: 262144 });
    assert.equal(await cluster.getLbMapMax(), 262144);
    for (const kind of ['l3l4', 'l7'] as const) {
      await cilium.applyPolicy({ ns: BENCH, kind });
      await cilium.applyPolicy({ ns: BENCH, kind }); // 409 counts as done
      await cilium.deletePolicy({ ns: BENCH, kind });
    }
  });

  it('dummy Services: create (EndpointSlices and Endpoints), count, delete the namespace', async () => {
    const kube = makeKubeClients({ kubeConfig: worker });
    try {
      const svc = makeServiceActivities({ kube });
      const env = new MockActivityEnvironment();
      // The SDK's activity harness: a real Context (heartbeats, cancellation) without a worker.
      const inCtx = <T>(fn: () => Promise<T>) => env.run(fn) as Promise<T>;
      const a = await inCtx(() => svc.createDummyServices({ namespace: SCALE, from: 1, to: 20, endpointsPerService: 2, parallel: 4 }));
      const b = await inCtx(() => svc.createDummyServices({ namespace: SCALE, from: 21, to: 25, endpointsPerService: 2, endpointsMode: 'endpoints' }));
      assert.equal(a.created + b.created, 25);
      assert.deepEqual(await inCtx(() => svc.countDummyServices({ namespace: SCALE })), { services: 25 });
      // deploy/rbac.yaml grants no Service delete: the worker's purge stops at the 403 and the namespace controller cleans up.
      const del = await inCtx(() => svc.deleteDummyServices({ namespace: SCALE, timeoutSeconds: 60 }));
      assert.equal(del.existed, true);
      assert.equal(del.deletedServices, 0);
    } finally {
      await kube.close();
    }
  });

  it('the run\'s access check passes for a full Cilium plan (every SelfSubjectAccessReview allowed by deploy/)', async () => {
    const fixtures = makeFixtureActivities({ kubeConfig: worker });
    const phases = ['throughput', 'rps', 'latency', 'hubble', 'networkpolicy', 'service-scale', 'metrics'] as const;
    for (const endpointsMode of ['endpointslices', 'endpoints'] as const) {
      const r: { owners: Record<string, string> } = await new MockActivityEnvironment().run(() => fixtures.claimNamespaces({ workloads: BENCH, services: SCALE, useExisting: false, access: { phases: [...phases], cilium: true, endpointsMode } })) as { owners: Record<string, string> };
      assert.ok(r.owners[BENCH] !== 'user');
    }
  });

  it('cleanup: the workload namespace is deleted and waited out', async () => {
    const env = new MockActivityEnvironment();
    const inCtx = <T>(fn: () => Promise<T>) => env.run(fn) as Promise<T>;
    const fixtures = makeFixtureActivities({ kubeConfig: worker });
    // Pods bound to nodes wait for their kubelet to confirm deletion; there is none here.
    const core = admin.makeApiClient(CoreV1Api);
    for (const p of FIXTURE_PODS) await core.deleteNamespacedPod({ namespace: BENCH, name: p, gracePeriodSeconds: 0 });
    assert.deepEqual(await inCtx(() => fixtures.deleteNamespaces({ namespaces: [BENCH], timeoutSec: 60 })), { deleted: [BENCH] });
  });
});
