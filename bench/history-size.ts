/**
 * Benchmark (prints figures, not a test): the history of a full default
 * plan — 30,000 Services in 4 steps, ROUNDS=3, a Cilium cluster so every
 * phase runs, LB-map fix automatic — with STUB activities (instant), on a
 * real Temporal dev server. Prints events per execution (parent and each
 * scale-step child) and the largest payload. Targets: < 10,240 events per
 * execution, no payload over 256 KB.
 *
 * Timers keep their count but not their length (ROUND_SLEEP=1 s, settle
 * pauses scaled down): the event count is what matters here.
 *
 *   npx tsx bench/history-size.ts
 */
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { benchmarkRun } from '../src/workflows/benchmark';
import { resolveConfig, toRunOptions } from '../src/config';
import { startTemporal } from '../test/support/temporal';
import { stubActivities } from '../test/support/stub-activities';
import { workflowBundle } from '../test/support/workflows';
import { renderTextTable } from '../src/report/table';

const env = await startTemporal();
try {
  const options = toRunOptions(
    resolveConfig({ env: { ROUND_SLEEP: '1', SETTLE_FACTOR: '0.02', METRICS_SETTLE_SECS: '1', AUTO_FIX_LB_MAP: 'true' } }),
  );
  console.error(`plan: steps ${options.svcScaleSteps.join(',')}, ROUNDS=${options.rounds}, ${options.svcEndpoints} endpoints; cilium-overlay; stub activities`);
  const taskQueue = `hist-${randomUUID()}`;
  const s = stubActivities({ clusterType: 'cilium-overlay', lbMapMax: 65536 });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities: s.activities });
  const started = Date.now();
  const id = `hist-${randomUUID()}`;
  await worker.runUntil(async () => {
    const h = await env.client.workflow.start(benchmarkRun, {
      taskQueue,
      workflowId: id,
      args: [{ options, outputDir: '/tmp/netbench-history-bench', contextName: 'bench', searchAttributes: true }],
    });
    await h.result();
  });
  const ids = [id, ...options.svcScaleSteps.map((n) => `${id}/scale-${n}`)];
  const rows: (string | number)[][] = [];
  let worstEvents = 0;
  let worstPayload = 0;
  for (const wid of ids) {
    const hist = await env.client.workflow.getHandle(wid).fetchHistory();
    const events = hist.events ?? [];
    let maxPayload = 0;
    let maxWhere = '';
    // every payload of every event: the largest one bounds what Temporal must accept (2 MB limit, 256 KB warning)
    const walk = (o: unknown, where: string) => {
      if (!o || typeof o !== 'object') return;
      const p = o as { data?: Uint8Array; metadata?: unknown };
      if (p.data instanceof Uint8Array && p.metadata) {
        if (p.data.length > maxPayload) (maxPayload = p.data.length), (maxWhere = where);
        return;
      }
      for (const [k, v] of Object.entries(o)) walk(v, where || k);
    };
    for (const e of events) walk(e, '');
    worstEvents = Math.max(worstEvents, events.length);
    worstPayload = Math.max(worstPayload, maxPayload);
    rows.push([wid === id ? 'benchmarkRun' : `serviceScaleStep ${wid.split('scale-')[1]}`, events.length, `${(maxPayload / 1024).toFixed(1)} KB`, maxWhere.replace(/EventAttributes$/, '')]);
  }
  console.log(renderTextTable(['execution', { header: 'events', align: 'right' }, { header: 'largest payload', align: 'right' }, 'in'], rows));
  console.log(`measure activities: ${s.calls.filter((c) => c.name === 'measure').length}; Services created (stub): ${s.calls.filter((c) => c.name === 'createDummyServices').reduce((a, c) => a + c.input.to - c.input.from + 1, 0)}`);
  console.log(`worst execution: ${worstEvents} events (limit 10,240: ${worstEvents < 10240 ? 'OK' : 'OVER'}); largest payload ${(worstPayload / 1024).toFixed(1)} KB (limit 256 KB: ${worstPayload < 256 * 1024 ? 'OK' : 'OVER'}); wall ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await env.teardown();
}
