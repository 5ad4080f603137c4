/**
 * The lab's network namespace: only a loopback device, no link to the
 * outside and no default route, so nothing started in it can reach any
 * address beyond the namespace (a connect to any other address fails with
 * "network unreachable" before a packet is sent).
 */
import { readFileSync } from 'node:fs';
import { CONTROL_PLANE_IP, NODE_NET, POD_CIDR, SERVICE_CIDR, SERVICE_SOURCE_IP, type LabNetwork } from './config';
import { run } from './run';

/** Names of the network namespaces (`ip netns list`; a line is "<name> (id: N)" or "<name>"). */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter(Boolean);
}

export async function netnsExists(netns: string): Promise<boolean> {
  return (await listNetns()).includes(netns);
}

/**
 * Create the namespace and its address plan (see config.ts); safe to call
 * again. With the `pods` network only `lo` is set up here: the node network
 * is a bridge (lab/pod-network.ts) and pod IPs live in the pods' namespaces.
 */
export async function ensureNetns(netns: string, network: LabNetwork = 'shared'): Promise<void> {
  if (!(await netnsExists(netns))) await run(['ip', 'netns', 'add', netns]);
  const ip = (...args: string[]) => run(['ip', '-n', netns, ...args]);
  await ip('link', 'set', 'lo', 'up');
  if (network === 'pods') return;
  // An address (not just a local route) on lo: MASQUERADE needs a
  // global-scope source address, and kube-proxy masquerades node-originated
  // Service traffic (e.g. to the `kubernetes` Service).
  const prefix = NODE_NET.split('/')[1];
  const addrs = (await ip('-4', 'addr', 'show', 'dev', 'lo')).stdout;
  if (!addrs.includes(`${CONTROL_PLANE_IP}/${prefix}`)) await ip('addr', 'add', `${CONTROL_PLANE_IP}/${prefix}`, 'dev', 'lo');
  await ip('route', 'replace', 'local', POD_CIDR, 'dev', 'lo', 'table', 'local');
  // Not `local`: a ClusterIP must only answer through kube-proxy's DNAT.
  await ip('route', 'replace', SERVICE_CIDR, 'dev', 'lo', 'src', SERVICE_SOURCE_IP);
}

/** Pids of every process inside the namespace. */
export async function netnsPids(netns: string): Promise<number[]> {
  if (!(await netnsExists(netns))) return [];
  const { stdout } = await run(['ip', 'netns', 'pids', netns], { allowFailure: true });
  return stdout
    .split('\n')
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n) && n > 1 && n !== process.pid);
}

export async function deleteNetns(netns: string): Promise<void> {
  if (await netnsExists(netns)) await run(['ip', 'netns', 'del', netns]);
}

/** Program name of a pid, for messages. */
export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** A tc rate: digits, optional fraction, a unit tc knows (bit, kbit, mbit, gbit). */
export const SHAPE_RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$/;

const RATE_UNIT_BITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };

/** Bits per second of a tc rate such as "500mbit". */
export function shapeRateBits(rate: string): number {
  const m = SHAPE_RATE.exec(rate);
  if (!m) throw new Error(`rate must look like 500mbit or 2gbit (a number and bit|kbit|mbit|gbit), not "${rate}"`);
  const bits = Number(m[1]) * RATE_UNIT_BITS[m[2]!]!;
  if (!(bits >= 1e6)) throw new Error(`rate ${rate} is below 1mbit: the lab's control traffic shares this link`);
  return bits;
}

/**
 * Caps everything that crosses the namespace's loopback (every pod-to-pod
 * and via-Service flow of the lab) at `rate` with a token-bucket qdisc, or
 * removes the cap (rate undefined). It exists to rehearse a regression: a
 * run under a cap measures less throughput than the run before it.
 */
export async function shapeLoopback(netns: string, rate: string | undefined): Promise<void> {
  await shapeDevice(netns, 'lo', rate);
}

/** A token-bucket cap on a device's egress (rate undefined: none). */
export async function shapeDevice(netns: string, dev: string, rate: string | undefined): Promise<void> {
  if (!(await netnsExists(netns))) throw new Error(`network namespace ${netns} does not exist (is the lab up?)`);
  if (rate === undefined) {
    await run(['ip', 'netns', 'exec', netns, 'tc', 'qdisc', 'del', 'dev', dev, 'root'], { allowFailure: true });
    return;
  }
  const bits = shapeRateBits(rate);
  // The bucket must hold at least one loopback packet (MTU 65,536) and ~10 ms at the rate.
  const burstBytes = Math.max(256 * 1024, Math.ceil(bits / 8 / 100));
  await run(['ip', 'netns', 'exec', netns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', String(burstBytes), 'latency', '50ms']);
}

/** The namespace's current loopback cap ("500Mbit"), or null when there is none. */
export async function loopbackShape(netns: string): Promise<string | null> {
  return deviceShape(netns, 'lo');
}

/** A device's current tbf cap ("500Mbit"), or null. */
export async function deviceShape(netns: string, dev: string): Promise<string | null> {
  if (!(await netnsExists(netns))) return null;
  const { stdout } = await run(['ip', 'netns', 'exec', netns, 'tc', 'qdisc', 'show', 'dev', dev], { allowFailure: true });
  const m = /qdisc tbf \S+ root .*?\brate (\S+)/.exec(stdout);
  return m ? m[1]! : null;
}
