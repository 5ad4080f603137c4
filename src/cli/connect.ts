/** Temporal connection for the CLI: address, namespace, and the Web UI link. */
import { Client, Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_SPECS } from '../shared';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Web UI base URL; default: the dev server's UI on the gRPC port + 1000 */
  uiUrl?: string;
}

export async function connect(t: TemporalTarget): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: t.address, connectTimeout: '5s' });
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${t.address} (${(err as Error).message}). Start one with \`npm start\` (dev server) or set TEMPORAL_ADDRESS / --address.`,
    );
  }
  return new Client({ connection, namespace: t.namespace });
}

export function uiBase(t: TemporalTarget): string {
  if (t.uiUrl) return t.uiUrl.replace(/\/$/, '');
  const env = process.env.TEMPORAL_UI_URL;
  if (env) return env.replace(/\/$/, '');
  const m = /^(.*):(\d+)$/.exec(t.address);
  const host = m ? m[1] : t.address;
  const port = m ? Number(m[2]) + 1000 : 8233;
  return `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`;
}

export const workflowUrl = (t: TemporalTarget, id: string) => `${uiBase(t)}/namespaces/${encodeURIComponent(t.namespace)}/workflows/${encodeURIComponent(id)}`;

/** Which of netbench's search attributes the namespace lacks (empty = all registered). */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  try {
    const r = await client.connection.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(r.customAttributes ?? {}));
    return SEARCH_ATTRIBUTE_SPECS.map((s) => s.name).filter((n) => !have.has(n));
  } catch {
    return SEARCH_ATTRIBUTE_SPECS.map((s) => s.name);
  }
}
