import type { OperationRef, OperationStatus, Operations } from '../workflows/ports.js';
import type { GkeHubFleet } from './fleet.js';
import type { ContainerGke } from './gke.js';
import type { ServiceUsage } from './services.js';

/** Long-running operations of every API, addressed by the OperationRef the step saved. */
export class CloudOperations implements Operations {
  constructor(
    private readonly fleet: GkeHubFleet,
    private readonly gke: ContainerGke,
    private readonly services: ServiceUsage,
  ) {}

  status(operation: OperationRef): Promise<OperationStatus> {
    switch (operation.api) {
      case 'gkehub':
        return this.fleet.operationStatus(operation.name);
      case 'container':
        return this.gke.operationStatus(operation);
      case 'serviceusage':
        return this.services.operationStatus(operation.name);
    }
  }
}
