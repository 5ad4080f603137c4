/**
 * Cilium-only actions: Hubble toggle, CiliumNetworkPolicy apply/delete,
 * the LB-map capacity patch and the rollout restart it needs; and what the
 * agents did with them, asked as on any cluster (`cilium-dbg` through pod
 * exec in the agent pod on the benchmark pods' nodes, the agent's log
 * through `kubectl logs`): the benchmark pods' endpoints, a policy imported
 * or refused (domain/cilium-checks.ts decides what that means for the run).
 */
import { Context } from '@temporalio/activity';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1DaemonSet, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { CILIUM_AGENT_SELECTOR, type EndpointCheck, type PolicyVerdict } from '../domain/cilium-checks';
import { isNotFound } from '../kube/client';
import { abortableSleep as sleep } from '../kube/batches';
import { execInPod } from '../kube/exec';
import {
  ciliumEndpointListArgs,
  ciliumPolicyGetArgs,
  describeEndpoints,
  endpointOfPod,
  findPolicyRefusal,
  parseCiliumEndpointList,
  parseCiliumPolicyGet,
  policyImported,
  withAgentCli,
} from '../tools/cilium';

export const CNP = { group: 'cilium.io', version: 'v2', plural: 'ciliumnetworkpolicies' } as const;
export const POLICY_NAMES = { l3l4: 'allow-fortio-benchmark', l7: 'allow-fortio-benchmark-l7' } as const;

/** The reference's policies: fortio-client -> fortio-server 8080/TCP; the L7 one adds an HTTP GET rule (Envoy in the path). */
export function policyObject(ns: string, kind: 'l3l4' | 'l7') {
  const port: Record<string, unknown> = { ports: [{ port: '8080', protocol: 'TCP' }] };
  if (kind === 'l7') port.rules = { http: [{ method: 'GET' }] };
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: POLICY_NAMES[kind], namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'netbench' } },
    spec: {
      endpointSelector: { matchLabels: { app: 'benchmark', role: 'fortio-server' } },
      ingress: [{ fromEndpoints: [{ matchLabels: { app: 'benchmark', role: 'fortio-client' } }], toPorts: [port] }],
    },
  };
}

export function daemonSetRolledOut(ds: V1DaemonSet): boolean {
  const s = ds.status;
  if (!s) return false;
  const desired = s.desiredNumberScheduled ?? 0;
  return (s.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0) && (s.updatedNumberScheduled ?? 0) >= desired && (s.numberAvailable ?? 0) >= desired;
}
export function deploymentRolledOut(d: V1Deployment): boolean {
  const s = d.status;
  const want = d.spec?.replicas ?? 1;
  return !!s && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want && (s.replicas ?? 0) <= want;
}

/** The agent container of a Cilium pod (Helm's name; else the pod's first container). */
export function agentContainer(pod: V1Pod): string | undefined {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  return names.includes('cilium-agent') ? 'cilium-agent' : names[0];
}

/** The node label netbench's lab puts on its nodes (lab/cluster.ts). */
export const LAB_NODE_LABEL = 'netbench.dev/lab';

export function makeCiliumActivities(deps: { kubeConfig: KubeConfig }) {
  const kc = deps.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  /** The running Cilium agent pod on each node (a DaemonSet: one per node). */
  async function agentPods(): Promise<Map<string, V1Pod>> {
    const pods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: CILIUM_AGENT_SELECTOR })).items;
    const byNode = new Map<string, V1Pod>();
    for (const p of pods) {
      const node = p.spec?.nodeName;
      if (node && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp) byNode.set(node, p);
    }
    return byNode;
  }

  /** The agent CLI in an agent pod (withAgentCli: `cilium-dbg`, else `cilium`). */
  async function agentCli(pod: V1Pod, command: string[], signal?: AbortSignal): Promise<string> {
    const run = (argv: string[]) =>
      execInPod({ kubeConfig: kc, namespace: 'kube-system', pod: pod.metadata!.name!, container: agentContainer(pod), command: argv, timeoutMs: 60_000, signal });
    return (await withAgentCli(command, run)).stdout;
  }

  /** rollout restart ds/cilium and deploy/cilium-operator; wait until rolled out (heartbeating). */
  async function restartAndWait(timeoutSec: number): Promise<{ seconds: number }> {
    const ctx = Context.current();
    const started = Date.now();
    const stamp = new Date().toISOString();
    const restart = async (kind: 'ds' | 'deploy', name: string) => {
      const obj = kind === 'ds' ? await apps.readNamespacedDaemonSet({ name, namespace: 'kube-system' }) : await apps.readNamespacedDeployment({ name, namespace: 'kube-system' });
      const tpl = obj.spec!.template;
      tpl.metadata = { ...(tpl.metadata ?? {}), annotations: { ...(tpl.metadata?.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': stamp } };
      if (kind === 'ds') await apps.replaceNamespacedDaemonSet({ name, namespace: 'kube-system', body: obj as V1DaemonSet });
      else await apps.replaceNamespacedDeployment({ name, namespace: 'kube-system', body: obj as V1Deployment });
    };
    await restart('ds', 'cilium');
    await restart('deploy', 'cilium-operator').catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    for (;;) {
      const ds = await apps.readNamespacedDaemonSet({ name: 'cilium', namespace: 'kube-system' });
      let op = true;
      try {
        op = deploymentRolledOut(await apps.readNamespacedDeployment({ name: 'cilium-operator', namespace: 'kube-system' }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      ctx.heartbeat({ updated: ds.status?.updatedNumberScheduled, available: ds.status?.numberAvailable, desired: ds.status?.desiredNumberScheduled });
      if (daemonSetRolledOut(ds) && op) return { seconds: (Date.now() - started) / 1000 };
      if (Date.now() - started > timeoutSec * 1000) {
        throw new Error(`ds/cilium not rolled out after ${timeoutSec}s (updated ${ds.status?.updatedNumberScheduled}/${ds.status?.desiredNumberScheduled}, available ${ds.status?.numberAvailable})`);
      }
      await sleep(2000, ctx.cancellationSignal);
    }
  }

  return {
    /**
     * Turn Hubble on or off for real: the agent has no runtime switch (the
     * reference's `cilium config set hubble-disable` is refused and its error
     * was discarded), so set `enable-hubble` in cilium-config and roll the
     * agents. Returns the previous value so the run can restore it.
     */
    async setHubble(input: { enabled: boolean; timeoutSec?: number }): Promise<{ previous?: string; restarted: boolean }> {
      const cm = await core.readNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system' });
      const previous = cm.data?.['enable-hubble'];
      const want = String(input.enabled);
      if ((previous ?? 'false') === want) return { previous, restarted: false };
      cm.data = { ...(cm.data ?? {}), 'enable-hubble': want };
      await core.replaceNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system', body: cm });
      await restartAndWait(input.timeoutSec ?? 300);
      return { previous, restarted: true };
    },

    async applyPolicy(input: { ns: string; kind: 'l3l4' | 'l7' }): Promise<void> {
      const body = policyObject(input.ns, input.kind);
      try {
        await custom.createNamespacedCustomObject({ ...CNP, namespace: input.ns, body });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    },

    async deletePolicy(input: { ns: string; kind: 'l3l4' | 'l7' }): Promise<void> {
      try {
        await custom.deleteNamespacedCustomObject({ ...CNP, namespace: input.ns, name: POLICY_NAMES[input.kind] });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },

    /** Raise bpf-lb-map-max; returns the raw value it replaced (absent: the key was not set) so the run can restore it. */
    async patchLbMapMax(input: { value: number }): Promise<{ previous?: string }> {
      const cm = await core.readNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system' });
      const previous = cm.data?.['bpf-lb-map-max'];
      cm.data = { ...(cm.data ?? {}), 'bpf-lb-map-max': String(input.value) };
      await core.replaceNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system', body: cm });
      return previous === undefined ? {} : { previous };
    },

    /**
     * Put one cilium-config key back as it was before the run (remove it if
     * it was not set) and, if that changed anything, roll the agents so the
     * running datapath matches the restored config. Idempotent.
     */
    async restoreCiliumConfig(input: { key: string; previous?: string; timeoutSec?: number }): Promise<{ changed: boolean }> {
      const cm = await core.readNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system' });
      const now = cm.data?.[input.key];
      if (now === input.previous) return { changed: false };
      const data = { ...(cm.data ?? {}) };
      if (input.previous === undefined) delete data[input.key];
      else data[input.key] = input.previous;
      cm.data = data;
      await core.replaceNamespacedConfigMap({ name: 'cilium-config', namespace: 'kube-system', body: cm });
      await restartAndWait(input.timeoutSec ?? 300);
      return { changed: true };
    },

    /**
     * The benchmark pods' Cilium endpoints: for each pod, its node, the agent
     * pod on that node and the endpoint that agent lists for it
     * (`cilium-dbg endpoint list -o json`). An agent that cannot be asked is
     * recorded with the error, not thrown: the run then measures as it always did.
     */
    async ciliumEndpoints(input: { ns: string; pods: string[] }): Promise<EndpointCheck> {
      const ctx = Context.current();
      const inNs = (await core.listNamespacedPod({ namespace: input.ns })).items;
      const agents = await agentPods();
      const labNodes = new Set((await core.listNode({ labelSelector: `${LAB_NODE_LABEL}=true` })).items.map((n) => n.metadata?.name));
      const out: EndpointCheck = { ns: input.ns, pods: [], agents: [] };
      const listed = new Map<string, ReturnType<typeof parseCiliumEndpointList>>();
      for (const name of input.pods) {
        const node = inNs.find((p) => p.metadata?.name === name)?.spec?.nodeName;
        const agent = node ? agents.get(node) : undefined;
        const entry: EndpointCheck['pods'][number] = { pod: name, ...(node ? { node } : {}), ...(agent ? { agentPod: agent.metadata!.name! } : {}) };
        if (node && agent && !out.agents.some((a) => a.node === node)) {
          const rec: EndpointCheck['agents'][number] = { node, agentPod: agent.metadata!.name!, lab: labNodes.has(node) };
          try {
            const eps = parseCiliumEndpointList(await agentCli(agent, ciliumEndpointListArgs(), ctx.cancellationSignal));
            listed.set(node, eps);
            rec.endpoints = describeEndpoints(eps);
          } catch (err) {
            if (ctx.cancellationSignal.aborted) throw err;
            rec.error = (err as Error).message;
          }
          out.agents.push(rec);
          ctx.heartbeat({ node });
        }
        const ep = node ? endpointOfPod(listed.get(node) ?? [], input.ns, name) : undefined;
        if (ep) entry.endpointId = ep.id;
        out.pods.push(entry);
      }
      return out;
    },

    /**
     * What the agent on `node` did with the CiliumNetworkPolicy just applied:
     * imported (its rules, labelled with the policy's name and namespace, are
     * in `cilium-dbg policy get -o json`) or refused (the agent logged
     * "Unable to add CiliumNetworkPolicy" for it since `since`; its error is
     * the reason). Polls until one of them shows or `timeoutSec` passes
     * (then 'unknown', as when the agent cannot be asked).
     */
    async policyVerdict(input: { ns: string; kind: 'l3l4' | 'l7'; node: string; since: string; timeoutSec?: number }): Promise<PolicyVerdict> {
      const ctx = Context.current();
      const name = POLICY_NAMES[input.kind];
      const started = Date.now();
      const seconds = () => (Date.now() - started) / 1000;
      const agent = (await agentPods()).get(input.node);
      if (!agent) return { verdict: 'unknown', node: input.node, detail: `no running Cilium agent pod on node ${input.node}`, seconds: seconds() };
      const agentPod = agent.metadata!.name!;
      const sinceMs = Date.parse(input.since);
      let lastError: string | undefined;
      for (;;) {
        try {
          const repo = parseCiliumPolicyGet(await agentCli(agent, ciliumPolicyGetArgs(), ctx.cancellationSignal));
          if (policyImported(repo, input.ns, name)) return { verdict: 'imported', node: input.node, agentPod, revision: repo.revision, seconds: seconds() };
          const log = await core.readNamespacedPodLog({
            name: agentPod,
            namespace: 'kube-system',
            container: agentContainer(agent),
            timestamps: true,
            // a margin for clocks: the workflow's `since` and the node's log timestamps
            sinceSeconds: Math.max(1, Math.ceil((Date.now() - sinceMs) / 1000) + 10),
          });
          const refusal = findPolicyRefusal(log, input.ns, name, new Date(sinceMs - 10_000).toISOString());
          if (refusal) return { verdict: 'refused', node: input.node, agentPod, refusal: refusal.error, logLine: refusal.line, seconds: seconds() };
          lastError = undefined;
        } catch (err) {
          if (ctx.cancellationSignal.aborted) throw err;
          lastError = (err as Error).message;
        }
        ctx.heartbeat({ seconds: seconds() });
        if (seconds() >= (input.timeoutSec ?? 30)) {
          return {
            verdict: 'unknown',
            node: input.node,
            agentPod,
            detail: lastError ?? `after ${Math.round(seconds())} s the agent neither lists the policy ${input.ns}/${name} in \`cilium-dbg policy get\` nor logs a refusal of it`,
            seconds: seconds(),
          };
        }
        await sleep(1000, ctx.cancellationSignal);
      }
    },

    /** rollout restart ds/cilium and deploy/cilium-operator, then wait until the DaemonSet is rolled out and Ready. */
    async rolloutRestartCilium(input: { timeoutSec: number }): Promise<{ seconds: number }> {
      return restartAndWait(input.timeoutSec);
    },
  };
}
