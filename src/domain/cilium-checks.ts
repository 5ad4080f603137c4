/**
 * What the Cilium agents did with what the Hubble and NetworkPolicy phases
 * depend on, and the reason a scenario records instead of a figure when the
 * agent had nothing to act on:
 *
 *   - an endpoint for each benchmark pod (`cilium-dbg endpoint list` in the
 *     agent on the pod's node): without one, a policy selects nothing and
 *     Hubble sees none of the benchmark's flows, so "with" and "without"
 *     would measure the same path;
 *   - the policy imported into the agent's repository (`cilium-dbg policy
 *     get`) or refused, with the agent's own words from its log.
 *
 * The activities (activities/cilium.ts) gather the facts; this file turns
 * them into decisions and reasons. Pure: imported by the workflow.
 */

/** The Cilium agent pods in kube-system (DaemonSet cilium), by the label every Cilium install gives them. */
export const CILIUM_AGENT_SELECTOR = 'k8s-app=cilium';

/** The benchmark pods a policy selects and whose traffic Hubble would observe: the policies' endpointSelector and fromEndpoints. */
export const POLICY_PODS = { server: 'fortio-server', client: 'fortio-client' } as const;

/** The Cilium endpoints of the benchmark pods, asked of the agent on each pod's node. */
export interface EndpointCheck {
  ns: string;
  pods: {
    pod: string;
    /** the node the pod runs on (absent: the pod was not found) */
    node?: string;
    /** the agent pod asked (absent: no running agent on that node) */
    agentPod?: string;
    /** the pod's Cilium endpoint id, when the agent has one */
    endpointId?: number;
  }[];
  /** one per node asked */
  agents: {
    node: string;
    agentPod?: string;
    /** the node is one of netbench's lab nodes (label netbench.dev/lab=true) */
    lab: boolean;
    /** what the agent lists, in short ("1 endpoint: reserved:host") */
    endpoints?: string;
    /** why the agent could not be asked */
    error?: string;
  }[];
}

/** What the agent did with an applied CiliumNetworkPolicy. */
export interface PolicyVerdict {
  verdict: 'imported' | 'refused' | 'unknown';
  node: string;
  agentPod?: string;
  /** the agent's policy revision that holds the imported rules */
  revision?: number;
  /** refused: the agent's error, as it logged it */
  refusal?: string;
  /** refused: the whole log line */
  logLine?: string;
  /** unknown: why no verdict (agent not found, no answer in time, exec failed) */
  detail?: string;
  seconds: number;
}

/** The lab cannot give pods their own network namespaces yet. */
const LAB_CAUSE = 'netbench\'s lab runs every pod in one network namespace, so no agent manages them (issue 8)';
const CLUSTER_CAUSE = 'Cilium does not manage these pods (are they in a CNI-chaining or unmanaged setup, or older than the agent?)';

/**
 * The benchmark pods the agents have no endpoint for, as a reason's first
 * part: "no Cilium endpoint for fortio-server on node w1 nor fortio-client on
 * node w2 (the agent there lists 1 endpoint: reserved:host; netbench's lab
 * ...)". undefined when every pod has an endpoint, or when an agent could not
 * be asked (then `unknownEndpoints` says why and the phase measures as it
 * always did).
 */
export function missingEndpoints(check: EndpointCheck, pods: readonly string[]): string | undefined {
  if (unknownEndpoints(check, pods)) return undefined;
  const missing = check.pods.filter((p) => pods.includes(p.pod) && p.endpointId === undefined);
  if (!missing.length) return undefined;
  const where = missing.map((p) => `${p.pod} on node ${p.node}`).join(' nor ');
  const agents = [...new Set(missing.map((p) => p.node))].map((n) => check.agents.find((a) => a.node === n)!);
  const lists = agents.map((a) => `${a.agentPod} on ${a.node} lists ${a.endpoints ?? 'nothing'}`).join('; ');
  const lab = agents.every((a) => a.lab);
  return `no Cilium endpoint for ${where} in namespace ${check.ns} (agent ${lists}): ${lab ? LAB_CAUSE : CLUSTER_CAUSE}`;
}

/** Why the endpoints of `pods` are not known (a pod or its node's agent not found, the agent not answering), or undefined. */
export function unknownEndpoints(check: EndpointCheck, pods: readonly string[]): string | undefined {
  const why: string[] = [];
  for (const name of pods) {
    const p = check.pods.find((x) => x.pod === name);
    if (!p?.node) why.push(`pod ${name} not found in namespace ${check.ns}`);
    else if (!p.agentPod) why.push(`no running Cilium agent pod on node ${p.node}`);
    else {
      const err = check.agents.find((a) => a.node === p.node)?.error;
      if (err) why.push(`agent ${p.agentPod} on node ${p.node}: ${err}`);
    }
  }
  return why.length ? [...new Set(why)].join('; ') : undefined;
}

/** The reason of a Hubble scenario with nothing to observe. */
export function hubbleNotMeasured(missing: string): string {
  return `Hubble observes endpoint traffic only and there is none to observe, so "Hubble on" and "Hubble off" would measure the same path (neither is measured, the agent is not restarted): ${missing}`;
}

/** The reason of the no-policy baseline when no policy can act. */
export function baselineNotMeasured(missing: string): string {
  return `the baseline of the policy overheads (the same path as svc_c64 of the RPS phase), and neither policy has an endpoint to act on: ${missing}`;
}

/** The reason of a policy scenario the agent refused or could not enforce; undefined: measure it. */
export function policyNotMeasured(kind: 'l3l4' | 'l7', v: PolicyVerdict | undefined, missing: string | undefined): string | undefined {
  const title = kind === 'l7' ? 'L7 CiliumNetworkPolicy' : 'L3/L4 CiliumNetworkPolicy';
  if (v?.verdict === 'refused') return `the Cilium agent refused the ${title}: "${v.refusal}" (its log, pod ${v.agentPod} on node ${v.node})`;
  if (missing) {
    const who = v?.verdict === 'imported' ? `the agent imported the ${title} (policy revision ${v.revision}), but it` : `the ${title}`;
    return `${who} selects no endpoint, so it has nothing to act on: ${missing}`;
  }
  return undefined;
}
