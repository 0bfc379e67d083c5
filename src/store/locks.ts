import type { RedisClient } from './redisClient.js';
import { clusterKey, type RunRecord } from '../workflows/run.js';
import type { Keys } from './keys.js';

const releaseLock = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * One active run per cluster: a lock keyed by the cluster, owned by the run. It is taken with the run's
 * admission (RunStore.admit) and released here when the run ends.
 */
export class ClusterLocks {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async unlock(run: RunRecord): Promise<void> {
    await this.redis.eval(releaseLock, 1, this.keys.clusterLock(clusterKey(run.cluster)), run.id);
  }
}
