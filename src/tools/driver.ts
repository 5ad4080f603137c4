// The two shapes of a tool. A measurement tool (iperf3, fortio, netperf) is
// a MeasureDriver: the argv of a catalogue scenario against a target, and
// the parse of what the run printed into one sample type; the measure
// activity looks the driver up by the scenario's tool (tools/index.ts). A
// datapath tool (iptables-save, nft, bpftool, cilium) answers questions
// about the datapath: each question is a Probe, its argv and the parse of
// what it printed.
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

/** One question asked of a datapath tool inside the datapath pod (a rule count, the BPF maps, the tunnel mode). */
export interface Probe<R> {
  tool: string;
  argv(): string[];
  /** throws ToolOutputError when the output does not answer the question */
  parse(out: ToolOutput): R;
}
