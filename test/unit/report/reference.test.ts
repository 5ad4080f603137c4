// The reference script's results read as netbench reads its own: both
// formats of its benchmark-summary.json (the current multi-step one and the
// older single-step one), its result directory with context.yaml, and a
// netbench run directory, through the one loader `compare` and `export` use.
// The reference-format files are ours, written from ../shared/REFERENCE.md
// (test/fixtures/reference/README.md).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAnyRun, nameRuns, writeRunFiles } from '../../../src/report/files';
import { parseContextYaml, readReferenceSummary, referenceFormat } from '../../../src/report/reference';
import { viewSummary } from '../../../src/report/summary-view';
import { repoRoot } from '../../support/binaries';
import { A, makeRun } from '../../support/report-fixtures';

const FIX = path.join(repoRoot, 'test/fixtures/reference');
const multiDir = path.join(FIX, 'overlay-multi-step');
const singleFile = path.join(FIX, 'iptables-single-step/benchmark-summary.json');
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as unknown;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'nb-ref-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('readReferenceSummary', () => {
  it('reads the current (multi-step) format as it is', () => {
    const raw = json(path.join(multiDir, 'benchmark-summary.json'));
    assert.equal(referenceFormat(raw), 'multi-step');
    const { format, summary } = readReferenceSummary(raw, 'x');
    assert.equal(format, 'multi-step');
    assert.deepEqual(summary, raw);
    const v = viewSummary(summary);
    assert.deepEqual(v.service_scale.steps!.map((s) => [s.svc_count, s.short_conn_qps]), [[5000, 14310], [10000, 13950], [20000, 13610], [30000, 13420]]);
    assert.deepEqual(v.rps.svc_c64.qps, [97102, 98370]);
  });

  it("reads the older single-step format's flat keys as one step of 1,000 Services", () => {
    const raw = json(singleFile);
    assert.equal(referenceFormat(raw), 'single-step');
    const { format, summary } = readReferenceSummary(raw, 'x');
    assert.equal(format, 'single-step');
    assert.deepEqual(summary.service_scale, {
      keepalive_baseline_qps: 60412,
      short_conn_baseline_qps: 18730,
      steps: [{ svc_count: 1000, keepalive_qps: 60105, keepalive_degradation_pct: -0.5, short_conn_qps: 17402, short_conn_degradation_pct: -7.1, rules_count: 9317 }],
    });
    // everything else is kept as written (averages-only resources render as what they have)
    assert.deepEqual(summary.resources, { kubeproxy: { avg_cpu_m: 3.7, avg_mem_mb: 41.2 } });
    assert.equal(viewSummary(summary).cluster.cluster_type, 'kubeproxy-iptables');
  });

  it('refuses what is not a benchmark-summary.json, naming the file', () => {
    assert.throws(() => readReferenceSummary([1, 2], 'a.json'), /a\.json: not a benchmark-summary\.json/);
    assert.throws(() => readReferenceSummary({ schema: 'netbench/run-results@1' }, 'b.json'), /b\.json: not a benchmark-summary/);
  });

  it('parses context.yaml as the reference does: first colon, quotes stripped, strings', () => {
    assert.deepEqual(parseContextYaml('cluster_name: "a:b"\ntest_date: 2026-11-20T03:14:07Z\nnode_count: 3\n\n'), {
      cluster_name: 'a:b',
      test_date: '2026-11-20T03:14:07Z',
      node_count: '3',
    });
  });
});

describe('loadAnyRun', () => {
  it("reads the reference's result directory and its summary file alike", () => {
    const d = loadAnyRun(multiDir);
    assert.equal(d.origin, 'reference multi-step');
    assert.equal(d.results, undefined);
    const f = loadAnyRun(path.join(multiDir, 'benchmark-summary.json'));
    assert.deepEqual(f.summary, d.summary);
    const s = loadAnyRun(singleFile);
    assert.equal(s.origin, 'reference single-step');
    assert.equal(viewSummary(s.summary).service_scale.steps![0].svc_count, 1000);
  });

  it('takes the cluster facts from context.yaml when the summary has none', () => {
    const dir = path.join(tmp, 'no-cluster');
    mkdirSync(dir);
    const raw = json(path.join(multiDir, 'benchmark-summary.json')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'benchmark-summary.json'), JSON.stringify({ ...raw, cluster: {} }));
    writeFileSync(path.join(dir, 'context.yaml'), readFileSync(path.join(multiDir, 'context.yaml')));
    assert.equal(viewSummary(loadAnyRun(dir).summary).cluster.cluster_name, 'lab-overlay');
  });

  it('reads a netbench run directory (or its summary file) as the whole run', async () => {
    const dir = path.join(tmp, 'netbench');
    await writeRunFiles(dir, { ...makeRun(A), outputDir: dir });
    const r = loadAnyRun(dir);
    assert.equal(r.origin, 'netbench');
    assert.ok(r.results);
    assert.equal(loadAnyRun(path.join(dir, 'benchmark-summary.json')).origin, 'netbench');
    // the summary copied away from its run directory is a summary alone
    writeFileSync(path.join(tmp, 'copied.json'), readFileSync(path.join(dir, 'benchmark-summary.json')));
    assert.equal(loadAnyRun(path.join(tmp, 'copied.json')).origin, 'netbench summary');
  });

  it('says what a path is not', () => {
    assert.throws(() => loadAnyRun(path.join(tmp, 'missing')), /no such file or directory/);
    mkdirSync(path.join(tmp, 'empty'));
    assert.throws(() => loadAnyRun(path.join(tmp, 'empty')), /neither a netbench run directory .* nor a result directory of the reference script/);
    writeFileSync(path.join(tmp, 'bad.json'), '{');
    assert.throws(() => loadAnyRun(path.join(tmp, 'bad.json')), /bad\.json: not JSON/);
  });
});

describe('nameRuns', () => {
  it('names columns by datapath, adding the context when two share a label, and a number only when the context repeats too', () => {
    const ref = loadAnyRun(singleFile);
    const a = makeRun(A);
    const names = nameRuns([{ results: a, summary: {} }, ref, { results: a, summary: {} }, { results: a, summary: {}, name: 'mine' }]).map((r) => r.name);
    assert.deepEqual(names, ['iptables (cluster-a-iptables)', 'iptables (old-script-iptables)', 'iptables (cluster-a-iptables #3)', 'mine']);
  });
});
