/**
 * STUB activities for tests of workflow logic only: they stand in at the
 * activity boundary (no cluster), return plausible figures and record every
 * call so tests can check order, counts and arguments. Never used outside
 * workflow-logic tests.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Activities } from '../../src/activities';
import type { ClusterType, Measurement, ProxyMode, RunResults } from '../../src/domain/results';
import type { Adopted } from '../../src/domain/resume';
import { rawFile, scenarioById } from '../../src/domain/scenarios';

export interface StubCall {
  name: string;
  input: any;
  worker: string;
}

export interface StubOptions {
  clusterType?: ClusterType;
  lbMapMax?: number;
  /** scenario ids whose measure() always fails */
  failing?: string[];
  /** called at the start of createDummyServices (to block/crash a worker mid-step) */
  onCreate?: (input: any) => Promise<void>;
  /** called at the start of measure() (to block a run in a known place) */
  onMeasure?: (input: any) => Promise<void>;
  /** inspectCluster fails with this message (non-retryable), e.g. a cluster with one node */
  inspectFails?: string;
  /** restoreCiliumConfig fails with this message (non-retryable) */
  restoreFails?: string;
  /** claimNamespaces refuses (a namespace the user owns) */
  namespaceRefused?: string;
  /** headlines findBaseline returns (default: no baseline) */
  baseline?: any[];
  /** what loadResumable adopts from the run being resumed (default: nothing) */
  resumable?: Adopted;
  /** ciliumEndpoints: the agents list no endpoint for the benchmark pods (the lab today); default: every pod has one */
  noCiliumEndpoints?: boolean;
  /** ciliumEndpoints: the agent on node-1 cannot be asked (this error); policyVerdict finds no agent either */
  ciliumAgentError?: string;
  /** policyVerdict: the agent refuses these policies with the real agent's L7 error; default: imported */
  policyRefused?: ('l3l4' | 'l7')[];
  /** label of the worker these stubs belong to */
  worker?: string;
  calls?: StubCall[];
}

export function stubActivities(o: StubOptions = {}): { activities: Activities; calls: StubCall[]; reports: RunResults[] } {
  const calls = o.calls ?? [];
  const reports: RunResults[] = [];
  const type: ClusterType = o.clusterType ?? 'kubeproxy-iptables';
  const mode: ProxyMode = type.startsWith('cilium') ? 'cilium' : (type.replace('kubeproxy-', '') as ProxyMode);
  let lbMax = o.lbMapMax ?? 65536;
  const rec = (name: string, input?: any) => calls.push({ name, input, worker: o.worker ?? 'w1' });
  // Typed against the real activity interface: a renamed activity, a changed input or result fails the type check here.
  const a: Activities = {
    async inspectCluster(input) {
      rec('inspectCluster', input);
      if (o.inspectFails) throw ApplicationFailure.nonRetryable(o.inspectFails, 'TooFewNodes');
      return {
        contextName: input.contextName, clusterType: type, proxyMode: mode, testDate: '2026-11-23T00:00:00Z', k8sVersion: 'v1.34.4',
        nodeCount: 3, nodeOs: 'stub', kernelVersion: 'stub', nodeModel: 'unknown',
        nodes: [{ name: 'node-1', internalIp: '10.240.0.1' }, { name: 'node-2', internalIp: '10.240.0.2' }], detectedBy: 'stub',
      };
    },
    async getLbMapMax() {
      rec('getLbMapMax');
      return lbMax;
    },
    async claimNamespaces(input) {
      rec('claimNamespaces', input);
      if (o.namespaceRefused) throw ApplicationFailure.nonRetryable(o.namespaceRefused, 'NamespaceRefused');
      return { owners: { [input.workloads]: 'absent', [input.services]: 'absent' } };
    },
    async deployFixtures(input) {
      rec('deployFixtures', input);
      return { serverNodeIp: '10.240.0.1', iperfServerPodIp: '10.244.1.2', iperfServiceIp: '10.96.0.10', fortioServerPodIp: '10.244.1.3', fortioServiceIp: '10.96.0.11', netperfServerPodIp: '10.244.1.4' };
    },
    async deleteNamespaces(input) {
      rec('deleteNamespaces', input);
      return { deleted: input.namespaces };
    },
    async measure(input): Promise<Measurement> {
      rec('measure', input);
      await o.onMeasure?.(input);
      const s = scenarioById(input.scenario, input.step);
      if (o.failing?.includes(input.scenario)) throw new Error(`stub: ${input.scenario} server unreachable`);
      const value = s.tool === 'iperf3' ? 9.5 : s.tool === 'netperf' ? 100 + (input.step ?? 0) / 100 : 10000 - (input.step ?? 0) / 10;
      const figures: Record<string, number> = s.tool === 'netperf' ? { p50Us: 80, p99Us: value } : s.tool === 'fortio' ? { qps: value, p99Ms: 0.99 } : { gbps: value };
      return { scenario: s.id, round: input.round, step: input.step, ok: true, value, figures, file: rawFile(s, input.round, input.step), seconds: 0.5 };
    },
    async monitorResources(input) {
      rec('monitorResources', input);
      const ctx = Context.current();
      while (!ctx.cancellationSignal.aborted) {
        ctx.heartbeat();
        await new Promise((r) => setTimeout(r, 200));
      }
      return { samples: 1 };
    },
    async setHubble(input) {
      rec('setHubble', input);
      return { previous: 'true', restarted: true };
    },
    async applyPolicy(input) {
      rec('applyPolicy', input);
    },
    async deletePolicy(input) {
      rec('deletePolicy', input);
    },
    async ciliumEndpoints(input) {
      rec('ciliumEndpoints', input);
      const node = (pod: string) => (pod === 'fortio-server' ? 'node-1' : 'node-2');
      return {
        ns: input.ns,
        pods: input.pods.map((pod, i) => ({ pod, node: node(pod), agentPod: `cilium-${node(pod)}`, ...(o.noCiliumEndpoints ? {} : { endpointId: 100 + i }) })),
        agents: ['node-1', 'node-2'].map((n) =>
          o.ciliumAgentError && n === 'node-1'
            ? { node: n, agentPod: `cilium-${n}`, lab: false, error: o.ciliumAgentError }
            : { node: n, agentPod: `cilium-${n}`, lab: !!o.noCiliumEndpoints, endpoints: o.noCiliumEndpoints ? '1 endpoint: reserved:host' : '3 endpoints: reserved:host, …' },
        ),
      };
    },
    async policyVerdict(input) {
      rec('policyVerdict', input);
      if (o.ciliumAgentError) return { verdict: 'unknown', node: input.node, agentPod: `cilium-${input.node}`, detail: o.ciliumAgentError, seconds: 30 };
      if (o.policyRefused?.includes(input.kind)) {
        const refusal = 'Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled';
        return { verdict: 'refused', node: input.node, agentPod: `cilium-${input.node}`, refusal, logLine: `msg="Unable to add CiliumNetworkPolicy" error="${refusal}"`, seconds: 1 };
      }
      return { verdict: 'imported', node: input.node, agentPod: `cilium-${input.node}`, revision: 7, seconds: 0.5 };
    },
    async patchLbMapMax(input) {
      rec('patchLbMapMax', input);
      const previous = String(lbMax);
      lbMax = input.value;
      return { previous };
    },
    async restoreCiliumConfig(input) {
      rec('restoreCiliumConfig', input);
      if (o.restoreFails) throw ApplicationFailure.nonRetryable(o.restoreFails, 'Forbidden');
      const changed = input.key === 'bpf-lb-map-max' && String(lbMax) !== input.previous;
      if (changed) lbMax = Number(input.previous ?? 65536);
      return { changed };
    },
    async rolloutRestartCilium(input) {
      rec('rolloutRestartCilium', input);
      return { seconds: 1 };
    },
    async createDummyServices(input) {
      rec('createDummyServices', input);
      await o.onCreate?.(input);
      const n = input.to - input.from + 1;
      return { created: n, existed: 0, lastIndex: input.to, seconds: 0.1, ratePerSec: n * 10 };
    },
    async deleteDummyServices(input) {
      rec('deleteDummyServices', input);
      return { existed: true, deletedServices: 0, seconds: 0 };
    },
    async countDummyServices(input) {
      rec('countDummyServices', input);
      return { services: 0 };
    },
    async waitDatapathConverged(input) {
      rec('waitDatapathConverged', input);
      return { metric: 'kube-services-rules', expected: input.expectedServices, observed: input.expectedServices, converged: true, seconds: 0.5 };
    },
    async countRules(input) {
      rec('countRules', input);
      return { rulesCount: input.svcCount * 12, kubeServicesChain: input.svcCount + 3 };
    },
    async sampleResources(input) {
      rec('sampleResources', input);
      return { component: input.component, avgCpuM: 8, maxCpuM: 16, avgMemMb: 900, maxMemMb: 930, podsSampled: 3, samples: input.samples * 3 };
    },
    async collectComponentMetrics(input) {
      rec('collectComponentMetrics', input);
      return { failures: [] };
    },
    async loadResumable(input) {
      rec('loadResumable', input);
      return o.resumable ?? { fromWorkflowId: input.workflowId, measurements: [], steps: [] };
    },
    async findBaseline(input) {
      rec('findBaseline', input);
      if (!o.baseline) return { reason: 'stub: no earlier run' };
      return { workflowId: 'baseline-run', startedAt: '2026-11-22T00:00:00Z', headlines: o.baseline };
    },
    async writeComparison(input) {
      rec('writeComparison', input);
      return { file: `${input.outputDir}/compare.md` };
    },
    async writeReport(input) {
      rec('writeReport', input);
      reports.push(input.results);
      return { files: [] };
    },
  };
  return { activities: a, calls, reports };
}
