/**
 * The run's configuration: every parameter of the reference run (same
 * environment variable names and defaults), plus CLI flags that override
 * them and an optional JSON file. One table drives parsing, validation and
 * `--help`, so the three never drift apart.
 *
 * Precedence: CLI flag > environment variable > --config file > default.
 * Bad input yields one ConfigError naming every bad field, before anything
 * talks to the cluster or to Temporal.
 *
 * Pure module: imported by workflows (types, validation) and by the CLI.
 */
import { z } from 'zod';

const intFrom = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .string()
    .trim()
    .regex(/^-?\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }));

const boolFrom = z
  .union([z.boolean(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off', ''].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false' });
    return z.NEVER;
  });

const stepsFrom = z
  .union([z.array(z.number()), z.string()])
  .transform((v, ctx) => {
    const parts = Array.isArray(v) ? v.map(String) : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (parts.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one step (use --skip service-scale to leave the phase out)' });
      return z.NEVER;
    }
    const steps: number[] = [];
    for (const p of parts) {
      if (!/^\d+$/.test(p) || Number(p) < 1) {
        ctx.addIssue({ code: 'custom', message: `"${p}" is not a positive whole number` });
        return z.NEVER;
      }
      steps.push(Number(p));
    }
    for (let i = 1; i < steps.length; i++) {
      if (steps[i] <= steps[i - 1]) {
        ctx.addIssue({ code: 'custom', message: `steps are cumulative Service counts and must strictly ascend (${steps[i - 1]} then ${steps[i]})` });
        return z.NEVER;
      }
    }
    if (steps[steps.length - 1] > 60000) {
      ctx.addIssue({ code: 'custom', message: 'at most 60000 Services (a /16 Service CIDR holds 65534)' });
      return z.NEVER;
    }
    return steps;
  });

export const PHASES = ['throughput', 'rps', 'latency', 'hubble', 'networkpolicy', 'service-scale', 'metrics'] as const;
export type PhaseName = (typeof PHASES)[number];

const skipFrom = z
  .union([z.array(z.string()), z.string()])
  .transform((v, ctx) => {
    const parts = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    const bad = parts.filter((p) => !(PHASES as readonly string[]).includes(p));
    if (bad.length) {
      ctx.addIssue({ code: 'custom', message: `unknown phase ${bad.map((b) => `"${b}"`).join(', ')} (phases: ${PHASES.join(', ')})` });
      return z.NEVER;
    }
    return [...new Set(parts)] as PhaseName[];
  });

const dnsLabel = z
  .string()
  .trim()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: 'must be a DNS label (lowercase letters, digits, "-", at most 63)' });
const nonEmpty = z.string().trim().min(1, { message: 'must not be empty' });

/** Namespaces netbench refuses to run in, whatever the flags say. */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];

/** One row per parameter: where it comes from, its default, its check and its help line. */
interface ParamDef {
  key: string;
  env?: string;
  flag: string;
  /** the flag takes no value (a switch) */
  boolean?: boolean;
  /** the flag may be given several times */
  multiple?: boolean;
  default?: unknown;
  schema: z.ZodType;
  help: string;
  group: 'benchmark' | 'cluster' | 'output' | 'temporal';
}

export const PARAMS = [
  { key: 'iperfDuration', env: 'IPERF_DURATION', flag: 'iperf-duration', default: 30, schema: intFrom(1, 3600), group: 'benchmark', help: 'seconds per iperf3 run' },
  { key: 'fortioDuration', env: 'FORTIO_DURATION', flag: 'fortio-duration', default: 60, schema: intFrom(1, 3600), group: 'benchmark', help: 'seconds per fortio and per netperf run' },
  { key: 'rounds', env: 'ROUNDS', flag: 'rounds', default: 1, schema: intFrom(1, 100), group: 'benchmark', help: 'repetitions of every scenario' },
  { key: 'roundSleep', env: 'ROUND_SLEEP', flag: 'round-sleep', default: 30, schema: intFrom(0, 3600), group: 'benchmark', help: 'seconds between rounds (cloud NIC burst-credit recovery), a durable timer' },
  { key: 'svcScaleSteps', env: 'SVC_SCALE_STEPS', flag: 'svc-scale-steps', default: '5000,10000,20000,30000', schema: stepsFrom, group: 'benchmark', help: 'cumulative dummy Service counts, strictly ascending' },
  { key: 'svcEndpoints', env: 'SVC_ENDPOINTS', flag: 'svc-endpoints', default: 4, schema: intFrom(1, 1000), group: 'benchmark', help: 'endpoints per dummy Service' },
  { key: 'svcCreateParallel', env: 'SVC_CREATE_PARALLEL', flag: 'svc-create-parallel', default: 4, schema: intFrom(1, 64), group: 'benchmark', help: 'parallel creators of dummy Services (each keeps several requests in flight)' },
  { key: 'endpointsMode', env: 'SVC_ENDPOINTS_KIND', flag: 'endpoints-kind', default: 'endpointslices', schema: z.enum(['endpointslices', 'endpoints'], { message: 'must be endpointslices or endpoints' }), group: 'benchmark', help: 'object holding the dummy endpoints: endpointslices, or the reference\'s v1 endpoints' },
  { key: 'settleFactor', env: 'SETTLE_FACTOR', flag: 'settle-factor', default: 1, schema: z.coerce.string().trim().regex(/^\d+(\.\d+)?$/, { message: 'must be a number from 0 to 10' }).transform(Number).pipe(z.number().min(0).max(10, { message: 'must be at most 10' })), group: 'benchmark', help: 'multiplier for the reference\'s fixed settle pauses (warm-up 5 s, Hubble 15/10 s, policy 10/5/30/10 s, after-phase 10 s); 0 skips them' },
  { key: 'syncTimeout', env: 'SYNC_TIMEOUT', flag: 'sync-timeout', default: 900, schema: intFrom(10, 86400), group: 'benchmark', help: 'seconds to wait for the datapath to program every Service of a scale step' },
  { key: 'autoFixLbMap', env: 'AUTO_FIX_LB_MAP', flag: 'auto-fix-lb-map', boolean: true, default: false, schema: boolFrom, group: 'benchmark', help: 'raise Cilium\'s LB map without asking (else the run waits for `netbench approve|decline`)' },
  { key: 'lbMapApprovalTimeout', env: 'LB_MAP_APPROVAL_TIMEOUT', flag: 'lb-map-approval-timeout', default: 86400, schema: intFrom(1, 30 * 86400), group: 'benchmark', help: 'seconds to wait for an answer on the LB-map fix before treating it as declined' },
  { key: 'metricsSettleSecs', env: 'METRICS_SETTLE_SECS', flag: 'metrics-settle-secs', default: 45, schema: intFrom(0, 3600), group: 'benchmark', help: 'quiet time before steady-state resource sampling' },
  { key: 'metricsSamples', env: 'METRICS_SAMPLES', flag: 'metrics-samples', default: 6, schema: intFrom(1, 1000), group: 'benchmark', help: 'resource samples (5 s apart)' },
  { key: 'kubectlTimeout', env: 'KUBECTL_TIMEOUT', flag: 'kubectl-timeout', default: 180, schema: intFrom(5, 86400), group: 'benchmark', help: 'limit in seconds on one exec into a pod (must exceed the longest tool run)' },
  { key: 'skip', env: 'NETBENCH_SKIP', flag: 'skip', multiple: true, default: [], schema: skipFrom, group: 'benchmark', help: `phases to leave out, comma-separated (${PHASES.join(', ')})` },
  { key: 'baseline', env: 'NETBENCH_BASELINE', flag: 'baseline', schema: nonEmpty.optional(), group: 'benchmark', help: 'workflow id of a pinned baseline run for the regression check (default: the previous successful run of the same cluster and plan)' },
  { key: 'regressionTolerance', env: 'REGRESSION_TOLERANCE', flag: 'regression-tolerance', default: 10, schema: z.coerce.string().trim().regex(/^\d+(\.\d+)?$/, { message: 'must be a percentage, e.g. 10' }).transform(Number).pipe(z.number().min(0).max(1000)), group: 'benchmark', help: 'percent change counted as a regression when a figure has fewer than 2 rounds (with more, 95% confidence intervals decide)' },
  { key: 'netperfImage', env: 'NETPERF_IMAGE', flag: 'netperf-image', default: 'networkstatic/netperf:latest', schema: nonEmpty, group: 'cluster', help: 'netperf image' },
  { key: 'iperfImage', env: 'IPERF_IMAGE', flag: 'iperf-image', default: 'networkstatic/iperf3:latest', schema: nonEmpty, group: 'cluster', help: 'iperf3 image' },
  { key: 'fortioImage', env: 'FORTIO_IMAGE', flag: 'fortio-image', default: 'fortio/fortio:latest', schema: nonEmpty, group: 'cluster', help: 'fortio image' },
  { key: 'ns', flag: 'ns', default: 'network-benchmark', schema: dnsLabel, group: 'cluster', help: 'namespace of the test workloads' },
  { key: 'scaleNamespace', env: 'SVC_NAMESPACE', flag: 'svc-namespace', default: 'test-services', schema: dnsLabel, group: 'cluster', help: 'namespace of the dummy Services' },
  { key: 'useExistingNs', env: 'NETBENCH_USE_EXISTING_NS', flag: 'use-existing-ns', boolean: true, default: false, schema: boolFrom, group: 'cluster', help: 'run in --ns / --svc-namespace even if they already exist and netbench did not create them; netbench then leaves those namespaces as they are (labels, Pod Security level) and removes only its own objects from them. Without it such a run is refused before anything changes' },
  { key: 'context', env: 'KUBE_CONTEXT', flag: 'context', schema: nonEmpty.optional(), group: 'cluster', help: 'kube context (default: the current context)' },
  { key: 'kubeconfig', env: 'KUBECONFIG', flag: 'kubeconfig', schema: nonEmpty.optional(), group: 'cluster', help: 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)' },
  { key: 'skipCleanup', flag: 'skip-cleanup', boolean: true, default: false, schema: boolFrom, group: 'cluster', help: 'leave the test workloads and dummy Services in place' },
  { key: 'dir', flag: 'dir', schema: nonEmpty.optional(), group: 'output', help: 'output directory (default: ./benchmark-results-<context>)' },
  { key: 'temporalAddress', env: 'TEMPORAL_ADDRESS', flag: 'address', default: 'localhost:7233', schema: nonEmpty, group: 'temporal', help: 'Temporal frontend host:port' },
  { key: 'temporalNamespace', env: 'TEMPORAL_NAMESPACE', flag: 'namespace', default: 'default', schema: nonEmpty, group: 'temporal', help: 'Temporal namespace' },
  { key: 'taskQueue', env: 'NETBENCH_TASK_QUEUE', flag: 'task-queue', default: 'netbench', schema: nonEmpty, group: 'temporal', help: 'task queue served by the netbench worker' },
] as const satisfies readonly ParamDef[];

/** What a run needs to know; plain JSON, safe as a workflow argument. */
export const RunOptionsSchema = z.object({
  iperfDuration: z.number().int().min(1),
  fortioDuration: z.number().int().min(1),
  rounds: z.number().int().min(1),
  roundSleep: z.number().int().min(0),
  svcScaleSteps: z.array(z.number().int().positive()).min(1),
  svcEndpoints: z.number().int().min(1),
  svcCreateParallel: z.number().int().min(1),
  endpointsMode: z.enum(['endpointslices', 'endpoints']),
  settleFactor: z.number().min(0),
  syncTimeout: z.number().int().min(1),
  autoFixLbMap: z.boolean(),
  lbMapApprovalTimeout: z.number().int().min(1),
  metricsSettleSecs: z.number().int().min(0),
  metricsSamples: z.number().int().min(1),
  kubectlTimeout: z.number().int().min(1),
  skip: z.array(z.enum(PHASES)),
  baseline: z.string().optional(),
  regressionTolerance: z.number().min(0).optional(),
  netperfImage: z.string(),
  iperfImage: z.string(),
  fortioImage: z.string(),
  ns: z.string(),
  scaleNamespace: z.string(),
  /** absent in runs started before 0.3: treated as false */
  useExistingNs: z.boolean().optional(),
  context: z.string().optional(),
  kubeconfig: z.string().optional(),
  skipCleanup: z.boolean(),
  dir: z.string().optional(),
});
export type RunOptions = z.infer<typeof RunOptionsSchema>;

export interface TemporalOptions {
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
}
export type Config = RunOptions & TemporalOptions;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** parsed CLI values keyed by flag name (strings, booleans or string arrays) */
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** contents of a --config JSON file, keyed by param key or env name */
  file?: Record<string, unknown>;
}

/** Resolve and validate every parameter; throws one ConfigError listing every bad field. */
export function resolveConfig(src: ConfigSources): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const fileKeys = new Set(Object.keys(src.file ?? {}));
  for (const p of PARAMS as readonly ParamDef[]) {
    let raw: unknown;
    let origin: string;
    const flagVal = src.flags?.[p.flag];
    const envVal = p.env ? src.env?.[p.env] : undefined;
    const fileVal = src.file ? (src.file[p.key] ?? (p.env ? src.file[p.env] : undefined)) : undefined;
    fileKeys.delete(p.key);
    if (p.env) fileKeys.delete(p.env);
    if (flagVal !== undefined && !(Array.isArray(flagVal) && flagVal.length === 0)) {
      raw = Array.isArray(flagVal) && !p.multiple ? flagVal[flagVal.length - 1] : flagVal;
      if (p.multiple && Array.isArray(raw)) raw = raw.flatMap((s) => String(s).split(','));
      origin = `--${p.flag}`;
    } else if (envVal !== undefined && envVal !== '' ) {
      raw = envVal;
      origin = p.env!;
    } else if (fileVal !== undefined) {
      raw = fileVal;
      origin = `config file "${p.key}"`;
    } else {
      raw = p.default;
      origin = `default of ${p.env ?? `--${p.flag}`}`;
    }
    if (raw === undefined) continue;
    const r = p.schema.safeParse(raw);
    if (r.success) out[p.key] = r.data;
    else problems.push(`${origin}=${JSON.stringify(raw)}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  for (const k of fileKeys) problems.push(`config file: unknown key "${k}"`);
  for (const key of ['ns', 'scaleNamespace'] as const) {
    const v = out[key];
    if (typeof v === 'string' && SYSTEM_NAMESPACES.includes(v)) {
      problems.push(`${key === 'ns' ? '--ns' : 'SVC_NAMESPACE'}="${v}": a Kubernetes system namespace; netbench never runs in one (choose a namespace of its own)`);
    }
  }
  if (problems.length === 0) {
    const tooShort = (out.kubectlTimeout as number) <= Math.max(out.iperfDuration as number, out.fortioDuration as number);
    if (tooShort) {
      problems.push(
        `KUBECTL_TIMEOUT=${out.kubectlTimeout}: must exceed the longest tool run (IPERF_DURATION=${out.iperfDuration}, FORTIO_DURATION=${out.fortioDuration}), or every exec would time out`,
      );
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as unknown as Config;
}

/** `{date}` / `{datetime}` in the output directory (scheduled runs) become the run's start time, UTC. */
export function datedDir(dir: string, start: Date): string {
  const iso = start.toISOString();
  return dir.replaceAll('{date}', iso.slice(0, 10)).replaceAll('{datetime}', `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`);
}

/** The reference's rule for the default output directory name. */
export function safeDirName(context: string): string {
  const s = context.replace(/[^A-Za-z0-9._-]/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '');
  return s === '' ? 'cluster' : s;
}

export function defaultOutputDir(context: string): string {
  return `./benchmark-results-${safeDirName(context)}`;
}

/** Help text for every parameter, grouped; used by `netbench run --help`. */
export function paramsHelp(groups: ParamDef['group'][] = ['benchmark', 'cluster', 'output', 'temporal']): string {
  const titles: Record<ParamDef['group'], string> = {
    benchmark: 'Benchmark parameters',
    cluster: 'Cluster and workloads',
    output: 'Output',
    temporal: 'Temporal connection',
  };
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(`${titles[g]}:`);
    for (const p of (PARAMS as readonly ParamDef[]).filter((x) => x.group === g)) {
      const flag = `--${p.flag}${p.boolean ? '' : p.multiple ? ' LIST' : ' VALUE'}`;
      const env = p.env ? ` [env ${p.env}]` : '';
      const def = p.default !== undefined && !(Array.isArray(p.default) && p.default.length === 0) ? ` (default ${String(p.default)})` : '';
      lines.push(`  ${flag.padEnd(32)} ${p.help}${def}${env}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Flag definitions in the shape of node:util parseArgs `options`. */
export function flagOptions(): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const o: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const p of PARAMS as readonly ParamDef[]) {
    o[p.flag] = { type: p.boolean ? 'boolean' : 'string', ...(p.multiple ? { multiple: true } : {}) };
  }
  return o;
}

export function toRunOptions(c: Config): RunOptions {
  return RunOptionsSchema.parse(c);
}
