/**
 * The step machine: run one step of a run against the ports, return the next record and what the
 * runner should do with the job. No I/O of its own; the runner saves and parks.
 */
import { asMeshopsError, type MeshopsError } from '../errors.js';
import type {
  Clock,
  Fleet,
  Gke,
  KubeFactory,
  Notifier,
  Operations,
  Projects,
  Services,
  WorkloadKind,
} from './ports.js';
import {
  enableClusterSteps,
  type ApprovalState,
  type EnableFacts,
  type Outcome,
  type RunRecord,
  type StepName,
} from './run.js';

export interface Policy {
  /** Delay before poll number `polls` (0-based) of a step. */
  pollDelayMs(polls: number): number;
  operationTimeoutMs: number;
  provisioningTimeoutMs: number;
  verifyTimeoutMs: number;
  approvalTimeoutMs: number;
  membershipLocation: string;
  enableServices: boolean;
  restartKinds: WorkloadKind[];
}

export interface WorkflowDeps {
  gke: Gke;
  projects: Projects;
  services: Services;
  fleet: Fleet;
  operations: Operations;
  kube: KubeFactory;
  notifier: Notifier;
  clock: Clock;
  policy: Policy;
}

export type StepResult =
  | { type: 'next'; facts?: Partial<EnableFacts>; detail?: string; skipped?: boolean }
  | { type: 'wait'; facts?: Partial<EnableFacts>; detail?: string; delayMs: number }
  | { type: 'approval'; approval: ApprovalState; wakeAt: number }
  | { type: 'finish'; status: 'succeeded' | 'rejected' | 'expired' | 'failed'; outcome: Outcome };

export interface StepContext {
  run: RunRecord;
  deps: WorkflowDeps;
  now: number;
  /** How long the current step has been going. */
  elapsedMs: number;
}

export type Step = (ctx: StepContext) => Promise<StepResult>;

/** What the runner does after a step: run the next one now, park until `wakeAt`, or stop. */
export type Continuation = { type: 'continue' } | { type: 'park'; wakeAt: number } | { type: 'stop' };

export interface Advanced {
  run: RunRecord;
  then: Continuation;
  /** The step that ran and the one now current differ: the checklist changed. */
  moved: boolean;
}

export function failure(error: MeshopsError): StepResult {
  return {
    type: 'finish',
    status: 'failed',
    outcome: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
  };
}

/**
 * Runs the current step once. Retryable errors (429/5xx after the adapter's own retries) are thrown
 * to the runner, which lets BullMQ try the job again; anything else ends the run with its hint.
 */
export async function advance(
  run: RunRecord,
  steps: Record<StepName, Step>,
  deps: WorkflowDeps,
): Promise<Advanced> {
  const now = deps.clock.now();
  let result: StepResult;
  try {
    result = await steps[run.step]({ run, deps, now, elapsedMs: now - run.attempt.since });
  } catch (error) {
    const meshopsError = asMeshopsError(error);
    if (meshopsError.retryable) throw meshopsError;
    result = failure(meshopsError);
  }
  return apply(run, result, now);
}

export function apply(run: RunRecord, result: StepResult, now: number): Advanced {
  const next: RunRecord = { ...run, updatedAt: now, steps: { ...run.steps }, facts: { ...run.facts } };
  switch (result.type) {
    case 'next': {
      Object.assign(next.facts, result.facts, { operation: undefined });
      next.steps[run.step] = {
        status: result.skipped ? 'skipped' : 'done',
        at: now,
        ...(result.detail ? { detail: result.detail } : {}),
      };
      const index = enableClusterSteps.indexOf(run.step);
      const following = enableClusterSteps[index + 1];
      if (!following) throw new Error(`step ${run.step} has no successor; it must finish the run`);
      next.step = following;
      next.steps[following] = { status: 'running', at: now };
      next.status = 'running';
      next.attempt = { since: now, polls: 0 };
      return { run: next, then: { type: 'continue' }, moved: true };
    }
    case 'wait': {
      Object.assign(next.facts, result.facts);
      const current = next.steps[run.step];
      next.steps[run.step] = {
        status: 'running',
        at: current?.at ?? now,
        ...(result.detail ? { detail: result.detail } : current?.detail ? { detail: current.detail } : {}),
      };
      next.status = 'waiting';
      next.attempt = { since: run.attempt.since, polls: run.attempt.polls + 1 };
      return { run: next, then: { type: 'park', wakeAt: now + result.delayMs }, moved: false };
    }
    case 'approval': {
      next.approval = result.approval;
      next.status = 'awaiting-approval';
      next.steps[run.step] = {
        status: 'running',
        at: next.steps[run.step]?.at ?? now,
        detail: 'waiting for approval',
      };
      return { run: next, then: { type: 'park', wakeAt: result.wakeAt }, moved: false };
    }
    case 'finish': {
      next.status = result.status;
      next.outcome = result.outcome;
      next.steps[run.step] = {
        status: result.status === 'succeeded' ? 'done' : 'failed',
        at: now,
        detail: result.outcome.message,
      };
      return { run: next, then: { type: 'stop' }, moved: true };
    }
  }
}
