/**
 * kwok's Stages for the pods network: a pod gets the IP the lab gave its
 * sandbox, as a kubelet reports the sandbox's IP, and only once that
 * sandbox (namespace, eth0, servers) exists.
 *
 * kwok's own fast `pod-ready` stage takes a pod's IP from kwok's pool for
 * its node's podCIDR at once, before the lab could make the pod's
 * namespace (a pod was Ready before it had a network), and on a Cilium lab
 * the agent's IPAM (`ipam: kubernetes`) hands out addresses from the same
 * podCIDR: the two would disagree. So the lab's controller
 * (lab/pod-network-controller.ts) makes the sandbox first (its own IPAM on
 * a kube-proxy lab, cilium-cni on a Cilium lab), writes the IP into the
 * annotation below, and kwok's pod-ready, derived here, is split in two:
 *   - `hostNetwork` pods: kwok's stage as it is (the node's IP);
 *   - other pods: only once the annotation exists, with podIP(s) from it.
 * A pod without the annotation stays Pending, as a pod whose sandbox is not
 * made yet does.
 *
 * Any Stage in the kwokctl config replaces ALL of kwok's default stages
 * (kwokctl v0.8.0, pkg/kwokctl/runtime/cluster.go), so the set is complete:
 * the node stages and the other pod stages are kwok's, read from the copy
 * `scripts/setup.sh kube` keeps of the kwok module's `kustomize/stage`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { componentVersion, netbenchCache } from '../config';

/** The pod annotation the lab writes the CNI's IP into (kwok's pod-ready reads it). */
export const POD_IP_ANNOTATION = 'netbench.io/pod-ip';

/** kwok's stage documents (as `kwokctl` uses them by default for a cluster like the lab's). */
const KWOK_STAGE_FILES = [
  'node/fast/node-initialize.yaml',
  // kwokctl's default with node leases on (the lab's Kubernetes): the heartbeat that renews them.
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

export function kwokStageDir(): string {
  return path.join(netbenchCache(), `kwok-${componentVersion('KWOK_VERSION') ?? 'v0.8.0'}`, 'stage');
}

interface Stage {
  kind: string;
  apiVersion: string;
  metadata: { name: string };
  spec: {
    selector?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] };
    next: { statusTemplate?: string };
  } & Record<string, unknown>;
}

/** The line of kwok's pod-ready template that takes an IP from kwok's pool. */
const POOL_IPS = /\{\{\s*\$podIPs\s*:=\s*PodIPsWith[^}]*\}\}/;

/** Stage documents for the kwokctl config (throws, naming what is missing, when kwok's stages are not there). */
export function cniPodStages(dir = kwokStageDir()): Stage[] {
  const missing = KWOK_STAGE_FILES.filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length) {
    throw new Error(`kwok's stage documents are missing from ${dir} (${missing.join(', ')}): run scripts/setup.sh kube`);
  }
  const stages = KWOK_STAGE_FILES.map((f) => loadYaml<Stage>(readFileSync(path.join(dir, f), 'utf8')));
  const ready = stages.find((s) => s.metadata.name === 'pod-ready');
  const template = ready?.spec.next.statusTemplate;
  if (!ready || !template || !POOL_IPS.test(template)) {
    throw new Error(`kwok's pod-ready stage in ${dir} no longer takes pod IPs from PodIPsWith: lab/datapath/kwok-stages.ts must be brought up to date`);
  }
  const withExpr = (s: Stage, name: string, extra: { key: string; operator: string; values?: string[] }[], statusTemplate: string): Stage => ({
    ...s,
    metadata: { ...s.metadata, name },
    spec: {
      ...s.spec,
      selector: { ...s.spec.selector, matchExpressions: [...(s.spec.selector?.matchExpressions ?? []), ...extra] },
      next: { ...s.spec.next, statusTemplate },
    },
  });
  const hostNetwork = { key: '.spec.hostNetwork', operator: 'In', values: ['true'] };
  const notHostNetwork = { key: '.spec.hostNetwork', operator: 'NotIn', values: ['true'] };
  const annotated = { key: `.metadata.annotations."${POD_IP_ANNOTATION}"`, operator: 'Exists' };
  return [
    ...stages.filter((s) => s !== ready),
    withExpr(ready, 'pod-ready-host-network', [hostNetwork], template),
    withExpr(ready, 'pod-ready-cni', [notHostNetwork, annotated], template.replace(POOL_IPS, `{{ $podIPs := list (index .metadata.annotations "${POD_IP_ANNOTATION}") }}`)),
  ];
}
