// Cilium agent CLI: argv of the commands the run execs inside an agent pod,
// and parsers of their text output. The agent CLI is called `cilium` in
// older images and `cilium-dbg` in newer ones (1.15+), hence `binary`.
//
// Facts (checked against the real Cilium v1.19.4 agent of the lab,
// lab/datapath/cilium.ts; outputs in test/unit/tools/fixtures/cilium-v1.19.4):
// - `cilium status` prints "Routing:  Network: Tunnel [vxlan]  Host: Legacy"
//   (or "Network: Native  Host: Legacy|BPF"); older releases print
//   "Network: Tunnel" without the protocol.
// - `cilium bpf lb list` prints a header, then one line per LB map entry,
//   in map order: "<frontend>/TCP (<slot>)  <backend>/TCP (<revnat>) (<slot>)",
//   slot 0 being the frontend itself ("0.0.0.0:0 ... [ClusterIP, non-routable]"),
//   and since 1.18 one "<ClusterIP>:0/ANY (0)" wildcard entry per address.
//   Old releases print backends as continuation lines and add a "-----" line.
// - `cilium bpf ct list global` is empty when only socket LB translates
//   (no per-packet NAT); `cilium config set ...` fails with "Error: Improper
//   configuration format provided" (exit 1).
// - `cilium identity list` prints "ID  LABELS", then per identity a line
//   starting with the numeric id and one continuation line per extra label.
// - The agent CLI has no `config set` subcommand (it takes
//   `config <Option>=enable|disable` for a few runtime options), so the
//   reference's `cilium config set hubble-disable true` most likely failed
//   silently (it discarded output and errors). netbench switches Hubble off
//   through the `cilium-config` ConfigMap (`enable-hubble`) and an agent
//   restart, so there is no builder for the reference's command.
//
// Pure: no node: imports, no Temporal.

import { z } from 'zod';
import { ToolOutputError, reasonFromLine, requireOutput } from './errors';
import { binarySchema } from './inputs';
import { readToolJson, validateToolJson } from './json';
import type { Probe } from './driver';

/** Agent CLI name: `cilium` (older images) or `cilium-dbg` (1.15+). */
export type CiliumBinary = string;

/** The agent CLI's names, in the order they are tried: `cilium-dbg` (1.15+), then `cilium` (older images). */
export const CILIUM_BINARIES = ['cilium-dbg', 'cilium'] as const;

/**
 * Run an agent CLI command (built below, under either name) under the name the
 * agent image has: as `cilium-dbg ...`, and when that fails in the pod (an
 * ExecCommandError, e.g. no such executable) as `cilium ...`; when both fail,
 * the cilium-dbg error is thrown (it says more). Any other command runs as it is.
 */
export async function withAgentCli<T>(command: string[], run: (argv: string[]) => Promise<T>): Promise<T> {
  const [first, ...rest] = command;
  if (!(CILIUM_BINARIES as readonly string[]).includes(first)) return run(command);
  const [newer, older] = CILIUM_BINARIES;
  try {
    return await run([newer, ...rest]);
  } catch (err) {
    if ((err as { name?: string }).name !== 'ExecCommandError') throw err;
    try {
      return await run([older, ...rest]);
    } catch {
      throw err;
    }
  }
}

function bin(binary: CiliumBinary): string {
  return binarySchema.parse(binary);
}

/** `cilium status` */
export function ciliumStatusArgs(binary: CiliumBinary = 'cilium'): string[] {
  return [bin(binary), 'status'];
}

/** `cilium bpf lb list` */
export function ciliumBpfLbListArgs(binary: CiliumBinary = 'cilium'): string[] {
  return [bin(binary), 'bpf', 'lb', 'list'];
}

/** `cilium bpf ct list global` */
export function ciliumBpfCtListGlobalArgs(binary: CiliumBinary = 'cilium'): string[] {
  return [bin(binary), 'bpf', 'ct', 'list', 'global'];
}

/** `cilium identity list` */
export function ciliumIdentityListArgs(binary: CiliumBinary = 'cilium'): string[] {
  return [bin(binary), 'identity', 'list'];
}

/** `cilium endpoint list -o json`: the agent's endpoints (one per pod it manages, plus host/health). */
export function ciliumEndpointListArgs(binary: CiliumBinary = 'cilium-dbg'): string[] {
  return [bin(binary), 'endpoint', 'list', '-o', 'json'];
}

/** `cilium policy get -o json`: the agent's policy repository (the rules it imported) and its revision. */
export function ciliumPolicyGetArgs(binary: CiliumBinary = 'cilium-dbg'): string[] {
  return [bin(binary), 'policy', 'get', '-o', 'json'];
}

/** `cat /proc/1/status` — the agent is PID 1 of its container. */
export function procStatusArgs(pid = 1): string[] {
  return ['cat', `/proc/${Math.trunc(pid)}/status`];
}

export type CiliumTunnel = 'vxlan' | 'geneve' | 'disabled' | 'unknown';

/**
 * Tunnel mode from `cilium status`:
 * - a "Routing:" line: "Network: Tunnel [vxlan|geneve]" → that protocol,
 *   "Network: Native" → "disabled", "Network: Tunnel" without a protocol
 *   (older releases) → "unknown" (ask the cilium-config ConfigMap);
 * - otherwise the reference's rule: a line mentioning "tunnel" and then
 *   vxlan/geneve → that protocol; "tunnel…disabled" → "disabled";
 * - otherwise (agent unreachable, error text) → "unknown".
 */
export function parseCiliumStatusTunnel(text: string): CiliumTunnel {
  const routing = /^\s*Routing:\s*(.*)$/im.exec(text);
  if (routing) {
    const network = /Network:\s*(\w+)(?:\s*\[([^\]]*)\])?/i.exec(routing[1]);
    if (network) {
      const mode = network[1].toLowerCase();
      const proto = (network[2] ?? '').trim().toLowerCase();
      if (mode === 'native') return 'disabled';
      if (mode === 'tunnel') {
        if (proto === 'vxlan' || proto === 'geneve') return proto;
        return 'unknown';
      }
    }
  }
  for (const line of text.split('\n')) {
    const m = /tunnel.*?\b(vxlan|geneve|disabled)\b/i.exec(line);
    if (m) return m[1].toLowerCase() as CiliumTunnel;
  }
  return 'unknown';
}

export interface CiliumLineCount {
  /** Newline characters, exactly what the reference's `| wc -l` printed. */
  lines: number;
  /** Best-effort count of entries (header, separator and continuation lines left out; see `kind`). */
  entries: number;
}

/**
 * Counts the lines of a `cilium bpf lb list`, `bpf ct list global` or
 * `identity list` output.
 * - kind "identity": entries are lines starting with a numeric id (label
 *   continuation lines are not identities);
 * - otherwise (lb, ct): entries are non-empty lines with a digit in them
 *   (headers and "No entries found" have none). For `bpf lb list` that is
 *   the number of LB map entries (Service + backend slots), which is what
 *   the LB map capacity is measured in.
 * Throws ToolOutputError("cilium", "<the Error: line>") when the CLI
 * printed an error.
 */
export function countCiliumLines(text: string, kind: 'lb' | 'ct' | 'identity' | 'generic' = 'generic'): CiliumLineCount {
  const lines = (text.match(/\n/g) ?? []).length;
  let entries = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    if (/^\s*Error:/i.test(line)) throw new ToolOutputError('cilium', reasonFromLine(line));
    if (kind === 'identity') {
      if (/^\d+(\s|$)/.test(line)) entries++;
    } else if (/\d/.test(line) && !/^\s*-+\s*$/.test(line)) {
      entries++;
    }
  }
  return { lines, entries };
}

/**
 * VmRSS of a process from /proc/<pid>/status, in kB ("VmRSS:   123456 kB").
 * Throws ToolOutputError("proc-status", "no VmRSS line") otherwise (kernel
 * threads and zombies have none).
 */
export function parseProcStatusVmRssKb(text: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(text);
  if (!m) throw new ToolOutputError('proc-status', 'no VmRSS line');
  return Number(m[1]);
}

// The questions the run asks the agent. `bpf lb list` and `identity list` always print a header
// or the reserved identities: empty output is a failure. An empty conntrack table prints nothing
// (seen on the real agent), so there only an error on stderr is one.
const count = (argv: () => string[], kind: 'lb' | 'ct' | 'identity'): Probe<CiliumLineCount> => ({
  tool: 'cilium',
  argv,
  parse: (out) => countCiliumLines(kind === 'ct' && out.stderr.trim() === '' ? out.stdout : requireOutput('cilium', out), kind),
});

/** Tunnel mode from `cilium status` (overlay or native routing). */
export const ciliumStatus: Probe<CiliumTunnel> = { tool: 'cilium', argv: () => ciliumStatusArgs(), parse: (out) => parseCiliumStatusTunnel(requireOutput('cilium', out)) };
/** LB map entries (`cilium bpf lb list`). */
export const ciliumLbEntries = count(() => ciliumBpfLbListArgs(), 'lb');
/** Conntrack entries (`cilium bpf ct list global`). */
export const ciliumCtEntries = count(() => ciliumBpfCtListGlobalArgs(), 'ct');
/** Security identities (`cilium identity list`). */
export const ciliumIdentities = count(() => ciliumIdentityListArgs(), 'identity');
/** The agent's resident memory in kB (`cat /proc/1/status`). */
export const agentRssKb: Probe<number> = { tool: 'proc-status', argv: () => procStatusArgs(), parse: ({ stdout }) => parseProcStatusVmRssKb(stdout) };


// ---- endpoints and policies: what the agent does with netbench's pods and policies --------------

/** One endpoint of `cilium endpoint list -o json` (models.Endpoint), the fields netbench reads. */
export interface CiliumEndpoint {
  id: number;
  state?: string;
  /** status.external-identifiers: set for pods (k8s-namespace / k8s-pod-name, older: pod-name "<ns>/<pod>") */
  namespace?: string;
  pod?: string;
  /** status.identity.labels, e.g. "k8s:io.kubernetes.pod.namespace=network-benchmark", "reserved:host" */
  labels: string[];
}

const endpointListSchema = z.array(
  z
    .object({
      id: z.number().int(),
      status: z
        .object({
          state: z.string().optional(),
          'external-identifiers': z.object({ 'k8s-namespace': z.string().optional(), 'k8s-pod-name': z.string().optional(), 'pod-name': z.string().optional() }).passthrough().optional(),
          identity: z.object({ labels: z.array(z.string()).optional() }).passthrough().optional(),
          labels: z.object({ 'security-relevant': z.array(z.string()).optional() }).passthrough().optional(),
        })
        .passthrough()
        .optional(),
    })
    .passthrough(),
);

/**
 * `cilium endpoint list -o json` → endpoints. Namespace and pod come from
 * the external identifiers (k8s-namespace/k8s-pod-name, or the older
 * "pod-name": "<ns>/<pod>"), else from the identity labels
 * (k8s:io.kubernetes.pod.namespace=<ns>; the pod name is not a label).
 * Throws ToolOutputError("cilium", ...) on empty, cut or non-JSON output.
 */
export function parseCiliumEndpointList(text: string): CiliumEndpoint[] {
  const list = validateToolJson('cilium', endpointListSchema, readToolJson('cilium', text));
  return list.map((e) => {
    const ids = e.status?.['external-identifiers'];
    const labels = e.status?.identity?.labels ?? e.status?.labels?.['security-relevant'] ?? [];
    const [nsFromPodName, podFromPodName] = (ids?.['pod-name'] ?? '').includes('/') ? ids!['pod-name']!.split('/', 2) : [undefined, undefined];
    const nsLabel = labels.find((l) => l.startsWith('k8s:io.kubernetes.pod.namespace='))?.split('=', 2)[1];
    const namespace = ids?.['k8s-namespace'] || nsFromPodName || nsLabel || undefined;
    const pod = ids?.['k8s-pod-name'] || podFromPodName || undefined;
    return { id: e.id, ...(e.status?.state ? { state: e.status.state } : {}), ...(namespace ? { namespace } : {}), ...(pod ? { pod } : {}), labels };
  });
}

/** The endpoint the agent has for pod `ns/pod`, if any. */
export function endpointOfPod(endpoints: CiliumEndpoint[], ns: string, pod: string): CiliumEndpoint | undefined {
  return endpoints.find((e) => e.namespace === ns && e.pod === pod);
}

/** A short description of an agent's endpoints for a reason: "2 endpoints: reserved:host, reserved:health". */
export function describeEndpoints(endpoints: CiliumEndpoint[]): string {
  if (!endpoints.length) return 'no endpoint at all';
  const what = endpoints.map((e) => (e.pod ? `${e.namespace}/${e.pod}` : e.labels.find((l) => l.startsWith('reserved:')) ?? `#${e.id}`));
  const shown = what.slice(0, 4).join(', ') + (what.length > 4 ? `, … (${what.length - 4} more)` : '');
  return `${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}: ${shown}`;
}

/** One rule of the agent's policy repository: its labels say which CiliumNetworkPolicy it came from. */
export interface CiliumPolicyRule {
  labels: { key: string; value?: string; source?: string }[];
}

export interface CiliumPolicyRepository {
  revision: number;
  rules: CiliumPolicyRule[];
}

const labelsSchema = z.array(z.object({ key: z.string(), value: z.string().optional(), source: z.string().optional() }));
// v1.19 prints its repository's policy entries (Go field names: "Labels", "Subject", "L3", "L4", ...);
// older agents printed api.Rule ("labels", "endpointSelector", ...). Both carry the policy's labels.
const rulesSchema = z.array(z.object({ Labels: labelsSchema.nullish(), labels: labelsSchema.nullish() }).passthrough());

/**
 * `cilium policy get -o json` → the rules the agent imported and the
 * repository's revision. v1.19.4 prints its policy entries with Go field
 * names ("Labels": [{key, value, source}], "Subject", "L3", "L4"), older
 * releases api.Rule ("labels", "endpointSelector"). The JSON form wraps the rules as a string:
 * {"policy": "[...]", "revision": N} (both omitted when empty); the plain
 * form prints the rules, then "Revision: N". Both are read.
 */
export function parseCiliumPolicyGet(text: string): CiliumPolicyRepository {
  const plain = /\nRevision:\s*(\d+)\s*$/.exec(text);
  let rulesText: string;
  let revision: number;
  if (plain) {
    rulesText = text.slice(0, plain.index);
    revision = Number(plain[1]);
  } else {
    const doc = validateToolJson('cilium', z.object({ policy: z.string().optional(), revision: z.number().int().optional() }).passthrough(), readToolJson('cilium', text));
    rulesText = doc.policy ?? '';
    revision = doc.revision ?? 0;
  }
  if (rulesText.trim() === '' || rulesText.trim() === 'null') return { revision, rules: [] };
  const rules = validateToolJson('cilium', rulesSchema, readToolJson('cilium', rulesText));
  return { revision, rules: rules.map((r) => ({ labels: r.Labels ?? r.labels ?? [] })) };
}

/** Did the agent import CiliumNetworkPolicy `ns/name`? (its rules carry io.cilium.k8s.policy.name/namespace labels) */
export function policyImported(repo: CiliumPolicyRepository, ns: string, name: string): boolean {
  const has = (r: CiliumPolicyRule, key: string, value: string) => r.labels.some((l) => l.key === key && l.value === value);
  return repo.rules.some((r) => has(r, 'io.cilium.k8s.policy.name', name) && has(r, 'io.cilium.k8s.policy.namespace', ns));
}

/** key=value pairs of a logfmt line (Cilium's text log: slog, or logrus before 1.17); quoted values unescaped. */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_.\-/]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const v = m[2];
    out[m[1]] = v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? ' ' : c)) : v;
  }
  return out;
}

/** The agent's own words when it refused a CiliumNetworkPolicy. */
export interface PolicyRefusal {
  /** the agent's error, e.g. "Invalid CiliumNetworkPolicy spec: L7 policy is not supported since L7 proxy is not enabled" */
  error: string;
  /** the whole log line, as `kubectl logs` shows it */
  line: string;
  /** when it was logged (the log's timestamp or the line's own time=), if known */
  time?: string;
}

const LOG_TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s+/;

/**
 * The agent's refusal of CiliumNetworkPolicy `ns/name` in its log (`kubectl
 * logs` of the cilium-agent container, with or without --timestamps): the
 * last "Unable to add CiliumNetworkPolicy" line naming that policy and
 * namespace, with its error. Reads Cilium's text log (logfmt) and its JSON
 * log (log-format=json). Lines logged before `since` are left out (an
 * earlier run's refusal of the same name). undefined: no refusal.
 */
export function findPolicyRefusal(log: string, ns: string, name: string, since?: string): PolicyRefusal | undefined {
  const sinceMs = since ? Date.parse(since) : undefined;
  let found: PolicyRefusal | undefined;
  for (const raw of log.split(/\r?\n/)) {
    if (!raw.includes('Unable to add CiliumNetworkPolicy') || !raw.includes(name)) continue;
    const ts = LOG_TS.exec(raw);
    const line = ts ? raw.slice(ts[0].length) : raw;
    let f: Record<string, unknown>;
    if (line.trimStart().startsWith('{')) {
      try {
        f = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
    } else {
      f = parseLogfmt(line);
    }
    if (f.msg !== 'Unable to add CiliumNetworkPolicy' || f.ciliumNetworkPolicyName !== name) continue;
    if (f.k8sNamespace !== undefined && f.k8sNamespace !== ns) continue;
    const time = ts?.[1] ?? (typeof f.time === 'string' ? f.time : undefined);
    if (sinceMs !== undefined && time !== undefined && Date.parse(time) < sinceMs) continue;
    const error = typeof f.error === 'string' ? f.error : typeof f.err === 'string' ? f.err : 'no error given';
    found = { error, line: line.trim(), ...(time ? { time } : {}) };
  }
  return found;
}
