// kube-proxy's datapath size in IPVS mode: the parser of `ipvsadm -ln`
// (list the virtual server table, addresses and ports as numbers).
//
// The format, from ipvsadm(8) and its list output (not checked on the lab:
// IPVS mode needs the kernel's ip_vs modules, which the lab's kernel does
// not offer):
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//   TCP  10.96.0.1:443 rr
//     -> 172.18.0.3:6443              Masq    1      0          0
//   UDP  10.96.0.10:53 rr
//   TCP  [fd00:10:96::1]:443 rr persistent 10800
//   FWM  258 rr
// - three header lines, then per virtual service a line "<PROT> <vip:port>
//   <scheduler> [flags]" (PROT: TCP, UDP, SCTP; FWM with a firewall mark)
//   and one "  -> <ip:port> <forward> <weight> <active> <inactive>" line per
//   real server (none for a Service without endpoints);
// - ipvsadm prints no blank lines, so the non-empty lines are the
//   reference's `ipvsadm -ln | wc -l`;
// - without the ip_vs module it prints nothing on stdout and says why on
//   stderr ("Can't initialize ipvs: Protocol not available").
//
// A listing cut at a line's end cannot be told from a shorter table (no
// trailer, as with iptables-save's last table); a header line cut short is refused.
// A listing at 30,000 Services is large, so it can be counted line by line
// (IpvsadmCounter) as well as whole (parseIpvsadmList).
//
// Pure: no node: imports, no Temporal.

import { ToolOutputError, reasonFromLine, requireOutput } from './errors';
import type { Probe } from './driver';

/** `ipvsadm -ln`: the whole virtual server table, numeric. */
export function ipvsadmListArgs(): string[] {
  return ['ipvsadm', '-ln'];
}

export interface IpvsadmCounts {
  /** Non-empty lines, the three header lines included (= the reference's `wc -l`). */
  totalLines: number;
  /** Virtual services (one per Service port and address family with kube-proxy). */
  virtualServices: number;
  /** Real-server lines (one per endpoint of a virtual service). */
  realServers: number;
}

/** The three header lines, in order. */
const HEADER = [/^IP Virtual Server version \S+ \(size=\d+\)$/, /^Prot\s+LocalAddress:Port\s+Scheduler\s+Flags$/, /^->\s+RemoteAddress:Port\s+Forward\s+Weight\s+ActiveConn\s+InActConn$/];
const SERVICE = /^(TCP|UDP|SCTP|FWM)\s+\S+\s+\S+/;
const SERVER = /^->\s+\S+\s+\S+\s+\d+\s+\d+\s+\d+$/;

/** Counts an `ipvsadm -ln` listing fed one line at a time. */
export class IpvsadmCounter {
  private counts: IpvsadmCounts = { totalLines: 0, virtualServices: 0, realServers: 0 };

  /** Throws ToolOutputError "unexpected line: …" when the line is not ipvsadm's list syntax at that place. */
  add(raw: string): void {
    const line = raw.trim();
    if (line === '') return;
    const c = this.counts;
    c.totalLines++;
    const header = HEADER[c.totalLines - 1];
    if (header) {
      if (header.test(line)) return;
    } else if (SERVICE.test(line)) {
      c.virtualServices++;
      return;
    } else if (SERVER.test(line) && c.virtualServices > 0) {
      c.realServers++;
      return;
    }
    throw new ToolOutputError('ipvsadm', `unexpected line: ${reasonFromLine(line)}`);
  }

  /** The counts; throws ToolOutputError when the listing ended inside its header ("truncated output", or "empty output"). */
  result(): IpvsadmCounts {
    if (this.counts.totalLines === 0) throw new ToolOutputError('ipvsadm', 'empty output');
    if (this.counts.totalLines < 3) throw new ToolOutputError('ipvsadm', 'truncated output');
    return { ...this.counts };
  }
}

/** Counts a whole `ipvsadm -ln` listing (see IpvsadmCounter). */
export function parseIpvsadmList(text: string): IpvsadmCounts {
  const c = new IpvsadmCounter();
  for (const line of text.split(/\r?\n/)) c.add(line);
  return c.result();
}

/** kube-proxy's table in IPVS mode (`ipvsadm -ln`). */
export const ipvsadmList: Probe<IpvsadmCounts> = {
  tool: 'ipvsadm',
  argv: ipvsadmListArgs,
  parse: (out) => parseIpvsadmList(requireOutput('ipvsadm', out)),
};
