/** What the lab needs on this machine, and a message that says how to get what is missing. */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const NEEDS: Record<string, { bins: string[]; how: string }> = {
  kube: {
    bins: ['kwokctl', 'kwok', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubectl', 'metrics-server'],
    how: 'run `scripts/setup.sh kube` (builds the control plane, kwok and metrics-server into the cache)',
  },
  go: { bins: ['fortio'], how: 'run `scripts/setup.sh go` (builds fortio)' },
  apt: {
    bins: ['iperf3', 'netperf', 'netserver', 'iptables', 'iptables-save', 'nft', 'ip'],
    how: 'run `scripts/setup.sh apt` (Debian: iperf3, netperf, iptables, nftables, iproute2)',
  },
};

export type ResolvedBins = Record<string, string>;

export function which(bin: string, envPath = process.env.PATH ?? ''): string | null {
  for (const dir of envPath.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}

/** Absolute path of every binary the lab runs; throws one message listing all that is missing. */
export function checkPrerequisites(): ResolvedBins {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('the lab needs root (network namespaces, iptables): run it as root');
  const found: ResolvedBins = {};
  for (const { bins, how } of Object.values(NEEDS)) {
    const missing: string[] = [];
    for (const b of bins) {
      const p = which(b);
      if (p) found[b] = p;
      else missing.push(b);
    }
    if (missing.length) problems.push(`missing ${missing.join(', ')}: ${how}`);
  }
  if (problems.length) {
    throw new Error(
      `the lab cannot start:\n  - ${problems.join('\n  - ')}\n` +
        'then `source scripts/env.sh` so the built binaries are on PATH.',
    );
  }
  return found;
}
