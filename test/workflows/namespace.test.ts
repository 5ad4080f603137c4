/**
 * `netbench setup-namespace` against a real Temporal dev server started
 * WITHOUT netbench's search attributes: the first run registers every one,
 * a second run finds them all, and a name already taken with another type
 * is reported as a conflict and left alone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { missingSearchAttributes } from '../../src/cli/connect';
import { searchAttributeCommand, setupNamespace, setupNamespaceMain } from '../../src/cli/namespace';
import { SEARCH_ATTRIBUTE_SPECS } from '../../src/shared';
import { builtBinary } from '../support/binaries';

const ALL = SEARCH_ATTRIBUTE_SPECS.map((s) => s.name).sort();
/** IndexedValueType numbers as the server lists them. */
const TYPE_NAME: Record<number, string> = { 2: 'Keyword', 3: 'Int', 5: 'Bool' };

describe('setup-namespace on a bare dev server', () => {
  let env: TestWorkflowEnvironment;

  before(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: builtBinary('temporal', 'temporal') },
        ip: '127.0.0.1',
        // a second namespace, where one name gets registered with the wrong type below
        extraArgs: ['--log-level', 'error', '--namespace', 'conflicted'],
      },
    });
    // (the dev server's --search-attribute would register on every namespace)
    await env.client.connection.operatorService.addSearchAttributes({ namespace: 'conflicted', searchAttributes: { NetbenchPhase: 3 as never } });
  });
  after(async () => {
    await env?.teardown();
  });

  async function listed(namespace: string): Promise<Record<string, string>> {
    const r = await env.client.connection.operatorService.listSearchAttributes({ namespace });
    return Object.fromEntries(Object.entries(r.customAttributes ?? {}).map(([k, v]) => [k, TYPE_NAME[Number(v)] ?? String(v)]));
  }

  it('starts without them (so the test can fail)', async () => {
    assert.deepEqual(await missingSearchAttributes(env.client, 'default'), SEARCH_ATTRIBUTE_SPECS.map((s) => s.name));
    const have = await listed('default');
    for (const name of ALL) assert.equal(have[name], undefined, name);
    assert.equal((await listed('conflicted')).NetbenchPhase, 'Int');
  });

  it('registers every search attribute with its type, then finds them all on a second run', async () => {
    const first = await setupNamespace(env.client, 'default');
    assert.deepEqual(first.created.sort(), ALL);
    assert.deepEqual(first.existed, []);
    assert.deepEqual(first.conflicts, []);

    const have = await listed('default');
    for (const s of SEARCH_ATTRIBUTE_SPECS) assert.equal(have[s.name], s.type, s.name);
    assert.deepEqual(await missingSearchAttributes(env.client, 'default'), []);

    const second = await setupNamespace(env.client, 'default');
    assert.deepEqual(second.created, []);
    assert.deepEqual(second.existed.sort(), ALL);
    assert.deepEqual(second.conflicts, []);
  });

  it('reports a name registered with another type as a conflict and leaves it as it is', async () => {
    const r = await setupNamespace(env.client, 'conflicted');
    assert.deepEqual(r.conflicts, ['NetbenchPhase: is Int, netbench needs Keyword']);
    assert.deepEqual(r.created.sort(), ALL.filter((n) => n !== 'NetbenchPhase'));
    assert.equal((await listed('conflicted')).NetbenchPhase, 'Int');
  });

  it('the CLI says what existed and exits 1 on a conflict, 0 otherwise', async () => {
    const out: string[] = [];
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s) };
    const environment = { TEMPORAL_ADDRESS: env.address };
    const ok = await setupNamespaceMain([], environment, io);
    const conflicted = await setupNamespaceMain(['--namespace', 'conflicted'], environment, io);
    const text = out.join('');
    assert.equal(ok, 0, text);
    assert.equal(conflicted, 1, text);
    assert.match(text, /namespace "default" on 127\.0\.0\.1:\d+, namespace default, plaintext\n {2}already there: NetbenchCluster, /);
    assert.match(text, /CONFLICT NetbenchPhase: is Int, netbench needs Keyword/);
  });

  it('prints the equivalent temporal CLI command for every attribute', () => {
    const cmd = searchAttributeCommand('prod');
    assert.match(cmd, /^temporal operator search-attribute create --namespace prod /);
    const pairs = [...cmd.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => `${m[1]}=${m[2]}`).sort();
    assert.deepEqual(pairs, SEARCH_ATTRIBUTE_SPECS.map((s) => `${s.name}=${s.type}`).sort());
  });
});
