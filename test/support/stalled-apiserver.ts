/**
 * An apiserver address that accepts connections and never answers: a stall,
 * as the fault proxy (bench/fault-proxy.ts) makes one, for tests of what
 * activities do while a cluster call hangs (keep-alive, cancellation).
 */
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface StalledApiserver {
  port: number;
  kubeConfig: KubeConfig;
  /** Drop every connection and stop listening. */
  close(): Promise<void>;
}

/** A kubeconfig for http://127.0.0.1:<port> (token auth, nothing real behind it). */
export function kubeConfigAt(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

export async function startStalledApiserver(): Promise<StalledApiserver> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined); // read the request, never answer
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    kubeConfig: kubeConfigAt(port),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A port nothing listens on (connections are refused). */
export async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
