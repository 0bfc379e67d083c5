import { rfc3339 } from './clock.js';
import { GoogleApiError } from './google.js';
import { ok, param, Router } from './http.js';
import type { SimWorld } from './world.js';

export function resourceManagerRouter(world: SimWorld): Router {
  return new Router().add('GET', '/v3/projects/{project}', (req) => {
    const project = world.project(param(req, 'project'));
    // Google does not say whether an unknown project exists: it is simply not visible to the caller.
    if (!project) throw new GoogleApiError(403, 'PERMISSION_DENIED', 'The caller does not have permission');
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
  });
}
