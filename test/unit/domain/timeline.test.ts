/** Where the time went: each entry's wall time split, the rest is orchestration, and its share of the total. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { timeSplits } from '../../../src/domain/timeline';

const entry = (name: string, seconds: number, t: Partial<Record<'toolSeconds' | 'createSeconds' | 'convergeSeconds' | 'pauseSeconds', number>> = {}) => ({
  name, startedAt: '2026-12-02T08:00:00Z', seconds, toolSeconds: 0, createSeconds: 0, convergeSeconds: 0, pauseSeconds: 0, ...t,
});

describe('time splits', () => {
  it('the rest of each entry is orchestration; the share is of the total wall time', () => {
    const { rows, total, orchestrationShare } = timeSplits([
      entry('rps', 100, { toolSeconds: 80, pauseSeconds: 15 }),
      entry('service-scale @1000', 50, { toolSeconds: 20, createSeconds: 10, convergeSeconds: 15 }),
    ]);
    assert.deepEqual(rows.map((r) => r.otherSeconds), [5, 5]);
    assert.equal(total.seconds, 150);
    assert.equal(total.toolSeconds, 100);
    assert.equal(orchestrationShare, 10 / 150);
  });
  it('never negative when the parts overlap the wall time (a child step measured in parallel with nothing)', () => {
    const { rows } = timeSplits([entry('x', 10, { toolSeconds: 12 })]);
    assert.equal(rows[0].otherSeconds, 0);
  });
  it('an empty timeline has no share', () => {
    assert.equal(timeSplits([]).orchestrationShare, 0);
  });
});
