/**
 * The Service-scale activities against a real kube-apiserver + etcd, run
 * inside MockActivityEnvironment (a real activity Context: heartbeats are
 * captured, cancellation is real).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger } from '@temporalio/worker';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { startApiserver, type RunningApiserver } from '../support/apiserver';
import { makeKubeClients, type KubeClients } from '../../src/kube/client';
import {
  makeServiceActivities,
  type CreateDummyServicesResult,
  type CreateProgressDetails,
  type ServiceActivities,
} from '../../src/activities/services';
import { endpointAddress, dummyServiceName, serviceEndpointAddresses } from '../../src/domain/services';
import { countingCore } from '../support/counting-clients';

/** MockActivityEnvironment.run loses the result type; keep it. */
function runIn<R>(env: MockActivityEnvironment, fn: () => Promise<R>): Promise<R> {
  return env.run(fn) as Promise<R>;
}

/** An activity environment that does not log the failures the tests provoke on purpose. */
function activityEnv(info?: Partial<Info>): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
}

/** The reference's address plan written out independently of the code under test. */
function expectedAddresses(i: number, e: number): string[] {
  const out: string[] = [];
  for (let j = 0; j < e; j++) {
    const g = (i - 1) * e + j;
    out.push(`10.${100 + Math.floor(g / 64516)}.${Math.floor(g / 254) % 254}.${(g % 254) + 1}`);
  }
  return out;
}

describe('the reference address plan', () => {
  it('numbers endpoints globally: g = (i - 1) * E + j, address 10.(100 + g/64516).((g/254) mod 254).(g mod 254 + 1)', () => {
    assert.equal(endpointAddress(0), '10.100.0.1');
    assert.equal(endpointAddress(253), '10.100.0.254');
    assert.equal(endpointAddress(254), '10.100.1.1');
    assert.equal(endpointAddress(64515), '10.100.253.254');
    assert.equal(endpointAddress(64516), '10.101.0.1');
    assert.deepEqual(serviceEndpointAddresses(1, 4), ['10.100.0.1', '10.100.0.2', '10.100.0.3', '10.100.0.4']);
    assert.deepEqual(serviceEndpointAddresses(30_000, 4), expectedAddresses(30_000, 4));
    assert.equal(dummyServiceName(42), 'dummy-svc-42');
  });

  it('gives 30,000 Services × 4 endpoints 120,000 distinct addresses', () => {
    const seen = new Set<string>();
    for (let i = 1; i <= 30_000; i++) for (const a of serviceEndpointAddresses(i, 4)) seen.add(a);
    assert.equal(seen.size, 120_000);
  });
});

describe('dummy Service activities on a real kube-apiserver', { timeout: 15 * 60_000 }, () => {
  let api: RunningApiserver;
  let kube: KubeClients;
  let acts: ServiceActivities;

  before(async () => {
    // The namespace controller is what really removes a deleted namespace.
    api = await startApiserver({ controllers: ['namespace-controller'], users: ['netbench-limited'] });
    kube = makeKubeClients({ kubeConfig: api.kubeConfig });
    acts = makeServiceActivities({ kube });
  });

  after(async () => {
    await kube?.close();
    await api?.stop();
  });

  /** Every Service name in a namespace, page by page. */
  async function serviceNames(namespace: string): Promise<string[]> {
    const names: string[] = [];
    let cont: string | undefined;
    do {
      const page = await kube.core.listNamespacedService({ namespace, limit: 1000, _continue: cont });
      for (const s of page.items) names.push(s.metadata!.name!);
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return names;
  }

  /** Checks dummy-svc-1..n exist exactly once, and nothing else does. */
  async function assertExactlyServices(namespace: string, n: number): Promise<void> {
    const names = await serviceNames(namespace);
    assert.equal(names.length, n, 'number of Services');
    const set = new Set(names);
    assert.equal(set.size, n, 'no duplicate names');
    for (let i = 1; i <= n; i++) assert.ok(set.has(`dummy-svc-${i}`), `dummy-svc-${i} exists`);
  }

  /** Checks every dummy-svc-i has exactly one EndpointSlice with the planned addresses, and no extras. */
  async function assertEndpointSlices(namespace: string, n: number, e: number): Promise<void> {
    const byService = new Map<string, string[]>();
    let cont: string | undefined;
    let total = 0;
    do {
      const page = await kube.discovery.listNamespacedEndpointSlice({ namespace, limit: 1000, _continue: cont });
      for (const s of page.items) {
        total++;
        const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
        assert.ok(svc, `slice ${s.metadata?.name} names its Service`);
        assert.ok(!byService.has(svc), `one slice for ${svc}`);
        assert.equal(s.addressType, 'IPv4');
        assert.deepEqual(
          s.ports?.map((p) => [p.port, p.protocol]),
          [[80, 'TCP']],
        );
        const endpoints = s.endpoints ?? [];
        assert.ok(endpoints.every((ep) => ep.conditions?.ready === true), `${svc} endpoints are ready`);
        byService.set(svc, endpoints.flatMap((ep) => ep.addresses));
      }
      cont = page.metadata?._continue || undefined;
    } while (cont);
    assert.equal(total, n, 'number of EndpointSlices');
    for (let i = 1; i <= n; i++) {
      assert.deepEqual(byService.get(`dummy-svc-${i}`), expectedAddresses(i, e), `addresses of dummy-svc-${i}`);
    }
  }

  it('creates 2,500 Services × 4 endpoints, is cancelled midway, resumes from its last heartbeat, and a rerun is a no-op', async () => {
    const namespace = 'scale-slices';
    const input = { namespace, from: 1, to: 2500, endpointsPerService: 4, parallel: 32 } as const;

    // First attempt: cancel it once it has heartbeated real progress.
    const first = activityEnv();
    const beats: CreateProgressDetails[] = [];
    first.on('heartbeat', (d: CreateProgressDetails) => {
      beats.push(d);
      if (d.lastIndex > 1024 && beats.length >= 2) first.cancel();
    });
    await assert.rejects(
      runIn(first, () => acts.createDummyServices(input)),
      (err) => err instanceof CancelledFailure,
    );
    const last = beats.at(-1)!;
    assert.ok(beats.length >= 2, 'heartbeats were sent');
    assert.ok(last.lastIndex > 1024 && last.lastIndex < 2500, `cancelled midway (at ${last.lastIndex})`);
    assert.equal(last.created + last.existed, last.lastIndex, 'heartbeat counts cover exactly 1..lastIndex');
    for (let k = 1; k < beats.length; k++) {
      assert.ok(beats[k]!.lastIndex >= beats[k - 1]!.lastIndex, 'the cursor never moves back');
    }
    const afterCancel = await serviceNames(namespace);
    assert.ok(afterCancel.length >= last.lastIndex && afterCancel.length < 2500, 'the first attempt stopped');

    // Second attempt, as Temporal would retry it: heartbeatDetails = the last heartbeat.
    const second = activityEnv({ heartbeatDetails: last });
    const resumedBeats: CreateProgressDetails[] = [];
    second.on('heartbeat', (d: CreateProgressDetails) => resumedBeats.push(d));
    const { kube: counting, counts } = countingCore(kube);
    const r2: CreateDummyServicesResult = await runIn(second, () =>
      makeServiceActivities({ kube: counting }).createDummyServices(input),
    );
    assert.equal(r2.lastIndex, 2500);
    assert.equal(r2.created + r2.existed, 2500, 'counts cover the whole range, across both attempts');
    // The resumed attempt asks only for Services after the cursor (a few more only if the apiserver had to be retried).
    const asked = counts.calls.get('createNamespacedService') ?? 0;
    const remaining = 2500 - last.lastIndex;
    assert.ok(asked >= remaining && asked <= remaining + 50, `asked for ${asked} Services, ${remaining} remained`);
    // Found existing: only Services finished out of order just before the cancel (less than the 1024 look-ahead).
    assert.ok(r2.existed < 1024 && r2.existed < last.lastIndex, `existed ${r2.existed}`);
    assert.ok(resumedBeats.every((b) => b.lastIndex >= last.lastIndex), 'the resumed cursor starts at the heartbeat');

    await assertExactlyServices(namespace, 2500);
    await assertEndpointSlices(namespace, 2500, 4);
    assert.deepEqual(await runIn(activityEnv(), () => acts.countDummyServices({ namespace })), {
      services: 2500,
    });

    // A third run from scratch finds everything in place and creates nothing.
    const r3 = await runIn(activityEnv(), () => acts.createDummyServices(input));
    assert.equal(r3.created, 0);
    assert.equal(r3.existed, 2500);
    await assertExactlyServices(namespace, 2500);
  });

  it('cleans up 2,500 Services page by page from the worker: every Service and EndpointSlice gone, then the namespace', async () => {
    const namespace = 'scale-slices'; // left by the test above
    const beats: unknown[] = [];
    const e = activityEnv();
    e.on('heartbeat', (d: unknown) => beats.push(d));
    const r = await runIn(e, () => acts.deleteDummyServices({ namespace, timeoutSeconds: 300 }));
    assert.equal(r.existed, true);
    assert.equal(r.deletedServices, 2500);
    assert.ok(beats.length > 0, 'it heartbeats while deleting');
    await assert.rejects(kube.core.readNamespace({ name: namespace }), (err: { code?: number }) => err.code === 404);
  });

  it('creates v1 Endpoints (the reference shape) instead of EndpointSlices when endpointsMode is "endpoints"', async () => {
    const namespace = 'scale-endpoints';
    const r = await runIn(activityEnv(), () =>
      acts.createDummyServices({ namespace, from: 1, to: 300, endpointsPerService: 4, endpointsMode: 'endpoints' }),
    );
    assert.deepEqual([r.created, r.existed, r.lastIndex], [300, 0, 300]);
    await assertExactlyServices(namespace, 300);
    const eps = await kube.core.listNamespacedEndpoints({ namespace, labelSelector: 'netbench/dummy=true' });
    assert.equal(eps.items.length, 300);
    for (const ep of eps.items) {
      const i = Number(ep.metadata!.name!.replace('dummy-svc-', ''));
      assert.equal(ep.subsets?.length, 1);
      assert.deepEqual(
        ep.subsets![0]!.addresses!.map((a) => a.ip),
        expectedAddresses(i, 4),
      );
      assert.deepEqual(
        ep.subsets![0]!.ports!.map((p) => [p.port, p.protocol]),
        [[80, 'TCP']],
      );
    }
    const slices = await kube.discovery.listNamespacedEndpointSlice({ namespace });
    assert.equal(slices.items.length, 0, 'no EndpointSlices were written by netbench');
  });

  it('grows a namespace step by step with global numbering, so new Services never reuse an address', async () => {
    const namespace = 'scale-steps';
    const step1 = await runIn(activityEnv(), () =>
      acts.createDummyServices({ namespace, from: 1, to: 100, endpointsPerService: 3 }),
    );
    const step2 = await runIn(activityEnv(), () =>
      acts.createDummyServices({ namespace, from: 101, to: 250, endpointsPerService: 3 }),
    );
    assert.deepEqual([step1.created, step2.created, step2.existed], [100, 150, 0]);
    await assertExactlyServices(namespace, 250);
    await assertEndpointSlices(namespace, 250, 3);
  });

  it('rejects an invalid namespace name before calling the cluster, with a message naming the field', async () => {
    await assert.rejects(
      runIn(activityEnv(), () =>
        acts.createDummyServices({ namespace: 'Not_A_Namespace', from: 1, to: 10, endpointsPerService: 4 }),
      ),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /createDummyServices: invalid input: namespace: must be a DNS-1123 label/);
        return true;
      },
    );
  });

  it('fails at once, non-retryable, naming the namespace, when the worker may not read namespaces', async () => {
    const limited = makeKubeClients({ kubeconfigPath: api.kubeconfigFor('netbench-limited') });
    try {
      const t0 = performance.now();
      await assert.rejects(
        runIn(activityEnv(), () =>
          makeServiceActivities({ kube: limited }).createDummyServices({
            namespace: 'scale-forbidden',
            from: 1,
            to: 10,
            endpointsPerService: 4,
          }),
        ),
        (err: unknown) => {
          assert.ok(err instanceof ApplicationFailure);
          assert.equal(err.nonRetryable, true);
          assert.match(err.message, /^reading namespace scale-forbidden: HTTP 403 Forbidden: .*netbench-limited/);
          return true;
        },
      );
      assert.ok(performance.now() - t0 < 5000, 'no retries on Forbidden');
    } finally {
      await limited.close();
    }
  });

  it('fails at once, naming the Service, when the worker may manage namespaces but not Services', async () => {
    // Grant namespaces only, so the batch itself meets the Forbidden.
    const rbac = { apiVersion: 'rbac.authorization.k8s.io/v1' };
    const rbacApi = kube.api(RbacAuthorizationV1Api);
    await rbacApi.createClusterRole({
      body: {
        ...rbac,
        kind: 'ClusterRole',
        metadata: { name: 'netbench-namespaces-only' },
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'create'] }],
      },
    });
    await rbacApi.createClusterRoleBinding({
      body: {
        ...rbac,
        kind: 'ClusterRoleBinding',
        metadata: { name: 'netbench-namespaces-only' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'netbench-namespaces-only' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'netbench-limited' }],
      },
    });
    const limited = makeKubeClients({ kubeconfigPath: api.kubeconfigFor('netbench-limited') });
    try {
      // RBAC changes reach the authorizer through an informer: give it a moment.
      const deadline = Date.now() + 10_000;
      let lastErr: unknown;
      for (;;) {
        try {
          await runIn(activityEnv(), () =>
            makeServiceActivities({ kube: limited }).createDummyServices({
              namespace: 'scale-no-services',
              from: 1,
              to: 50,
              endpointsPerService: 4,
            }),
          );
          assert.fail('creating Services should have been forbidden');
        } catch (err) {
          lastErr = err;
          if (err instanceof ApplicationFailure && /^reading namespace/.test(err.message) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          break;
        }
      }
      assert.ok(lastErr instanceof ApplicationFailure, String(lastErr));
      assert.equal(lastErr.nonRetryable, true);
      assert.match(
        lastErr.message,
        /^createDummyServices in namespace scale-no-services: Service scale-no-services\/dummy-svc-\d+: HTTP 403 Forbidden: services is forbidden: User "netbench-limited"/,
      );
    } finally {
      await limited.close();
    }
  });

  it('deletes the namespace with its Services and waits until it is gone; counting then finds none', async () => {
    const namespace = 'scale-delete';
    await runIn(activityEnv(), () =>
      acts.createDummyServices({ namespace, from: 1, to: 50, endpointsPerService: 4 }),
    );
    const r = await runIn(activityEnv(), () =>
      acts.deleteDummyServices({ namespace, timeoutSeconds: 120 }),
    );
    assert.equal(r.existed, true);
    assert.equal(r.deletedServices, 50, 'the worker deleted the dummy Services itself, not the namespace controller');
    await assert.rejects(kube.core.readNamespace({ name: namespace }), (e: { code?: number }) => e.code === 404);
    assert.deepEqual(await runIn(activityEnv(), () => acts.countDummyServices({ namespace })), {
      services: 0,
    });
    // Deleting again is fine: nothing to do.
    const again = await runIn(activityEnv(), () => acts.deleteDummyServices({ namespace }));
    assert.equal(again.existed, false);
    assert.equal(again.deletedServices, 0);
  });

  it('re-creates a namespace that is still being deleted, once it is gone', async () => {
    const namespace = 'scale-recreate';
    await runIn(activityEnv(), () =>
      acts.createDummyServices({ namespace, from: 1, to: 20, endpointsPerService: 2 }),
    );
    await kube.core.deleteNamespace({ name: namespace });
    const r = await runIn(activityEnv(), () =>
      acts.createDummyServices({ namespace, from: 1, to: 20, endpointsPerService: 2 }),
    );
    assert.deepEqual([r.created, r.existed], [20, 0], 'everything was created anew in the fresh namespace');
    await assertExactlyServices(namespace, 20);
  });
});
