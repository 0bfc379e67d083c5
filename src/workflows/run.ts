/**
 * The run record: the truth about one run. It lives in Redis (src/store), versioned and written with
 * compare-and-set; the BullMQ job only says "advance this run".
 */
import type { FleetHost } from './fleetHost.js';
import type {
  ClusterInfo,
  ClusterRef,
  IstiodDeployment,
  OperationRef,
  PlaneState,
  PlannedCall,
} from './ports.js';

/** The workflows meshops runs; each has its definition in src/workflows/registry.ts. */
export type WorkflowKind =
  'enable-cluster' | 'inject' | 'uninject' | 'disable-cluster' | 'enable-batch' | 'mesh-config';

/** A step's name within its workflow (the definition's `order`). */
export type StepName = string;
export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed';
export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting'
  | 'awaiting-approval'
  | 'succeeded'
  | 'failed'
  | 'rejected'
  | 'expired'
  | 'cancelled';

export const terminalStatuses: ReadonlySet<RunStatus> = new Set([
  'succeeded',
  'failed',
  'rejected',
  'expired',
  'cancelled',
]);

export function isTerminal(run: Pick<RunRecord, 'status'>): boolean {
  return terminalStatuses.has(run.status);
}

export type InjectionLabel = 'istio-injection' | 'istio.io/rev';

export interface NamespacePlan {
  name: string;
  currentLabels: Record<string, string>;
  workloads: Array<{ kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'; name: string; replicas: number }>;
  pods: number;
  podDisruptionBudgets: number;
  /** Labelled as planned and every pod already as wanted: not restarted. */
  settled: boolean;
}

export interface InjectionPlan {
  /** inject: sidecars on; uninject: off. */
  mode: 'inject' | 'uninject';
  /** The label that turns injection on, or null when it is being turned off. */
  set: { key: InjectionLabel; value: string } | null;
  remove: InjectionLabel[];
  /** Why this label: the managed default, or the revision an in-cluster istiod already serves. */
  reason: string;
  namespaces: NamespacePlan[];
}

export interface Decision {
  approved: boolean;
  by: string;
  at: number;
  /** A Reject's reason, as typed in the prompt (optional). */
  reason?: string;
}

export interface ApprovalState {
  requestedAt: number;
  remindAt: number;
  expiresAt: number;
  reminded: boolean;
  /** The hash of the plan the prompt shows: a click counts only if it names this plan. */
  planHash: string;
  /** Distinct approvers needed (2 for the projects config names), none of them the requester. */
  required: number;
  /** Who may approve, as the prompt lists them (user and user-group IDs). */
  approvers: string[];
  /** Approvals so far, while fewer than `required`. */
  approvals: Decision[];
  /** The final decision: the last approval needed, or a rejection. */
  decision?: Decision;
  /** What the steps after the approval would change, rehearsed as a dry run when it was asked for. */
  after?: RehearsedRest;
}

/** A rehearsal of a run's remaining steps (the first calls of it: a prompt shows no more). */
export interface RehearsedRest {
  calls: DryRunPlan['calls'];
  /** Every call the rehearsal recorded, shown or not. */
  total: number;
  waits: DryRunPlan['waits'];
  /** Why the rehearsal stopped before the end (a blocker it found), if it did. */
  stopped?: string;
}

/**
 * An in-cluster control plane on the cluster (asmcli, seed 002) and where a run leaves its
 * namespaces: moved to the managed revision, or left on theirs (src/workflows/steps/inClusterIstiod.ts).
 */
export interface InClusterMigration {
  /** The managed revision of the cluster's channel, the one namespaces move to. */
  managedRevision: string;
  istiods: IstiodDeployment[];
  /** Namespaces this run relabels from an in-cluster revision to the managed one. */
  moved: Array<{ name: string; from: string }>;
  /**
   * Namespaces left on an in-cluster revision: for enable, the ones asked for that it does not move
   * (with what moving them restarts); for inject, every other one the cluster has.
   */
  left: Array<{ name: string; revision: string; pods?: number; workloads?: number }>;
}

/** What enable cluster's preflight finds of an in-cluster control plane, before it changes anything. */
export interface InClusterControlPlane {
  managedRevision: string;
  istiods: IstiodDeployment[];
  /** Every namespace labelled with a revision that is not a managed one, by name. */
  namespaces: Array<{ name: string; revision: string }>;
}

/** What the injection steps (plan, approval, label, restart, verify) need and keep. */
export interface InjectionFacts {
  projectNumber?: string;
  /** The fleet the cluster is in (or joins): its own project's or a fleet host's, with the number. */
  fleet?: FleetHost;
  cluster?: ClusterInfo;
  /**
   * The cluster's fleet membership. Enable and disable always keep it; the other runs only for a cluster
   * reached through Connect Gateway (steps/access.ts), whose path names it.
   */
  membershipName?: string;
  meshRevision?: string;
  plan?: InjectionPlan;
  /** Set by the plan when the cluster has an in-cluster control plane. */
  migration?: InClusterMigration;
  /** One value per run, so a repeated restart step stamps the same annotation and restarts nothing twice. */
  restartedAt?: string;
  verifiedPods?: number;
  /** A long-running operation the current step started and waits on. */
  operation?: OperationRef;
}

export interface EnableFacts extends InjectionFacts {
  controlPlane?: PlaneState;
  dataPlane?: PlaneState;
}

export interface StepProgress {
  status: StepStatus;
  detail?: string;
  at: number;
}

/** One thing a check found that stops the run before any change: what, why, the fix and Google's page on it. */
export interface Blocker {
  code: string;
  message: string;
  hint?: string;
  docs?: string;
}

export interface Outcome {
  code?: string;
  message: string;
  hint?: string;
  /** Google's documentation of the case, when there is a page for it. */
  docs?: string;
  /** Every blocker preflight found, when it found more than one (each with its own fix). */
  blockers?: Blocker[];
}

/**
 * What a dry run found, step by step: every change a real run would make (recorded by the dry-run
 * decorator instead of made) and everything it would wait for (a plane to come up, an approval, pods).
 */
export interface DryRunPlan {
  calls: Array<PlannedCall & { step: StepName }>;
  /** What the step would have waited for, as it said it (the state it saw). */
  waits: Array<{ step: StepName; detail: string }>;
  /** The approval a real run would ask for at `step`, and of whom. */
  approval?: { step: StepName; required: number; approvers: string[] };
  /**
   * Where the plan had to stop without a blocker: what `step` reads does not exist until a change the
   * dry run only planned is made (a private cluster's Connect Gateway path before it is registered).
   */
  stopped?: { step: StepName; reason: string };
}

/** Who cancelled a run, and when. */
export interface Cancellation {
  by: string;
  at: number;
}

interface RunCommon {
  id: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  requester: { userId: string; channelId: string };
  cluster: ClusterRef;
  status: RunStatus;
  step: StepName;
  steps: Partial<Record<StepName, StepProgress>>;
  /** When the current step started and how often it has polled: backoff and timeouts derive from it. */
  attempt: { since: number; polls: number };
  approval?: ApprovalState;
  /** Where the run's thread is; the messages' timestamps live in the outbox (src/store/messages.ts). */
  /**
   * `closing`: everything about the finished run has been said and its thread is being compacted; a
   * worker that finds the record so does not announce it again (the thread's records may be gone).
   */
  slack: { channel: string; closing?: boolean };
  outcome?: Outcome;
  cancel?: Cancellation;
  /** A run of a batch (`enable-batch`): it says nothing in Slack of its own; its batch does. */
  parent?: string;
  /** A dry run (`dry-run=true`): reads everything, changes nothing, and keeps here what it would do. */
  dryRun?: DryRunPlan;
}

export interface EnableClusterRun extends RunCommon {
  kind: 'enable-cluster';
  options: { namespaces: string[]; restart: boolean; fleet?: string };
  facts: EnableFacts;
}

/** `/mesh inject` and `/mesh uninject`: sidecar injection on or off for some namespaces. */
export interface NamespacesRun extends RunCommon {
  kind: 'inject' | 'uninject';
  options: { namespaces: string[]; restart: boolean; fleet?: string };
  facts: InjectionFacts;
}

export type DisableFacts = InjectionFacts;

/** `/mesh disable cluster`: injection off where the managed mesh injects, management manual, maybe unregister. */
export interface DisableClusterRun extends RunCommon {
  kind: 'disable-cluster';
  /** `namespaces` are found by the plan, not named by the command. */
  options: { namespaces: string[]; restart: boolean; unregister: boolean; fleet?: string };
  facts: DisableFacts;
}

/** What `/mesh config` will write: the channel's ConfigMap, `data.mesh` before and after, the diff shown. */
export interface MeshConfigPlan {
  namespace: string;
  /** istio-asm-managed, -rapid or -stable: the one for the cluster's release channel. */
  configMap: string;
  /** The resourceVersion it was read at; null when it did not exist (it will be created). */
  resourceVersion: string | null;
  before: string;
  after: string;
  /** `lineDiff(before, after)`; empty when it is as asked already. */
  diff: string;
  /** How many times the ConfigMap was found changed by someone else and the plan made again. */
  replanned: number;
}

export interface MeshConfigFacts extends InjectionFacts {
  meshConfig?: MeshConfigPlan;
  /** How the write went: created or edited, and whether the ConfigMap had moved on (other keys changed) since the plan. */
  written?: { created: boolean; movedOn: boolean };
}

/** `/mesh config REF access-log=on|off tracing=N`: one edit of the managed mesh's MeshConfig, after approval. */
export interface MeshConfigRun extends RunCommon {
  kind: 'mesh-config';
  /** `namespaces` and `restart` are unused (an edit restarts nothing): kept so every run reads alike. */
  options: {
    namespaces: string[];
    restart: boolean;
    accessLog?: boolean;
    tracingSampling?: number;
    fleet?: string;
  };
  facts: MeshConfigFacts;
}

/** A cluster of a batch, and the run that onboards it (none when another run held the cluster). */
export interface BatchMember {
  ref: string;
  runId?: string;
  /** Why the cluster got no run: another run holds it. */
  skipped?: string;
}

/** What the batch knows of its runs, as its root message shows it: counts by step, failures named. */
export interface BatchTally {
  /** Runs by the title of the step they are at (finished ones under their status). */
  byStep: Record<string, number>;
  failed: Array<{ ref: string; runId: string; message: string }>;
  succeeded: number;
  /** Runs waiting for the batch's approval, and what they would change. */
  planned: Array<{ ref: string; runId: string; namespaces: string[]; pods: number; restarts: number }>;
  /** A batch's dry run: each finished member's plan in one line (the member's record keeps it whole). */
  rehearsed?: RehearsedMember[];
}

/** One member of a batch's dry run, as its summary lists it. */
export interface RehearsedMember {
  ref: string;
  runId: string;
  /** `succeeded`: a real run would go on; `failed`: a blocker (or an error) stops it. */
  status: RunStatus;
  /** The changes its plan names. */
  changes: number;
  /** Pods its plan would restart, of the pods in its namespaces. */
  restarts: number;
  pods: number;
  /** What stopped it: the blockers' codes (the outcome's code when it is one), the step and the message. */
  codes?: string[];
  step?: StepName;
  message?: string;
}

/** The injection facts stay unset (each run of the batch has its own): shared steps and views read them as absent. */
export interface BatchFacts extends InjectionFacts {
  /** The clusters the targets matched, in order. */
  resolved?: string[];
  /** Targets that matched nothing, as typed. */
  unmatched?: string[];
  /** Set when the requester clicked Confirm on the resolved list. */
  confirmed?: { by: string; at: number };
  members?: BatchMember[];
  tally?: BatchTally;
  /** The batch's decision has been handed to its runs. */
  released?: boolean;
}

/**
 * `/mesh enable cluster` over several clusters or patterns: one run per cluster (each an
 * `enable-cluster` run whose `parent` is this one), one root message with a live table, one approval.
 * Its `cluster` is its own scope (`PROJECT/-/BATCH_ID`), so it locks no real cluster. With `dryRun`
 * (`dry-run=true`) its members are dry runs and it asks nobody: its own `dryRun` plan stays empty, each
 * member's record keeps that member's plan, and `facts.tally.rehearsed` the line of each.
 */
export interface EnableBatchRun extends RunCommon {
  kind: 'enable-batch';
  options: {
    namespaces: string[];
    restart: boolean;
    /** Cluster references and patterns as typed: `P/L/C`, `P/L/*`, `P/-/prod-*`. */
    targets: string[];
    /** `label:KEY=VALUE` filters: a cluster must carry every one. */
    labels: Record<string, string>;
    /** Where the resolved list (with its Confirm button) is answered; Slack's, good for 30 min. */
    responseUrl: string;
    /** `fleet=HOST`: every cluster joins this fleet host project (else each its own, or config's). */
    fleet?: string;
  };
  facts: BatchFacts;
}

/** A run record is one of the workflows' records, told apart by `kind`. */
export type RunRecord = EnableClusterRun | NamespacesRun | DisableClusterRun | EnableBatchRun | MeshConfigRun;

export function clusterKey(cluster: ClusterRef): string {
  return `${cluster.project}/${cluster.location}/${cluster.name}`;
}

export function newRun(input: {
  kind: WorkflowKind;
  id: string;
  now: number;
  requester: { userId: string; channelId: string };
  cluster: ClusterRef;
  options: RunRecord['options'];
  /** The workflow's first step. */
  firstStep: StepName;
  dryRun?: boolean;
}): RunRecord {
  // The kind and its options come together from the verb that admits the run.
  return {
    id: input.id,
    kind: input.kind,
    version: 0,
    createdAt: input.now,
    updatedAt: input.now,
    requester: input.requester,
    cluster: input.cluster,
    options: input.options,
    status: 'queued',
    step: input.firstStep,
    steps: {},
    attempt: { since: input.now, polls: 0 },
    facts: {},
    slack: { channel: input.requester.channelId },
    ...(input.dryRun ? { dryRun: { calls: [], waits: [] } } : {}),
  } as RunRecord;
}
