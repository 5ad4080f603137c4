/**
 * A real, throwaway Kubernetes control plane for tests and benchmarks: etcd
 * (data on /dev/shm, fsync off) and kube-apiserver on random loopback
 * ports, with a static admin token (group system:masters) and RBAC on, plus
 * kube-controller-manager with just the controllers a test asks for (the
 * namespace controller, for instance, is what actually removes a deleted
 * namespace).
 *
 * Binaries come from PATH (`source scripts/env.sh` puts the project's built
 * ones there). Everything started here is killed on stop(), on process exit
 * and on SIGINT/SIGTERM/SIGHUP; temporary directories are removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

export interface StartApiserverOptions {
  /** kube-controller-manager controllers to run, e.g. ['namespace-controller']; none by default. */
  controllers?: string[];
  /** Give up if the apiserver is not ready after this long (default 90 s). */
  readyTimeoutMs?: number;
  /** Extra kube-apiserver flags. */
  apiserverArgs?: string[];
  /** More users (static tokens, no groups, so no permissions until a test binds some). */
  users?: string[];
}

export interface RunningApiserver {
  /** kubeconfig file of the admin user (system:masters). */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** kubeconfig file of one of `options.users` (they start with no RBAC permissions at all). */
  kubeconfigFor(user: string): string;
  server: string;
  /** Directory with logs and certificates (removed by stop()). */
  dir: string;
  /** Process ids, e.g. to read their CPU time from /proc. */
  pids: { etcd: number; apiserver: number; controllerManager?: number };
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHooksInstalled = false;

/** Kill every child we started, synchronously: used from exit and signal handlers. */
function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      killAllNow();
      // Re-raise with the default action so the exit status stays truthful.
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/** A free TCP port on 127.0.0.1 (bind to 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function start(name: string, bin: string, args: string[], logFile: string): ChildProcess {
  installExitHooks();
  // The child writes its log file itself: piping it through this process would cost
  // our CPU (and skew benchmarks) when the apiserver logs a lot under load.
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  child.on('exit', () => live.delete(child));
  child.on('error', (err) => {
    live.delete(child);
    appendFileSync(logFile, `\n[netbench] failed to start ${name}: ${err.message}\n`);
  });
  return child;
}

async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
  live.delete(child);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET a path over TLS without verification (the apiserver's cert is self-signed). */
function probe(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      { rejectUnauthorized: false, headers: { Authorization: `Bearer ${token}` }, timeout: 2000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  dead: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const died = dead();
    if (died) throw new Error(died);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function kubeconfigYaml(server: string, user: string, token: string): string {
  // JSON is valid YAML; kubectl and client-node both read it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'netbench-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'netbench-test', context: { cluster: 'netbench-test', user } }],
      'current-context': 'netbench-test',
    },
    null,
    2,
  );
}

export async function startApiserver(options: StartApiserverOptions = {}): Promise<RunningApiserver> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netbench-apiserver-'));
  const shm = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const etcdData = mkdtempSync(path.join(shm, 'netbench-etcd-'));
  const children: ChildProcess[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse order: controllers, apiserver, then etcd.
    for (const c of [...children].reverse()) await stopChild(c);
    rmSync(etcdData, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [clientPort, peerPort, securePort] = await Promise.all([freePort(), freePort(), freePort()]);
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    const etcdLog = path.join(dir, 'etcd.log');
    const etcd = start(
      'etcd',
      'etcd',
      [
        '--name=netbench',
        `--data-dir=${etcdData}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=netbench=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
        '--quota-backend-bytes=4294967296',
      ],
      etcdLog,
    );
    children.push(etcd);

    const adminToken = randomBytes(24).toString('hex');
    const userTokens = new Map((options.users ?? []).map((u) => [u, randomBytes(24).toString('hex')]));
    const tokenFile = path.join(dir, 'tokens.csv');
    writeFileSync(
      tokenFile,
      [
        `${adminToken},netbench-admin,uid-admin,"system:masters"`,
        ...[...userTokens].map(([u, t]) => `${t},${u},uid-${u}`),
      ].join('\n') + '\n',
      { mode: 0o600 },
    );
    // The apiserver insists on a service-account signing key; a fresh one per run.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = path.join(dir, 'sa.key');
    const saPub = path.join(dir, 'sa.pub');
    writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));

    const server = `https://127.0.0.1:${securePort}`;
    const apiLog = path.join(dir, 'kube-apiserver.log');
    // etcd answers within ~1 s; starting the apiserver right away is fine, it retries.
    const apiserver = start(
      'kube-apiserver',
      'kube-apiserver',
      [
        `--etcd-servers=${etcdUrl}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--cert-dir=${path.join(dir, 'certs')}`,
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=Node,RBAC',
        `--service-account-key-file=${saPub}`,
        `--service-account-signing-key-file=${saKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        // No kubelets or real endpoints here: don't reconcile the kubernetes Service's endpoints to 127.0.0.1.
        '--endpoint-reconciler-type=none',
        '--profiling=false',
        '--v=0',
        ...(options.apiserverArgs ?? []),
      ],
      apiLog,
    );
    children.push(apiserver);

    const dead = (): string | undefined => {
      for (const [c, name, log] of [
        [etcd, 'etcd', etcdLog],
        [apiserver, 'kube-apiserver', apiLog],
      ] as const) {
        if (c.exitCode !== null || c.signalCode !== null) {
          return `${name} exited (${c.exitCode ?? c.signalCode}); last log lines:\n${tail(log)}`;
        }
      }
      return undefined;
    };
    await waitUntil(
      'kube-apiserver /readyz',
      async () => (await probe(`${server}/readyz`, adminToken)).status === 200,
      options.readyTimeoutMs ?? 90_000,
      dead,
    );

    const kubeconfigPath = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, 'netbench-admin', adminToken), { mode: 0o600 });
    const userKubeconfigs = new Map<string, string>();
    for (const [u, t] of userTokens) {
      const file = path.join(dir, `kubeconfig-${u.replace(/[^A-Za-z0-9._-]/g, '_')}`);
      writeFileSync(file, kubeconfigYaml(server, u, t), { mode: 0o600 });
      userKubeconfigs.set(u, file);
    }
    const kubeconfigFor = (user: string): string => {
      const file = userKubeconfigs.get(user);
      if (!file) throw new Error(`no user ${user}; pass it in startApiserver({ users })`);
      return file;
    };

    let controllerManager: ChildProcess | undefined;
    if (options.controllers?.length) {
      const kcmLog = path.join(dir, 'kube-controller-manager.log');
      children.push(
        (controllerManager = start(
          'kube-controller-manager',
          'kube-controller-manager',
          [
            `--kubeconfig=${kubeconfigPath}`,
            `--controllers=${options.controllers.join(',')}`,
            '--leader-elect=false',
            '--secure-port=0',
            '--v=0',
          ],
          kcmLog,
        )),
      );
    }

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const pids = { etcd: etcd.pid!, apiserver: apiserver.pid!, controllerManager: controllerManager?.pid };
    return { kubeconfigPath, kubeConfig, kubeconfigFor, server, dir, pids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Cilium's CiliumNetworkPolicy CRD, schema-less: what a Cilium cluster has before netbench comes (its policies can be made). */
export const CILIUM_POLICY_CRD: KubernetesObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'ciliumnetworkpolicies.cilium.io' },
  spec: {
    group: 'cilium.io',
    names: { kind: 'CiliumNetworkPolicy', plural: 'ciliumnetworkpolicies', singular: 'ciliumnetworkpolicy', listKind: 'CiliumNetworkPolicyList' },
    scope: 'Namespaced',
    versions: [{ name: 'v2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
} as KubernetesObject;
