/**
 * A dependency-free SVG line chart: axes with "nice" ticks, gridlines, one
 * polyline (plus point markers with hover titles) per series, and a legend.
 * Sized for 720x360 (readable in a Markdown preview and on GitHub).
 * Colours are a colour-blind-safe palette and series also differ by dash
 * pattern, so the chart survives greyscale printing.
 */
import { fmtNum } from './format';

export interface Point {
  x: number;
  y: number;
  /** whisker ends (a 95% interval), drawn when both are given */
  lo?: number;
  hi?: number;
  /** hover text added to the point's title ("± 338 (n=3)", "1 sample") */
  note?: string;
}
export interface Series {
  name: string;
  points: Point[];
  color?: string;
  /** SVG stroke-dasharray, e.g. "6 4" */
  dash?: string;
}
export interface LineChartOptions {
  title: string;
  series: Series[];
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** tick positions on x (default: nice ticks); labels default to xFormat(value); a label's "\n" starts a second, smaller line */
  xTicks?: { value: number; label?: string }[];
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  /** lower end of y (default 0, so a drop is not exaggerated) */
  yMin?: number;
  /** vertical marks at an x with a short label (where two curves cross) */
  markers?: { x: number; label: string }[];
}

const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const DASHES = ['', '6 4', '2 3', '8 3 2 3', '1 2'];

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Tick values covering [min, max] with a 1/2/5 × 10^k step, about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max === min) max = min + (min === 0 ? 1 : Math.abs(min));
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

const LEGEND_ROW = 18;
const n = (v: number) => Number(v.toFixed(1)); // coordinates: one decimal is plenty

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 720;
  const H = o.height ?? 360;
  const xFormat = o.xFormat ?? ((v: number) => fmtNum(v));
  const yFormat = o.yFormat ?? ((v: number) => fmtNum(v));
  const all = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));

  // Legend rows first: the bottom margin grows with them.
  const look = (s: Series, i: number) => ({ color: s.color ?? PALETTE[i % PALETTE.length], dash: s.dash ?? DASHES[i % DASHES.length] });
  const legendRows: { s: Series; i: number; w: number }[][] = [];
  let rowWidth = Infinity;
  o.series.forEach((s, i) => {
    const w = 32 + s.name.length * 7 + 20; // swatch + text (about 7 px a character at 12 px) + gap
    if (rowWidth + w > W - 100) {
      legendRows.push([]);
      rowWidth = 0;
    }
    legendRows[legendRows.length - 1].push({ s, i, w });
    rowWidth += w;
  });

  // Plot area: room on the left for y labels, at the bottom for tick labels, the x label and the legend.
  // second lines of tick labels push the x label and the legend down
  const extra = (Math.max(1, ...(o.xTicks ?? []).map((t) => (t.label ?? '').split('\n').length)) - 1) * 13;
  const m = { left: 76, right: 32, top: 44, bottom: 68 + extra + Math.max(1, legendRows.length) * LEGEND_ROW };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;

  const xs = [...all.map((p) => p.x), ...(o.xTicks ?? []).map((t) => t.value)];
  let xMin = xs.length ? Math.min(...xs) : 0;
  let xMax = xs.length ? Math.max(...xs) : 1;
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  // a quantity that cannot be negative (every point >= 0) keeps its whiskers at 0: a wide interval is not a negative rate
  const floor = all.every((p) => p.y >= 0) ? 0 : -Infinity;
  const lo = (p: Point) => Math.max(floor, p.lo!);
  const ys = all.flatMap((p) => [p.y, ...(p.lo !== undefined && p.hi !== undefined ? [lo(p), p.hi] : [])]).filter(Number.isFinite);
  const yTicks = niceTicks(o.yMin ?? Math.min(0, ...ys), ys.length ? Math.max(...ys) : 1);
  const yLo = yTicks[0];
  const yHi = yTicks[yTicks.length - 1];
  const sx = (x: number) => m.left + ((x - xMin) / (xMax - xMin)) * pw;
  const sy = (y: number) => m.top + ph - ((y - yLo) / (yHi - yLo)) * ph;
  const xTicks: { value: number; label?: string }[] = o.xTicks ?? niceTicks(xMin, xMax, 6).filter((v) => v >= xMin && v <= xMax).map((value) => ({ value }));

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(o.title)}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
  );
  out.push(`<title>${escapeXml(o.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold" fill="#222">${escapeXml(o.title)}</text>`);

  // grid + y axis labels
  out.push('<g class="y-axis">');
  for (const t of yTicks) {
    const y = n(sy(t));
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e3e3e3" stroke-width="1"/>`);
    out.push(`<text x="${m.left - 8}" y="${y + 4}" text-anchor="end" fill="#444">${escapeXml(yFormat(t))}</text>`);
  }
  out.push('</g>');
  // x axis ticks
  out.push('<g class="x-axis">');
  let lastLabelX = -Infinity;
  for (const t of xTicks) {
    const x = n(sx(t.value));
    // a label too close to the previous one is left out (its tick stays): "baseline" and "1,000" would overlap
    if (x - lastLabelX < 44) {
      out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 5}" stroke="#444" stroke-width="1"/>`);
      continue;
    }
    lastLabelX = x;
    out.push(`<line x1="${x}" y1="${m.top + ph}" x2="${x}" y2="${m.top + ph + 5}" stroke="#444" stroke-width="1"/>`);
    const [first, ...more] = (t.label ?? xFormat(t.value)).split('\n');
    const second = more.map((l) => `<tspan x="${x}" dy="13" font-size="10" fill="#777">${escapeXml(l)}</tspan>`).join('');
    out.push(`<text x="${x}" y="${m.top + ph + 19}" text-anchor="middle" fill="#444">${escapeXml(first)}${second}</text>`);
  }
  out.push('</g>');
  // axes
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#444" stroke-width="1"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#444" stroke-width="1"/>`);
  if (o.xLabel) out.push(`<text class="x-label" x="${m.left + pw / 2}" y="${m.top + ph + 40 + extra}" text-anchor="middle" fill="#222">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) {
    const cy = m.top + ph / 2;
    out.push(`<text class="y-label" x="16" y="${cy}" text-anchor="middle" fill="#222" transform="rotate(-90 16 ${cy})">${escapeXml(o.yLabel)}</text>`);
  }

  // series
  o.series.forEach((s, i) => {
    const { color, dash } = look(s, i);
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    out.push(`<g class="series" data-name="${escapeXml(s.name)}">`);
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2.5" stroke-linejoin="round"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map((p) => `${n(sx(p.x))},${n(sy(p.y))}`).join(' ')}"/>`,
    );
    for (const p of pts) {
      const cx = n(sx(p.x));
      if (p.lo !== undefined && p.hi !== undefined && Number.isFinite(p.lo) && Number.isFinite(p.hi)) {
        const [y1, y2] = [n(sy(lo(p))), n(sy(p.hi))];
        // several series: each one's whiskers a little to the side, so overlapping intervals stay apart
        const wx = n(cx + (i - (o.series.length - 1) / 2) * 5);
        out.push(
          `<path class="whisker" d="M${wx} ${y1}V${y2}M${n(wx - 4)} ${y1}h8M${n(wx - 4)} ${y2}h8" stroke="${color}" stroke-width="1.5" fill="none"/>`,
        );
      }
      out.push(
        `<circle cx="${cx}" cy="${n(sy(p.y))}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name} @ ${xFormat(p.x)}: ${yFormat(p.y)}${p.note ? ` ${p.note}` : ''}`)}</title></circle>`,
      );
    }
    out.push('</g>');
  });

  // markers: a dashed vertical line each, labels staggered so neighbours stay legible
  (o.markers ?? []).forEach((mk, i) => {
    if (!Number.isFinite(mk.x) || mk.x < xMin || mk.x > xMax) return;
    const x = n(sx(mk.x));
    const ly = m.top + 12 + (i % 3) * 14;
    const anchor = x > m.left + pw * 0.75 ? 'end' : 'start';
    out.push(
      `<g class="marker"><line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#666" stroke-width="1" stroke-dasharray="3 3"/>` +
        `<text x="${anchor === 'end' ? x - 4 : x + 4}" y="${ly}" text-anchor="${anchor}" font-size="11" fill="#333">${escapeXml(mk.label)}</text></g>`,
    );
  });

  // legend: rows under the x label, packed left to right
  out.push('<g class="legend">');
  legendRows.forEach((row, r) => {
    let lx = m.left;
    const ly = m.top + ph + 62 + extra + r * LEGEND_ROW;
    for (const { s, i, w } of row) {
      const { color, dash } = look(s, i);
      out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 26}" y2="${ly - 4}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
      out.push(`<text x="${lx + 32}" y="${ly}" fill="#222">${escapeXml(s.name)}</text>`);
      lx += w;
    }
  });
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
