/**
 * What a run changed in the cluster and must put back, kept as a list of
 * compensations (the saga pattern): each change registers its undo when it
 * is made and withdraws it when the run's own script undid it; whatever is
 * left runs in the non-cancellable block at the end, in a fixed order (the
 * LB map shrinks only once the dummy Services are gone). Each undo's
 * retries are its activity's; what still fails is recorded with what the
 * user must do by hand, never swallowed.
 */
import type { UndoRecord } from '../domain/results';
import { failureReason, longActivities } from './common';

/** The order undo steps run in. */
export const UNDO_ORDER = ['hubble', 'policy', 'namespaces', 'lb-map'] as const;
export type UndoId = (typeof UNDO_ORDER)[number];

export interface Compensation {
  what: string;
  /** what to do by hand if it fails */
  manual: string;
  /** false: nothing was done (not recorded) */
  run: () => Promise<unknown>;
  /** the step records its own outcome (cleanup has its own place in the results) */
  recordsItself?: boolean;
}

export class Compensations {
  private readonly pending = new Map<UndoId, Compensation>();
  readonly records: UndoRecord[] = [];

  /** A change was made: this is how to undo it. */
  add(id: UndoId, c: Compensation): void {
    this.pending.set(id, c);
  }

  /** The run's script undid the change itself. */
  done(id: UndoId): void {
    this.pending.delete(id);
  }

  has(id: UndoId): boolean {
    return this.pending.has(id);
  }

  /** Run every pending undo in UNDO_ORDER; record each outcome. */
  async runAll(): Promise<UndoRecord[]> {
    for (const id of UNDO_ORDER) {
      const c = this.pending.get(id);
      if (!c) continue;
      this.pending.delete(id);
      try {
        const r = await c.run();
        if (!c.recordsItself && r !== false) this.records.push({ what: c.what, ok: true });
      } catch (err) {
        this.records.push({ what: c.what, ok: false, reason: failureReason(err), manual: c.manual });
      }
    }
    return this.records;
  }
}

/** Put bpf-lb-map-max back as it was (remove it if it was not set) and roll the agents. */
export function restoreLbMap(previous: string | undefined): Compensation {
  const restart = 'kubectl -n kube-system rollout restart ds/cilium';
  return {
    what: `cilium-config bpf-lb-map-max back to ${previous ?? '(unset)'}, Cilium restarted`,
    manual:
      previous === undefined
        ? `kubectl -n kube-system patch configmap cilium-config --type=json -p '[{"op":"remove","path":"/data/bpf-lb-map-max"}]' && ${restart}`
        : `kubectl -n kube-system patch configmap cilium-config -p '{"data":{"bpf-lb-map-max":"${previous}"}}' && ${restart}`,
    run: () => longActivities('restore bpf-lb-map-max, roll the agents').restoreCiliumConfig({ key: 'bpf-lb-map-max', previous, timeoutSec: 300 }),
  };
}
