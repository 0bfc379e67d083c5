import { rfc3339 } from './clock.js';
import { GoogleApiError, parseJsonBody } from './google.js';
import { ok, param, Router, type SimRequest } from './http.js';
import type { JsonObject } from './json.js';
import type { SimProject, SimWorld } from './world.js';

export function resourceManagerRouter(world: SimWorld): Router {
  const find = (req: SimRequest): SimProject => {
    const project = world.project(param(req, 'project'));
    // Google does not say whether an unknown project exists: it is simply not visible to the caller.
    if (!project) throw new GoogleApiError(403, 'PERMISSION_DENIED', 'The caller does not have permission');
    return project;
  };
  return (
    new Router()
      .add('GET', '/v3/projects/{project}', (req) => {
        const project = find(req);
        return ok({
          name: `projects/${project.number}`,
          parent: project.parent,
          projectId: project.id,
          state: 'ACTIVE',
          displayName: project.displayName,
          createTime: rfc3339(project.createdAt),
          updateTime: rfc3339(project.createdAt),
          etag: `W/"${project.number}"`,
        });
      })
      // A read, though a POST (the body may ask for a policy version). meshops reads v3; `gcloud projects
      // get-iam-policy` and `add-iam-policy-binding` read (and write) v1: the same policy.
      .add('POST', '/v3/projects/{project}:getIamPolicy', (req) => ok(policyOf(find(req))))
      .add('POST', '/v1/projects/{project}:getIamPolicy', (req) => ok(policyOf(find(req))))
      .add('POST', '/v3/projects/{project}:setIamPolicy', (req) => ok(setPolicy(find(req), req)))
      .add('POST', '/v1/projects/{project}:setIamPolicy', (req) => ok(setPolicy(find(req), req)))
      // `gcloud projects describe` (how a person finds the number for mesh_id) still reads v1.
      .add('GET', '/v1/projects/{project}', (req) => {
        const project = find(req);
        const [type = 'organization', id = ''] = project.parent.split('/');
        return ok({
          projectNumber: project.number,
          projectId: project.id,
          lifecycleState: 'ACTIVE',
          name: project.displayName,
          createTime: rfc3339(project.createdAt),
          parent: { type: type.replace(/s$/, ''), id },
        });
      })
  );
}

function policyOf(project: SimProject): JsonObject {
  return {
    version: 1,
    etag: Buffer.from(`${project.number}:${project.iamRevision}`).toString('base64'),
    bindings: project.iamBindings.map((b) => ({ role: b.role, members: [...b.members] })),
  };
}

/**
 * `setIamPolicy` replaces the bindings. As Google does, an etag from an older read is refused with 409
 * ABORTED (read-modify-write again); a policy without one is written as it is.
 */
function setPolicy(project: SimProject, req: SimRequest): JsonObject {
  const policy = parseJsonBody(req)['policy'];
  if (!policy || typeof policy !== 'object' || Array.isArray(policy)) {
    throw new GoogleApiError(
      400,
      'INVALID_ARGUMENT',
      'Request contains an invalid argument: policy is required',
    );
  }
  const { etag, bindings } = policy;
  if (etag !== undefined && etag !== policyOf(project)['etag']) {
    throw new GoogleApiError(
      409,
      'ABORTED',
      'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
    );
  }
  if (bindings !== undefined && !Array.isArray(bindings)) {
    throw new GoogleApiError(
      400,
      'INVALID_ARGUMENT',
      'Invalid JSON payload received. bindings must be a list',
    );
  }
  project.iamBindings = (bindings ?? []).map((binding) => {
    const { role, members } = (binding ?? {}) as JsonObject;
    if (typeof role !== 'string' || !Array.isArray(members) || !members.every((m) => typeof m === 'string')) {
      throw new GoogleApiError(
        400,
        'INVALID_ARGUMENT',
        'Request contains an invalid argument: a binding needs a role and members',
      );
    }
    return { role, members: [...members] };
  });
  project.iamRevision += 1;
  return policyOf(project);
}
