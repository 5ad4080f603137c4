/** Where the binaries built by scripts/setup.sh live (the cache, keyed by version). */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function versions(): Record<string, string> {
  const text = readFileSync(path.join(root, 'scripts/versions.env'), 'utf8');
  return Object.fromEntries(text.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=') as [string, string]));
}

export function cacheDir(): string {
  return process.env.NETBENCH_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'netbench');
}

/** Absolute path of a built binary, or a clear error saying how to build it. */
export function builtBinary(component: 'temporal' | 'fortio' | 'kubernetes' | 'etcd' | 'kwok' | 'metrics-server', name: string): string {
  const v = versions();
  const key = { temporal: 'TEMPORAL_CLI_VERSION', fortio: 'FORTIO_VERSION', kubernetes: 'KUBERNETES_VERSION', etcd: 'ETCD_VERSION', kwok: 'KWOK_VERSION', 'metrics-server': 'METRICS_SERVER_VERSION' }[component];
  const p = path.join(cacheDir(), `${component}-${v[key]}`, 'bin', name);
  if (!existsSync(p)) throw new Error(`${p} is missing: run scripts/setup.sh first`);
  return p;
}

export const repoRoot = root;
