// Input checks shared by the argv builders. The argv goes straight to a pod's
// exec API, so a value that starts with "-" could smuggle in an option, and a
// non-integer port or duration would make the tool fail minutes later with a
// less helpful message. zod throws a ZodError on bad input: builders are fed
// from a validated config, so a throw here is a programming error.
//
// Pure: no node: imports, no Temporal.

import { z } from 'zod';

export const hostSchema = z
  .string()
  .min(1)
  .refine((s) => !s.startsWith('-') && !/\s/.test(s), 'host must not start with "-" or contain spaces');

export const portSchema = z.number().int().min(1).max(65535);

/** Whole seconds, at least 1 (all the tools here take whole seconds). */
export const secondsSchema = z.number().int().min(1);

/** Name of an executable inside a container (e.g. cilium vs cilium-dbg). */
export const binarySchema = z
  .string()
  .min(1)
  .refine((s) => !s.startsWith('-') && !/\s/.test(s), 'binary must not start with "-" or contain spaces');

/** Rounds to 2 decimals, as the reference printed Gbps. */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
