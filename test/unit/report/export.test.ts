// `netbench export`: every measurement of a run as one row, failed ones with
// their reason; a reference summary gives what it kept. CSV for spreadsheets
// (RFC 4180 quoting), JSON for dashboards; the real CLI writes them.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EXPORT_COLUMNS, resultRows, rowsCsv, rowsJson, summaryRows } from '../../../src/report/export';
import { writeRunFiles } from '../../../src/report/files';
import { readReferenceSummary } from '../../../src/report/reference';
import { repoRoot } from '../../support/binaries';
import { A, failed, makeRun } from '../../support/report-fixtures';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'nb-export-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const runWithFailure = () => {
  const r = makeRun(A, { rounds: 2 });
  r.scale.steps[1].measurements.push(failed('svc_short_c64', 'fortio: "no requests", exit 1', { round: 3, step: 10000 }));
  return r;
};

describe('export rows', () => {
  it('one row per tool run, scale steps included, failures with their reason', () => {
    const r = runWithFailure();
    const rows = resultRows(r);
    assert.equal(rows.length, r.measurements.length + r.scale.steps.reduce((a, s) => a + s.measurements.length, 0));
    const first = rows[0];
    assert.deepEqual(first, { scenario: 'node_level_8stream', title: 'Node hostNet (8 streams)', phase: 'throughput', step: null, round: 1, value: first.value, unit: 'Gbps', file: 'throughput/node_throughput_r1.json', ok: true, reason: '' });
    const bad = rows.find((x) => !x.ok)!;
    assert.deepEqual([bad.scenario, bad.phase, bad.step, bad.round, bad.value, bad.unit, bad.file, bad.reason], ['svc_short_c64', 'service-scale', 10000, 3, null, 'req/s', 'service-scale/short_at_10000svc_r3.json', 'fortio: "no requests", exit 1']);
  });

  it('CSV quotes what needs quoting; JSON keeps the column order', () => {
    const rows = resultRows(runWithFailure());
    const csv = rowsCsv(rows);
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], EXPORT_COLUMNS.join(','));
    assert.equal(lines.length, rows.length + 1);
    assert.ok(lines.some((l) => l.endsWith(',false,"fortio: ""no requests"", exit 1"')));
    const json = JSON.parse(rowsJson(rows)) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(json[0]), [...EXPORT_COLUMNS]);
  });

  it("a reference summary: throughput and RPS per round with the reference's raw files, the rest as averages", () => {
    const ref = readReferenceSummary(JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/reference/overlay-multi-step/benchmark-summary.json'), 'utf8')), 'x');
    const rows = summaryRows(ref.summary);
    const short = rows.filter((r) => r.scenario === 'svc_short_c64');
    assert.deepEqual(short.map((r) => [r.step, r.round, r.value, r.file]), [
      [null, 1, 15112, 'rps/svc_short_c64_r1.json'],
      [null, 2, 14928, 'rps/svc_short_c64_r2.json'],
      [5000, null, 14310, ''],
      [10000, null, 13950, ''],
      [20000, null, 13610, ''],
      [30000, null, 13420, ''],
    ]);
    assert.ok(rows.some((r) => r.scenario === 'tcp_crr' && r.step === null && r.value === 571 && r.unit === 'µs'));
  });
});

describe('netbench export (the CLI)', () => {
  const bin = path.join(repoRoot, 'bin/netbench');
  it('writes CSV or JSON of a run directory, to stdout or --out', async () => {
    const dir = path.join(tmp, 'run');
    const r = runWithFailure();
    await writeRunFiles(dir, { ...r, outputDir: dir });
    const csv = execFileSync(bin, ['export', dir, '--format', 'csv'], { encoding: 'utf8' });
    assert.equal(csv, rowsCsv(resultRows(r)));
    const out = path.join(tmp, 'rows.json');
    execFileSync(bin, ['export', dir, '--format', 'json', '--out', out], { encoding: 'utf8' });
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as unknown[]).length, resultRows(r).length);
  });

  it('--help, and bad input exits 2 naming every problem', () => {
    const help = spawnSync(bin, ['export', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--format csv\|json/);
    const bad = spawnSync(bin, ['export', '--format', 'xml'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /exactly one run directory.*--format must be csv or json, not "xml"/);
    const missing = spawnSync(bin, ['export', path.join(tmp, 'nope'), '--format', 'csv'], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no such file or directory/);
  });
});
