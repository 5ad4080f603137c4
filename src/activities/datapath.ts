/**
 * The datapath's view of the dummy Services: rule/entry counts read inside
 * the kube-proxy or Cilium agent pod on the client's node (where a
 * connection's first packet is translated), and the convergence wait that
 * replaces the reference's fixed sleep: poll until every dummy Service is
 * programmed, record how long it took.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { CILIUM_AGENT_SELECTOR } from '../domain/cilium-checks';
import { KUBE_PROXY_SELECTOR, type Convergence, type ProxyMode } from '../domain/results';
import { agentContainer } from './cilium';
import { execInPod } from '../kube/exec';
import { ciliumBpfLbListArgs, withAgentCli } from '../tools/cilium';
import { iptablesSaveArgs, nftListKubeProxyArgs, nftListRulesetArgs } from '../tools/iptables';
import { IpvsadmCounter, ipvsadmListArgs } from '../tools/ipvsadm';
import { abortableSleep as sleep } from '../kube/batches';

export const DATAPATH_SELECTOR: Record<ProxyMode, string> = {
  iptables: KUBE_PROXY_SELECTOR,
  nftables: KUBE_PROXY_SELECTOR,
  ipvs: KUBE_PROXY_SELECTOR,
  cilium: CILIUM_AGENT_SELECTOR,
};

/** Commands run in the datapath pod, per mode. */
export const DATAPATH_COMMAND: Record<ProxyMode, string[]> = {
  iptables: iptablesSaveArgs({ table: 'nat' }),
  nftables: nftListKubeProxyArgs(),
  ipvs: ipvsadmListArgs(),
  cilium: ciliumBpfLbListArgs(),
};

export interface DummyMatchers {
  /** lines that stand for one programmed dummy Service (or endpoint, for cilium/ipvs) */
  line: RegExp;
  /** what one dummy Service contributes */
  perService: number;
  metric: Convergence['metric'];
}

/**
 * How to recognise dummy Services in each datapath's listing. kube-proxy
 * names them "<namespace>/<service>" (iptables: rule comments; nftables:
 * the service chain a service-ips element jumps to); Cilium and IPVS list
 * backends, recognised by the dummy endpoint range 10.100.0.0-10.255.255.255:80.
 */
export function dummyMatchers(mode: ProxyMode, scaleNamespace: string, endpointsPerService: number): DummyMatchers {
  const ns = scaleNamespace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  switch (mode) {
    case 'iptables':
      return { line: new RegExp(`^-A KUBE-SERVICES .*"${ns}/dummy-svc-\\d+[: ]`), perService: 1, metric: 'kube-services-rules' };
    case 'nftables':
      // service-ips map elements: "<clusterIP> . tcp . 80 : goto service-<hash>-<ns>/dummy-svc-<n>/tcp/" (no comments in 1.34)
      return { line: new RegExp(`: goto service-[A-Z0-9]+-${ns}/dummy-svc-\\d+/`, 'g'), perService: 1, metric: 'nft-service-ips' };
    case 'ipvs':
      return { line: /->\s+10\.(1\d\d|2[0-5]\d)\.\d+\.\d+:80\b/, perService: endpointsPerService, metric: 'ipvs-services' };
    case 'cilium':
      // The backend column only (after whitespace): a frontend starts its line, and a Service CIDR
      // may overlap the dummy range (EKS's default is 10.100.0.0/16).
      return { line: /(?<=\s)10\.(1\d\d|2[0-5]\d)\.\d+\.\d+:80\b/, perService: endpointsPerService, metric: 'lb-entries' };
  }
}

/** Count matching lines (or matches, for a global regex) of a file without loading it whole. */
export async function countInFile(file: string, re: RegExp): Promise<{ matches: number; lines: number }> {
  let matches = 0;
  let lines = 0;
  const rl = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() !== '') lines++;
    if (re.global) matches += line.match(re)?.length ?? 0;
    else if (re.test(line)) matches++;
  }
  return { matches, lines };
}

/** Pods of the datapath component and command runs inside them. */
export function datapathPods(kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api);

  /** The datapath pod on the client's node (where Service translation happens), else the first running one. */
  async function datapathPod(mode: ProxyMode, ns?: string): Promise<V1Pod> {
    const pods = (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: DATAPATH_SELECTOR[mode] })).items.filter(
      (p) => p.status?.phase === 'Running',
    );
    if (!pods.length) throw new Error(`no running pod labelled ${DATAPATH_SELECTOR[mode]} in kube-system`);
    let node: string | undefined;
    if (ns) {
      try {
        node = (await core.readNamespacedPod({ name: 'fortio-client', namespace: ns })).spec?.nodeName;
      } catch {
        node = undefined;
      }
    }
    return pods.find((p) => p.spec?.nodeName === node) ?? pods.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))[0];
  }

  /** Run a listing command in the datapath pod into a temp file; returns its path (caller removes the dir). */
  async function listing(mode: ProxyMode, command: string[], signal?: AbortSignal, ns?: string): Promise<{ file: string; dir: string }> {
    const pod = await datapathPod(mode, ns);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'netbench-dp-'));
    const file = path.join(dir, 'out.txt');
    const run = (cmd: string[]) =>
      execInPod({
        kubeConfig: kc,
        namespace: 'kube-system',
        pod: pod.metadata!.name!,
        container: mode === 'cilium' ? agentContainer(pod) : pod.spec?.containers?.[0]?.name,
        command: cmd,
        timeoutMs: 120_000,
        signal,
        stdoutFile: file,
      });
    // A dropped exec stream (close 1006, reset) is retried here, a few times, rather than failing the activity.
    const attempt = async (cmd: string[]) => {
      for (let i = 1; ; i++) {
        try {
          return await run(cmd);
        } catch (err) {
          if (!(err as { retryable?: boolean }).retryable || i >= 3 || signal?.aborted) throw err;
          await sleep(1000 * i, signal);
        }
      }
    };
    try {
      await withAgentCli(command, attempt);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return { file, dir };
  }

  /** Run a command in the datapath pod and return its stdout as text (small outputs only). */
  async function text(mode: ProxyMode, command: string[], signal?: AbortSignal): Promise<string> {
    const { file, dir } = await listing(mode, command, signal);
    try {
      return await readFile(file, 'utf8');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return { datapathPod, listing, text };
}

export function makeDatapathActivities(deps: { kubeConfig: KubeConfig }) {
  const { listing } = datapathPods(deps.kubeConfig);
  return {
    async waitDatapathConverged(input: {
      proxyMode: ProxyMode;
      scaleNamespace: string;
      expectedServices: number;
      endpointsPerService: number;
      timeoutSec: number;
      ns?: string;
    }): Promise<Convergence> {
      const ctx = Context.current();
      const m = dummyMatchers(input.proxyMode, input.scaleNamespace, input.endpointsPerService);
      const expected = input.expectedServices * m.perService;
      const started = Date.now();
      let observed = 0;
      let polls = 0;
      for (;;) {
        const { file, dir } = await listing(input.proxyMode, DATAPATH_COMMAND[input.proxyMode], ctx.cancellationSignal, input.ns);
        try {
          observed = (await countInFile(file, m.line)).matches;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
        polls++;
        const seconds = (Date.now() - started) / 1000;
        ctx.heartbeat({ observed, expected, seconds, polls });
        if (observed >= expected) return { metric: m.metric, expected, observed, converged: true, seconds };
        if (seconds > input.timeoutSec) {
          return {
            metric: m.metric,
            expected,
            observed,
            converged: false,
            seconds,
            reason: `datapath showed ${observed} of ${expected} after ${Math.round(seconds)}s (SYNC_TIMEOUT)`,
          };
        }
        // Big listings are expensive to produce: poll less often as they grow.
        await sleep(Math.min(10_000, 1000 + observed / 10), ctx.cancellationSignal);
      }
    },

    /** The reference's per-step rule files and counts. */
    async countRules(input: { proxyMode: ProxyMode; outputDir: string; svcCount: number; ns?: string }): Promise<{ rulesCount?: number; kubeServicesChain?: number }> {
      const ctx = Context.current();
      const dir = path.join(input.outputDir, 'service-scale');
      await mkdir(dir, { recursive: true });
      const n = input.svcCount;
      const mode = input.proxyMode;
      const command: Record<ProxyMode, string[]> = {
        iptables: iptablesSaveArgs(),
        nftables: nftListRulesetArgs(),
        ipvs: ipvsadmListArgs(),
        cilium: ciliumBpfLbListArgs(),
      };
      const { file, dir: tmp } = await listing(mode, command[mode], ctx.cancellationSignal, input.ns);
      try {
        if (mode === 'iptables') {
          // total lines = the reference's `iptables-save | wc -l`; KUBE-SERVICES rules of the nat table = hot-path scan length
          let inNat = false;
          let chain = 0;
          let lines = 0;
          const rl = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
          for await (const line of rl) {
            lines++;
            if (line.startsWith('*')) inNat = line === '*nat';
            else if (inNat && line.startsWith('-A KUBE-SERVICES ')) chain++;
          }
          await writeFile(path.join(dir, `iptables_rules_at_${n}svc.txt`), `${lines}\n`);
          await writeFile(path.join(dir, `kube_services_chain_at_${n}svc.txt`), `${chain}\n`);
          return { rulesCount: lines, kubeServicesChain: chain };
        }
        if (mode === 'ipvs') {
          // ipvsadm's lines (the reference's `ipvsadm -ln | wc -l`), the listing checked as it streams
          const counter = new IpvsadmCounter();
          for await (const line of readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity })) counter.add(line);
          const { totalLines } = counter.result();
          await writeFile(path.join(dir, `ipvs_rules_at_${n}svc.txt`), `${totalLines}\n`);
          return { rulesCount: totalLines };
        }
        const { lines } = await countInFile(file, /^$/);
        const name = mode === 'cilium' ? 'lb_entries' : 'nft_rules';
        await writeFile(path.join(dir, `${name}_at_${n}svc.txt`), `${lines}\n`);
        return { rulesCount: lines };
      } catch (err) {
        throw ApplicationFailure.retryable(`counting ${mode} rules: ${(err as Error).message}`);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
