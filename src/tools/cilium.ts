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

import { ToolOutputError, reasonFromLine, requireOutput } from './errors';
import { binarySchema } from './inputs';
import type { Probe } from './driver';

/** Agent CLI name: `cilium` (older images) or `cilium-dbg` (1.15+). */
export type CiliumBinary = string;

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
