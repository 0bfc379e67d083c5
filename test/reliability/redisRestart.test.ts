/**
 * Redis with AOF restarts while a run waits on Google: the run, its thread and its approval carry
 * on from what Redis kept, and nothing is done or posted twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { click, roots, slash, threadOf, waitForPrompt, waitForReply } from '../support/flows.js';
import { startRedisServer, type TestRedis } from '../support/globalSetup.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';

const HOUR = 3_600_000;
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];

describe('a Redis restart (AOF) mid-run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshops-aof-'));
  let redis: TestRedis;
  let h: Harness;

  beforeAll(async () => {
    redis = await startRedisServer(undefined, AOF, dir);
    h = await startHarness(
      {
        scenario: 'default',
        timings: { controlPlaneActiveAfter: HOUR, dataPlaneProvisioningAfter: HOUR + 30_000 },
      },
      { env: { REDIS_URL: redis.url, MESHOPS_POLL_INTERVAL_MS: '200' } },
    );
  });
  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes the run from what Redis kept: one thread, one membership, no reply twice', async () => {
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=default')).text).toMatch(
      /Queued run/,
    );
    await waitForReply(h.sim, ':satellite: Control plane: *PROVISIONING*');
    const port = Number(new URL(redis.url).port);
    await redis.stop();
    // Down for a while: the workers' connections retry, the run's job waits in Redis' AOF.
    await new Promise((r) => setTimeout(r, 2000));
    redis = await startRedisServer(port, AOF, dir);
    h.sim.clock.advance(HOUR);

    const prompt = await waitForPrompt(h.sim, undefined, 60_000);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', undefined, 60_000);

    expect(roots(h.sim)).toHaveLength(1);
    expect(await listMemberships(h.sim, 'proj-a')).toHaveLength(1);
    const replies = threadOf(h.sim)
      .slice(1)
      .map((m) => m.text);
    expect(replies.filter((t, i) => replies.indexOf(t) !== i)).toEqual([]);
  });
});
