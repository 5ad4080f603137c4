// JSON reading shared by the parsers of tools that print JSON (iperf3 -J,
// fortio -json, bpftool -j). It tells apart the three failures that matter
// to a benchmark run: nothing printed, output cut short (exec stream closed,
// pod killed, file copied mid-write) and output that is not JSON at all.
//
// Pure: no node: imports, no Temporal.

import type { z } from 'zod';
import { closingBracket } from './brackets';
import { ToolOutputError, reasonFromLine } from './errors';

/** Where the JSON value starts: at 0, or at the first line opening with { or [. */
function jsonStart(text: string): number {
  const first = text.search(/\S/);
  if (first >= 0 && (text[first] === '{' || text[first] === '[')) return first;
  // Tolerate log lines before the document (e.g. a warning a wrapper printed
  // on the same stream), as long as the document itself starts a line.
  const m = /(^|\n)[ \t]*([{[])/.exec(text);
  return m ? m.index + m[0].length - 1 : -1;
}

/**
 * Index just past the end of the JSON value starting at `start`, or -1 when
 * the value never closes (the text was cut). Tracks strings and escapes so
 * braces inside strings do not count.
 */
function jsonEnd(text: string, start: number): number {
  const end = closingBracket(text, start, '{[', '}]');
  return end < 0 ? -1 : end + 1;
}

/**
 * Parses the JSON document in a tool's output. Throws ToolOutputError with
 * reason "empty output", "truncated JSON", "no JSON: <first line>" or
 * "invalid JSON: <parser message>".
 */
export function readToolJson(tool: string, text: string): unknown {
  if (text.trim() === '') throw new ToolOutputError(tool, 'empty output');
  const start = jsonStart(text);
  if (start < 0) {
    const firstLine = text.split('\n').find((l) => l.trim() !== '') ?? '';
    throw new ToolOutputError(tool, `no JSON: ${reasonFromLine(firstLine)}`);
  }
  const end = jsonEnd(text, start);
  if (end < 0) throw new ToolOutputError(tool, 'truncated JSON');
  try {
    return JSON.parse(text.slice(start, end));
  } catch (e) {
    throw new ToolOutputError(tool, `invalid JSON: ${reasonFromLine(String((e as Error).message))}`);
  }
}

/** Validates a parsed document; a mismatch names the first offending path. */
export function validateToolJson<S extends z.ZodType>(tool: string, schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  throw new ToolOutputError(tool, `unexpected JSON shape at ${path}: ${issue?.message ?? 'invalid'}`);
}
