/**
 * Resource cost of the datapath component: CPU/memory samples from the
 * metrics API (metrics.k8s.io) into the reference's CSVs, a monitor that
 * samples during the throughput and RPS phases, and component figures (BPF
 * maps, LB/CT/identity counts, agent RSS; kube-proxy rule counts).
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { CoreV1Api, Metrics, type KubeConfig } from '@kubernetes/client-node';
import { cpuMillicores, memoryMiB } from '../domain/quantity';
import type { ComponentMetrics, ProxyMode, ResourceStats } from '../domain/results';
import { mean, pyRound } from '../domain/stats';
import { bpftoolMaps } from '../tools/bpftool';
import { agentRssKb, ciliumCtEntries, ciliumIdentities, ciliumLbEntries, type CiliumLineCount } from '../tools/cilium';
import type { Probe } from '../tools/driver';
import { iptablesSave, nftKubeProxy } from '../tools/iptables';
import { ipvsadmList } from '../tools/ipvsadm';
import { datapathPods } from './datapath';
import { abortableSleep as sleep } from '../kube/batches';
import { describeKubeError } from '../kube/client';

const CSV_HEADER = 'timestamp,pod,cpu_millicores,memory_mib\n';
/** Failed samples in a row (at 5 s, 15 s without one) that end the resource monitor. */
export const MONITOR_MAX_MISSED = 3;

export interface Sample {
  pod: string;
  cpuM: number;
  memMiB: number;
}

const hhmmss = () => new Date().toTimeString().slice(0, 8);

export function resourceStats(component: ResourceStats['component'], rows: Sample[]): ResourceStats | undefined {
  if (!rows.length) return undefined;
  const cpu = rows.map((r) => r.cpuM);
  const mem = rows.map((r) => r.memMiB);
  return {
    component,
    avgCpuM: mean(cpu),
    maxCpuM: Math.max(...cpu),
    avgMemMb: mean(mem),
    maxMemMb: Math.max(...mem),
    podsSampled: new Set(rows.map((r) => r.pod)).size,
    samples: rows.length,
  };
}

export function makeMetricsActivities(deps: { kubeConfig: KubeConfig }) {
  const kc = deps.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const metrics = new Metrics(kc);
  const dp = datapathPods(kc);

  /** One sample of every pod matching the selector, like `kubectl top pod -l ...` (rounded to m and Mi). */
  async function sample(labelSelector: string): Promise<Sample[]> {
    const pods = new Set((await core.listNamespacedPod({ namespace: 'kube-system', labelSelector })).items.map((p) => p.metadata!.name!));
    const list = await metrics.getPodMetrics('kube-system');
    return list.items
      .filter((m) => pods.has(m.metadata.name))
      .map((m) => ({
        pod: m.metadata.name,
        cpuM: Math.round(m.containers.reduce((a, c) => a + cpuMillicores(c.usage.cpu), 0)),
        memMiB: Math.round(m.containers.reduce((a, c) => a + memoryMiB(c.usage.memory), 0)),
      }));
  }
  const csvRows = (rows: Sample[]) => rows.map((r) => `${hhmmss()},${r.pod},${r.cpuM},${r.memMiB}\n`).join('');

  return {
    /** Steady-state sampling: METRICS_SAMPLES samples `intervalSec` apart into the reference's CSV; avg/max per component. */
    async sampleResources(input: { component: ResourceStats['component']; labelSelector: string; samples: number; intervalSec: number; csvFile: string }): Promise<ResourceStats | undefined> {
      const ctx = Context.current();
      await mkdir(path.dirname(input.csvFile), { recursive: true });
      await writeFile(input.csvFile, CSV_HEADER);
      const all: Sample[] = [];
      for (let i = 0; i < input.samples; i++) {
        const rows = await sample(input.labelSelector);
        all.push(...rows);
        await appendFile(input.csvFile, csvRows(rows));
        ctx.heartbeat({ sample: i + 1, of: input.samples });
        if (i < input.samples - 1) await sleep(input.intervalSec * 1000, ctx.cancellationSignal);
      }
      if (!all.length) throw new Error(`metrics.k8s.io returned no usage for pods labelled ${input.labelSelector} in kube-system`);
      return resourceStats(input.component, all);
    },

    /**
     * Samples every `intervalSec` until cancelled (the workflow cancels it
     * when the phase ends). A failed sample is skipped; MONITOR_MAX_MISSED
     * failed in a row end the monitor with the reason (not retried: the
     * phase goes on unmonitored and the run records why).
     */
    async monitorResources(input: { labelSelector: string; csvFile: string; intervalSec: number }): Promise<{ samples: number }> {
      const ctx = Context.current();
      await mkdir(path.dirname(input.csvFile), { recursive: true });
      await writeFile(input.csvFile, CSV_HEADER);
      let samples = 0;
      let missed = 0;
      try {
        for (;;) {
          try {
            const rows = await sample(input.labelSelector);
            await appendFile(input.csvFile, csvRows(rows));
            samples++;
            missed = 0;
          } catch (err) {
            if (ctx.cancellationSignal.aborted) throw err;
            if (++missed >= MONITOR_MAX_MISSED) {
              throw ApplicationFailure.nonRetryable(
                `${missed} samples in a row failed (${samples} taken), last: ${describeKubeError(err)}`,
                'ResourceSamplingFailed',
              );
            }
          }
          ctx.heartbeat({ samples, missed });
          await sleep(input.intervalSec * 1000, ctx.cancellationSignal);
        }
      } catch (err) {
        if (ctx.cancellationSignal.aborted) return { samples };
        throw err;
      }
    },

    /** Component figures; every collection that fails is listed with its reason, the rest still returned. */
    async collectComponentMetrics(input: { proxyMode: ProxyMode; outputDir: string }): Promise<ComponentMetrics> {
      const ctx = Context.current();
      const dir = path.join(input.outputDir, 'resources');
      await mkdir(dir, { recursive: true });
      const out: ComponentMetrics = { failures: [] };
      const attempt = async (what: string, fn: () => Promise<void>) => {
        try {
          await fn();
        } catch (err) {
          if (ctx.cancellationSignal.aborted) throw err; // cancelled by the run: end as cancelled, not as a listed failure
          out.failures.push({ what, reason: (err as Error).message });
        }
        ctx.heartbeat({ done: what });
      };
      const mode = input.proxyMode;
      if (mode === 'cilium') {
        await attempt('bpftool map list -j', async () => {
          const text = await dp.text(mode, bpftoolMaps.argv(), ctx.cancellationSignal);
          await writeFile(path.join(dir, 'bpf_map_info.json'), text);
          const maps = bpftoolMaps.parse({ stdout: text, stderr: '' });
          out.bpfMaps = {
            totalBytes: maps.totalBytes,
            mapCount: maps.count,
            topMaps: maps.top10.map((m) => ({ name: m.name, bytes: m.bytes, maxEntries: m.maxEntries })),
            totalMb: maps.totalMB,
          };
          const mem = { total_bytes: maps.totalBytes, map_count: maps.count, top_maps: out.bpfMaps.topMaps.map((m) => ({ name: m.name, bytes: m.bytes, max_entries: m.maxEntries })), total_mb: pyRound(maps.totalMB, 1) };
          await writeFile(path.join(dir, 'bpf_map_memory.json'), JSON.stringify(mem, null, 2));
        });
        const count = async (what: string, probe: Probe<CiliumLineCount>, file: string, set: (n: number) => void) =>
          attempt(what, async () => {
            const text = await dp.text(mode, probe.argv(), ctx.cancellationSignal);
            const c = probe.parse({ stdout: text, stderr: '' });
            await writeFile(path.join(dir, file), `${c.lines}\n`);
            set(c.entries);
          });
        await count('cilium bpf lb list', ciliumLbEntries, 'lb_entries_count.txt', (n) => (out.lbEntries = n));
        await count('cilium bpf ct list global', ciliumCtEntries, 'ct_entries_count.txt', (n) => (out.ctEntries = n));
        await count('cilium identity list', ciliumIdentities, 'identity_count.txt', (n) => (out.identities = n));
        await attempt('agent /proc/1/status', async () => {
          const text = await dp.text(mode, agentRssKb.argv(), ctx.cancellationSignal);
          await writeFile(path.join(dir, 'cilium_agent_proc_status.txt'), text.split('\n').filter((l) => /^(VmRSS|VmSize):/.test(l)).join('\n') + '\n');
          out.agentRssMb = agentRssKb.parse({ stdout: text, stderr: '' }) / 1024;
        });
      } else if (mode === 'iptables') {
        await attempt('iptables-save', async () => {
          const text = await dp.text(mode, iptablesSave.argv(), ctx.cancellationSignal);
          const c = iptablesSave.parse({ stdout: text, stderr: '' });
          out.iptablesRules = c.totalLines;
          await writeFile(path.join(dir, 'iptables_rules_count.txt'), `${c.totalLines}\n`);
        });
      } else if (mode === 'nftables') {
        await attempt('nft list table ip kube-proxy', async () => {
          const text = await dp.text(mode, nftKubeProxy.argv(), ctx.cancellationSignal);
          const c = nftKubeProxy.parse({ stdout: text, stderr: '' });
          out.nftServiceIps = c.serviceIps;
          await writeFile(path.join(dir, 'nft_rules_count.txt'), `${c.totalLines}\n`);
        });
      } else if (mode === 'ipvs') {
        await attempt('ipvsadm -ln', async () => {
          const text = await dp.text(mode, ipvsadmList.argv(), ctx.cancellationSignal);
          out.ipvsRules = ipvsadmList.parse({ stdout: text, stderr: '' }).totalLines;
          await writeFile(path.join(dir, 'ipvs_rules_count.txt'), `${out.ipvsRules}\n`);
        });
      }
      return out;
    },
  };
}
