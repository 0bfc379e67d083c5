/**
 * Tokens stay out of what meshops keeps: after a whole run, no Google token, Slack token or
 * signing secret is in any Redis key of ours (run records, jobs, message keys) or in the logs.
 */
import { inflateRawSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { APPROVER, SIGNING_SECRET, startHarness, type Harness } from '../support/harness.js';
import { click, slash, waitForPrompt, waitForReply } from '../support/flows.js';

async function dump(redis: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  for (const key of await redis.keys(`${prefix}:*`)) {
    const type = await redis.type(key);
    if (type === 'string') out.push(key, (await redis.get(key)) ?? '');
    if (type === 'hash') {
      // A finished run record is stored deflated (`z:` + base64): read it as it was written.
      const fields = await redis.hgetall(key);
      for (const [field, value] of Object.entries(fields)) {
        if (value.startsWith('z:')) {
          fields[field] = inflateRawSync(Buffer.from(value.slice(2), 'base64')).toString('utf8');
        }
      }
      out.push(key, JSON.stringify(fields));
    }
    if (type === 'list') out.push(key, JSON.stringify(await redis.lrange(key, 0, -1)));
    if (type === 'zset') out.push(key, JSON.stringify(await redis.zrange(key, 0, -1)));
    if (type === 'set') out.push(key, JSON.stringify(await redis.smembers(key)));
    if (type === 'stream') out.push(key, JSON.stringify(await redis.xrange(key, '-', '+')));
  }
  return out.join('\n');
}

describe('secrets', () => {
  let h: Harness;
  let redis: Redis;

  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' }, { captureLogs: true });
    redis = new Redis(h.config.redis.url);
  });
  afterAll(async () => {
    await redis.quit();
    await h.stop();
  });

  it('are in neither Redis nor the logs after a full run', async () => {
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=shop')).text).toMatch(
      /Queued/,
    );
    const prompt = await waitForPrompt(h.sim);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.');

    const stored = await dump(redis, h.config.redis.prefix);
    const logs = h.logs.join('');
    expect(stored).toContain('succeeded'); // the dump really holds the finished run record
    expect(logs).toContain('run finished'); // and the logs were captured at debug level
    for (const secret of [h.sim.token, h.sim.slackToken, SIGNING_SECRET]) {
      expect(stored).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
