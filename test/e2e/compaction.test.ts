/**
 * A finished run is compacted in Redis: once its thread has said everything, the records of its
 * replies go (the root and the prompt stay, for their updates and for links), its BullMQ job goes,
 * and its record keeps what it found and did, deflated, without the cluster's CA. `status RUN_ID`
 * still tells the whole story, and a late click on the closed prompt is still answered.
 */
import { inflateRawSync } from 'node:zlib';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RUN_QUEUE } from '../../src/jobs/runQueue.js';
import { ask, click, runIdOf, slash, threadOf, waitForPrompt, waitForReply } from '../support/flows.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { testRedisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

describe('a finished run in Redis', () => {
  let h: Harness;
  let redis: Redis;
  afterAll(async () => {
    await redis?.quit();
    await h?.stop();
  });

  it('keeps only what is read later, and status still tells the whole run', async () => {
    h = await startHarness({ scenario: 'default' });
    redis = new Redis(testRedisUrl());
    const prefix = h.config.redis.prefix;
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=shop')).text).toMatch(
      /Queued run/,
    );
    const prompt = await waitForPrompt(h.sim, undefined, 60_000);
    const runId = runIdOf(prompt);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':eyes:', undefined, 60_000);
    const replies = threadOf(h.sim).length - 1;

    const messageKeys = () => redis.keys(`${prefix}:msg:run/${runId}/*`);
    await waitFor('the thread compacted', async () => (await messageKeys()).length === 2, 20_000);
    expect((await messageKeys()).sort()).toEqual([
      `${prefix}:msg:run/${runId}/approval`,
      `${prefix}:msg:run/${runId}/root`,
    ]);
    expect(replies).toBeGreaterThan(10);
    expect(await redis.exists(`${prefix}:msgchain:run/${runId}`)).toBe(0);
    // The root keeps its ts (for links and updates), not the chain's links.
    expect(await redis.hgetall(`${prefix}:msg:run/${runId}/root`)).not.toHaveProperty('next');
    expect(await redis.hget(`${prefix}:msg:run/${runId}/root`, 'ts')).toBe(threadOf(h.sim)[0]!.ts);
    await waitFor('the finished job gone', async () => (await redis.exists(`${prefix}:runs:${runId}`)) === 0);

    const stored = (await redis.hget(`${prefix}:run:${runId}`, 'json'))!;
    expect(stored.startsWith('z:')).toBe(true);
    const record = JSON.parse(inflateRawSync(Buffer.from(stored.slice(2), 'base64')).toString('utf8')) as {
      status: string;
      facts: { cluster: { caCertificate: string; endpoint: string }; plan?: unknown; operation?: unknown };
    };
    expect(record.status).toBe('succeeded');
    expect(record.facts.cluster.caCertificate).toBe('');
    expect(record.facts.cluster.endpoint).toBe('');
    expect(record.facts.plan).toBeDefined();
    expect(await redis.call('MEMORY', 'USAGE', `${prefix}:run:${runId}`)).toBeLessThan(2500);

    const status = await ask(h.app.url, h.sim, `status ${runId}`);
    const shown = `${status.text}\n${JSON.stringify(status.blocks ?? [])}`;
    expect(shown).toContain(':tada: Succeeded');
    expect(shown).toContain('3 pod(s) with istio-proxy');
    expect(shown).toContain('`shop`');
    expect(shown).toMatch(/archives\/C0MESH\/p\d+/);

    // The job of the finished run handled again (a worker killed during its last save, say): the
    // thread, compacted already, is not told anything twice.
    const posted = threadOf(h.sim).length;
    const queue = new Queue(RUN_QUEUE, { connection: redis, prefix });
    await queue.add('advance', { runId }, { jobId: runId, removeOnComplete: true });
    await waitFor(
      'the job handled',
      async () =>
        (await queue.getJobCounts('completed', 'wait', 'active')).wait === 0 &&
        (await queue.getJobCounts('active')).active === 0,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(threadOf(h.sim)).toHaveLength(posted);
    await queue.close();

    // A late click on the closed prompt changes nothing and says why.
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitFor('the answer to the late click', () =>
      h.sim.slack
        .ephemerals(undefined, APPROVER)
        .find((m) => /already|no longer|ended|decided/i.test(m.text)),
    );
  });
});
