/**
 * A loopback listener that counts who connects (and hangs up on them): given
 * as a Temporal address or an apiserver URL, it proves a command contacted
 * neither (the bad-input catalogue, the --help test).
 */
import net from 'node:net';

export interface Sentinel {
  port: number;
  connections: () => number;
  close: () => void;
}

export async function sentinel(): Promise<Sentinel> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, connections: () => n, close: () => server.close() };
}
