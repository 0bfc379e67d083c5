import type { SimClock } from './clock.js';
import type { JsonObject } from './json.js';

/** A google.longrunning.Operation whose outcome is computed when it is read. */
export interface LongRunningOperation {
  /** The last path segment, unique per API. */
  id: string;
  /** Full name as the API returns it, e.g. projects/P/locations/L/operations/ID. */
  name: string;
  /** Project ID the operation belongs to (undefined for Service Usage's global operations). */
  project?: string;
  doneAt: number;
  metadata(done: boolean): JsonObject;
  response(): JsonObject;
}

export class OperationStore {
  private readonly operations = new Map<string, LongRunningOperation>();

  constructor(private readonly clock: SimClock) {}

  add(operation: LongRunningOperation): JsonObject {
    this.operations.set(operation.id, operation);
    return this.render(operation);
  }

  get(id: string): LongRunningOperation | undefined {
    return this.operations.get(id);
  }

  render(operation: LongRunningOperation): JsonObject {
    const done = this.clock.now() >= operation.doneAt;
    return {
      name: operation.name,
      metadata: operation.metadata(done),
      done,
      ...(done ? { response: operation.response() } : {}),
    };
  }
}
