/**
 * `netbench setup-namespace`: register netbench's search attributes
 * (SEARCH_ATTRIBUTE_SPECS) on a Temporal namespace, so the Web UI can filter
 * runs by cluster, phase, scale step, trust and regression.
 *
 * Idempotent: it lists what the namespace has, adds only what is missing,
 * and reports what it created, what already existed, and any name that
 * exists with a different type (a conflict it does not touch: changing a
 * search attribute's type means removing it first, which is the operator's
 * call, not ours).
 */
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_SPECS } from '../shared';
import { connect, describeTarget, TEMPORAL_FLAGS_HELP, temporalFlagOptions, temporalTargetFrom } from './connect';

type SpecType = (typeof SEARCH_ATTRIBUTE_SPECS)[number]['type'];

/** temporal.api.enums.v1.IndexedValueType numbers (the proto enum; @temporalio/proto is not a direct dependency). */
const INDEXED_VALUE_TYPE: Record<number, string> = { 1: 'Text', 2: 'Keyword', 3: 'Int', 4: 'Double', 5: 'Bool', 6: 'Datetime', 7: 'KeywordList' };
const TYPE_NUMBER: Record<SpecType, number> = { Keyword: 2, Int: 3, Bool: 5 };

export interface SetupNamespaceResult {
  /** registered by this call */
  created: string[];
  /** already registered with the right type */
  existed: string[];
  /** registered with another type: "Name: is Int, netbench needs Keyword" (left as they are) */
  conflicts: string[];
}

/** gRPC status codes we explain. */
const GRPC = { ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, UNIMPLEMENTED: 12 } as const;

async function listCustom(client: Client, namespace: string): Promise<Record<string, string>> {
  const r = await client.connection.operatorService.listSearchAttributes({ namespace });
  const out: Record<string, string> = {};
  for (const [name, t] of Object.entries(r.customAttributes ?? {})) out[name] = INDEXED_VALUE_TYPE[Number(t)] ?? `type ${String(t)}`;
  return out;
}

export async function setupNamespace(client: Client, namespace: string): Promise<SetupNamespaceResult> {
  const have = await listCustom(client, namespace);
  const result: SetupNamespaceResult = { created: [], existed: [], conflicts: [] };
  const missing: typeof SEARCH_ATTRIBUTE_SPECS = [];
  for (const spec of SEARCH_ATTRIBUTE_SPECS) {
    const t = have[spec.name];
    if (t === undefined) missing.push(spec);
    else if (t === spec.type) result.existed.push(spec.name);
    else result.conflicts.push(`${spec.name}: is ${t}, netbench needs ${spec.type}`);
  }
  if (missing.length) {
    try {
      await client.connection.operatorService.addSearchAttributes({
        namespace,
        // Numbers of the proto enum; the generated type is that enum.
        searchAttributes: Object.fromEntries(missing.map((s) => [s.name, TYPE_NUMBER[s.type] as never])),
      });
      result.created.push(...missing.map((s) => s.name));
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === GRPC.PERMISSION_DENIED || code === GRPC.UNIMPLEMENTED) {
        throw new Error(
          `the server refused to add search attributes to namespace "${namespace}" (${(err as Error).message}). ` +
            'On Temporal Cloud add them in the Cloud UI or with `tcld namespace search-attributes add`; elsewhere an admin can run the ' +
            '`temporal operator search-attribute create` command printed by `netbench setup-namespace --print`.',
          { cause: err },
        );
      }
      if (code !== GRPC.ALREADY_EXISTS) throw err;
      // Someone registered some of them between our list and add: sort them out from a fresh list.
      const now = await listCustom(client, namespace);
      for (const s of missing) {
        if (now[s.name] === s.type) result.existed.push(s.name);
        else if (now[s.name] !== undefined) result.conflicts.push(`${s.name}: is ${now[s.name]}, netbench needs ${s.type}`);
        else throw err;
      }
    }
  }
  return result;
}

/** The equivalent `temporal` CLI command (for admins and for READMEs). */
export function searchAttributeCommand(namespace: string): string {
  const pairs = SEARCH_ATTRIBUTE_SPECS.map((s) => `  --name ${s.name} --type ${s.type}`).join(' \\\n');
  return `temporal operator search-attribute create --namespace ${namespace} \\\n${pairs}\n`;
}

const HELP = `netbench setup-namespace: register netbench's search attributes on a Temporal namespace

Usage: netbench setup-namespace [options]

Idempotent: adds only the missing ones and says what it registered and what existed.
Exits 1 if a name exists with another type (left untouched).

Options:
  --print                   only print the equivalent \`temporal operator search-attribute create\` command
  -h, --help                this help

${TEMPORAL_FLAGS_HELP}`;

/** CLI entry: returns the exit status (0 ok, 1 conflict or failure, 2 bad usage). */
export async function setupNamespaceMain(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...temporalFlagOptions, print: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    io.err(`netbench setup-namespace: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  let t;
  try {
    t = temporalTargetFrom(values, env);
  } catch (err) {
    io.err(`netbench setup-namespace: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.print) {
    io.out(searchAttributeCommand(t.namespace));
    return 0;
  }
  try {
    const client = await connect(t);
    try {
      const r = await setupNamespace(client, t.namespace);
      io.out(`namespace "${t.namespace}" on ${describeTarget(t)}\n`);
      if (r.created.length) io.out(`  registered: ${r.created.join(', ')}\n`);
      if (r.existed.length) io.out(`  already there: ${r.existed.join(', ')}\n`);
      for (const c of r.conflicts) io.out(`  CONFLICT ${c} (left as is; remove it with \`temporal operator search-attribute remove\` and run again)\n`);
      return r.conflicts.length ? 1 : 0;
    } finally {
      await client.connection.close();
    }
  } catch (err) {
    io.err(`netbench setup-namespace: ${(err as Error).message}\n`);
    return 1;
  }
}
