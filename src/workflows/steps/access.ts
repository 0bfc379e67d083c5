/**
 * How a run reaches a cluster's Kubernetes API: at the cluster's endpoint with its CA, or through Connect
 * Gateway at its fleet membership. The gateway needs the membership, so it can be used only once the
 * cluster is registered; `auto` takes it for a cluster that has only a private endpoint (meshops, outside
 * the cluster's VPC, could not connect to it).
 */
import { MeshopsError } from '../../errors.js';
import type { StepContext } from '../engine.js';
import { membershipKeyWithNumber } from '../names.js';
import type { ClusterAccess, ClusterInfo, ClusterRef, Fleet, Kube, KubeAccessMode } from '../ports.js';
import { clusterKey } from '../run.js';
import { need } from './common.js';

/** Whether the cluster is reached through Connect Gateway under this mode. */
export function viaGateway(mode: KubeAccessMode, cluster: Pick<ClusterInfo, 'privateEndpointOnly'>): boolean {
  return mode === 'gateway' || (mode === 'auto' && cluster.privateEndpointOnly === true);
}

/**
 * The access for `cluster`: direct, or through the gateway at `membership` (its name as the fleet wrote it;
 * the gateway's path takes the project NUMBER). A gateway cluster without a membership cannot be reached.
 */
export function clusterAccess(
  mode: KubeAccessMode,
  ref: ClusterRef,
  cluster: ClusterInfo,
  membership: { name: string; projectNumber: string } | null,
): ClusterAccess {
  const direct = { endpoint: cluster.endpoint, caCertificate: cluster.caCertificate };
  if (!viaGateway(mode, cluster)) return direct;
  if (!membership) {
    const key = clusterKey(ref);
    throw new MeshopsError(
      'FAILED_PRECONDITION',
      `${key} is reached through Connect Gateway (${cluster.privateEndpointOnly ? 'it has only a private endpoint' : 'kube.access: gateway'}), which needs its fleet membership, and it is not registered`,
      {
        hint: `register it first: \`/mesh enable cluster ${key}\` does, before it touches the cluster's API`,
      },
    );
  }
  return { ...direct, gateway: membershipKeyWithNumber(membership.name, membership.projectNumber) };
}

/**
 * The membership a step needs to reach the cluster: none for a direct cluster; for a gateway cluster the
 * one the record names, else the fleet's (one read), else none.
 */
export async function membershipForAccess(
  mode: KubeAccessMode,
  fleet: Fleet,
  ref: ClusterRef,
  cluster: ClusterInfo,
  projectNumber: string,
): Promise<string | undefined> {
  if (!viaGateway(mode, cluster)) return undefined;
  return (await fleet.findMembership(ref.project, ref, projectNumber))?.name;
}

/** The run's cluster's Kubernetes API, reached the way config and the cluster say (see above). */
export function kubeOfRun(ctx: StepContext): Kube {
  const facts = ctx.run.facts;
  const cluster = need('cluster' in facts ? facts.cluster : undefined, 'the cluster');
  const membershipName = 'membershipName' in facts ? facts.membershipName : undefined;
  const projectNumber = 'projectNumber' in facts ? facts.projectNumber : undefined;
  return ctx.deps.kube.forCluster(
    clusterAccess(
      ctx.deps.policy.kubeAccess,
      ctx.run.cluster,
      cluster,
      membershipName && projectNumber ? { name: membershipName, projectNumber } : null,
    ),
  );
}
