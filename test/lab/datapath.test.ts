/**
 * The datapath activities against the lab's REAL kube-proxy, in iptables and
 * in nftables mode: after dummy Services are created, the convergence wait
 * sees every one of them programmed (and measures how long it took), and the
 * per-step rule files have the reference's names and figures.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { makeDatapathActivities } from '../../src/activities/datapath';
import { makeServiceActivities } from '../../src/activities/services';
import { makeKubeClients } from '../../src/kube/client';
import { labUp } from '../../lab/lab';
import type { Convergence } from '../../src/domain/results';
import { startTestLab, type TestLab } from '../support/lab';

let lab: TestLab;
before(async () => {
  lab = await startTestLab('dpath', 'iptables');
});
after(async () => {
  await lab?.down();
});

async function createAndConverge(mode: 'iptables' | 'nftables', ns: string, count: number) {
  const kube = makeKubeClients({ kubeConfig: lab.kubeConfig });
  const env = new MockActivityEnvironment();
  try {
    const services = makeServiceActivities({ kube });
    await env.run(services.createDummyServices, { namespace: ns, from: 1, to: count, endpointsPerService: 4, endpointsMode: 'endpointslices' as const });
    const dp = makeDatapathActivities({ kubeConfig: lab.kubeConfig });
    const conv: Convergence = await env.run(dp.waitDatapathConverged, { proxyMode: mode, scaleNamespace: ns, expectedServices: count, endpointsPerService: 4, timeoutSec: 120 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-dp-'));
    const rules: { rulesCount?: number; kubeServicesChain?: number } = await env.run(dp.countRules, { proxyMode: mode, outputDir: dir, svcCount: count });
    return { conv, rules, dir };
  } finally {
    await kube.close();
  }
}

describe('datapath activities on the lab\'s real kube-proxy', () => {
  it('iptables: converges when every dummy Service has its KUBE-SERVICES rule; writes the reference\'s rule files', async () => {
    const { conv, rules, dir } = await createAndConverge('iptables', 'dp-ipt', 120);
    assert.equal(conv.converged, true, conv.reason);
    assert.equal(conv.metric, 'kube-services-rules');
    assert.equal(conv.observed, 120, 'exactly the dummy Services, no other rule counted');
    assert.ok(conv.seconds > 0);
    assert.ok(rules.kubeServicesChain! >= 120);
    assert.ok(rules.rulesCount! > rules.kubeServicesChain!);
    assert.equal(Number(readFileSync(path.join(dir, 'service-scale/kube_services_chain_at_120svc.txt'), 'utf8')), rules.kubeServicesChain);
    assert.equal(Number(readFileSync(path.join(dir, 'service-scale/iptables_rules_at_120svc.txt'), 'utf8')), rules.rulesCount);
  });

  it('nftables: converges when every dummy Service is in the service-ips map', async () => {
    await labUp({ name: 'dpath', proxyMode: 'nftables' });
    const { conv, rules, dir } = await createAndConverge('nftables', 'dp-nft', 80);
    assert.equal(conv.converged, true, conv.reason);
    assert.equal(conv.metric, 'nft-service-ips');
    assert.equal(conv.observed, 80);
    assert.ok(rules.rulesCount! > 80);
    assert.equal(Number(readFileSync(path.join(dir, 'service-scale/nft_rules_at_80svc.txt'), 'utf8')), rules.rulesCount);
  });

  it('gives up at SYNC_TIMEOUT with what it saw, instead of waiting forever', async () => {
    const dp = makeDatapathActivities({ kubeConfig: lab.kubeConfig });
    const conv: Convergence = await new MockActivityEnvironment().run(dp.waitDatapathConverged, { proxyMode: 'nftables' as const, scaleNamespace: 'dp-nft', expectedServices: 81, endpointsPerService: 4, timeoutSec: 2 });
    assert.equal(conv.converged, false);
    assert.equal(conv.observed, 80);
    assert.match(conv.reason!, /datapath showed 80 of 81 after \d+s \(SYNC_TIMEOUT\)/);
  });
});
