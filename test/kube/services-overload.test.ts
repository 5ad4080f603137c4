/**
 * An overloaded apiserver answers 429 Too Many Requests. The batch must
 * retry those with backoff and still create every Service exactly once.
 * The apiserver here really is overloaded: priority-and-fairness is off and
 * only one mutating request may be in flight. The worker is an ordinary
 * cluster-admin user, because system:masters is exempt from that limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { DefaultLogger } from '@temporalio/worker';
import { startApiserver, type RunningApiserver } from '../support/apiserver';
import { makeKubeClients, type KubeClients } from '../../src/kube/client';
import { makeServiceActivities, type CreateDummyServicesResult } from '../../src/activities/services';
import { countingCore } from '../support/counting-clients';

describe('dummy Services on an overloaded kube-apiserver', { timeout: 300_000 }, () => {
  let api: RunningApiserver;
  let admin: KubeClients;
  let kube: KubeClients;

  before(async () => {
    api = await startApiserver({
      users: ['netbench-worker'],
      apiserverArgs: [
        '--enable-priority-and-fairness=false',
        '--max-mutating-requests-inflight=1',
        '--max-requests-inflight=2',
      ],
    });
    admin = makeKubeClients({ kubeConfig: api.kubeConfig });
    await admin.api(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: 'netbench-worker-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'netbench-worker' }],
      },
    });
    kube = makeKubeClients({ kubeconfigPath: api.kubeconfigFor('netbench-worker') });
    // The binding reaches the authorizer through an informer: wait until it applies.
    for (let i = 0; ; i++) {
      try {
        await kube.core.listNamespace({ limit: 1 });
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });

  after(async () => {
    await kube?.close();
    await admin?.close();
    await api?.stop();
  });

  it('retries 429 Too Many Requests and still creates every Service exactly once', async (t) => {
    // Count the 429s the apiserver really sent, by watching our own responses.
    const { kube: counting, counts } = countingCore(kube);
    const acts = makeServiceActivities({ kube: counting });
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const r = (await env.run(() =>
      acts.createDummyServices({ namespace: 'overload', from: 1, to: 400, endpointsPerService: 4, parallel: 16 }),
    )) as CreateDummyServicesResult;
    assert.deepEqual([r.created, r.existed, r.lastIndex], [400, 0, 400]);
    const tooMany = counts.errors.get(429) ?? 0;
    assert.ok(tooMany > 0, 'the apiserver did push back with 429');
    t.diagnostic(`the apiserver answered 429 ${tooMany} times`);
    const list = await kube.core.listNamespacedService({ namespace: 'overload' });
    assert.equal(list.items.length, 400);
    assert.equal(new Set(list.items.map((s) => s.metadata?.name)).size, 400);
  });
});
