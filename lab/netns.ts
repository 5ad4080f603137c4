/**
 * The lab's network namespace: only a loopback device, no link to the
 * outside and no default route, so nothing started in it can reach any
 * address beyond the namespace (a connect to any other address fails with
 * "network unreachable" before a packet is sent).
 */
import { readFileSync } from 'node:fs';
import { CONTROL_PLANE_IP, NODE_NET, POD_CIDR, SERVICE_CIDR, SERVICE_SOURCE_IP } from './config';
import { run } from './run';

export async function netnsExists(netns: string): Promise<boolean> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  return stdout.split('\n').some((line) => line.split(' ')[0] === netns);
}

/** Create the namespace and its address plan (see config.ts); safe to call again. */
export async function ensureNetns(netns: string): Promise<void> {
  if (!(await netnsExists(netns))) await run(['ip', 'netns', 'add', netns]);
  const ip = (...args: string[]) => run(['ip', '-n', netns, ...args]);
  await ip('link', 'set', 'lo', 'up');
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
