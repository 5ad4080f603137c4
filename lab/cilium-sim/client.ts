/**
 * What `kubectl exec <cilium pod> -- cilium ...` runs in the lab: a tiny
 * client of the Cilium SIMULATOR's agent (lab/cilium-sim/agent.ts), as the
 * real `cilium` CLI is a client of the real agent's API socket. It sends
 * its argv over the unix socket named by NETBENCH_CILIUM_SIM_SOCKET and
 * relays the answer: stdout, stderr and the exit code.
 *
 * Run by plain Node (type stripping, node: imports only, so it starts in
 * tens of milliseconds), through the dispatcher in <state>/cilium-sim/bin:
 *   node lab/cilium-sim/client.ts <cilium|cilium-dbg|bpftool|cat> [args...]
 */
import net from 'node:net';
import path from 'node:path';

export const SOCKET_ENV = 'NETBENCH_CILIUM_SIM_SOCKET';

export interface SimReply {
  exit: number;
  stderr: string;
}

/**
 * Ask the simulated agent; stdout chunks go to `onStdout` as they arrive.
 * Rejects when the agent is not there (like the real CLI without its agent).
 */
export function askAgent(socket: string, argv: string[], onStdout: (chunk: Buffer) => void, timeoutMs = 120_000): Promise<SimReply> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let header: SimReply | null = null;
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => conn.destroy(new Error(`no answer from the simulated agent after ${timeoutMs} ms`)), timeoutMs);
    conn.on('connect', () => conn.write(JSON.stringify({ argv }) + '\n'));
    conn.on('data', (chunk: Buffer) => {
      if (header) return onStdout(chunk);
      pending = Buffer.concat([pending, chunk]);
      const nl = pending.indexOf(10);
      if (nl < 0) return;
      header = JSON.parse(pending.subarray(0, nl).toString('utf8')) as SimReply;
      if (pending.length > nl + 1) onStdout(pending.subarray(nl + 1));
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('close', () => {
      clearTimeout(timer);
      if (header) resolve(header);
      else reject(new Error('the simulated agent closed the connection without an answer'));
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const [tool, ...args] = argv;
  const name = path.basename(tool ?? '');
  const socket = process.env[SOCKET_ENV];
  if (!socket) {
    process.stderr.write(`${name}: ${SOCKET_ENV} is not set (the simulator answers only in the lab's cilium-agent containers)\n`);
    return 127;
  }
  process.stdout.on('error', () => process.exit(0)); // the exec stream went away: stop, like SIGPIPE
  try {
    const reply = await askAgent(socket, [name, ...args], (chunk) => process.stdout.write(chunk));
    if (reply.stderr) process.stderr.write(reply.stderr);
    return reply.exit;
  } catch (err) {
    // The real CLI's words when its agent is down.
    process.stderr.write(`Error: Cannot get status/probe: dial unix ${socket}: ${(err as Error).message}\nIs the agent running?\n`);
    return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  main(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)));
}
