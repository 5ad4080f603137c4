// Where one run's scale curve crosses another's: interpolated between two
// measured Service counts, exact at a measured count, none when the order
// never flips, and named in words the way the article says it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allCrossings, crossingsOf, crossingText, type Curve } from '../../../src/domain/crossings';

const curve = (name: string, ys: Record<number, number>): Curve => ({ name, points: Object.entries(ys).map(([x, y]) => ({ x: Number(x), y })) });

// the article's short-connection RPS (baseline at 0 Services)
const iptables = curve('iptables', { 0: 31365, 5000: 22237, 10000: 17261, 20000: 12916, 30000: 9057 });
const native = curve('Cilium Native', { 0: 13826, 5000: 12774, 10000: 11895, 20000: 11815, 30000: 10286 });
const overlay = curve('Cilium Overlay', { 0: 14193, 5000: 13122, 10000: 12746, 20000: 13080, 30000: 12879 });

describe('crossingsOf', () => {
  it('finds the crossing between two steps and interpolates it linearly', () => {
    const [c, ...more] = crossingsOf(iptables, overlay, 'higher');
    assert.equal(more.length, 0);
    assert.equal(c.loser, 'iptables');
    assert.equal(c.winner, 'Cilium Overlay');
    assert.deepEqual([c.from, c.to, c.exact], [10000, 20000, false]);
    // difference 4,515 at 10,000 and -164 at 20,000: zero at 10,000 + 10,000 × 4,515 / 4,679
    assert.ok(Math.abs(c.at - (10000 + (10000 * 4515) / 4679)) < 1e-9);
    assert.equal(
      crossingText(c, 'short-connection RPS', 'higher'),
      "iptables short-connection RPS falls below Cilium Overlay's between 10,000 and 20,000 Services, at about 19,600 by linear interpolation",
    );
  });

  it('is symmetric: the run that loses the lead is named first whichever curve comes first', () => {
    const [c] = crossingsOf(overlay, iptables, 'higher');
    assert.deepEqual([c.loser, c.winner, c.from, c.to], ['iptables', 'Cilium Overlay', 10000, 20000]);
  });

  it('finds no crossing when the order never flips', () => {
    assert.deepEqual(crossingsOf(native, overlay, 'higher'), []);
    assert.deepEqual(crossingsOf(curve('a', { 0: 5, 10: 4 }), curve('b', { 0: 3, 10: 2 }), 'higher'), []);
  });

  it('finds no crossing where the curves touch and part in the same order', () => {
    assert.deepEqual(crossingsOf(curve('a', { 0: 10, 5: 8, 10: 9 }), curve('b', { 0: 7, 5: 8, 10: 6 }), 'higher'), []);
  });

  it('puts a crossing exactly at a step where both measured the same figure and the order flips', () => {
    const a = curve('iptables', { 0: 30000, 5000: 20000, 10000: 15000, 20000: 9000 });
    const b = curve('Cilium', { 0: 14000, 5000: 14500, 10000: 15000, 20000: 14000 });
    const [c, ...more] = crossingsOf(a, b, 'higher');
    assert.equal(more.length, 0);
    assert.deepEqual([c.from, c.to, c.at, c.exact, c.value], [10000, 10000, 10000, true, 15000]);
    assert.equal(
      crossingText(c, 'short-connection RPS', 'higher'),
      "iptables short-connection RPS falls below Cilium's exactly at 10,000 Services, where both measured 15,000",
    );
  });

  it('compares only the Service counts both curves measured', () => {
    const a = curve('a', { 0: 10, 5000: 8, 10000: 3 });
    const b = curve('b', { 0: 5, 10000: 6 }); // no 5000 step
    const [c] = crossingsOf(a, b, 'higher');
    assert.deepEqual([c.from, c.to], [0, 10000]);
    assert.match(crossingText(c, 'RPS', 'higher'), /between the small-scale baseline and 10,000 Services/);
  });

  it('reads a lower-is-better figure the other way: the run that was lower rises above', () => {
    const ipt = curve('iptables', { 0: 487, 10000: 610, 30000: 980 });
    const cil = curve('Cilium Overlay', { 0: 558, 10000: 566, 30000: 575 });
    const [c] = crossingsOf(ipt, cil, 'lower');
    assert.deepEqual([c.loser, c.winner, c.from, c.to], ['iptables', 'Cilium Overlay', 0, 10000]);
    assert.match(crossingText(c, 'TCP_CRR p99', 'lower', (v) => `${v} µs`), /^iptables TCP_CRR p99 rises above Cilium Overlay's between the small-scale baseline and 10,000 Services, at about 6,200 by/);
  });

  it('finds several crossings of one pair, in order', () => {
    const cs = crossingsOf(curve('a', { 0: 10, 1: 5, 2: 10 }), curve('b', { 0: 7, 1: 7, 2: 7 }), 'higher');
    assert.deepEqual(cs.map((c) => [c.loser, c.from, c.to]), [['a', 0, 1], ['b', 1, 2]]);
  });
});

describe('allCrossings', () => {
  it("names the article's crossings of the three clusters, ordered by Service count", () => {
    const cs = allCrossings([iptables, native, overlay], 'higher');
    assert.deepEqual(cs.map((c) => `${c.loser} < ${c.winner} in ${c.from}..${c.to}`), [
      'iptables < Cilium Overlay in 10000..20000',
      'iptables < Cilium Native in 20000..30000',
    ]);
  });

  it("says when the crossing is within the noise, and spells a name ending in s as the possessive it is", () => {
    const a: Curve = { name: 'iptables', points: [{ x: 0, y: 3381, ci95: 130 }, { x: 500, y: 2728, ci95: 4009 }, { x: 2000, y: 2298, ci95: 2205 }] };
    const b: Curve = { name: 'nftables', points: [{ x: 0, y: 1983, ci95: 5076 }, { x: 500, y: 2224, ci95: 509 }, { x: 2000, y: 3490, ci95: 2667 }] };
    const [c] = crossingsOf(a, b, 'higher');
    assert.equal(c.withinNoise, true);
    assert.equal(crossingText(c, 'short-conn RPS', 'higher'), "iptables short-conn RPS falls below nftables' between 500 and 2,000 Services, at about 900 by linear interpolation (within the noise: the 95% intervals overlap on both sides)");
    // separated intervals: a crossing beyond the noise says nothing more
    const tight = (cv: Curve): Curve => ({ ...cv, points: cv.points.map((p) => ({ ...p, ci95: 1 })) });
    assert.equal(crossingsOf(tight(a), tight(b), 'higher')[0].withinNoise, undefined);
  });
});
