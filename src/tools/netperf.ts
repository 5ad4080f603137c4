// netperf/netserver: argv of the TCP_RR / TCP_CRR latency tests and of the
// server, and the parser of netperf's CSV output selection (-o ...).
//
// Facts checked against netperf 2.7.0 (Debian):
// - Output: a banner line ("MIGRATED TCP REQUEST/RESPONSE TEST ..."), a
//   header line of selector names, then one CSV line of values:
//   "11,14.53,12,13,44,4628,68639.33". Latencies are microseconds,
//   THROUGHPUT is transactions per second.
// - When no netserver listens, netperf exits 255 and prints, ON STDOUT,
//   "establish control: are you sure there is a netserver listening on
//   <host> at port <port>?" followed by an establish_control line.
// - An unknown selector yields empty fields ("11,,"), not an error.
// - Besides the control port (-p, default 12865) every test opens a data
//   connection to a port the netserver picks, so a firewall/policy must
//   allow more than the control port.
//
// Pure: no node: imports, no Temporal.

import { z } from 'zod';
import { ToolOutputError, reasonFromLine } from './errors';
import { hostSchema, portSchema, secondsSchema } from './inputs';
import type { NetperfScenario } from '../domain/scenarios';
import type { MeasureDriver } from './driver';

const TOOL = 'netperf';

/** The reference's output selection, in this order. */
export const NETPERF_OUTPUT_SELECTORS = [
  'MIN_LATENCY',
  'MEAN_LATENCY',
  'P50_LATENCY',
  'P90_LATENCY',
  'P99_LATENCY',
  'MAX_LATENCY',
  'THROUGHPUT',
] as const;

export const netperfTestSchema = z.enum(['TCP_RR', 'TCP_CRR']);
export type NetperfTest = z.infer<typeof netperfTestSchema>;

const clientOptions = z.object({
  host: hostSchema,
  test: netperfTestSchema,
  seconds: secondsSchema,
  /** Control port of netserver; omitted = netperf's default 12865. */
  port: portSchema.optional(),
});
export type NetperfOptions = z.input<typeof clientOptions>;

/**
 * `netperf -H host [-p port] -t TEST -l s -- -r 1,1 -o <selectors>`
 * (global options before "--", test-specific ones after it).
 */
export function netperfArgs(options: NetperfOptions): string[] {
  const o = clientOptions.parse(options);
  return [
    'netperf',
    '-H',
    o.host,
    ...(o.port !== undefined ? ['-p', String(o.port)] : []),
    '-t',
    o.test,
    '-l',
    String(o.seconds),
    '--',
    '-r',
    '1,1',
    '-o',
    NETPERF_OUTPUT_SELECTORS.join(','),
  ];
}

const serverOptions = z.object({
  port: portSchema.optional(),
  /** Listen address (-L); default: all addresses. */
  listen: hostSchema.optional(),
});
export type NetserverOptions = z.input<typeof serverOptions>;

/** `netserver -D [-p port] [-L addr]` — -D keeps it in the foreground (as in a pod). */
export function netserverArgs(options: NetserverOptions = {}): string[] {
  const o = serverOptions.parse(options);
  return [
    'netserver',
    '-D',
    ...(o.port !== undefined ? ['-p', String(o.port)] : []),
    ...(o.listen ? ['-L', o.listen] : []),
  ];
}

export interface NetperfResult {
  minUs: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  /** Transactions per second (for TCP_CRR: connections per second). */
  throughput: number;
}

const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/** Lines netperf prints when a run fails; the first one found becomes the reason. */
const FAILURE = /establish control|establish_control|netserver|refused|unreachable|timed out|no response|failed|error|unable|cannot|could not/i;

/**
 * Parses netperf output (stdout, or stdout + stderr) from the LAST line of
 * 7 numeric CSV fields, in NETPERF_OUTPUT_SELECTORS order. Throws
 * ToolOutputError: "empty output", the first failure line netperf printed
 * (e.g. "establish control: are you sure there is a netserver listening on
 * 10.0.0.5 at port 12865?"), or "no CSV line".
 */
export function parseNetperfCsv(text: string): NetperfResult {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) throw new ToolOutputError(TOOL, 'empty output');
  for (let i = lines.length - 1; i >= 0; i--) {
    const fields = lines[i].split(',').map((f) => f.trim());
    if (fields.length === NETPERF_OUTPUT_SELECTORS.length && fields.every((f) => NUMBER.test(f))) {
      const [minUs, meanUs, p50Us, p90Us, p99Us, maxUs, throughput] = fields.map(Number);
      return { minUs, meanUs, p50Us, p90Us, p99Us, maxUs, throughput };
    }
  }
  const failure = lines.find((l) => FAILURE.test(l));
  throw new ToolOutputError(TOOL, failure ? reasonFromLine(failure) : 'no CSV line');
}

/** The netperf driver: TCP_RR or TCP_CRR to the netserver; the sample's value is the p99 latency in µs. */
export const netperfDriver: MeasureDriver<NetperfScenario> = {
  tool: 'netperf',
  argv: (s, t) => netperfArgs({ host: t.ip, test: s.test, seconds: t.seconds }),
  // netperf prints its failures on stdout or stderr depending on the error: read both
  parse: ({ stdout, stderr }) => {
    const r = parseNetperfCsv(`${stdout}\n${stderr}`);
    return { value: r.p99Us, figures: { ...r } };
  },
};
