// Cilium agent CLI argv and text parsers. No Cilium agent runs on this
// machine, so the agent outputs are texts written here after the formats in
// Cilium's CLI sources; /proc/<pid>/status is read for real.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ciliumBpfCtListGlobalArgs,
  ciliumBpfLbListArgs,
  ciliumEndpointListArgs,
  ciliumIdentityListArgs,
  ciliumPolicyGetArgs,
  ciliumStatusArgs,
  countCiliumLines,
  describeEndpoints,
  endpointOfPod,
  findPolicyRefusal,
  parseCiliumEndpointList,
  parseCiliumPolicyGet,
  parseCiliumStatusTunnel,
  parseLogfmt,
  policyImported,
  parseProcStatusVmRssKb,
  procStatusArgs,
  withAgentCli,
} from '../../../src/tools/cilium';
import { ToolOutputError } from '../../../src/tools/errors';
import { ExecCommandError, ExecTimeoutError } from '../../../src/kube/exec';
import { runArgv } from '../../support/tools';

describe('cilium agent CLI argv (cilium or cilium-dbg)', () => {
  // An agent pod as exec sees it: the executables its image has; anything else fails as the runtime reports it.
  const pod = (has: string[], ran: string[][] = []) => async (argv: string[]) => {
    ran.push(argv);
    const target = { namespace: 'kube-system', pod: 'cilium-x', container: 'cilium-agent', command: argv };
    if (!has.includes(argv[0])) throw new ExecCommandError(target, 5, -1, '', { message: `exec: "${argv[0]}": executable file not found in $PATH` });
    return `${argv.join(' ')} ok`;
  };

  it('withAgentCli: cilium-dbg first (1.15+), cilium on an older image, whichever name the command was built with', async () => {
    const ran: string[][] = [];
    assert.equal(await withAgentCli(ciliumBpfLbListArgs(), pod(['cilium-dbg', 'cilium'], ran)), 'cilium-dbg bpf lb list ok');
    assert.equal(await withAgentCli(ciliumEndpointListArgs(), pod(['cilium'], ran)), 'cilium endpoint list -o json ok');
    assert.deepEqual(ran.map((a) => a[0]), ['cilium-dbg', 'cilium-dbg', 'cilium']);
  });

  it('withAgentCli: both names failing gives the cilium-dbg error; a dropped exec is not retried under the other name; other commands run as they are', async () => {
    await assert.rejects(withAgentCli(ciliumStatusArgs(), pod([])), (e: Error) => e instanceof ExecCommandError && /"cilium-dbg": executable file not found/.test(e.message));
    const ran: string[][] = [];
    const dropped = new ExecTimeoutError({ namespace: 'kube-system', pod: 'cilium-x', container: 'cilium-agent', command: ['cilium-dbg'] }, 60_000, 60_000);
    await assert.rejects(withAgentCli(ciliumStatusArgs(), async (argv) => (ran.push(argv), Promise.reject(dropped))), (e) => e === dropped);
    assert.deepEqual(ran, [['cilium-dbg', 'status']]);
    assert.equal(await withAgentCli(procStatusArgs(), pod(['cat'])), 'cat /proc/1/status ok');
  });

  it('defaults to "cilium" and accepts "cilium-dbg"', () => {
    assert.deepEqual(ciliumStatusArgs(), ['cilium', 'status']);
    assert.deepEqual(ciliumStatusArgs('cilium-dbg'), ['cilium-dbg', 'status']);
    assert.deepEqual(ciliumBpfLbListArgs('cilium-dbg'), ['cilium-dbg', 'bpf', 'lb', 'list']);
    assert.deepEqual(ciliumBpfCtListGlobalArgs(), ['cilium', 'bpf', 'ct', 'list', 'global']);
    assert.deepEqual(ciliumIdentityListArgs(), ['cilium', 'identity', 'list']);
    assert.deepEqual(procStatusArgs(), ['cat', '/proc/1/status']);
  });

  it('rejects a binary name that is not one word', () => {
    assert.throws(() => ciliumStatusArgs('cilium status'));
    assert.throws(() => ciliumStatusArgs('--help'));
  });
});

const STATUS_NATIVE = `KVStore:                 Disabled
Kubernetes:              Ok         1.34 (v1.34.2) [linux/amd64]
KubeProxyReplacement:    True   [eth0   192.168.95.210 fe80::be24:11ff:fecd:f514 (Direct Routing)]
Host firewall:           Disabled
Cilium:                  Ok   1.18.4 (v1.18.4-afda2aa9)
IPAM:                    IPv4: 2/254 allocated from 10.100.1.0/24,
Routing:                 Network: Native   Host: BPF
Attach Mode:             TCX
Masquerading:            BPF   [eth0]   10.100.0.0/16  [IPv4: Enabled, IPv6: Disabled]
Encryption:              Disabled
`;

describe('parseCiliumStatusTunnel', () => {
  it('reads "Network: Native" as no tunnel', () => {
    assert.equal(parseCiliumStatusTunnel(STATUS_NATIVE), 'disabled');
  });

  it('reads the tunnel protocol from "Network: Tunnel [vxlan|geneve]"', () => {
    const vxlan = STATUS_NATIVE.replace('Network: Native   Host: BPF', 'Network: Tunnel [vxlan]   Host: Legacy');
    const geneve = STATUS_NATIVE.replace('Network: Native   Host: BPF', 'Network: Tunnel [geneve]   Host: BPF');
    assert.equal(parseCiliumStatusTunnel(vxlan), 'vxlan');
    assert.equal(parseCiliumStatusTunnel(geneve), 'geneve');
  });

  it('says "unknown" for a tunnel without protocol (older releases) rather than guess', () => {
    const old = STATUS_NATIVE.replace('Network: Native   Host: BPF', 'Network: Tunnel   Host: Legacy');
    assert.equal(parseCiliumStatusTunnel(old), 'unknown');
  });

  it('falls back to the reference\'s rule (a "tunnel" line naming vxlan/geneve) without a Routing line', () => {
    assert.equal(parseCiliumStatusTunnel('Cilium: Ok\nTunnel mode:    vxlan\n'), 'vxlan');
    assert.equal(parseCiliumStatusTunnel('Cilium: Ok\nTunnel: Geneve\n'), 'geneve');
  });

  it('says "unknown" when the agent did not answer', () => {
    assert.equal(parseCiliumStatusTunnel(''), 'unknown');
    assert.equal(parseCiliumStatusTunnel('Error: Unable to reach agent: dial unix /var/run/cilium/cilium.sock: connect: no such file or directory'), 'unknown');
  });
});

describe('countCiliumLines', () => {
  const LB = `SERVICE ADDRESS         BACKEND ADDRESS (REVNAT_ID) (SLOT)
10.96.0.10:53 (0)       0.0.0.0:0 (2) (0) [ClusterIP, non-routable]
10.96.0.10:53 (1)       10.0.0.135:53 (2) (1)
10.96.0.10:53 (2)       10.0.1.221:53 (2) (2)
10.96.0.1:443 (0)       0.0.0.0:0 (1) (0) [ClusterIP, non-routable]
10.96.0.1:443 (1)       172.18.0.3:6443 (1) (1)
`;

  it('gives wc -l and the LB map entries (header left out)', () => {
    assert.deepEqual(countCiliumLines(LB, 'lb'), { lines: 6, entries: 5 });
  });

  it('leaves out the old "-----" separator and "No entries found."', () => {
    const old = `Service Address      Backend Address
-----------------------------------------------------------
10.96.0.1:443        172.18.0.3:6443
`;
    assert.deepEqual(countCiliumLines(old, 'lb'), { lines: 3, entries: 1 });
    assert.deepEqual(countCiliumLines('No entries found.\n', 'ct'), { lines: 1, entries: 0 });
  });

  it('counts identities, not their label continuation lines', () => {
    const ids = `ID         LABELS
1          reserved:host
2          reserved:world
4          reserved:health
15123      k8s:app=benchmark
           k8s:io.kubernetes.pod.namespace=network-benchmark
           k8s:role=fortio-server
`;
    assert.deepEqual(countCiliumLines(ids, 'identity'), { lines: 7, entries: 4 });
  });

  it('counts a last line without newline as an entry but not as a wc -l line', () => {
    assert.deepEqual(countCiliumLines('TCP OUT 10.0.0.1:1234 -> 10.0.0.2:80 expires=100', 'ct'), { lines: 0, entries: 1 });
  });

  it('throws on the CLI\'s "Error:" line instead of counting it', () => {
    assert.throws(
      () => countCiliumLines('Error: Unable to open map cilium_lb4_services_v2: no such file or directory\n', 'lb'),
      (e: unknown) => e instanceof ToolOutputError && e.tool === 'cilium' && /^Error: Unable to open map/.test(e.reason),
    );
  });
});

describe('parseProcStatusVmRssKb on a real /proc/<pid>/status', () => {
  it('reads VmRSS of this test process, as `cat /proc/<pid>/status` prints it', async () => {
    const run = await runArgv(procStatusArgs(process.pid));
    assert.equal(run.code, 0, run.stderr);
    const kb = parseProcStatusVmRssKb(run.stdout);
    // Node's own view of its RSS, in kB, sampled at nearly the same time.
    const nodeKb = process.memoryUsage().rss / 1024;
    assert.ok(Math.abs(kb - nodeKb) / nodeKb < 0.5, `VmRSS ${kb} kB vs node ${nodeKb} kB`);
  });

  it('throws "no VmRSS line" for a kernel thread (kthreadd has no VmRSS)', () => {
    const text = readFileSync('/proc/2/status', 'utf8');
    assert.throws(
      () => parseProcStatusVmRssKb(text),
      (e: unknown) => e instanceof ToolOutputError && e.tool === 'proc-status' && e.reason === 'no VmRSS line',
    );
  });
});

// ---- endpoints, policies, the agent's refusal: the variants the real v1.19.4 agent does not print
// (its real outputs are read in cilium-real.test.ts): older field names, the JSON log format, errors.

describe('cilium endpoint list / policy get / agent log: variants', () => {
  it('argv: -o json, cilium-dbg by default', async () => {
    assert.deepEqual(ciliumEndpointListArgs(), ['cilium-dbg', 'endpoint', 'list', '-o', 'json']);
    assert.deepEqual(ciliumPolicyGetArgs('cilium'), ['cilium', 'policy', 'get', '-o', 'json']);
    assert.throws(() => ciliumPolicyGetArgs('cilium; rm -rf /'));
  });

  it('endpoint list: namespace and pod from k8s-namespace/k8s-pod-name, the older "pod-name": "<ns>/<pod>", or the namespace label', () => {
    const text = JSON.stringify([
      { id: 11, status: { state: 'ready', 'external-identifiers': { 'k8s-namespace': 'nb', 'k8s-pod-name': 'fortio-server' }, identity: { id: 5, labels: ['k8s:io.kubernetes.pod.namespace=nb', 'k8s:role=fortio-server'] } } },
      { id: 12, status: { state: 'ready', 'external-identifiers': { 'pod-name': 'nb/fortio-client' }, identity: { id: 6, labels: [] } } },
      { id: 13, status: { state: 'ready', identity: { id: 7, labels: ['k8s:io.kubernetes.pod.namespace=other'] } } },
      { id: 14, status: { state: 'ready', identity: { id: 1, labels: ['reserved:host'] } } },
    ]);
    const eps = parseCiliumEndpointList(text);
    assert.equal(endpointOfPod(eps, 'nb', 'fortio-server')?.id, 11);
    assert.equal(endpointOfPod(eps, 'nb', 'fortio-client')?.id, 12);
    assert.equal(endpointOfPod(eps, 'other', 'fortio-client'), undefined);
    assert.deepEqual(eps[2], { id: 13, state: 'ready', namespace: 'other', labels: ['k8s:io.kubernetes.pod.namespace=other'] });
    assert.equal(describeEndpoints(eps), '4 endpoints: nb/fortio-server, nb/fortio-client, #13, reserved:host');
    assert.equal(describeEndpoints([]), 'no endpoint at all');
    assert.equal(describeEndpoints(parseCiliumEndpointList('[]')), 'no endpoint at all');
  });

  it('endpoint list: empty, cut or non-JSON output is an error, never "no endpoint"', () => {
    assert.throws(() => parseCiliumEndpointList(''), (e: ToolOutputError) => e.reason === 'empty output');
    assert.throws(() => parseCiliumEndpointList('[{"id": 1, "status": {'), (e: ToolOutputError) => e.reason === 'truncated JSON');
    assert.throws(() => parseCiliumEndpointList('Error: cannot get endpoint list: Get "http:///var/run/cilium/cilium.sock/v1/endpoint": dial unix: connect: no such file'), ToolOutputError);
    assert.throws(() => parseCiliumEndpointList('{"id": 1}'), /unexpected JSON shape/);
  });

  it('policy get: the plain form (rules, then "Revision: N"), an empty repository, errors', () => {
    const rules = [{ endpointSelector: {}, labels: [{ key: 'io.cilium.k8s.policy.name', value: 'p', source: 'k8s' }, { key: 'io.cilium.k8s.policy.namespace', value: 'nb', source: 'k8s' }] }];
    const plain = parseCiliumPolicyGet(`${JSON.stringify(rules, null, 2)}\nRevision: 9\n`);
    assert.equal(plain.revision, 9);
    assert.equal(policyImported(plain, 'nb', 'p'), true);
    assert.equal(policyImported(plain, 'other', 'p'), false, 'same name, other namespace');
    assert.deepEqual(parseCiliumPolicyGet('{\n  "revision": 1\n}\n'), { revision: 1, rules: [] });
    assert.deepEqual(parseCiliumPolicyGet('{}'), { revision: 0, rules: [] });
    assert.throws(() => parseCiliumPolicyGet(''), ToolOutputError);
    assert.throws(() => parseCiliumPolicyGet('{"policy": "[{\\"labels\\": ", "revision": 3}'), (e: ToolOutputError) => e.reason === 'truncated JSON');
  });

  it('agent log: the JSON log format (log-format=json) and logrus\'s text format (before 1.17) are read too', () => {
    const json = JSON.stringify({ time: '2026-12-02T10:00:01Z', level: 'warn', msg: 'Unable to add CiliumNetworkPolicy', ciliumNetworkPolicyName: 'p7', k8sNamespace: 'nb', error: 'Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled' });
    assert.equal(findPolicyRefusal(`${json}\n`, 'nb', 'p7')?.error, 'Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled');
    const logrus = 'level=warning msg="Unable to add CiliumNetworkPolicy" ciliumNetworkPolicyName=p7 error="Invalid CiliumNetworkPolicy spec: \\"x\\" is wrong" k8sApiVersion= k8sNamespace=nb subsys=k8s-watcher';
    assert.equal(findPolicyRefusal(logrus, 'nb', 'p7')?.error, 'Invalid CiliumNetworkPolicy spec: "x" is wrong');
    assert.equal(findPolicyRefusal(logrus, 'other', 'p7'), undefined, 'another namespace\'s policy of that name');
    assert.equal(findPolicyRefusal(logrus, 'nb', 'p'), undefined, 'a name that is a prefix of another');
    assert.equal(findPolicyRefusal('level=info msg="Imported CiliumNetworkPolicy" ciliumNetworkPolicyName=p7 k8sNamespace=nb', 'nb', 'p7'), undefined);
  });

  it('agent log: a refusal logged before `since` (an earlier run\'s) is not this run\'s; the last one counts', () => {
    const line = (t: string, err: string) => `${t} time=${t} level=warn msg="Unable to add CiliumNetworkPolicy" ciliumNetworkPolicyName=p7 k8sNamespace=nb error="${err}"`;
    const log = [line('2026-12-02T09:00:00.5Z', 'old'), line('2026-12-02T10:00:00.123456789Z', 'new')].join('\n');
    assert.equal(findPolicyRefusal(log, 'nb', 'p7', '2026-12-02T09:59:59Z')?.error, 'new');
    assert.equal(findPolicyRefusal(log, 'nb', 'p7', '2026-12-02T10:00:01Z'), undefined);
    assert.equal(findPolicyRefusal(log, 'nb', 'p7')?.time, '2026-12-02T10:00:00.123456789Z');
  });

  it('parseLogfmt: quoted values with escapes, empty values, keys with dots', () => {
    assert.deepEqual(parseLogfmt('a=1 b="x y" c= d.e="q\\"r" f=/p/q.go:12'), { a: '1', b: 'x y', c: '', 'd.e': 'q"r', f: '/p/q.go:12' });
  });
});
