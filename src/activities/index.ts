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

export interface ActivityDeps {
  kubeConfig: KubeConfig;
  /** shared keep-alive clients for bulk object creation */
  kube: KubeClients;
  /** Temporal client for looking up earlier runs (regression baseline) */
  temporal?: () => Promise<Client>;
}

export function createActivities(deps: ActivityDeps) {
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
