/**
 * The pure parts of `lab --network pods`: namespace and device names, which
 * container commands become real servers, the kwokctl config it asks for, and
 * the exec shim's branches that need no namespace (run by the real sh).
 * The network itself is tested on the real kernel in test/lab/pod-network.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { labPaths } from '../../lab/config';
import { execShimScript, NETWORK_ENV, patchKwokctlForPods, POD_NETNS_ENV } from '../../lab/exec-shim';
import { writeKwokctlConfig } from '../../lab/kwokctl';
import { freePodIP, nodeNetns, podNetns, podVeth } from '../../lab/pod-network';
import { serverArgv, serverDaemonId } from '../../lab/pod-network-controller';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lab-pods-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('pod network names', () => {
  it('prefixes every namespace with the lab namespace and a dot, which no lab name contains', () => {
    const a = labPaths('a');
    const ab = labPaths('a-b');
    assert.equal(nodeNetns(a, 'worker-1'), 'nb-a.worker-1');
    assert.equal(podNetns(a, 'ns', 'pod', 'u'), 'nb-a.ns.pod');
    assert.ok(!podNetns(ab, 'x', 'y', 'u').startsWith(`${a.netns}.`), 'lab a-b is not under lab a');
    assert.throws(() => labPaths('a.b'), /invalid/);
  });

  it('falls back to the pod uid when namespace and name make too long a file name', () => {
    const long = 'p'.repeat(250);
    assert.equal(podNetns(labPaths('lab'), 'ns', long, '1234-abcd'), 'nb-lab.pod-1234-abcd');
  });

  it('names the node end of a veth within the kernel limit of 15 characters', () => {
    const v = podVeth('3f2a9c1e-7d44-4b8a-9e0f-123456789abc');
    assert.equal(v, 'veth3f2a9c1e');
    assert.ok(v.length <= 15);
  });
});

describe('pod servers', () => {
  const bins = { iperf3: '/bin/iperf3', netserver: '/bin/netserver', fortio: '/bin/fortio' };
  it('runs the tools\' server commands with the lab\'s binaries, and nothing else', () => {
    assert.deepEqual(serverArgv(['iperf3', '-s', '-p', '5201'], bins), ['/bin/iperf3', '-s', '-p', '5201']);
    assert.deepEqual(serverArgv(['netserver', '-D', '-p', '12865'], bins), ['/bin/netserver', '-D', '-p', '12865']);
    assert.deepEqual(serverArgv(['/usr/bin/fortio', 'server', '-http-port', '8080'], bins), ['/bin/fortio', 'server', '-http-port', '8080']);
    assert.equal(serverArgv(['sleep', 'infinity'], bins), null);
    assert.equal(serverArgv(['iperf3', '-c', '10.0.0.1'], bins), null, 'a client is not a server');
    assert.equal(serverArgv(['fortio', 'load', 'http://x'], bins), null);
    assert.equal(serverArgv(undefined, bins), null);
    assert.equal(serverDaemonId('ns', 'iperf-server', 'iperf'), 'pod.ns.iperf-server.iperf');
  });
});

describe('kwokctl config for --network pods', () => {
  it('takes Exec and PortForward objects from the apiserver, puts the shim first on kwok-controller\'s PATH, marks the catch-all rule', () => {
    const p = { ...labPaths('tshim'), stateDir: path.join(tmp, 'state'), netDir: path.join(tmp, 'state', 'net'), execDir: path.join(tmp, 'exec') };
    const file = writeKwokctlConfig(p, { apiserverPort: 6443, bins: { 'kube-apiserver': '/k/kube-apiserver' } as never });
    patchKwokctlForPods(file, p, '/usr/bin:/bin');
    patchKwokctlForPods(file, p, '/usr/bin:/bin'); // idempotent
    const docs = readFileSync(file, 'utf8').split(/\n---\n/).map((d) => JSON.parse(d));
    const kwokctl = docs.find((d) => d.kind === 'KwokctlConfiguration');
    assert.deepEqual(kwokctl.options.enableCRDs, ['Exec', 'PortForward', 'Logs']);
    const patches = kwokctl.componentsPatches.filter((c: { name: string }) => c.name === 'kwok-controller');
    assert.equal(patches.length, 1);
    assert.deepEqual(patches[0].extraEnvs, [{ name: 'PATH', value: `${path.join(p.netDir, 'exec-shim')}:/usr/bin:/bin` }]);
    const exec = docs.find((d) => d.kind === 'ClusterExec');
    assert.deepEqual(exec.spec.execs[0].local.envs, [{ name: NETWORK_ENV, value: 'pods' }]);
    assert.ok(!docs.some((d) => d.kind === 'Exec'), 'kwok refuses Exec in --config when it is a CRD');
    assert.ok(!docs.some((d) => d.kind === 'ClusterPortForward'), 'port-forward dials the pod, not a stand-in on 127.0.0.1');
    // kwok's pod-ready split: hostNetwork pods as kwok does it, other pods only once the lab wrote their IP.
    const stages = docs.filter((d) => d.kind === 'Stage').map((d) => d.metadata.name);
    assert.deepEqual(stages.filter((n: string) => n.startsWith('pod-ready')).sort(), ['pod-ready-cni', 'pod-ready-host-network']);
    assert.equal(new Set(stages).size, stages.length, 'each stage once, also after a second patch');
  });
});

describe('the kube-proxy lab\'s pod IPs (freePodIP)', () => {
  it('takes the lowest address of the podCIDR that no other pod holds, never the network or broadcast address', () => {
    assert.equal(freePodIP('10.244.1.0/24', new Set()), '10.244.1.1');
    assert.equal(freePodIP('10.244.1.0/24', new Set(['10.244.1.1', '10.244.1.2', '10.244.1.4'])), '10.244.1.3');
    const all = new Set(Array.from({ length: 253 }, (_, i) => `10.244.2.${i + 1}`));
    assert.equal(freePodIP('10.244.2.0/24', all), '10.244.2.254');
    all.add('10.244.2.254');
    assert.throws(() => freePodIP('10.244.2.0/24', all), /no free pod IP left in 10\.244\.2\.0\/24 \(254 in use\)/);
  });
});

describe('exec shim', () => {
  const dir = path.join(tmp, 'shim');
  const ready = path.join(tmp, 'ready');
  const pending = path.join(tmp, 'pending');
  for (const d of [dir, ready, pending]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(dir, '.netbench-exec-shim'), execShimScript({ originalPath: process.env.PATH!, readyDir: ready, pendingDir: pending, waitSec: 1 }), { mode: 0o755 });
  symlinkSync('.netbench-exec-shim', path.join(dir, 'echo'));
  const run = (env: Record<string, string>) =>
    spawnSync(path.join(dir, 'echo'), ['hello'], { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH}`, ...env } });

  it('runs the named program itself (not the shim again) when no pod network is involved', () => {
    const r = run({});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
  });

  it('refuses, with a reason, an exec into a pod that has no namespace yet on the pods network', () => {
    const r = run({ [NETWORK_ENV]: 'pods' });
    assert.equal(r.status, 126);
    assert.match(r.stderr, /no network namespace is known for this pod yet/);
    assert.equal(r.stdout, '');
  });

  it('waits for the pod\'s namespace to be ready, then says it is not', () => {
    const t = Date.now();
    const r = run({ [NETWORK_ENV]: 'pods', [POD_NETNS_ENV]: 'nb-none.ns.pod' });
    assert.equal(r.status, 126);
    assert.match(r.stderr, /nb-none\.ns\.pod\) is not ready after 1 s/);
    assert.ok(Date.now() - t >= 900, 'it waited');
  });
});
