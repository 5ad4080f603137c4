// The measurement drivers by tool: the measure activity (and the catalogue's
// unit test) look a scenario's driver up here.
//
// Pure: no node: imports, no Temporal.

import type { Scenario, Tool } from '../domain/scenarios';
import type { MeasureDriver } from './driver';
import { fortioDriver } from './fortio';
import { iperf3Driver } from './iperf3';
import { netperfDriver } from './netperf';

export type { MeasureDriver, RunTarget, Sample, ToolOutput } from './driver';

const DRIVERS: { [T in Tool]: MeasureDriver<Extract<Scenario, { tool: T }>> } = {
  iperf3: iperf3Driver,
  fortio: fortioDriver,
  netperf: netperfDriver,
};

/** The driver of a scenario's tool. */
export function driverFor<S extends Scenario>(s: S): MeasureDriver<S> {
  return DRIVERS[s.tool] as unknown as MeasureDriver<S>;
}
