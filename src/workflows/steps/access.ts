/**
 * How a run reaches a cluster's Kubernetes API: at the cluster's endpoint with its CA, or through Connect
 * Gateway at its fleet membership. The gateway needs the membership, so it can be used only once the
 * cluster is registered; `auto` takes it for a cluster that has only a private endpoint (meshops, outside
 * the cluster's VPC, could not connect to it).
 */
import { MeshopsError } from '../../errors.js';
import type { StepContext } from '../engine.js';
import { fleetOf } from '../fleetHost.js';
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
  fleetProject: string,
  ref: ClusterRef,
  cluster: ClusterInfo,
  projectNumber: string,
): Promise<string | undefined> {
  if (!viaGateway(mode, cluster)) return undefined;
  return (await fleet.findMembership(fleetProject, ref, projectNumber))?.name;
}

/**
 * The cluster's Kubernetes API before the run registered it (preflight): direct, or through the gateway
 * when the cluster is a fleet member already; null when only the gateway could reach it and it is not one
 * yet (the register step reads it then).
 */
export async function kubeBeforeRegistration(ctx: StepContext, cluster: ClusterInfo): Promise<Kube | null> {
  const mode = ctx.deps.policy.kubeAccess;
  if (!viaGateway(mode, cluster)) return ctx.deps.kube.forCluster(cluster);
  const host = need(fleetOf(ctx.run) ?? undefined, 'the fleet project');
  const projectNumber = need(ctx.run.facts.projectNumber, 'the project number');
  const member = await ctx.deps.fleet.findMembership(host.project, ctx.run.cluster, projectNumber);
  if (!member) return null;
  return ctx.deps.kube.forCluster(
    clusterAccess(mode, ctx.run.cluster, cluster, { name: member.name, projectNumber: host.number }),
  );
}

/** The run's cluster's Kubernetes API, reached the way config and the cluster say (see above). */
export function kubeOfRun(ctx: StepContext): Kube {
  const facts = ctx.run.facts;
  const cluster = need('cluster' in facts ? facts.cluster : undefined, 'the cluster');
  const membershipName = 'membershipName' in facts ? facts.membershipName : undefined;
  // The gateway's path names the membership with its fleet's project number (a fleet host's, with one).
  const projectNumber = fleetOf(ctx.run)?.number;
  return ctx.deps.kube.forCluster(
    clusterAccess(
      ctx.deps.policy.kubeAccess,
      ctx.run.cluster,
      cluster,
      membershipName && projectNumber ? { name: membershipName, projectNumber } : null,
    ),
  );
}

/**
 * Why a dry run cannot read the cluster here, or undefined: it reaches the cluster only through Connect
 * Gateway, and the membership the gateway needs is one the dry run planned (its register step's call was
 * recorded, not made). A real run registers first, then reads.
 */
export function unreachableInDryRun(ctx: StepContext): string | undefined {
  const plan = ctx.run.dryRun;
  const facts = ctx.run.facts;
  const cluster = 'cluster' in facts ? facts.cluster : undefined;
  if (!plan || !cluster || !viaGateway(ctx.deps.policy.kubeAccess, cluster)) return undefined;
  if (!plan.calls.some((call) => call.step === 'register')) return undefined;
  const how = cluster.privateEndpointOnly ? 'it has only a private endpoint' : 'kube.access: gateway';
  return `${clusterKey(ctx.run.cluster)} is reached only through Connect Gateway (${how}), which knows it once it is a fleet member, so its namespaces, workloads and pods cannot be read before the registration is made; a real run registers it, checks the namespaces asked for, and shows the injection plan (labels, restarts) in its approval prompt before any namespace changes`;
}
