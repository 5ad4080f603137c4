/**
 * A worker in its own process, for tests that SIGKILL one: the real
 * workflows, STUB activities (test/support/stub-activities.ts), with one
 * activity held forever on its first attempt, as a cluster call that never
 * answers. Prints one JSON line per event on stdout: {"ready":...} once
 * polling, {"held":name,"attempt":n,"at":ms} when the held activity starts.
 *
 *   NB_ADDRESS=127.0.0.1:7233 NB_TASK_QUEUE=q NB_HOLD=claimNamespaces NB_BUNDLE=/tmp/bundle.js \
 *     node --import tsx test/support/stub-worker.ts
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { HEARTBEAT_BY_THEMSELVES, type Activities } from '../../src/activities';
import { withLifecycle } from '../../src/activities/liveness';
import { stubActivities } from './stub-activities';

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const hold = env('NB_HOLD') as keyof Activities;
const say = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

Runtime.install({ logger: new DefaultLogger('ERROR') });
const stubs = stubActivities({ worker: 'killed' });
const activities = { ...stubs.activities } as Record<string, (...a: unknown[]) => Promise<unknown>>;
activities[hold] = async () => {
  say({ held: hold, attempt: Context.current().info.attempt, at: Date.now() });
  return new Promise(() => undefined); // never answers, never heartbeats by itself
};
const connection = await NativeConnection.connect({ address: env('NB_ADDRESS') });
const worker = await Worker.create({
  connection,
  taskQueue: env('NB_TASK_QUEUE'),
  workflowBundle: { codePath: env('NB_BUNDLE') },
  // what src/worker.ts runs: the activities with the same keep-alive and cancellation handling
  activities: withLifecycle(activities as unknown as Activities, HEARTBEAT_BY_THEMSELVES),
});
say({ ready: process.pid });
await worker.run();
