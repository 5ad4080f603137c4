/**
 * The one door between the root network namespace and the lab's: a byte
 * pipe for the kube-apiserver port, in two halves that meet on a unix
 * socket (a socket file is reachable from any network namespace).
 *
 *   root ns:  127.0.0.1:<port>  --tcp-to-unix-->  <state>/apiserver.sock
 *   lab ns:   <state>/apiserver.sock  --unix-to-tcp-->  127.0.0.1:<port> (kube-apiserver)
 *
 * Both ends are loopback; TLS passes through untouched, so the kubeconfig's
 * server URL (https://127.0.0.1:<port>) is valid in both namespaces.
 *
 * Run directly by Node (type stripping, no imports beyond node:*):
 *   node lab/bridge.ts tcp-to-unix <host> <port> <socket>
 *   node lab/bridge.ts unix-to-tcp <socket> <host> <port>
 */
import net from 'node:net';
import { rmSync } from 'node:fs';

type Target = { path: string } | { host: string; port: number };

function pipeTo(target: Target) {
  return (client: net.Socket) => {
    const upstream = net.connect(target);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  };
}

function main(argv: string[]): void {
  const [mode, a, b, c] = argv;
  let server: net.Server;
  if (mode === 'tcp-to-unix' && a && b && c) {
    server = net.createServer(pipeTo({ path: c }));
    server.listen({ host: a, port: Number(b) });
  } else if (mode === 'unix-to-tcp' && a && b && c) {
    rmSync(a, { force: true }); // a stale socket file from a killed bridge would block listen()
    server = net.createServer(pipeTo({ host: b, port: Number(c) }));
    server.listen({ path: a });
  } else {
    process.stderr.write('usage: bridge.ts tcp-to-unix <host> <port> <socket> | unix-to-tcp <socket> <host> <port>\n');
    process.exit(2);
  }
  server.on('listening', () => process.stdout.write(`bridge ${mode} listening ${JSON.stringify(server.address())}\n`));
  server.on('error', (err) => {
    process.stderr.write(`bridge ${mode}: ${err.message}\n`);
    process.exit(1);
  });
  // Exit at once: close() would wait for long-lived watch connections.
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2));
