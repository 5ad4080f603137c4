/**
 * Wraps the real CoreV1Api of a client bundle to count calls and error
 * codes per method: the apiserver stays real, we only look at what was
 * asked of it and what it answered.
 */
import type { KubeClients } from '../../src/kube/client';

export interface CallCounts {
  /** Calls per CoreV1Api method name. */
  calls: Map<string, number>;
  /** Error answers per HTTP status code. */
  errors: Map<number, number>;
}

export function countingCore(kube: KubeClients): { kube: KubeClients; counts: CallCounts } {
  const counts: CallCounts = { calls: new Map(), errors: new Map() };
  const core = new Proxy(kube.core, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        counts.calls.set(prop, (counts.calls.get(prop) ?? 0) + 1);
        return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args).catch((err: { code?: unknown }) => {
          if (typeof err?.code === 'number') counts.errors.set(err.code, (counts.errors.get(err.code) ?? 0) + 1);
          throw err;
        });
      };
    },
  });
  return { kube: { ...kube, core }, counts };
}
