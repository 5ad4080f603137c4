/**
 * The scenario catalogue is the single source of what is said about a
 * scenario: every row names its tool, target, unit and better direction
 * once; scale-step rows are fixed-phase rows measured again; raw files keep
 * the reference's layout.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baselineOf, canonicalId, GLANCE_AT_SCALE, headlineText, isMeasurementOf, OVERHEAD_PHASES, OVERHEAD_ROUNDS_PATCH, overheadPhase, rawFile, roundsOf, SCALE_SCENARIOS, scenarioById, SCENARIOS, UNITS, WARMUP } from '../../../src/domain/scenarios';

describe('scenario catalogue', () => {
  it('places raw outputs in the reference\'s layout', () => {
    const names = SCENARIOS.map((s) => rawFile(s, 2));
    assert.ok(names.includes('throughput/node_throughput_r2.json'));
    assert.ok(names.includes('rps/svc_short_c64_r2.json'));
    assert.ok(names.includes('latency/tcp_crr_r2.txt'));
    // the overhead configurations: round 1 where the reference ran them once, later rounds (0.5 on) beside it
    assert.equal(rawFile(scenarioById('hubble_off'), 1), 'hubble/hubble_off.json');
    assert.equal(rawFile(scenarioById('l7_policy'), 1), 'networkpolicy/l7_policy.json');
    assert.ok(names.includes('hubble/hubble_off_r2.json'));
    assert.ok(names.includes('networkpolicy/l7_policy_r2.json'));
    assert.equal(rawFile(scenarioById('short'), 1, 20000), 'service-scale/short_at_20000svc_r1.json');
    assert.equal(rawFile(scenarioById('crr'), 3, 5000), 'service-scale/crr_at_5000svc_r3.txt');
    assert.equal(rawFile(scenarioById('tcp_crr'), 3, 5000), 'service-scale/crr_at_5000svc_r3.txt', 'a step\'s measurement keeps its v0.1 file name');
  });

  it('repeats the overhead configurations ROUNDS times, once in a run that predates their patch', () => {
    const ids = OVERHEAD_PHASES.flatMap((o) => o.rows.map((s) => s.id));
    assert.deepEqual(ids, ['hubble_on', 'hubble_off', 'no_policy', 'l3l4_policy', 'l7_policy']);
    for (const id of ids) {
      const s = scenarioById(id);
      assert.equal(s.roundsSince, OVERHEAD_ROUNDS_PATCH, id);
      assert.equal(roundsOf(s, 3), 3, id);
      assert.equal(roundsOf(s, 3, (p) => p !== OVERHEAD_ROUNDS_PATCH), 1, `${id} before the patch`);
    }
    // no other row depends on the patch
    for (const s of SCENARIOS.filter((x) => !ids.includes(x.id))) assert.equal(roundsOf(s, 3, () => false), 3, s.id);
  });

  it('names every scenario once, with a unit and a better direction', () => {
    const all = [...SCENARIOS, ...SCALE_SCENARIOS, WARMUP];
    const fixed = [...SCENARIOS, WARMUP];
    assert.equal(new Set(fixed.map((s) => s.id)).size, fixed.length);
    assert.equal(new Set(SCALE_SCENARIOS.map((s) => s.id)).size, SCALE_SCENARIOS.length);
    for (const s of all) {
      assert.ok(s.unit in UNITS, `${s.id}: unit ${s.unit}`);
      assert.ok(s.better === 'higher' || s.better === 'lower');
      for (const f of s.figures ?? []) assert.ok(f.unit in UNITS, `${s.id}.${f.key}: unit ${f.unit}`);
    }
    const keys = SCENARIOS.flatMap((s) => (s.figures ?? []).map((f) => f.key));
    assert.equal(new Set(keys).size, keys.length, 'latency summary keys are unique');
  });

  it('pairs every overhead treatment with its phase\'s one baseline, under keys of their own', () => {
    assert.deepEqual(OVERHEAD_PHASES.map((o) => [o.phase, o.baseline.id, o.treatments.map((t) => t.id)]), [
      ['hubble', 'hubble_off', ['hubble_on']],
      ['networkpolicy', 'no_policy', ['l3l4_policy', 'l7_policy']],
    ]);
    for (const o of OVERHEAD_PHASES) {
      assert.deepEqual(o.rows, SCENARIOS.filter((s) => s.phase === o.phase), `${o.phase}: every row of an overhead phase is a baseline or a treatment`);
      const keys = o.rows.flatMap((s) => [s.overhead.key, ...(s.overhead.role === 'treatment' ? [s.overhead.pctKey] : [])]);
      assert.equal(new Set(keys).size, keys.length, `${o.phase}: summary keys are unique`);
    }
    const glance = OVERHEAD_PHASES.flatMap((o) => o.treatments.map((t) => t.overhead.glance.key));
    assert.equal(new Set(glance).size, glance.length);
    assert.throws(() => overheadPhase('rps'), /no overhead rows/);
  });

  it('measures at each scale step fixed-phase scenarios again, under the same ids', () => {
    for (const s of SCALE_SCENARIOS) {
      const base = baselineOf(s.id);
      assert.ok(base, `${s.id} measures a fixed-phase scenario again`);
      assert.equal(base.id, s.id);
      const { phase, title, rawName, atScale, repeat, ...same } = s;
      const { phase: _p, title: _t, rawName: _r, headline: _h, glance: _g, figures: _f, repeat: _rep, ...fixed } = base;
      assert.deepEqual(same, fixed, `${s.id}: same tool, target and parameters`);
      assert.equal(phase, 'service-scale');
      assert.ok(title && rawName && atScale && repeat);
      assert.equal(scenarioById(s.id, 5000), s);
    }
    assert.equal(GLANCE_AT_SCALE.id, 'svc_short_c64', 'the At-a-glance table follows short connections at scale (the article\'s pivot)');
  });

  it('reads the ids scale-step measurements had before v0.3 as the catalogue ids', () => {
    for (const [old, id] of [['ka', 'svc_c64'], ['short', 'svc_short_c64'], ['crr', 'tcp_crr'], ['rr', 'tcp_rr']]) {
      assert.equal(canonicalId(old, 5000), id);
      assert.equal(scenarioById(old), scenarioById(id, 5000));
      assert.ok(isMeasurementOf({ scenario: old, step: 5000 }, id, 5000));
    }
    assert.equal(canonicalId('short'), 'short', 'outside a step an id is what it says');
    assert.ok(!isMeasurementOf({ scenario: 'svc_c64' }, 'svc_c64', 5000), 'a fixed-phase measurement is not a step\'s');
  });

  it('spells a measurement\'s headline for the progress display', () => {
    const ok = (value: number, figures: Record<string, number> = {}) => ({ ok: true, value, figures });
    assert.equal(headlineText(scenarioById('pod2pod_8stream'), ok(10.434)), '10.43 Gbps');
    assert.equal(headlineText(scenarioById('svc_short_c64'), ok(31365.4)), '31,365 req/s');
    assert.equal(headlineText(scenarioById('tcp_crr'), ok(600.6)), 'p99 601 µs');
    assert.equal(headlineText(scenarioById('http_1k_qps'), ok(999.9, { p99Ms: 1.666 })), 'p99 1.67 ms');
    assert.equal(headlineText(scenarioById('short'), { ok: false, reason: 'server unreachable' }), 'failed: server unreachable');
  });
});
