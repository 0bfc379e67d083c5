import type { cloudresourcemanager_v3 } from 'googleapis/build/src/apis/cloudresourcemanager/v3.js';
import { MeshopsError } from '../errors.js';
import type { IamBinding, Projects } from '../workflows/ports.js';
import type { CloudCaller } from './caller.js';

/** Resource Manager v3: a project's number (it never changes, so it is cached) and its IAM bindings. */
export class ResourceManagerProjects implements Projects {
  private readonly numbers = new Map<string, string>();

  constructor(
    private readonly client: cloudresourcemanager_v3.Cloudresourcemanager,
    private readonly caller: CloudCaller,
  ) {}

  async projectNumber(projectId: string): Promise<string> {
    const cached = this.numbers.get(projectId);
    if (cached) return cached;
    const name = `projects/${projectId}`;
    const project = await this.caller.call('get project', name, projectId, async () => {
      const res = await this.client.projects.get({ name });
      return res.data;
    });
    const number = /^projects\/(\d+)$/.exec(project.name ?? '')?.[1];
    if (!number)
      throw new MeshopsError(
        'INTERNAL',
        `Resource Manager answered an unexpected name for ${name}: ${project.name}`,
      );
    this.numbers.set(projectId, number);
    return number;
  }

  /** The project's IAM policy bindings (a read, though Google's method is a POST). */
  async iamBindings(projectId: string): Promise<IamBinding[]> {
    const resource = `projects/${projectId}`;
    const policy = await this.caller.call('get IAM policy', resource, projectId, async () => {
      const res = await this.client.projects.getIamPolicy({ resource, requestBody: {} });
      return res.data;
    });
    return (policy.bindings ?? []).map((b) => ({ role: b.role ?? '', members: b.members ?? [] }));
  }
}
