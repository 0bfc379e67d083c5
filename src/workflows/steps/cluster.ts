/** The first read of every workflow, and the one step enable and disable share with a different mode. */
import { MeshopsError } from '../../errors.js';
import type { Step, StepContext } from '../engine.js';
import type { ClusterInfo, ReleaseChannel } from '../ports.js';
import { fleetOf, fleetProjectFor, type FleetHost } from '../fleetHost.js';
import { membershipKeyWithNumber } from '../names.js';
import { awaitOperation, need, startedOperation } from './common.js';

/** The managed control-plane revision each GKE release channel gets (seed 003). */
export const meshRevisionByChannel: Record<ReleaseChannel, string> = {
  RAPID: 'asm-managed-rapid',
  REGULAR: 'asm-managed',
  STABLE: 'asm-managed-stable',
  EXTENDED: 'asm-managed-stable',
  UNSPECIFIED: 'asm-managed',
};

export interface ClusterFacts {
  cluster: ClusterInfo;
  projectNumber: string;
  /** The fleet project the run works in, with its number (the cluster's own unless a host was given). */
  fleet: FleetHost;
  meshRevision: string;
}

/**
 * The cluster, its project's number, its fleet's project and number, and the mesh revision its
 * channel gets; with `mustRun`, only a RUNNING cluster.
 */
export async function readCluster(
  ctx: StepContext,
  { mustRun }: { mustRun: boolean },
): Promise<ClusterFacts> {
  const { gke, projects } = ctx.deps;
  const ref = ctx.run.cluster;
  const cluster = await gke.getCluster(ref);
  if (mustRun && cluster.status !== 'RUNNING') {
    throw new MeshopsError('CLUSTER_NOT_RUNNING', `cluster ${ref.name} is ${cluster.status}, not RUNNING`, {
      hint: 'wait until the cluster is RUNNING and run the command again',
    });
  }
  const projectNumber = await projects.projectNumber(ref.project);
  const asked = (ctx.run.options as { fleet?: string }).fleet;
  const host = fleetProjectFor(ref, ctx.deps.policy.hostProjects, asked);
  const fleet = {
    project: host,
    number: host === ref.project ? projectNumber : await projects.projectNumber(host),
  };
  return { cluster, projectNumber, fleet, meshRevision: meshRevisionByChannel[cluster.releaseChannel] };
}

/** The fleet project and number the run's first step resolved. */
export function needFleet(ctx: StepContext): FleetHost {
  return need(fleetOf(ctx.run) ?? undefined, 'the fleet project');
}

export type Management = 'MANAGEMENT_AUTOMATIC' | 'MANAGEMENT_MANUAL';

/**
 * Sets this run's membership's `mesh.management` (only its key: the feature's map merges
 * server-side, other memberships keep their specs) and waits for the operation.
 */
export function setManagement(management: Management): Step {
  const on = management === 'MANAGEMENT_AUTOMATIC';
  const what = on ? 'turning on managed mesh' : 'turning off managed mesh';
  return async (ctx) => {
    const { fleet, notifier } = ctx.deps;
    const facts = ctx.run.facts;
    const membership = need('membershipName' in facts ? facts.membershipName : undefined, 'the membership');
    const waiting = await awaitOperation(ctx, what);
    if (waiting) return waiting;
    if (ctx.run.facts.operation) {
      await notifier.emit(ctx.run, { type: on ? 'managementOn' : 'managementOff', membership });
      return { type: 'next', detail: management };
    }
    // A crash after the PATCH reached Google but before its operation was saved: the feature already says so.
    const host = needFleet(ctx);
    const feature = await fleet.readMeshFeature(host.project);
    const current = feature.memberships[membershipKeyWithNumber(membership, host.number)]?.management;
    if (current === management) {
      await notifier.emit(ctx.run, { type: on ? 'managementOn' : 'managementOff', membership });
      return { type: 'next', detail: `${management} (already set)` };
    }
    const operation = await fleet.setMeshManagement(host.project, membership, management);
    return startedOperation(ctx, operation, what);
  };
}
