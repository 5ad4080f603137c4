// The one shape every measurement tool has (iperf3, fortio, netperf): the
// argv of a catalogue scenario against a target, and the parse of what the
// run printed into one sample type. The measure activity looks the driver
// up by the scenario's tool (tools/index.ts) instead of switching on it.
//
// Pure: no node: imports, no Temporal.

import type { Scenario } from '../domain/scenarios';

/** What one tool run measured: the scenario's headline figure and every figure parsed. */
export interface Sample {
  /** Gbps (iperf3), req/s (fortio), p99 µs (netperf): the catalogue row's headlineFigure */
  value: number;
  figures: Record<string, number>;
}

/** Where a run points and how long it lasts. */
export interface RunTarget {
  /** address of the scenario's target (an IP; IPv6 without brackets) */
  ip: string;
  seconds: number;
}

/** What the run printed. */
export interface ToolOutput {
  stdout: string;
  stderr: string;
}

export interface MeasureDriver<S extends Scenario = Scenario> {
  tool: S['tool'];
  /** the command run in the scenario's client pod */
  argv(s: S, target: RunTarget): string[];
  /** throws ToolOutputError when the output holds no figure */
  parse(out: ToolOutput): Sample;
}
