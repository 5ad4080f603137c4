/**
 * Kubernetes API clients for netbench, and the one place that says what an
 * API error means (already exists, not found, worth retrying, or fatal).
 *
 * Why not plain `kubeConfig.makeApiClient()`: client-node 2.0.1 builds a new
 * undici Agent for every request when TLS options are set, so each call pays
 * a fresh TCP + TLS handshake and no connection is ever reused, and its
 * fetch-based transport allocates ~100 KB per call. Creating tens of
 * thousands of objects that way is slow and grows the heap. We keep
 * client-node's request building, serialisation, credentials and typed
 * models, and plug in one shared keep-alive dispatcher (HTTP/2 when the
 * apiserver offers it, as kube-apiserver does) driven by undici's
 * low-level request API.
 */
import type https from 'node:https';
import path from 'node:path';
import {
  ApiException,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  Observable,
  ResponseContext,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type ApiConstructor,
  type ApiType,
  type ConfigurationOptions,
  type Middleware,
  type ObservableMiddleware,
  type PromiseHttpLibrary,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';

export interface KubeConfigSource {
  /** Path of a kubeconfig file; default: $KUBECONFIG, ~/.kube/config or in-cluster. */
  kubeconfigPath?: string;
  /** Context to use instead of the file's current-context. */
  context?: string;
}

export interface KubeClientOptions extends KubeConfigSource {
  /** An already loaded KubeConfig (wins over kubeconfigPath). */
  kubeConfig?: KubeConfig;
  /**
   * Upper bound of parallel connections to the apiserver. With HTTP/2 one
   * connection carries many requests; with HTTP/1.1 this caps sockets.
   */
  maxConnections?: number;
  /**
   * Use HTTP/2 when the server offers it (default false, or
   * NETBENCH_KUBE_HTTP2=1). HTTP/1.1 is the default: closing undici 8's
   * HTTP/2 client sometimes raised an uncaught ClientDestroyedError (an
   * 'error' event with no listener inside undici), and HTTP/2 was not
   * measurably faster here (bench/README.md).
   */
  http2?: boolean;
  /** Give up on a request that has not answered after this long (default 60 s). */
  requestTimeoutMs?: number;
}

/** Everything activities need to talk to one cluster. */
export interface KubeClients {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
  /** Any other API group's client, sharing the same connections and credentials. */
  api<T extends ApiType>(apiClass: ApiConstructor<T>): T;
  /** The API server URL, for messages. */
  server: string;
  /** Close the shared connections (idempotent). */
  close(): Promise<void>;
}

/** Load a kubeconfig from an explicit path/context, or the usual default places. */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  // Several files separated by ':' (as in $KUBECONFIG) merge, the first one winning, as kubectl does.
  const files = source.kubeconfigPath?.split(path.delimiter).filter(Boolean) ?? [];
  if (files.length) {
    kc.loadFromFile(files[0]!);
    for (const f of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(f);
      kc.mergeConfig(more, true);
    }
  } else kc.loadFromDefault();
  if (source.context) {
    if (!kc.getContextObject(source.context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || '(none)';
      throw new Error(`kube context "${source.context}" not found; known contexts: ${known}`);
    }
    kc.setCurrentContext(source.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  return kc;
}

/**
 * How long authentication headers are reused. Exec and OIDC credentials
 * rotate in minutes, so a short cache is safe and spares a kubeconfig walk
 * (and possibly file reads) per request.
 */
const AUTH_HEADER_TTL_MS = 30_000;

interface ConnectionOptions {
  http2: boolean;
  requestTimeoutMs: number;
  maxConnections?: number;
}

/**
 * Credentials and the one shared dispatcher of a cluster. Credentials come
 * from client-node's own kubeconfig handling (token, client certificate,
 * exec and OIDC plugins); we only cache them briefly.
 */
class ClusterConnection implements SecurityAuthentication {
  private dispatcher: Dispatcher | undefined;
  private headers: Record<string, string> = {};
  private headersAt = -Infinity;
  private pending: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: ConnectionOptions,
  ) {}

  getName(): string {
    return 'netbench kubeconfig credentials';
  }

  /** SecurityAuthentication: add the credentials' headers to a request. */
  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.fresh();
    for (const k in this.headers) context.setHeaderParam(k, this.headers[k]!);
  }

  async getDispatcher(): Promise<Dispatcher> {
    await this.fresh();
    if (this.closed || !this.dispatcher) throw new Error('Kubernetes client is closed');
    return this.dispatcher;
  }

  private async fresh(): Promise<void> {
    if (performance.now() - this.headersAt <= AUTH_HEADER_TTL_MS) return;
    // One refresh at a time; concurrent requests wait for it.
    this.pending ??= this.refresh().finally(() => (this.pending = undefined));
    await this.pending;
  }

  private async refresh(): Promise<void> {
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    if (typeof opts.auth === 'string') {
      headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    }
    this.headers = headers;
    this.headersAt = performance.now();
    if (!this.dispatcher && !this.closed) {
      this.dispatcher = new Agent({
        connect: {
          ca: opts.ca,
          cert: opts.cert,
          key: opts.key,
          pfx: opts.pfx,
          passphrase: opts.passphrase,
          servername: opts.servername,
          ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
          keepAlive: true,
          keepAliveInitialDelay: 30_000,
        },
        allowH2: this.options.http2,
        // HTTP/1.1: one request per socket, so cap the sockets (activities keep at most a few dozen in flight).
        connections: this.options.maxConnections ?? (this.options.http2 ? null : 64),
        headersTimeout: this.options.requestTimeoutMs,
        bodyTimeout: this.options.requestTimeoutMs,
        keepAliveTimeout: 30_000,
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const d = this.dispatcher;
    this.dispatcher = undefined;
    if (d) await d.close();
  }
}

/**
 * client-node's transport, re-done on undici's low-level `request` instead
 * of `fetch`: same wire format, but no WHATWG Request/Response/stream
 * objects per call, which was most of the client's garbage (about 100 KB
 * per call) and the reason the heap grew under load.
 */
class UndiciTransport implements PromiseHttpLibrary {
  constructor(private readonly conn: ClusterConnection) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const dispatcher = await this.conn.getDispatcher();
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string' && !(body instanceof URLSearchParams)) {
      throw new Error('netbench Kubernetes transport: form-data bodies are not supported');
    }
    const res = await dispatcher.request({
      origin: new URL(request.getUrl()).origin,
      path: pathOf(request.getUrl()),
      method: request.getHttpMethod(),
      headers: request.getHeaders(),
      body: body === undefined ? undefined : String(body),
      signal: request.getSignal(),
    });
    // Read the whole body now: API answers here are small, and the socket is freed at once.
    const buf = Buffer.from(await res.body.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    return new ResponseContext(res.statusCode, headers, {
      text: async () => buf.toString('utf8'),
      binary: async () => buf,
      stream: () => null,
    });
  }
}

/** Path and query of an absolute URL, without allocating a URL object. */
function pathOf(url: string): string {
  const schemeEnd = url.indexOf('://');
  const slash = url.indexOf('/', schemeEnd + 3);
  return slash === -1 ? '/' : url.slice(slash);
}

/** Build API clients that share connections; call close() when done. */
export function makeKubeClients(options: KubeClientOptions = {}): KubeClients {
  const kc = options.kubeConfig ?? loadKubeConfig(options);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  if (cluster.proxyUrl) {
    // Proxies (HTTP or SOCKS) are client-node's business: keep its own transport.
    return {
      kubeConfig: kc,
      core: kc.makeApiClient(CoreV1Api),
      discovery: kc.makeApiClient(DiscoveryV1Api),
      api: (apiClass) => kc.makeApiClient(apiClass),
      server: cluster.server,
      close: async () => {},
    };
  }
  const conn = new ClusterConnection(kc, {
    http2: options.http2 ?? process.env.NETBENCH_KUBE_HTTP2 === '1',
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    maxConnections: options.maxConnections,
  });
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    httpApi: wrapHttpLibrary(new UndiciTransport(conn)),
    authMethods: { default: conn },
    promiseMiddleware: [userAgent],
  });
  return {
    kubeConfig: kc,
    core: new CoreV1Api(configuration),
    discovery: new DiscoveryV1Api(configuration),
    api: (apiClass) => new apiClass(configuration),
    server: cluster.server,
    close: () => conn.close(),
  };
}

const userAgent: Middleware = {
  pre: async (ctx: RequestContext) => {
    ctx.setHeaderParam('User-Agent', 'netbench');
    return ctx;
  },
  post: async (ctx: ResponseContext) => ctx,
};

/**
 * Per-call options that abort the HTTP request when `signal` fires, so a
 * cancelled activity does not wait for slow requests.
 */
export function withSignal(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (!signal) return undefined;
  // Per-call options of the object-parameter API take Observable middleware.
  const mw: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(signal);
      return new Observable(Promise.resolve(ctx));
    },
    post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
  };
  return { middleware: [mw], middlewareMergeStrategy: 'append' };
}

// ---------------------------------------------------------------------------
// Errors

export type KubeErrorKind = 'already-exists' | 'not-found' | 'retryable' | 'fatal';

/** The apiserver's Status body, as far as we read it. */
export interface KubeStatus {
  reason?: string;
  message?: string;
  code?: number;
}

const RETRYABLE_NET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_ABORTED',
  'UND_ERR_DESTROYED',
  'UND_ERR_INFO',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_INVALID_SESSION',
]);

/** HTTP status code of an API error, if it is one. */
export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The parsed Status body of an API error (client-node keeps it as text). */
export function statusOf(err: unknown): KubeStatus | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  if (body && typeof body === 'object') return body as KubeStatus;
  if (typeof body === 'string' && body.startsWith('{')) {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Network-level error codes along the cause chain (fetch wraps them in TypeError). */
function netCodes(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') out.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function isTimeoutError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'HeadersTimeoutError' || name === 'BodyTimeoutError';
}

/** Sort an error from a Kubernetes call into what the caller should do about it. */
export function classifyKubeError(err: unknown): KubeErrorKind {
  const code = statusCodeOf(err);
  if (code !== undefined && err instanceof ApiException) {
    if (code === 409) {
      // 409 is also an optimistic-concurrency Conflict; only AlreadyExists means "done".
      const reason = statusOf(err)?.reason;
      return reason === undefined || reason === 'AlreadyExists' ? 'already-exists' : 'retryable';
    }
    if (code === 404) return 'not-found';
    if (code === 429 || code >= 500) return 'retryable';
    return 'fatal';
  }
  if (isTimeoutError(err)) return 'retryable';
  if (netCodes(err).some((c) => RETRYABLE_NET_CODES.has(c))) return 'retryable';
  // fetch reports "fetch failed" for transport faults without always giving a code.
  if (err instanceof TypeError && /fetch failed|terminated|other side closed/i.test(err.message)) return 'retryable';
  return 'fatal';
}

export const isAlreadyExists = (err: unknown) => classifyKubeError(err) === 'already-exists';
export const isNotFound = (err: unknown) => classifyKubeError(err) === 'not-found';
export const isRetryableKubeError = (err: unknown) => classifyKubeError(err) === 'retryable';

/**
 * A one-line description of a Kubernetes error for people: the status code,
 * the apiserver's reason and message, or the network error code. Never the
 * request headers (client-node's default message includes them).
 */
export function describeKubeError(err: unknown): string {
  if (err instanceof ApiException) {
    const st = statusOf(err);
    const reason = st?.reason ? ` ${st.reason}` : '';
    const msg = st?.message ?? (typeof err.body === 'string' && err.body ? err.body.slice(0, 300) : '');
    return `HTTP ${err.code}${reason}${msg ? `: ${msg}` : ''}`;
  }
  const codes = netCodes(err);
  const base = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: unknown } | null)?.cause;
  const causeMsg = cause instanceof Error && cause.message !== base ? ` (${cause.message})` : '';
  return `${base}${causeMsg}${codes.length ? ` [${codes.join(', ')}]` : ''}`;
}
