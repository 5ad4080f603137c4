/**
 * Dummy Services (and their endpoints) for the Service-scale phase, created
 * in idempotent, resumable, rate-limited batches.
 *
 * History stays small: one activity creates a whole range and heartbeats a
 * cursor ({ lastIndex, created, existed }) at most once a second; a retried
 * attempt resumes after `heartbeatDetails.lastIndex`, and "already exists"
 * counts as done, so a crash costs at most the few objects in flight.
 */
import { ApplicationFailure, CancelledFailure, Context, log } from '@temporalio/activity';
import type { V1EndpointSlice, V1Endpoints, V1Namespace, V1Service } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  DUMMY_LABELS,
  DUMMY_SELECTOR,
  MAX_ENDPOINTS_PER_SLICE,
  MAX_GLOBAL_ENDPOINT,
  buildDummyEndpointSlice,
  buildDummyEndpoints,
  buildDummyService,
  dummyServiceName,
} from '../domain/services';
import { IndexRangeError, runIndexRange, type TaskOutcome } from '../kube/batches';
import {
  classifyKubeError,
  describeKubeError,
  isRetryableKubeError,
  statusCodeOf,
  withSignal,
  type KubeClients,
} from '../kube/client';
import { waitForNamespaceGone } from '../kube/waits';

/** Services in flight at once when the caller does not say (tuned in bench/create-services.ts). */
export const DEFAULT_CREATE_PARALLEL = 32;

const namespaceName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower-case letters, digits, "-")');

export const createDummyServicesInput = z
  .object({
    namespace: namespaceName,
    /** First and last global Service index (1-based, inclusive). */
    from: z.number().int().min(1),
    to: z.number().int().min(1),
    endpointsPerService: z.number().int().min(1).max(MAX_ENDPOINTS_PER_SLICE),
    /** Services in flight at once. */
    parallel: z.number().int().min(1).max(1024).default(DEFAULT_CREATE_PARALLEL),
    endpointsMode: z.enum(['endpointslices', 'endpoints']).default('endpointslices'),
    /** Services started per second at most (default: no limit). */
    maxPerSecond: z.number().positive().optional(),
  })
  .refine((v) => v.to >= v.from, { message: 'to must be >= from', path: ['to'] })
  .refine((v) => v.to * v.endpointsPerService - 1 <= MAX_GLOBAL_ENDPOINT, {
    message: `to × endpointsPerService exceeds the reference address plan (${MAX_GLOBAL_ENDPOINT + 1} endpoints)`,
    path: ['to'],
  });
export type CreateDummyServicesInput = z.input<typeof createDummyServicesInput>;

export interface CreateDummyServicesResult {
  /** Services (with endpoints) this activity created, across resumed attempts. */
  created: number;
  /** Services found already complete (a rerun, or items done just before an interruption). */
  existed: number;
  /** Last Service index done (= to). */
  lastIndex: number;
  /** Seconds of this attempt. */
  seconds: number;
  /** Services per second in this attempt. */
  ratePerSec: number;
}

/** What createDummyServices heartbeats, and reads back on a retry. */
export const createProgressDetails = z.object({
  lastIndex: z.number().int(),
  created: z.number().int().min(0),
  existed: z.number().int().min(0),
});
export type CreateProgressDetails = z.infer<typeof createProgressDetails>;

export const deleteDummyServicesInput = z.object({
  namespace: namespaceName,
  /** Give up waiting after this long (default 10 min). */
  timeoutSeconds: z.number().positive().default(600),
});
export type DeleteDummyServicesInput = z.input<typeof deleteDummyServicesInput>;

export interface DeleteDummyServicesResult {
  /** False when the namespace did not exist. */
  existed: boolean;
  /** Dummy Services the worker deleted itself before deleting the namespace. */
  deletedServices: number;
  /** Seconds until the namespace was gone. */
  seconds: number;
}

export const countDummyServicesInput = z.object({ namespace: namespaceName });
export type CountDummyServicesInput = z.input<typeof countDummyServicesInput>;

export interface ServiceActivityDeps {
  kube: KubeClients;
}

/** Turn a zod error into a non-retryable failure listing every bad field. */
function parseInput<T extends z.ZodType>(schema: T, input: unknown, activity: string): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
  throw ApplicationFailure.nonRetryable(`${activity}: invalid input: ${fields}`, 'InvalidInput');
}

/** Retryable faults stay ordinary errors (Temporal retries the activity); the rest are non-retryable. */
function kubeFailure(what: string, err: unknown): Error {
  const msg = `${what}: ${describeKubeError(err)}`;
  if (isRetryableKubeError(err)) return new Error(msg, { cause: err });
  return ApplicationFailure.nonRetryable(msg, 'KubernetesApiError');
}

function cancelledFrom(signal: AbortSignal): CancelledFailure {
  const reason: unknown = signal.reason;
  return reason instanceof CancelledFailure ? reason : new CancelledFailure(String(reason ?? 'cancelled'));
}

/**
 * Deletes the namespace's dummy Services and their endpoints objects from the
 * worker, page by page with `parallel` requests in flight, before the
 * namespace itself goes. Left to the namespace controller (one object at a
 * time under its client rate limit) 20,000 Services went at about 6/s on the
 * lab, an hour; this went at 45/s, 7 minutes. Missing objects count
 * as done, so it can be repeated after a crash. Returns how many Services it
 * deleted; when the worker may not delete Services (deploy/'s default RBAC,
 * see deploy/optional/fast-cleanup.yaml) it stops at the first 403 and says so,
 * and the namespace controller does the work as before.
 */
export async function purgeDummyObjects(
  kube: Pick<KubeClients, 'core' | 'discovery'>,
  namespace: string,
  opts: { signal: AbortSignal; parallel?: number; onProgress?: (deleted: number) => void },
): Promise<{ deleted: number; skipped?: string }> {
  const { core, discovery } = kube;
  const { signal } = opts;
  const reqOpts = withSignal(signal);
  const gone = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      if (classifyKubeError(err) !== 'not-found') throw err;
    }
  };
  let deleted = 0;
  // Always the first page of what is left: no continue token, which the
  // apiserver expires after a few minutes (410) while a large purge runs.
  for (;;) {
    let page;
    try {
      page = await core.listNamespacedService({ namespace, labelSelector: DUMMY_SELECTOR, limit: 1000 }, reqOpts);
    } catch (err) {
      if (classifyKubeError(err) === 'not-found') return { deleted };
      throw err;
    }
    // Objects already being deleted (a finalizer holds them) are the namespace controller's.
    const names = page.items.filter((x) => !x.metadata?.deletionTimestamp).map((x) => x.metadata!.name!);
    if (!names.length) return { deleted };
    try {
      await runIndexRange({
        from: 0,
        to: names.length - 1,
        concurrency: opts.parallel ?? 32,
        signal,
        // The Service and its EndpointSlice (same name). The reference's v1
        // Endpoints (SVC_ENDPOINTS_KIND=endpoints) are left to the namespace controller.
        task: async (i) => {
          const name = names[i]!;
          await Promise.all([
            gone(() => core.deleteNamespacedService({ namespace, name }, reqOpts)),
            gone(() => discovery.deleteNamespacedEndpointSlice({ namespace, name }, reqOpts)),
          ]);
          return 'created';
        },
        isRetryable: isRetryableKubeError,
        describe: (i) => `deleting Service ${namespace}/${names[i]}`,
        describeError: describeKubeError,
        progressIntervalMs: 1000,
        onProgress: (p) => opts.onProgress?.(deleted + p.done),
      });
    } catch (err) {
      if (err instanceof IndexRangeError && statusCodeOf(err.cause) === 403) {
        return { deleted, skipped: `the worker may not delete Services or EndpointSlices (${describeKubeError(err.cause)})` };
      }
      throw err;
    }
    deleted += names.length;
    opts.onProgress?.(deleted);
  }
}

export function makeServiceActivities(deps: ServiceActivityDeps) {
  const { core, discovery } = deps.kube;

  /**
   * Make sure the namespace exists and is usable. A namespace still being
   * deleted (from a previous run's cleanup) is waited out, then re-created.
   */
  async function ensureNamespace(name: string, signal: AbortSignal, onTick: () => void): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let ns: V1Namespace | undefined;
      try {
        ns = await core.readNamespace({ name }, withSignal(signal));
      } catch (err) {
        if (signal.aborted) throw cancelledFrom(signal);
        if (classifyKubeError(err) !== 'not-found') throw kubeFailure(`reading namespace ${name}`, err);
      }
      if (ns && ns.status?.phase !== 'Terminating') return;
      if (ns) {
        await waitForNamespaceGone(core, name, { timeoutMs: 600_000, intervalMs: 1000, signal, onTick });
      }
      try {
        await core.createNamespace(
          { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...DUMMY_LABELS } } } },
          withSignal(signal),
        );
        return;
      } catch (err) {
        if (signal.aborted) throw cancelledFrom(signal);
        if (classifyKubeError(err) === 'already-exists') continue; // re-check its phase
        throw kubeFailure(`creating namespace ${name}`, err);
      }
    }
  }

  /** Create one object; "already exists" means done. */
  async function createOnce(fn: () => Promise<unknown>): Promise<TaskOutcome> {
    try {
      await fn();
      return 'created';
    } catch (err) {
      if (classifyKubeError(err) === 'already-exists') return 'existed';
      throw err;
    }
  }

  async function createDummyServices(raw: CreateDummyServicesInput): Promise<CreateDummyServicesResult> {
    const input = parseInput(createDummyServicesInput, raw, 'createDummyServices');
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    const { namespace, endpointsPerService, endpointsMode } = input;

    // Resume after the last heartbeat of an earlier attempt, if it fits this range.
    const prior = createProgressDetails.safeParse(ctx.info.heartbeatDetails);
    const resume =
      prior.success && prior.data.lastIndex >= input.from - 1 && prior.data.lastIndex <= input.to
        ? prior.data
        : undefined;

    let last: CreateProgressDetails = resume ?? { lastIndex: input.from - 1, created: 0, existed: 0 };
    const beat = () => ctx.heartbeat(last);
    await ensureNamespace(namespace, signal, beat);

    const reqOpts = withSignal(signal);
    const createEndpoints =
      endpointsMode === 'endpointslices'
        ? (i: number) =>
            discovery.createNamespacedEndpointSlice(
              { namespace, body: buildDummyEndpointSlice(namespace, i, endpointsPerService) as V1EndpointSlice },
              reqOpts,
            )
        : (i: number) =>
            core.createNamespacedEndpoints(
              { namespace, body: buildDummyEndpoints(namespace, i, endpointsPerService) as V1Endpoints },
              reqOpts,
            );

    try {
      const r = await runIndexRange({
        from: input.from,
        to: input.to,
        concurrency: input.parallel,
        maxPerSecond: input.maxPerSecond,
        resumeAfter: resume?.lastIndex,
        carried: resume ? { created: resume.created, existed: resume.existed } : undefined,
        signal,
        // Service first, then its endpoints: a Service whose endpoints object is
        // missing (interrupted between the two) gets it on the next attempt.
        task: async (i) => {
          const svc = await createOnce(() =>
            core.createNamespacedService({ namespace, body: buildDummyService(namespace, i) as V1Service }, reqOpts),
          );
          const eps = await createOnce(() => createEndpoints(i));
          return svc === 'existed' && eps === 'existed' ? 'existed' : 'created';
        },
        isRetryable: isRetryableKubeError,
        describe: (i) => `Service ${namespace}/${dummyServiceName(i)}`,
        describeError: describeKubeError,
        progressIntervalMs: 1000,
        onProgress: (p) => {
          last = { lastIndex: p.lastContiguousDone, created: p.created, existed: p.existed };
          beat();
        },
      });
      return {
        created: r.created,
        existed: r.existed,
        lastIndex: r.lastIndex,
        seconds: round3(r.seconds),
        ratePerSec: round3(r.ratePerSec),
      };
    } catch (err) {
      if (signal.aborted) throw cancelledFrom(signal);
      if (err instanceof IndexRangeError) {
        const msg = `createDummyServices in namespace ${namespace}: ${err.message}`;
        // Retries were exhausted on a transient fault: let Temporal retry the activity (it resumes).
        if (isRetryableKubeError(err.cause)) throw new Error(msg, { cause: err.cause });
        throw ApplicationFailure.nonRetryable(msg, 'KubernetesApiError');
      }
      throw err;
    }
  }

  async function deleteDummyServices(raw: DeleteDummyServicesInput): Promise<DeleteDummyServicesResult> {
    const input = parseInput(deleteDummyServicesInput, raw, 'deleteDummyServices');
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    const started = performance.now();
    let existed = true;
    let purged = 0;
    try {
      // The dummy objects first, many at a time (the namespace controller would take an hour at 30,000)...
      const p = await purgeDummyObjects(deps.kube, input.namespace, {
        signal,
        onProgress: (n) => ctx.heartbeat({ deletedServices: n }),
      });
      purged = p.deleted;
      if (p.skipped) log.warn(`deleteDummyServices: left to the namespace controller: ${p.skipped}`);
    } catch (err) {
      if (signal.aborted) throw cancelledFrom(signal);
      if (err instanceof IndexRangeError) throw kubeFailure(`deleting dummy Services in ${input.namespace}`, err.cause);
      throw kubeFailure(`deleting dummy Services in ${input.namespace}`, err);
    }
    try {
      // ...then the namespace. Background: the namespace controller removes what is left; we wait for the namespace itself.
      await core.deleteNamespace({ name: input.namespace, propagationPolicy: 'Background' }, withSignal(signal));
    } catch (err) {
      if (signal.aborted) throw cancelledFrom(signal);
      if (classifyKubeError(err) === 'not-found') existed = false;
      else throw kubeFailure(`deleting namespace ${input.namespace}`, err);
    }
    if (existed) {
      try {
        await waitForNamespaceGone(core, input.namespace, {
          timeoutMs: input.timeoutSeconds * 1000,
          intervalMs: 1000,
          signal,
          onTick: ({ elapsedMs }) => ctx.heartbeat({ waitingSeconds: Math.round(elapsedMs / 1000) }),
        });
      } catch (err) {
        if (signal.aborted) throw cancelledFrom(signal);
        throw err;
      }
    }
    return { existed, deletedServices: purged, seconds: round3((performance.now() - started) / 1000) };
  }

  async function countDummyServices(raw: CountDummyServicesInput): Promise<{ services: number }> {
    const input = parseInput(countDummyServicesInput, raw, 'countDummyServices');
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    let services = 0;
    let cont: string | undefined;
    let pages = 0;
    do {
      let page;
      try {
        page = await core.listNamespacedService(
          { namespace: input.namespace, labelSelector: DUMMY_SELECTOR, limit: 500, _continue: cont },
          withSignal(signal),
        );
      } catch (err) {
        if (signal.aborted) throw cancelledFrom(signal);
        // A missing namespace has no Services; list returns an empty list then, but be explicit.
        if (classifyKubeError(err) === 'not-found') return { services: 0 };
        throw kubeFailure(`listing Services in ${input.namespace}`, err);
      }
      services += page.items.length;
      cont = page.metadata?._continue || undefined;
      if (++pages % 10 === 0) ctx.heartbeat({ counted: services });
    } while (cont);
    return { services };
  }

  return { createDummyServices, deleteDummyServices, countDummyServices };
}

export type ServiceActivities = ReturnType<typeof makeServiceActivities>;

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
