/**
 * What a run needs to be allowed to do in the cluster, phase by phase, so
 * that RBAC that forbids any of it is found before anything changes (the
 * claim activity asks the apiserver with SelfSubjectAccessReviews) instead
 * of hours later in the middle of a scale step. Pure.
 *
 * deploy/rbac.yaml grants exactly these (test/unit/rbac.test.ts holds the
 * request-level table the activities make).
 */
import type { PhaseName } from '../config';
import { FIXTURE_PODS, FIXTURE_SERVICES } from './fixtures';

export interface AccessNeed {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** what needs it, in words a person acts on */
  why: string;
}

export interface AccessPlan {
  ns: string;
  scaleNamespace: string;
  /** phases the run will run */
  phases: PhaseName[];
  cilium: boolean;
  endpointsMode: 'endpointslices' | 'endpoints';
  /** the workload namespace exists and is the user's: netbench will not create or patch it */
  workloadNamespaceIsUsers?: boolean;
}

export function accessNeeded(p: AccessPlan): AccessNeed[] {
  const needs: AccessNeed[] = [
    { verb: 'create', group: '', resource: 'pods', namespace: p.ns, name: FIXTURE_PODS[0], why: 'the test workloads (server-side apply)' },
    { verb: 'patch', group: '', resource: 'pods', namespace: p.ns, name: FIXTURE_PODS[0], why: 'the test workloads (server-side apply)' },
    { verb: 'create', group: '', resource: 'services', namespace: p.ns, name: FIXTURE_SERVICES[1], why: 'the iperf and fortio Services' },
    { verb: 'list', group: '', resource: 'pods', namespace: p.ns, why: 'waiting for the test pods to be Ready' },
    { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: p.ns, name: 'fortio-client', why: 'every measurement runs its tool in a client pod' },
  ];
  if (p.workloadNamespaceIsUsers) {
    needs.push({ verb: 'delete', group: '', resource: 'pods', namespace: p.ns, name: FIXTURE_PODS[0], why: 'cleanup of netbench\'s own pods in a namespace it did not create' });
  } else {
    needs.push(
      { verb: 'create', group: '', resource: 'namespaces', why: 'creating the benchmark namespace' },
      { verb: 'delete', group: '', resource: 'namespaces', name: p.ns, why: 'cleanup of the namespaces netbench creates' },
    );
  }
  if (p.phases.includes('service-scale')) {
    needs.push(
      { verb: 'create', group: '', resource: 'services', namespace: p.scaleNamespace, why: 'the dummy Services of the Service-scale phase' },
      p.endpointsMode === 'endpoints'
        ? { verb: 'create', group: '', resource: 'endpoints', namespace: p.scaleNamespace, why: 'the dummy Services\' Endpoints (SVC_ENDPOINTS_KIND=endpoints)' }
        : { verb: 'create', group: 'discovery.k8s.io', resource: 'endpointslices', namespace: p.scaleNamespace, why: 'the dummy Services\' EndpointSlices' },
      { verb: 'list', group: '', resource: 'services', namespace: p.scaleNamespace, why: 'counting the dummy Services' },
      { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'kube-system', why: 'reading the datapath (rules, LB entries) to measure convergence' },
    );
  }
  if (p.phases.includes('metrics')) {
    needs.push({ verb: 'list', group: 'metrics.k8s.io', resource: 'pods', namespace: 'kube-system', why: 'the datapath component\'s CPU and memory' });
  }
  if (p.cilium && (p.phases.includes('hubble') || p.phases.includes('service-scale'))) {
    needs.push(
      { verb: 'update', group: '', resource: 'configmaps', namespace: 'kube-system', name: 'cilium-config', why: 'the Hubble toggle and the LB-map fix (cilium-config)' },
      { verb: 'update', group: 'apps', resource: 'daemonsets', namespace: 'kube-system', name: 'cilium', why: 'restarting Cilium after a cilium-config change' },
    );
  }
  if (p.cilium && (p.phases.includes('hubble') || p.phases.includes('networkpolicy'))) {
    needs.push({ verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: 'kube-system', why: 'asking the Cilium agents whether the benchmark pods have endpoints and whether they imported a policy (cilium-dbg)' });
  }
  if (p.cilium && p.phases.includes('networkpolicy')) {
    needs.push(
      { verb: 'create', group: 'cilium.io', resource: 'ciliumnetworkpolicies', namespace: p.ns, why: 'the NetworkPolicy overhead phase' },
      { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: 'kube-system', why: 'the Cilium agent\'s log: its reason when it refuses a policy' },
    );
  }
  return needs;
}

/** One line per need: `create pods/exec in network-benchmark (every measurement ...)`. */
export function describeNeed(n: AccessNeed): string {
  const what = `${n.verb} ${n.group ? `${n.resource}.${n.group}` : n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.name ? ` "${n.name}"` : ''}`;
  return `${what} ${n.namespace ? `in namespace ${n.namespace}` : '(cluster-wide)'}: needed for ${n.why}`;
}
