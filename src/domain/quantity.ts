/** Kubernetes resource quantities as the metrics API reports them ("15234567n", "12m", "1", "204800Ki"). */

const CPU_SUFFIX: Record<string, number> = { n: 1e-6, u: 1e-3, m: 1, '': 1000 };
const MEM_SUFFIX: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
};

export function cpuMillicores(q: string): number {
  const m = /^([0-9.]+(?:e[+-]?\d+)?)(n|u|m|)$/.exec(q.trim());
  if (!m) throw new Error(`not a CPU quantity: "${q}"`);
  return Number(m[1]) * CPU_SUFFIX[m[2]];
}

export function memoryMiB(q: string): number {
  const m = /^([0-9.]+(?:e[+-]?\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)$/.exec(q.trim());
  if (!m) throw new Error(`not a memory quantity: "${q}"`);
  return (Number(m[1]) * MEM_SUFFIX[m[2]]) / 1024 ** 2;
}
