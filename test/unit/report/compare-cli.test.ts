// `netbench compare` as a user runs it: a netbench run directory, the
// reference script's result directory and an older-format summary file in
// one command; the terminal shows the table and the crossings, compare.md and
// compare.html are written to --out.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { writeRunFiles } from '../../../src/report/files';
import { repoRoot } from '../../support/binaries';
import { A, makeRun } from '../../support/report-fixtures';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'nb-compare-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const bin = path.join(repoRoot, 'bin/netbench');
const ref = path.join(repoRoot, 'test/fixtures/reference');

describe('netbench compare (the CLI)', () => {
  it('compares a netbench run with the reference in both formats, mixed, and names the crossings', async () => {
    const run = path.join(tmp, 'run-a');
    await writeRunFiles(run, { ...makeRun(A, { rounds: 3 }), outputDir: run });
    const out = path.join(tmp, 'out');
    const p = spawnSync(bin, ['compare', run, `Overlay=${path.join(ref, 'overlay-multi-step')}`, path.join(ref, 'iptables-single-step/benchmark-summary.json'), '--out', out], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /│ Dimension +│ iptables \(cluster-a-iptables\) +│ +Overlay │ iptables \(old-script-iptables\) +│ Winner/);
    assert.match(p.stdout, /Read from .*netbench run .*reference script \(multi-step summary\) .*reference script \(single-step summary\)/);
    assert.match(p.stdout, /── Crossings ──\n {4}iptables \(cluster-a-iptables\) short-conn RPS falls below Overlay's between 10,000 and 20,000 Services, at about [\d,]+ by linear interpolation\./);
    for (const f of ['compare.md', 'compare.html', 'compare-scale-chart.svg']) assert.ok(existsSync(path.join(out, f)), f);
    assert.match(readFileSync(path.join(out, 'compare.md'), 'utf8'), /## Crossings/);
  });

  it('says which argument is not a run', () => {
    const p = spawnSync(bin, ['compare', path.join(ref, 'overlay-multi-step'), path.join(tmp, 'nowhere')], { encoding: 'utf8' });
    assert.equal(p.status, 1);
    assert.match(p.stderr, /nowhere: no such file or directory/);
  });
});
