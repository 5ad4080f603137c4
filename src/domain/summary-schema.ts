/**
 * zod schema of benchmark-summary.json: the reference's keys and types
 * (strict where the reference was definite), plus netbench's additions.
 * Consumers can validate a summary with it; the end-to-end test does.
 */
import { z } from 'zod';
import { OVERHEAD_PHASES, SCALE_SCENARIOS, scenariosOf, type OverheadPhase } from './scenarios';

const gbps = z.object({ gbps: z.array(z.number().nonnegative()).min(1), avg: z.number().nonnegative() });
const qps = z.object({ qps: z.array(z.number().int().nonnegative()).min(1), avg_qps: z.number().int().nonnegative() });
const resource = z.object({ avg_cpu_m: z.number(), max_cpu_m: z.number(), avg_mem_mb: z.number(), max_mem_mb: z.number(), pods_sampled: z.number().int() });
const keyed = <T extends z.ZodType>(keys: string[], t: T): Record<string, T> => Object.fromEntries(keys.map((k) => [k, t]));
/** a step entry's figures, as the catalogue's scale scenarios report them */
const stepFigures = Object.fromEntries(
  SCALE_SCENARIOS.flatMap((s) => {
    const k = s.atScale!.summaryKey;
    return s.atScale!.baselineKey ? [[`${k}_qps`, z.number().int().optional()], [`${k}_degradation_pct`, z.number().optional()]] : [[k, z.number().int().optional()]];
  }),
);
const step = z
  .object({
    svc_count: z.number().int().positive(),
    ...stepFigures,
    rules_count: z.number().int().optional(),
    kube_services_chain: z.number().int().optional(),
    datapath_convergence: z.object({ metric: z.string(), expected: z.number(), observed: z.number(), converged: z.boolean(), seconds: z.number(), reason: z.string().optional() }),
    create: z.object({ created: z.number().int(), existed: z.number().int(), seconds: z.number(), per_second: z.number() }),
  })
  .strict();

/** An overhead section's keys, as the catalogue's overhead rows say. */
function overheadKeys(o: OverheadPhase): Record<string, z.ZodType> {
  const opt = <T extends z.ZodType>(t: T) => (o.baseline.overhead.alone ? t.optional() : t);
  return Object.fromEntries([
    [o.baseline.overhead.key, z.number().int()],
    ...o.treatments.flatMap((t) => [[t.overhead.key, opt(z.number().int())], [t.overhead.pctKey, opt(z.number())]]),
  ]);
}

export const SummarySchema = z
  .object({
    cluster: z.object({
      cluster_name: z.string(),
      cluster_type: z.enum(['cilium-overlay', 'cilium-native', 'kubeproxy-ipvs', 'kubeproxy-iptables', 'kubeproxy-nftables']),
      test_date: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      k8s_version: z.string(),
      node_count: z.string().regex(/^\d+$/),
      node_os: z.string(),
      kernel_version: z.string(),
      node_model: z.string(),
    }).or(z.object({}).strict()),
    // the catalogue's keys: every throughput and RPS scenario, every latency figure
    throughput: z.object(keyed(scenariosOf('throughput').map((s) => s.id), gbps)).partial().strict(),
    rps: z.object(keyed(scenariosOf('rps').map((s) => s.id), qps)).partial().strict(),
    latency: z.object(Object.fromEntries(scenariosOf('latency').flatMap((s) => s.figures ?? []).map((f) => [f.key, f.pick === 'avg-int' ? z.number().int() : z.number()]))).partial().strict(),
    service_scale: z
      .object({ ...keyed(SCALE_SCENARIOS.flatMap((s) => (s.atScale?.baselineKey ? [s.atScale.baselineKey] : [])), z.number().int()), endpoints_per_svc: z.number().int(), steps: z.array(step) })
      .partial()
      .strict(),
    resources: z
      .object({
        kubeproxy: resource,
        cilium_agent: resource,
        bpf_maps: z.object({ total_bytes: z.number().int(), map_count: z.number().int(), top_maps: z.array(z.object({ name: z.string(), bytes: z.number().int(), max_entries: z.number().int() })), total_mb: z.number() }),
        cilium_agent_rss_mb: z.number(),
      })
      .partial()
      .strict(),
    // one section per overhead phase: its configurations' req/s and treatments' overheads (optional where the baseline stands alone)
    ...Object.fromEntries(OVERHEAD_PHASES.map((o) => [o.phase, z.object(overheadKeys(o)).strict().optional()])),
    netbench: z.object({
      schema: z.literal('netbench/summary-additions@1'),
      workflow_id: z.string(),
      run_id: z.string(),
      status: z.enum(['completed', 'cancelled', 'failed']),
      trusted: z.boolean(),
      phases: z.array(z.object({ phase: z.string(), status: z.string(), reason: z.string().optional() })),
      failures: z.array(z.object({ scenario: z.string(), reason: z.string() }).passthrough()),
      confidence_intervals: z.record(z.string(), z.object({ n: z.number(), mean: z.number(), ci95: z.number() })),
    }).passthrough(),
  })
  .strict();

export type Summary = z.infer<typeof SummarySchema>;
