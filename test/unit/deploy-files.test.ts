/**
 * The container setup stays in step with the code: docker-compose registers
 * exactly the search attributes the workflows use, runs Temporal on
 * PostgreSQL with the Web UI, and mounts the kubeconfig read-only.
 * (No Docker engine here: this checks the files, `docker compose up` is for users.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { SEARCH_ATTRIBUTE_SPECS } from '../../src/shared';
import { repoRoot } from '../support/binaries';

describe('docker-compose.yml', () => {
  const compose = loadYaml<any>(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'));

  it('runs Temporal on PostgreSQL, the Web UI and the netbench worker', () => {
    for (const s of ['postgresql', 'temporal', 'temporal-ui', 'netbench-worker', 'temporal-search-attributes']) assert.ok(compose.services[s], s);
    assert.equal(compose.services.temporal.environment.DB, 'postgres12');
    assert.equal(compose.services['netbench-worker'].build, '.');
  });

  it('registers exactly the search attributes netbench uses', () => {
    const cmd: string = compose.services['temporal-search-attributes'].command.join(' ');
    const pairs = [...cmd.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => `${m[1]}=${m[2]}`).sort();
    assert.deepEqual(pairs, SEARCH_ATTRIBUTE_SPECS.map((s) => `${s.name}=${s.type}`).sort());
  });

  it('mounts the kubeconfig read-only into the worker', () => {
    assert.ok(compose.services['netbench-worker'].volumes.some((v: string) => v.endsWith(':/kube/config:ro')));
  });
});
