/**
 * The Kubernetes client bundle and its error classification, against a real
 * kube-apiserver (and a real closed port for the network case).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, startApiserver, type RunningApiserver } from '../support/apiserver';
import {
  classifyKubeError,
  describeKubeError,
  loadKubeConfig,
  makeKubeClients,
  withSignal,
  type KubeClients,
} from '../../src/kube/client';

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('Kubernetes client on a real kube-apiserver', { timeout: 120_000 }, () => {
  let api: RunningApiserver;
  let kube: KubeClients;

  before(async () => {
    api = await startApiserver({ users: ['netbench-nobody'] });
    kube = makeKubeClients({ kubeconfigPath: api.kubeconfigPath });
  });

  after(async () => {
    await kube?.close();
    await api?.stop();
  });

  it('creates and reads objects through the shared connection, many requests at once', async () => {
    await kube.core.createNamespace({ body: { metadata: { name: 'client-ok' } } });
    const created = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        kube.core.createNamespacedConfigMap({
          namespace: 'client-ok',
          body: { metadata: { name: `cm-${i}` }, data: { i: String(i) } },
        }),
      ),
    );
    assert.equal(created.length, 64);
    const cm = await kube.core.readNamespacedConfigMap({ namespace: 'client-ok', name: 'cm-63' });
    assert.equal(cm.data?.i, '63');
  });

  it('classifies "already exists" as already-exists and a missing object as not-found', async () => {
    await kube.core.createNamespace({ body: { metadata: { name: 'client-dup' } } });
    const dup = await errorOf(kube.core.createNamespace({ body: { metadata: { name: 'client-dup' } } }));
    assert.equal(classifyKubeError(dup), 'already-exists');
    assert.match(describeKubeError(dup), /^HTTP 409 AlreadyExists: namespaces "client-dup" already exists$/);

    const missing = await errorOf(kube.core.readNamespace({ name: 'client-nowhere' }));
    assert.equal(classifyKubeError(missing), 'not-found');
    assert.match(describeKubeError(missing), /^HTTP 404 NotFound: /);
  });

  it('classifies an invalid object and a forbidden call as fatal, with the apiserver message and no credentials', async () => {
    const invalid = await errorOf(
      kube.core.createNamespacedService({
        namespace: 'default',
        body: { metadata: { name: 'Bad_Name' }, spec: { ports: [{ port: 80 }] } },
      }),
    );
    assert.equal(classifyKubeError(invalid), 'fatal');
    assert.match(describeKubeError(invalid), /^HTTP 422 Invalid: Service "Bad_Name" is invalid/);

    const nobody = makeKubeClients({ kubeconfigPath: api.kubeconfigFor('netbench-nobody') });
    try {
      const forbidden = await errorOf(nobody.core.listNamespace());
      assert.equal(classifyKubeError(forbidden), 'fatal');
      const text = describeKubeError(forbidden);
      assert.match(text, /^HTTP 403 Forbidden: namespaces is forbidden: User "netbench-nobody"/);
      const token = JSON.parse(readFileSync(api.kubeconfigFor('netbench-nobody'), 'utf8')).users[0].user.token;
      assert.ok(!text.includes(token), 'the token never appears in messages');
    } finally {
      await nobody.close();
    }
  });

  it('classifies a refused connection as retryable', async () => {
    const port = await freePort(); // nothing listens there any more
    const file = path.join(api.dir, 'kubeconfig-closed-port');
    const cfg = JSON.parse(readFileSync(api.kubeconfigPath, 'utf8'));
    cfg.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
    writeFileSync(file, JSON.stringify(cfg));
    const closed = makeKubeClients({ kubeconfigPath: file });
    try {
      const err = await errorOf(closed.core.listNamespace());
      assert.equal(classifyKubeError(err), 'retryable', describeKubeError(err));
      assert.match(describeKubeError(err), /ECONNREFUSED/);
    } finally {
      await closed.close();
    }
  });

  it('aborts a request when its signal fires', async () => {
    const ac = new AbortController();
    ac.abort(new Error('activity cancelled'));
    await assert.rejects(kube.core.listNamespace({}, withSignal(ac.signal)));
  });

  it('loads the requested context, and names the known ones when it is missing', () => {
    const kc = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath, context: 'netbench-test' });
    assert.equal(kc.getCurrentCluster()?.server, api.server);
    assert.throws(
      () => loadKubeConfig({ kubeconfigPath: api.kubeconfigPath, context: 'prod' }),
      /kube context "prod" not found; known contexts: netbench-test/,
    );
  });
});
