/**
 * config + cluster facts -> the ordered phases of a run, with every skipped
 * phase and its reason, and the number of work units (for progress bars).
 * Pure: the workflow calls it to decide what to run.
 */
import type { PhaseName, RunOptions } from '../config';
import type { ClusterType } from './results';
import { roundsOf, SCALE_SCENARIOS, scenariosOf, type Scenario } from './scenarios';

export interface PlannedPhase {
  phase: PhaseName;
  run: boolean;
  reason?: string;
  /** measurements (tool runs) this phase will make */
  measurements: number;
}

export interface Plan {
  phases: PlannedPhase[];
  /** total tool runs + scale steps + metric collections: the denominator of progress */
  totalUnits: number;
}

export const isCilium = (t: ClusterType) => t.startsWith('cilium-');

/** The catalogue's scenariosOf (plan.ts had a copy), re-exported for the workflow and tests that plan with this module. */
export { scenariosOf };

/** The catalogue's roundsOf, re-exported for the workflow and tests that plan with this module. */
export { roundsOf };

/**
 * `measures`: which catalogue rows this run measures (the workflow leaves out a row added after the history it replays);
 * `since`: which `roundsSince` patches the run has (the workflow's patched(); by default all)
 */
export function buildPlan(o: RunOptions, clusterType: ClusterType, measures: (s: Scenario) => boolean = () => true, since: (patchId: string) => boolean = () => true): Plan {
  const phases: PlannedPhase[] = [];
  const order: PhaseName[] = ['throughput', 'rps', 'latency', 'hubble', 'networkpolicy', 'service-scale', 'metrics'];
  for (const phase of order) {
    let run = true;
    let reason: string | undefined;
    if (o.skip.includes(phase)) {
      run = false;
      reason = 'left out by --skip';
    } else if ((phase === 'hubble' || phase === 'networkpolicy') && !isCilium(clusterType)) {
      run = false;
      reason = `Cilium only; this cluster is ${clusterType}`;
    }
    let measurements = 0;
    if (phase === 'service-scale') {
      measurements = o.svcScaleSteps.length * SCALE_SCENARIOS.filter(measures).reduce((a, s) => a + roundsOf(s, o.rounds, since), 0);
    } else if (phase !== 'metrics') {
      measurements = scenariosOf(phase).filter(measures).reduce((a, s) => a + roundsOf(s, o.rounds, since), 0);
    }
    phases.push({ phase, run, reason, measurements: run ? measurements : 0 });
  }
  const totalUnits =
    phases.reduce((a, p) => a + p.measurements, 0) +
    (phases.find((p) => p.phase === 'service-scale')?.run ? o.svcScaleSteps.length : 0) +
    (phases.find((p) => p.phase === 'metrics')?.run ? 1 : 0);
  return { phases, totalUnits };
}

/**
 * LB-map entries one ClusterIP Service takes in Cilium: a frontend, a
 * wildcard `<ip>:0/ANY` entry, and one per endpoint (counted on the real
 * agent, v1.19.4: test/unit/tools/cilium-real.test.ts). The reference
 * counted endpoints + 1 and so proposed a map ~20% too small at 4 endpoints.
 */
export function lbEntriesPerService(endpoints: number): number {
  return endpoints + 2;
}

/** LB entries Cilium needs for the largest step. */
export function lbEntriesNeeded(o: RunOptions): number {
  return Math.max(...o.svcScaleSteps) * lbEntriesPerService(o.svcEndpoints);
}

/** The reference's sync sleep (kept only for comparison in the report: we measure instead). */
export function referenceSyncSleepSecs(svcCount: number, endpoints: number): number {
  return Math.min(180, 60 + Math.floor((svcCount * endpoints) / 1000));
}
