/**
 * What meshops needs of its Redis, checked at start: BullMQ's queues and the run records must not
 * be evicted (`maxmemory-policy noeviction`), and a restart must not forget them (AOF or RDB
 * snapshots). Each finding is a warning that names the setting and the fix; a managed Redis that
 * refuses CONFIG is judged by INFO alone.
 */
import type { RedisClient } from './redisClient.js';

function field(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

export async function redisWarnings(redis: RedisClient): Promise<string[]> {
  const warnings: string[] = [];
  const memory = await redis.info('memory');
  const policy = field(memory, 'maxmemory_policy');
  if (policy && policy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is ${policy}: under memory pressure it may evict queued jobs and run records. Set maxmemory-policy noeviction (BullMQ requires it).`,
    );
  }
  const persistence = await redis.info('persistence');
  if (field(persistence, 'aof_enabled') === '1') return warnings;
  const save = await redis
    .config('GET', 'save')
    .then((reply) => String((reply as string[])[1] ?? ''))
    .catch(() => null);
  if (save === '') {
    warnings.push(
      'Redis has no persistence (appendonly no, save ""): a Redis restart forgets every run, approval and queued message. Turn on appendonly yes (or RDB snapshots) for anything but a trial.',
    );
  }
  return warnings;
}
