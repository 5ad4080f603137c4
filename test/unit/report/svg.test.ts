// The SVG line chart: well-formed XML (checked by a small tag-balance parser),
// one polyline per series inside the canvas, legend, escaping, nice ticks.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeXml, lineChart, niceTicks } from '../../../src/report/svg';
import { assertWellFormedSvg } from '../../support/svg-check';

const attr = (tag: string, name: string) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];

describe('lineChart', () => {
  const svg = lineChart({
    title: 'Service scale: RPS vs Service count — A & B <test>',
    xLabel: 'Services',
    yLabel: 'req/s',
    xTicks: [{ value: 0, label: 'baseline' }, { value: 5000 }, { value: 10000 }, { value: 20000 }, { value: 30000 }],
    series: [
      { name: 'Short connection', points: [{ x: 0, y: 31365 }, { x: 5000, y: 22237 }, { x: 10000, y: 17261 }, { x: 20000, y: 12916 }, { x: 30000, y: 9057 }] },
      { name: 'Keepalive', points: [{ x: 0, y: 115434 }, { x: 5000, y: 115203 }, { x: 30000, y: 114626 }] },
      { name: 'Only one point "quoted"', points: [{ x: 10000, y: 50000 }] },
    ],
  });

  it('is well-formed SVG at 720x360', () => {
    assertWellFormedSvg(svg);
    assert.match(svg, /width="720" height="360" viewBox="0 0 720 360"/);
  });

  it('has one polyline per series, with every point inside the canvas', () => {
    const polylines = svg.match(/<polyline [^>]*\/>/g) ?? [];
    assert.equal(polylines.length, 3);
    const counts = polylines.map((p) => attr(p, 'points')!.split(' ').filter(Boolean).length);
    assert.deepEqual(counts, [5, 3, 1]);
    for (const p of polylines) {
      for (const pair of attr(p, 'points')!.split(' ')) {
        const [x, y] = pair.split(',').map(Number);
        assert.ok(x >= 0 && x <= 720 && y >= 0 && y <= 360, `point ${pair} outside`);
      }
    }
  });

  it('draws a falling series downwards (SVG y grows down) and starts y at 0', () => {
    const first = (svg.match(/<polyline [^>]*\/>/g) ?? [])[0] ?? assert.fail('no polyline');
    const short = attr(first, 'points')!.split(' ').map((p) => p.split(',').map(Number));
    for (let i = 1; i < short.length; i++) {
      assert.ok(short[i][0] > short[i - 1][0], 'x ascends');
      assert.ok(short[i][1] > short[i - 1][1], 'lower RPS is drawn lower');
    }
    assert.ok(svg.includes('>0</text>'), 'a 0 tick on y');
    assert.ok(svg.includes('>125,000</text>'), 'y ticks with separators, above the maximum');
  });

  it('labels axes, ticks and a legend entry per series, escaping text', () => {
    assert.ok(svg.includes('>baseline</text>'));
    assert.ok(svg.includes('>30,000</text>'));
    assert.ok(svg.includes('A &amp; B &lt;test&gt;'));
    const legend = svg.slice(svg.indexOf('<g class="legend">'));
    for (const name of ['Short connection', 'Keepalive', 'Only one point &quot;quoted&quot;']) assert.ok(legend.includes(`>${name}</text>`), name);
  });

  it('wraps a long legend onto more rows and grows the bottom margin', () => {
    const many = lineChart({
      title: 't',
      series: Array.from({ length: 8 }, (_, i) => ({ name: `cluster number ${i} with a long name`, points: [{ x: 0, y: i }, { x: 1, y: i + 1 }] })),
    });
    assertWellFormedSvg(many);
    const ys = new Set([...many.slice(many.indexOf('<g class="legend">')).matchAll(/<text x="[\d.]+" y="([\d.]+)"/g)].map((m) => m[1]));
    assert.ok(ys.size >= 2, 'several legend rows');
    for (const y of ys) assert.ok(Number(y) < 360);
  });

  it('the well-formedness check itself rejects broken SVG', () => {
    const head = '<svg xmlns="http://www.w3.org/2000/svg">';
    assert.throws(() => assertWellFormedSvg(`${head}<g></svg>`));
    assert.throws(() => assertWellFormedSvg(`${head}<text>a & b</text></svg>`));
    assert.throws(() => assertWellFormedSvg(`${head}<line x1=1/></svg>`));
    assert.throws(() => assertWellFormedSvg(`${head}</svg><svg xmlns="http://www.w3.org/2000/svg"></svg>`));
    assertWellFormedSvg(`${head}<g><text>a &amp; b</text></g></svg>`);
  });

  it('renders an empty chart without throwing', () => {
    assertWellFormedSvg(lineChart({ title: 'empty', series: [] }));
  });
});

describe('lineChart whiskers, second tick lines and markers', () => {
  const chart = () =>
    lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 'a', points: [{ x: 0, y: 100, lo: -50, hi: 250 }, { x: 10, y: 80, lo: 70, hi: 90, note: '± 10 (n=3)' }] }],
      xTicks: [{ value: 0, label: 'baseline' }, { value: 10, label: '10\nsync 2 s' }],
      markers: [{ x: 5, label: 'b overtakes a ≈ 5' }],
    });
  it('draws a whisker per interval, never below 0 for a quantity that cannot be negative', () => {
    const svg = chart();
    assertWellFormedSvg(svg);
    assert.equal((svg.match(/class="whisker"/g) ?? []).length, 2);
    assert.ok(!/>-\d/.test(svg), 'no negative tick');
    assert.match(svg, /a @ 10: 80 ± 10 \(n=3\)/);
  });
  it('puts a tick label\'s second line under it, and marks a crossing', () => {
    const svg = chart();
    assert.match(svg, />10<tspan [^>]*>sync 2 s<\/tspan><\/text>/);
    assert.match(svg, /<g class="marker">.*b overtakes a ≈ 5<\/text><\/g>/);
    assert.match(svg, /class="x-label"[^>]*>x</);
    assert.match(svg, /class="y-label"[^>]*>y</);
  });
});

describe('niceTicks', () => {
  it('covers the range with 1/2/2.5/5 x 10^k steps', () => {
    assert.deepEqual(niceTicks(0, 115434), [0, 25000, 50000, 75000, 100000, 125000]);
    assert.deepEqual(niceTicks(0, 31365, 4), [0, 10000, 20000, 30000, 40000]);
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(5, 5), [5, 6, 7, 8, 9, 10]);
  });
  it('escapes XML specials', () => {
    assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
