/**
 * The whole benchmark, end to end, on the local lab: a real control plane,
 * kwok nodes, a real kube-proxy datapath in a network namespace, real tools,
 * a real Temporal dev server and real `netbench worker` processes. No stubs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveConfig } from '../../src/config';
import { runStart } from '../../src/cli/run-input';
import { startResume } from '../../src/cli/resume';
import { buildPlan, roundsOf, scenariosOf } from '../../src/domain/plan';
import type { RunResults } from '../../src/domain/results';
import { SCALE_SCENARIOS } from '../../src/domain/scenarios';
import { SummarySchema } from '../../src/domain/summary-schema';
import { progressQuery } from '../../src/shared';
import { startTemporal } from '../support/temporal';
import { startTestLab, type TestLab } from '../support/lab';
import { eventually } from '../support/workflows';
import { repoRoot } from '../support/binaries';

let env: TestWorkflowEnvironment;
let lab: TestLab;
const workers = new Set<ChildProcess>();

before(async () => {
  [env, lab] = await Promise.all([startTemporal(), startTestLab('e2e')]);
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await lab?.down();
  await env?.teardown();
});

/** A real `netbench worker` process for the lab cluster. */
function startWorker(queue: string): ChildProcess {
  const w = spawn(path.join(repoRoot, 'bin/netbench'), ['worker', '--address', env.address, '--task-queue', queue], {
    env: { ...process.env, KUBECONFIG: lab.info.kubeconfigPath, KUBE_CONTEXT: lab.info.context },
    stdio: ['ignore', 'ignore', process.env.E2E_VERBOSE ? 'inherit' : 'ignore'],
  });
  workers.add(w);
  w.on('exit', () => workers.delete(w));
  return w;
}

async function kill(w: ChildProcess): Promise<void> {
  const gone = new Promise((r) => w.once('exit', r));
  w.kill('SIGKILL');
  await gone;
}

function start(queue: string, env_: Record<string, string>, flags: Record<string, unknown> = {}) {
  const config = resolveConfig({
    env: {
      IPERF_DURATION: '1', FORTIO_DURATION: '2', ROUNDS: '1', ROUND_SLEEP: '0', SETTLE_FACTOR: '0', METRICS_SETTLE_SECS: '0', METRICS_SAMPLES: '1',
      KUBECTL_TIMEOUT: '30', NETBENCH_TASK_QUEUE: queue, ...env_,
    },
    flags,
  });
  const { start: opts, outputDir } = runStart(config, lab.info.context, true);
  return { outputDir, handle: env.client.workflow.start('benchmarkRun', { ...opts, workflowId: `e2e-${randomUUID()}` }) };
}

const dummyCount = async (ns: string) => {
  const core = lab.kubeConfig.makeApiClient(CoreV1Api);
  let n = 0;
  const names = new Set<string>();
  let cont: string | undefined;
  do {
    const page = await core.listNamespacedService({ namespace: ns, limit: 2000, _continue: cont });
    for (const s of page.items) if (s.metadata?.name?.startsWith('dummy-svc-')) names.add(s.metadata.name), n++;
    cont = page.metadata?._continue;
  } while (cont);
  return { n, names };
};

describe('the benchmark end to end on the lab (real everything)', () => {
  it('runs every scenario of the plan to a figure or a recorded reason, writes a valid summary, measures convergence, and cleans up', async () => {
    const queue = `e2e-${randomUUID()}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-e2e-'));
    startWorker(queue);
    const { handle } = start(queue, { SVC_SCALE_STEPS: '60,150' }, { dir });
    const h = await handle;
    const r = (await h.result()) as RunResults;

    assert.equal(r.status, 'completed', r.failure);
    assert.equal(r.cluster?.clusterType, 'kubeproxy-iptables');
    const plan = buildPlan(r.options, r.cluster!.clusterType);
    for (const p of plan.phases.filter((x) => x.run && !['service-scale', 'metrics'].includes(x.phase))) {
      for (const s of scenariosOf(p.phase)) {
        for (let round = 1; round <= roundsOf(s, r.options.rounds); round++) {
          const m = r.measurements.find((x) => x.scenario === s.id && x.round === round);
          assert.ok(m, `${s.id} round ${round} has a record`);
          assert.ok(m.ok ? typeof m.value === 'number' : !!m.reason, `${s.id}: a figure or a reason`);
          if (m.ok) assert.ok(existsSync(path.join(dir, m.file)), `raw output ${m.file} kept`);
        }
      }
    }
    for (const p of plan.phases.filter((x) => !x.run)) assert.ok(r.phases.some((x) => x.phase === p.phase && x.status === 'skipped' && x.reason));
    assert.deepEqual(r.scale.steps.map((s) => s.svcCount), [60, 150]);
    for (const st of r.scale.steps) {
      assert.equal(st.measurements.length, SCALE_SCENARIOS.length);
      assert.ok(st.convergence.converged, `step ${st.svcCount} converged: ${st.convergence.reason}`);
      assert.equal(st.convergence.metric, 'kube-services-rules');
      assert.ok(st.convergence.observed >= st.svcCount);
      assert.ok(st.convergence.seconds > 0, 'convergence time was measured');
      assert.ok((st.kubeServicesChain ?? 0) >= st.svcCount, 'KUBE-SERVICES chain counted');
    }
    const failures = [...r.measurements, ...r.scale.steps.flatMap((s) => s.measurements)].filter((m) => !m.ok);
    assert.deepEqual(failures.map((f) => `${f.scenario}: ${f.reason}`), [], 'the lab measures everything');

    const summary = JSON.parse(readFileSync(path.join(dir, 'benchmark-summary.json'), 'utf8'));
    SummarySchema.parse(summary);
    assert.ok(existsSync(path.join(dir, 'report.md')));
    assert.equal(summary.service_scale.steps.length, 2);

    // no secret in any history of the run: the kubeconfig's credentials, private keys, passwords
    const kubeconfig = readFileSync(lab.info.kubeconfigPath, 'utf8');
    const secrets = new Set<string>();
    for (const m of kubeconfig.matchAll(/(client-key-data|client-certificate-data|token|password)"?\s*:\s*"?([^\s",}]+)/g)) {
      secrets.add(m[2]);
      if (m[1].endsWith('-data')) for (const line of Buffer.from(m[2], 'base64').toString('utf8').split('\n')) if (line.length > 40 && !line.startsWith('-----')) secrets.add(line);
    }
    assert.ok(secrets.size > 0, 'the lab kubeconfig has credentials to look for');
    const ids = [h.workflowId, ...r.scale.steps.map((st) => `${h.workflowId}/scale-${st.svcCount}`)];
    for (const id of ids) {
      const text = JSON.stringify(await env.client.workflow.getHandle(id).fetchHistory());
      for (const secret of secrets) assert.ok(!text.includes(secret), `a kubeconfig credential is in the history of ${id}`);
      assert.doesNotMatch(text, /PRIVATE KEY|"password"|api[-_]?key/i, `a key or password in the history of ${id}`);
    }

    // cleanup: no benchmark namespace, no dummy Service
    const core = lab.kubeConfig.makeApiClient(CoreV1Api);
    const nss = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.ok(!nss.includes('network-benchmark') && !nss.includes('test-services'), `namespaces left: ${nss.join(', ')}`);
    const left = (await core.listServiceForAllNamespaces({ labelSelector: 'netbench/dummy=true' })).items.length;
    assert.equal(left, 0);
  });

  it('survives SIGKILLed workers (while creating Services, and while a tool runs): exact Service counts, no completed scenario run twice', async () => {
    const queue = `crash-${randomUUID()}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-crash-'));
    const ns = 'nb-crash';
    const svcNs = 'nb-crash-svcs';
    let w = startWorker(queue);
    const { handle } = start(
      queue,
      { SVC_SCALE_STEPS: '300,1500', SVC_CREATE_PARALLEL: '2', FORTIO_DURATION: '3', NETBENCH_SKIP: 'throughput,latency,metrics' },
      { dir, ns, 'svc-namespace': svcNs, 'skip-cleanup': true },
    );
    const h = await handle;
    const kills: string[] = [];

    // 1. kill while the 1500-step's Services are being created
    await eventually(async () => {
      const p = await h.query(progressQuery);
      return p.scaleStep === 1500 && p.waitingFor?.startsWith('creating dummy Services') && p.servicesCreated >= 300;
    }, 180_000, 'creation of step 1500');
    await new Promise((r) => setTimeout(r, 700)); // let some of the step's Services exist
    const partial = (await dummyCount(svcNs)).n;
    await kill(w);
    kills.push(`during creation (${partial} Services existed)`);
    w = startWorker(queue);

    // 2. kill while a tool runs (a fortio run at the 1500 step)
    await eventually(async () => (await h.query(progressQuery)).scenario?.includes('short conn @1500 svc'), 300_000, 'a tool running at step 1500');
    await kill(w);
    kills.push('during fortio short conn @1500');
    w = startWorker(queue);

    const r = (await h.result()) as RunResults;
    assert.equal(r.status, 'completed', r.failure);
    assert.ok(partial > 300 && partial < 1500, `the first kill landed mid-creation (${partial})`);

    // exact counts: every dummy-svc-1..1500 once, each with its EndpointSlice of 4 endpoints
    const { n, names } = await dummyCount(svcNs);
    assert.equal(n, 1500);
    for (let i = 1; i <= 1500; i++) assert.ok(names.has(`dummy-svc-${i}`), `dummy-svc-${i}`);
    const disc = lab.kubeConfig.makeApiClient(DiscoveryV1Api);
    let slices = 0;
    let cont: string | undefined;
    do {
      const page = await disc.listNamespacedEndpointSlice({ namespace: svcNs, limit: 2000, _continue: cont });
      for (const s of page.items) {
        slices++;
        assert.equal(s.endpoints?.length, 4, s.metadata?.name);
      }
      cont = page.metadata?._continue;
    } while (cont);
    assert.equal(slices, 1500);
    assert.deepEqual(r.scale.steps.map((s) => s.created + s.existed), [300, 1200], 'each step accounts for exactly its Services');
    assert.ok(r.scale.steps[1].existed > 0, 'the resumed creation found what the killed worker had made');

    // no completed scenario ran twice: every (scenario, round, step) was scheduled once across parent and children
    const ids = [h.workflowId, `${h.workflowId}/scale-300`, `${h.workflowId}/scale-1500`];
    const seen = new Map<string, number>();
    for (const id of ids) {
      const hist = await env.client.workflow.getHandle(id).fetchHistory();
      for (const e of hist.events ?? []) {
        const a = e.activityTaskScheduledEventAttributes;
        if (a?.activityType?.name !== 'measure') continue;
        const input = JSON.parse(Buffer.from(a.input!.payloads![0].data!).toString());
        const key = `${input.scenario}/${input.round}/${input.step ?? '-'}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
    const twice = [...seen].filter(([, c]) => c > 1);
    assert.deepEqual(twice, [], 'no scenario was scheduled twice');
    const resumed = r.scale.steps[1].measurements.find((m) => m.scenario === 'svc_short_c64');
    assert.ok(resumed?.ok, `the interrupted tool run was retried and measured: ${resumed?.reason}`);
    assert.ok((resumed?.attempts ?? 1) >= 2, 'it took a second attempt');
    console.log(`crash test: kills ${kills.join('; ')}; steps ${r.scale.steps.map((s) => `${s.svcCount}: created ${s.created}, existed ${s.existed}`).join('; ')}; measure activities ${seen.size}, none twice`);

    const core = lab.kubeConfig.makeApiClient(CoreV1Api);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    await core.deleteNamespace({ name: svcNs }).catch(() => undefined);
  });

  it("a user's namespace survives: refused without --use-existing-ns; with it, a run and a cancelled run leave it and the user's objects as they were", async () => {
    const queue = `ns-${randomUUID()}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-userns-'));
    const core = lab.kubeConfig.makeApiClient(CoreV1Api);
    const ns = 'team-a';
    await core.createNamespace({ body: { metadata: { name: ns, labels: { team: 'a', 'pod-security.kubernetes.io/enforce': 'privileged' } } } });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'settings' }, data: { keep: 'me' } } });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
    const snapshot = async () => {
      const n = await core.readNamespace({ name: ns });
      return {
        phase: n.status?.phase,
        labels: n.metadata?.labels,
        cm: (await core.readNamespacedConfigMap({ namespace: ns, name: 'settings' })).data,
        svcs: (await core.listNamespacedService({ namespace: ns })).items.map((x) => x.metadata?.name).sort(),
        pods: (await core.listNamespacedPod({ namespace: ns })).items.map((x) => x.metadata?.name).sort(),
      };
    };
    const before_ = await snapshot();
    const rv = (await core.readNamespace({ name: ns })).metadata?.resourceVersion;
    startWorker(queue);
    const only = { NETBENCH_SKIP: 'throughput,latency,service-scale,metrics' };

    // 1. not told: refused before anything is created
    const refused = await start(queue, only, { dir, ns }).handle;
    await assert.rejects(refused.result(), (e: unknown) => e instanceof WorkflowFailedError && /team-a.*already exists and netbench did not create it/s.test(String((e.cause as Error)?.message)));
    assert.equal((await core.readNamespace({ name: ns })).metadata?.resourceVersion, rv, 'the namespace was not touched');
    assert.deepEqual(await snapshot(), before_);

    // 2. told: the run completes in it, and leaves it as it was
    const ok = await start(queue, only, { dir, ns, 'use-existing-ns': true }).handle;
    const r = (await ok.result()) as RunResults;
    assert.equal(r.status, 'completed', r.failure);
    assert.ok(r.measurements.some((m) => m.ok), 'it measured in the user\'s namespace');
    assert.equal(r.cleanup?.kept?.[0]?.namespace, ns);
    assert.deepEqual(await snapshot(), before_, 'namespace, labels, Pod Security level and the user\'s objects unchanged; netbench\'s pods gone');

    // 3. told, and cancelled in the middle of a measurement: the same
    const c = await start(queue, { ...only, FORTIO_DURATION: '20', KUBECTL_TIMEOUT: '60' }, { dir, ns, 'use-existing-ns': true }).handle;
    await eventually(async () => (await c.query(progressQuery)).phase === 'rps' && !!(await c.query(progressQuery)).scenario, 180_000, 'a fortio run in the user\'s namespace');
    await c.cancel();
    await assert.rejects(c.result(), (e: unknown) => e instanceof WorkflowFailedError);
    assert.deepEqual(await snapshot(), before_, 'after a cancel too');
    await core.deleteNamespace({ name: ns });
  });

  it('resumes a run that failed at a scale step: what it completed is adopted, only the rest is measured, exactly the planned Services exist', async () => {
    const queue = `resume-${randomUUID()}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-resume-'));
    const svcNs = 'nb-resume-svcs';
    const core = lab.kubeConfig.makeApiClient(CoreV1Api);
    startWorker(queue);
    const t0 = Date.now();
    const { handle } = start(queue, { SVC_SCALE_STEPS: '60,150', NETBENCH_SKIP: 'throughput,latency', FORTIO_DURATION: '2' }, { dir, 'svc-namespace': svcNs });
    const h = await handle;
    // The failure a user meets at scale: a quota on Services, put in while the first step measures.
    await eventually(async () => (await h.query(progressQuery)).scaleStep === 60 && !!(await h.query(progressQuery)).scenario, 300_000, 'step 60 measuring');
    await core.createNamespacedResourceQuota({ namespace: svcNs, body: { metadata: { name: 'few-services' }, spec: { hard: { services: '100' } } } });
    const failed = await h.result().then(() => undefined, (e: Error) => e);
    assert.ok(failed instanceof WorkflowFailedError, 'the first run failed');
    const firstSeconds = (Date.now() - t0) / 1000;
    assert.match(String((failed.cause as Error)?.message), /exceeded quota|forbidden/i);
    // the failed run still has its report, and `netbench result` gives it (from the results its worker wrote)
    const res = spawnSync(path.join(repoRoot, 'bin/netbench'), ['result', h.workflowId, '--address', env.address], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stderr, /ended FAILED: its report shows what it measured \(continue it: netbench resume /);
    assert.match(res.stdout, /Benchmark Results Summary/);
    // its cleanup removed the namespace (and the quota with it)
    await eventually(async () => !(await core.listNamespace()).items.some((n) => n.metadata?.name === svcNs), 120_000, 'the failed run cleaned up');

    const t1 = Date.now();
    const resumed = await startResume(env.client, h.workflowId);
    const r = (await resumed.result()) as RunResults;
    const resumeSeconds = (Date.now() - t1) / 1000;
    assert.equal(r.status, 'completed', r.failure);
    assert.equal(r.resumedFrom?.fromWorkflowId, h.workflowId);
    assert.deepEqual(r.resumedFrom?.adoptedSteps, [60]);
    const rps = r.measurements.filter((m) => scenariosOf('rps').some((s) => s.id === m.scenario));
    assert.ok(rps.length > 0 && rps.every((m) => m.adoptedFrom === h.workflowId), 'the RPS figures were adopted');
    assert.deepEqual(r.scale.steps.map((st) => [st.svcCount, st.adoptedFrom ?? 'measured']), [[60, h.workflowId], [150, 'measured']]);
    assert.equal(r.scale.steps[1].created + r.scale.steps[1].existed, 150, 'the missing step re-created every Service up to its count');
    // no scenario ran twice across the two runs
    const seen = new Map<string, number>();
    for (const id of [h.workflowId, `${h.workflowId}/scale-60`, `${h.workflowId}/scale-150`, resumed.workflowId, `${resumed.workflowId}/scale-150`]) {
      const hist = await env.client.workflow.getHandle(id).fetchHistory().catch(() => undefined);
      for (const e of hist?.events ?? []) {
        const a = e.activityTaskScheduledEventAttributes;
        if (a?.activityType?.name !== 'measure') continue;
        const input = JSON.parse(Buffer.from(a.input!.payloads![0].data!).toString());
        if (input.step === 150 && id.startsWith(h.workflowId + '/')) continue; // the failed step never got to measure
        const key = `${input.scenario}/${input.round}/${input.step ?? '-'}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
    assert.deepEqual([...seen].filter(([k, n]) => n > 1 && !k.startsWith('warmup')), [], 'nothing measured twice');
    assert.ok(readFileSync(path.join(dir, 'report.md'), 'utf8').includes(`This run resumed \`${h.workflowId}\``), 'the report says which figures came from which run');
    console.log(`resume: first run ${firstSeconds.toFixed(0)} s until it failed at step 150; resumed run ${resumeSeconds.toFixed(0)} s; adopted ${r.resumedFrom?.adoptedMeasurements} figures and step 60 (~${r.resumedFrom?.secondsSaved} s of measuring saved)`);
  });
});
