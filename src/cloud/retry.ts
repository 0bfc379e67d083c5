import { MeshopsError } from '../errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn`, trying again on retryable MeshopsErrors (429, 5xx, network) with exponential backoff
 * and full jitter, or after Retry-After when the server said so. 400/403/404 are never retried.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  wait: Sleep = sleep,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof MeshopsError) || !error.retryable || attempt >= policy.attempts) throw error;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay =
        error.retryAfterSeconds !== undefined
          ? Math.min(policy.maxDelayMs, error.retryAfterSeconds * 1000)
          : Math.round(random() * backoff);
      await wait(delay);
    }
  }
}
