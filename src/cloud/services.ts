import type { serviceusage_v1 } from 'googleapis/build/src/apis/serviceusage/v1.js';
import type { OperationRef, OperationStatus, Services } from '../workflows/ports.js';
import type { CloudCaller } from './caller.js';

/** Service Usage v1: which APIs of a project are off, and enabling several at once. */
export class ServiceUsage implements Services {
  constructor(
    private readonly client: serviceusage_v1.Serviceusage,
    private readonly caller: CloudCaller,
  ) {}

  async disabled(project: string, services: string[]): Promise<string[]> {
    if (services.length === 0) return [];
    const parent = `projects/${project}`;
    const result = await this.caller.call('get services of', parent, project, async () => {
      const res = await this.client.services.batchGet({
        parent,
        names: services.map((service) => `${parent}/services/${service}`),
      });
      return res.data;
    });
    // Google names the project by number in the answer: match on the service's own name.
    const enabled = new Set(
      (result.services ?? []).flatMap((s) =>
        s.state === 'ENABLED' && s.config?.name ? [s.config.name] : [],
      ),
    );
    return services.filter((service) => !enabled.has(service));
  }

  async batchEnable(project: string, services: string[]): Promise<OperationRef> {
    const parent = `projects/${project}`;
    const operation = await this.caller.call('enable services on', parent, project, async () => {
      const res = await this.client.services.batchEnable({ parent, requestBody: { serviceIds: services } });
      return res.data;
    });
    return { api: 'serviceusage', name: operation.name ?? '', project };
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
