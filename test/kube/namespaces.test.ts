/**
 * A user's namespace is never netbench's to delete (real kube-apiserver,
 * etcd and the namespace controller; real fixture activities).
 *
 * The data-loss bug this guards against: a run given `--ns team-a` of an
 * existing namespace used to relabel it (Pod Security "privileged") and
 * delete it, with everything the user had in it, at cleanup.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import type { PhaseName } from '../../src/config';
import { MockActivityEnvironment } from '@temporalio/testing';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeClusterActivities } from '../../src/activities/cluster';
import { makeFixtureActivities } from '../../src/activities/fixtures';
import { CNP, policyObject, POLICY_NAMES } from '../../src/activities/cilium';
import { FIXTURE_PODS, fixtureObjects, MANAGED_BY_NETBENCH } from '../../src/domain/fixtures';
import { buildDummyEndpointSlice, buildDummyService } from '../../src/domain/services';
import { applyObjects } from '../../src/kube/apply';
import { CILIUM_POLICY_CRD, startApiserver, type RunningApiserver } from '../support/apiserver';

const USER_NS = 'team-a';
const OURS = 'nb-owned';

let api: RunningApiserver;
let core: CoreV1Api;
const inCtx = <T>(fn: () => Promise<T>) => new MockActivityEnvironment().run(fn) as Promise<T>;

before(async () => {
  api = await startApiserver({ controllers: ['namespace-controller'], users: ['alice'] });
  core = api.kubeConfig.makeApiClient(CoreV1Api);
  await KubernetesObjectApi.makeApiClient(api.kubeConfig).create(CILIUM_POLICY_CRD);
  // The user's namespace, with the user's own things in it.
  await core.createNamespace({ body: { metadata: { name: USER_NS, labels: { team: 'a', 'pod-security.kubernetes.io/enforce': 'privileged' } } } });
  // (no serviceaccount controller here: the pods' ServiceAccount by hand)
  await core.createNamespacedServiceAccount({ namespace: USER_NS, body: { metadata: { name: 'default' } } });
  await core.createNamespacedConfigMap({ namespace: USER_NS, body: { metadata: { name: 'settings' }, data: { keep: 'me' } } });
  await core.createNamespacedService({ namespace: USER_NS, body: { metadata: { name: 'web', labels: { app: 'web' } }, spec: { ports: [{ port: 80 }] } } });
  await core.createNamespacedPod({ namespace: USER_NS, body: { metadata: { name: 'web-0', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } });
});
after(async () => {
  await api?.stop();
});

async function userThings() {
  const ns = await core.readNamespace({ name: USER_NS });
  return {
    labels: ns.metadata?.labels,
    phase: ns.status?.phase,
    configMap: (await core.readNamespacedConfigMap({ namespace: USER_NS, name: 'settings' })).data,
    service: (await core.readNamespacedService({ namespace: USER_NS, name: 'web' })).metadata?.name,
    pod: (await core.readNamespacedPod({ namespace: USER_NS, name: 'web-0' })).metadata?.name,
  };
}

describe("a user's namespace (real apiserver)", () => {
  it('is refused without --use-existing-ns, with a clear reason, and nothing in it changes', async () => {
    const fixtures = makeFixtureActivities({ kubeConfig: api.kubeConfig });
    const before_ = await core.readNamespace({ name: USER_NS });
    await assert.rejects(
      inCtx(() => fixtures.claimNamespaces({ workloads: USER_NS, services: 'fresh-services', useExisting: false })),
      (err: Error) => {
        assert.match(err.message, /namespace "team-a" \(--ns\) already exists and netbench did not create it/);
        assert.match(err.message, /--use-existing-ns/);
        assert.match(err.message, /Nothing was changed/);
        return true;
      },
    );
    const after_ = await core.readNamespace({ name: USER_NS });
    assert.equal(after_.metadata?.resourceVersion, before_.metadata?.resourceVersion, 'the namespace was not touched');
    await assert.rejects(core.readNamespace({ name: 'fresh-services' }), 'the other namespace was not created either');
  });

  it('a namespace whose Pod Security level forbids hostNetwork pods is refused even with --use-existing-ns', async () => {
    await core.createNamespace({ body: { metadata: { name: 'strict', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } } });
    const fixtures = makeFixtureActivities({ kubeConfig: api.kubeConfig });
    await assert.rejects(
      inCtx(() => fixtures.claimNamespaces({ workloads: 'strict', services: 'fresh-services', useExisting: true })),
      /enforces Pod Security level "baseline".*does not change a namespace it did not create/s,
    );
    assert.equal((await core.readNamespace({ name: 'strict' })).metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'baseline');
  });

  it('with --use-existing-ns: used as it is, and cleanup removes only netbench\'s objects from it', async () => {
    const fixtures = makeFixtureActivities({ kubeConfig: api.kubeConfig });
    const claim = await inCtx(() => fixtures.claimNamespaces({ workloads: USER_NS, services: OURS, useExisting: true }));
    assert.deepEqual(claim.owners, { [USER_NS]: 'user', [OURS]: 'absent' });
    const before_ = await userThings();

    // What a run puts there: the fixtures (as deployFixtures applies them), a policy, dummy Services.
    await applyObjects(api.kubeConfig, fixtureObjects({ ns: USER_NS, serverNode: 'n1', clientNode: 'n2', images: { iperf: 'i', netperf: 'n', fortio: 'f' } }, { createNamespace: false }));
    await api.kubeConfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ ...CNP, namespace: USER_NS, body: policyObject(USER_NS, 'l3l4') });
    for (let i = 1; i <= 3; i++) {
      await core.createNamespacedService({ namespace: USER_NS, body: buildDummyService(USER_NS, i) as never });
      await KubernetesObjectApi.makeApiClient(api.kubeConfig).create(buildDummyEndpointSlice(USER_NS, i, 2) as KubernetesObject);
    }
    // ... and a namespace netbench makes itself.
    await core.createNamespace({ body: { metadata: { name: OURS, labels: { 'app.kubernetes.io/managed-by': 'netbench', 'netbench/dummy': 'true' } } } });
    await core.createNamespacedService({ namespace: OURS, body: buildDummyService(OURS, 1) as never });
    assert.deepEqual(await userThings(), before_, 'deploying the fixtures changed nothing of the user\'s (no relabel, no Pod Security change)');

    const res = await inCtx(() => fixtures.deleteNamespaces({ namespaces: [USER_NS, OURS], timeoutSec: 120 }));
    assert.deepEqual(res.deleted, [OURS]);
    assert.equal(res.kept?.[0]?.namespace, USER_NS);
    assert.equal(res.kept?.[0]?.removedObjects, FIXTURE_PODS.length + 2 + 1 + 3, '8 pods, 2 Services, 1 policy, 3 dummy Services');

    assert.deepEqual(await userThings(), before_, "every one of the user's objects survived, the namespace is unchanged");
    const left = await core.listNamespacedPod({ namespace: USER_NS, labelSelector: MANAGED_BY_NETBENCH });
    assert.equal(left.items.length, 0, "netbench's pods are gone");
    const svcs = (await core.listNamespacedService({ namespace: USER_NS })).items.map((s) => s.metadata?.name);
    assert.deepEqual(svcs, ['web']);
    await assert.rejects(api.kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...CNP, namespace: USER_NS, name: POLICY_NAMES.l3l4 }));
    await assert.rejects(core.readNamespace({ name: OURS }), 'netbench\'s own namespace is deleted');

    // A second cleanup (e.g. after a cancel) is a no-op on the user's namespace.
    const again = await inCtx(() => fixtures.deleteNamespaces({ namespaces: [USER_NS, OURS], timeoutSec: 60 }));
    assert.deepEqual(again, { deleted: [], kept: [{ namespace: USER_NS, removedObjects: 0 }] });
    assert.deepEqual(await userThings(), before_);
  });

  it('RBAC that forbids what the plan needs is refused before anything changes, naming each missing permission and what needs it', async () => {
    // alice may read namespaces and nothing else
    const rbac = api.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: 'ns-reader' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'alice-ns-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ns-reader' }, subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }] } });
    const alice = new KubeConfig();
    alice.loadFromFile(api.kubeconfigFor('alice'));
    const fixtures = makeFixtureActivities({ kubeConfig: alice });
    const before_ = (await core.listNamespace()).items.map((n) => n.metadata?.name).sort();
    const access = { phases: ['rps', 'hubble', 'networkpolicy', 'service-scale', 'metrics'] as PhaseName[], cilium: true, endpointsMode: 'endpointslices' as const };
    await assert.rejects(
      inCtx(() => fixtures.claimNamespaces({ workloads: 'fresh-bench', services: 'fresh-services', useExisting: false, access })),
      (err: Error) => {
        assert.match(err.message, /RBAC forbids what this run needs \(nothing was changed\)/);
        for (const line of [
          /create pods\/exec "fortio-client" in namespace fresh-bench: needed for every measurement/,
          /create namespaces \(cluster-wide\): needed for creating the benchmark namespace/,
          /create endpointslices\.discovery\.k8s\.io in namespace fresh-services/,
          /update configmaps "cilium-config" in namespace kube-system/,
          /create ciliumnetworkpolicies\.cilium\.io in namespace fresh-bench/,
          /list pods\.metrics\.k8s\.io in namespace kube-system/,
          /create pods\/exec in namespace kube-system: needed for asking the Cilium agents whether the benchmark pods have endpoints/,
          /get pods\/log in namespace kube-system: needed for the Cilium agent's log: its reason when it refuses a policy/,
        ]) assert.match(err.message, line);
        return true;
      },
    );
    assert.deepEqual((await core.listNamespace()).items.map((n) => n.metadata?.name).sort(), before_, 'nothing was created');
    // the admin may do all of it
    const admin = makeFixtureActivities({ kubeConfig: api.kubeConfig });
    assert.deepEqual(await inCtx(() => admin.claimNamespaces({ workloads: 'fresh-bench', services: 'fresh-services', useExisting: false, access })), { owners: { 'fresh-bench': 'absent', 'fresh-services': 'absent' } });
  });

  it('a test image that cannot be pulled fails the deploy at once, naming the pod and the image (not after the 300 s wait)', async () => {
    const ns = 'nb-images';
    await core.createNamespace({ body: { metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'netbench' } } } });
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'default' } } });
    const fixtures = makeFixtureActivities({ kubeConfig: api.kubeConfig });
    const t0 = Date.now();
    const deploying = inCtx(() => fixtures.deployFixtures({ ns, serverNode: 'n1', clientNode: 'n2', images: { iperf: 'i', netperf: 'n', fortio: 'fortio/fortio:no-such-tag' }, readyTimeoutSec: 300 }));
    // what a kubelet reports for an image it cannot pull (no kubelet here: the status is written as one would)
    for (;;) {
      const pod = await core.readNamespacedPod({ namespace: ns, name: 'fortio-client' }).catch(() => undefined);
      if (pod) {
        pod.status = { phase: 'Pending', containerStatuses: [{ name: 'fortio', image: 'fortio/fortio:no-such-tag', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "fortio/fortio:no-such-tag"' } } }] };
        await core.replaceNamespacedPodStatus({ namespace: ns, name: 'fortio-client', body: pod });
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await assert.rejects(deploying, /test images cannot be pulled: fortio-client: fortio\/fortio:no-such-tag \(ImagePullBackOff: Back-off pulling image/);
    assert.ok(Date.now() - t0 < 60_000, 'at once, not after the timeout');
  });

  it('a cluster with one node is refused by the first step, which only reads', async () => {
    await core.createNode({ body: { metadata: { name: 'only-node' }, status: { addresses: [{ type: 'InternalIP', address: '10.240.0.9' }] } } });
    const before_ = (await core.listNamespace()).items.length;
    const cluster = makeClusterActivities({ kubeConfig: api.kubeConfig });
    await assert.rejects(
      inCtx(() => cluster.inspectCluster({ contextName: 'one-node', outputDir: mkdtempSync(path.join(os.tmpdir(), 'nb-one-node-')) })),
      /need at least 2 nodes \(server and client sides must differ\), found 1/,
    );
    assert.equal((await core.listNamespace()).items.length, before_, 'nothing was created');
  });
});
