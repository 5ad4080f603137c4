/**
 * Benchmark (prints figures, not a test): the article's pivot on this
 * machine. The lab runs in iptables mode, then in nftables mode, then with a
 * real Cilium agent (kube-proxy replacement, lab/datapath/cilium.ts); each runs
 * the real benchmark (RPS baseline + Service scale) through real workflows,
 * activities and tools, and we print short-connection RPS via Service and
 * TCP_CRR rate (connections/s to the server pod) at each step, with the
 * KUBE-SERVICES chain length (Cilium: LB map entries). iptables should fall
 * as Services grow (O(n) first-packet scan), nftables stay level
 * (verdict-map lookup), Cilium too (socket LB: one hash lookup at connect()).
 *
 *   npx tsx bench/pivot.ts [--steps 1000,5000,10000,20000] [--seconds 10] [--rounds 2] [--modes iptables,nftables,cilium] [--network pods|shared]
 *   npx tsx bench/pivot.ts --from iptables=DIR,cilium=DIR     # the table again, from finished runs' result dirs
 *
 * Run it on a quiet machine: the figures are throughput on 2 shared cores.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { labDown, labUp } from '../lab/lab';
import { NETWORK_NAMES, type LabNetwork } from '../lab/config';
import { resolveConfig } from '../src/config';
import { canonicalId } from '../src/domain/scenarios';
import { WORKFLOW } from '../src/shared';
import { runStart } from '../src/cli/run-input';
import { createActivities } from '../src/activities';
import { loadKubeConfig, makeKubeClients } from '../src/kube/client';
import type { Measurement, RunResults } from '../src/domain/results';
import { estimate } from '../src/domain/stats';
import { renderMarkdownTable } from '../src/report/table';
import { startTemporal } from '../test/support/temporal';
import { workflowBundle } from '../test/support/workflows';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '1000,5000,10000,20000' }, seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' }, modes: { type: 'string', default: 'iptables,nftables,cilium' }, network: { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log(`usage: npx tsx bench/pivot.ts [--steps 1000,5000,10000,20000] [--seconds 10] [--rounds 2] [--modes iptables,nftables,cilium] [--network ${NETWORK_NAMES.join('|')}] (default: the lab's, pods)
       npx tsx bench/pivot.ts --from MODE=DIR[,MODE=DIR...]

The article's pivot on this machine: for each mode a fresh lab (kube-proxy iptables, kube-proxy
nftables, or a real Cilium agent with kube-proxy replacement), the real benchmark's RPS baseline
and Service-scale steps, then one table: short-connection RPS via the Service and TCP_CRR against
the number of dummy Services. Needs root and \`scripts/setup.sh all\`; takes long (see lab/README.md).
Each mode's run directory is kept (the path is printed); --from prints the table again from such
directories (their netbench-results.json), e.g. modes measured by separate runs, without measuring.`);
  process.exit(0);
}
const MODES = ['iptables', 'nftables', 'cilium'] as const;
type Mode = (typeof MODES)[number];
const isMode = (m: string): m is Mode => (MODES as readonly string[]).includes(m);
const runs: { mode: string; r: RunResults; wall?: number }[] = [];
const out = mkdtempSync(path.join(os.tmpdir(), 'nb-pivot-'));
if (values.from !== undefined) {
  for (const pair of values.from.split(',')) {
    const [mode, dir] = pair.split('=');
    if (!mode || !dir || !isMode(mode)) throw new Error(`--from: MODE=DIR with MODE one of ${MODES.join(', ')}, not "${pair}"`);
    const file = path.join(dir, 'netbench-results.json');
    let r: RunResults;
    try {
      r = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
    } catch (err) {
      throw new Error(`--from ${mode}: cannot read ${file}: ${(err as Error).message}`);
    }
    runs.push({ mode, r });
  }
} else {
  await measureModes();
}

async function measureModes(): Promise<void> {
  const network = values.network as LabNetwork | undefined;
  if (network !== undefined && !NETWORK_NAMES.includes(network)) throw new Error(`--network: ${NETWORK_NAMES.join(' or ')}, not "${values.network}"`);
  const modes = values.modes!.split(',').map((m) => {
    if (!isMode(m)) throw new Error(`--modes: iptables, nftables or cilium, not "${m}"`);
    return m;
  });
  const env = await startTemporal();
  try {
    for (const mode of modes) {
      await labDown({ name: 'pivot' });
      const info = await labUp(
        mode === 'cilium'
          ? { name: 'pivot', datapath: 'cilium-native', network, onProgress: (m) => console.error(`[lab] ${m}`) }
          : { name: 'pivot', proxyMode: mode, network, onProgress: (m) => console.error(`[lab] ${m}`) },
      );
      const kubeConfig = loadKubeConfig({ kubeconfigPath: info.kubeconfigPath });
      const kube = makeKubeClients({ kubeConfig });
      const taskQueue = `pivot-${mode}-${randomUUID()}`;
      const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: createActivities({ kubeConfig, kube }) });
      const config = resolveConfig({
        env: {
          FORTIO_DURATION: values.seconds!, ROUNDS: values.rounds!, ROUND_SLEEP: '2', SETTLE_FACTOR: '0.3', SVC_SCALE_STEPS: values.steps!, KUBECTL_TIMEOUT: String(Number(values.seconds) + 60),
          NETBENCH_SKIP: 'throughput,latency,metrics,hubble,networkpolicy', SYNC_TIMEOUT: '1800', NETBENCH_TASK_QUEUE: taskQueue, AUTO_FIX_LB_MAP: 'true',
        },
        flags: { dir: path.join(out, mode) },
      });
      const { start } = runStart(config, info.context, true);
      const started = Date.now();
      console.error(`[pivot] ${mode}: steps ${values.steps}, ${values.seconds} s per tool run, ${values.rounds} rounds`);
      const r = (await worker.runUntil(async () => {
        const h = await env.client.workflow.start(WORKFLOW.benchmarkRun, { ...start, workflowId: `pivot-${mode}-${randomUUID()}` });
        return h.result();
      })) as RunResults;
      await kube.close();
      runs.push({ mode, r, wall: (Date.now() - started) / 1000 });
      console.error(`[pivot] ${mode} done in ${((Date.now() - started) / 60000).toFixed(1)} min (results in ${path.join(out, mode)})`);
    }
  } finally {
    await labDown({ name: 'pivot' });
    await env.teardown();
  }
}

const mean = (ms: Measurement[], id: string, pick: (m: Measurement) => number | undefined) => {
  const e = estimate(ms.filter((m) => m.ok && canonicalId(m.scenario, m.step) === id).map(pick).filter((v): v is number => v !== undefined));
  return e;
};
const fmt = (e: ReturnType<typeof estimate>, base?: number) =>
  !e ? 'n/a' : `${Math.round(e.mean).toLocaleString('en-US')}${e.ci95 !== undefined ? ` ±${Math.round(e.ci95).toLocaleString('en-US')}` : ''}${base ? ` (${(((e.mean - base) / base) * 100).toFixed(1)}%)` : ''}`;
const rows: string[][] = [];
for (const { mode, r } of runs) {
  const base = mean(r.measurements, 'svc_short_c64', (m) => m.value);
  rows.push([mode, 'baseline (0)', fmt(base), '', '']);
  let crrBase: number | undefined;
  for (const s of r.scale.steps) {
    const short = mean(s.measurements, 'svc_short_c64', (m) => m.value);
    const crr = mean(s.measurements, 'tcp_crr', (m) => m.figures?.throughput);
    crrBase ??= crr?.mean;
    rows.push([mode, s.svcCount.toLocaleString('en-US'), fmt(short, base?.mean), fmt(crr, crrBase !== crr?.mean ? crrBase : undefined), `${s.kubeServicesChain ?? s.rulesCount ?? ''} (${s.convergence.seconds.toFixed(1)} s sync)`]);
  }
}
const table = renderMarkdownTable(['mode', 'dummy Services', 'short-conn RPS via Service (change vs baseline)', 'TCP_CRR conn/s to pod IP (change vs first step)', 'KUBE-SERVICES rules / nft lines / Cilium LB entries (datapath sync)'], rows);
console.log(table);
writeFileSync(path.join(out, 'pivot.md'), table + '\n');
if (values.from === undefined) console.log(`\nwall: ${runs.map((x) => `${x.mode} ${((x.wall ?? 0) / 60).toFixed(1)} min`).join(', ')}; run directories under ${out}`);
