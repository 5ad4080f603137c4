/**
 * Two small table renderers: a box-drawn one for the terminal (optional ANSI
 * colour) and a Markdown one. Numbers are right-aligned; a column whose
 * cells all start with a number (after an optional sign) is treated as
 * numeric unless told otherwise.
 *
 * Written here rather than taken from a package: the need is ~100 lines and
 * the renderers must stay pure (workflow bundles and tests import them).
 */

export type Align = 'left' | 'right';
export type Cell = string | number | null | undefined;

export interface Column {
  header: string;
  /** default: right when every non-empty cell looks numeric, else left */
  align?: Align;
}

export interface TextTableOptions {
  /** 'box' (default): ┌─┬─┐ borders; 'plain': space-separated aligned columns */
  style?: 'box' | 'plain';
  /** ANSI: bold header, dim borders */
  color?: boolean;
  /** spaces before every line */
  indent?: number;
}

// ---- ANSI ------------------------------------------------------------------

const SGR = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', blue: '34', cyan: '36' } as const;
export type Style = keyof typeof SGR;

/** Wrap `s` in an ANSI style when `on`; the identity otherwise. */
export function paint(s: string, style: Style | Style[], on: boolean): string {
  if (!on || s === '') return s;
  const codes = (Array.isArray(style) ? style : [style]).map((k) => SGR[k]).join(';');
  return `\u001b[${codes}m${s}\u001b[0m`;
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-9;]*m/g;
export const stripAnsi = (s: string): string => s.replace(ANSI_RE, '');

/** East Asian wide / fullwidth ranges (a context name may be CJK): two terminal columns each. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Columns a string takes in a terminal: ANSI codes take none, wide characters two. */
export function visibleWidth(s: string): number {
  let w = 0;
  for (const ch of stripAnsi(s)) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x300 && cp <= 0x36f)) continue; // joiners, selectors, combining marks
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

const pad = (s: string, width: number, align: Align) => {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(s)));
  return align === 'right' ? fill + s : s + fill;
};

// ---- shared ----------------------------------------------------------------

const cellText = (c: Cell): string => (c === null || c === undefined ? '' : typeof c === 'number' ? String(c) : c).replace(/\r?\n/g, ' ');

const NUMERIC_RE = /^[-+−]?\d/;
/** A cell that reads as a figure: "31,365", "-29.1%", "10.43 Gbps", "22,237 (-29.1%)". */
export const looksNumeric = (s: string): boolean => NUMERIC_RE.test(stripAnsi(s).trim());

function normalise(columns: readonly (string | Column)[], rows: readonly Cell[][]) {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const body = rows.map((r) => cols.map((_, i) => cellText(r[i])));
  const aligns: Align[] = cols.map((c, i) => {
    if (c.align) return c.align;
    const filled = body.map((r) => stripAnsi(r[i]).trim()).filter((s) => s !== '' && s !== '—' && s !== '?' && !/^n\/a/i.test(s));
    return filled.length > 0 && filled.every(looksNumeric) ? 'right' : 'left';
  });
  return { cols, body, aligns };
}

// ---- terminal ----------------------------------------------------------------

/** A table for the terminal. Rows shorter than the header are padded with empty cells. */
export function renderTextTable(columns: readonly (string | Column)[], rows: readonly Cell[][], opts: TextTableOptions = {}): string {
  const { cols, body, aligns } = normalise(columns, rows);
  const color = opts.color ?? false;
  const indent = ' '.repeat(opts.indent ?? 0);
  const headers = cols.map((c) => c.header);
  const widths = cols.map((_, i) => Math.max(visibleWidth(headers[i]), ...body.map((r) => visibleWidth(r[i]))));
  const head = headers.map((h, i) => paint(pad(h, widths[i], aligns[i]), 'bold', color));
  const lines: string[] = [];

  if (opts.style === 'plain') {
    const row = (cells: string[]) => indent + cells.join('  ').trimEnd();
    lines.push(row(head));
    lines.push(indent + paint(widths.map((w) => '─'.repeat(w)).join('  '), 'dim', color));
    for (const r of body) lines.push(row(r.map((c, i) => pad(c, widths[i], aligns[i]))));
    return lines.join('\n');
  }

  const rule = (l: string, m: string, r: string) => indent + paint(l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r, 'dim', color);
  const bar = paint('│', 'dim', color);
  const row = (cells: string[]) => `${indent}${bar} ${cells.join(` ${bar} `)} ${bar}`;
  lines.push(rule('┌', '┬', '┐'));
  lines.push(row(head));
  lines.push(rule('├', '┼', '┤'));
  for (const r of body) lines.push(row(r.map((c, i) => pad(c, widths[i], aligns[i]))));
  lines.push(rule('└', '┴', '┘'));
  return lines.join('\n');
}

// ---- Markdown ----------------------------------------------------------------

/** Escape what would break a GFM table cell (pipes) or start HTML/emphasis by accident. */
export const mdEscape = (s: string): string => stripAnsi(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;');

/** A GitHub-flavoured Markdown table; right-aligned columns get `---:`. */
export function renderMarkdownTable(columns: readonly (string | Column)[], rows: readonly Cell[][]): string {
  const { cols, body, aligns } = normalise(columns, rows);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(cols.map((c) => mdEscape(c.header))),
    line(aligns.map((a) => (a === 'right' ? '---:' : '---'))),
    ...body.map((r) => line(r.map((c) => (c === '' ? ' ' : mdEscape(c))))),
  ].join('\n');
}
