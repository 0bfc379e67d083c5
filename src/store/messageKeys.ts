import type { Redis } from 'ioredis';

/**
 * Which Slack messages a run has already posted, by idempotency key → ts, so that a step that
 * runs again after a crash or a retry never posts twice.
 */
export class MessageKeys {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(runId: string): string {
    return `${this.prefix}:slack:${runId}`;
  }

  async get(runId: string, key: string): Promise<string | null> {
    return this.redis.hget(this.key(runId), key);
  }

  async set(runId: string, key: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(runId), key, ts);
  }

  /** Posts once per (run, key): returns the ts of the message, posted now or before. */
  async once(runId: string, key: string, post: () => Promise<string>): Promise<string> {
    const existing = await this.get(runId, key);
    if (existing) return existing;
    const ts = await post();
    await this.set(runId, key, ts);
    return ts;
  }
}
