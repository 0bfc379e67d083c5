import type { Redis } from 'ioredis';
import { clusterKey, isTerminal, type RunRecord } from '../workflows/run.js';
import type { Keys } from './keys.js';
import type { RunStore } from './runs.js';

/** Takes the cluster lock if it is free or still held by the run named in ARGV[2] (a finished one). */
const takeLock = `
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] or holder == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return holder`;

const releaseLock = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** One active run per cluster: a lock keyed by the cluster, owned by the run. */
export class ClusterLocks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly runs: RunStore,
  ) {}

  /**
   * Returns the id of the run that holds the lock afterwards: `run.id` when taken, else the other
   * run's id. A lock left by a finished run (or one whose record is gone) is taken over.
   */
  async lock(run: RunRecord): Promise<string> {
    const key = this.keys.clusterLock(clusterKey(run.cluster));
    const holder = await this.redis.get(key);
    let finished = '';
    if (holder && holder !== run.id) {
      const other = await this.runs.get(holder);
      if (!other || isTerminal(other)) finished = holder;
    }
    return (await this.redis.eval(takeLock, 1, key, run.id, finished)) as string;
  }

  async unlock(run: RunRecord): Promise<void> {
    await this.redis.eval(releaseLock, 1, this.keys.clusterLock(clusterKey(run.cluster)), run.id);
  }
}
