/**
 * Redis goes away: a command is answered with a clear error and starts nothing; when Redis is back,
 * the same command works again.
 */
import { startRedisServer, type TestRedis } from '../support/globalSetup.js';
import { slash, waitForReply } from '../support/flows.js';
import { startHarness, type Harness } from '../support/harness.js';

describe('when Redis is down', () => {
  let redis: TestRedis;
  let h: Harness;

  beforeAll(async () => {
    redis = await startRedisServer();
    h = await startHarness({ scenario: 'default' }, { env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await h.stop();
    await redis.stop();
  });

  it('says so to the user and starts nothing; works again once Redis is back', async () => {
    const port = new URL(redis.url).port;
    await redis.stop();
    const ready = await fetch(`${h.app.url}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([503, 'redis not reachable']);
    const reply = await slash(h.app.url, 'enable cluster proj-a/us-central1/c1');
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(
      ':x: meshops could not queue this (its queue, Redis, is unreachable). Nothing was started; try again in a minute.',
    );

    redis = await startRedisServer(Number(port));
    const again = await slash(h.app.url, 'enable cluster proj-a/us-central1/c1');
    expect(again.text).toMatch(/Queued run/);
    // The run goes on over the restarted Redis, and is still in flight when the app stops.
    await waitForReply(h.sim, ':mag:');
  });
});
