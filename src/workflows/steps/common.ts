/** What every workflow's steps share: polling, waiting on an operation, reading the record. */
import { MeshopsError } from '../../errors.js';
import { failure, type StepContext, type StepResult } from '../engine.js';
import type { OperationRef } from '../ports.js';

export function poll(ctx: StepContext, detail?: string): StepResult {
  return {
    type: 'wait',
    delayMs: ctx.deps.policy.pollDelayMs(ctx.run.attempt.polls),
    ...(detail ? { detail } : {}),
  };
}

/** A fact an earlier step saved; its absence is a bug, not a user's problem. */
export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new MeshopsError('INTERNAL', `run record lacks ${what}; an earlier step did not save it`);
  return value;
}

export function minutes(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * Waits on the long-running operation saved in the record, if any. Returns a result while the
 * operation is still going (or failed), undefined once it is done and the step may go on.
 */
export async function awaitOperation(ctx: StepContext, what: string): Promise<StepResult | undefined> {
  const operation = ctx.run.facts.operation;
  if (!operation) return undefined;
  const status = await ctx.deps.operations.status(operation);
  if (status.done && status.error) {
    return failure(
      new MeshopsError('OPERATION_FAILED', `${what} failed: ${status.error}`, {
        hint: `Google ended operation ${operation.name} with this error and nothing after it was done; running the command again is safe (the steps already done are skipped)`,
      }),
    );
  }
  if (status.done) return undefined;
  if (ctx.elapsedMs > ctx.deps.policy.operationTimeoutMs) {
    return failure(
      new MeshopsError(
        'TIMEOUT',
        `${what} did not finish in ${minutes(ctx.deps.policy.operationTimeoutMs)}`,
        {
          hint: `check operation ${operation.name}`,
        },
      ),
    );
  }
  return poll(ctx, `${what}: operation running`);
}

export function startedOperation(ctx: StepContext, operation: OperationRef, detail: string): StepResult {
  return { type: 'wait', facts: { operation }, detail, delayMs: ctx.deps.policy.pollDelayMs(0) };
}
