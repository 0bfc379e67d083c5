/**
 * The step machine: run one step of a run against the ports, return the next record and what the
 * runner should do with the job. Its only I/O of its own is through the ports (a failed step's check
 * that the cluster still exists); the runner saves and parks.
 */
import type { HostProjectRule } from './fleetHost.js';
import { asMeshopsError, isMeshopsError, MeshopsError } from '../errors.js';
import { dryRunApplied } from './dryRun.js';
import type {
  Batches,
  Clock,
  CloudPorts,
  DryRunDecorator,
  KubeAccessMode,
  Notifier,
  Rehearsal,
  WorkloadKind,
} from './ports.js';
import type { WorkflowDefinition } from './registry.js';
import type { RehearsedRest, RunRecord } from './run.js';

/** A managed mesh release channel, as asmcli's `--channel` names it. */
export type MeshChannel = 'rapid' | 'regular' | 'stable';
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
  /** config fleet.hostProjects: the fleet host of a cluster's project, where `fleet=` does not say. */
  hostProjects: HostProjectRule[];
  enableServices: boolean;
  /** The mesh channel config asks for (`mesh.channel`); the Fleet API gives the GKE release channel's. */
  meshChannel: MeshChannel | null;
  /** A CA Service pool for mesh certificates (`mesh.caPool`): something only asmcli sets up. */
  caPool: string | null;
  restartKinds: WorkloadKind[];
  /** `disable cluster` also removes the cluster's mesh_id label. */
  removeMeshIdOnDisable: boolean;
  /** How the clusters' Kubernetes API is reached (config kube.access; steps/access.ts). */
  kubeAccess: KubeAccessMode;
}

export interface WorkflowDeps extends CloudPorts {
  notifier: Notifier;
  clock: Clock;
  policy: Policy;
  /** A batch's runs (the `enable-batch` workflow's only way to them). */
  batches: Batches;
  /** Wraps the cloud ports for the steps of a dry run (src/cloud/dryRun.ts). */
  dryRun: DryRunDecorator;
}

export interface StepContext {
  run: RunRecord;
  deps: WorkflowDeps;
  now: number;
  /** How long the current step has been going. */
  elapsedMs: number;
  /**
   * The steps after this one, rehearsed now as a dry run through the same decorator (in memory,
   * nothing saved), as if this step had gone on: what an approval lets happen. Undefined for a dry
   * run (it is one) and for a batch's runs (their batch asks), or when the world could not be read.
   */
  rehearseRest(): Promise<RehearsedRest | undefined>;
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

const refused = (what: string) => () =>
  Promise.reject(new MeshopsError('INTERNAL', `a dry run ${what}; this step must not be part of one`));

/**
 * What the steps of a dry run see: the cloud ports through the recording decorator, a notifier that
 * says nothing (the run's thread tells its plan once, at the end) and no way to start a batch's runs.
 */
function rehearsalDeps(deps: WorkflowDeps, rehearsal: Rehearsal): WorkflowDeps {
  return {
    ...deps,
    ...rehearsal.ports,
    notifier: { emit: () => Promise.resolve() },
    batches: {
      start: refused('starts no runs'),
      runs: refused('follows no runs'),
      decide: refused('decides nothing'),
    },
  };
}

/** A prompt shows a few dozen calls at most; the rest is counted (a dry run lists them all). */
const REHEARSED_CALLS = 50;

/** See StepContext.rehearseRest. */
async function rehearseRest(
  run: RunRecord,
  workflow: Pick<WorkflowDefinition, 'order' | 'steps'>,
  deps: WorkflowDeps,
  now: number,
): Promise<RehearsedRest | undefined> {
  const next = workflow.order[workflow.order.indexOf(run.step) + 1];
  if (run.dryRun || run.parent || !next) return undefined;
  let rehearsed: RunRecord = {
    ...run,
    step: next,
    status: 'running',
    attempt: { since: now, polls: 0 },
    dryRun: { calls: [], waits: [] },
  };
  try {
    // A dry run never parks: every step is done, passed over or called again at once, within a few rounds.
    for (let round = 0; round < workflow.order.length * 4; round++) {
      const advanced = await advance(rehearsed, workflow, deps);
      rehearsed = advanced.run;
      if (advanced.then.type === 'stop') break;
    }
  } catch {
    // The world did not answer (after the adapters' retries): the prompt goes without it.
    return undefined;
  }
  const { calls, waits } = rehearsed.dryRun ?? { calls: [], waits: [] };
  return {
    calls: calls.slice(0, REHEARSED_CALLS),
    total: calls.length,
    waits,
    ...(rehearsed.status === 'failed' ? { stopped: rehearsed.outcome?.message ?? 'failed' } : {}),
  };
}

/**
 * Runs the current step once. Retryable errors (429/5xx after the adapter's own retries) are thrown
 * to the runner, which lets BullMQ try the job again; anything else ends the run with its hint.
 */
export async function advance(
  run: RunRecord,
  workflow: Pick<WorkflowDefinition, 'order' | 'steps'> &
    Partial<Pick<WorkflowDefinition, 'titles' | 'rehearsesMembers'>>,
  deps: WorkflowDeps,
): Promise<Advanced> {
  const now = deps.clock.now();
  const step = workflow.steps[run.step];
  if (!step) throw new Error(`run ${run.id} is at ${run.step}, which its workflow does not have`);
  // A dry run's steps never see the real mutating methods: the decorator stands in for them (for a
  // batch, in each of its members' runs, which are dry runs of their own).
  const rehearsal =
    run.dryRun && !workflow.rehearsesMembers ? deps.dryRun(deps, run.cluster, run.dryRun.calls) : undefined;
  const stepDeps = rehearsal ? rehearsalDeps(deps, rehearsal) : deps;
  let result: StepResult;
  try {
    result = await step({
      run,
      deps: stepDeps,
      now,
      elapsedMs: now - run.attempt.since,
      rehearseRest: () => rehearseRest(run, workflow, deps, now),
    });
  } catch (error) {
    const meshopsError = asMeshopsError(error);
    const gone = await clusterGone(run, stepDeps, meshopsError, workflow.titles?.[run.step] ?? run.step);
    if (gone) result = failure(gone);
    else if (meshopsError.retryable) throw meshopsError;
    else result = failure(meshopsError);
  }
  if (rehearsal) return dryRunApplied(run, result, rehearsal.recorded(), now, workflow.order);
  return stepApplied(run, result, now, workflow.order);
}
