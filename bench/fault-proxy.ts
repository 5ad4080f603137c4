/**
 * A fault-injecting HTTPS proxy between a worker and a kube-apiserver, on
 * loopback, for the chaos campaign (bench/chaos.ts). It terminates TLS with
 * its own throwaway certificate (openssl, one day), forwards every request to
 * the real apiserver with the kubeconfig's own credentials (client
 * certificate or token), and passes websocket upgrades (pod exec) through as
 * raw byte pipes. The worker gets a kubeconfig that points at the proxy.
 *
 * Faults, each one an honest thing an apiserver or a network does:
 *   - at a set rate per request: 429 with Retry-After, 500, 503, a connection
 *     reset (TCP RST), a 30-second stall before the request is forwarded;
 *   - refuse(ms): nothing listens for that long (ECONNREFUSED), open
 *     connections are reset: the apiserver unreachable;
 *   - cutExec(n): the next n upgraded exec streams of a tool (iperf3, fortio,
 *     netperf) are reset after some bytes of the tool's output went through.
 *
 *   const p = await startFaultProxy({ kubeconfigPath, context, dir, seed: 7 });
 *   p.setRate(0.05);           // 5% of requests get one of the faults
 *   ... KUBECONFIG=p.kubeconfigPath ...
 *   await p.close();
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';

export type FaultKind = '429' | '500' | '503' | 'reset' | 'stall';
export const FAULT_KINDS: FaultKind[] = ['429', '500', '503', 'reset', 'stall'];

export interface FaultProxyOptions {
  kubeconfigPath: string;
  context?: string;
  /** where the throwaway certificate and the proxy's kubeconfig are written */
  dir: string;
  /** seed of the proxy's own random choices (which request, which fault) */
  seed?: number;
  /** length of a stall (default 30 s) */
  stallMs?: number;
  kinds?: FaultKind[];
}

export interface FaultStats {
  requests: number;
  upgrades: number;
  injected: Record<FaultKind, number>;
  refusedConnections: number;
  execCuts: string[];
}

export interface FaultProxy {
  port: number;
  /** kubeconfig with the proxy as server (context name kept) */
  kubeconfigPath: string;
  setRate(rate: number): void;
  /** Nothing listens for ms; open connections are reset. Resolves when it listens again. */
  refuse(ms: number): Promise<void>;
  /** Cut the next n tool exec streams after afterBytes of output (beyond the handshake). */
  cutExec(n: number, afterBytes: number): void;
  stats(): FaultStats;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so a campaign can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function throwawayCert(dir: string): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const certFile = path.join(dir, 'proxy.crt');
  const keyFile = path.join(dir, 'proxy.key');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=netbench-fault-proxy',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

const TOOL_EXEC = /[?&]command=(iperf3|fortio|netperf)(&|$)/;
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'host']);

/** A TCP reset (RST), not a FIN: a TLS socket is reset through the TCP socket under it. */
function reset(s: net.Socket): void {
  const raw = (s as net.Socket & { _parent?: net.Socket })._parent ?? s;
  try {
    raw.resetAndDestroy();
  } catch {
    raw.destroy();
  }
  s.destroy();
}

function statusBody(code: number, reason: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `fault-proxy: injected ${code}`, reason, code });
}

export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfigPath);
  if (o.context) kc.setCurrentContext(o.context);
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user) throw new Error(`no cluster/user for the current context in ${o.kubeconfigPath}`);
  const upstream = new URL(cluster.server);
  const b64 = (s?: string) => (s ? Buffer.from(s, 'base64') : undefined);
  const creds = {
    ca: b64(cluster.caData) ?? (cluster.caFile ? readFileSync(cluster.caFile) : undefined),
    cert: b64(user.certData) ?? (user.certFile ? readFileSync(user.certFile) : undefined),
    key: b64(user.keyData) ?? (user.keyFile ? readFileSync(user.keyFile) : undefined),
    rejectUnauthorized: !cluster.skipTLSVerify,
  };
  const token = user.token;
  const agent = new https.Agent({ ...creds, keepAlive: true, maxSockets: 128 });
  const upHost = upstream.hostname;
  const upPort = Number(upstream.port || 443);

  const rand = seededRandom(o.seed ?? 1);
  const kinds = o.kinds ?? FAULT_KINDS;
  const stallMs = o.stallMs ?? 30_000;
  let rate = 0;
  let cutsLeft = 0;
  let cutAfter = 0;
  const stats: FaultStats = { requests: 0, upgrades: 0, injected: { '429': 0, '500': 0, '503': 0, reset: 0, stall: 0 }, refusedConnections: 0, execCuts: [] };
  const sockets = new Set<net.Socket>();
  const pick = (): FaultKind | undefined => (rate > 0 && rand() < rate ? kinds[Math.floor(rand() * kinds.length)] : undefined);

  const { cert, key } = throwawayCert(o.dir);
  const server = https.createServer({ cert, key, ALPNProtocols: ['http/1.1'] });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);

  const upstreamHeaders = (h: http.IncomingHttpHeaders) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
    out.host = upstream.host;
    if (token) out.authorization = `Bearer ${token}`;
    return out;
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const up = https.request({ host: upHost, port: upPort, method: req.method, path: req.url, headers: upstreamHeaders(req.headers), agent }, (ur) => {
      const headers = { ...ur.headers };
      delete headers.connection;
      delete headers['keep-alive'];
      res.writeHead(ur.statusCode ?? 502, headers);
      ur.pipe(res);
      ur.on('error', () => res.destroy());
    });
    up.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    stats.requests++;
    const f = pick();
    if (f) stats.injected[f]++;
    if (f === '429') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end(statusBody(429, 'TooManyRequests'));
    } else if (f === '500' || f === '503') {
      res.writeHead(Number(f), { 'content-type': 'application/json' }).end(statusBody(Number(f), f === '500' ? 'InternalError' : 'ServiceUnavailable'));
    } else if (f === 'reset') {
      reset(req.socket);
    } else if (f === 'stall') {
      const t = setTimeout(() => forward(req, res), stallMs);
      res.on('close', () => clearTimeout(t));
    } else {
      forward(req, res);
    }
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    stats.upgrades++;
    const f = pick();
    if (f) stats.injected[f]++;
    if (f === '429' || f === '500' || f === '503') {
      const body = statusBody(Number(f), f === '429' ? 'TooManyRequests' : f === '500' ? 'InternalError' : 'ServiceUnavailable');
      socket.end(`HTTP/1.1 ${f} Fault\r\ncontent-type: application/json\r\n${f === '429' ? 'retry-after: 1\r\n' : ''}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    if (f === 'reset') {
      reset(socket);
      return;
    }
    const go = () => {
      if (socket.destroyed) return;
      const up = tls.connect({ host: upHost, port: upPort, ...creds, ALPNProtocols: ['http/1.1'], servername: net.isIP(upHost) ? undefined : upHost });
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      const kill = () => {
        socket.destroy();
        up.destroy();
      };
      up.on('error', kill);
      socket.on('error', kill);
      socket.on('close', () => up.destroy());
      up.on('close', () => socket.destroy());
      up.once('secureConnect', () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        const h = upstreamHeaders(req.headers);
        for (const [k, v] of Object.entries(h)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
        lines.push('connection: Upgrade', `upgrade: ${req.headers.upgrade ?? 'websocket'}`);
        up.write(lines.join('\r\n') + '\r\n\r\n');
        if (head.length) up.write(head);
        socket.pipe(up);
        // Upstream -> client, with the exec cut: the tool's output is reset mid-stream.
        const cut = TOOL_EXEC.test(req.url ?? '') && cutsLeft > 0 ? (cutsLeft--, cutAfter) : -1;
        let seen = 0;
        let handshake = true;
        up.on('data', (chunk: Buffer) => {
          if (cut < 0) return void socket.write(chunk);
          if (handshake) {
            const end = chunk.indexOf('\r\n\r\n');
            if (end >= 0) {
              handshake = false;
              socket.write(chunk.subarray(0, end + 4));
              chunk = chunk.subarray(end + 4);
            } else return void socket.write(chunk);
          }
          if (seen + chunk.length < cut) {
            seen += chunk.length;
            return void socket.write(chunk);
          }
          socket.write(chunk.subarray(0, cut - seen), () => {
            const cmd = new URLSearchParams((req.url ?? '').split('?')[1]).getAll('command').slice(0, 3).join(' ');
            stats.execCuts.push(`${cmd} after ${cut} bytes`);
            reset(socket);
            up.destroy();
          });
          up.pause();
          up.removeAllListeners('data');
        });
        up.on('end', () => socket.end());
      });
    };
    if (f === 'stall') {
      const t = setTimeout(go, stallMs);
      socket.on('close', () => clearTimeout(t));
    } else go();
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);

  // The worker's kubeconfig: the proxy as server, its throwaway CA; the user entry is kept (the proxy ignores it).
  const pkc = new KubeConfig();
  pkc.loadFromFile(o.kubeconfigPath);
  const raw = JSON.parse(pkc.exportConfig()) as { clusters: Array<{ name: string; cluster: Record<string, unknown> }> };
  for (const c of raw.clusters) {
    c.cluster = { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(cert).toString('base64') };
  }
  const kubeconfigPath = path.join(o.dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, JSON.stringify(raw), { mode: 0o600 });

  let refusing: Promise<void> | undefined;
  return {
    port,
    kubeconfigPath,
    setRate(r: number) {
      if (!(r >= 0 && r <= 1)) throw new RangeError(`rate must be in [0, 1], got ${r}`);
      rate = r;
    },
    refuse(ms: number) {
      refusing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) {
            stats.refusedConnections++;
            reset(s);
          }
        });
        await new Promise((r) => setTimeout(r, ms));
        await listen(port);
        refusing = undefined;
      })();
      return refusing;
    },
    cutExec(n: number, afterBytes: number) {
      cutsLeft = n;
      cutAfter = afterBytes;
    },
    stats: () => structuredClone(stats),
    async close() {
      await refusing;
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
