/**
 * The pure parts of a Cilium lab on the pods network (`lab --network pods
 * --datapath cilium-*`): kwok's stages derived from kwok's own (the real
 * files `scripts/setup.sh kube` keeps), the cilium-cni call and its result
 * (fixtures in the shape the real plugin prints: cilium v1.19.4
 * plugins/cilium-cni/cmd/cmd.go, containernetworking/cni v1.3.0 skel and
 * types/100), where each agent runs, its config, and the exec wrapper and
 * exec shim scripts run by the real sh. The agents themselves are tested on
 * the real kernel in test/lab/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { labNodes, labPaths, POD_CIDR } from '../../lab/config';
import { agentSites, agentSocket, AGENT, defaultCiliumConfig, execWrapperScript, labCgroup, PIDFILE_ENV, routingConfig, VETH } from '../../lab/datapath/cilium';
import { cniInvocation, parseCniAdd } from '../../lab/datapath/cilium-cni';
import { cniPodStages, kwokStageDir, POD_IP_ANNOTATION } from '../../lab/datapath/kwok-stages';
import { execShimScript, NETWORK_ENV, POD_CGROUP_ENV, POD_NETNS_ENV } from '../../lab/exec-shim';
import { nodeNetns } from '../../lab/pod-network';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lab-cilium-pods-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Expr { key: string; operator: string; values?: string[] }
interface StageDoc { metadata: { name: string }; spec: { selector?: { matchExpressions?: Expr[] }; next: { statusTemplate?: string } } }

describe('kwok stages for cilium-cni pods (from the real kwok v0.8.0 stage files)', () => {
  const dir = kwokStageDir();
  // As plain data (loadYaml gives class instances; cniPodStages copies them into plain objects).
  const kwok = (f: string) => JSON.parse(JSON.stringify(loadYaml<StageDoc>(readFileSync(path.join(dir, f), 'utf8')))) as StageDoc;
  const ready = () => kwok('pod/fast/pod-ready.yaml');

  it('finds kwok\'s stage files where `scripts/setup.sh kube` keeps them', () => {
    assert.ok(existsSync(path.join(dir, 'pod/fast/pod-ready.yaml')), `${dir}: run scripts/setup.sh kube`);
  });

  it('keeps kwok\'s node stages, pod-complete and pod-delete as they are, and splits pod-ready in two', () => {
    const stages = JSON.parse(JSON.stringify(cniPodStages(dir))) as StageDoc[];
    assert.deepEqual(stages.map((s) => s.metadata.name), ['node-initialize', 'node-heartbeat-with-lease', 'pod-complete', 'pod-delete', 'pod-ready-host-network', 'pod-ready-cni']);
    assert.deepEqual(stages[0], kwok('node/fast/node-initialize.yaml'));
    assert.deepEqual(stages[1], kwok('node/heartbeat-with-lease/node-heartbeat-with-lease.yaml'));
    assert.deepEqual(stages[2], kwok('pod/fast/pod-complete.yaml'));
    assert.deepEqual(stages[3], kwok('pod/fast/pod-delete.yaml'));
  });

  it('pod-ready-host-network: kwok\'s pod-ready for hostNetwork pods only, its template unchanged (the node\'s IP)', () => {
    const host = (JSON.parse(JSON.stringify(cniPodStages(dir))) as StageDoc[]).find((s) => s.metadata.name === 'pod-ready-host-network')!;
    const orig = ready();
    assert.deepEqual(host.spec.selector!.matchExpressions, [...orig.spec.selector!.matchExpressions!, { key: '.spec.hostNetwork', operator: 'In', values: ['true'] }]);
    assert.equal(host.spec.next.statusTemplate, orig.spec.next.statusTemplate);
    assert.match(host.spec.next.statusTemplate!, /PodIPsWith/);
    assert.deepEqual({ ...host, metadata: { ...host.metadata, name: 'pod-ready' }, spec: { ...host.spec, selector: orig.spec.selector } }, orig, 'nothing else differs');
  });

  it('pod-ready-cni: other pods once they carry the annotation, their IPs from it (one template line differs)', () => {
    const cni = (cniPodStages(dir) as unknown as StageDoc[]).find((s) => s.metadata.name === 'pod-ready-cni')!;
    const orig = ready();
    assert.equal(POD_IP_ANNOTATION, 'netbench.io/pod-ip');
    assert.deepEqual(cni.spec.selector!.matchExpressions, [
      ...orig.spec.selector!.matchExpressions!,
      { key: '.spec.hostNetwork', operator: 'NotIn', values: ['true'] },
      { key: '.metadata.annotations."netbench.io/pod-ip"', operator: 'Exists' },
    ]);
    const t = cni.spec.next.statusTemplate!;
    assert.doesNotMatch(t, /PodIPsWith/);
    const was = orig.spec.next.statusTemplate!.split('\n');
    const now = t.split('\n');
    assert.equal(now.length, was.length);
    const changed = now.map((l, i) => [l, was[i]!] as const).filter(([a, b]) => a !== b);
    assert.equal(changed.length, 1, 'exactly one line differs');
    assert.match(changed[0]![1], /^\s*\{\{ \$podIPs := PodIPsWith .*\}\}$/);
    assert.equal(changed[0]![0].trim(), '{{ $podIPs := list (index .metadata.annotations "netbench.io/pod-ip") }}');
    // The lines that use $podIPs are kwok's own.
    assert.match(t, /\{\{ with \$podIPs \}\}\s*\n\s*podIP: \{\{ index \. 0 \| Quote \}\}/);
  });

  it('leaves kwok\'s documents as read (two calls give the same stages)', () => {
    assert.deepEqual(cniPodStages(dir), cniPodStages(dir));
  });

  it('a missing stage dir: an error naming the files and `scripts/setup.sh kube`', () => {
    assert.throws(() => cniPodStages(path.join(tmp, 'no-kwok')), (e: Error) => {
      assert.match(e.message, /kwok's stage documents are missing from .*no-kwok/);
      assert.match(e.message, /pod\/fast\/pod-ready\.yaml/);
      assert.match(e.message, /run scripts\/setup\.sh kube$/);
      return true;
    });
  });

  it('a pod-ready that no longer takes IPs from PodIPsWith: "must be brought up to date"', () => {
    const copy = path.join(tmp, 'kwok-changed');
    cpSync(dir, copy, { recursive: true });
    const f = path.join(copy, 'pod/fast/pod-ready.yaml');
    const text = readFileSync(f, 'utf8');
    assert.match(text, /PodIPsWith/);
    writeFileSync(f, text.replaceAll('PodIPsWith', 'PodIPsFrom'));
    assert.throws(() => cniPodStages(copy), /pod-ready stage in .*kwok-changed no longer takes pod IPs from PodIPsWith: lab\/datapath\/kwok-stages\.ts must be brought up to date/);
  });
});

describe('cilium-cni call', () => {
  const pod = { namespace: 'network-benchmark', name: 'iperf-server', uid: '3f2a9c1e-7d44-4b8a-9e0f-123456789abc', netns: 'nb-x.network-benchmark.iperf-server' };

  it('passes the CNI parameters in the environment and the network config on stdin (CNI 1.0)', () => {
    for (const command of ['ADD', 'DEL'] as const) {
      const { env, stdin } = cniInvocation(command, { pod, socket: '/s/cilium.sock', cniBin: '/c/bin/cilium-cni', logFile: '/s/cni.log' });
      assert.deepEqual(env, {
        CILIUM_SOCK: '/s/cilium.sock',
        CNI_COMMAND: command,
        CNI_CONTAINERID: pod.uid,
        CNI_NETNS: '/run/netns/nb-x.network-benchmark.iperf-server',
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/c/bin',
        CNI_ARGS: `K8S_POD_NAMESPACE=network-benchmark;K8S_POD_NAME=iperf-server;K8S_POD_UID=${pod.uid}`,
      });
      assert.deepEqual(JSON.parse(stdin), { cniVersion: '1.0.0', name: 'cilium', type: 'cilium-cni', 'log-file': '/s/cni.log' });
    }
  });

  // What the plugin prints: cniTypes.PrintResult of a types/100 Result (json.MarshalIndent, 4 spaces):
  // the host-side lxc interface, then the pod's eth0; the IP's "interface" is the index of eth0;
  // routes from connector.IPv4Routes (the gateway /32 and the default route); an empty "dns" object.
  const result = (ips: object[]) => JSON.stringify({
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'lxc3f2a9c1e7d44', mac: '8a:4e:1c:22:90:1f' },
      { name: 'eth0', mac: '3e:91:0a:5b:c4:02', sandbox: `/run/netns/${pod.netns}` },
    ],
    ips,
    routes: [{ dst: '10.244.1.33/32' }, { dst: '0.0.0.0/0', gw: '10.244.1.33' }],
    dns: {},
  }, null, 4);

  it('takes the pod\'s IPv4 from an ADD result', () => {
    assert.equal(parseCniAdd(result([{ interface: 1, address: '10.244.1.86/32', gateway: '10.244.1.33' }])), '10.244.1.86');
    // Dual stack: the plugin puts the IPv6 first.
    assert.equal(parseCniAdd(result([{ interface: 1, address: 'fd00::5/128', gateway: 'fd00::1' }, { interface: 1, address: '10.244.2.7/32', gateway: '10.244.2.1' }])), '10.244.2.7');
  });

  it('an IPv6-only result is an error, not an IP', () => {
    assert.throws(() => parseCniAdd(result([{ interface: 1, address: 'fd00::5/128', gateway: 'fd00::1' }])), /cilium-cni ADD result has no IPv4 address/);
  });

  it('a result without IPs is an error', () => {
    assert.throws(() => parseCniAdd(result([])), /cilium-cni ADD result has no IP/);
    assert.throws(() => parseCniAdd(JSON.stringify({ cniVersion: '1.0.0' })), /cilium-cni ADD result has no IP/);
  });

  it('a CNI error object (skel prints it and exits 1) becomes an Error with its code, msg and details', () => {
    // An error Add returns as is: skel wraps it as types.ErrInternal (999), no details.
    const internal = JSON.stringify({ code: 999, msg: 'unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure  range is full' }, null, 4);
    assert.throws(() => parseCniAdd(internal), (e: Error) => {
      assert.equal(e.message, 'cilium-cni ADD failed (code 999): unable to allocate IP via local cilium agent: [POST /ipam][502] postIpamFailure  range is full');
      return true;
    });
    // A types.Error of the plugin's own: ErrTryAgainLater (11) "DaemonDown" with details.
    const down = JSON.stringify({ code: 11, msg: 'DaemonDown', details: 'unable to connect to Cilium agent: dial unix /s/cilium.sock: connect: no such file or directory\nIs the agent running?' }, null, 4);
    assert.throws(() => parseCniAdd(down), /^Error: cilium-cni ADD failed \(code 11\): DaemonDown: unable to connect to Cilium agent: dial unix \/s\/cilium\.sock/);
  });

  it('output that is not JSON is an error quoting it; no output says so', () => {
    assert.throws(() => parseCniAdd('panic: runtime error: invalid memory address\n'), /cilium-cni printed no JSON result: panic: runtime error: invalid memory address$/);
    assert.throws(() => parseCniAdd(''), /cilium-cni printed no JSON result: \(nothing\)/);
  });
});

describe('where the agents run', () => {
  const p = labPaths('some-name');
  const nodes = labNodes();
  const pathsOf = (s: ReturnType<typeof agentSites>[number]) => [s.bpffs, s.run, s.state, s.lib, s.cgroupMount, s.pidFile];

  it('shared network: one agent in the lab namespace on the last worker, devices nbc0', () => {
    const sites = agentSites(p, 'shared', nodes);
    assert.equal(sites.length, 1);
    const s = sites[0]!;
    assert.equal(s.id, AGENT);
    assert.equal(s.id, 'cilium-agent');
    assert.equal(s.node, nodes[nodes.length - 1]!.name);
    assert.equal(s.netns, p.netns);
    assert.deepEqual(s.devices, [VETH[0]]);
    assert.deepEqual(s.devices, ['nbc0']);
    assert.equal(s.cgroup, labCgroup(p));
    for (const f of pathsOf(s)) assert.ok(f.startsWith(`${p.stateDir}/`), f);
  });

  it('pods network: one agent per node in its namespace on eth0, every path its own, under the lab\'s state dir and cgroup', () => {
    const sites = agentSites(p, 'pods', nodes);
    assert.deepEqual(sites.map((s) => s.node), nodes.map((n) => n.name));
    assert.ok(sites.length >= 2);
    for (const s of sites) {
      assert.equal(s.id, `cilium-agent.${s.node}`);
      assert.equal(s.netns, `${p.netns}.${s.node}`);
      assert.equal(s.netns, nodeNetns(p, s.node));
      assert.deepEqual(s.devices, ['eth0']);
      assert.ok(s.cgroup.startsWith(`${labCgroup(p)}/`), s.cgroup);
      for (const f of pathsOf(s)) assert.ok(f.startsWith(`${p.stateDir}/`), f);
      assert.ok(s.pidFile.startsWith(`${p.pidDir}/`), s.pidFile);
    }
    const all = sites.flatMap((s) => [...pathsOf(s), s.cgroup, s.netns, s.id, agentSocket(s)]);
    assert.equal(new Set(all).size, all.length, 'no two sites share a path, namespace, id or socket');
    const shared = agentSites(p, 'shared', nodes)[0]!;
    for (const s of sites) for (const f of pathsOf(s)) assert.ok(!pathsOf(shared).includes(f), `${f} is not the shared agent's`);
  });

  it('a lab of another name has none of them', () => {
    const other = agentSites(labPaths('some-name-2'), 'pods', nodes).flatMap((s) => [s.bpffs, s.pidFile, s.cgroup, s.netns]);
    for (const s of agentSites(p, 'pods', nodes)) for (const f of [s.bpffs, s.pidFile, s.cgroup, s.netns]) assert.ok(!other.includes(f), f);
  });

  it('the agent socket is in the site\'s run dir (what cilium-cni dials)', () => {
    for (const s of agentSites(p, 'pods', nodes)) assert.equal(agentSocket(s), path.join(s.run, 'cilium.sock'));
  });
});

describe('cilium-config for the lab', () => {
  it('native routing: the agents route other nodes\' podCIDRs themselves on the pods network only', () => {
    assert.deepEqual(routingConfig('native', 'pods'), { 'routing-mode': 'native', 'tunnel-protocol': null, 'ipv4-native-routing-cidr': POD_CIDR, 'auto-direct-node-routes': 'true' });
    assert.equal(routingConfig('native', 'shared')['auto-direct-node-routes'], 'false');
    assert.equal(routingConfig('native')['auto-direct-node-routes'], 'false', 'shared is the default');
  });

  it('overlay: vxlan, no native-routing CIDR, on either network', () => {
    for (const network of ['shared', 'pods'] as const) {
      const c = defaultCiliumConfig('overlay', network);
      assert.equal(c['routing-mode'], 'tunnel');
      assert.equal(c['tunnel-protocol'], 'vxlan');
      assert.ok(!('ipv4-native-routing-cidr' in c));
      assert.equal(c['auto-direct-node-routes'], 'false');
    }
  });

  it('the config map takes the routing keys from routingConfig (null keys absent)', () => {
    const pods = defaultCiliumConfig('native', 'pods');
    assert.equal(pods['auto-direct-node-routes'], 'true');
    assert.equal(pods['ipv4-native-routing-cidr'], POD_CIDR);
    assert.ok(!('tunnel-protocol' in pods));
    assert.equal(defaultCiliumConfig('native', 'shared')['auto-direct-node-routes'], 'false');
    assert.equal(defaultCiliumConfig('native')['auto-direct-node-routes'], 'false');
    assert.equal(pods.ipam, 'kubernetes', 'cilium-cni takes IPs from the node\'s podCIDR');
    for (const v of Object.values(pods)) assert.equal(typeof v, 'string');
  });
});

const isRoot = process.getuid?.() === 0;

describe('exec wrapper (kubectl exec into a cilium-agent pod), run by the real sh', () => {
  const dir = path.join(tmp, 'wrap');
  const labBin = path.join(tmp, 'wrap-lab-bin');
  const fallbackBin = path.join(tmp, 'wrap-fallback-bin');
  for (const d of [dir, labBin, fallbackBin]) mkdirSync(d, { recursive: true });
  // Programs that say which PATH found them (the lab's cat reads files other than a status, such as the pid file).
  const realCat = spawnSync('sh', ['-c', 'command -v cat'], { encoding: 'utf8' }).stdout.trim();
  for (const [d, tag] of [[labBin, 'lab'], [fallbackBin, 'fallback']] as const) {
    writeFileSync(path.join(d, 'echo'), `#!/bin/sh\necho "${tag} echo $*"\n`, { mode: 0o755 });
  }
  writeFileSync(path.join(labBin, 'cat'), `#!/bin/sh\ncase "$1" in /proc/*/status) echo "lab cat $*" ;; *) exec ${realCat} "$@" ;; esac\n`, { mode: 0o755 });
  writeFileSync(path.join(fallbackBin, 'cat'), '#!/bin/sh\necho "fallback cat $*"\n', { mode: 0o755 });
  const hubble = path.join(tmp, 'fake-hubble');
  writeFileSync(hubble, '#!/bin/sh\necho "hubble $HUBBLE_SERVER $*"\n', { mode: 0o755 });
  const restarting = path.join(tmp, 'not-restarting');
  writeFileSync(path.join(dir, 'wrapper'), execWrapperScript(restarting, '/nonexistent/cilium-dbg', hubble, `${labBin}:${process.env.PATH}`, `${fallbackBin}:${process.env.PATH}`), { mode: 0o755 });
  for (const name of ['cat', 'echo', 'hubble']) symlinkSync('wrapper', path.join(dir, name));
  const pidFile = path.join(tmp, 'agent.pid');
  writeFileSync(pidFile, String(process.pid)); // a running process stands for the agent
  const run = (name: string, args: string[], env: Record<string, string> = {}) =>
    spawnSync(path.join(dir, name), args, { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH}`, ...env } });

  it('outside a cilium-agent container: the program next on the fallback PATH (the exec shim\'s), not the lab PATH', () => {
    const r = run('echo', ['hello']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'fallback echo hello\n');
  });

  it('in a cilium-agent container: `cat /proc/1/status` reads the agent\'s status, with the lab PATH', () => {
    const r = run('cat', ['/proc/1/status'], { [PIDFILE_ENV]: pidFile });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `lab cat /proc/${process.pid}/status\n`);
    const other = run('cat', ['/etc/hostname'], { [PIDFILE_ENV]: pidFile });
    assert.equal(other.stdout, 'fallback cat /etc/hostname\n', 'another cat is the next cat');
  });

  it('in a cilium-agent container whose agent is gone: an error naming the pid file', () => {
    const r = run('cat', ['/proc/1/status'], { [PIDFILE_ENV]: path.join(tmp, 'no.pid') });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the cilium-agent process is not running \(pid file .*no\.pid\)/);
  });

  it('hubble talks to the agent\'s own Hubble socket, inside its namespaces', { skip: isRoot ? false : 'nsenter needs root' }, () => {
    const r = run('hubble', ['observe', '--last', '1'], { [PIDFILE_ENV]: pidFile });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hubble unix:///var/run/cilium/hubble.sock observe --last 1\n');
  });
});

describe('exec shim on a Cilium lab (node cgroup), run by the real sh', () => {
  const dir = path.join(tmp, 'shim');
  const ready = path.join(tmp, 'shim-ready');
  const pending = path.join(tmp, 'shim-pending');
  const fakeIpDir = path.join(tmp, 'shim-bin');
  for (const d of [dir, ready, pending, fakeIpDir]) mkdirSync(d, { recursive: true });
  // Stands for `ip` only to show what the shim execs last and in which cgroup (no namespace is made).
  writeFileSync(path.join(fakeIpDir, 'ip'), '#!/bin/sh\necho "ip $*"\ngrep "^0::" /proc/self/cgroup\n', { mode: 0o755 });
  const script = execShimScript({ originalPath: `${fakeIpDir}:${process.env.PATH}`, readyDir: ready, pendingDir: pending, waitSec: 1 });
  writeFileSync(path.join(dir, '.netbench-exec-shim'), script, { mode: 0o755 });
  symlinkSync('.netbench-exec-shim', path.join(dir, 'echo'));

  it('joins the node\'s cgroup (mounting cgroup2 once if need be) before `ip netns exec`', () => {
    const join = script.indexOf(`/sys/fs/cgroup/$${POD_CGROUP_ENV}/cgroup.procs`);
    const mount = script.indexOf('mount -t cgroup2 cgroup2 /sys/fs/cgroup');
    const exec = script.indexOf('exec ip netns exec "$ns"');
    assert.ok(mount > 0 && join > mount && exec > join, 'mount, join, then exec');
    assert.match(script, /\[ -e \/sys\/fs\/cgroup\/cgroup\.procs \] \|\| mount -t cgroup2/, 'mounts only when no cgroup2 is there');
    assert.match(script, /if ! echo \$\$ > "[^"]*cgroup\.procs"; then\n\s+echo "netbench lab: cannot join this pod's node cgroup[^\n]*>&2\n\s+exit 126/, 'an exec that cannot join does not run outside its node\'s cgroup, and says why');
  });

  it('without a pod namespace, the cgroup is not joined and the named program runs with the lab\'s PATH', () => {
    const r = spawnSync(path.join(dir, 'echo'), ['hello'], { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH}`, [POD_CGROUP_ENV]: 'nb-none/worker-1' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
  });

  // For real: a cgroup of the test's own under the cgroup2 root, the shim in a private mount namespace
  // (where it mounts cgroup2 on /sys/fs/cgroup if that is not cgroup2, as in kwok-controller's).
  const cg2 = (() => {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [pre, post] = line.split(' - ');
      if (post?.split(' ')[0] === 'cgroup2') return pre!.split(' ')[4]!;
    }
    return null;
  })();
  const canJoin = isRoot && cg2 !== null && spawnSync('unshare', ['--version']).status === 0;
  it('with a pod namespace: the exec runs in the node\'s cgroup, then `ip netns exec <ns> <name> <args>`', { skip: canJoin ? false : 'needs root, cgroup v2 and unshare' }, () => {
    const rel = `netbench-unit-${process.pid}/worker-1`;
    const cgDir = path.join(cg2!, rel);
    mkdirSync(cgDir, { recursive: true });
    try {
      writeFileSync(path.join(ready, 'nb-t.ns.pod'), '');
      const r = spawnSync('unshare', ['--mount', '--propagation', 'private', path.join(dir, 'echo'), 'hello', 'world'], {
        encoding: 'utf8',
        env: { PATH: `${dir}:${process.env.PATH}`, [POD_NETNS_ENV]: 'nb-t.ns.pod', [NETWORK_ENV]: 'pods', [POD_CGROUP_ENV]: rel },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `ip netns exec nb-t.ns.pod echo hello world\n0::/${rel}\n`);
      const bad = spawnSync('unshare', ['--mount', '--propagation', 'private', path.join(dir, 'echo'), 'hello'], {
        encoding: 'utf8',
        env: { PATH: `${dir}:${process.env.PATH}`, [POD_NETNS_ENV]: 'nb-t.ns.pod', [POD_CGROUP_ENV]: `netbench-unit-${process.pid}/no-such-node` },
      });
      assert.equal(bad.status, 126, 'no exec outside the node\'s cgroup');
      assert.equal(bad.stdout, '');
    } finally {
      rmdirSync(cgDir);
      rmdirSync(path.dirname(cgDir));
    }
  });
});
