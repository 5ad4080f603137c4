/**
 * Names shared by workflows, the worker and the client: task queue, message
 * definitions, typed search-attribute keys. Workflow-safe (no Node imports).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { PhaseName } from './config';

export const DEFAULT_TASK_QUEUE = 'netbench';

/**
 * Workflow type names, as clients, schedules and visibility queries spell
 * them. Each is the name of the function src/workflows/index.ts exports
 * (test/unit/shared.test.ts holds the two together).
 */
export const WORKFLOW = {
  benchmarkRun: 'benchmarkRun',
  serviceScaleStep: 'serviceScaleStep',
  compareClusters: 'compareClusters',
} as const;
/** Workflow id of one cluster's run under a compareClusters parent. */
export const childRunId = (parentId: string, context: string) => `${parentId}/${context.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
/** Task queue of one cluster's worker in multi-cluster runs. */
export const clusterTaskQueue = (queue: string, context: string) => `${queue}@${context}`;

export type RunPhase =
  | 'starting'
  | 'inspect'
  | 'deploy'
  | PhaseName
  | 'report'
  | 'cleanup'
  | 'done';

export interface Progress {
  phase: RunPhase;
  /** scenario being measured, e.g. "fortio Via Svc c64 keepalive @5000 svc, round 2/3" */
  scenario?: string;
  /** Service count of the scale step under way */
  scaleStep?: number;
  /** dummy Services that exist so far */
  servicesCreated: number;
  done: number;
  total: number;
  /** what the run waits for right now (a timer, a rollout, an approval) */
  waitingFor?: string;
  /** the LB-map fix waiting for `approve` / `decline` */
  pendingApproval?: { current: number; needed: number; proposed: number };
  failures: number;
  trusted: boolean;
  clusterType?: string;
  lastFigures: { label: string; value: string }[];
  phasesDone: string[];
  phasesLeft: string[];
}

export interface LbMapDecision {
  approve: boolean;
  /** who decided (shown in the report) */
  by?: string;
}

export const progressQuery = defineQuery<Progress>('progress');

export interface CompareProgress {
  clusters: { contextName: string; workflowId: string; state: 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' }[];
}
export const compareProgressQuery = defineQuery<CompareProgress>('compareProgress');
/** The Cilium LB-map capacity fix: approve or decline; rejected by the validator when nothing is pending. */
export const approveLbMapFixUpdate = defineUpdate<{ accepted: boolean; message: string }, [LbMapDecision]>('approveLbMapFix');
/** Progress of a scale step, for the parent's progress (signal child -> parent). */
export const scaleProgressSignal = defineSignal<[{ step: number; servicesCreated: number; scenario?: string; waitingFor?: string; doneDelta?: number; lastFigure?: string }]>('scaleProgress');

export const SA = {
  cluster: defineSearchAttributeKey('NetbenchCluster', SearchAttributeType.KEYWORD),
  clusterType: defineSearchAttributeKey('NetbenchClusterType', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('NetbenchPhase', SearchAttributeType.KEYWORD),
  scaleStep: defineSearchAttributeKey('NetbenchScaleStep', SearchAttributeType.INT),
  servicesCreated: defineSearchAttributeKey('NetbenchServicesCreated', SearchAttributeType.INT),
  trusted: defineSearchAttributeKey('NetbenchTrusted', SearchAttributeType.BOOL),
  regression: defineSearchAttributeKey('NetbenchRegression', SearchAttributeType.BOOL),
  plan: defineSearchAttributeKey('NetbenchPlan', SearchAttributeType.KEYWORD),
} as const;

const SPEC_TYPE = { KEYWORD: 'Keyword', INT: 'Int', BOOL: 'Bool' } as const;

/** `--search-attribute Name=Type` arguments for the dev server, and for `temporal operator search-attribute create` (derived from SA). */
export const SEARCH_ATTRIBUTE_SPECS: { name: string; type: 'Keyword' | 'Int' | 'Bool' }[] = Object.values(SA).map((k) => ({ name: k.name, type: SPEC_TYPE[k.type] }));
