// Cilium agent CLI argv and text parsers. No Cilium agent runs on this
// machine, so the agent outputs are texts written here after the formats in
// Cilium's CLI sources; /proc/<pid>/status is read for real.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ciliumBpfCtListGlobalArgs,
  ciliumBpfLbListArgs,
  ciliumIdentityListArgs,
  ciliumStatusArgs,
  countCiliumLines,
  parseCiliumStatusTunnel,
  parseProcStatusVmRssKb,
  procStatusArgs,
} from '../../../src/tools/cilium';
import { ToolOutputError } from '../../../src/tools/errors';
import { runArgv } from '../../support/tools';

describe('cilium agent CLI argv (cilium or cilium-dbg)', () => {
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
