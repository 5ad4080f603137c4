// kube-proxy's IPVS table as `ipvsadm -ln` lists it. The listings here are
// HAND-WRITTEN from ipvsadm(8)'s documented list format (header, a line per
// virtual service, "  -> " per real server, as ipvsadm 1.31 lays them out):
// IPVS mode needs the kernel's ip_vs modules, which neither the lab nor this
// machine has, so no real ipvsadm output could be recorded.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { countInFile, DATAPATH_COMMAND, dummyMatchers } from '../../../src/activities/datapath';
import { ToolOutputError } from '../../../src/tools/errors';
import { IpvsadmCounter, ipvsadmList, ipvsadmListArgs, parseIpvsadmList } from '../../../src/tools/ipvsadm';

const HEADER = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
];
const server = (ipPort: string, active = 0, inactive = 0) => `  -> ${ipPort.padEnd(28)}Masq    1      ${String(active).padEnd(10)} ${inactive}`;

/**
 * A kube-proxy IPVS table: the kubernetes Service, kube-dns (TCP, UDP,
 * metrics), a ClientIP-affinity Service (persistent), an IPv6 Service, a
 * Service without endpoints, and `dummies` dummy Services with `eps`
 * endpoints each in netbench's dummy range (10.100.0.0-10.255.255.255:80).
 */
function kubeProxyTable(dummies: number, eps: number): { text: string; services: number; servers: number } {
  const lines = [
    ...HEADER,
    'TCP  10.96.0.1:443 rr',
    server('172.18.0.3:6443', 7, 0),
    'TCP  10.96.0.10:53 rr',
    server('10.244.0.2:53'),
    server('10.244.0.3:53'),
    'TCP  10.96.0.10:9153 rr',
    server('10.244.0.2:9153'),
    server('10.244.0.3:9153'),
    'UDP  10.96.0.10:53 rr',
    server('10.244.0.2:53', 0, 12),
    server('10.244.0.3:53', 0, 9),
    'TCP  10.96.45.7:8080 rr persistent 10800',
    server('10.244.1.9:8080', 64, 0),
    'TCP  [fd00:10:96::a]:80 rr',
    `  -> [fd00:10:244:1::5]:80         Masq    1      0          0`,
    'TCP  10.96.77.1:80 rr',
  ];
  let services = 7;
  let servers = 9;
  for (let i = 0; i < dummies; i++) {
    lines.push(`TCP  10.97.${Math.floor(i / 250)}.${(i % 250) + 2}:80 rr`);
    services++;
    for (let e = 0; e < eps; e++) {
      lines.push(server(`10.${100 + (i % 150)}.${Math.floor(i / 150) % 256}.${e + 1}:80`));
      servers++;
    }
  }
  return { text: lines.join('\n') + '\n', services, servers };
}

describe('ipvsadm -ln', () => {
  it('is the one argv the datapath and metrics activities run', () => {
    assert.deepEqual(ipvsadmListArgs(), ['ipvsadm', '-ln']);
    assert.deepEqual(ipvsadmList.argv(), ipvsadmListArgs());
    assert.deepEqual(DATAPATH_COMMAND.ipvs, ipvsadmListArgs());
  });

  it('counts lines as the reference did (wc -l, header included), virtual services and real servers', () => {
    const t = kubeProxyTable(40, 4);
    assert.deepEqual(parseIpvsadmList(t.text), { totalLines: 3 + t.services + t.servers, virtualServices: 47, realServers: 169 });
    assert.equal(parseIpvsadmList(t.text).totalLines, t.text.split('\n').filter((l) => l !== '').length);
    assert.deepEqual(parseIpvsadmList(HEADER.join('\n') + '\n'), { totalLines: 3, virtualServices: 0, realServers: 0 }, 'an empty table is its header');
  });

  it('counts the same streamed line by line as whole', () => {
    const t = kubeProxyTable(25, 2);
    const c = new IpvsadmCounter();
    for (const line of t.text.split('\n')) c.add(line);
    assert.deepEqual(c.result(), parseIpvsadmList(t.text));
  });

  it('gives the convergence wait one dummy endpoint per real-server line in the dummy range', async () => {
    const t = kubeProxyTable(30, 4);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ipvsadm-test-'));
    try {
      const file = path.join(dir, 'out.txt');
      await writeFile(file, t.text);
      const m = dummyMatchers('ipvs', 'netbench-scale', 4);
      assert.equal((await countInFile(file, m.line)).matches, 30 * 4, 'kube-system endpoints and the Service VIPs (10.96/10.97) are not dummies');
      assert.equal(m.perService, 4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says why when there is no table: ipvsadm\'s own reason, never "0 rules"', () => {
    const stderr = "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n";
    assert.throws(() => ipvsadmList.parse({ stdout: '', stderr }), (e: unknown) => e instanceof ToolOutputError && e.reason === "Can't initialize ipvs: Protocol not available");
    assert.throws(() => parseIpvsadmList(''), /ipvsadm: empty output/);
    assert.throws(() => parseIpvsadmList(HEADER[0] + '\n'), /ipvsadm: truncated output/);
  });

  it('refuses what is not ipvsadm\'s list syntax', () => {
    assert.throws(() => parseIpvsadmList('sh: ipvsadm: not found\n'), /unexpected line: sh: ipvsadm: not found/);
    assert.throws(() => parseIpvsadmList([...HEADER, server('10.244.0.2:53')].join('\n')), /unexpected line: -> 10\.244\.0\.2:53/, 'a real server before any virtual service');
    assert.throws(() => parseIpvsadmList([...HEADER, 'TCP  10.96.0.1:443 rr', 'Killed'].join('\n')), /unexpected line: Killed/);
  });
});
