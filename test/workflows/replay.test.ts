/**
 * Safe upgrades: every recorded history under test/histories/ (runs of
 * earlier releases' workflows) must replay on the current workflow code
 * without a non-determinism error. Record new ones with
 * NETBENCH_RECORD_HISTORIES=1 node --import tsx --test test/workflows/benchmark.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never;
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { repoRoot } from '../support/binaries';
import { workflowBundle } from '../support/workflows';

const dir = path.join(repoRoot, 'test/histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json').sort();
/** file -> the recorded run's workflow id (child ids derive from it) */
const ids: Record<string, string> = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));

describe('recorded histories replay on the current workflow code', () => {
  it('rejects an incompatible change (the check can fail)', async () => {
    const f = files.find((x) => x.includes('kubeproxy-iptables'))!;
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.join(repoRoot, 'test/support/incompatible-benchmark.ts'), logger: quiet });
    await assert.rejects(Worker.runReplayHistory({ workflowBundle }, history, ids[f]), DeterminismViolationError);
  });

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 3, `expected recorded histories in ${dir}`);
  });
  for (const f of files) {
    it(`replays ${f}`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
      assert.ok(ids[f], `${f} has no workflow id in index.json`);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, ids[f]);
    });
  }
});
