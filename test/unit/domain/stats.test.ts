/**
 * Statistics in one place: the reference's rounding, means and 95%
 * intervals across rounds (one sample says so), the change in percent, and
 * the one rule for "larger than the noise".
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { beyondNoise, changePct, estimate, intervalText, pyRound } from '../../../src/domain/stats';

describe('statistics', () => {
  it('rounds half to even like Python on exact ties only', () => {
    assert.equal(pyRound(0.125, 2), 0.12);
    assert.equal(pyRound(0.375, 2), 0.38);
    assert.equal(pyRound(2.675, 2), 2.67, 'binary 2.675 is below the tie, as in Python');
    assert.equal(pyRound(-29.05, 1), -29.1);
  });
  it('gives a 95% interval from 2 samples up and says so with one', () => {
    const e = estimate([100, 110, 105])!;
    assert.equal(e.mean, 105);
    assert.ok(Math.abs(e.ci95! - 12.42) < 0.01);
    assert.equal(estimate([5])!.ci95, undefined);
    assert.equal(intervalText(estimate([5]), 0), '1 sample');
    assert.equal(intervalText(estimate([100, 110, 105]), 1), '± 12.4 (n=3)');
    assert.equal(intervalText(undefined, 0), '');
  });
  it('a difference is beyond the noise when 95% intervals do not overlap, else beyond the tolerance', () => {
    assert.deepEqual(beyondNoise({ mean: 100, ci95: 5 }, { mean: 111, ci95: 5 }, 50), { significant: true, basis: 'ci95' });
    assert.deepEqual(beyondNoise({ mean: 100, ci95: 5 }, { mean: 109, ci95: 5 }, 0), { significant: false, basis: 'ci95' });
    assert.deepEqual(beyondNoise({ mean: 89 }, { mean: 100, ci95: 5 }, 10), { significant: true, basis: 'tolerance' });
    assert.deepEqual(beyondNoise({ mean: 91 }, { mean: 100 }, 10), { significant: false, basis: 'tolerance' });
    assert.deepEqual(beyondNoise({ mean: 1 }, { mean: 0 }, 10), { significant: false, basis: 'tolerance' });
  });
  it('change % is (measured - baseline) / baseline, one decimal', () => {
    assert.equal(changePct(9057, 31365), -71.1);
    assert.equal(changePct(5, 0), undefined);
  });
});

