/**
 * A real Temporal dev server for tests: the CLI built by scripts/setup.sh
 * (the SDK's own download cannot work here), with netbench's search
 * attributes registered.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SA } from '../../src/shared';
import { builtBinary } from './binaries';

export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: builtBinary('temporal', 'temporal') },
      ip: '127.0.0.1',
      searchAttributes: Object.values(SA),
      extraArgs: ['--log-level', 'error'],
    },
  });
}
