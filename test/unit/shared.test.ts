/**
 * The names shared by the client, the worker and the workflows are written
 * once (src/shared.ts): the workflow type names match the functions the
 * bundle exports, and the dev server registers exactly the search
 * attributes the workflows upsert.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as workflows from '../../src/workflows';
import { SA, SEARCH_ATTRIBUTE_SPECS, WORKFLOW } from '../../src/shared';

describe('shared names', () => {
  it('every workflow type name is a workflow the bundle exports, under that name', () => {
    for (const name of Object.values(WORKFLOW)) {
      const fn = (workflows as Record<string, unknown>)[name];
      assert.equal(typeof fn, 'function', `src/workflows exports ${name}`);
      assert.equal((fn as { name: string }).name, name);
    }
    assert.deepEqual(Object.keys(workflows).sort(), Object.values(WORKFLOW).sort());
  });

  it('the search attributes to register are the typed keys, with their types', () => {
    assert.deepEqual(
      SEARCH_ATTRIBUTE_SPECS,
      Object.values(SA).map((k) => ({ name: k.name, type: { KEYWORD: 'Keyword', INT: 'Int', BOOL: 'Bool' }[k.type] })),
    );
    assert.deepEqual(SEARCH_ATTRIBUTE_SPECS.map((s) => `${s.name}=${s.type}`), [
      'NetbenchCluster=Keyword', 'NetbenchClusterType=Keyword', 'NetbenchPhase=Keyword', 'NetbenchScaleStep=Int',
      'NetbenchServicesCreated=Int', 'NetbenchTrusted=Bool', 'NetbenchRegression=Bool', 'NetbenchPlan=Keyword',
    ]);
  });
});
