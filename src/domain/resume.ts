/**
 * Resuming a run that did not finish: what an earlier run completed is
 * adopted (each figure keeps the id of the run that measured it), and only
 * what is missing is measured again.
 *
 * Granularity, chosen so every figure is honest:
 * - a fixed-phase scenario round is adopted when it has a figure (a failed
 *   one is measured again: it is missing, not done);
 * - the Hubble and NetworkPolicy phases are adopted only whole: their
 *   figures are pairs measured minutes apart under the same conditions;
 * - a Service-scale step is adopted only whole (every figure of a step
 *   belongs to one convergence state);
 * - component metrics are always measured again (they describe the end
 *   state of the run that reports them).
 *
 * Pure: used by the workflow and the history activity.
 */
import type { PhaseName } from '../config';
import type { Measurement, ScaleStepResult } from './results';

export interface Adopted {
  /** the run whose work is adopted (and, for a chain of resumes, the runs before it) */
  fromWorkflowId: string;
  /** figures with `adoptedFrom` set to the run that measured them */
  measurements: Measurement[];
  steps: ScaleStepResult[];
}

export interface ResumeRecord {
  fromWorkflowId: string;
  adoptedMeasurements: number;
  adoptedSteps: number[];
  /** tool and step time the adopted work had cost (an estimate of the time saved) */
  secondsSaved: number;
}

/** Phases whose figures are adopted only all together. */
export const ADOPT_WHOLE: readonly PhaseName[] = ['hubble', 'networkpolicy'];

const key = (scenario: string, round: number) => `${scenario}#${round}`;

export class AdoptedWork {
  private readonly byKey = new Map<string, Measurement>();
  private readonly bySteps = new Map<number, ScaleStepResult>();
  readonly used: { measurements: number; steps: number[]; seconds: number } = { measurements: 0, steps: [], seconds: 0 };

  constructor(readonly adopted: Adopted | undefined) {
    for (const m of adopted?.measurements ?? []) if (m.ok && m.step === undefined) this.byKey.set(key(m.scenario, m.round), m);
    for (const s of adopted?.steps ?? []) this.bySteps.set(s.svcCount, s);
  }

  /** The adopted figure of one fixed-phase round, if any (counted as used). */
  take(scenario: string, round: number): Measurement | undefined {
    const m = this.byKey.get(key(scenario, round));
    if (m) {
      this.used.measurements++;
      this.used.seconds += m.seconds ?? 0;
    }
    return m;
  }

  /** Whether every (scenario, round) given has an adopted figure. */
  hasAll(rounds: { scenario: string; round: number }[]): boolean {
    return rounds.length > 0 && rounds.every((r) => this.byKey.has(key(r.scenario, r.round)));
  }

  /** An adopted scale step, if any (counted as used). */
  step(svcCount: number): ScaleStepResult | undefined {
    const s = this.bySteps.get(svcCount);
    if (s) {
      this.used.steps.push(svcCount);
      this.used.seconds += s.createSeconds + s.convergence.seconds + s.measurements.reduce((a, m) => a + (m.seconds ?? 0), 0);
    }
    return s;
  }

  record(): ResumeRecord | undefined {
    if (!this.adopted) return undefined;
    return {
      fromWorkflowId: this.adopted.fromWorkflowId,
      adoptedMeasurements: this.used.measurements,
      adoptedSteps: [...this.used.steps],
      secondsSaved: Math.round(this.used.seconds),
    };
  }
}
