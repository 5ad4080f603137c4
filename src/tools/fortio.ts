// fortio: the driver (argv of `fortio load`, JSON on stdout, and its parse),
// the argv of `fortio server` (the fixtures' server and client pods), and the
// parser of fortio's JSON result (from `fortio load` or the REST API, which
// the reference used).
//
// Facts from fortio v1.75.3's sources (cli/fortio_main.go, rapi/restHandler.go,
// periodic/periodic.go, fhttp/httprunner.go):
// - `fortio load -json -` writes the JSON result to stdout; progress and the
//   final "All done ..." line go to stderr. -quiet only lowers stderr logging.
// - `fortio load` against a port where nothing listens aborts during warm-up
//   (exit 1, nothing on stdout, "Aborting because of error -1 for <url> ..."
//   on stderr, after JSON log lines with "err":"dial tcp …: connect:
//   connection refused") unless -allow-initial-errors is given.
// - Even with -quiet, stderr gets ~20 lines (the run summary is printed, not
//   logged); only stdout is JSON-only.
// - The REST API (/fortio/rest/run) always allows initial errors: against
//   an unreachable target it runs the whole duration and returns a result
//   whose RetCodes hold only -1 (socket error), and whose ActualQPS counts
//   those failures — the reference accepted that as a figure.
// - REST qps=0 means fortio's DEFAULT of 8 QPS, not "max"; max is -1. The
//   CLI maps -qps 0 to max (netbench runs the CLI over exec).
// - The REST API has no keepalive switch; "connection-reuse=min:max" caps
//   requests per connection, so "1:1" opens a new connection per request.
//   (There is no "connection-reuse-range-min/max" parameter.) The REST
//   handler ignores json=on; it always answers JSON.
// - Durations in the JSON are seconds (histograms) and nanoseconds
//   (ActualDuration); RequestedQPS is a string ("max" or a number).
//
// Failure rule of parseFortioJson (the reference silently accepted
// garbage): a run with no successful (2xx) request is an error —
// "server unreachable" when every request was a socket error (-1), else
// "all requests failed: HTTP 503×120, …". A run with some failures is
// returned with errorCount/errorPercent and okQps (successful requests per
// second) beside actualQps (fortio's ActualQPS, errors included); the caller
// decides how many errors it tolerates.
//
// Pure: no node: imports, no Temporal.

import { z } from 'zod';
import { ToolOutputError, reasonFromLine } from './errors';
import { secondsSchema } from './inputs';
import { readToolJson, validateToolJson } from './json';
import { fortioUrl, type FortioScenario } from '../domain/scenarios';
import type { MeasureDriver } from './driver';

const TOOL = 'fortio';

const urlSchema = z
  .string()
  .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL without spaces');

const loadOptions = z.object({
  url: urlSchema,
  /** Requests per second over all connections; 0 = as fast as possible. */
  qps: z.number().min(0),
  connections: z.number().int().min(1),
  seconds: secondsSchema,
  /** false = a new connection per request (short connections). */
  keepalive: z.boolean(),
  /** JSON result on stdout (the only mode we parse). */
  json: z.literal(true).optional(),
  /** -quiet: fewer log lines on stderr (over exec, less to stream). Default true. */
  quiet: z.boolean().optional(),
});
export type FortioLoadOptions = z.input<typeof loadOptions>;

/**
 * `fortio load [-quiet] -qps Q -c C -t Ns [-keepalive=false] -json - URL`
 * (-qps 0 is "max" for the CLI).
 */
export function fortioLoadArgs(options: FortioLoadOptions): string[] {
  const o = loadOptions.parse(options);
  return [
    'fortio',
    'load',
    ...(o.quiet === false ? [] : ['-quiet']),
    '-qps',
    String(o.qps),
    '-c',
    String(o.connections),
    '-t',
    `${o.seconds}s`,
    ...(o.keepalive ? [] : ['-keepalive=false']),
    '-json',
    '-',
    o.url,
  ];
}

/** A fortio port flag: a port, "host:port", or "disabled". */
const portFlag = z.union([z.number().int().min(1).max(65535), z.string().regex(/^(disabled|[^\s-][^\s]*)$/)]);

const serverOptions = z.object({
  /** -http-port: port or "host:port" (tests bind 127.0.0.1:<port>); omitted: fortio's default 8080. */
  httpPort: portFlag.optional(),
  grpcPort: portFlag.optional(),
  tcpPort: portFlag.optional(),
  udpPort: portFlag.optional(),
  redirectPort: portFlag.optional(),
  /** Disable every listener but HTTP (what the reference's client pod runs). Explicit ports win. */
  httpOnly: z.boolean().optional(),
});
export type FortioServerOptions = z.input<typeof serverOptions>;

/**
 * `fortio server [-http-port P] [-grpc-port …] [-tcp-port …] [-udp-port …] [-redirect-port …]`.
 * The client pod: `fortioServerArgs({ httpPort: 9999, httpOnly: true })`.
 */
export function fortioServerArgs(options: FortioServerOptions = {}): string[] {
  const o = serverOptions.parse(options);
  const off = o.httpOnly ? 'disabled' : undefined;
  const flags: Array<[string, string | number | undefined]> = [
    ['-http-port', o.httpPort],
    ['-grpc-port', o.grpcPort ?? off],
    ['-tcp-port', o.tcpPort ?? off],
    ['-udp-port', o.udpPort ?? off],
    ['-redirect-port', o.redirectPort ?? off],
  ];
  return ['fortio', 'server', ...flags.flatMap(([f, v]) => (v === undefined ? [] : [f, String(v)]))];
}

const histogramSchema = z.object({
  Count: z.number().int().nonnegative(),
  Min: z.number(),
  Max: z.number(),
  Avg: z.number(),
  Percentiles: z.array(z.object({ Percentile: z.number(), Value: z.number() })).optional(),
});

const resultSchema = z.object({
  RequestedQPS: z.string(),
  ActualQPS: z.number().nonnegative(),
  ActualDuration: z.number().nonnegative(),
  NumThreads: z.number().int().positive(),
  DurationHistogram: histogramSchema,
  RetCodes: z.record(z.string(), z.number().int().nonnegative()),
  SocketCount: z.number().int().nonnegative().optional(),
});

export interface FortioResult {
  /** fortio's ActualQPS: all requests (failures included) per second — the reference's figure. */
  actualQps: number;
  /** Successful (2xx) requests per second. */
  okQps: number;
  /** Asked-for QPS; 0 = max. */
  requestedQps: number;
  connections: number;
  durationSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Present when fortio computed p99.9 (its default percentile list has it). */
  p999Ms?: number;
  avgMs: number;
  /** Requests made (DurationHistogram.Count). */
  count: number;
  okCount: number;
  /** Requests without a 2xx answer, socket errors (-1) included. */
  errorCount: number;
  /** errorCount / count × 100, 2 decimals. */
  errorPercent: number;
  /** Connections opened (fortio's SocketCount), when reported. */
  socketCount?: number;
  /** HTTP status → count; "-1" = socket error. */
  retCodes: Record<string, number>;
}

function ms(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3; // µs resolution
}

function isOk(code: string): boolean {
  const n = Number(code);
  return n >= 200 && n <= 299;
}

/** Turns fortio's stderr into a reason when stdout carries no result. */
function reasonFromStderr(stderr: string): string | undefined {
  const line = stderr.split('\n').find((l) => /Aborting because of/.test(l));
  if (!line) return undefined;
  const what = line.slice(line.indexOf('Aborting because of') + 'Aborting because of'.length).trim();
  // fortio's code -1 is a socket error: nothing answered at the address. Its
  // log (JSON lines on stderr) says why, e.g. "dial tcp 10.96.0.10:8080:
  // connect: connection refused"; prefer that to the bare "error -1".
  if (/\berror -1\b/.test(what)) {
    const dial = /dial \w+ [^\s"]+: ([^"\n]+)/.exec(stderr);
    return `server unreachable: ${reasonFromLine(dial ? dial[1] : what)}`;
  }
  return `aborted: ${reasonFromLine(what)}`;
}

/**
 * Parses fortio's JSON result (from `fortio load -json -` or the REST API).
 * `stderr` (optional) lets a run that printed no JSON be explained.
 * Throws ToolOutputError: "empty output", "truncated JSON", "server
 * unreachable…", "aborted: …", "fortio error: …", "all requests failed: …",
 * "no requests", "missing p99 percentile" or "unexpected JSON shape …".
 */
export function parseFortioJson(text: string, { stderr = '' }: { stderr?: string } = {}): FortioResult {
  if (text.trim() === '') {
    throw new ToolOutputError(TOOL, reasonFromStderr(stderr) ?? 'empty output');
  }
  const doc = readToolJson(TOOL, text);
  // Init/warm-up failures come back as a result with error=true (REST) or
  // an ErrorReply {Error, Exception} from the REST handler.
  if (doc !== null && typeof doc === 'object') {
    const d = doc as Record<string, unknown>;
    if (d.error === true || typeof d.Error === 'string') {
      const parts = [d.message ?? d.Error, d.exception ?? d.Exception].filter((p) => typeof p === 'string' && p !== '');
      throw new ToolOutputError(TOOL, `fortio error: ${reasonFromLine(parts.join(': ') || 'unknown')}`);
    }
  }
  const r = validateToolJson(TOOL, resultSchema, doc);

  const count = r.DurationHistogram.Count;
  if (count === 0) throw new ToolOutputError(TOOL, 'no requests');
  const codes = Object.entries(r.RetCodes);
  const okCount = codes.filter(([c]) => isOk(c)).reduce((s, [, n]) => s + n, 0);
  if (okCount === 0) {
    if (codes.every(([c]) => c === '-1')) {
      throw new ToolOutputError(TOOL, `server unreachable: ${count} socket errors, no answer`);
    }
    const summary = codes
      .sort(([, a], [, b]) => b - a)
      .map(([c, n]) => (c === '-1' ? `socket error×${n}` : `HTTP ${c}×${n}`))
      .join(', ');
    throw new ToolOutputError(TOOL, `all requests failed: ${summary}`);
  }

  const pct = new Map((r.DurationHistogram.Percentiles ?? []).map((p) => [p.Percentile, p.Value]));
  const need = (p: number): number => {
    const v = pct.get(p);
    if (v === undefined) throw new ToolOutputError(TOOL, `missing p${p} percentile`);
    return ms(v);
  };
  const p999 = pct.get(99.9);
  const errorCount = codes.filter(([c]) => !isOk(c)).reduce((s, [, n]) => s + n, 0);
  const requested = r.RequestedQPS.trim().toLowerCase();
  return {
    actualQps: r.ActualQPS,
    // No errors: exactly ActualQPS (x*n/n is not always x in floating point).
    okQps: errorCount === 0 ? r.ActualQPS : (r.ActualQPS * okCount) / (okCount + errorCount),
    requestedQps: requested === 'max' ? 0 : Number(requested) || 0,
    connections: r.NumThreads,
    durationSec: r.ActualDuration / 1e9,
    p50Ms: need(50),
    p90Ms: need(90),
    p99Ms: need(99),
    ...(p999 !== undefined ? { p999Ms: ms(p999) } : {}),
    avgMs: ms(r.DurationHistogram.Avg),
    count,
    okCount,
    errorCount,
    errorPercent: Math.round((errorCount / (okCount + errorCount)) * 10000) / 100,
    ...(r.SocketCount !== undefined ? { socketCount: r.SocketCount } : {}),
    retCodes: Object.fromEntries(codes),
  };
}

/** The fortio driver: `fortio load` of the echo URL at the scenario's QPS and connections; the sample's value is ActualQPS. */
export const fortioDriver: MeasureDriver<FortioScenario> = {
  tool: 'fortio',
  argv: (s, t) => fortioLoadArgs({ url: fortioUrl(t.ip, s.port), qps: s.qps, connections: s.connections, seconds: t.seconds, keepalive: s.keepalive, json: true }),
  // Only stdout, as measure has always parsed it (stderr would turn "empty output" into fortio's own reason).
  parse: ({ stdout }) => {
    const r = parseFortioJson(stdout);
    return { value: r.actualQps, figures: { qps: r.actualQps, p50Ms: r.p50Ms, p90Ms: r.p90Ms, p99Ms: r.p99Ms, avgMs: r.avgMs, count: r.count, errors: r.errorCount } };
  },
};
