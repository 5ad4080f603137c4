/**
 * A dependency-free horizontal bar chart for the HTML report: one bar per
 * measurement, its figure and spread written at the bar's end ("10.43 Gbps
 * ± 0.05 (n=3)", "1 sample"), a 95% interval whisker where there is one,
 * and a bar that has no figure says why ("failed: exec stream closed").
 * Bars belong to series (keepalive / short connection, avg / max, ...),
 * which the colours and the legend tell apart; hatching keeps them apart in
 * greyscale print.
 */
import { fmtNum } from './format';
import { escapeXml, niceTicks } from './svg';

export interface Bar {
  /** the category on the y axis ("Pod-to-Pod (8 streams)") */
  label: string;
  /** the series it belongs to (legend entry) */
  series: string;
  value?: number;
  /** 95% interval ends, drawn as a whisker */
  lo?: number;
  hi?: number;
  /** the figure as printed ("10.43 Gbps") */
  text?: string;
  /** its spread ("± 0.05 (n=3)", "1 sample") */
  spread?: string;
  /** why there is no figure ("failed: …", "skipped: …", "not applicable: …") */
  missing?: string;
}

export interface BarChartOptions {
  title: string;
  bars: Bar[];
  /** the value axis ("Gbps, received (iperf3)") */
  xLabel: string;
  /** the category axis ("scenario") */
  yLabel: string;
  width?: number;
  xFormat?: (v: number) => string;
  /** series colours in order of first appearance */
  colors?: string[];
}

const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9'];
const ROW = 30;

/**
 * What every horizontal bar chart here draws before its bars: the svg
 * element, its title (and `defs`), the white page, the heading, the value
 * axis with its grid, both axis lines and labels, and a category label per row.
 */
function frame(f: {
  W: number; H: number; m: { left: number; top: number }; pw: number; ph: number; ticks: number[]; sx: (v: number) => number; xFormat: (v: number) => string;
  title: string; xLabel: string; yLabel: string; labels: string[]; defs?: string;
}): string[] {
  const { W, H, m, pw, ph } = f;
  const r1 = (v: number) => Number(v.toFixed(1));
  const cy = m.top + ph / 2;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(f.title)}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(f.title)}</title>`,
    ...(f.defs !== undefined ? [f.defs] : []),
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold" fill="#222">${escapeXml(f.title)}</text>`,
    '<g class="x-axis">',
    ...f.ticks.flatMap((t) => {
      const x = r1(f.sx(t));
      return [`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e6e6e6"/>`, `<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle" fill="#444">${escapeXml(f.xFormat(t))}</text>`];
    }),
    '</g>',
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#444"/>`,
    `<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#444"/>`,
    `<text class="x-label" x="${m.left + pw / 2}" y="${m.top + ph + 36}" text-anchor="middle" fill="#222">${escapeXml(f.xLabel)}</text>`,
    `<text class="y-label" x="14" y="${cy}" text-anchor="middle" fill="#222" transform="rotate(-90 14 ${cy})">${escapeXml(f.yLabel)}</text>`,
    '<g class="y-axis">',
    ...f.labels.map((label, i) => `<text x="${m.left - 8}" y="${m.top + i * ROW + ROW / 2 + 4}" text-anchor="end" fill="#222">${escapeXml(label)}</text>`),
    '</g>',
  ];
}

const BAR = 18;

export function barChart(o: BarChartOptions): string {
  const W = o.width ?? 960;
  const xFormat = o.xFormat ?? ((v: number) => fmtNum(v));
  const series = [...new Set(o.bars.map((b) => b.series))];
  const colors = o.colors ?? PALETTE;
  const color = (s: string) => colors[series.indexOf(s) % colors.length];
  const labelW = Math.min(260, 24 + Math.max(40, ...o.bars.map((b) => b.label.length * 6.6)));
  const textW = Math.min(360, 16 + Math.max(60, ...o.bars.map((b) => ((b.text ?? '').length + (b.spread ?? '').length + 1) * 6.6)));
  const m = { left: Math.round(28 + labelW), right: Math.round(textW), top: 44, bottom: 56 + (series.length > 1 ? 22 : 0) };
  const pw = Math.max(120, W - m.left - m.right);
  const ph = o.bars.length * ROW;
  const H = m.top + ph + m.bottom;
  const vals = o.bars.flatMap((b) => [b.value, b.hi]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const ticks = niceTicks(0, vals.length ? Math.max(...vals) : 1, Math.max(2, Math.min(6, Math.floor(pw / 90))));
  const top = ticks[ticks.length - 1];
  const sx = (v: number) => m.left + (Math.max(0, v) / top) * pw;
  const r1 = (v: number) => Number(v.toFixed(1));
  // pattern ids must be unique in a page that inlines several charts
  const uid = `h${[...o.title].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(36)}`;

  const defs = `<defs>${series.map((s, i) => `<pattern id="${uid}-${i}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${color(s)}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-opacity="0.35" stroke-width="2"/></pattern>`).join('')}</defs>`;
  const out = frame({ W, H, m, pw, ph, ticks, sx, xFormat, title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, labels: o.bars.map((b) => b.label), defs });

  series.forEach((s, si) => {
    out.push(`<g class="series" data-name="${escapeXml(s)}">`);
    o.bars.forEach((b, i) => {
      if (b.series !== s) return;
      const y = m.top + i * ROW + (ROW - BAR) / 2;
      const mid = r1(y + BAR / 2);
      if (b.value === undefined || !Number.isFinite(b.value)) {
        out.push(`<text class="missing" x="${m.left + 8}" y="${mid + 4}" fill="#a33" font-style="italic">${escapeXml(b.missing ?? 'no figure')}</text>`);
        return;
      }
      const x2 = sx(b.value);
      const tip = [b.label, b.text ?? xFormat(b.value), b.spread].filter(Boolean).join(' · ');
      out.push(`<rect x="${m.left}" y="${r1(y)}" width="${r1(Math.max(1, x2 - m.left))}" height="${BAR}" fill="url(#${uid}-${si})" rx="2"><title>${escapeXml(tip)}</title></rect>`);
      let end = x2;
      if (b.lo !== undefined && b.hi !== undefined && Number.isFinite(b.lo) && Number.isFinite(b.hi)) {
        const [a, z] = [r1(sx(b.lo)), r1(sx(b.hi))];
        out.push(`<path class="whisker" d="M${a} ${mid}H${z}M${a} ${r1(mid - 6)}v12M${z} ${r1(mid - 6)}v12" stroke="#222" stroke-width="1.5" fill="none"/>`);
        end = Math.max(end, sx(b.hi));
      }
      const spread = b.spread ? `<tspan fill="#666"> ${escapeXml(b.spread)}</tspan>` : '';
      out.push(`<text x="${r1(end + 6)}" y="${mid + 4}" fill="#222">${escapeXml(b.text ?? xFormat(b.value))}${spread}</text>`);
    });
    out.push('</g>');
  });

  if (series.length > 1) {
    out.push('<g class="legend">');
    let lx = m.left;
    const ly = H - 12;
    series.forEach((s, si) => {
      out.push(`<rect x="${lx}" y="${ly - 10}" width="14" height="12" fill="url(#${uid}-${si})"/>`, `<text x="${lx + 20}" y="${ly}" fill="#222">${escapeXml(s)}</text>`);
      lx += 40 + s.length * 7;
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** One row of a stacked bar chart: its parts by series, in series order. */
export interface StackedRow {
  label: string;
  parts: { series: string; value: number }[];
  /** printed at the bar's end ("12.4 s · orchestration 3%") */
  text: string;
}

/**
 * Horizontal stacked bars (where a run's time went: tools, creation,
 * convergence, pauses, orchestration per phase). Each series is a colour in
 * the legend and a `g.series` of its segments.
 */
export function stackedBarChart(o: { title: string; rows: StackedRow[]; series: string[]; xLabel: string; yLabel: string; width?: number; xFormat?: (v: number) => string }): string {
  const W = o.width ?? 960;
  const xFormat = o.xFormat ?? ((v: number) => fmtNum(v));
  const labelW = Math.min(260, 24 + Math.max(40, ...o.rows.map((r) => r.label.length * 6.6)));
  const textW = Math.min(300, 16 + Math.max(60, ...o.rows.map((r) => r.text.length * 6.6)));
  const m = { left: Math.round(28 + labelW), right: Math.round(textW), top: 44, bottom: 78 };
  const pw = Math.max(120, W - m.left - m.right);
  const ph = o.rows.length * ROW;
  const H = m.top + ph + m.bottom;
  const totals = o.rows.map((r) => r.parts.reduce((a, p) => a + Math.max(0, p.value), 0));
  const ticks = niceTicks(0, Math.max(1e-9, ...totals), Math.max(2, Math.min(6, Math.floor(pw / 90))));
  const top = ticks[ticks.length - 1];
  const sx = (v: number) => m.left + (Math.max(0, v) / top) * pw;
  const r1 = (v: number) => Number(v.toFixed(1));
  const color = (s: string) => PALETTE[o.series.indexOf(s) % PALETTE.length];
  // a series with nothing to draw (no convergence wait in any row) is left out of the chart and its legend
  const drawn = o.series.filter((s) => o.rows.some((r) => r.parts.some((p) => p.series === s && p.value > 0)));
  const out = frame({ W, H, m, pw, ph, ticks, sx, xFormat, title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, labels: o.rows.map((r) => r.label) });
  // the segments of a series in one group; each row's segments start where the previous series ended
  const starts = o.rows.map(() => 0);
  for (const s of drawn) {
    out.push(`<g class="series" data-name="${escapeXml(s)}">`);
    o.rows.forEach((r, i) => {
      const v = Math.max(0, r.parts.find((p) => p.series === s)?.value ?? 0);
      if (v <= 0) return;
      const x = sx(starts[i]);
      const y = m.top + i * ROW + (ROW - BAR) / 2;
      out.push(`<rect x="${r1(x)}" y="${r1(y)}" width="${r1(Math.max(0.5, sx(starts[i] + v) - x))}" height="${BAR}" fill="${color(s)}"><title>${escapeXml(`${r.label} · ${s}: ${xFormat(v)}`)}</title></rect>`);
      starts[i] += v;
    });
    out.push('</g>');
  }
  o.rows.forEach((r, i) => out.push(`<text x="${r1(sx(totals[i]) + 6)}" y="${m.top + i * ROW + ROW / 2 + 4}" fill="#222">${escapeXml(r.text)}</text>`));
  out.push('<g class="legend">');
  let lx = m.left;
  for (const s of drawn) {
    out.push(`<rect x="${lx}" y="${H - 22}" width="14" height="12" fill="${color(s)}"/>`, `<text x="${lx + 20}" y="${H - 12}" fill="#222">${escapeXml(s)}</text>`);
    lx += 40 + s.length * 7;
  }
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}
