/**
 * A TCP relay on loopback that delays every chunk by a fixed time in each
 * direction, so a client sees the round-trip time of a remote control plane
 * (a laptop or CI runner talking to a cloud apiserver) while the server still
 * runs here. Order is kept; bandwidth is not limited. TLS passes through
 * untouched. It exists because this kernel has no `netem` qdisc.
 *
 *   const proxy = await startRttProxy({ host: '127.0.0.1', port: 6443 }, 10); // +20 ms RTT
 *   ... connect to 127.0.0.1:proxy.port ...
 *   await proxy.close();
 */
import net from 'node:net';

export interface RttProxy {
  port: number;
  /** CPU time is the caller's process; this counts what was relayed. */
  relayedBytes(): number;
  close(): Promise<void>;
}

/** Writes chunks to `to` `delayMs` after they were read, in order; ends `to` after the last one. */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number, count: (n: number) => void): void {
  const queue: Array<{ at: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now + 0.5) {
      const { chunk } = queue.shift()!;
      if (chunk === null) {
        to.end();
        return;
      }
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length) timer = setTimeout(drain, queue[0]!.at - now);
  };
  const push = (chunk: Buffer | null) => {
    queue.push({ at: performance.now() + delayMs, chunk });
    if (chunk) count(chunk.length);
    timer ??= setTimeout(drain, delayMs);
  };
  from.on('data', (c: Buffer) => push(c));
  from.on('end', () => push(null));
  // A reset is handled in startRttProxy: an error on either socket destroys both.
}

export async function startRttProxy(target: { host: string; port: number }, oneWayDelayMs: number): Promise<RttProxy> {
  if (!(oneWayDelayMs >= 0)) throw new RangeError(`delay must be >= 0 ms, got ${oneWayDelayMs}`);
  let bytes = 0;
  const count = (n: number) => (bytes += n);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayedPipe(client, upstream, oneWayDelayMs, count);
    delayedPipe(upstream, client, oneWayDelayMs, count);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    relayedBytes: () => bytes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
