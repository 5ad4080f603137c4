/**
 * zod schema of benchmark-summary.json: the reference's keys and types
 * (strict where the reference was definite), plus netbench's additions.
 * Consumers can validate a summary with it; the end-to-end test does.
 */
import { z } from 'zod';

const gbps = z.object({ gbps: z.array(z.number().nonnegative()).min(1), avg: z.number().nonnegative() });
const qps = z.object({ qps: z.array(z.number().int().nonnegative()).min(1), avg_qps: z.number().int().nonnegative() });
const resource = z.object({ avg_cpu_m: z.number(), max_cpu_m: z.number(), avg_mem_mb: z.number(), max_mem_mb: z.number(), pods_sampled: z.number().int() });
const step = z
  .object({
    svc_count: z.number().int().positive(),
    keepalive_qps: z.number().int().optional(),
    keepalive_degradation_pct: z.number().optional(),
    short_conn_qps: z.number().int().optional(),
    short_conn_degradation_pct: z.number().optional(),
    tcp_crr_p99_us: z.number().int().optional(),
    tcp_rr_p99_us: z.number().int().optional(),
    rules_count: z.number().int().optional(),
    kube_services_chain: z.number().int().optional(),
    datapath_convergence: z.object({ metric: z.string(), expected: z.number(), observed: z.number(), converged: z.boolean(), seconds: z.number(), reason: z.string().optional() }),
    create: z.object({ created: z.number().int(), existed: z.number().int(), seconds: z.number(), per_second: z.number() }),
  })
  .strict();

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
    throughput: z.object({ node_level_8stream: gbps, pod2pod_single: gbps, pod2pod_8stream: gbps, pod2pod_16stream: gbps, via_service_8stream: gbps }).partial().strict(),
    rps: z.object({ pod2pod_c64: qps, svc_c64: qps, svc_c256: qps, svc_short_c64: qps }).partial().strict(),
    latency: z.object({ tcp_rr_p50_us: z.number().int(), tcp_rr_p99_us: z.number().int(), tcp_crr_p99_us: z.number().int(), http_p99_1k_qps_ms: z.number() }).partial().strict(),
    service_scale: z
      .object({ keepalive_baseline_qps: z.number().int(), short_conn_baseline_qps: z.number().int(), endpoints_per_svc: z.number().int(), steps: z.array(step) })
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
    hubble: z.object({ with_hubble_qps: z.number().int(), without_hubble_qps: z.number().int(), overhead_pct: z.number() }).strict().optional(),
    networkpolicy: z.object({ baseline_qps: z.number().int(), l3l4_qps: z.number().int().optional(), l3l4_overhead_pct: z.number().optional(), l7_qps: z.number().int().optional(), l7_overhead_pct: z.number().optional() }).strict().optional(),
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
