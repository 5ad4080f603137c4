// bpftool: argv and parser of `bpftool map list -j` (memory held by BPF
// maps on a node, e.g. inside a Cilium agent pod).
//
// Facts checked against bpftool v7.1.0 / libbpf 1.1 (Debian) on kernel 6.x:
// - Output is one JSON array on one line; each map:
//   {"id":25,"type":"hash","name":"nb_lb4","flags":0,"bytes_key":12,
//    "bytes_value":8,"max_entries":65536,"bytes_memlock":5768224,"frozen":0}
//   plus, depending on build and kernel, "btf_id", "pinned" (with -f),
//   "pids" and "owner_prog_type". Unnamed maps have no "name".
// - No maps: "[]".
// - With -j, bpftool reports failures as {"error": "..."}.
// - bytes_memlock is the kernel's own figure; (key + value) × max_entries
//   is only a fallback: it ignores per-entry overhead and, for per-CPU maps,
//   the number of CPUs, so it underestimates.
//
// Pure: no node: imports, no Temporal.

import { z } from 'zod';
import { ToolOutputError } from './errors';
import { round2 } from './inputs';
import { readToolJson, validateToolJson } from './json';
import type { Probe } from './driver';

const TOOL = 'bpftool';

/** `bpftool map list -j` */
export function bpftoolMapListArgs(): string[] {
  return ['bpftool', 'map', 'list', '-j'];
}

const mapSchema = z.object({
  id: z.number().int().nonnegative(),
  type: z.string(),
  name: z.string().optional(),
  bytes_key: z.number().int().nonnegative(),
  bytes_value: z.number().int().nonnegative(),
  max_entries: z.number().int().nonnegative(),
  bytes_memlock: z.number().nonnegative().optional(),
});
const listSchema = z.array(mapSchema);

export interface BpfMap {
  id: number;
  /** Map name; "" when the map has none. */
  name: string;
  type: string;
  maxEntries: number;
  keySize: number;
  valueSize: number;
  /** bytes_memlock, else (keySize + valueSize) × maxEntries. */
  bytes: number;
  /** Which of the two `bytes` came from. */
  bytesSource: 'memlock' | 'estimate';
}

export interface BpfMapList {
  maps: BpfMap[];
  totalBytes: number;
  /** totalBytes in MiB (2^20 bytes), 2 decimals. */
  totalMB: number;
  count: number;
  /** The 10 largest maps by bytes (ties: lower id first). */
  top10: BpfMap[];
}

/**
 * Parses `bpftool map list -j`. Throws ToolOutputError: "empty output",
 * "truncated JSON", "bpftool error: <message>" or "unexpected JSON shape …".
 */
export function parseBpftoolMapList(text: string): BpfMapList {
  const doc = readToolJson(TOOL, text);
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'error' in doc) {
    throw new ToolOutputError(TOOL, `bpftool error: ${String((doc as { error: unknown }).error)}`);
  }
  const raw = validateToolJson(TOOL, listSchema, doc);
  const maps: BpfMap[] = raw.map((m) => {
    const hasMemlock = m.bytes_memlock !== undefined;
    return {
      id: m.id,
      name: m.name ?? '',
      type: m.type,
      maxEntries: m.max_entries,
      keySize: m.bytes_key,
      valueSize: m.bytes_value,
      bytes: hasMemlock ? (m.bytes_memlock as number) : (m.bytes_key + m.bytes_value) * m.max_entries,
      bytesSource: hasMemlock ? 'memlock' : 'estimate',
    };
  });
  const totalBytes = maps.reduce((sum, m) => sum + m.bytes, 0);
  const top10 = [...maps].sort((a, b) => b.bytes - a.bytes || a.id - b.id).slice(0, 10);
  return { maps, totalBytes, totalMB: round2(totalBytes / 1048576), count: maps.length, top10 };
}

/** The BPF maps of a node and the memory they hold (stdout only: -j puts errors in the JSON). */
export const bpftoolMaps: Probe<BpfMapList> = {
  tool: TOOL,
  argv: bpftoolMapListArgs,
  parse: ({ stdout }) => parseBpftoolMapList(stdout),
};
