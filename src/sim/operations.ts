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
  /** The google.rpc.Status the operation ends with instead of a response (see OperationFaults). */
  error?: OperationError;
}

/** google.rpc.Status of an operation that ended badly: `code` is the gRPC code (13 INTERNAL, 9 FAILED_PRECONDITION…). */
export interface OperationError {
  code: number;
  message: string;
}

/** Operations of one kind that end with an error once their time is up, as Google's sometimes do. */
export interface OperationFaultRule {
  api: 'gkehub';
  verb: 'create' | 'update' | 'delete';
  /** Matches when the operation's target (a resource name) contains this. */
  targetIncludes?: string;
  error: OperationError;
  /** How many matching operations fail (default 1). */
  times?: number;
}

export class OperationFaults {
  private rules: Array<{ rule: OperationFaultRule; remaining: number }> = [];

  add(rule: OperationFaultRule): void {
    this.rules.push({ rule, remaining: rule.times ?? 1 });
  }

  /** The error a new operation should end with, if a rule matches; consumes one use of it. */
  take(
    api: OperationFaultRule['api'],
    verb: OperationFaultRule['verb'],
    target: string,
  ): OperationError | undefined {
    const active = this.rules.find(
      ({ rule, remaining }) =>
        remaining > 0 &&
        rule.api === api &&
        rule.verb === verb &&
        (rule.targetIncludes === undefined || target.includes(rule.targetIncludes)),
    );
    if (!active) return undefined;
    active.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return { ...active.rule.error };
  }
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
      ...(done && operation.error ? { error: { ...operation.error } } : {}),
      ...(done && !operation.error ? { response: operation.response() } : {}),
    };
  }
}
