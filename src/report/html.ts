/**
 * The chrome of netbench's HTML pages (report.html, compare.html): one
 * self-contained file with inline CSS and inline SVG, no script, no font
 * or image from anywhere; readable offline and printable (figures do not
 * break across pages). Pages are built from these few pieces.
 */
import { escapeXml } from './svg';

export const esc = escapeXml;

const CSS = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6473; --line: #dfe3ea; --card: #ffffff; --bg: #f4f6f9; --accent: #0b5cad; --warn: #8a5a00; --warnbg: #fff6e0; --bad: #a3262a; --badbg: #fdeced; --good: #1d6b3a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 64px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
header .meta { color: var(--muted); margin: 0 0 8px; }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px 14px; margin: 10px 0 18px; font-size: 13px; }
nav.toc a { color: var(--accent); text-decoration: none; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin: 18px 0; }
h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 18px 0 6px; color: #333; }
p { margin: 6px 0 10px; }
.note { color: var(--muted); font-size: 13px; }
.banner { border-radius: 8px; padding: 10px 14px; margin: 12px 0; border: 1px solid; }
.banner.warn { background: var(--warnbg); border-color: #f0d28a; color: var(--warn); }
.banner.bad { background: var(--badbg); border-color: #f0b4b6; color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 8px 0; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f7f8fb; font-weight: 600; color: #333; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #fbfcfd; }
td .sub { display: block; color: var(--muted); font-size: 12px; }
td.win { color: var(--good); font-weight: 600; }
td.tie { color: var(--muted); }
td.best { font-weight: 600; }
td.missing, span.missing { color: var(--bad); font-style: italic; }
figure { margin: 12px 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 8px 18px; }
ul.crossings li { margin: 4px 0; }
code { font-size: 12.5px; background: #f0f2f5; padding: 1px 4px; border-radius: 4px; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
@media print {
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  section { border: none; padding: 0; margin: 14px 0; break-inside: auto; }
  figure, table, .banner { break-inside: avoid; }
  h2 { break-after: avoid; }
  nav.toc { display: none; }
}
`;

/** A whole page: title, sections (already HTML), a footer line. */
export function page(o: { title: string; header: string; sections: string[]; footer?: string }): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // nothing may be loaded from anywhere: no scripts, fonts, images or frames
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${esc(o.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body><main>',
    o.header,
    ...o.sections,
    o.footer ? `<footer>${o.footer}</footer>` : '',
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}

/** A table cell: text (escaped) with an optional class and a smaller second line. */
export interface HtmlCell {
  text: string;
  cls?: string;
  sub?: string;
}
export type CellIn = string | number | HtmlCell;

const cellHtml = (c: CellIn, tag: 'td' | 'th', num: boolean): string => {
  const o: HtmlCell = typeof c === 'object' ? c : { text: String(c) };
  const cls = [num ? 'num' : '', o.cls ?? ''].filter(Boolean).join(' ');
  return `<${tag}${cls ? ` class="${cls}"` : ''}>${esc(o.text)}${o.sub ? `<span class="sub">${esc(o.sub)}</span>` : ''}</${tag}>`;
};

/** A table; `numeric` marks right-aligned columns by index. */
export function table(headers: string[], rows: CellIn[][], numeric: number[] = []): string {
  const isNum = (i: number) => numeric.includes(i);
  return [
    '<table>',
    `<thead><tr>${headers.map((h, i) => cellHtml(h, 'th', isNum(i))).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => cellHtml(c, 'td', isNum(i))).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** A section with its anchor id and heading. */
export const section = (id: string, title: string, ...body: string[]): string => `<section id="${esc(id)}">\n<h2>${esc(title)}</h2>\n${body.filter(Boolean).join('\n')}\n</section>`;

/** A chart (inline SVG) with its caption. */
export const figure = (svg: string, caption?: string): string => `<figure>\n${svg.trim()}\n${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;

export const para = (text: string, cls?: string): string => `<p${cls ? ` class="${cls}"` : ''}>${esc(text)}</p>`;
export const banner = (kind: 'warn' | 'bad', text: string): string => `<div class="banner ${kind}">${esc(text)}</div>`;
export const toc = (items: [id: string, title: string][]): string => `<nav class="toc">${items.map(([id, t]) => `<a href="#${esc(id)}">${esc(t)}</a>`).join('')}</nav>`;
