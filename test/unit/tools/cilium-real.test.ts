// netbench's Cilium parsers against REAL outputs of Cilium v1.19.4: the lab's
// real cilium-agent (lab/datapath/cilium.ts), captured through `kubectl exec`
// into the cilium-agent pod as netbench runs them (test/lab/cilium-agent.test.ts
// rewrites the files with CILIUM_SAVE_FIXTURES=1).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dummyMatchers } from '../../../src/activities/datapath';
import { lbEntriesNeeded } from '../../../src/domain/plan';
import { parseBpftoolMapList } from '../../../src/tools/bpftool';
import {
  countCiliumLines,
  describeEndpoints,
  endpointOfPod,
  findPolicyRefusal,
  parseCiliumEndpointList,
  parseCiliumPolicyGet,
  parseCiliumStatusTunnel,
  parseProcStatusVmRssKb,
  policyImported,
} from '../../../src/tools/cilium';

const dir = path.join(import.meta.dirname, 'fixtures', 'cilium-v1.19.4');
const fixture = (name: string) => readFileSync(path.join(dir, name), 'utf8');

describe('Cilium v1.19.4 real outputs', () => {
  it('`cilium status`: tunnel mode from "Routing: Network: Native|Tunnel [vxlan]   Host: Legacy"', () => {
    assert.equal(parseCiliumStatusTunnel(fixture('cilium-status-native.txt')), 'disabled');
    assert.equal(parseCiliumStatusTunnel(fixture('cilium-status-native-hubble-disabled.txt')), 'disabled');
    assert.equal(parseCiliumStatusTunnel(fixture('cilium-status-overlay.txt')), 'vxlan');
    assert.match(fixture('cilium-status-native.txt'), /^KubeProxyReplacement:\s+True\s/m);
    assert.match(fixture('cilium-status-native.txt'), /^Hubble:\s+Ok\s/m);
    assert.match(fixture('cilium-status-native-hubble-disabled.txt'), /^Hubble:\s+Disabled\s/m);
  });

  it('`cilium-dbg bpf lb list`: one line per LB map entry, header without digits', () => {
    const text = fixture('cilium-bpf-lb-list.txt');
    // 10.96.0.1:443 with one backend: its "10.96.0.1:0/ANY" wildcard, the frontend (slot 0) and the backend (slot 1).
    assert.deepEqual(countCiliumLines(text, 'lb'), { lines: 4, entries: 3 });
    assert.match(text, /^10\.96\.0\.1:0\/ANY \(0\)\s+0\.0\.0\.0:0 \(0\) \(0\) \[ClusterIP, non-routable\]/m);
  });

  it('20 dummy Services of 4 endpoints: the convergence matcher counts their 80 backends, and each Service takes 6 LB entries', () => {
    const text = fixture('cilium-bpf-lb-list-dummies.txt');
    const m = dummyMatchers('cilium', 'cilium-real-scale', 4);
    assert.equal(text.split('\n').filter((l) => m.line.test(l)).length, 80);
    // 20 x (wildcard + frontend + 4 backends), the `kubernetes` Service (3), the test's echo Service (3).
    assert.equal(countCiliumLines(text, 'lb').entries, 20 * 6 + 3 + 3);
  });

  it(
    'the LB-map capacity check counts what the real map holds: endpoints + 2 per Service',
    () => {
      assert.equal(lbEntriesNeeded({ svcScaleSteps: [20], svcEndpoints: 4 } as Parameters<typeof lbEntriesNeeded>[0]), 20 * 6);
    },
  );

  it('the convergence matcher counts backends only, also when the Service CIDR overlaps the dummy range (EKS: 10.100.0.0/16)', () => {
    const m = dummyMatchers('cilium', 'x', 1);
    const lines = [
      '10.100.63.74:80/TCP (1)     10.100.0.9:80/TCP (4) (1)                       ',
      '10.100.63.74:80/TCP (0)     0.0.0.0:0 (4) (0) [ClusterIP, non-routable]     ',
      '10.100.63.74:0/ANY (0)      0.0.0.0:0 (0) (0) [ClusterIP, non-routable]     ',
    ];
    assert.deepEqual(lines.map((l) => m.line.test(l)), [true, false, false]);
  });

  it('`cilium-dbg bpf ct list global` is empty with socket LB only (no per-packet NAT): 0 entries', () => {
    assert.deepEqual(countCiliumLines(fixture('cilium-bpf-ct-list-global.txt'), 'ct'), { lines: 2, entries: 0 });
  });

  it('`cilium-dbg identity list`: numeric ids, label continuation lines not counted', () => {
    const text = fixture('cilium-identity-list.txt');
    const ids = text.split('\n').filter((l) => /^\d+\s/.test(l)).length;
    assert.equal(countCiliumLines(text, 'identity').entries, ids);
    assert.ok(ids >= 11, 'the 11 reserved identities at least');
  });

  it('`bpftool map list -j` in the agent: Cilium maps with names cut to 15 characters and bytes_memlock', () => {
    const list = parseBpftoolMapList(fixture('bpftool-map-list.json'));
    const names = list.maps.map((m) => m.name);
    for (const n of ['cilium_lb4_serv', 'cilium_lb4_back', 'cilium_ipcache_', 'cilium_events']) assert.ok(names.includes(n), n);
    assert.ok(list.maps.every((m) => m.bytesSource === 'memlock'));
    assert.equal(list.maps.find((m) => m.name === 'cilium_lb4_serv')?.maxEntries, 65536);
  });

  it('`cat /proc/1/status` in the agent pod: the real agent\'s VmRSS', () => {
    const text = fixture('proc-1-status.txt');
    assert.match(text, /^Name:\s+cilium-agent$/m);
    assert.ok(parseProcStatusVmRssKb(text) > 50_000);
  });

  it('`cilium config set hubble-disable true` (the reference\'s switch) is refused by the real agent CLI', () => {
    assert.match(fixture('cilium-config-set-hubble-disable.txt'), /^Error: Improper configuration format provided$/m);
  });
});

// What the Hubble and NetworkPolicy phases ask the agent (activities/cilium.ts): captured in the
// lab's namespace cilium-real with netbench's two policies applied and a pod "client" on worker-2.
describe('Cilium v1.19.4 real outputs: endpoints, policies, the agent\'s refusal', () => {
  const NS = 'cilium-real';

  it('`cilium-dbg endpoint list -o json`: the lab agent has its host endpoint only, no endpoint for the pod', () => {
    const eps = parseCiliumEndpointList(fixture('cilium-endpoint-list.json'));
    assert.equal(eps.length, 1);
    // the real host endpoint carries "pod-name": "/" and no namespace: it belongs to no pod
    assert.equal(eps[0]!.namespace, undefined);
    assert.equal(eps[0]!.pod, undefined);
    assert.ok(eps[0]!.labels.includes('reserved:host'), JSON.stringify(eps[0]));
    assert.equal(endpointOfPod(eps, NS, 'client'), undefined);
    assert.equal(describeEndpoints(eps), '1 endpoint: reserved:host');
  });

  it('`cilium-dbg policy get -o json`: the rules as a JSON string of entries with Go field names ("Labels"); the L3/L4 policy imported, the L7 one not', () => {
    const text = fixture('cilium-policy-get-l3l4-imported.json');
    assert.match(text, /^\{\n {2}"policy": "\[\\n/, 'the rules are a string inside the JSON');
    assert.match(text, /\\"Labels\\": \[/, 'v1.19 prints "Labels", not api.Rule\'s "labels"');
    const repo = parseCiliumPolicyGet(text);
    assert.ok(repo.revision >= 2, `revision ${repo.revision}`);
    assert.equal(repo.rules.length, 1);
    assert.equal(policyImported(repo, NS, 'allow-fortio-benchmark'), true);
    assert.equal(policyImported(repo, NS, 'allow-fortio-benchmark-l7'), false);
    assert.equal(policyImported(repo, 'network-benchmark', 'allow-fortio-benchmark'), false, 'same name in another namespace');
  });

  it('`kubectl logs --timestamps` of the agent: its refusal of the L7 policy, word for word; the L3/L4 one imported, not refused', () => {
    const log = fixture('cilium-agent-log-policies.txt');
    assert.match(log, /level=info msg="Imported CiliumNetworkPolicy" module=agent\.controlplane\.policy-k8s-watcher ciliumNetworkPolicyName=allow-fortio-benchmark k8sApiVersion="" k8sNamespace=cilium-real$/m);
    const r = findPolicyRefusal(log, NS, 'allow-fortio-benchmark-l7');
    assert.equal(r?.error, 'Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled');
    assert.match(r!.line, /^time=\S+ level=warn msg="Unable to add CiliumNetworkPolicy" module=agent\.controlplane\.policy-k8s-watcher ciliumNetworkPolicyName=allow-fortio-benchmark-l7 k8sApiVersion="" k8sNamespace=cilium-real error="Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled"$/);
    assert.match(r!.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, 'the log\'s own timestamp');
    assert.equal(findPolicyRefusal(log, NS, 'allow-fortio-benchmark'), undefined, 'the L3/L4 policy was imported');
    assert.equal(findPolicyRefusal(log, 'network-benchmark', 'allow-fortio-benchmark-l7'), undefined, 'another namespace');
    // the agent retries the refused policy: every retry after `since` is the same refusal; none before it
    const first = /^(\S+) /.exec(log.split('\n').find((l) => l.includes('Unable to add'))!)![1]!;
    assert.equal(findPolicyRefusal(log, NS, 'allow-fortio-benchmark-l7', new Date(Date.parse(first) + 3_600_000).toISOString()), undefined);
  });
});
