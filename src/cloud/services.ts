import type { serviceusage_v1 } from 'googleapis/build/src/apis/serviceusage/v1.js';
import type { OperationRef, OperationStatus, Services } from '../workflows/ports.js';
import type { CloudCaller } from './caller.js';

/** Service Usage v1: is an API enabled on a project, and enabling it. */
export class ServiceUsage implements Services {
  constructor(
    private readonly client: serviceusage_v1.Serviceusage,
    private readonly caller: CloudCaller,
  ) {}

  async isEnabled(project: string, service: string): Promise<boolean> {
    const name = `projects/${project}/services/${service}`;
    const result = await this.caller.call('get service', name, project, async () => {
      const res = await this.client.services.get({ name });
      return res.data;
    });
    return result.state === 'ENABLED';
  }

  async enable(project: string, service: string): Promise<OperationRef> {
    const name = `projects/${project}/services/${service}`;
    const operation = await this.caller.call('enable service', name, project, async () => {
      const res = await this.client.services.enable({ name, requestBody: {} });
      return res.data;
    });
    return { api: 'serviceusage', name: operation.name ?? '' };
  }

  async operationStatus(name: string): Promise<OperationStatus> {
    const operation = await this.caller.call('get operation', name, undefined, async () => {
      const res = await this.client.operations.get({ name });
      return res.data;
    });
    return {
      done: operation.done === true,
      ...(operation.error ? { error: operation.error.message ?? `code ${operation.error.code ?? '?'}` } : {}),
    };
  }
}
