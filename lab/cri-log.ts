/**
 * Serves a lab daemon's log as `kubectl logs` of its pods: kwok's
 * ClusterLogs reads a file in the CRI log format a kubelet reads
 * ("<RFC 3339 time> stdout F <line>"), so this copies a plain log file into
 * that format as it grows (Cilium's lines carry their own `time=...`, used
 * as the entry's time; other lines get the time they were read).
 *
 * Started by lab/datapath/cilium.ts:
 *   node lab/cri-log.ts <plain log> <CRI log> [<plain log> <CRI log>]...
 */
import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';

/** One plain log line as a CRI log entry. */
export function criLine(line: string, now: Date = new Date()): string {
  const m = /^time=(\d{4}-\d\d-\d\dT[^ ]+Z) /.exec(line);
  return `${m ? m[1] : now.toISOString()} stdout F ${line}\n`;
}

interface Follow {
  src: string;
  dst: string;
  offset: number;
  partial: string;
}

function step(f: Follow): void {
  if (!existsSync(f.src)) return;
  const size = statSync(f.src).size;
  if (size < f.offset) {
    // truncated or replaced: start over
    f.offset = 0;
    f.partial = '';
  }
  if (size === f.offset) return;
  const fd = openSync(f.src, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size - f.offset, 4 * 1024 * 1024));
    const n = readSync(fd, buf, 0, buf.length, f.offset);
    f.offset += n;
    const text = f.partial + buf.subarray(0, n).toString('utf8');
    const lines = text.split('\n');
    f.partial = lines.pop() ?? '';
    if (lines.length) appendFileSync(f.dst, lines.map((l) => criLine(l)).join(''));
  } finally {
    closeSync(fd);
  }
}

function main(argv: string[]): void {
  if (argv.length < 2 || argv.length % 2 !== 0) {
    process.stderr.write('usage: cri-log.ts <plain log> <CRI log> [<plain log> <CRI log>]...\n');
    process.exit(2);
  }
  const follows: Follow[] = [];
  for (let i = 0; i < argv.length; i += 2) {
    follows.push({ src: argv[i]!, dst: argv[i + 1]!, offset: 0, partial: '' });
    writeFileSync(argv[i + 1]!, '');
  }
  process.on('SIGTERM', () => process.exit(0));
  const tick = () => {
    for (const f of follows) {
      try {
        step(f);
      } catch (err) {
        process.stderr.write(`cri-log: ${f.src}: ${(err as Error).message}\n`);
      }
    }
  };
  tick();
  setInterval(tick, 250);
}

if (import.meta.main) main(process.argv.slice(2));
