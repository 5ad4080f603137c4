// The one error every tool parser throws. `reason` is short and specific so a
// report can show it as-is and an activity can decide on retries by it
// ("truncated JSON" is worth a retry, "iperf3 error: unable to connect to
// server: Connection refused" probably is too, "no CSV line" says the tool
// printed something we do not understand).
//
// Pure: importable from workflow code (no node: imports, no Temporal).

export class ToolOutputError extends Error {
  constructor(
    public readonly tool: string,
    public readonly reason: string,
    message?: string,
  ) {
    super(message ?? `${tool}: ${reason}`);
    // Temporal turns a thrown error into an ApplicationFailure whose type is
    // the error's name, so keep a stable, meaningful name.
    this.name = 'ToolOutputError';
  }
}

/** Longest piece of tool output we copy into a reason (one line, trimmed). */
const REASON_MAX = 200;

/** Shortens a line of tool output so it can serve as a reason. */
export function reasonFromLine(line: string): string {
  const one = line.replace(/\s+/g, ' ').trim();
  return one.length > REASON_MAX ? `${one.slice(0, REASON_MAX - 1)}…` : one;
}

/**
 * The stdout of a tool that always prints something when it works: empty
 * means it failed, and its stderr (first line) says why. Empty output is
 * never read as "0 rules" or "0 entries".
 */
export function requireOutput(tool: string, out: { stdout: string; stderr: string }): string {
  if (out.stdout.trim() !== '') return out.stdout;
  const said = out.stderr.split(/\r?\n/).find((l) => l.trim() !== '');
  throw new ToolOutputError(tool, said ? reasonFromLine(said) : 'empty output');
}

/** First lines of the output, for error messages (never the whole output). */
export function excerpt(text: string, maxChars = 300): string {
  const t = text.trim();
  return t.length > maxChars ? `${t.slice(0, maxChars)}…` : t;
}
