import type { RedisClient } from './redisClient.js';
import type { Keys } from './keys.js';

/** Slack may deliver one request twice (a retry, a replay): its trigger_id is claimed once. */
export class Triggers {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Returns `claimant` when this trigger is new, else whoever claimed it first. Kept for a day. */
  async claim(triggerId: string, claimant: string): Promise<string> {
    const key = this.keys.trigger(triggerId);
    const set = await this.redis.set(key, claimant, 'EX', 86_400, 'NX');
    if (set === 'OK') return claimant;
    return (await this.redis.get(key)) ?? claimant;
  }
}
