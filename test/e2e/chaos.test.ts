/**
 * The short subset of the fault campaign (bench/chaos.ts) that `npm test`
 * runs: a worker SIGKILLed during a tool run, the fault proxy between worker
 * and apiserver at a low rate, and a cancel while RPS is measured; on a real
 * Cilium lab, a cancel while a CiliumNetworkPolicy exists. Real labs, each
 * campaign with a dev server of its own with its database file, real `netbench worker`
 * processes. The whole campaign: `npx tsx bench/chaos.ts` (bench/README.md).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { markdownTable, runCampaign } from '../../bench/chaos';

describe('the fault campaign, short subset (bench/chaos.ts)', () => {
  it('a SIGKILL in a tool run and a faulty apiserver path complete with exact Services and nothing measured twice; a cancel leaves nothing behind and writes its report', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? 10);
    const rows = await runCampaign({
      seed,
      only: ['sigkill', 'proxy', 'cancel'],
      kills: 1,
      killsPerRun: 1,
      killKinds: ['tool'],
      rate: 0.03,
      stallMs: 5000,
      outageSec: 0,
      steps: [60, 300],
      cancelPhases: ['rps'],
      port: 7495,
      lab: 'chaos-t',
      keepLab: false,
      env: { NETBENCH_SKIP: 'throughput,latency,metrics' },
    });
    console.log(`chaos subset, seed ${seed}:\n${markdownTable(rows)}\n${rows.flatMap((r) => r.notes).join('\n')}`);
    assert.equal(rows.length, 3);
    const [kill, proxy, cancel] = rows;
    for (const r of [kill, proxy]) {
      assert.match(r.outcome, /^completed/, `${r.fault}: ${r.outcome}`);
      assert.doesNotMatch(r.outcome, /UNEXPECTED/);
      assert.match(r.services, /^60 ✓, 300 ✓; end 0$/, `${r.fault}: exactly the planned Services at each step`);
      assert.equal(r.twice, 'none', `${r.fault}: no scenario measured twice`);
      assert.equal(r.leftovers, 'nothing (report written)', r.fault);
    }
    assert.match(kill.where, /^tool: /, 'the kill landed in a tool run');
    assert.match(kill.retries, /measure/, 'the interrupted tool run was retried');
    assert.match(proxy.notes.join(' '), /injected .*×/, 'the proxy injected faults');
    assert.equal(cancel.outcome, 'cancelled');
    assert.match(cancel.where, /^tool: .*\(rps\)/);
    assert.equal(cancel.leftovers, 'nothing (report written)', 'no namespace, dummy Service, policy, tool process or cilium-config change; report.md written');
  });

  it('on a real Cilium lab, a cancel while a CiliumNetworkPolicy exists leaves no policy, namespace or cilium-config change and writes its report', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? 10);
    const rows = await runCampaign({
      seed,
      only: ['cancel'],
      kills: 0,
      killsPerRun: 1,
      rate: 0,
      outageSec: 0,
      steps: [60],
      cancelPhases: ['networkpolicy'],
      datapath: 'cilium-native',
      probeMs: 50,
      port: 7496,
      lab: 'chaos-tc',
      keepLab: false,
      env: { NETBENCH_SKIP: 'throughput,rps,latency,metrics,hubble' }, // hubble: three agent restarts this test does not need
    });
    console.log(`chaos subset on Cilium, seed ${seed}:\n${markdownTable(rows)}`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].outcome, 'cancelled');
    assert.match(rows[0].where, /^networkpolicy: policyVerdict \(l3l4 policy applied\)/);
    assert.equal(rows[0].leftovers, 'nothing (report written)');
  });
});
