/**
 * Benchmark: creating dummy Services (+ endpoints) on a real kube-apiserver,
 * netbench's activity against the reference's method.
 *
 *   npx tsx bench/create-services.ts [--services 10000] [--endpoints 4]
 *       [--parallel N]            netbench: Services in flight (default: the activity's default)
 *       [--svc-create-parallel N] reference: kubectl processes at a time (default $SVC_CREATE_PARALLEL or 4)
 *       [--objects-per-file 500]  reference: objects per YAML file
 *       [--only netbench|reference]
 *       [--endpoints-mode endpointslices|endpoints]   netbench's endpoints object
 *       [--node-options "..."]    Node/V8 flags of the netbench process (default: the recommended
 *                                 worker flags "--max-semi-space-size=16 --max-old-space-size=512";
 *                                 pass "" for V8's defaults)
 *       [--http2]                 netbench over HTTP/2 instead of HTTP/1.1 (netbench's default)
 *       [--rtt-ms N]              add N ms of round-trip time between each client and the apiserver
 *                                 (a remote control plane; bench/rtt-proxy.ts), default 0 (loopback)
 *
 * Each method runs against its own freshly started etcd + kube-apiserver
 * (test/support/apiserver.ts), netbench first, then the reference. netbench's activity runs in a separate Node
 * process, as in a worker (real activity Context via MockActivityEnvironment,
 * no Temporal server), so its peak RSS is that of a worker doing the job.
 * The reference is what the reference script does: YAML files of 500 objects
 * (Service + v1 Endpoints) applied with `kubectl apply -f`, SVC_CREATE_PARALLEL
 * files at a time, with the kubectl our setup builds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startApiserver } from '../test/support/apiserver';
import { startRttProxy, type RttProxy } from './rtt-proxy';
import { buildDummyEndpoints, buildDummyService } from '../src/domain/services';

/**
 * V8 sizes its young generation (up to 64 MB per semi-space) and its first
 * old-generation limit from the machine's memory, so on a 24 GB box a busy
 * process grows to 300+ MB of mostly garbage before V8 collects. These two
 * flags keep a worker that creates 30,000 Services well under 300 MB at no
 * measurable cost in throughput (see bench/README.md).
 */
const RECOMMENDED_WORKER_NODE_OPTIONS = '--max-semi-space-size=16 --max-old-space-size=512';

interface MethodFigures {
  method: string;
  services: number;
  objects: number;
  seconds: number;
  objectsPerSec: number;
  /** Peak RSS of the process doing the work (for the reference: the largest kubectl). */
  peakRssMB: number;
  /** CPU seconds spent by the client side (netbench's process, or all kubectl processes). */
  clientCpuSec: number;
  /** CPU seconds spent by kube-apiserver + etcd while the method ran. */
  serverCpuSec: number;
  note: string;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "(comm)": state is field 3, utime 14 and stime 15 (1-based) => indices 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    endpoints: { type: 'string', default: '4' },
    parallel: { type: 'string' },
    'svc-create-parallel': { type: 'string', default: process.env.SVC_CREATE_PARALLEL ?? '4' },
    'objects-per-file': { type: 'string', default: '500' },
    only: { type: 'string' },
    'endpoints-mode': { type: 'string', default: 'endpointslices' },
    'node-options': { type: 'string', default: RECOMMENDED_WORKER_NODE_OPTIONS },
    http2: { type: 'boolean', default: false },
    // Round-trip time added between each client and the apiserver (a remote control plane), in ms.
    'rtt-ms': { type: 'string', default: '0' },
    // Internal: run netbench's activity in this process and print a JSON line.
    child: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    namespace: { type: 'string' },
  },
});

const int = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};

if (args.child) {
  await runNetbenchChild();
} else {
  await main();
}

/** In the child process: run createDummyServices once and report figures on stdout. */
async function runNetbenchChild(): Promise<void> {
  const { MockActivityEnvironment } = await import('@temporalio/testing');
  const { makeKubeClients } = await import('../src/kube/client');
  const { makeServiceActivities } = await import('../src/activities/services');
  const services = int('services', args.services);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const kube = makeKubeClients({ kubeconfigPath: args.kubeconfig, http2: args.http2 });
  const acts = makeServiceActivities({ kube });
  const env = new MockActivityEnvironment();
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const result = await env.run(() =>
    acts.createDummyServices({
      namespace: args.namespace!,
      from: 1,
      to: services,
      endpointsPerService: int('endpoints', args.endpoints),
      ...(args.parallel ? { parallel: int('parallel', args.parallel) } : {}),
      endpointsMode: args['endpoints-mode'] as 'endpointslices' | 'endpoints',
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  await kube.close();
  process.stdout.write(
    JSON.stringify({
      result,
      rssBeforeBytes: rssBefore,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssBytes: peak,
      maxRssKB: process.resourceUsage().maxRSS,
    }) + '\n',
  );
}

function run(cmd: string, argv: string[], env?: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; peakRssKB: number }>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    let peakRssKB = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // VmHWM is a process's own high-water mark; the last sample before exit is its peak.
    // Children are sampled too (kubectl runs under a bash that reports its CPU time).
    const hwm = (pid: number) => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) peakRssKB = Math.max(peakRssKB, Number(m[1]));
      } catch {
        // exited between samples
      }
    };
    const sample = () => {
      hwm(child.pid!);
      try {
        for (const c of readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').split(' ')) {
          if (c.trim()) hwm(Number(c));
        }
      } catch {
        // exited between samples
      }
    };
    const timer = setInterval(sample, 25);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, peakRssKB });
    });
  });
}

async function benchNetbench(kubeconfig: string, namespace: string, services: number, objects: number) {
  const nodeOptions = (args['node-options'] ?? '').split(/\s+/).filter(Boolean);
  const nodeArgs = [
    ...nodeOptions,
    '--import',
    import.meta.resolve('tsx'),
    fileURLToPath(import.meta.url),
    '--child',
    `--kubeconfig=${kubeconfig}`,
    `--namespace=${namespace}`,
    `--services=${services}`,
    `--endpoints=${args.endpoints}`,
    `--endpoints-mode=${args['endpoints-mode']}`,
    ...(args.parallel ? [`--parallel=${args.parallel}`] : []),
    ...(args.http2 ? ['--http2'] : []),
  ];
  const t0 = performance.now();
  const r = await run(process.execPath, nodeArgs);
  const wall = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`netbench child failed (${r.code}):\n${r.stderr || r.stdout}`);
  const line = r.stdout.trim().split('\n').at(-1)!;
  const out = JSON.parse(line) as {
    result: { created: number; existed: number; seconds: number; ratePerSec: number };
    rssBeforeBytes: number;
    cpuSeconds: number;
    peakRssBytes: number;
    maxRssKB: number;
  };
  if (out.result.created !== services) {
    throw new Error(`netbench created ${out.result.created} of ${services} Services`);
  }
  const seconds = out.result.seconds;
  return {
    figures: {
      method: `netbench (${args['endpoints-mode']}, parallel ${args.parallel ?? 'default'}, ${args.http2 ? 'HTTP/2' : 'HTTP/1.1'})`,
      services,
      objects,
      seconds,
      objectsPerSec: objects / seconds,
      peakRssMB: out.maxRssKB / 1024,
      clientCpuSec: out.cpuSeconds,
      serverCpuSec: 0,
      note:
        `process wall ${wall.toFixed(1)} s incl. start-up; RSS before the run ${mb(out.rssBeforeBytes)} MB, ` +
        `peak sampled during the run ${mb(out.peakRssBytes)} MB, process max RSS ${mb(out.maxRssKB * 1024)} MB; ` +
        `Node flags: ${nodeOptions.length ? nodeOptions.join(' ') : '(V8 defaults)'}`,
    } satisfies MethodFigures,
  };
}

/** The reference's objects as YAML: JSON documents are valid YAML, separated by '---'. */
function writeReferenceFiles(dir: string, namespace: string, services: number, endpoints: number, perFile: number) {
  const files: string[] = [];
  let docs: string[] = [];
  const flush = () => {
    if (!docs.length) return;
    const f = path.join(dir, `svc-${String(files.length).padStart(4, '0')}.yaml`);
    writeFileSync(f, docs.join('\n---\n') + '\n');
    files.push(f);
    docs = [];
  };
  for (let i = 1; i <= services; i++) {
    // The reference's shape: plain Service + v1 Endpoints, no netbench labels.
    const svc = buildDummyService(namespace, i);
    const ep = buildDummyEndpoints(namespace, i, endpoints);
    docs.push(JSON.stringify({ ...svc, metadata: { name: svc.metadata.name, namespace } }));
    docs.push(JSON.stringify({ ...ep, metadata: { name: ep.metadata.name, namespace } }));
    if (docs.length >= perFile) flush();
  }
  flush();
  return files;
}

async function benchReference(kubeconfig: string, namespace: string, services: number, objects: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netbench-ref-yaml-'));
  const parallel = int('svc-create-parallel', args['svc-create-parallel']);
  const perFile = int('objects-per-file', args['objects-per-file']);
  try {
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
    const ns = await run('kubectl', ['create', 'namespace', namespace], env);
    if (ns.code !== 0) throw new Error(`kubectl create namespace failed: ${ns.stderr}`);
    const files = writeReferenceFiles(dir, namespace, services, Number(args.endpoints), perFile);
    let next = 0;
    let peakKB = 0;
    let cpuSec = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < files.length) {
        const f = files[next++]!;
        // bash's `times` prints its children's user and system CPU time last.
        const r = await run('bash', ['-c', 'kubectl apply -f "$1" >/dev/null; rc=$?; times >&2; exit $rc', '_', f], env);
        if (r.code !== 0) throw new Error(`kubectl apply -f ${path.basename(f)} failed: ${r.stderr.slice(0, 500)}`);
        peakKB = Math.max(peakKB, r.peakRssKB);
        const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stderr);
        if (m) cpuSec += Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
    const seconds = (performance.now() - t0) / 1000;
    return {
      method: `reference (kubectl apply, ${perFile}-object files, ${parallel} at a time)`,
      services,
      objects,
      seconds,
      objectsPerSec: objects / seconds,
      peakRssMB: peakKB / 1024,
      clientCpuSec: cpuSec,
      serverCpuSec: 0,
      note: `${files.length} files; RSS is the largest single kubectl (${parallel} run at once)`,
    } satisfies MethodFigures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const services = int('services', args.services);
  const endpoints = int('endpoints', args.endpoints);
  const objects = services * 2; // each Service plus its endpoints object, in both methods
  const rows: MethodFigures[] = [];
  console.log(
    `${services} Services x ${endpoints} endpoints; ${os.cpus().length} CPUs; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  // Each method gets a fresh etcd + kube-apiserver: creating a Service costs the
  // apiserver time proportional to the Services already there (its ClusterIP
  // allocator lists every IPAddress to update a metric), so whoever ran second
  // on a shared apiserver would be handicapped.
  const methods: Array<[string, (kubeconfig: string) => Promise<MethodFigures>]> = [];
  if (args.only !== 'reference') {
    methods.push([
      'netbench',
      async (kc) => (await benchNetbench(kc, 'bench-netbench', services, objects)).figures,
    ]);
  }
  if (args.only !== 'netbench') {
    methods.push(['reference', (kc) => benchReference(kc, 'bench-reference', services, objects)]);
  }
  const rttMs = Number(args['rtt-ms']);
  if (!(rttMs >= 0)) throw new Error(`--rtt-ms must be a number >= 0, got ${args['rtt-ms']}`);
  if (rttMs > 0) console.log(`both clients reach the apiserver through a relay that adds ${rttMs} ms of round-trip time (bench/rtt-proxy.ts)`);
  for (const [, bench] of methods) {
    const api = await startApiserver();
    let proxy: RttProxy | undefined;
    try {
      let kubeconfig = api.kubeconfigPath;
      if (rttMs > 0) {
        const url = new URL(api.server);
        proxy = await startRttProxy({ host: url.hostname, port: Number(url.port) }, rttMs / 2);
        kubeconfig = path.join(api.dir, 'kubeconfig-rtt');
        // Same certificate (issued for 127.0.0.1), another port.
        writeFileSync(kubeconfig, readFileSync(api.kubeconfigPath, 'utf8').replaceAll(api.server, `https://${url.hostname}:${proxy.port}`), { mode: 0o600 });
      }
      const serverCpu = () => cpuSecondsOf(api.pids.apiserver) + cpuSecondsOf(api.pids.etcd);
      const before = serverCpu();
      const figures = await bench(kubeconfig);
      figures.serverCpuSec = serverCpu() - before;
      if (rttMs > 0) figures.method += `, +${rttMs} ms RTT`;
      rows.push(figures);
      printRow(figures);
    } finally {
      await proxy?.close();
      await api.stop();
    }
  }
  console.log();
  console.log(table(rows));
  const nb = rows.find((r) => r.method.startsWith('netbench'));
  const ref = rows.find((r) => r.method.startsWith('reference'));
  if (nb && ref) {
    const ratio = nb.objectsPerSec / ref.objectsPerSec;
    console.log(`\nratio netbench / reference: ${ratio.toFixed(2)}x (target >= 5x: ${ratio >= 5 ? 'met' : 'NOT met'})`);
    const cpuRatio = (ref.clientCpuSec + ref.serverCpuSec) / (nb.clientCpuSec + nb.serverCpuSec);
    console.log(`CPU per object, reference / netbench: ${cpuRatio.toFixed(2)}x (the ratio a CPU-bound machine can reach)`);
  }
  for (const r of rows) console.log(`note: ${r.method}: ${r.note}`);
  console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

function printRow(r: MethodFigures): void {
  console.log(
    `  ${r.method}: ${r.objects} objects in ${r.seconds.toFixed(1)} s = ${r.objectsPerSec.toFixed(0)} objects/s` +
      ` (CPU: client ${r.clientCpuSec.toFixed(1)} s, apiserver+etcd ${r.serverCpuSec.toFixed(1)} s)`,
  );
}

function table(rows: MethodFigures[]): string {
  const head = [
    'method',
    'objects',
    'seconds',
    'objects/s',
    'peak RSS MB',
    'client CPU s',
    'apiserver+etcd CPU s',
    'CPU ms/object (all)',
  ];
  const body = rows.map((r) => [
    r.method,
    String(r.objects),
    r.seconds.toFixed(1),
    r.objectsPerSec.toFixed(0),
    r.peakRssMB.toFixed(0),
    r.clientCpuSec.toFixed(1),
    r.serverCpuSec.toFixed(1),
    (((r.clientCpuSec + r.serverCpuSec) / r.objects) * 1000).toFixed(2),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
