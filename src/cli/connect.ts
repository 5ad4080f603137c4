/**
 * Temporal connection for the CLI and the worker: address, namespace, TLS
 * (server CA, server name, mTLS client certificate) and API key, read from
 * flags or the environment, and the Web UI link.
 *
 * The same TemporalTarget makes the client's Connection (connect) and the
 * worker's NativeConnection (connectNative), so a setting that works for
 * `netbench run` works for `netbench worker` too.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';
import { ConfigError } from '../config';
import { SEARCH_ATTRIBUTE_SPECS } from '../shared';

/** Certificate files and server name for TLS to the Temporal frontend (all optional). */
export interface TemporalTls {
  /** CA certificate (PEM) that signed the server's certificate; default: the system's roots. */
  caFile?: string;
  /** Client certificate (PEM) for mTLS; needs keyFile. */
  certFile?: string;
  /** Client private key (PEM) for mTLS; needs certFile. */
  keyFile?: string;
  /** Name to verify the server certificate against (and send as SNI) instead of the address's host. */
  serverName?: string;
}

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Web UI base URL; default: the dev server's UI on the gRPC port + 1000 */
  uiUrl?: string;
  /**
   * TLS to the frontend: absent = plaintext (TLS anyway when apiKey is set,
   * as Temporal Cloud requires); true or an object = TLS; false = plaintext
   * even with an API key (e.g. a local proxy that terminates TLS).
   */
  tls?: boolean | TemporalTls;
  /** Sent as `Authorization: Bearer <key>` on every call (Temporal Cloud API keys). */
  apiKey?: string;
}

/**
 * node:util parseArgs option definitions of every Temporal connection flag.
 * Spread them into a command's own options: `{ ...temporalFlagOptions, ... }`.
 */
export const temporalFlagOptions = {
  address: { type: 'string' },
  namespace: { type: 'string' },
  'ui-url': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-server-name': { type: 'string' },
  'api-key': { type: 'string' },
} as const;

/** Help lines for the flags above (flag, environment variable, meaning). */
export const TEMPORAL_FLAGS_HELP = `Temporal connection:
  --address HOST:PORT       Temporal frontend (default localhost:7233) [env TEMPORAL_ADDRESS]
  --namespace NS            Temporal namespace (default "default") [env TEMPORAL_NAMESPACE]
  --ui-url URL              Web UI base URL for links (default: gRPC port + 1000) [env TEMPORAL_UI_URL]
  --tls                     use TLS with the system's CA roots [env TEMPORAL_TLS=true|false]
  --tls-ca FILE             CA certificate (PEM) of the server; implies --tls [env TEMPORAL_TLS_CA]
  --tls-cert FILE           client certificate (PEM) for mTLS; needs --tls-key [env TEMPORAL_TLS_CERT]
  --tls-key FILE            client private key (PEM) for mTLS; needs --tls-cert [env TEMPORAL_TLS_KEY]
  --tls-server-name NAME    server name to verify (SNI) instead of the address's host [env TEMPORAL_TLS_SERVER_NAME]
  --api-key KEY             API key (Temporal Cloud); implies --tls unless TEMPORAL_TLS=false [env TEMPORAL_API_KEY]
`;

type Env = Record<string, string | undefined>;

const TLS_FILES = [
  { key: 'caFile', flag: 'tls-ca', env: 'TEMPORAL_TLS_CA', what: 'CA certificate' },
  { key: 'certFile', flag: 'tls-cert', env: 'TEMPORAL_TLS_CERT', what: 'client certificate' },
  { key: 'keyFile', flag: 'tls-key', env: 'TEMPORAL_TLS_KEY', what: 'client private key' },
] as const;

/** A non-empty string value from the flags, else the environment; with the name it came from (for messages). */
function pick(values: Record<string, unknown>, flag: string, env: Env, envName: string): { value?: string; source: string } {
  const v = values[flag];
  if (typeof v === 'string' && v !== '') return { value: v, source: `--${flag}` };
  const e = env[envName];
  if (e !== undefined && e !== '') return { value: e, source: envName };
  return { source: `--${flag}` };
}

function boolEnv(v: string | undefined, name: string, problems: string[]): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  problems.push(`${name}=${v}: expected true or false`);
  return undefined;
}

/** Read a PEM file, or say which flag (or variable) named which unreadable or non-PEM file. */
function readPem(file: string, source: string, what: string, problems: string[]): Buffer | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    problems.push(`${source} ${file}: cannot read the ${what} (${e.code ?? e.message})`);
    return undefined;
  }
  if (!data.includes('-----BEGIN ')) {
    problems.push(`${source} ${file}: the ${what} is not PEM (no "-----BEGIN" line)`);
    return undefined;
  }
  return data;
}

/**
 * The Temporal target from parsed flags (see temporalFlagOptions) and the
 * environment; flag > environment > default. Certificate files are read
 * here once, so every problem (cert without key, unreadable or non-PEM
 * file, bad TEMPORAL_TLS) is reported at once, before any connection, as a
 * ConfigError naming the flag or variable and the path.
 */
export function temporalTargetFrom(values: Record<string, unknown>, env: Env = process.env): TemporalTarget {
  const problems: string[] = [];
  const address = pick(values, 'address', env, 'TEMPORAL_ADDRESS').value ?? 'localhost:7233';
  const namespace = pick(values, 'namespace', env, 'TEMPORAL_NAMESPACE').value ?? 'default';
  const uiUrl = pick(values, 'ui-url', env, 'TEMPORAL_UI_URL').value;
  const apiKey = pick(values, 'api-key', env, 'TEMPORAL_API_KEY').value;
  const tlsFlag = typeof values.tls === 'boolean' ? values.tls : boolEnv(env.TEMPORAL_TLS, 'TEMPORAL_TLS', problems);

  const files: Record<string, { file: string; source: string }> = {};
  for (const f of TLS_FILES) {
    const { value, source } = pick(values, f.flag, env, f.env);
    if (value !== undefined) {
      files[f.key] = { file: value, source };
      readPem(value, source, f.what, problems);
    }
  }
  if (files.certFile && !files.keyFile) problems.push(`${files.certFile.source} ${files.certFile.file} needs a private key: --tls-key FILE (or TEMPORAL_TLS_KEY)`);
  if (files.keyFile && !files.certFile) problems.push(`${files.keyFile.source} ${files.keyFile.file} needs a certificate: --tls-cert FILE (or TEMPORAL_TLS_CERT)`);
  const serverName = pick(values, 'tls-server-name', env, 'TEMPORAL_TLS_SERVER_NAME').value;

  const tlsDetails: TemporalTls = {
    ...(files.caFile ? { caFile: files.caFile.file } : {}),
    ...(files.certFile ? { certFile: files.certFile.file } : {}),
    ...(files.keyFile ? { keyFile: files.keyFile.file } : {}),
    ...(serverName ? { serverName } : {}),
  };
  const hasDetails = Object.keys(tlsDetails).length > 0;
  if (tlsFlag === false && hasDetails) {
    problems.push(`TLS is turned off (${values.tls === false ? '--tls=false' : 'TEMPORAL_TLS=false'}) but TLS settings are given: ${Object.keys(files).map((k) => files[k].source).concat(serverName ? ['--tls-server-name'] : []).join(', ')}`);
  }
  if (problems.length) throw new ConfigError(problems);

  const tls: TemporalTarget['tls'] = hasDetails ? tlsDetails : tlsFlag;
  return {
    address,
    namespace,
    ...(uiUrl ? { uiUrl } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/** The SDK's connection options (shared by Connection and NativeConnection): certificate files are read now. */
export function connectionOptions(t: TemporalTarget): { address: string; tls?: NativeConnectionOptions['tls']; apiKey?: string } {
  let tls: NativeConnectionOptions['tls'];
  if (typeof t.tls === 'object') {
    const problems: string[] = [];
    const read = (file: string | undefined, flag: string, what: string) => (file ? readPem(file, `--${flag}`, what, problems) : undefined);
    const ca = read(t.tls.caFile, 'tls-ca', 'CA certificate');
    const crt = read(t.tls.certFile, 'tls-cert', 'client certificate');
    const key = read(t.tls.keyFile, 'tls-key', 'client private key');
    if (!!t.tls.certFile !== !!t.tls.keyFile) problems.push('--tls-cert and --tls-key go together');
    if (problems.length) throw new ConfigError(problems);
    tls = {
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(t.tls.serverName ? { serverNameOverride: t.tls.serverName } : {}),
    };
  } else if (t.tls !== undefined) {
    tls = t.tls;
  }
  // The SDK turns TLS on by itself when an API key is set and tls is left undefined.
  return { address: t.address, ...(tls !== undefined ? { tls } : {}), ...(t.apiKey ? { apiKey: t.apiKey } : {}) };
}

/** What kind of connection this is, for messages (never the key itself). */
export function describeTarget(t: TemporalTarget): string {
  const tlsOn = t.tls === true || typeof t.tls === 'object' || (t.tls === undefined && !!t.apiKey);
  const parts = [t.address, `namespace ${t.namespace}`, tlsOn ? (typeof t.tls === 'object' && t.tls.certFile ? 'mTLS' : 'TLS') : 'plaintext'];
  if (t.apiKey) parts.push('API key');
  return parts.join(', ');
}

function unreachable(t: TemporalTarget, err: unknown): Error {
  const tlsHint =
    t.tls === undefined && !t.apiKey
      ? ' If the server expects TLS, add --tls (or --tls-ca/--tls-cert/--tls-key).'
      : ' Check the certificates, --tls-server-name and the API key.';
  return new Error(
    `cannot reach Temporal at ${describeTarget(t)} (${(err as Error).message}). Start one with \`npm start\` (dev server) or set TEMPORAL_ADDRESS / --address.${tlsHint}`,
    { cause: err },
  );
}

/**
 * The longest the CLI's channel waits between reconnect attempts while Temporal is unreachable.
 * grpc-js backs off up to 120 s by default: after a Temporal restart `run --wait` / `watch` went on
 * saying "Temporal unreachable" for up to two minutes, and a call made then failed once the SDK's
 * own retries (about 20 s) were spent.
 */
export const RECONNECT_BACKOFF_MAX_MS = 5_000;

/** A Client for the CLI (Connection over grpc-js). */
export async function connect(t: TemporalTarget, extra: Partial<ConnectionOptions> = {}): Promise<Client> {
  const options = connectionOptions(t);
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...options,
      connectTimeout: '5s',
      ...extra,
      channelArgs: { 'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MAX_MS, ...extra.channelArgs },
    });
  } catch (err) {
    throw unreachable(t, err);
  }
  return new Client({ connection, namespace: t.namespace });
}

/** A NativeConnection for workers (Rust core), from the same target. Call installTelemetry first if wanted. */
export async function connectNative(t: TemporalTarget): Promise<NativeConnection> {
  const options = connectionOptions(t);
  // Imported here so the CLI's client commands do not load the worker's native bridge.
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect(options);
  } catch (err) {
    throw unreachable(t, err);
  }
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
