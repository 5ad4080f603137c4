// kube-proxy datapath counters, exercised on dumps the real iptables-save and
// nft print inside a network namespace this test creates and loads with
// kube-proxy-shaped rules (needs root, as the lab does).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ToolOutputError } from '../../../src/tools/errors';
import { iptablesSaveArgs, nftListKubeProxyArgs, parseIptablesSave, parseNftKubeProxy } from '../../../src/tools/iptables';
import { createNetns, type Netns } from '../../support/tools';

/** kube-proxy names chains by a hash of the service port; any 16 [A-Z0-9] will do here. */
function chainHash(kind: string, i: number): string {
  return createHash('sha256').update(`${kind}${i}`).digest('hex').slice(0, 16).toUpperCase();
}

/**
 * An iptables-restore input shaped like kube-proxy's iptables mode:
 * `services` ClusterIP services with `endpoints` endpoints each, plus one
 * service without endpoints (a REJECT in the filter table's KUBE-SERVICES,
 * which must not be counted as a nat rule).
 */
function kubeProxyRules(services: number, endpoints: number): string {
  const nat: string[] = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-MARK-MASQ - [0:0]',
  ];
  const natRules: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
  ];
  for (let i = 0; i < services; i++) {
    const svc = `KUBE-SVC-${chainHash('svc', i)}`;
    const ip = `10.96.${Math.floor(i / 250)}.${(i % 250) + 2}`;
    nat.push(`:${svc} - [0:0]`);
    natRules.push(
      `-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "test-services/dummy-svc-${i} cluster IP" -m tcp --dport 80 -j ${svc}`,
    );
    for (let e = 0; e < endpoints; e++) {
      const sep = `KUBE-SEP-${chainHash(`sep${e}`, i)}`;
      const epIp = `10.244.${i % 250}.${e + 2}`;
      nat.push(`:${sep} - [0:0]`);
      const left = endpoints - e;
      natRules.push(
        left > 1
          ? `-A ${svc} -m comment --comment "-> ${epIp}:80" -m statistic --mode random --probability ${(1 / left).toFixed(11)} -j ${sep}`
          : `-A ${svc} -m comment --comment "-> ${epIp}:80" -j ${sep}`,
        `-A ${sep} -s ${epIp}/32 -j KUBE-MARK-MASQ`,
        `-A ${sep} -p tcp -m tcp -j DNAT --to-destination ${epIp}:80`,
      );
    }
  }
  // kube-proxy's last KUBE-SERVICES rule: the NodePort jump.
  natRules.push(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );
  const filter = [
    '*filter',
    ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d 10.96.255.254/32 -p tcp -m comment --comment "test-services/no-endpoints has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    'COMMIT',
  ];
  return [...nat, ...natRules, 'COMMIT', ...filter, ''].join('\n');
}

function assertToolError(fn: () => unknown, tool: string, reason: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ToolOutputError, `expected ToolOutputError, got ${String(e)}`);
    assert.equal(e.tool, tool);
    if (typeof reason === 'string') assert.equal(e.reason, reason);
    else assert.match(e.reason, reason);
    return true;
  });
}

const SERVICES = 120;
const ENDPOINTS = 2;

describe('parseIptablesSave on real iptables-save output (iptables-nft, in a test netns)', () => {
  let ns: Netns;
  let dump = '';
  let wcL = -1;

  before(async () => {
    ns = await createNetns('ipt');
    const load = await ns.exec('iptables-restore', [], { input: kubeProxyRules(SERVICES, ENDPOINTS) });
    assert.equal(load.code, 0, load.stderr);
    const [cmd, ...args] = iptablesSaveArgs();
    const save = await ns.exec(cmd, args);
    assert.equal(save.code, 0, save.stderr);
    dump = save.stdout;
    // The reference's figure, computed the reference's way.
    const wc = await ns.exec('sh', ['-c', 'iptables-save | wc -l']);
    wcL = Number(wc.stdout.trim());
  });
  after(async () => {
    await ns?.delete();
  });

  it('counts KUBE-SERVICES rules of the nat table only (one per service + the NodePort jump)', () => {
    const c = parseIptablesSave(dump);
    assert.equal(c.kubeServicesRules, SERVICES + 1);
  });

  it('counts KUBE-SVC / KUBE-SEP chains and nat rules', () => {
    const c = parseIptablesSave(dump);
    assert.equal(c.kubeSvcChains, SERVICES);
    assert.equal(c.kubeSepChains, SERVICES * ENDPOINTS);
    // 5 fixed + per service (1 KUBE-SERVICES + 3 per endpoint) + NodePort jump.
    assert.equal(c.natRules, 5 + SERVICES * (1 + 3 * ENDPOINTS) + 1);
    assert.equal(c.totalRules, c.natRules + 2);
    assert.equal(c.legacyTablesPresent, false);
  });

  it('totalLines equals the reference\'s `iptables-save | wc -l`', () => {
    assert.ok(wcL > SERVICES * 4, `wc -l gave ${wcL}`);
    assert.equal(parseIptablesSave(dump).totalLines, wcL);
  });

  it('accepts an empty dump (no table loaded: iptables-save prints nothing)', async () => {
    const empty = await createNetns('ipt-empty');
    try {
      const save = await empty.exec('iptables-save', []);
      assert.equal(save.code, 0);
      assert.equal(save.stdout, '');
      assert.deepEqual(parseIptablesSave(save.stdout), {
        totalLines: 0, natRules: 0, kubeServicesRules: 0, kubeSvcChains: 0, kubeSepChains: 0, totalRules: 0,
        legacyTablesPresent: false,
      });
    } finally {
      await empty.delete();
    }
  });

  it('reports "truncated output" when a table is cut before COMMIT', () => {
    const cut = dump.slice(0, dump.indexOf('COMMIT', dump.indexOf('*nat')) - 1);
    assertToolError(() => parseIptablesSave(cut), 'iptables-save', 'truncated output');
  });

  it('reports an unexpected line when the text is an error message, not a dump', () => {
    assertToolError(
      () => parseIptablesSave('iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n'),
      'iptables-save',
      /^unexpected line: iptables-save v1\.8\.9/,
    );
  });
});

describe('iptables legacy backend (in a test netns)', () => {
  let ns: Netns;
  before(async () => {
    ns = await createNetns('iptleg');
    const load = await ns.exec('iptables-legacy-restore', [], { input: kubeProxyRules(10, 1) });
    assert.equal(load.code, 0, load.stderr);
  });
  after(async () => {
    await ns?.delete();
  });

  it('iptables-legacy-save shows the rules; the parser counts them the same way', async () => {
    const [cmd, ...args] = iptablesSaveArgs({ legacy: true });
    const save = await ns.exec(cmd, args);
    assert.equal(save.code, 0, save.stderr);
    const c = parseIptablesSave(save.stdout);
    assert.equal(c.kubeServicesRules, 11);
    assert.equal(c.kubeSvcChains, 10);
    assert.equal(c.legacyTablesPresent, false);
  });

  it('iptables-nft\'s iptables-save prints nothing but a stderr warning — flagged, not mistaken for "no rules"', async () => {
    const save = await ns.exec('iptables-save', []);
    assert.equal(save.code, 0, save.stderr);
    // What the reference (`iptables-save 2>/dev/null | wc -l`) saw: nothing.
    assert.equal(save.stdout, '');
    assert.equal(parseIptablesSave(save.stdout).legacyTablesPresent, false);
    // With stderr included, the parser notices where the rules are.
    const c = parseIptablesSave(save.stdout + save.stderr);
    assert.equal(c.legacyTablesPresent, true);
    assert.equal(c.kubeServicesRules, 0);
  });
});

/** kube-proxy nftables mode's table, with `services` entries in service-ips. */
function kubeProxyNft(services: number): string {
  const lines = [
    'table ip kube-proxy {',
    '  comment "rules for kube-proxy"',
    '  set cluster-ips { type ipv4_addr; comment "Active ClusterIPs"; }',
    '  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"; }',
    '  map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; comment "vmap to drop or reject packets to services with no endpoints"; }',
    '  chain mark-for-masquerade { mark set mark or 0x4000; }',
    '  chain services { ip daddr . meta l4proto . th dport vmap @service-ips; }',
  ];
  const chains: string[] = [];
  const elements: string[] = [];
  for (let i = 0; i < services; i++) {
    const chain = `service-${chainHash('nft', i).slice(0, 8)}-test-services/dummy-svc-${i}/tcp/`;
    const ip = `10.96.${Math.floor(i / 250)}.${(i % 250) + 2}`;
    chains.push(`  chain ${chain} { ip daddr ${ip} tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade; }`);
    elements.push(`add element ip kube-proxy cluster-ips { ${ip} }`);
    elements.push(`add element ip kube-proxy service-ips { ${ip} . tcp . 80 : goto ${chain} }`);
  }
  // A service without endpoints lands in another map, with a comment holding a comma.
  elements.push('add element ip kube-proxy no-endpoint-services { 10.96.255.254 . tcp . 80 comment "test-services/none:http, no endpoints" : drop }');
  return [...lines, ...chains, '}', ...elements, ''].join('\n');
}

describe('parseNftKubeProxy on real `nft list table ip kube-proxy` output (in a test netns)', () => {
  const N = 75;
  let ns: Netns;
  let listing = '';
  before(async () => {
    ns = await createNetns('nft');
    const load = await ns.exec('nft', ['-f', '-'], { input: kubeProxyNft(N) });
    assert.equal(load.code, 0, load.stderr);
    const [cmd, ...args] = nftListKubeProxyArgs();
    const list = await ns.exec(cmd, args);
    assert.equal(list.code, 0, list.stderr);
    listing = list.stdout;
  });
  after(async () => {
    await ns?.delete();
  });

  it('counts the elements of the service-ips map only', () => {
    const c = parseNftKubeProxy(listing);
    assert.equal(c.serviceIps, N);
    assert.equal(c.chains, N + 2);
    assert.equal(c.totalLines, listing.split('\n').filter((l) => l.trim() !== '').length);
  });

  it('counts 0 for an empty service-ips map (nft prints no "elements" line)', async () => {
    const empty = await createNetns('nft-empty');
    try {
      const load = await empty.exec('nft', ['-f', '-'], { input: kubeProxyNft(0) });
      assert.equal(load.code, 0, load.stderr);
      const list = await empty.exec('nft', nftListKubeProxyArgs().slice(1));
      assert.doesNotMatch(list.stdout.split('map service-ips')[1]?.split('}')[0] ?? '', /elements/);
      assert.equal(parseNftKubeProxy(list.stdout).serviceIps, 0);
    } finally {
      await empty.delete();
    }
  });

  it('reports a missing table with nft\'s own message', async () => {
    const bare = await createNetns('nft-bare');
    try {
      const list = await bare.exec('nft', nftListKubeProxyArgs().slice(1));
      assert.notEqual(list.code, 0);
      assertToolError(() => parseNftKubeProxy(list.stdout + list.stderr), 'nft', /^no kube-proxy table: Error: No such file or directory/);
    } finally {
      await bare.delete();
    }
  });

  it('reports "truncated output" for a listing cut in half', () => {
    assertToolError(() => parseNftKubeProxy(listing.slice(0, Math.floor(listing.length / 2))), 'nft', 'truncated output');
  });
});
