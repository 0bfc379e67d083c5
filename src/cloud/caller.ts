import { wrapCloudError } from './googleErrors.js';
import { sleep, withRetry, type RetryPolicy, type Sleep } from './retry.js';

/** One place where every cloud call gets its error context and its retries. */
export class CloudCaller {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly wait: Sleep = sleep,
  ) {}

  call<T>(call: string, resource: string, project: string | undefined, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      async () => {
        try {
          return await fn();
        } catch (error) {
          throw wrapCloudError(error, call, resource, project);
        }
      },
      this.policy,
      this.wait,
    );
  }
}
