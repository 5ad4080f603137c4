// The workflow bundle's entry: workflows only.
export { benchmarkRun } from './benchmark';
export { serviceScaleStep } from './scale';
export { compareClusters } from './compare';
