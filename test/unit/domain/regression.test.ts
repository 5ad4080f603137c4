/** The regression rule: worse by more than the noise (CI overlap with >= 2 rounds, else a tolerance). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareHeadlines, planKey, type Headline } from '../../../src/domain/regression';
import { estimate } from '../../../src/domain/stats';
import { resolveConfig, toRunOptions } from '../../../src/config';

const h = (key: string, xs: number[], better: 'higher' | 'lower' = 'higher'): Headline => ({ key, label: key, unit: 'req/s', better, est: estimate(xs)! });

describe('regression check', () => {
  it('with one round, a change beyond the tolerance in the bad direction is a regression', () => {
    const r = compareHeadlines([h('rps', [8900]), h('lat', [120], 'lower')], [h('rps', [10000]), h('lat', [100], 'lower')], 10);
    assert.deepEqual(r.regressions.map((c) => [c.key, c.changePct]), [['rps', -11], ['lat', 20]]);
  });
  it('with one round, a change within the tolerance is noise; a better figure is an improvement', () => {
    const r = compareHeadlines([h('rps', [9500]), h('lat', [70], 'lower')], [h('rps', [10000]), h('lat', [100], 'lower')], 10);
    assert.equal(r.regressions.length, 0);
    assert.deepEqual(r.improvements.map((c) => c.key), ['lat']);
  });
  it('with rounds on both sides, overlapping 95% intervals are noise even past the tolerance', () => {
    const wide = compareHeadlines([h('rps', [7000, 9000, 11000])], [h('rps', [9000, 10000, 11000])], 5);
    assert.equal(wide.regressions.length, 0, 'intervals overlap');
    const tight = compareHeadlines([h('rps', [9400, 9410, 9420])], [h('rps', [10000, 10010, 10020])], 50);
    assert.deepEqual(tight.regressions.map((c) => c.basis), ['ci95'], 'separate intervals count even under the tolerance');
  });
  it('plan keys match for the same plan and differ when the plan changes', () => {
    const a = toRunOptions(resolveConfig({ env: {} }));
    assert.equal(planKey(a), planKey({ ...a, ns: 'other', roundSleep: 5 }));
    assert.notEqual(planKey(a), planKey({ ...a, svcScaleSteps: [1000] }));
  });
});
