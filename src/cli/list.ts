/**
 * `netbench list`: runs from Temporal visibility, filtered by cluster, type,
 * status and date (a visibility query built from the flags, or --query).
 */
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { renderTextTable } from '../report/table';
import { SA, WORKFLOW } from '../shared';

export const LIST_HELP = `netbench list: benchmark runs, newest first (Temporal visibility)

Options:
  --cluster NAME       runs of this kube context (search attribute NetbenchCluster)
  --type TYPE          cluster type: kubeproxy-iptables, cilium-native, ... (NetbenchClusterType)
  --status S           Running, Completed, Failed, Canceled, Terminated, TimedOut
  --since DATE         started at or after DATE (ISO 8601, e.g. 2026-11-01 or 2026-11-20T22:00:00Z)
  --until DATE         started before DATE
  --regression         only runs flagged as a regression
  --untrusted          only runs whose large-scale results are untrustworthy
  --query Q            a raw visibility query (ANDed with the above)
  --limit N            at most N runs (default 20)
  -h, --help           this help
`;

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const STATUSES = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'TimedOut', 'ContinuedAsNew'];

/** Build the visibility query; throws on bad values (before any call to Temporal). */
export function listQuery(v: { cluster?: string; type?: string; status?: string; since?: string; until?: string; regression?: boolean; untrusted?: boolean; query?: string }): string {
  const parts = [`WorkflowType = '${WORKFLOW.benchmarkRun}'`];
  if (v.cluster) parts.push(`${SA.cluster.name} = ${quote(v.cluster)}`);
  if (v.type) parts.push(`${SA.clusterType.name} = ${quote(v.type)}`);
  if (v.status) {
    const s = STATUSES.find((x) => x.toLowerCase() === v.status!.toLowerCase());
    if (!s) throw Object.assign(new Error(`--status must be one of ${STATUSES.join(', ')}`), { usage: true });
    parts.push(`ExecutionStatus = '${s}'`);
  }
  for (const [flag, op] of [['since', '>='], ['until', '<']] as const) {
    const d = v[flag];
    if (!d) continue;
    const t = new Date(d);
    if (Number.isNaN(t.getTime())) throw Object.assign(new Error(`--${flag} "${d}" is not a date (use ISO 8601, e.g. 2026-11-20)`), { usage: true });
    parts.push(`StartTime ${op} '${t.toISOString()}'`);
  }
  if (v.regression) parts.push(`${SA.regression.name} = true`);
  if (v.untrusted) parts.push(`${SA.trusted.name} = false`);
  if (v.query) parts.push(`(${v.query})`);
  return parts.join(' AND ');
}

export async function listMain(argv: string[], client: () => Promise<Client>): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cluster: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' },
      regression: { type: 'boolean' }, untrusted: { type: 'boolean' }, query: { type: 'string' }, limit: { type: 'string' },
      address: { type: 'string' }, namespace: { type: 'string' }, 'ui-url': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(LIST_HELP);
    return 0;
  }
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw Object.assign(new Error(`--limit must be a positive whole number, not "${values.limit}"`), { usage: true });
  const query = listQuery(values);
  const c = await client();
  const rows: (string | number)[][] = [];
  for await (const w of c.workflow.list({ query })) {
    const sa = w.typedSearchAttributes;
    const get = (name: string) => sa.getAll().find((p) => p.key.name === name)?.value;
    rows.push([
      w.workflowId,
      String(get('NetbenchCluster') ?? ''),
      String(get('NetbenchClusterType') ?? ''),
      w.status.name,
      String(get('NetbenchPhase') ?? ''),
      w.startTime.toISOString().replace('T', ' ').slice(0, 19),
      get('NetbenchTrusted') === false ? 'no' : 'yes',
      get('NetbenchRegression') === true ? 'YES' : '',
    ]);
    if (rows.length >= limit) break;
  }
  if (!rows.length) {
    process.stdout.write(`no runs match: ${query}\n`);
    return 0;
  }
  process.stdout.write(renderTextTable(['workflow id', 'cluster', 'type', 'status', 'phase', 'started (UTC)', 'trusted', 'regression'], rows) + '\n');
  return 0;
}
