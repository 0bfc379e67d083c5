import { wrapCloudError, type UnreachableHint } from './googleErrors.js';
import { sleep, withRetry, type RetryPolicy, type Sleep } from './retry.js';

/** One place where every cloud call gets its error context and its retries. */
export class CloudCaller {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly wait: Sleep = sleep,
  ) {}

  call<T>(
    call: string,
    resource: string,
    project: string | undefined,
    fn: () => Promise<T>,
    unreachable?: UnreachableHint,
  ): Promise<T> {
    return withRetry(
      async () => {
        try {
          return await fn();
        } catch (error) {
          throw wrapCloudError(error, call, resource, project, unreachable);
        }
      },
      this.policy,
      this.wait,
    );
  }

  /**
   * Waits before attempt `attempt + 1` of a retry loop an adapter runs itself (e.g. re-reading a
   * fingerprint): exponential, at least half of it fixed, so a loop always spans real time.
   */
  backoff(attempt: number, random: () => number = Math.random): Promise<void> {
    const full = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
    return this.wait(Math.round(full / 2 + (random() * full) / 2));
  }
}
