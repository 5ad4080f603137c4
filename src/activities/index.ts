/**
 * createActivities(deps): every activity of netbench, with the clients it
 * needs injected (as in Temporal's samples). Workflows import only the type.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/client';
import { makeClusterActivities } from './cluster';
import { makeFixtureActivities } from './fixtures';
import { makeMeasureActivities } from './measure';
import { makeDatapathActivities } from './datapath';
import { makeCiliumActivities } from './cilium';
import { makeMetricsActivities } from './metrics';
import { makeReportActivities } from './report';
import { makeServiceActivities } from './services';
import { makeHistoryActivities } from './history';
import type { Client } from '@temporalio/client';
import { withLifecycle } from './liveness';

export interface ActivityDeps {
  kubeConfig: KubeConfig;
  /** shared keep-alive clients for bulk object creation */
  kube: KubeClients;
  /** Temporal client for looking up earlier runs (regression baseline) */
  temporal?: () => Promise<Client>;
}

/**
 * Activities that heartbeat by themselves, often enough while they wait, with
 * details worth keeping (a resume cursor, progress): no keep-alive beats for
 * them. Every other one is kept alive while it runs (./liveness.ts).
 */
export const HEARTBEAT_BY_THEMSELVES = [
  'createDummyServices',
  'deleteDummyServices',
  'deployFixtures',
  'deleteNamespaces',
  'waitDatapathConverged',
  'setHubble',
  'restoreCiliumConfig',
  'rolloutRestartCilium',
  'measure',
  'monitorResources',
  'sampleResources',
] as const;

/** Every activity, kept alive and ending as cancelled when the run cancels it (./liveness.ts). */
export function createActivities(deps: ActivityDeps) {
  return withLifecycle(allActivities(deps), HEARTBEAT_BY_THEMSELVES);
}

function allActivities(deps: ActivityDeps) {
  return {
    ...makeClusterActivities(deps),
    ...makeFixtureActivities(deps),
    ...makeMeasureActivities(deps),
    ...makeDatapathActivities(deps),
    ...makeCiliumActivities(deps),
    ...makeMetricsActivities(deps),
    ...makeServiceActivities(deps),
    ...makeReportActivities(),
    ...makeHistoryActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
