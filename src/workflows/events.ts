/**
 * What a run tells the people following it, as typed events: the workflow says what happened,
 * src/slack says it in words. Each event has a key that makes it at-most-once per run: a step that
 * runs again after a crash emits the same event under the same key, and nothing is posted twice.
 */
import type { FleetHost } from './fleetHost.js';
import type { ClusterInfo, MeshCondition, PlaneState } from './ports.js';
import type { InClusterControlPlane, InjectionPlan, MeshConfigPlan, StepName } from './run.js';

export type Plane = 'controlPlane' | 'dataPlane';

export type RunEvent =
  /** The run's root message, a live checklist; everything else goes in its thread. */
  | { type: 'started' }
  /** The checklist changed (a step moved, the run finished). */
  | { type: 'progressed' }
  | {
      type: 'clusterResolved';
      cluster: ClusterInfo;
      projectNumber: string;
      meshRevision: string;
      /** The fleet the run works in, when the first step read it. */
      fleet?: FleetHost;
    }
  /** One batchEnable of the services found off on a project. */
  | { type: 'serviceEnabling'; services: string[]; project: string }
  | { type: 'registered'; membership: string; reused: boolean }
  | { type: 'labelled'; label: string; already: boolean }
  | { type: 'managementOn'; membership: string }
  | { type: 'managementOff'; membership: string }
  | { type: 'unregistered'; membership: string }
  | { type: 'meshIdRemoved'; label: string }
  | { type: 'planeChanged'; plane: Plane; state: PlaneState; conditions: MeshCondition[] }
  /** Enable cluster's preflight found an in-cluster istiod (seed 002): what it leaves alone, and the way off it. */
  | { type: 'inClusterControlPlane'; found: InClusterControlPlane }
  | { type: 'injectionPlanned'; plan: InjectionPlan }
  /** The approval prompt, with Approve and Reject buttons. */
  | { type: 'approvalRequested' }
  /**
   * The same prompt asked anew for a changed plan (`hash`): its buttons back, naming the new plan,
   * and a reply in the thread saying why.
   */
  | { type: 'approvalRenewed'; hash: string }
  /** `/mesh config`: the ConfigMap's `data.mesh` read, and what would change in it. */
  | { type: 'meshConfigPlanned'; plan: MeshConfigPlan }
  /** `/mesh config`: the edit written (or the ConfigMap created). */
  | { type: 'meshConfigWritten'; plan: MeshConfigPlan; created: boolean }
  | { type: 'approvalReminder'; expiresAt: number; remainingMs: number }
  /** A first approval of two: the prompt keeps its buttons and says who approved. */
  | { type: 'approvalProgressed' }
  /** The prompt's buttons give way to the decision, or to the expiry. */
  | { type: 'approvalClosed' }
  | { type: 'namespacesLabelled'; plan: InjectionPlan }
  | { type: 'workloadsRestarted'; count: number; restartedAt: string }
  | { type: 'podsVerified'; pods: number; withProxy: boolean }
  /** A step keeps failing with an error worth retrying (Google or the cluster unavailable): said now and then. */
  | { type: 'retrying'; step: StepName; attempt: number; attempts: number; retryInMs: number; reason: string }
  /** The final summary (success, failure with its hint, rejection, expiry). */
  | { type: 'finished' }
  /** After success: the channel now watches the cluster's mesh. */
  | { type: 'watchStarted'; channel: string }
  /** After a disable: the channels that watched the cluster no longer do (nothing managed is left to watch). */
  | { type: 'watchesStopped'; channels: string[] }
  /** A batch's root message, once its runs are started (a list nobody confirms leaves no trace in the channel). */
  | { type: 'batchStarted' }
  /** A batch's clusters, resolved: the requester sees the list, with Confirm and Cancel, only them. */
  | { type: 'batchResolved' }
  /** A run of a batch ended without success: said in the batch's thread. */
  | { type: 'batchRunFailed'; ref: string; runId: string; message: string }
  /** Nothing more will be said in the thread: what its messages left in Redis can be compacted. */
  | { type: 'closed' };

/** The idempotency key of an event within its run. Events that update a message have none. */
export function runEventKey(event: RunEvent): string | null {
  switch (event.type) {
    case 'progressed':
    case 'approvalProgressed':
    case 'approvalClosed':
    case 'closed':
      return null;
    case 'started':
      return 'root';
    case 'clusterResolved':
      return 'resolve';
    case 'serviceEnabling':
      return `enable:${event.project}:${event.services.join(',')}`;
    case 'registered':
      return 'register';
    case 'labelled':
      return 'label';
    case 'managementOn':
    case 'managementOff':
      return 'manage';
    case 'unregistered':
      return 'unregister';
    case 'meshIdRemoved':
      return 'unlabel';
    case 'planeChanged':
      return `${event.plane}:${event.state.state}:${event.state.details.map((d) => d.code).join(',')}`;
    case 'inClusterControlPlane':
      return 'incluster';
    case 'injectionPlanned':
      return 'plan';
    case 'approvalRequested':
      return 'approval';
    case 'approvalRenewed':
      return `approval:renewed:${event.hash}`;
    case 'meshConfigPlanned':
      return `meshconfig:plan:${event.plan.replanned}`;
    case 'meshConfigWritten':
      return 'meshconfig:written';
    case 'approvalReminder':
      return 'approval:reminder';
    case 'namespacesLabelled':
      return 'inject';
    case 'workloadsRestarted':
      return 'restart';
    case 'podsVerified':
      return 'verify';
    case 'retrying':
      return `retry:${event.step}:${event.attempt}`;
    case 'finished':
      return 'outcome';
    case 'watchStarted':
      return 'watch';
    case 'watchesStopped':
      return 'unwatch:all';
    case 'batchResolved':
      return 'resolved';
    case 'batchStarted':
      return 'root';
    case 'batchRunFailed':
      return `failed:${event.runId}`;
  }
}
