/** loadKubeConfig: $KUBECONFIG may list several files, merged as kubectl merges them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadKubeConfig } from '../../src/kube/client';

const dir = mkdtempSync(path.join(os.tmpdir(), 'nb-kc-'));
function file(name: string, server: string): string {
  const p = path.join(dir, name);
  writeFileSync(
    p,
    `apiVersion: v1\nkind: Config\nclusters: [{name: ${name}, cluster: {server: "${server}"}}]\nusers: [{name: ${name}-u, user: {token: t}}]\ncontexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}-u}}]\ncurrent-context: ${name}\n`,
  );
  return p;
}

describe('loadKubeConfig with several files', () => {
  const a = file('lab-a', 'https://127.0.0.1:1001');
  const b = file('lab-b', 'https://127.0.0.1:1002');
  const c = file('lab-c', 'https://127.0.0.1:1003');

  it('merges every file of a ":"-separated list; the first file names the current context', () => {
    const kc = loadKubeConfig({ kubeconfigPath: [a, b, c].join(path.delimiter) });
    assert.deepEqual(kc.getContexts().map((x) => x.name), ['lab-a', 'lab-b', 'lab-c']);
    assert.equal(kc.getCurrentContext(), 'lab-a');
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:1001');
  });

  it('selects a context from a later file', () => {
    const kc = loadKubeConfig({ kubeconfigPath: `${a}${path.delimiter}${c}`, context: 'lab-c' });
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:1003');
  });

  it('names the contexts it knows when asked for another', () => {
    assert.throws(() => loadKubeConfig({ kubeconfigPath: `${a}${path.delimiter}${b}`, context: 'lab-z' }), /kube context "lab-z" not found; known contexts: lab-a, lab-b/);
  });
});
