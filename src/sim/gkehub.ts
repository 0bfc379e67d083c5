import { rfc3339 } from './clock.js';
import type { SimCluster } from './cluster.js';
import { registerFeatureRoutes } from './features.js';
import { registerMembershipFeatureRoutes } from './membershipFeatures.js';
import {
  alreadyExists,
  GoogleApiError,
  failedPrecondition,
  invalidArgument,
  labelsField,
  notFound,
  parseJsonBody,
  requireProject,
} from './google.js';
import { ok, param, Router, type SimRequest } from './http.js';
import { randomHex } from './ids.js';
import { isJsonObject, type JsonObject } from './json.js';
import { OperationStore, type OperationError } from './operations.js';
import { resourceLinkFor, type SimMembership, type SimProject, type SimWorld } from './world.js';

export const gkehubService = 'gkehub.googleapis.com';
const locationPattern = /^(global|[a-z]+-[a-z]+\d+)$/;
const membershipIdPattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** What membership and feature handlers share: the world and this API's long-running operations. */
export interface HubContext {
  world: SimWorld;
  operations: OperationStore;
  startOperation(options: {
    project: SimProject;
    location: string;
    verb: 'create' | 'update' | 'delete';
    target: string;
    /** The API version the operation was started through (its metadata says so); default v1. */
    apiVersion?: 'v1' | 'v2';
    doneAt: number;
    response: () => JsonObject;
    /** Set: the operation ends with this error instead (world.operationFaults). */
    error?: OperationError;
  }): JsonObject;
}

export function issuerFor(cluster: SimCluster): string {
  return `https://container.googleapis.com/v1/projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`;
}

function membershipResource(world: SimWorld, membership: SimMembership): JsonObject {
  const cluster = world.clusterByResourceLink(membership.resourceLink);
  const endpoint: JsonObject = {
    gkeCluster: { resourceLink: membership.resourceLink, ...(cluster ? {} : { clusterMissing: true }) },
  };
  if (cluster) {
    endpoint.kubernetesMetadata = {
      kubernetesApiServerVersion: `v${cluster.masterVersion}`,
      nodeProviderId: 'gce',
      nodeCount: cluster.nodeCount,
      vcpuCount: cluster.nodeCount * 2,
      memoryMb: cluster.nodeCount * 8192,
      updateTime: rfc3339(world.clock.now()),
    };
  }
  const resource: JsonObject = {
    name: membership.name,
    endpoint,
    state: { code: world.membershipStateCode(membership) },
    createTime: rfc3339(membership.createdAt),
    updateTime: rfc3339(membership.createdAt),
    uniqueId: membership.uniqueId,
    monitoringConfig: {
      projectId: cluster?.project ?? membership.project,
      location: cluster?.location ?? membership.location,
      cluster: cluster?.name ?? membership.membershipId,
      kubernetesMetricsPrefix: 'kubernetes.io',
      clusterHash: cluster?.id ?? '',
    },
  };
  if (Object.keys(membership.labels).length > 0) resource.labels = membership.labels;
  if (membership.issuer !== undefined) {
    resource.authority = {
      issuer: membership.issuer,
      workloadIdentityPool: `${membership.project}.svc.id.goog`,
      identityProvider: membership.issuer,
    };
  }
  return resource;
}

function requireLocation(location: string, allowWildcard: boolean): void {
  if (allowWildcard && location === '-') return;
  if (!locationPattern.test(location)) {
    throw invalidArgument(`Location "${location}" is not a valid location.`);
  }
}

function createMembership(ctx: HubContext, req: SimRequest): JsonObject {
  const { world } = ctx;
  const project = requireProject(world, param(req, 'project'), gkehubService);
  const location = param(req, 'location');
  requireLocation(location, false);
  const membershipId = req.query.get('membershipId');
  if (!membershipId) throw invalidArgument('membership_id is required.');
  if (!membershipIdPattern.test(membershipId)) {
    throw invalidArgument(
      `membership_id "${membershipId}" must be a RFC 1123 DNS label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.`,
    );
  }
  const name = `projects/${project.id}/locations/${location}/memberships/${membershipId}`;
  if (world.memberships.has(name)) throw alreadyExists(`Membership "${name}" already exists.`);
  const body = parseJsonBody(req);
  const endpoint = body.endpoint;
  const gkeCluster = isJsonObject(endpoint) ? endpoint.gkeCluster : undefined;
  const resourceLink = isJsonObject(gkeCluster) ? gkeCluster.resourceLink : undefined;
  if (typeof resourceLink !== 'string') {
    throw invalidArgument(
      'membership.endpoint.gke_cluster.resource_link is required (the sim only registers GKE clusters).',
    );
  }
  const cluster = world.clusterByResourceLink(resourceLink);
  if (!cluster) {
    throw invalidArgument(
      `Invalid endpoint.gkeCluster.resourceLink "${resourceLink}": the GKE cluster does not exist or the caller cannot access it.`,
    );
  }
  const existing = world.membershipsOfCluster(cluster)[0];
  if (existing) {
    throw alreadyExists(
      `The cluster ${resourceLinkFor(cluster)} is already registered as membership "${existing.name}".`,
    );
  }
  // A fleet host registering another project's cluster acts through its GKE Hub service agent there.
  const agent = `serviceAccount:service-${project.number}@gcp-sa-gkehub.iam.gserviceaccount.com`;
  if (cluster.project !== project.id && !world.hasRole(cluster.project, 'roles/gkehub.serviceAgent', agent)) {
    throw new GoogleApiError(
      403,
      'PERMISSION_DENIED',
      `The fleet's service agent ${agent.replace('serviceAccount:', '')} lacks roles/gkehub.serviceAgent on project ${cluster.project}, so it cannot register ${resourceLinkFor(cluster)}.`,
    );
  }
  const authority = body.authority;
  const issuer = isJsonObject(authority) ? authority.issuer : undefined;
  if (issuer !== undefined && issuer !== null && issuer !== '') {
    if (!cluster.workloadIdentity) {
      throw failedPrecondition(
        `Workload Identity is not enabled on cluster projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}; ` +
          `enable it (workload pool ${cluster.project}.svc.id.goog) or register without authority.issuer.`,
      );
    }
    if (issuer !== issuerFor(cluster)) {
      throw invalidArgument(
        `authority.issuer must be "${issuerFor(cluster)}" for this cluster, got ${JSON.stringify(issuer)}.`,
      );
    }
  }
  const now = world.clock.now();
  const error = world.operationFaults.take('gkehub', 'create', name);
  const membership = world.addMembership({
    name,
    project: project.id,
    location,
    membershipId,
    resourceLink,
    ...(typeof issuer === 'string' && issuer !== '' ? { issuer } : {}),
    labels: labelsField(body.labels, 'membership.labels'),
    createdAt: now,
    readyAt: now + world.timings.membershipCreate,
  });
  // A creation that fails leaves no membership once its operation has ended.
  if (error) world.scheduleGone(membership, membership.readyAt);
  return ctx.startOperation({
    project,
    location,
    verb: 'create',
    target: name,
    doneAt: membership.readyAt,
    ...(error ? { error } : {}),
    response: () => ({
      '@type': 'type.googleapis.com/google.cloud.gkehub.v1.Membership',
      ...membershipResource(world, membership),
    }),
  });
}

export function findMembership(
  ctx: HubContext,
  req: SimRequest,
): { project: SimProject; membership: SimMembership } {
  const project = requireProject(ctx.world, param(req, 'project'), gkehubService);
  const name = `projects/${project.id}/locations/${param(req, 'location')}/memberships/${param(req, 'membership')}`;
  const membership = ctx.world.memberships.get(name);
  if (!membership) throw notFound(`Resource '${name}' was not found`);
  return { project, membership };
}

function deleteMembership(ctx: HubContext, req: SimRequest): JsonObject {
  const { project, membership } = findMembership(ctx, req);
  const now = ctx.world.clock.now();
  if (membership.deletingAt === undefined) {
    membership.deletingAt = now;
    ctx.world.scheduleGone(membership, now + ctx.world.timings.membershipCreate);
    ctx.world.feature(project.id, 'servicemesh')?.membershipSpecs.delete(ctx.world.membershipKey(membership));
  }
  return ctx.startOperation({
    project,
    location: membership.location,
    verb: 'delete',
    target: membership.name,
    doneAt: membership.goneAt ?? now,
    response: () => ({ '@type': 'type.googleapis.com/google.protobuf.Empty' }),
  });
}

function listMemberships(ctx: HubContext, req: SimRequest): JsonObject {
  const project = requireProject(ctx.world, param(req, 'project'), gkehubService);
  const location = param(req, 'location');
  requireLocation(location, true);
  const resources = [...ctx.world.memberships.values()]
    .filter((m) => m.project === project.id && (location === '-' || m.location === location))
    .map((m) => membershipResource(ctx.world, m));
  // proto3 JSON leaves out empty repeated fields: an empty list is `{}`.
  return resources.length > 0 ? { resources } : {};
}

function getOperation(ctx: HubContext, req: SimRequest): JsonObject {
  const project = requireProject(ctx.world, param(req, 'project'), gkehubService);
  const operation = ctx.operations.get(param(req, 'operation'));
  if (!operation || operation.project !== project.id) {
    throw notFound(
      `Operation "projects/${param(req, 'project')}/locations/${param(req, 'location')}/operations/${param(req, 'operation')}" not found.`,
    );
  }
  return ctx.operations.render(operation);
}

export function gkehubRouter(world: SimWorld): Router {
  const operations = new OperationStore(world.clock);
  const ctx: HubContext = {
    world,
    operations,
    startOperation({ project, location, verb, target, doneAt, response, error, apiVersion = 'v1' }) {
      const createdAt = world.clock.now();
      const id = `operation-${createdAt}-${randomHex(6)}-${randomHex(4)}-${randomHex(4)}-${randomHex(4)}`;
      return operations.add({
        id,
        name: `projects/${project.id}/locations/${location}/operations/${id}`,
        project: project.id,
        doneAt,
        metadata: (done) => ({
          '@type': `type.googleapis.com/google.cloud.gkehub.${apiVersion}.OperationMetadata`,
          createTime: rfc3339(createdAt),
          ...(done ? { endTime: rfc3339(doneAt) } : {}),
          target,
          verb,
          apiVersion,
        }),
        response,
        ...(error ? { error } : {}),
      });
    },
  };
  const base = '/v1/projects/{project}/locations/{location}';
  const router = new Router()
    .add('POST', `${base}/memberships`, (req) => ok(createMembership(ctx, req)))
    .add('DELETE', `${base}/memberships/{membership}`, (req) => ok(deleteMembership(ctx, req)));
  // gcloud's fleet feature commands look memberships up through v1beta; its Membership reads the same.
  for (const version of ['v1', 'v1beta']) {
    const scope = `/${version}/projects/{project}/locations/{location}`;
    router
      .add('GET', `${scope}/memberships`, (req) => ok(listMemberships(ctx, req)))
      .add('GET', `${scope}/memberships/{membership}`, (req) =>
        ok(membershipResource(world, findMembership(ctx, req).membership)),
      );
  }
  // One store of operations: v2 MembershipFeature updates are polled through v2.
  for (const version of ['v1', 'v2']) {
    router.add('GET', `/${version}/projects/{project}/locations/{location}/operations/{operation}`, (req) =>
      ok(getOperation(ctx, req)),
    );
  }
  registerFeatureRoutes(router, ctx);
  registerMembershipFeatureRoutes(router, ctx);
  return router;
}
