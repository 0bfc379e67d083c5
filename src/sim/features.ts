import { rfc3339 } from './clock.js';
import type { HubContext } from './gkehub.js';
import {
  alreadyExists,
  invalidArgument,
  notFound,
  parseJsonBody,
  labelsField,
  requireProject,
  serviceDisabled,
} from './google.js';
import { ok, param, type Router, type SimRequest } from './http.js';
import { isJsonObject, without, type JsonObject, type JsonValue } from './json.js';
import type { MeshMembershipState, StatusDetail } from './mesh.js';
import type { MembershipSpecEntry, SimFeature, SimMembership, SimProject, SimWorld } from './world.js';

const gkehubService = 'gkehub.googleapis.com';
const meshService = 'mesh.googleapis.com';
const managementValues = ['MANAGEMENT_UNSPECIFIED', 'MANAGEMENT_AUTOMATIC', 'MANAGEMENT_MANUAL'];
const controlPlaneValues = ['CONTROL_PLANE_MANAGEMENT_UNSPECIFIED', 'AUTOMATIC', 'MANUAL'];
const membershipKeyPattern = /^projects\/([^/]+)\/locations\/([^/]+)\/memberships\/([^/]+)$/;

function details(list: StatusDetail[]): JsonObject {
  return list.length > 0 ? { details: list.map((d) => ({ code: d.code, details: d.details })) } : {};
}

function servicemeshState(state: MeshMembershipState): JsonObject {
  const servicemesh: JsonObject = {
    controlPlaneManagement: {
      ...details(state.controlPlaneDetails),
      state: state.controlPlane,
      ...(state.implementation ? { implementation: state.implementation } : {}),
    },
    dataPlaneManagement: { ...details(state.dataPlaneDetails), state: state.dataPlane },
  };
  // proto3 JSON leaves out empty repeated fields, so there is no `conditions: []`.
  if (state.conditions.length > 0) servicemesh.conditions = state.conditions.map((c) => ({ ...c }));
  return servicemesh;
}

/** One membership's state, the same in v1's `membershipStates[KEY]` and v2's MembershipFeature `state`. */
export function membershipFeatureState(world: SimWorld, membership: SimMembership): JsonObject {
  const state = world.meshStateOf(membership);
  return {
    servicemesh: servicemeshState(state),
    state: { code: state.code, description: state.description, updateTime: rfc3339(world.clock.now()) },
  };
}

function membershipStates(world: SimWorld, feature: SimFeature): JsonObject {
  const states: JsonObject = {};
  if (feature.featureId !== 'servicemesh') return states;
  for (const membership of world.memberships.values()) {
    if (membership.project !== feature.project || world.membershipStateCode(membership) !== 'READY') continue;
    states[world.membershipKey(membership)] = membershipFeatureState(world, membership);
  }
  return states;
}

/** v1's MembershipFeatureSpec: the written spec and its origin. */
export function v1MembershipSpec(entry: MembershipSpecEntry): JsonObject {
  return { ...entry.spec, origin: { type: entry.origin } };
}

export function featureResource(world: SimWorld, feature: SimFeature): JsonObject {
  const enabling = world.clock.now() < feature.createdAt + world.timings.featureOperation;
  const specs: JsonObject = {};
  for (const [key, entry] of feature.membershipSpecs) specs[key] = v1MembershipSpec(entry);
  const states = membershipStates(world, feature);
  const resource: JsonObject = {
    name: feature.name,
    resourceState: { state: enabling ? 'ENABLING' : 'ACTIVE' },
    spec: feature.spec,
    state: { state: {} },
    createTime: rfc3339(feature.createdAt),
    updateTime: rfc3339(feature.updatedAt),
  };
  if (Object.keys(feature.labels).length > 0) resource.labels = feature.labels;
  // Empty maps are left out of proto3 JSON too.
  if (Object.keys(specs).length > 0) resource.membershipSpecs = specs;
  if (Object.keys(states).length > 0) resource.membershipStates = states;
  return resource;
}

export function requireMeshService(project: SimProject, featureId: string): void {
  if (featureId === 'servicemesh' && !project.services.has(meshService)) {
    throw serviceDisabled(meshService, project.number);
  }
}

function isAutomatic(spec: JsonObject, key: string): boolean {
  const mesh = spec.mesh;
  if (mesh === undefined) return false;
  if (!isJsonObject(mesh)) {
    throw invalidArgument(
      `Invalid value at 'resource.membership_specs[${key}].value.mesh': expected an object.`,
    );
  }
  const { management, controlPlane } = mesh;
  if (
    management !== undefined &&
    (typeof management !== 'string' || !managementValues.includes(management))
  ) {
    throw invalidArgument(
      `Invalid value at 'resource.membership_specs[${key}].value.mesh.management' (type.googleapis.com/google.cloud.gkehub.servicemesh.v1.MembershipSpec.Management), ${JSON.stringify(management)}`,
    );
  }
  if (
    controlPlane !== undefined &&
    (typeof controlPlane !== 'string' || !controlPlaneValues.includes(controlPlane))
  ) {
    throw invalidArgument(
      `Invalid value at 'resource.membership_specs[${key}].value.mesh.control_plane', ${JSON.stringify(controlPlane)}`,
    );
  }
  return management === 'MANAGEMENT_AUTOMATIC' || (management === undefined && controlPlane === 'AUTOMATIC');
}

/** Keys may name the project by ID or number; the API stores and returns the number. */
function normaliseKey(world: SimWorld, feature: SimFeature, key: string): string {
  const match = membershipKeyPattern.exec(key);
  if (!match) {
    throw invalidArgument(
      `Invalid membership spec key "${key}": expected projects/{p}/locations/{l}/memberships/{m}.`,
    );
  }
  const project = world.project(match[1] ?? '');
  if (project?.id !== feature.project) {
    throw invalidArgument(
      `Membership spec key "${key}" must be in the feature's project ${feature.project}.`,
    );
  }
  const membership = world.membership(key);
  if (!membership) throw invalidArgument(`Membership "${key}" does not exist.`);
  return world.membershipKey(membership);
}

const originTypes = ['TYPE_UNSPECIFIED', 'FLEET', 'FLEET_OUT_OF_SYNC', 'USER'];

function originOf(spec: JsonObject, key: string): string {
  const origin = spec.origin;
  if (origin === undefined || origin === null) return 'USER';
  const type = isJsonObject(origin) ? origin.type : undefined;
  if (type === undefined) return 'USER';
  if (typeof type !== 'string' || !originTypes.includes(type)) {
    throw invalidArgument(
      `Invalid value at 'resource.membership_specs[${key}].value.origin.type' (type.googleapis.com/google.cloud.gkehub.v1.MembershipFeatureSpec.Origin.Type), ${JSON.stringify(type)}`,
    );
  }
  return type === 'TYPE_UNSPECIFIED' ? 'USER' : type;
}

/**
 * The one place a membership's spec is written, for v1 (`membershipSpecs[KEY]`) and v2 (MembershipFeature
 * `spec`) alike: `spec` in v1's shape (`mesh`, `origin`), `key` already normalised; returns the entry.
 */
export function membershipSpecEntry(
  world: SimWorld,
  feature: SimFeature,
  key: string,
  spec: JsonObject,
): MembershipSpecEntry {
  const written = without(spec, 'origin');
  const automatic = isAutomatic(written, key);
  const previous = feature.membershipSpecs.get(key);
  const automaticSince = automatic ? (previous?.automaticSince ?? world.clock.now()) : undefined;
  return {
    spec: written,
    origin: originOf(spec, key),
    ...(automaticSince === undefined ? {} : { automaticSince }),
  };
}

function writeMembershipSpecs(
  world: SimWorld,
  feature: SimFeature,
  value: JsonValue | undefined,
  replace: boolean,
): void {
  if (value !== undefined && value !== null && !isJsonObject(value)) {
    throw invalidArgument("Invalid value at 'resource.membership_specs': expected a map.");
  }
  const incoming = value ?? {};
  const next = replace ? new Map<string, MembershipSpecEntry>() : new Map(feature.membershipSpecs);
  for (const [rawKey, spec] of Object.entries(incoming)) {
    const key = normaliseKey(world, feature, rawKey);
    // A null or empty value deletes the key: that is how this API's update_mask treats maps.
    if (spec === null || (isJsonObject(spec) && Object.keys(spec).length === 0)) {
      next.delete(key);
      continue;
    }
    if (!isJsonObject(spec)) {
      throw invalidArgument(`Invalid value at 'resource.membership_specs[${rawKey}]': expected an object.`);
    }
    next.set(key, membershipSpecEntry(world, feature, key, spec));
  }
  feature.membershipSpecs.clear();
  for (const [key, entry] of next) feature.membershipSpecs.set(key, entry);
}

function findFeature(world: SimWorld, req: SimRequest): { project: SimProject; feature: SimFeature } {
  const project = requireProject(world, param(req, 'project'), gkehubService);
  const name = `projects/${project.id}/locations/${param(req, 'location')}/features/${param(req, 'feature')}`;
  const feature = world.features.get(name);
  if (!feature) throw notFound(`Resource '${name}' was not found`);
  return { project, feature };
}

function createFeature(ctx: HubContext, req: SimRequest): JsonObject {
  const { world } = ctx;
  const project = requireProject(world, param(req, 'project'), gkehubService);
  const location = param(req, 'location');
  if (location !== 'global') throw invalidArgument(`Features live in location "global", not "${location}".`);
  const featureId = req.query.get('featureId');
  if (!featureId) throw invalidArgument('feature_id is required.');
  requireMeshService(project, featureId);
  const name = `projects/${project.id}/locations/global/features/${featureId}`;
  if (world.features.has(name)) throw alreadyExists(`Feature "${name}" already exists.`);
  const body = parseJsonBody(req);
  const now = world.clock.now();
  const feature: SimFeature = {
    name,
    project: project.id,
    featureId,
    createdAt: now,
    updatedAt: now,
    spec: isJsonObject(body.spec) ? body.spec : {},
    labels: {},
    membershipSpecs: new Map(),
  };
  writeMembershipSpecs(world, feature, body.membershipSpecs, true);
  world.features.set(name, feature);
  return ctx.startOperation({
    project,
    location,
    verb: 'create',
    target: name,
    doneAt: now + world.timings.featureOperation,
    response: () => ({
      '@type': 'type.googleapis.com/google.cloud.gkehub.v1.Feature',
      ...featureResource(world, feature),
    }),
  });
}

function updateFeature(ctx: HubContext, req: SimRequest): JsonObject {
  const { world } = ctx;
  const { project, feature } = findFeature(world, req);
  requireMeshService(project, feature.featureId);
  const mask = (req.query.get('updateMask') ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter(Boolean);
  if (mask.length === 0) {
    throw invalidArgument('update_mask is required: name the fields to update, e.g. membershipSpecs.');
  }
  const body = parseJsonBody(req);
  for (const path of mask) {
    if (path === '*') {
      writeMembershipSpecs(world, feature, body.membershipSpecs, true);
      feature.spec = isJsonObject(body.spec) ? body.spec : {};
    } else if (path === 'membershipSpecs' || path === 'membership_specs') {
      writeMembershipSpecs(world, feature, body.membershipSpecs, false);
      // A masked field that is absent from the body is cleared.
      if (body.membershipSpecs === undefined) feature.membershipSpecs.clear();
    } else if (path === 'spec') {
      feature.spec = isJsonObject(body.spec) ? body.spec : {};
    } else if (path === 'labels') {
      feature.labels = labelsField(body.labels, 'labels');
    } else {
      throw invalidArgument(
        `Invalid update_mask path "${path}": supported are membershipSpecs, spec, labels and *.`,
      );
    }
  }
  const now = world.clock.now();
  feature.updatedAt = now;
  return ctx.startOperation({
    project,
    location: 'global',
    verb: 'update',
    target: feature.name,
    doneAt: now + world.timings.featureOperation,
    response: () => ({
      '@type': 'type.googleapis.com/google.cloud.gkehub.v1.Feature',
      ...featureResource(world, feature),
    }),
  });
}

function deleteFeature(ctx: HubContext, req: SimRequest): JsonObject {
  const { project, feature } = findFeature(ctx.world, req);
  ctx.world.features.delete(feature.name);
  return ctx.startOperation({
    project,
    location: 'global',
    verb: 'delete',
    target: feature.name,
    doneAt: ctx.world.clock.now() + ctx.world.timings.featureOperation,
    response: () => ({ '@type': 'type.googleapis.com/google.protobuf.Empty' }),
  });
}

function listFeatures(world: SimWorld, req: SimRequest): JsonObject {
  const project = requireProject(world, param(req, 'project'), gkehubService);
  const resources = [...world.features.values()]
    .filter((f) => f.project === project.id)
    .map((f) => featureResource(world, f));
  return resources.length > 0 ? { resources } : {};
}

export function registerFeatureRoutes(router: Router, ctx: HubContext): void {
  const base = '/v1/projects/{project}/locations/{location}/features';
  router
    .add('POST', base, (req) => ok(createFeature(ctx, req)))
    .add('GET', base, (req) => ok(listFeatures(ctx.world, req)))
    .add('GET', `${base}/{feature}`, (req) =>
      ok(featureResource(ctx.world, findFeature(ctx.world, req).feature)),
    )
    .add('PATCH', `${base}/{feature}`, (req) => ok(updateFeature(ctx, req)))
    .add('DELETE', `${base}/{feature}`, (req) => ok(deleteFeature(ctx, req)));
}
