/**
 * Cilium-only actions: Hubble toggle, CiliumNetworkPolicy apply/delete,
 * the LB-map capacity patch and the rollout restart it needs.
 */
import { Context } from '@temporalio/activity';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1DaemonSet, type V1Deployment } from '@kubernetes/client-node';
import { isNotFound } from '../kube/client';
import { abortableSleep as sleep } from '../kube/batches';

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

export function makeCiliumActivities(deps: { kubeConfig: KubeConfig }) {
  const kc = deps.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

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

    /** rollout restart ds/cilium and deploy/cilium-operator, then wait until the DaemonSet is rolled out and Ready. */
    async rolloutRestartCilium(input: { timeoutSec: number }): Promise<{ seconds: number }> {
      return restartAndWait(input.timeoutSec);
    },
  };
}
