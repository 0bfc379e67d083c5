/** At start meshops warns about a Redis that may evict its keys or forget them on restart. */
import { Redis } from 'ioredis';
import { redisWarnings } from '../../src/store/redisHealth.js';
import { startRedisServer, type TestRedis } from '../support/globalSetup.js';

describe('redisWarnings', () => {
  const servers: TestRedis[] = [];
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) await c.quit();
    for (const s of servers) await s.stop();
  });

  async function warningsOf(args: string[]): Promise<string[]> {
    const server = await startRedisServer(undefined, args);
    servers.push(server);
    const client = new Redis(server.url);
    clients.push(client);
    return redisWarnings(client);
  }

  it('names an evicting policy and missing persistence, each with the fix', async () => {
    const warnings = await warningsOf(['--maxmemory-policy', 'allkeys-lru']);
    expect(warnings).toEqual([
      expect.stringContaining('maxmemory-policy is allkeys-lru') as string,
      expect.stringContaining('no persistence (appendonly no, save "")') as string,
    ]);
    expect(warnings[0]).toContain('Set maxmemory-policy noeviction');
    expect(warnings[1]).toContain('appendonly yes');
  });

  it('says nothing of a Redis with noeviction and AOF, or with RDB snapshots', async () => {
    expect(await warningsOf(['--maxmemory-policy', 'noeviction', '--appendonly', 'yes'])).toEqual([]);
    expect(await warningsOf(['--save', '900 1'])).toEqual([]);
  });
});
