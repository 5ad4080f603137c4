// RunResults fixtures shaped after the article's three clusters (A: kube-proxy
// iptables, B: Cilium native routing, C: Cilium VXLAN overlay). Figures are
// the article's; per-round lists, convergence and failures are ours. The
// phases come from the real planner, so skip reasons are the product's own.

import { resolveConfig, toRunOptions, type RunOptions } from '../../src/config';
import { buildPlan } from '../../src/domain/plan';
import type { ClusterType, Measurement, RunResults, ScaleStepResult, TimelineEntry } from '../../src/domain/results';
import { rawFile, scenarioById } from '../../src/domain/scenarios';
import { buildSummary } from '../../src/domain/summary';

export const STEPS = [5000, 10000, 20000, 30000];

export interface ClusterFigures {
  type: ClusterType;
  context: string;
  throughput: Record<string, number>;
  rps: Record<string, number>;
  tcpRr: { p50: number; p99: number };
  tcpCrrP99: number;
  httpP99Ms: number;
  /** keepalive change at each step, in % (the article's table) */
  kaPct: number[];
  shortQps: number[];
  chain?: number[];
  rules: number[];
  hubble?: { on: number; off: number };
  np?: { base: number; l3l4: number; l7: number };
  resource: { component: 'kubeproxy' | 'cilium_agent'; cpu: [number, number]; mem: [number, number] };
  bpfMapCount?: number;
  rssMb?: number;
}

export const A: ClusterFigures = {
  type: 'kubeproxy-iptables',
  context: 'cluster-a-iptables',
  throughput: { node_level_8stream: 10.44, pod2pod_single: 10.43, pod2pod_8stream: 10.43, pod2pod_16stream: 10.43, via_service_8stream: 10.43 },
  rps: { pod2pod_c64: 115903, svc_c64: 115434, svc_c256: 119434, svc_short_c64: 31365 },
  tcpRr: { p50: 84, p99: 107 },
  tcpCrrP99: 487,
  httpP99Ms: 0.99,
  kaPct: [-0.2, -2.1, -0.3, -0.7],
  shortQps: [22237, 17261, 12916, 9057],
  chain: [5011, 10011, 20007, 30003],
  rules: [90321, 180455, 360512, 540733],
  resource: { component: 'kubeproxy', cpu: [8.2, 16], mem: [926, 928] },
};

export const B: ClusterFigures = {
  type: 'cilium-native',
  context: 'cluster-b-native',
  throughput: { node_level_8stream: 10.44, pod2pod_single: 10.43, pod2pod_8stream: 10.43, pod2pod_16stream: 10.43, via_service_8stream: 10.43 },
  rps: { pod2pod_c64: 100338, svc_c64: 100416, svc_c256: 102827, svc_short_c64: 13826 },
  tcpRr: { p50: 85, p99: 103 },
  tcpCrrP99: 546,
  httpP99Ms: 0.99,
  kaPct: [0.0, -0.7, -1.5, -9.2],
  shortQps: [12774, 11895, 11815, 10286],
  rules: [30018, 60021, 119980, 179946],
  hubble: { on: 100007, off: 100271 },
  np: { base: 99985, l3l4: 99965, l7: 13883 },
  resource: { component: 'cilium_agent', cpu: [25.8, 43], mem: [1111, 1216] },
  bpfMapCount: 64,
  rssMb: 870,
};

export const C: ClusterFigures = {
  type: 'cilium-overlay',
  context: 'cluster-c-overlay',
  throughput: { node_level_8stream: 10.82, pod2pod_single: 10.75, pod2pod_8stream: 10.77, pod2pod_16stream: 10.77, via_service_8stream: 10.77 },
  rps: { pod2pod_c64: 93159, svc_c64: 100955, svc_c256: 94148, svc_short_c64: 14193 },
  tcpRr: { p50: 95, p99: 118 },
  tcpCrrP99: 558,
  httpP99Ms: 0.99,
  kaPct: [-0.1, 0.1, 0.2, 0.5],
  shortQps: [13122, 12746, 13080, 12879],
  rules: [30042, 60037, 120011, 179988],
  hubble: { on: 101434, off: 101675 },
  np: { base: 101514, l3l4: 99249, l7: 11483 },
  resource: { component: 'cilium_agent', cpu: [25.4, 33], mem: [1104, 1228] },
  bpfMapCount: 63,
  rssMb: 1014,
};

const MiB = 1048576;
export const TOP_MAPS = [
  { name: 'cilium_lb4_affinity', bytes: Math.round(93.8 * MiB), maxEntries: 1020000 },
  { name: 'cilium_lb4_services', bytes: Math.round(31.1 * MiB), maxEntries: 1020000 },
  { name: 'cilium_lb4_backends', bytes: Math.round(25.2 * MiB), maxEntries: 1020000 },
  { name: 'cilium_lb4_reverse', bytes: Math.round(18.1 * MiB), maxEntries: 1020000 },
  { name: 'cilium_ct4_global', bytes: Math.round(17.0 * MiB), maxEntries: 131072 },
];

export function defaultOptions(over: Partial<RunOptions> = {}): RunOptions {
  return { ...toRunOptions(resolveConfig({ env: {} })), ...over };
}

export function meas(scenario: string, value: number, o: { round?: number; step?: number; figures?: Record<string, number> } = {}): Measurement {
  const round = o.round ?? 1;
  return {
    scenario,
    round,
    ...(o.step !== undefined ? { step: o.step } : {}),
    ok: true,
    value,
    ...(o.figures ? { figures: o.figures } : {}),
    file: rawFile(scenarioById(scenario, o.step), round, o.step),
    seconds: 60,
    attempts: 1,
  };
}

export function failed(scenario: string, reason: string, o: { round?: number; step?: number } = {}): Measurement {
  const round = o.round ?? 1;
  return { scenario, round, ...(o.step !== undefined ? { step: o.step } : {}), ok: false, reason, file: rawFile(scenarioById(scenario, o.step), round, o.step), attempts: 3 };
}

/**
 * Build the run of one cluster. `spread` repeats every ROUNDS-scenario over
 * `rounds` rounds, the rounds spread symmetrically (± spread %) around the
 * article's figure, so the mean stays the article's.
 */
export function makeRun(f: ClusterFigures, o: { rounds?: number; spread?: number; options?: Partial<RunOptions>; overheadOnce?: boolean } = {}): RunResults {
  const rounds = o.rounds ?? 1;
  const spread = o.spread ?? 1;
  const options = defaultOptions({ rounds, ...o.options });
  // Round values centred on x: x(1 - s), x, x(1 + s) ... (odd counts keep the mean exact).
  const around = (x: number): number[] => {
    if (rounds === 1) return [x];
    const k = (rounds - 1) / 2;
    return Array.from({ length: rounds }, (_, i) => x * (1 + ((i - k) / Math.max(k, 1)) * (spread / 100)));
  };
  const ms: Measurement[] = [];
  for (const [id, v] of Object.entries(f.throughput)) around(v).forEach((x, i) => ms.push(meas(id, x, { round: i + 1 })));
  for (const [id, v] of Object.entries(f.rps)) around(v).forEach((x, i) => ms.push(meas(id, x, { round: i + 1 })));
  around(f.tcpRr.p99).forEach((x, i) => ms.push(meas('tcp_rr', x, { round: i + 1, figures: { p50Us: f.tcpRr.p50, p99Us: x } })));
  around(f.tcpCrrP99).forEach((x, i) => ms.push(meas('tcp_crr', x, { round: i + 1, figures: { p50Us: f.tcpCrrP99 / 2, p99Us: x } })));
  around(1000).forEach((x, i) => ms.push(meas('http_1k_qps', x, { round: i + 1, figures: { p99Ms: f.httpP99Ms } })));
  // the overhead configurations: `rounds` rounds as from 0.5 (once as before it with overheadOnce)
  const overhead = (id: string, x: number) => (o.overheadOnce ? [x] : around(x)).forEach((v, i) => ms.push(meas(id, v, { round: i + 1 })));
  if (f.hubble) {
    overhead('hubble_on', f.hubble.on);
    overhead('hubble_off', f.hubble.off);
  }
  if (f.np) {
    overhead('no_policy', f.np.base);
    overhead('l3l4_policy', f.np.l3l4);
    overhead('l7_policy', f.np.l7);
  }

  const cilium = f.type.startsWith('cilium');
  const steps: ScaleStepResult[] = STEPS.map((n, i) => {
    const prev = i === 0 ? 0 : STEPS[i - 1];
    const kaQps = Math.round(f.rps.svc_c64 * (1 + f.kaPct[i] / 100));
    const stepMs: Measurement[] = [];
    // at each step the same scenarios (same ids) as the fixed phases measure again
    around(kaQps).forEach((x, r) => stepMs.push(meas('svc_c64', x, { round: r + 1, step: n })));
    around(f.shortQps[i]).forEach((x, r) => stepMs.push(meas('svc_short_c64', x, { round: r + 1, step: n })));
    around(f.tcpCrrP99 + i * 40).forEach((x, r) => stepMs.push(meas('tcp_crr', x, { round: r + 1, step: n, figures: { p99Us: x } })));
    around(f.tcpRr.p99 + i).forEach((x, r) => stepMs.push(meas('tcp_rr', x, { round: r + 1, step: n, figures: { p99Us: x } })));
    return {
      svcCount: n,
      created: n - prev,
      existed: prev,
      createSeconds: (n - prev) / 250,
      createRatePerSec: 250,
      convergence: {
        metric: cilium ? 'lb-entries' : 'kube-services-rules',
        expected: cilium ? f.rules[i] : f.chain![i],
        observed: cilium ? f.rules[i] : f.chain![i],
        converged: true,
        seconds: 2 + n / 1000,
      },
      rulesCount: f.rules[i],
      ...(f.chain ? { kubeServicesChain: f.chain[i] } : {}),
      measurements: stepMs,
    };
  });

  const plan = buildPlan(options, f.type);
  return {
    schema: 'netbench/run-results@1',
    workflowId: `netbench-${f.context}`,
    runId: '00000000-0000-4000-8000-000000000001',
    startedAt: '2026-05-01T10:00:00.000Z',
    finishedAt: '2026-05-01T12:34:56.000Z',
    status: 'completed',
    options,
    outputDir: `/runs/benchmark-results-${f.context}`,
    cluster: {
      contextName: f.context,
      clusterType: f.type,
      proxyMode: cilium ? 'cilium' : 'iptables',
      testDate: '2026-05-01',
      k8sVersion: 'v1.34.1-tke.5',
      nodeCount: 3,
      nodeOs: 'TencentOS Server 4',
      kernelVersion: '6.6.117-45.11.2',
      nodeModel: 'SA5.LARGE8',
      nodes: [
        { name: 'node-1', internalIp: '10.0.0.11' },
        { name: 'node-2', internalIp: '10.0.0.12' },
      ],
      detectedBy: cilium ? 'DaemonSet kube-system/cilium ready' : 'kube-proxy ConfigMap mode: iptables',
    },
    phases: plan.phases.map((p) => (p.run ? { phase: p.phase, status: 'done' as const } : { phase: p.phase, status: 'skipped' as const, reason: p.reason })),
    measurements: ms,
    scale: {
      endpointsPerSvc: options.svcEndpoints,
      steps,
      ...(cilium ? { lbMap: { current: 65536, needed: 150000, proposed: 300000, decision: 'auto' as const, applied: true, after: 300000 } } : {}),
      trusted: true,
    },
    resources: [
      {
        component: f.resource.component,
        avgCpuM: f.resource.cpu[0],
        maxCpuM: f.resource.cpu[1],
        avgMemMb: f.resource.mem[0],
        maxMemMb: f.resource.mem[1],
        podsSampled: 3,
        samples: 18,
      },
    ],
    component: cilium
      ? {
          bpfMaps: { totalBytes: Math.round(289.7 * MiB), mapCount: f.bpfMapCount!, topMaps: TOP_MAPS, totalMb: 289.7 },
          agentRssMb: f.rssMb,
          lbEntries: f.rules[3],
          ctEntries: 4211,
          identities: 37,
          failures: [],
        }
      : { iptablesRules: f.rules[3], failures: [] },
    cleanup: { done: true, skipped: false },
  };
}

export const withSummary = (results: RunResults) => ({ results, summary: buildSummary(results) });

/** A run's timeline for the time sections: throughput 100 s (90 tools, 5 pauses), a scale step 200 s (120 tools, 50 creating, 20 converging); 300 s wall, 15 s (5.0%) orchestration. */
export function sampleTimeline(r: RunResults): TimelineEntry[] {
  const t = (name: string, seconds: number, toolSeconds: number, createSeconds = 0, convergeSeconds = 0, pauseSeconds = 0) => ({ name, startedAt: r.startedAt, seconds, toolSeconds, createSeconds, convergeSeconds, pauseSeconds });
  return [t('throughput', 100, 90, 0, 0, 5), t('service-scale @5000', 200, 120, 50, 20, 0)];
}

/** The reference's degradation formula, written out independently of src/domain/stats. */
export function refPct(measured: number, baseline: number): string {
  const p = ((measured - baseline) / baseline) * 100;
  const r = Math.round(p * 10) / 10;
  return `${r < 0 || Object.is(r, -0) ? '-' : ''}${Math.abs(r).toFixed(1)}%`;
}
