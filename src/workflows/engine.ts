/**
 * The step machine: run one step of a run against the ports, return the next record and what the
 * runner should do with the job. No I/O of its own; the runner saves and parks.
 */
import { asMeshopsError } from '../errors.js';
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
import type { WorkflowDefinition } from './registry.js';
import type { RunRecord } from './run.js';
import { failure, stepApplied, type Advanced, type StepResult } from './transitions.js';

export { failure, type Advanced, type Continuation, type StepResult } from './transitions.js';

export interface Policy {
  /** Delay before poll number `polls` (0-based) of a step. */
  pollDelayMs(polls: number): number;
  operationTimeoutMs: number;
  provisioningTimeoutMs: number;
  verifyTimeoutMs: number;
  approvalTimeoutMs: number;
  /** Who may approve (user and user-group IDs), as the prompt lists them. */
  approvers: string[];
  /** Distinct approvers a run on `project` needs: 2 where config names the project, else 1. */
  approvalsNeeded(project: string): number;
  membershipLocation: string;
  enableServices: boolean;
  restartKinds: WorkloadKind[];
  /** `disable cluster` also removes the cluster's mesh_id label. */
  removeMeshIdOnDisable: boolean;
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

export interface StepContext {
  run: RunRecord;
  deps: WorkflowDeps;
  now: number;
  /** How long the current step has been going. */
  elapsedMs: number;
}

export type Step = (ctx: StepContext) => Promise<StepResult>;

/**
 * Runs the current step once. Retryable errors (429/5xx after the adapter's own retries) are thrown
 * to the runner, which lets BullMQ try the job again; anything else ends the run with its hint.
 */
export async function advance(
  run: RunRecord,
  workflow: Pick<WorkflowDefinition, 'order' | 'steps'>,
  deps: WorkflowDeps,
): Promise<Advanced> {
  const now = deps.clock.now();
  const step = workflow.steps[run.step];
  if (!step) throw new Error(`run ${run.id} is at ${run.step}, which its workflow does not have`);
  let result: StepResult;
  try {
    result = await step({ run, deps, now, elapsedMs: now - run.attempt.since });
  } catch (error) {
    const meshopsError = asMeshopsError(error);
    if (meshopsError.retryable) throw meshopsError;
    result = failure(meshopsError);
  }
  return stepApplied(run, result, now, workflow.order);
}
