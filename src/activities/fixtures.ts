/**
 * Test workloads up (apply, wait Ready, resolve target IPs) and namespaces
 * down (delete, wait until gone). Heartbeats while waiting.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type V1Namespace, type V1Pod } from '@kubernetes/client-node';
import { accessNeeded, describeNeed, type AccessPlan } from '../domain/access';
import {
  FIXTURE_PODS,
  FIXTURE_SERVICES,
  MANAGED_BY_LABEL,
  MANAGED_BY_NETBENCH,
  fixtureObjects,
  namespaceOwner,
  namespaceRefusal,
  type FixtureInput,
  type NamespaceOwner,
} from '../domain/fixtures';
import { DUMMY_SELECTOR } from '../domain/services';
import { CNP, POLICY_NAMES } from './cilium';
import type { Targets } from '../domain/scenarios';
import { applyObjects } from '../kube/apply';
import { describeKubeError, isNotFound, isRetryableKubeError, statusCodeOf, type KubeClients } from '../kube/client';
import { purgeDummyObjects } from './services';
import { abortableSleep as sleep } from '../kube/batches';
import { waitForNamespaceGone, WaitTimeoutError } from '../kube/waits';

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function podProblem(p: V1Pod): string {
  const waiting = p.status?.containerStatuses?.map((c) => c.state?.waiting?.reason).filter(Boolean).join(',');
  return `${p.metadata?.name}: ${p.status?.phase ?? 'no status'}${waiting ? ` (${waiting})` : ''}`;
}

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);

/** `pod: image (reason: message)` for each container of a pod whose image cannot be pulled. */
function imageProblems(p: V1Pod): string[] {
  return (p.status?.containerStatuses ?? [])
    .filter((c) => c.state?.waiting?.reason && PULL_FAILURES.has(c.state.waiting.reason))
    .map((c) => `${p.metadata?.name}: ${c.image} (${c.state!.waiting!.reason}${c.state!.waiting!.message ? `: ${c.state!.waiting!.message.slice(0, 160)}` : ''})`);
}

export function makeFixtureActivities(deps: { kubeConfig: KubeConfig; kube?: Pick<KubeClients, 'core' | 'discovery'> }) {
  const kc = deps.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const authz = kc.makeApiClient(AuthorizationV1Api);

  /** Read a namespace (undefined: there is none). A transient fault (429, 5xx, a reset) is retried here, a few times, rather than costing the whole activity attempt. */
  async function readNamespace(name: string): Promise<V1Namespace | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await core.readNamespace({ name });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        if (attempt >= 5 || !isRetryableKubeError(err)) throw err;
        await sleep(250 * 2 ** attempt);
      }
    }
  }

  /**
   * In a namespace netbench did not create: delete only netbench's own
   * objects (the fixture pods and Services, its policies, the dummy
   * Services and their endpoints), each checked for netbench's label, and
   * wait until the pods are gone. The namespace itself is not touched.
   */
  async function removeOwnObjects(namespace: string, signal: AbortSignal, beat: (d: unknown) => void): Promise<number> {
    let removed = 0;
    const del = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        removed++;
      } catch (err) {
        if (!isNotFound(err)) throw new Error(`deleting ${what} in namespace ${namespace}: ${describeKubeError(err)}`);
      }
    };
    const purge = await purgeDummyObjects(deps.kube ?? { core, discovery }, namespace, {
      signal,
      onProgress: (n) => beat({ deletingDummyServicesIn: namespace, deleted: n }),
    });
    if (purge.skipped) throw new Error(`the dummy Services in namespace ${namespace} could not be deleted: ${purge.skipped}`);
    removed += purge.deleted;
    // v1 Endpoints of the reference's mode (SVC_ENDPOINTS_KIND=endpoints)
    for (const e of (await core.listNamespacedEndpoints({ namespace, labelSelector: DUMMY_SELECTOR })).items) {
      await del(`Endpoints ${e.metadata!.name}`, () => core.deleteNamespacedEndpoints({ namespace, name: e.metadata!.name! }));
    }
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: MANAGED_BY_NETBENCH })).items.filter((p) =>
      (FIXTURE_PODS as readonly string[]).includes(p.metadata?.name ?? ''),
    );
    for (const p of pods) await del(`pod ${p.metadata!.name}`, () => core.deleteNamespacedPod({ namespace, name: p.metadata!.name!, gracePeriodSeconds: 0 }));
    const svcs = (await core.listNamespacedService({ namespace, labelSelector: MANAGED_BY_NETBENCH })).items.filter((x) =>
      (FIXTURE_SERVICES as readonly string[]).includes(x.metadata?.name ?? ''),
    );
    for (const x of svcs) await del(`Service ${x.metadata!.name}`, () => core.deleteNamespacedService({ namespace, name: x.metadata!.name! }));
    for (const name of Object.values(POLICY_NAMES)) {
      let cnp: { metadata?: { labels?: Record<string, string> } } | undefined;
      try {
        cnp = (await custom.getNamespacedCustomObject({ ...CNP, namespace, name })) as typeof cnp;
      } catch (err) {
        if (isNotFound(err)) continue; // no such policy, or no Cilium CRD at all
        throw new Error(`reading CiliumNetworkPolicy ${name} in namespace ${namespace}: ${describeKubeError(err)}`);
      }
      if (cnp?.metadata?.labels?.[MANAGED_BY_LABEL] !== 'netbench') continue;
      await del(`CiliumNetworkPolicy ${name}`, () => custom.deleteNamespacedCustomObject({ ...CNP, namespace, name }));
    }
    const deadline = Date.now() + 300_000;
    for (;;) {
      const left = (await core.listNamespacedPod({ namespace, labelSelector: MANAGED_BY_NETBENCH })).items.filter((p) =>
        (FIXTURE_PODS as readonly string[]).includes(p.metadata?.name ?? ''),
      );
      if (!left.length) break;
      if (Date.now() > deadline) throw new Error(`netbench's pods in namespace ${namespace} still terminating after 300 s: ${left.map((p) => p.metadata?.name).join(', ')}`);
      beat({ waitingFor: `netbench's pods in ${namespace} to go`, left: left.length });
      await sleep(1000, signal);
    }
    return removed;
  }

  return {
    /**
     * Before anything changes: may the run use its namespaces? One that
     * exists without netbench's label is the user's: refused unless the user
     * said --use-existing-ns, and then it is never deleted or relabelled.
     */
    async claimNamespaces(input: {
      workloads: string;
      services: string;
      useExisting: boolean;
      /** what the run will do: RBAC that forbids any of it is refused here, before anything changes (0.3) */
      access?: Omit<AccessPlan, 'ns' | 'scaleNamespace' | 'workloadNamespaceIsUsers'>;
    }): Promise<{ owners: Record<string, NamespaceOwner> }> {
      const owners: Record<string, NamespaceOwner> = {};
      const problems: string[] = [];
      const unreadable: string[] = [];
      for (const [name, role] of [[input.workloads, 'workloads'], [input.services, 'services']] as const) {
        let ns: V1Namespace | undefined;
        try {
          ns = await readNamespace(name);
        } catch (err) {
          if (statusCodeOf(err) !== 403) throw err;
          unreadable.push(describeNeed({ verb: 'get', group: '', resource: 'namespaces', name, why: 'checking whose namespace it is before using it' }));
          continue;
        }
        owners[name] = namespaceOwner(ns);
        const why = namespaceRefusal(name, ns, { useExisting: input.useExisting, role });
        if (why) problems.push(why);
        else if (ns?.status?.phase === 'Terminating' && owners[name] === 'user') {
          problems.push(`namespace "${name}" is being deleted by someone else; choose another one. Nothing was changed.`);
        }
      }
      if (problems.length) throw ApplicationFailure.nonRetryable([...new Set(problems)].join('\n'), 'NamespaceRefused');
      const denied = [...unreadable];
      if (input.access) {
        const needs = accessNeeded({ ...input.access, ns: input.workloads, scaleNamespace: input.services, workloadNamespaceIsUsers: owners[input.workloads] === 'user' });
        const answers = await Promise.all(
          needs.map(async (n) => {
            const r = await authz.createSelfSubjectAccessReview({
              body: { spec: { resourceAttributes: { verb: n.verb, group: n.group, resource: n.resource, subresource: n.subresource, namespace: n.namespace, name: n.name } } },
            });
            return { n, allowed: r.status?.allowed === true };
          }),
        );
        denied.push(...answers.filter((a) => !a.allowed).map((a) => describeNeed(a.n)));
      }
      if (denied.length) {
        throw ApplicationFailure.nonRetryable(
          `RBAC forbids what this run needs (nothing was changed):\n${denied.map((d) => `  - ${d}`).join('\n')}\n` +
            'Grant it (deploy/rbac.yaml lists every rule netbench needs), or leave the phase out with --skip.',
          'AccessDenied',
        );
      }
      return { owners };
    },

    async deployFixtures(input: FixtureInput & { readyTimeoutSec: number }): Promise<Targets> {
      const ctx = Context.current();
      // A namespace that existed before the run and is not netbench's is used as it is.
      const createNamespace = namespaceOwner(await readNamespace(input.ns)) !== 'user';
      await applyObjects(kc, fixtureObjects(input, { createNamespace }));
      const deadline = Date.now() + input.readyTimeoutSec * 1000;
      let pods: V1Pod[] = [];
      for (;;) {
        pods = (await core.listNamespacedPod({ namespace: input.ns, labelSelector: 'app=benchmark' })).items;
        const ready = pods.filter((p) => FIXTURE_PODS.includes(p.metadata?.name as never) && isReady(p));
        ctx.heartbeat({ ready: ready.length, of: FIXTURE_PODS.length });
        // An image that cannot be pulled will not be by waiting: say which, now, not after the timeout.
        const unpullable = pods.flatMap((p) => imageProblems(p));
        if (unpullable.length) {
          throw ApplicationFailure.nonRetryable(
            `test images cannot be pulled: ${unpullable.join('; ')}. Set IPERF_IMAGE / NETPERF_IMAGE / FORTIO_IMAGE to images the nodes can pull (netbench's cleanup removes what it created)`,
            'ImagePullFailed',
          );
        }
        if (ready.length === FIXTURE_PODS.length) break;
        if (Date.now() > deadline) {
          const notReady = FIXTURE_PODS.filter((n) => !ready.some((p) => p.metadata?.name === n)).map(
            (n) => pods.find((p) => p.metadata?.name === n) ?? ({ metadata: { name: n } } as V1Pod),
          );
          throw ApplicationFailure.nonRetryable(
            `test pods not Ready within ${input.readyTimeoutSec}s: ${notReady.map(podProblem).join('; ')}`,
            'PodsNotReady',
          );
        }
        await sleep(1000, ctx.cancellationSignal);
      }
      const pod = (n: string) => pods.find((p) => p.metadata?.name === n)!;
      const svcIp = async (name: string) => (await core.readNamespacedService({ name, namespace: input.ns })).spec?.clusterIP ?? '';
      // The Services must have a ready endpoint before "via Service" scenarios can measure anything.
      for (const svc of ['iperf-service', 'fortio-service']) {
        for (;;) {
          const slices = await discovery.listNamespacedEndpointSlice({ namespace: input.ns, labelSelector: `kubernetes.io/service-name=${svc}` });
          if (slices.items.some((s) => s.endpoints?.some((e) => e.conditions?.ready !== false))) break;
          if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`Service ${svc} has no ready endpoint after ${input.readyTimeoutSec}s`, 'NoEndpoints');
          ctx.heartbeat({ waitingFor: `${svc} endpoints` });
          await sleep(500, ctx.cancellationSignal);
        }
      }
      const targets: Targets = {
        serverNodeIp: pod('iperf-server-host').status?.hostIP ?? '',
        iperfServerPodIp: pod('iperf-server').status?.podIP ?? '',
        iperfServiceIp: await svcIp('iperf-service'),
        fortioServerPodIp: pod('fortio-server').status?.podIP ?? '',
        fortioServiceIp: await svcIp('fortio-service'),
        netperfServerPodIp: pod('netperf-server').status?.podIP ?? '',
      };
      const missing = Object.entries(targets).filter(([, v]) => !v).map(([k]) => k);
      if (missing.length) throw new Error(`target addresses not known yet: ${missing.join(', ')}`);
      return targets;
    },

    /**
     * Delete netbench's namespaces and wait until they are gone (heartbeating),
     * so a next run starts clean. A namespace netbench did not create (no
     * netbench label: the user's, used with --use-existing-ns) is never
     * deleted: only netbench's own objects are removed from it.
     */
    async deleteNamespaces(input: { namespaces: string[]; timeoutSec?: number }): Promise<{ deleted: string[]; kept?: { namespace: string; removedObjects: number }[] }> {
      const ctx = Context.current();
      const deleted: string[] = [];
      const kept: { namespace: string; removedObjects: number }[] = [];
      const ours: string[] = [];
      for (const name of [...new Set(input.namespaces)]) {
        const owner = namespaceOwner(await readNamespace(name));
        if (owner === 'absent') continue;
        if (owner === 'user') {
          kept.push({ namespace: name, removedObjects: await removeOwnObjects(name, ctx.cancellationSignal, (d) => ctx.heartbeat(d)) });
          continue;
        }
        ours.push(name);
        // Dummy Services first, many at a time: the namespace controller alone needed an hour for 20,000 on the lab.
        const purge = await purgeDummyObjects(deps.kube ?? { core, discovery }, name, {
          signal: ctx.cancellationSignal,
          onProgress: (n) => ctx.heartbeat({ deletingDummyServicesIn: name, deleted: n }),
        });
        if (purge.skipped) log.warn(`deleteNamespaces: ${name} left to the namespace controller: ${purge.skipped}`);
        try {
          await core.deleteNamespace({ name });
          deleted.push(name);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      // One deadline for all of them, as before: they terminate in parallel.
      const timeoutMs = (input.timeoutSec ?? 1800) * 1000;
      const started = Date.now();
      for (const name of ours) {
        try {
          await waitForNamespaceGone(core, name, {
            timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)),
            intervalMs: 1000,
            signal: ctx.cancellationSignal,
            onTick: () => ctx.heartbeat({ waitingFor: `namespace ${name} to go` }),
          });
        } catch (err) {
          if (err instanceof WaitTimeoutError) {
            throw new Error(`namespace ${name} still terminating after ${input.timeoutSec ?? 1800}s`);
          }
          throw err;
        }
      }
      return kept.length ? { deleted, kept } : { deleted };
    },
  };
}
