/**
 * Worker telemetry: the SDK's own runtime metrics (pollers, task slots,
 * schedule-to-start latency, activity/workflow outcomes, RPC calls) served
 * for Prometheus on `/metrics`, and the SDK's log level.
 *
 * The SDK allows one Runtime per process and creates a default one on first
 * use (a NativeConnection, a Worker): call installTelemetry before either.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

export interface TelemetryOptions {
  /** HOST:PORT for the Prometheus exporter (e.g. 0.0.0.0:9464); absent = no metrics endpoint. */
  prometheusAddress?: string;
  /** SDK log level (default INFO). */
  logLevel?: LogLevel;
}

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** node:util parseArgs option definitions of the telemetry flags. */
export const telemetryFlagOptions = {
  'metrics-address': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

export const TELEMETRY_FLAGS_HELP = `Telemetry:
  --metrics-address HOST:PORT  serve the SDK's Prometheus metrics on http://HOST:PORT/metrics [env NETBENCH_METRICS_ADDRESS]
  --log-level LEVEL            SDK log level: ${LEVELS.join(', ')} (default INFO) [env NETBENCH_LOG_LEVEL]
`;

/** HOST:PORT with a port in 1..65535; IPv6 hosts in brackets ([::]:9464). */
export function parseBindAddress(value: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1], port } : undefined;
}

/** Telemetry options from parsed flags and the environment (flag > environment); throws naming the bad value. */
export function telemetryOptionsFrom(values: Record<string, unknown>, env: Record<string, string | undefined> = process.env): TelemetryOptions {
  const problems: string[] = [];
  const flagAddr = values['metrics-address'];
  const address = typeof flagAddr === 'string' && flagAddr !== '' ? flagAddr : env.NETBENCH_METRICS_ADDRESS || undefined;
  const addrSource = typeof flagAddr === 'string' && flagAddr !== '' ? '--metrics-address' : 'NETBENCH_METRICS_ADDRESS';
  if (address !== undefined && !parseBindAddress(address)) problems.push(`${addrSource} ${address}: expected HOST:PORT, e.g. 0.0.0.0:9464`);
  const flagLevel = values['log-level'];
  const rawLevel = typeof flagLevel === 'string' && flagLevel !== '' ? flagLevel : env.NETBENCH_LOG_LEVEL || undefined;
  const level = rawLevel?.toUpperCase() as LogLevel | undefined;
  if (level !== undefined && !LEVELS.includes(level)) problems.push(`log level ${rawLevel}: expected one of ${LEVELS.join(', ')}`);
  if (problems.length) throw new Error(problems.join('; '));
  return { ...(address ? { prometheusAddress: address } : {}), ...(level ? { logLevel: level } : {}) };
}

/**
 * Install the process's Temporal Runtime with the given telemetry. Returns
 * the metrics URL when a Prometheus address was given. With no option set it
 * installs nothing (the SDK's default Runtime then applies), so callers may
 * call it unconditionally. Throws if the address is invalid, or if a Runtime
 * already exists (something used the SDK first).
 */
export function installTelemetry(o: TelemetryOptions = {}): { metricsUrl?: string } {
  if (o.prometheusAddress !== undefined && !parseBindAddress(o.prometheusAddress)) {
    throw new Error(`metrics address ${o.prometheusAddress}: expected HOST:PORT, e.g. 0.0.0.0:9464`);
  }
  if (o.prometheusAddress === undefined && o.logLevel === undefined) return {};
  const level = o.logLevel ?? 'INFO';
  Runtime.install({
    logger: new DefaultLogger(level),
    telemetryOptions: {
      // Core's own logs go to the same logger; below DEBUG it stays at WARN (its INFO lines are noise here).
      logging: { filter: { core: level === 'DEBUG' || level === 'TRACE' ? level : 'WARN', other: 'ERROR' }, forward: {} },
      ...(o.prometheusAddress ? { metrics: { prometheus: { bindAddress: o.prometheusAddress } } } : {}),
    },
  });
  if (!o.prometheusAddress) return {};
  const { host, port } = parseBindAddress(o.prometheusAddress)!;
  const shown = host === '0.0.0.0' ? 'localhost' : host === '[::]' ? '[::1]' : host;
  return { metricsUrl: `http://${shown}:${port}/metrics` };
}
