/**
 * The scenario catalogue is the single source of what is said about a
 * scenario: every row names its tool, target, unit and better direction
 * once; scale-step rows are fixed-phase rows measured again; raw files keep
 * the reference's layout.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baselineOf, GLANCE_AT_SCALE, headlineText, rawFile, SCALE_SCENARIOS, scenarioById, SCENARIOS, UNITS, WARMUP } from '../../../src/domain/scenarios';

describe('scenario catalogue', () => {
  it('places raw outputs in the reference\'s layout', () => {
    const names = SCENARIOS.map((s) => rawFile(s, 2));
    assert.ok(names.includes('throughput/node_throughput_r2.json'));
    assert.ok(names.includes('rps/svc_short_c64_r2.json'));
    assert.ok(names.includes('latency/tcp_crr_r2.txt'));
    assert.ok(names.includes('hubble/hubble_off.json'));
    assert.ok(names.includes('networkpolicy/l7_policy.json'));
    assert.equal(rawFile(scenarioById('short'), 1, 20000), 'service-scale/short_at_20000svc_r1.json');
    assert.equal(rawFile(scenarioById('crr'), 3, 5000), 'service-scale/crr_at_5000svc_r3.txt');
  });

  it('names every scenario once, with a unit and a better direction', () => {
    const all = [...SCENARIOS, ...SCALE_SCENARIOS, WARMUP];
    assert.equal(new Set(all.map((s) => s.id)).size, all.length);
    for (const s of all) {
      assert.ok(s.unit in UNITS, `${s.id}: unit ${s.unit}`);
      assert.ok(s.better === 'higher' || s.better === 'lower');
      for (const f of s.figures ?? []) assert.ok(f.unit in UNITS, `${s.id}.${f.key}: unit ${f.unit}`);
    }
    const keys = SCENARIOS.flatMap((s) => (s.figures ?? []).map((f) => f.key));
    assert.equal(new Set(keys).size, keys.length, 'latency summary keys are unique');
  });

  it('measures at each scale step the fixed-phase scenarios it compares with', () => {
    for (const s of SCALE_SCENARIOS) {
      const base = baselineOf(s.id);
      assert.ok(base, `${s.id} measures a fixed-phase scenario again`);
      assert.equal(s.tool, base.tool);
      assert.equal(s.target, base.target);
      assert.equal(s.phase, 'service-scale');
    }
    assert.equal(baselineOf('short')?.id, 'svc_short_c64');
    assert.equal(GLANCE_AT_SCALE.id, 'short', 'the At-a-glance table follows short connections at scale (the article\'s pivot)');
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
