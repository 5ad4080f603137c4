/**
 * The fault campaign (issue 10, item 1): the real benchmark on the lab, with
 * short durations, one kind of fault per run, one row per run.
 *
 *   npx tsx bench/chaos.ts [--seed N] [--only sigkill,temporal,proxy,unreachable,exec-cut,cancel]
 *   npx tsx bench/chaos.ts --datapath cilium-native --only sigkill,cancel --kill-kinds hubble,networkpolicy ...
 *
 * Everything is real: the lab (its own, `chaos`; `chaos-cil` with a real
 * Cilium agent for --datapath cilium-*), a Temporal dev server of
 * the campaign's own (own ports, own state directory and database file),
 * `netbench worker` processes, bench/fault-proxy.ts between the worker and
 * the apiserver. Every random choice comes from --seed (printed), so a
 * campaign can be repeated.
 *
 * Checks per run: the outcome; retries (activity attempts > 1, from the
 * histories); the dummy Services counted while each step measured (exactly
 * the step's count?) and at the end; scenarios scheduled more than once
 * across parent and children (as the crash test counts them); for every run,
 * what was left behind: namespaces, dummy Services, policies, tool processes
 * in the lab namespace, a changed cilium-config, and whether report.md was
 * written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { labDown, labStatus, labUp, type DatapathName, type LabInfo } from '../lab/lab';
import { DATAPATH_NAMES } from '../lab/config';
import { resolveConfig } from '../src/config';
import { runStart } from '../src/cli/run-input';
import { devServerStart, devServerStop, portOpen } from '../src/cli/devserver';
import { DUMMY_SELECTOR } from '../src/domain/services';
import type { RunResults } from '../src/domain/results';
import { progressQuery, type Progress } from '../src/shared';
import { seededRandom, startFaultProxy, type FaultProxy } from './fault-proxy';

const repoRoot = path.resolve(import.meta.dirname, '..');
const FAULTS = ['none', 'sigkill', 'temporal', 'proxy', 'unreachable', 'exec-cut', 'cancel'] as const;
type Fault = (typeof FAULTS)[number];

const HELP = `bench/chaos.ts: the fault campaign (one kind of fault per run, one row per run)

Usage: npx tsx bench/chaos.ts [options]      (npm run bench -- chaos [options])

Options:
  --seed N            seed of every random choice (default: from the clock; printed)
  --only LIST         faults to run, comma-separated (default: all):
                      none, sigkill, temporal, proxy, unreachable, exec-cut, cancel
  --kills N           worker SIGKILLs in all (default 10), --kills-per-run (default 5) per run
  --kills-per-run N
  --rate R            fault rate of the proxy run, per request (default 0.05)
  --outage SECONDS    the apiserver unreachable this long (default 180)
  --temporal-down S   the Temporal dev server down this long (default: 5 to 20 s, seeded)
  --kill-kinds LIST   points of the SIGKILLs instead of the seeded plan's mix: creation, convergence,
                      tool, pause, cleanup, report; on Cilium also hubble, networkpolicy
  --steps LIST        SVC_SCALE_STEPS of every run (default 100,1000)
  --cancel-phases L   phases of the cancel runs (default deploy,throughput,rps,latency,creation,scale-measure,metrics;
                      on Cilium also hubble, networkpolicy)
  --skip LIST         NETBENCH_SKIP of every run (default: none skipped)
  --datapath D        the lab's datapath: kube-proxy (default), cilium-native, cilium-overlay (a real Cilium agent)
  --lb-map-max N      Cilium: set cilium-config bpf-lb-map-max to N before the campaign (a map the plan's steps
                      overflow), and run with AUTO_FIX_LB_MAP=true: the runs patch it and must put it back
  --probe-ms N        how often the campaign looks where a run is (default 200; 50 catches short activities)
  --port N            gRPC port of the campaign's Temporal dev server (default 7491; Web UI +1000)
  --lab NAME          lab name (default chaos; chaos-cil on Cilium)
  --keep-lab          leave the lab up at the end (the dev server always stops)
  --json FILE         also write the rows as JSON
  -h, --help          this help
`;

// ---------------------------------------------------------------------------------------------
// the rows

export interface Row {
  fault: string;
  where: string;
  outcome: string;
  retries: string;
  services: string;
  twice: string;
  leftovers: string;
  seconds: number;
  notes: string[];
}

export function markdownTable(rows: Row[]): string {
  const head = '| # | fault | where it hit | outcome | retries (attempts > 1) | Services at each step / at the end | measured twice | left behind | s |';
  const sep = '| --- | --- | --- | --- | --- | --- | --- | --- | ---: |';
  const esc = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [head, sep, ...rows.map((r, i) => `| ${i + 1} | ${esc(r.fault)} | ${esc(r.where)} | ${esc(r.outcome)} | ${esc(r.retries)} | ${esc(r.services)} | ${esc(r.twice)} | ${esc(r.leftovers)} | ${r.seconds.toFixed(0)} |`)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// where a run is: pending activities and timers, read from the histories (parent + open child)

interface Pending {
  wf: string;
  type: string;
  input?: { scenario?: string; round?: number; step?: number; from?: number; to?: number };
}
export interface RunState {
  activities: Pending[];
  timers: string[];
  /** activity types completed so far (parent and children) */
  completed: Set<string>;
  done: boolean;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
const idOf = (v: unknown) => String(v);
const decode = (p: { data?: Uint8Array | null } | undefined) => {
  try {
    return p?.data ? JSON.parse(Buffer.from(p.data).toString()) : undefined;
  } catch {
    return undefined;
  }
};

function pendingOf(wf: string, events: HistoryEvent[], st: RunState): string[] {
  const scheduled = new Map<string, Pending>();
  const timers = new Map<string, string>();
  const children = new Map<string, string>();
  for (const e of events) {
    const id = idOf(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(id, { wf, type: s.activityType?.name ?? '?', input: decode(s.input?.payloads?.[0]) });
    for (const a of [e.activityTaskCompletedEventAttributes, e.activityTaskFailedEventAttributes, e.activityTaskTimedOutEventAttributes, e.activityTaskCanceledEventAttributes]) {
      if (a) {
        const k = idOf(a.scheduledEventId);
        if (e.activityTaskCompletedEventAttributes && scheduled.get(k)) st.completed.add(scheduled.get(k)!.type);
        scheduled.delete(k);
      }
    }
    if (e.timerStartedEventAttributes) timers.set(e.timerStartedEventAttributes.timerId ?? id, wf);
    if (e.timerFiredEventAttributes) timers.delete(e.timerFiredEventAttributes.timerId ?? '');
    if (e.timerCanceledEventAttributes) timers.delete(e.timerCanceledEventAttributes.timerId ?? '');
    const c = e.childWorkflowExecutionStartedEventAttributes;
    if (c?.workflowExecution?.workflowId) children.set(c.workflowExecution.workflowId, 'open');
    for (const a of [
      e.childWorkflowExecutionCompletedEventAttributes,
      e.childWorkflowExecutionFailedEventAttributes,
      e.childWorkflowExecutionCanceledEventAttributes,
      e.childWorkflowExecutionTimedOutEventAttributes,
      e.childWorkflowExecutionTerminatedEventAttributes,
    ]) {
      if (a?.workflowExecution?.workflowId) children.delete(a.workflowExecution.workflowId);
    }
    if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes || e.workflowExecutionCanceledEventAttributes) st.done = wf === 'parent' ? true : st.done;
  }
  st.activities.push(...scheduled.values());
  st.timers.push(...[...timers.keys()].map((t) => `${wf}:${t}`));
  return [...children.keys()];
}

async function runState(client: Client, workflowId: string): Promise<RunState | undefined> {
  try {
    const st: RunState = { activities: [], timers: [], completed: new Set(), done: false };
    const h = await client.workflow.getHandle(workflowId).fetchHistory();
    const open = pendingOf('parent', h.events ?? [], st);
    for (const child of open) {
      const ch = await client.workflow.getHandle(child).fetchHistory();
      pendingOf(child.replace(/^.*\//, ''), ch.events ?? [], st);
    }
    return st;
  } catch {
    return undefined; // Temporal down: no state this time
  }
}

/** What a person would call the point a run is at. */
export function describeState(st: RunState, p?: Progress): { kind: string; label: string } {
  const acts = st.activities.filter((a) => a.type !== 'monitorResources');
  const a = acts[0];
  const phase = p?.phase ?? '?';
  if (a?.type === 'createDummyServices') return { kind: 'creation', label: `creation @${a.wf.replace('scale-', '')} (Services ${acts.map((x) => `${x.input?.from}..${x.input?.to}`).join(', ')})` };
  if (a?.type === 'waitDatapathConverged') return { kind: 'convergence', label: `convergence @${a.wf.replace('scale-', '')}` };
  // Cilium phases: asking the agents (endpoints, a policy's verdict), the Hubble toggle, a tool run while a policy exists
  const policy = (a?.input as { kind?: string } | undefined)?.kind;
  if (a?.type === 'setHubble' || (a?.type === 'ciliumEndpoints' && phase === 'hubble')) return { kind: 'hubble', label: `hubble: ${a.type}${a.type === 'setHubble' ? ` enabled=${(a.input as { enabled?: boolean }).enabled}` : ''}` };
  if (a?.type === 'policyVerdict') return { kind: 'networkpolicy', label: `networkpolicy: policyVerdict (${policy} policy applied)` };
  if (a?.type === 'measure' && /^l(3l4|7)_policy$/.test(a.input?.scenario ?? '')) return { kind: 'networkpolicy', label: `networkpolicy: tool ${a.input?.scenario} (policy applied)` };
  if (a?.type === 'measure') return { kind: 'tool', label: `tool: ${a.input?.scenario} r${a.input?.round}${a.input?.step ? ` @${a.input.step}` : ` (${phase})`}` };
  if (a?.type === 'deleteNamespaces' || a?.type === 'deleteDummyServices') return { kind: 'cleanup', label: 'cleanup (deleting namespaces)' };
  if (a?.type === 'writeReport') return { kind: 'report', label: 'report (writeReport running)' };
  if (!a && st.completed.has('deleteNamespaces') && !st.completed.has('writeReport')) return { kind: 'report', label: 'report (cleanup done, writeReport next)' };
  if (a?.type === 'deployFixtures') return { kind: 'deploy', label: 'deploy fixtures' };
  if (a?.type === 'sampleResources' || a?.type === 'collectComponentMetrics') return { kind: 'metrics', label: `metrics (${a.type})` };
  if (a) return { kind: a.type, label: `${a.type} (${phase})` };
  if (st.timers.length) return { kind: 'pause', label: `pause (${st.timers[0].startsWith('scale-') ? `step ${st.timers[0].split(':')[0].replace('scale-', '')}` : phase})` };
  return { kind: 'between', label: `between tasks (${phase})` };
}

// ---------------------------------------------------------------------------------------------
// the campaign

export interface Opts {
  seed: number;
  only: Fault[];
  kills: number;
  killsPerRun: number;
  rate: number;
  outageSec: number;
  temporalDownSec?: number;
  steps: number[];
  cancelPhases: string[];
  port: number;
  lab: string;
  keepLab: boolean;
  json?: string;
  /** the kinds of the SIGKILL points instead of the seeded plan's (the npm test subset: ['tool']) */
  killKinds?: string[];
  /** environment of every run on top of the short durations (the npm test subset skips phases) */
  env?: Record<string, string>;
  /** length of the proxy's stalls (default 30 s) */
  stallMs?: number;
  /** the lab's datapath (default kube-proxy) */
  datapath?: DatapathName;
  /** Cilium: bpf-lb-map-max set before the campaign; the runs fix it themselves (AUTO_FIX_LB_MAP) and must restore it */
  lbMapMax?: number;
  /** probe interval (default 200 ms) */
  probeMs?: number;
}

const isCiliumLab = (o: Pick<Opts, 'datapath'>) => (o.datapath ?? 'kube-proxy').startsWith('cilium');

class Worker {
  proc?: ChildProcess;
  expected = false;
  notes: string[] = [];
  constructor(
    private readonly c: Campaign,
    public kubeconfig: string,
    readonly queue: string,
  ) {}
  start(): void {
    const log = createWriteStream(path.join(this.c.dir, `worker-${this.queue}.log`), { flags: 'a' });
    const p = spawn(path.join(repoRoot, 'bin/netbench'), ['worker', '--address', this.c.address, '--task-queue', this.queue, '--kubeconfig', this.kubeconfig, '--context', this.c.lab.context], {
      env: { ...process.env, KUBECONFIG: this.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.stdout!.pipe(log);
    p.stderr!.pipe(log);
    this.proc = p;
    this.expected = false;
    p.once('exit', (code, sig) => {
      if (this.proc !== p || this.expected) return;
      // A worker that dies on its own is restarted, as a supervisor (systemd, a Deployment) would.
      this.notes.push(`worker exited by itself (${sig ?? code}), restarted`);
      setTimeout(() => this.proc === p && this.start(), 2000);
    });
  }
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.expected = true;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.expected = true;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    if (!(await Promise.race([gone.then(() => true), sleep(30_000, undefined, { ref: false }).then(() => false)]))) {
      p.kill('SIGKILL');
      await gone;
    }
  }
}

interface RunSpec {
  fault: Fault;
  label: string;
  steps: number[];
  env?: Record<string, string>;
  /** called every probe with the run's state; returns a note when it injected something */
  onProbe?: (ctx: ProbeCtx) => Promise<void>;
  proxy?: boolean;
  expectCancel?: boolean;
  /** after the run: what was planned and never reached */
  onEnd?: (where: string[]) => void;
}
interface ProbeCtx {
  st: RunState;
  progress?: Progress;
  here: { kind: string; label: string };
  handle: WorkflowHandle;
  worker: Worker;
  where: string[];
  notes: string[];
  proxy?: FaultProxy;
}

class Campaign {
  dir = mkdtempSync(path.join(os.tmpdir(), 'nb-chaos-'));
  address = '';
  client!: Client;
  lab!: LabInfo;
  kc = new KubeConfig();
  rand: () => number;
  rows: Row[] = [];
  ciliumConfigBefore = '';
  runNo = 0;
  /** progress queries still in flight (down() lets them end before it closes the connection) */
  queries = new Set<Promise<unknown>>();
  constructor(readonly o: Opts) {
    this.rand = seededRandom(o.seed);
  }
  get stateDir(): string {
    return path.join(this.dir, 'temporal');
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  async up(): Promise<void> {
    const t = Date.now();
    this.lab = await labUp({ name: this.o.lab, ...(this.o.datapath ? { datapath: this.o.datapath } : {}) });
    this.kc.loadFromFile(this.lab.kubeconfigPath);
    if (this.o.lbMapMax !== undefined) await this.setCiliumConfig('bpf-lb-map-max', String(this.o.lbMapMax));
    const r = await devServerStart({ port: this.o.port, uiPort: this.o.port + 1000, stateDir: this.stateDir });
    if (!r.started) throw new Error(`something already listens on ${this.o.port}: pick another --port`);
    this.address = r.address;
    this.client = new Client({ connection: await Connection.connect({ address: this.address }) });
    this.ciliumConfigBefore = await this.ciliumConfig();
    log(`lab ${this.o.lab} and Temporal ${this.address} (state ${this.stateDir}) up in ${((Date.now() - t) / 1000).toFixed(0)} s; campaign dir ${this.dir}`);
  }

  async down(): Promise<void> {
    // A query the probe stopped waiting for may still be retrying in the client: closing the connection under it
    // makes its next try throw "Channel has been shut down" from a timer (an uncaught exception in the test runner).
    await Promise.race([Promise.allSettled([...this.queries]), sleep(30_000, undefined, { ref: false })]);
    await this.client?.connection.close().catch(() => undefined);
    devServerStop({ stateDir: this.stateDir });
    for (let i = 0; i < 100 && (await portOpen(this.o.port)); i++) await sleep(200); // gone before the next campaign starts
    if (this.o.keepLab) return;
    await labDown({ name: this.o.lab });
  }

  async ciliumConfig(): Promise<string> {
    try {
      const cm = await this.kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'kube-system', name: 'cilium-config' });
      return JSON.stringify(cm.data ?? {});
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return 'absent';
      throw err;
    }
  }

  /** One cilium-config key, as a user's cluster has it before netbench runs (the running agent keeps its map until restarted). */
  async setCiliumConfig(key: string, value: string): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'cilium-config' });
    cm.data = { ...(cm.data ?? {}), [key]: value };
    await core.replaceNamespacedConfigMap({ namespace: 'kube-system', name: 'cilium-config', body: cm });
  }

  async dummyCount(ns: string): Promise<number> {
    const core = this.kc.makeApiClient(CoreV1Api);
    let n = 0;
    let cont: string | undefined;
    try {
      do {
        const page = await core.listNamespacedService({ namespace: ns, limit: 5000, _continue: cont, labelSelector: DUMMY_SELECTOR });
        n += page.items.length;
        cont = page.metadata?._continue;
      } while (cont);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return 0;
      throw err;
    }
    return n;
  }

  /** What a run left behind: namespaces, dummy Services, policies, tool processes, cilium-config. */
  async leftovers(ns: string, svcNs: string): Promise<string[]> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const left: string[] = [];
    const nss = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    for (const n of [ns, svcNs]) if (nss.includes(n)) left.push(`namespace ${n}`);
    const dummies = (await core.listServiceForAllNamespaces({ labelSelector: DUMMY_SELECTOR, limit: 1 })).items.length;
    if (dummies) left.push('dummy Services');
    const np = (await this.kc.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces({ labelSelector: 'app.kubernetes.io/managed-by=netbench' })).items.length;
    if (np) left.push(`${np} NetworkPolicies`);
    try {
      const cnp = (await this.kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: 'cilium.io', version: 'v2', plural: 'ciliumnetworkpolicies' })) as { items: unknown[] };
      if (cnp.items.length) left.push(`${cnp.items.length} CiliumNetworkPolicies`);
    } catch {
      /* no Cilium CRDs on a kube-proxy lab */
    }
    // A tool whose exec was cut runs to its own end (-t/-l): give it that long before calling it left behind.
    let stray = (await labStatus({ name: this.o.lab })).strayPids;
    for (let i = 0; i < 10 && stray.length; i++) {
      await sleep(1000);
      stray = (await labStatus({ name: this.o.lab })).strayPids;
    }
    if (stray.length) left.push(`tool processes ${stray.map((s) => `${s.comm}(${s.pid})`).join(', ')}`);
    if ((await this.ciliumConfig()) !== this.ciliumConfigBefore) left.push('cilium-config changed');
    return left;
  }

  async run(spec: RunSpec): Promise<Row> {
    const n = ++this.runNo;
    const queue = `chaos-${this.o.seed}-${n}`;
    const ns = `chaos-${n}`;
    const svcNs = `chaos-${n}-svcs`;
    const out = path.join(this.dir, `run-${n}`);
    let proxy: FaultProxy | undefined;
    if (spec.proxy) proxy = await startFaultProxy({ kubeconfigPath: this.lab.kubeconfigPath, context: this.lab.context, dir: path.join(this.dir, `proxy-${n}`), seed: this.o.seed + n, stallMs: this.o.stallMs });
    const worker = new Worker(this, proxy?.kubeconfigPath ?? this.lab.kubeconfigPath, queue);
    worker.start();
    const config = resolveConfig({
      env: {
        IPERF_DURATION: '1', FORTIO_DURATION: '2', ROUNDS: '1', ROUND_SLEEP: '0', SETTLE_FACTOR: '0', METRICS_SETTLE_SECS: '0', METRICS_SAMPLES: '1',
        KUBECTL_TIMEOUT: '30', NETBENCH_TASK_QUEUE: queue, SVC_SCALE_STEPS: spec.steps.join(','),
        ...(this.o.lbMapMax !== undefined ? { AUTO_FIX_LB_MAP: 'true' } : {}), ...this.o.env, ...spec.env,
      },
      flags: { dir: out, ns, 'svc-namespace': svcNs },
    });
    const { start } = runStart(config, this.lab.context, true);
    const workflowId = `chaos-${this.o.seed}-${n}-${spec.fault}`;
    const t0 = Date.now();
    const handle = await this.client.workflow.start('benchmarkRun', { ...start, workflowId });
    log(`run ${n}: ${spec.label} (${workflowId})`);

    const where: string[] = [];
    const notes: string[] = [];
    const stepCounts = new Map<number, number>();
    let ended = false;
    // handle.result() gives up when Temporal is unreachable for long (it did during a 90 s restart):
    // the run goes on in the server, so wait again; only the run's own end counts.
    const result = (async () => {
      for (;;) {
        try {
          return { ok: true as const, r: (await handle.result()) as RunResults };
        } catch (e) {
          if (e instanceof WorkflowFailedError || e instanceof WorkflowNotFoundError) return { ok: false as const, e };
          notes.push(`the client's result() failed while the run went on (${(e as Error).message.split('\n')[0]}); waited again`);
          await sleep(2000);
        }
      }
    })();
    void result.then(() => (ended = true));
    // The probe: where the run is, the Service count at each step, and the fault's trigger.
    while (!ended) {
      const st = await runState(this.client, workflowId);
      const query = handle.query(progressQuery).catch(() => undefined);
      this.queries.add(query);
      void query.finally(() => this.queries.delete(query));
      const progress = await Promise.race([query, sleep(2000, undefined, { ref: false }).then(() => undefined)]);
      if (st && !st.done) {
        const here = describeState(st, progress);
        const m = st.activities.find((a) => a.type === 'measure' && a.input?.step);
        if (m && !stepCounts.has(m.input!.step!)) stepCounts.set(m.input!.step!, await this.dummyCount(svcNs));
        const before = where.length;
        await spec.onProbe?.({ st, progress, here, handle, worker, where, notes, proxy });
        for (const w of where.slice(before)) log(`run ${n}: ${spec.fault} at ${w}`);
      }
      await Promise.race([result, sleep(st?.activities.some((a) => a.type === 'deleteNamespaces') ? 50 : (this.o.probeMs ?? 200))]);
    }
    const res = await result;
    const seconds = (Date.now() - t0) / 1000;
    spec.onEnd?.(where);
    await worker.stop();
    if (proxy) {
      const s = proxy.stats();
      notes.push(
        `proxy: ${s.requests} requests, ${s.upgrades} exec upgrades; injected ${Object.entries(s.injected).filter(([, v]) => v).map(([k, v]) => `${k}×${v}`).join(', ') || 'nothing'}` +
          (s.refusedConnections ? `; ${s.refusedConnections} connections reset at the outage` : '') +
          (s.execCuts.length ? `; exec cut: ${s.execCuts.join('; ')}` : ''),
      );
      await proxy.close();
    }
    notes.push(...worker.notes);

    // outcome
    let outcome: string;
    let r: RunResults | undefined;
    if (res.ok) {
      r = res.r;
      const all = [...r.measurements, ...r.scale.steps.flatMap((s) => s.measurements)];
      const failed = all.filter((m) => !m.ok && !m.notMeasured);
      const notMeasured = all.filter((m) => m.notMeasured); // recorded with a reason the cluster gave (e.g. no Cilium endpoint on the lab)
      outcome = `completed${failed.length ? `, ${failed.length} measurement(s) failed: ${failed.map((f) => `${f.scenario}${f.step ? `@${f.step}` : ''}: ${f.reason}`).join('; ')}` : ''}`;
      if (notMeasured.length) outcome += `; not measured, with the cluster's reason: ${notMeasured.map((m) => m.scenario).join(', ')}`;
      if (r.undo?.some((u) => !u.ok)) outcome += `; undo failed: ${r.undo.filter((u) => !u.ok).map((u) => u.what).join(', ')}`;
      if (r.cleanup && !r.cleanup.done) outcome += `; cleanup not done: ${r.cleanup.reason}`;
      if (r.reportFailure) outcome += `; report failed: ${r.reportFailure}`;
    } else if (res.e instanceof WorkflowFailedError && res.e.cause instanceof CancelledFailure) {
      outcome = 'cancelled';
    } else {
      outcome = `FAILED: ${res.e instanceof WorkflowFailedError ? (res.e.cause?.message ?? res.e.message) : String(res.e)}`;
    }
    if (spec.expectCancel !== (outcome === 'cancelled')) outcome = `${outcome} (UNEXPECTED)`;

    // retries and scenarios measured twice, from the histories (parent and each step's child)
    const ids = [workflowId, ...spec.steps.map((s) => `${workflowId}/scale-${s}`)];
    const seen = new Map<string, number>();
    const retries = new Map<string, number>();
    for (const id of ids) {
      const hist = await this.client.workflow.getHandle(id).fetchHistory().catch(() => undefined);
      const types = new Map<string, string>();
      for (const e of hist?.events ?? []) {
        const a = e.activityTaskScheduledEventAttributes;
        if (a) {
          types.set(idOf(e.eventId), a.activityType?.name ?? '?');
          if (a.activityType?.name === 'measure') {
            const input = decode(a.input?.payloads?.[0]) as { scenario: string; round: number; step?: number };
            const key = `${input.scenario}/${input.round}/${input.step ?? '-'}`;
            seen.set(key, (seen.get(key) ?? 0) + 1);
          }
        }
        const s = e.activityTaskStartedEventAttributes;
        if (s && (s.attempt ?? 1) > 1) {
          const t = types.get(idOf(s.scheduledEventId)) ?? '?';
          retries.set(t, Math.max(retries.get(t) ?? 0, s.attempt ?? 1));
        }
        // (a retried activity has one Started event, written with its last attempt; a final failure,
        // e.g. a tool run aborted by a cancel, is not a retry)
      }
    }
    // attempts of completed measurements (retries inside one scheduled activity leave one Started event)
    for (const m of [...(r?.measurements ?? []), ...(r?.scale.steps.flatMap((s) => s.measurements) ?? [])]) {
      if ((m.attempts ?? 1) > 1) retries.set(`measure ${m.scenario}${m.step ? `@${m.step}` : ''}`, m.attempts!);
    }
    const twice = [...seen].filter(([k, c]) => c > 1 && !k.startsWith('warmup'));

    // Services: at each step (counted while it measured) and at the end
    const stepsText = spec.steps
      .map((s) => {
        const c = stepCounts.get(s);
        return c === undefined ? `${s}: not seen` : c === s ? `${s} ✓` : `${s}: ${c} ✗`;
      })
      .join(', ');
    const endCount = await this.dummyCount(svcNs);
    const left = await this.leftovers(ns, svcNs);
    const reportWritten = existsSync(path.join(out, 'report.md'));
    if (!reportWritten) left.push('NO report.md');
    const row: Row = {
      fault: spec.label,
      where: where.join('; ') || '-',
      outcome,
      retries: [...retries].map(([t, a]) => `${t}×${a}`).join(', ') || '0',
      services: `${stepsText}; end ${endCount}`,
      twice: twice.length ? twice.map(([k, c]) => `${k}×${c}`).join(', ') : 'none',
      leftovers: left.join(', ') || 'nothing (report written)',
      seconds,
      notes,
    };
    this.rows.push(row);
    log(`run ${n} done in ${seconds.toFixed(0)} s: ${JSON.stringify(row)}`);
    // A run that left its namespaces must not poison the next: remove them (recorded above).
    if (left.some((l) => l.startsWith('namespace'))) {
      const core = this.kc.makeApiClient(CoreV1Api);
      for (const x of [ns, svcNs]) await core.deleteNamespace({ name: x }).catch(() => undefined);
    }
    return row;
  }
}

function log(msg: string): void {
  process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// the faults

const KILL_RANK: Record<string, number> = { tool: 0, pause: 0, hubble: 0, networkpolicy: 0, creation: 1, convergence: 2, cleanup: 3, report: 4 };
const CILIUM_ONLY = ['hubble', 'networkpolicy'];

/** The SIGKILL plan: every kind once, the rest at random, split into runs, each run's kills in run order. */
export function killPlan(rand: () => number, kills: number, perRun: number, only?: string[]): Array<Array<{ kind: string; skip: number; delayMs: number }>> {
  const kinds = only ?? ['creation', 'convergence', 'tool', 'pause', 'cleanup', 'report'];
  const all = kinds.slice(0, kills);
  const repeatable = ['creation', 'tool', 'pause', 'tool'];
  while (all.length < kills) all.push(repeatable[Math.floor(rand() * repeatable.length)]);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const runs: Array<Array<{ kind: string; skip: number; delayMs: number }>> = [];
  for (let i = 0; i < all.length; i += perRun) {
    const kinds_ = all.slice(i, i + perRun);
    // at most one cleanup and one report per run (each happens once)
    runs.push(
      kinds_
        .sort((a, b) => KILL_RANK[a] - KILL_RANK[b])
        .map((kind) => ({
          kind,
          skip: kind === 'tool' || kind === 'pause' ? Math.floor(rand() * 4) : kind === 'creation' || kind === 'convergence' ? Math.floor(rand() * 2) : 0,
          delayMs: kind === 'creation' ? Math.floor(rand() * 1500) : kind === 'tool' ? Math.floor(rand() * 1500) : kind === 'pause' ? Math.floor(rand() * 800) : 0,
        })),
    );
  }
  return runs;
}

function sigkillSpec(c: Campaign, plan: Array<{ kind: string; skip: number; delayMs: number }>, i: number): RunSpec {
  const targets = plan.map((t) => ({ ...t, state: 'waiting' as 'waiting' | 'done' | 'missed' }));
  let lastOccurrence = '';
  return {
    fault: 'sigkill',
    label: `worker SIGKILL ×${plan.length} (run ${i + 1}: ${plan.map((p) => p.kind).join(', ')})`,
    steps: c.o.steps,
    env: { ROUND_SLEEP: '2', SVC_CREATE_PARALLEL: '2' },
    expectCancel: false,
    async onProbe(x) {
      const t = targets.find((k) => k.state === 'waiting');
      if (!t) return;
      const rankNow = KILL_RANK[x.here.kind];
      if (rankNow !== undefined && rankNow > KILL_RANK[t.kind]) {
        t.state = 'missed';
        x.where.push(`${t.kind}: missed (run was at ${x.here.label})`);
        return;
      }
      if (x.here.kind !== t.kind) return;
      // The same tool run, creation or pause as the last kill is not a new point (the label's phase
      // comes from a query, which fails while the worker restarts: identify by activity and timer).
      const act = x.st.activities.find((a) => a.type !== 'monitorResources');
      const occurrence = JSON.stringify([act?.wf, act?.type, act?.input?.scenario, act?.input?.round, act?.input?.step, act?.input?.from, x.st.timers]);
      if (occurrence === lastOccurrence) return; // the same tool run / pause as the last kill
      if (t.skip > 0) {
        t.skip--;
        lastOccurrence = occurrence;
        return;
      }
      await sleep(t.delayMs);
      const existed = t.kind === 'creation' ? ` (${await c.dummyCount(`chaos-${c.runNo}-svcs`)} Services existed)` : '';
      await x.worker.kill();
      t.state = 'done';
      lastOccurrence = occurrence;
      x.where.push(`${x.here.label} +${t.delayMs} ms${existed}`);
      x.worker.start();
    },
    onEnd(where) {
      for (const t of targets.filter((k) => k.state === 'waiting')) where.push(`${t.kind}: missed (the run ended first)`);
    },
  };
}

function temporalSpec(c: Campaign): RunSpec {
  const kinds = ['creation', 'tool', 'convergence'];
  const kind = kinds[c.int(0, kinds.length - 1)];
  const drawn = c.int(5, 20);
  const downSec = c.o.temporalDownSec ?? drawn;
  let done = false;
  return {
    fault: 'temporal',
    label: `Temporal dev server stopped ${downSec} s, restarted on its database file`,
    steps: c.o.steps,
    env: { SVC_CREATE_PARALLEL: '2' },
    expectCancel: false,
    async onProbe(x) {
      if (done || x.here.kind !== kind || (kind === 'tool' && !x.st.activities.some((a) => a.input?.step))) return;
      done = true;
      devServerStop({ stateDir: c.stateDir });
      while (await portOpen(c.o.port)) await sleep(100);
      x.where.push(`${x.here.label}; down ${downSec} s`);
      await sleep(downSec * 1000);
      const r = await devServerStart({ port: c.o.port, uiPort: c.o.port + 1000, stateDir: c.stateDir });
      if (!r.started) x.notes.push('dev server did not restart');
    },
  };
}

function proxySpec(c: Campaign): RunSpec {
  return {
    fault: 'proxy',
    label: `fault proxy: ${(c.o.rate * 100).toFixed(1)}% of requests get 429 (Retry-After 1) / 500 / 503 / reset / ${(c.o.stallMs ?? 30_000) / 1000} s stall`,
    steps: c.o.steps,
    proxy: true,
    expectCancel: false,
    async onProbe(x) {
      if (!x.where.length) {
        x.proxy!.setRate(c.o.rate);
        x.where.push('every request from the start');
      }
    },
  };
}

function unreachableSpec(c: Campaign): RunSpec {
  const kinds = ['creation', 'tool', 'convergence'];
  const kind = kinds[c.int(0, kinds.length - 1)];
  let started = false;
  return {
    fault: 'unreachable',
    label: `apiserver unreachable ${c.o.outageSec} s (proxy refuses every connection)`,
    steps: c.o.steps,
    proxy: true,
    env: { SVC_CREATE_PARALLEL: '2' },
    expectCancel: false,
    async onProbe(x) {
      if (started || x.here.kind !== kind) return;
      started = true;
      x.where.push(x.here.label);
      void x.proxy!.refuse(c.o.outageSec * 1000);
    },
  };
}

function execCutSpec(c: Campaign): RunSpec {
  const armed = new Set<string>();
  return {
    fault: 'exec-cut',
    label: 'exec stream of a tool reset mid-output (one fortio in RPS, one tool at a scale step)',
    steps: c.o.steps,
    proxy: true,
    expectCancel: false,
    async onProbe(x) {
      const atStep = x.st.activities.some((a) => a.type === 'measure' && a.input?.step) || x.here.kind === 'creation';
      const which = x.progress?.phase === 'rps' ? 'rps' : atStep ? 'step' : undefined;
      if (!which || armed.has(which)) return;
      armed.add(which);
      const bytes = c.int(40, 600);
      x.proxy!.cutExec(1, bytes);
      x.where.push(`next tool exec ${which === 'rps' ? 'in RPS' : 'at a scale step'} cut after ${bytes} bytes`);
    },
  };
}

const CANCEL_AT: Record<string, (x: ProbeCtx) => boolean> = {
  deploy: (x) => x.here.kind === 'deploy',
  throughput: (x) => x.here.kind === 'tool' && x.progress?.phase === 'throughput',
  rps: (x) => x.here.kind === 'tool' && x.progress?.phase === 'rps',
  latency: (x) => x.here.kind === 'tool' && x.progress?.phase === 'latency',
  creation: (x) => x.here.kind === 'creation',
  'scale-measure': (x) => x.here.kind === 'tool' && x.st.activities.some((a) => a.input?.step),
  // Cilium only: while the phase asks the agents or toggles Hubble; while a CiliumNetworkPolicy exists
  hubble: (x) => x.here.kind === 'hubble',
  networkpolicy: (x) => x.here.kind === 'networkpolicy',
  metrics: (x) => x.here.kind === 'metrics' || (x.progress?.phase === 'metrics' && x.here.kind !== 'cleanup'),
};

function cancelSpec(c: Campaign, phase: string): RunSpec {
  let done = false;
  return {
    fault: 'cancel',
    label: `cancel in ${phase}`,
    steps: c.o.steps,
    env: { SVC_CREATE_PARALLEL: '2', ...(phase === 'metrics' ? { METRICS_SAMPLES: '3' } : {}) },
    expectCancel: true,
    async onProbe(x) {
      if (done || !CANCEL_AT[phase](x)) return;
      done = true;
      // The Cilium phases' activities last well under a second on the lab (asking an agent): cancel at once.
      await sleep(CILIUM_ONLY.includes(phase) ? 0 : c.int(0, 800));
      x.where.push(x.here.label);
      await x.handle.cancel();
    },
  };
}

// ---------------------------------------------------------------------------------------------

export function parseChaosArgs(argv: string[]): Opts | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      only: { type: 'string' },
      kills: { type: 'string' },
      'kills-per-run': { type: 'string' },
      rate: { type: 'string' },
      outage: { type: 'string' },
      'temporal-down': { type: 'string' },
      steps: { type: 'string' },
      'cancel-phases': { type: 'string' },
      'kill-kinds': { type: 'string' },
      skip: { type: 'string' },
      datapath: { type: 'string' },
      'lb-map-max': { type: 'string' },
      'probe-ms': { type: 'string' },
      port: { type: 'string' },
      lab: { type: 'string' },
      'keep-lab': { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const num = (v: string | undefined, d: number, what: string) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${what}: not a number: ${v}`);
    return n;
  };
  const only = (values.only?.split(',') ?? [...FAULTS]) as Fault[];
  for (const f of only) if (!FAULTS.includes(f)) throw new Error(`--only: unknown fault "${f}" (${FAULTS.join(', ')})`);
  const datapath = (values.datapath ?? 'kube-proxy') as DatapathName;
  if (!DATAPATH_NAMES.includes(datapath)) throw new Error(`--datapath: unknown "${datapath}" (${DATAPATH_NAMES.join(', ')})`);
  const cilium = isCiliumLab({ datapath });
  const cancelPhases = values['cancel-phases']?.split(',') ?? Object.keys(CANCEL_AT).filter((p) => cilium || !CILIUM_ONLY.includes(p));
  for (const p of cancelPhases) {
    if (!CANCEL_AT[p]) throw new Error(`--cancel-phases: unknown "${p}" (${Object.keys(CANCEL_AT).join(', ')})`);
    if (!cilium && CILIUM_ONLY.includes(p)) throw new Error(`--cancel-phases: ${p} runs on Cilium only: add --datapath cilium-native`);
  }
  const killKinds = values['kill-kinds']?.split(',');
  for (const k of killKinds ?? []) {
    if (KILL_RANK[k] === undefined) throw new Error(`--kill-kinds: unknown "${k}" (${Object.keys(KILL_RANK).join(', ')})`);
    if (!cilium && CILIUM_ONLY.includes(k)) throw new Error(`--kill-kinds: ${k} happens on Cilium only: add --datapath cilium-native`);
  }
  if (values['lb-map-max'] !== undefined && !cilium) throw new Error('--lb-map-max: Cilium only (add --datapath cilium-native)');
  return {
    seed: num(values.seed, Date.now() % 1_000_000, '--seed'),
    only,
    kills: num(values.kills, 10, '--kills'),
    killsPerRun: Math.max(1, num(values['kills-per-run'], 5, '--kills-per-run')),
    rate: num(values.rate, 0.05, '--rate'),
    outageSec: num(values.outage, 180, '--outage'),
    temporalDownSec: values['temporal-down'] === undefined ? undefined : num(values['temporal-down'], 0, '--temporal-down'),
    steps: (values.steps ?? '100,1000').split(',').map(Number),
    cancelPhases,
    ...(killKinds ? { killKinds } : {}),
    ...(values.skip ? { env: { NETBENCH_SKIP: values.skip } } : {}),
    datapath,
    ...(values['lb-map-max'] !== undefined ? { lbMapMax: num(values['lb-map-max'], 0, '--lb-map-max') } : {}),
    probeMs: num(values['probe-ms'], 200, '--probe-ms'),
    port: num(values.port, 7491, '--port'),
    lab: values.lab ?? (cilium ? 'chaos-cil' : 'chaos'),
    keepLab: values['keep-lab'] ?? false,
    json: values.json,
  };
}

/** The campaign: every run of the faults in o.only, one row each. */
export async function runCampaign(o: Opts): Promise<Row[]> {
  const c = new Campaign(o);
  log(`seed ${o.seed} (repeat with --seed ${o.seed}); faults ${o.only.join(', ')}; steps ${o.steps.join(',')}`);
  const specs: RunSpec[] = [];
  // every random choice is drawn here, up front, in a fixed order: the same seed gives the same campaign
  if (o.only.includes('none')) specs.push({ fault: 'none', label: 'no fault (reference)', steps: o.steps, expectCancel: false });
  if (o.only.includes('sigkill')) killPlan(c.rand, o.kills, o.killsPerRun, o.killKinds).forEach((p, i) => specs.push(sigkillSpec(c, p, i)));
  if (o.only.includes('temporal')) specs.push(temporalSpec(c));
  if (o.only.includes('proxy')) specs.push(proxySpec(c));
  if (o.only.includes('unreachable')) specs.push(unreachableSpec(c));
  if (o.only.includes('exec-cut')) specs.push(execCutSpec(c));
  if (o.only.includes('cancel')) for (const p of o.cancelPhases) specs.push(cancelSpec(c, p));
  try {
    await c.up();
    for (const s of specs) {
      try {
        await c.run(s);
      } catch (err) {
        log(`run "${s.label}" could not be driven: ${(err as Error).stack}`);
        c.rows.push({ fault: s.label, where: '-', outcome: `CAMPAIGN ERROR: ${(err as Error).message}`, retries: '-', services: '-', twice: '-', leftovers: '-', seconds: 0, notes: [] });
      }
    }
  } finally {
    await c.down();
  }
  mkdirSync(c.dir, { recursive: true });
  writeFileSync(path.join(c.dir, 'table.md'), markdownTable(c.rows) + '\n');
  return c.rows;
}

export async function chaosMain(argv: string[]): Promise<number> {
  let o: Opts | undefined;
  try {
    o = parseChaosArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (!o) {
    process.stdout.write(HELP);
    return 0;
  }
  const t0 = Date.now();
  const rows = await runCampaign(o);
  const table = markdownTable(rows);
  process.stdout.write(`\nchaos campaign, seed ${o.seed} (npx tsx bench/chaos.ts --seed ${o.seed}${argv.length ? ' ' + argv.filter((a, i) => a !== '--seed' && argv[i - 1] !== '--seed').join(' ') : ''}), ${((Date.now() - t0) / 60000).toFixed(1)} min\n\n${table}\n`);
  const notes = rows.flatMap((r, i) => r.notes.map((n) => `${i + 1}. ${n}`));
  if (notes.length) process.stdout.write(`\nnotes:\n${notes.join('\n')}\n`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ seed: o.seed, rows }, null, 2));
  const bad = rows.filter((r) => /FAILED|UNEXPECTED|CAMPAIGN ERROR|✗/.test(r.outcome + r.services) || r.twice !== 'none' || !r.leftovers.startsWith('nothing'));
  return bad.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  chaosMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
