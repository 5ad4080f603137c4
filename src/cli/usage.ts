/**
 * What every command shares: the usage error (exit status 2, printed without
 * a stack) and the Temporal flags with -h.
 */
import { temporalFlagOptions, temporalTargetFrom, type TemporalTarget } from './connect';

/** Bad input from the user: the dispatcher prints the message and exits with status 2. */
export class UsageError extends Error {}

export const COMMON_FLAGS = {
  ...temporalFlagOptions,
  help: { type: 'boolean', short: 'h' },
} as const;

/** The Temporal target of a command's flags (and the environment). */
export function target(values: Record<string, unknown>): TemporalTarget {
  return temporalTargetFrom(values, process.env);
}
