/**
 * Server-side apply of a set of objects: idempotent (a retried activity or a
 * second run converges to the same objects) and owned by field manager
 * "netbench".
 */
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'netbench';

export async function applyObjects(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    await api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
}

export async function deleteObject(kc: KubeConfig, obj: KubernetesObject): Promise<boolean> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  try {
    await api.delete(obj);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}
