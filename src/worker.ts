/**
 * The netbench worker: runs benchmarkRun/serviceScaleStep and every activity
 * against one cluster (the kubeconfig context it was started with).
 *
 *   netbench worker [--context C] [--kubeconfig F] [--address H:P] [--namespace NS] [--task-queue Q]
 *
 * Shuts down gracefully on SIGINT/SIGTERM (running activities get a chance
 * to finish or heartbeat their cursor; Temporal resumes the rest elsewhere).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { connect, connectNative, describeTarget, TEMPORAL_FLAGS_HELP, temporalFlagOptions, temporalTargetFrom } from './cli/connect';
import { installTelemetry, TELEMETRY_FLAGS_HELP, telemetryFlagOptions, telemetryOptionsFrom } from './telemetry';
import { createActivities } from './activities';
import { loadKubeConfig, makeKubeClients } from './kube/client';
import { clusterTaskQueue, DEFAULT_TASK_QUEUE } from './shared';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface NetbenchWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  kubeconfig?: string;
  context?: string;
  /** Temporal client for activities that read earlier runs (regression baseline) */
  temporalClient?: () => Promise<Client>;
  /** extra Worker options (tests: shorter shutdown grace, stubbed activities, ...) */
  workerOptions?: Partial<WorkerOptions>;
}

export async function createNetbenchWorker(o: NetbenchWorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const kubeConfig = loadKubeConfig({ kubeconfigPath: o.kubeconfig, context: o.context });
  const kube = makeKubeClients({ kubeConfig });
  const worker = await Worker.create({
    connection: o.connection,
    namespace: o.namespace ?? 'default',
    taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({ kubeConfig, kube, temporal: o.temporalClient }),
    shutdownGraceTime: '20s',
    ...o.workerOptions,
  });
  return { worker, close: () => kube.close() };
}

const HELP = `netbench worker: run netbench workflows and activities against one cluster

Usage: netbench worker [options]

Options:
  --context NAME        kube context the activities use (default: current context) [env KUBE_CONTEXT];
                        repeat it to serve several clusters (each on task queue <queue>@<context>)
  --kubeconfig FILE     kubeconfig (default: $KUBECONFIG or ~/.kube/config)
  --task-queue Q        task queue to serve (default "netbench") [env NETBENCH_TASK_QUEUE]
  -h, --help            this help

${TEMPORAL_FLAGS_HELP}
${TELEMETRY_FLAGS_HELP}`;

export async function workerMain(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...temporalFlagOptions,
        ...telemetryFlagOptions,
        context: { type: 'string', multiple: true },
        kubeconfig: { type: 'string' },
        'task-queue': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`netbench worker: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let target, telemetry;
  try {
    target = temporalTargetFrom(values, process.env);
    telemetry = telemetryOptionsFrom(values, process.env);
  } catch (err) {
    process.stderr.write(`netbench worker: ${(err as Error).message}\n`);
    return 2;
  }
  // Bad kube input (a missing kubeconfig, an unknown context) is refused before anything connects.
  const kubeconfigPath = values.kubeconfig ?? process.env.KUBECONFIG;
  for (const context of values.context?.length ? values.context : [process.env.KUBE_CONTEXT || undefined]) {
    try {
      loadKubeConfig({ kubeconfigPath, context });
    } catch (err) {
      process.stderr.write(`netbench worker: ${(err as Error).message}\n`);
      return 2;
    }
  }
  // Before anything creates the SDK's Runtime (the NativeConnection does).
  const { metricsUrl } = installTelemetry(telemetry);
  if (metricsUrl) process.stderr.write(`netbench worker: Prometheus metrics on ${metricsUrl}\n`);
  const connection = await connectNative(target);
  const address = describeTarget(target);
  const taskQueue = values['task-queue'] ?? process.env.NETBENCH_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const namespace = target.namespace;
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  const contexts = values.context?.length ? values.context : [process.env.KUBE_CONTEXT || undefined];
  // One Worker per cluster: the first also serves the plain queue (single-cluster runs, multi-cluster parents);
  // with several contexts each also serves "<queue>@<context>", where compareClusters sends that cluster's run.
  const queues = contexts.map((context, i) => ({ context, queues: [...(i === 0 ? [taskQueue] : []), ...(contexts.length > 1 ? [clusterTaskQueue(taskQueue, context!)] : [])] }));
  let client: Promise<Client> | undefined;
  const temporalClient = () => (client ??= connect(target));
  const made = [];
  for (const q of queues) {
    for (const tq of q.queues) {
      made.push(await createNetbenchWorker({ connection, namespace, taskQueue: tq, kubeconfig, context: q.context, temporalClient }));
      process.stderr.write(`netbench worker: serving task queue "${tq}"${q.context ? ` for context ${q.context}` : ''} on ${address}\n`);
    }
  }
  try {
    await Promise.all(made.map((m) => m.worker.run())); // the SDK shuts down gracefully on SIGINT/SIGTERM
  } finally {
    await Promise.all(made.map((m) => m.close()));
    await connection.close();
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  workerMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`netbench worker: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
