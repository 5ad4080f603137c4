// iperf3: argv of the client (JSON mode) and the server, and the parser of
// `iperf3 -J` output. Throughput is what the receiver got
// (end.sum_received), as in the reference.
//
// Facts checked against iperf 3.12 (Debian):
// - With -J, a failed run still prints a JSON document with an "error"
//   field (e.g. "unable to connect to server: Connection refused") and the
//   process EXITS 0. The exit code therefore says nothing; the parser must
//   look at "error".
// - With --logfile the JSON goes to the file and stdout stays empty.
// - The "start" object repeats some keys (sock_bufsize, sndbuf_actual);
//   JSON.parse keeps the last one, which is harmless here.
//
// Pure: no node: imports, no Temporal.

import { z } from 'zod';
import { ToolOutputError } from './errors';
import { hostSchema, portSchema, round2, secondsSchema } from './inputs';
import { readToolJson, validateToolJson } from './json';
import type { IperfScenario } from '../domain/scenarios';
import type { MeasureDriver } from './driver';

const TOOL = 'iperf3';

const clientOptions = z.object({
  host: hostSchema,
  port: portSchema,
  seconds: secondsSchema,
  // iperf3 refuses more than 128 parallel streams.
  streams: z.number().int().min(1).max(128),
  logfile: z.string().min(1).optional(),
});
export type Iperf3ClientOptions = z.input<typeof clientOptions>;

/** `iperf3 -c host -p port -t s -P n -J [--logfile f]` */
export function iperf3ClientArgs(options: Iperf3ClientOptions): string[] {
  const o = clientOptions.parse(options);
  return [
    'iperf3',
    '-c',
    o.host,
    '-p',
    String(o.port),
    '-t',
    String(o.seconds),
    '-P',
    String(o.streams),
    '-J',
    ...(o.logfile ? ['--logfile', o.logfile] : []),
  ];
}

const serverOptions = z.object({
  /** omitted: iperf3's default 5201 */
  port: portSchema.optional(),
  /** Exit after one test (-1); handy in tests, not for long-lived pods. */
  oneOff: z.boolean().optional(),
  /** Listen address (-B); default: all addresses. */
  bind: hostSchema.optional(),
});
export type Iperf3ServerOptions = z.input<typeof serverOptions>;

/** `iperf3 -s [-p port] [-1] [-B addr]` */
export function iperf3ServerArgs(options: Iperf3ServerOptions = {}): string[] {
  const o = serverOptions.parse(options);
  return [
    'iperf3',
    '-s',
    ...(o.port !== undefined ? ['-p', String(o.port)] : []),
    ...(o.oneOff ? ['-1'] : []),
    ...(o.bind ? ['-B', o.bind] : []),
  ];
}

const sumSchema = z.object({
  seconds: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  bits_per_second: z.number().nonnegative(),
  retransmits: z.number().int().nonnegative().optional(),
});

const reportSchema = z.object({
  start: z.object({
    test_start: z.object({
      protocol: z.string(),
      num_streams: z.number().int().positive(),
      duration: z.number().nonnegative(),
    }),
  }),
  end: z.object({
    sum_sent: sumSchema,
    sum_received: sumSchema,
  }),
});

export interface Iperf3Result {
  /** Received throughput in Gbit/s, 2 decimals (the reference's figure). */
  gbps: number;
  /** end.sum_received.bits_per_second, unrounded. */
  bitsPerSecond: number;
  /** end.sum_sent.bits_per_second. */
  sentBitsPerSecond: number;
  /** TCP retransmissions seen by the sender (absent when the OS does not report them). */
  retransmits?: number;
  /** Parallel streams the test ran (-P). */
  streams: number;
  /** Measured duration of the receive side, in seconds. */
  seconds: number;
  /** Duration asked for with -t. */
  requestedSeconds: number;
  bytesReceived: number;
}

/**
 * Parses `iperf3 -J` output of a TCP test. Throws ToolOutputError:
 * "empty output", "truncated JSON", "iperf3 error: <iperf3's message>",
 * "unsupported protocol <P>" or "unexpected JSON shape at <path>: …".
 */
export function parseIperf3Json(text: string): Iperf3Result {
  const doc = readToolJson(TOOL, text);
  // A run that failed, even part-way, carries "error"; its figures (if any)
  // cover an unknown part of the test, so none are returned.
  if (doc !== null && typeof doc === 'object' && 'error' in doc) {
    const error = (doc as { error: unknown }).error;
    throw new ToolOutputError(TOOL, `iperf3 error: ${String(error)}`);
  }
  const r = validateToolJson(TOOL, reportSchema, doc);
  if (r.start.test_start.protocol !== 'TCP') {
    // UDP reports put the totals in end.sum, not sum_sent/sum_received.
    throw new ToolOutputError(TOOL, `unsupported protocol ${r.start.test_start.protocol}`);
  }
  const received = r.end.sum_received;
  const sent = r.end.sum_sent;
  return {
    gbps: round2(received.bits_per_second / 1e9),
    bitsPerSecond: received.bits_per_second,
    sentBitsPerSecond: sent.bits_per_second,
    ...(sent.retransmits !== undefined ? { retransmits: sent.retransmits } : {}),
    streams: r.start.test_start.num_streams,
    seconds: received.seconds,
    requestedSeconds: r.start.test_start.duration,
    bytesReceived: received.bytes,
  };
}

/** The iperf3 driver: a TCP test of the scenario's streams; the sample's value is the received Gbps. */
export const iperf3Driver: MeasureDriver<IperfScenario> = {
  tool: 'iperf3',
  argv: (s, t) => iperf3ClientArgs({ host: t.ip, port: s.port, seconds: t.seconds, streams: s.streams }),
  parse: ({ stdout }) => {
    // With -J everything, errors included, is in the JSON on stdout (stderr says nothing more).
    const r = parseIperf3Json(stdout);
    return {
      value: r.gbps,
      figures: { gbps: r.gbps, bitsPerSecond: r.bitsPerSecond, ...(r.retransmits !== undefined ? { retransmits: r.retransmits } : {}) },
    };
  },
};
