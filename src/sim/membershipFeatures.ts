/**
 * GKE Hub v2's MembershipFeature for servicemesh (`v2/…/memberships/M/features/servicemesh`): what gcloud 528's
 * `container fleet mesh update` reads and writes. It is a second view of the v1 feature's
 * `membershipSpecs[KEY]` and `membershipStates[KEY]`, never a copy: both read and write the same entry.
 */
import { rfc3339 } from './clock.js';
import {
  membershipFeatureState,
  membershipSpecEntry,
  requireMeshService,
  v1MembershipSpec,
} from './features.js';
import { findMembership, type HubContext } from './gkehub.js';
import { failedPrecondition, invalidArgument, notFound, parseJsonBody } from './google.js';
import { ok, param, type Router, type SimRequest } from './http.js';
import { isJsonObject, type JsonObject } from './json.js';
import type { MembershipSpecEntry, SimFeature, SimMembership, SimProject } from './world.js';

const resourceType = 'type.googleapis.com/google.cloud.gkehub.v2.MembershipFeature';

interface Target {
  project: SimProject;
  membership: SimMembership;
  /** The fleet's servicemesh feature; undefined when `mesh enable` has not run. */
  feature: SimFeature | undefined;
  /** `projects/NUMBER/locations/L/memberships/M`, the key of both v1 maps. */
  key: string;
}

/** A bool query parameter as Google reads it: gcloud (Python) sends `True`. */
function queryFlag(req: SimRequest, name: string): boolean {
  return ['true', '1'].includes((req.query.get(name) ?? '').toLowerCase());
}

function findTarget(ctx: HubContext, req: SimRequest): Target {
  const { project, membership } = findMembership(ctx, req);
  const featureId = param(req, 'feature');
  if (featureId !== 'servicemesh') {
    throw notFound(
      `Resource '${membership.name}/features/${featureId}' was not found (the sim has servicemesh only)`,
    );
  }
  requireMeshService(project, featureId);
  return {
    project,
    membership,
    feature: ctx.world.feature(project.id, 'servicemesh'),
    key: ctx.world.membershipKey(membership),
  };
}

/** v1 spec `{mesh, origin}` ↔ v2 spec `{servicemesh, origin}`. */
function v2Spec(entry: MembershipSpecEntry): JsonObject {
  const { mesh, origin } = v1MembershipSpec(entry);
  return {
    ...(mesh === undefined ? {} : { servicemesh: mesh }),
    ...(origin === undefined ? {} : { origin }),
  };
}

function v1Spec(spec: JsonObject): JsonObject {
  const { servicemesh, origin } = spec;
  return {
    ...(servicemesh === undefined ? {} : { mesh: servicemesh }),
    ...(origin === undefined ? {} : { origin }),
  };
}

function resource(ctx: HubContext, target: Target, feature: SimFeature): JsonObject {
  const { world } = ctx;
  const entry = feature.membershipSpecs.get(target.key);
  return {
    name: `${target.key}/features/servicemesh`,
    ...(entry ? { spec: v2Spec(entry) } : {}),
    ...(world.membershipStateCode(target.membership) === 'READY'
      ? { state: membershipFeatureState(world, target.membership) }
      : {}),
    lifecycleState: { state: 'ACTIVE' },
    createTime: rfc3339(feature.createdAt),
    updateTime: rfc3339(feature.updatedAt),
  };
}

function getMembershipFeature(ctx: HubContext, req: SimRequest): JsonObject {
  const target = findTarget(ctx, req);
  if (!target.feature) throw notFound(`Resource '${target.key}/features/servicemesh' was not found`);
  return resource(ctx, target, target.feature);
}

function updateMaskPaths(req: SimRequest): string[] {
  const paths = (req.query.get('updateMask') ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter(Boolean);
  if (paths.length === 0) throw invalidArgument('update_mask is required, e.g. updateMask=spec.');
  const unsupported = paths.find((path) => path !== 'spec' && path !== '*');
  if (unsupported) throw invalidArgument(`Invalid update_mask path "${unsupported}": the sim supports spec.`);
  return paths;
}

function patchMembershipFeature(ctx: HubContext, req: SimRequest): JsonObject {
  const { world } = ctx;
  const target = findTarget(ctx, req);
  updateMaskPaths(req);
  const { feature } = target;
  if (!feature) {
    throw failedPrecondition(
      `Feature servicemesh is not enabled on fleet project ${target.project.id}: run gcloud container fleet mesh enable first.`,
    );
  }
  if (!feature.membershipSpecs.has(target.key) && !queryFlag(req, 'allowMissing')) {
    throw notFound(
      `Resource '${target.key}/features/servicemesh' was not found; set allowMissing to create it.`,
    );
  }
  const body = parseJsonBody(req);
  const spec = body.spec ?? {};
  if (!isJsonObject(spec))
    throw invalidArgument("Invalid value at 'membership_feature.spec': expected an object.");
  const written = v1Spec(spec);
  if (Object.keys(written).length === 0) feature.membershipSpecs.delete(target.key);
  else feature.membershipSpecs.set(target.key, membershipSpecEntry(world, feature, target.key, written));
  const now = world.clock.now();
  feature.updatedAt = now;
  return ctx.startOperation({
    project: target.project,
    location: target.membership.location,
    verb: 'update',
    target: `${target.key}/features/servicemesh`,
    doneAt: now + world.timings.featureOperation,
    apiVersion: 'v2',
    response: () => ({ '@type': resourceType, ...resource(ctx, target, feature) }),
  });
}

function deleteMembershipFeature(ctx: HubContext, req: SimRequest): JsonObject {
  const { world } = ctx;
  const target = findTarget(ctx, req);
  if (!target.feature?.membershipSpecs.delete(target.key)) {
    throw notFound(`Resource '${target.key}/features/servicemesh' was not found`);
  }
  const now = world.clock.now();
  target.feature.updatedAt = now;
  return ctx.startOperation({
    project: target.project,
    location: target.membership.location,
    verb: 'delete',
    target: `${target.key}/features/servicemesh`,
    doneAt: now + world.timings.featureOperation,
    apiVersion: 'v2',
    response: () => ({ '@type': 'type.googleapis.com/google.protobuf.Empty' }),
  });
}

export function registerMembershipFeatureRoutes(router: Router, ctx: HubContext): void {
  const path = '/v2/projects/{project}/locations/{location}/memberships/{membership}/features/{feature}';
  router
    .add('GET', path, (req) => ok(getMembershipFeature(ctx, req)))
    .add('PATCH', path, (req) => ok(patchMembershipFeature(ctx, req)))
    .add('DELETE', path, (req) => ok(deleteMembershipFeature(ctx, req)));
}
