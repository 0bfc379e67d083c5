/**
 * The step machine: run one step of a run against the ports, return the next record and what the
 * runner should do with the job. Its only I/O of its own is through the ports (a failed step's check
 * that the cluster still exists); the runner saves and parks.
 */
import { asMeshopsError, isMeshopsError, MeshopsError } from '../errors.js';
import type {
  Batches,
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
  /** A batch's runs (the `enable-batch` workflow's only way to them). */
  batches: Batches;
}

export interface StepContext {
  run: RunRecord;
  deps: WorkflowDeps;
  now: number;
  /** How long the current step has been going. */
  elapsedMs: number;
}

export type Step = (ctx: StepContext) => Promise<StepResult>;

/** `gcloud container fleet memberships delete` for a membership's full name. */
function unregisterCommand(membership: string): string {
  const [, project, , location, , name] = membership.split('/');
  return `gcloud container fleet memberships delete ${name} --location ${location} --project ${project}`;
}

/**
 * A cluster deleted mid-run shows up as an API server that does not answer (retryable) or as GKE's
 * NOT_FOUND. Once the run has read its cluster, such an error costs one more read of it: a cluster that
 * is gone ends the run at once, saying so and what it left behind, instead of minutes of retries.
 */
async function clusterGone(
  run: RunRecord,
  deps: WorkflowDeps,
  error: MeshopsError,
  where: string,
): Promise<MeshopsError | undefined> {
  if (!run.facts.cluster || !(error.retryable || error.code === 'CLUSTER_NOT_FOUND')) return undefined;
  if (error.code !== 'CLUSTER_NOT_FOUND') {
    try {
      await deps.gke.getCluster(run.cluster);
      return undefined;
    } catch (readError) {
      if (!isMeshopsError(readError, 'CLUSTER_NOT_FOUND')) return undefined;
    }
  }
  const { project, location, name } = run.cluster;
  const membership = 'membershipName' in run.facts ? run.facts.membershipName : undefined;
  return new MeshopsError(
    'CLUSTER_NOT_FOUND',
    `cluster ${project}/${location}/${name} no longer exists: it was deleted while this run was at “${where}”`,
    {
      cause: error,
      hint: membership
        ? `its fleet membership ${membership} is left behind: remove it with \`${unregisterCommand(membership)}\``
        : 'nothing was left behind in the fleet',
    },
  );
}

/**
 * Runs the current step once. Retryable errors (429/5xx after the adapter's own retries) are thrown
 * to the runner, which lets BullMQ try the job again; anything else ends the run with its hint.
 */
export async function advance(
  run: RunRecord,
  workflow: Pick<WorkflowDefinition, 'order' | 'steps'> & Partial<Pick<WorkflowDefinition, 'titles'>>,
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
    const gone = await clusterGone(run, deps, meshopsError, workflow.titles?.[run.step] ?? run.step);
    if (gone) result = failure(gone);
    else if (meshopsError.retryable) throw meshopsError;
    else result = failure(meshopsError);
  }
  return stepApplied(run, result, now, workflow.order);
}
