import { rfc3339 } from './clock.js';
import { GoogleApiError } from './google.js';
import { ok, param, Router, type SimRequest } from './http.js';
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
      // A read, though a POST (the body may ask for a policy version); `gcloud projects get-iam-policy`.
      .add('POST', '/v3/projects/{project}:getIamPolicy', (req) => {
        const project = find(req);
        return ok({
          version: 1,
          etag: Buffer.from(`${project.number}:${project.iamBindings.length}`).toString('base64'),
          bindings: project.iamBindings.map((b) => ({ role: b.role, members: [...b.members] })),
        });
      })
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
