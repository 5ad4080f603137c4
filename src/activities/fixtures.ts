/**
 * Test workloads up (apply, wait Ready, resolve target IPs) and namespaces
 * down (delete, wait until gone). Heartbeats while waiting.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { fixtureObjects, FIXTURE_PODS, type FixtureInput } from '../domain/fixtures';
import type { Targets } from '../domain/scenarios';
import { applyObjects } from '../kube/apply';
import { isNotFound, type KubeClients } from '../kube/client';
import { purgeDummyObjects } from './services';
import { abortableSleep as sleep } from '../kube/batches';
import { waitForNamespaceGone, WaitTimeoutError } from '../kube/waits';

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function podProblem(p: V1Pod): string {
  const waiting = p.status?.containerStatuses?.map((c) => c.state?.waiting?.reason).filter(Boolean).join(',');
  return `${p.metadata?.name}: ${p.status?.phase ?? 'no status'}${waiting ? ` (${waiting})` : ''}`;
}

export function makeFixtureActivities(deps: { kubeConfig: KubeConfig; kube?: Pick<KubeClients, 'core' | 'discovery'> }) {
  const kc = deps.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);

  return {
    async deployFixtures(input: FixtureInput & { readyTimeoutSec: number }): Promise<Targets> {
      const ctx = Context.current();
      await applyObjects(kc, fixtureObjects(input));
      const deadline = Date.now() + input.readyTimeoutSec * 1000;
      let pods: V1Pod[] = [];
      for (;;) {
        pods = (await core.listNamespacedPod({ namespace: input.ns, labelSelector: 'app=benchmark' })).items;
        const ready = pods.filter((p) => FIXTURE_PODS.includes(p.metadata?.name as never) && isReady(p));
        ctx.heartbeat({ ready: ready.length, of: FIXTURE_PODS.length });
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

    /** Delete namespaces and wait until they are gone (heartbeating), so a next run starts clean. */
    async deleteNamespaces(input: { namespaces: string[]; timeoutSec?: number }): Promise<{ deleted: string[] }> {
      const ctx = Context.current();
      const deleted: string[] = [];
      for (const name of input.namespaces) {
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
      for (const name of input.namespaces) {
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
      return { deleted };
    },
  };
}
