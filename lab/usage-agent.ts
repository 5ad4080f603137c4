/**
 * Makes metrics.k8s.io tell the truth about the lab's datapath: every few
 * seconds it measures the REAL kube-proxy process (CPU from /proc/<pid>/stat,
 * working set from VmRSS) and writes the figures to the annotations of the
 * simulated kube-proxy pods, which kwok's ClusterResourceUsage turns into
 * resource metrics that metrics-server serves. Each simulated pod reports the
 * one real process: on a real cluster every node's kube-proxy programs the
 * same full set of Services, so does the same work.
 *
 * Run directly by Node (type stripping):
 *   node lab/usage-agent.ts <kubeconfig> <pid file> [interval ms] [pod label selector]
 *
 * The selector defaults to k8s-app=kube-proxy; the Cilium datapath passes
 * k8s-app=cilium and the real cilium-agent's pid file. A pid file path with
 * `{node}` in it (`--network pods`: one kube-proxy per node) is read per pod,
 * with the pod's node name there: each pod reports its own node's process.
 */
import { readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

const CLK_TCK = 100; // Linux USER_HZ on every mainstream kernel config

interface Sample {
  ticks: number;
  at: number;
}

function readSample(pid: number): { sample: Sample; rssKiB: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" of comm: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { sample: { ticks, at: Date.now() }, rssKiB: rss ? Number(rss[1]) : 0 };
  } catch {
    return null;
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<void> {
  const [kubeconfig, pidFile, intervalArg, selectorArg] = argv;
  if (!kubeconfig || !pidFile) {
    process.stderr.write('usage: usage-agent.ts <kubeconfig> <pid file> [interval ms] [pod label selector, default k8s-app=kube-proxy]\n');
    process.exit(2);
  }
  const intervalMs = Number(intervalArg || 5000);
  const labelSelector = selectorArg || 'k8s-app=kube-proxy';
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const prev = new Map<string, Sample>();
  let stopping = false;
  process.on('SIGTERM', () => {
    stopping = true;
    process.exit(0);
  });
  while (!stopping) {
    try {
      const pods = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector });
      const samples = new Map<string, { sample: Sample; rssKiB: number } | null>();
      for (const pod of pods.items) {
        const name = pod.metadata?.name;
        if (!name) continue;
        const file = pidFile.replaceAll('{node}', pod.spec?.nodeName ?? '');
        if (!samples.has(file)) {
          const pid = readPid(file);
          samples.set(file, pid ? readSample(pid) : null);
        }
        const now = samples.get(file);
        const before = prev.get(file);
        if (!now || !before || now.sample.at <= before.at) continue;
        const cores = (now.sample.ticks - before.ticks) / CLK_TCK / ((now.sample.at - before.at) / 1000);
        const annotations = {
          'kwok.x-k8s.io/usage-cpu': `${Math.max(1, Math.round(cores * 1000))}m`,
          'kwok.x-k8s.io/usage-memory': `${Math.max(1, now.rssKiB)}Ki`,
        };
        await core.patchNamespacedPod({ namespace: 'kube-system', name, body: { metadata: { annotations } } }, mergePatch);
      }
      for (const [file, now] of samples) {
        if (now) prev.set(file, now.sample);
        else prev.delete(file);
      }
    } catch (err) {
      process.stderr.write(`usage-agent: ${(err as Error).message}\n`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`usage-agent: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
