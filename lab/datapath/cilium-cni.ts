/**
 * A Cilium lab on the pods network wires each pod as a kubelet would: the
 * REAL cilium-cni plugin (built by `scripts/setup.sh cilium`), run by the
 * lab's pod-network controller in the pod's node namespace, asks that
 * node's agent for an IP (`ipam: kubernetes`, from the node's podCIDR),
 * makes the `lxc…` veth whose other end becomes the pod's eth0, and creates
 * the Cilium endpoint (policy, Hubble and the per-endpoint programs are
 * then the agent's, on the pod's real traffic). DEL deletes the endpoint and
 * releases the IP.
 *
 * The CNI protocol (CNI spec 1.0): parameters in CNI_* environment
 * variables, the network configuration on stdin, the result (or an error
 * object) on stdout.
 */
import path from 'node:path';
import { z } from 'zod';
import type { LabPaths } from '../config';
import { runInNetns } from '../run';
import { agentSocket, ciliumBuild, ciliumPaths, type AgentSite } from './cilium';

export interface CniPod {
  namespace: string;
  name: string;
  uid: string;
  /** The pod's network namespace (a name under /run/netns). */
  netns: string;
}

/** The environment and stdin of one cilium-cni call. */
export function cniInvocation(command: 'ADD' | 'DEL', o: { pod: CniPod; socket: string; cniBin: string; logFile: string }): { env: Record<string, string>; stdin: string } {
  return {
    env: {
      CILIUM_SOCK: o.socket,
      CNI_COMMAND: command,
      // The pod's uid stands for the sandbox container's id (one sandbox per pod here).
      CNI_CONTAINERID: o.pod.uid,
      CNI_NETNS: `/run/netns/${o.pod.netns}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: path.dirname(o.cniBin),
      CNI_ARGS: `K8S_POD_NAMESPACE=${o.pod.namespace};K8S_POD_NAME=${o.pod.name};K8S_POD_UID=${o.pod.uid}`,
    },
    stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'cilium', type: 'cilium-cni', 'log-file': o.logFile }),
  };
}

const CniResult = z.object({
  ips: z.array(z.object({ address: z.string() })).min(1),
});
const CniError = z.object({ code: z.number(), msg: z.string(), details: z.string().optional() });

/** The pod's IPv4 from an ADD result ("10.244.1.23/32" -> "10.244.1.23"); a CNI error object becomes an Error. */
export function parseCniAdd(stdout: string): string {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`cilium-cni printed no JSON result: ${stdout.trim().slice(0, 500) || '(nothing)'}`);
  }
  const err = CniError.safeParse(json);
  if (err.success) throw new Error(`cilium-cni ADD failed (code ${err.data.code}): ${err.data.msg}${err.data.details ? `: ${err.data.details}` : ''}`);
  const ok = CniResult.safeParse(json);
  if (!ok.success) throw new Error(`cilium-cni ADD result has no IP: ${stdout.trim().slice(0, 500)}`);
  const v4 = ok.data.ips.map((ip) => ip.address.split('/')[0]!).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  if (!v4) throw new Error(`cilium-cni ADD result has no IPv4 address: ${stdout.trim().slice(0, 500)}`);
  return v4;
}

async function cni(p: LabPaths, site: AgentSite, command: 'ADD' | 'DEL', pod: CniPod) {
  const cniBin = ciliumBuild().cni;
  const { env, stdin } = cniInvocation(command, { pod, socket: agentSocket(site), cniBin, logFile: path.join(ciliumPaths(p).dir, 'cni.log') });
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  // In the node's namespace: the lxc end of the pair stays there, as on a node.
  return runInNetns(site.netns, ['env', ...envArgs, cniBin], { input: stdin, allowFailure: true, timeoutMs: 60_000 });
}

/** CNI ADD: the pod's eth0 and its Cilium endpoint; returns the pod's IP. */
export async function cniAdd(p: LabPaths, site: AgentSite, pod: CniPod): Promise<string> {
  const { stdout, stderr } = await cni(p, site, 'ADD', pod);
  try {
    return parseCniAdd(stdout);
  } catch (err) {
    throw new Error(`${(err as Error).message}${stderr.trim() ? `\n${stderr.trim().slice(-1000)}` : ''}`);
  }
}

/** CNI DEL: the endpoint and its IP (a gone namespace is fine). Returns the plugin's complaint, if any. */
export async function cniDel(p: LabPaths, site: AgentSite, pod: CniPod): Promise<string | null> {
  const { stdout, stderr } = await cni(p, site, 'DEL', pod);
  const err = CniError.safeParse((() => {
    try {
      return JSON.parse(stdout);
    } catch {
      return null;
    }
  })());
  return err.success ? `${err.data.msg}${err.data.details ? `: ${err.data.details}` : ''}` : stderr.trim() ? stderr.trim().slice(-500) : null;
}
