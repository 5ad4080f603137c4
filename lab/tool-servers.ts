/**
 * The servers the benchmark workloads declare, as real processes in the
 * lab's netns. Every pod IP is local there, so `<iperf-server pod IP>:5201`
 * reaches the one iperf3 server on 5201, whichever pod IP is used.
 *
 *   iperf-server        iperf3 -s -p 5201
 *   iperf-server-host   iperf3 -s -p 5202   (hostNetwork pod: node IP)
 *   netperf-server      netserver -p 12865
 *   fortio-server       fortio server, HTTP 8080
 *   fortio-client       fortio server, HTTP 9999 (its REST API)
 */
import { TOOL_PORTS, type LabPaths } from './config';
import { startDaemon, stopDaemon } from './procs';
import type { ResolvedBins } from './prereq';

export interface ToolServer {
  id: string;
  port: number;
  argv: (bins: ResolvedBins) => string[];
}

function fortio(port: number) {
  // Only the HTTP port: the gRPC/redirect/TCP/UDP echo listeners would collide between the two instances.
  return (b: ResolvedBins) => [
    b.fortio, 'server', '-http-port', String(port),
    '-grpc-port', 'disabled', '-redirect-port', 'disabled', '-tcp-port', 'disabled', '-udp-port', 'disabled',
  ];
}

export const TOOL_SERVERS: ToolServer[] = [
  { id: 'iperf3-5201', port: TOOL_PORTS.iperfPod, argv: (b) => [b.iperf3, '-s', '-p', String(TOOL_PORTS.iperfPod)] },
  { id: 'iperf3-5202', port: TOOL_PORTS.iperfHost, argv: (b) => [b.iperf3, '-s', '-p', String(TOOL_PORTS.iperfHost)] },
  { id: 'netserver', port: TOOL_PORTS.netperf, argv: (b) => [b.netserver, '-D', '-N', '-p', String(TOOL_PORTS.netperf)] },
  { id: 'fortio-8080', port: TOOL_PORTS.fortioServer, argv: fortio(TOOL_PORTS.fortioServer) },
  { id: 'fortio-9999', port: TOOL_PORTS.fortioClientRest, argv: fortio(TOOL_PORTS.fortioClientRest) },
];

export async function startToolServers(p: LabPaths, bins: ResolvedBins): Promise<void> {
  for (const t of TOOL_SERVERS) {
    await startDaemon(p, { id: t.id, netns: p.netns, argv: t.argv(bins), cwd: p.execDir });
  }
}

export async function stopToolServers(p: LabPaths): Promise<void> {
  for (const t of TOOL_SERVERS) await stopDaemon(p, t.id, 2_000);
}
