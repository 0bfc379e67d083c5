/**
 * Slack's pace, with the outbox at its defaults: a whole enable run and a burst of notifications
 * in the same channel, Slack answering 429 with Retry-After to a burst and enforcing about one
 * message per second per channel. Every message arrives once, in order per thread, and the
 * channel never gets more than about one message per second.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { OUTBOX_QUEUE, QueuedOutbox, type OutboxJobData } from '../../src/jobs/outbox.js';
import { Keys } from '../../src/store/keys.js';
import { MessageStore } from '../../src/store/messages.js';
import { click, roots, slash, threadOf, waitForPrompt, expectInOrder } from '../support/flows.js';
import { APPROVER, CHANNEL, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const BURST = 3;
const CLUSTER = 'proj-a/us-central1/c1';

describe('Slack pacing', () => {
  let h: Harness;
  let redis: Redis;
  let queue: Queue<OutboxJobData>;

  beforeAll(async () => {
    h = await startHarness(
      { scenario: 'default' },
      {
        config: {
          outbox: { concurrency: 8, messagesPerSecond: 1, burst: BURST, updatesPerSecond: 2, updateBurst: 4 },
          watch: { afterEnable: false, intervalMs: 300_000, deepEvery: 10, sampleLimit: 500, concurrency: 4 },
        },
      },
    );
    redis = new Redis(h.config.redis.url, { maxRetriesPerRequest: null });
    queue = new Queue<OutboxJobData>(OUTBOX_QUEUE, { connection: redis, prefix: h.config.redis.prefix });
  });
  afterAll(async () => {
    await queue.close();
    await redis.quit();
    await h?.stop();
  });

  it('delivers a run and a burst once each, in order, at about one message per second', async () => {
    // Slack's own limit, a little looser than ours, and a burst of 429s on top.
    h.sim.slack.enforceChannelRate({ perSecond: 1, burst: BURST + 1 });
    h.sim.slack.rateLimit('chat.postMessage', 2, 2);

    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=shop')).text).toMatch(
      /Queued/,
    );
    const outbox = new QueuedOutbox(queue, new MessageStore(redis, new Keys(h.config.redis.prefix)));
    for (let i = 1; i <= 8; i++) {
      await outbox.send({
        key: `burst/${i}`,
        op: 'post',
        channel: CHANNEL,
        chain: 'burst',
        content: { text: `notification ${i}` },
        keepSeconds: 3600,
      });
    }
    const prompt = await waitForPrompt(h.sim, CLUSTER, 90_000);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitFor(
      'the run and the burst delivered',
      () =>
        threadOf(h.sim, CLUSTER).some((m) => m.text.startsWith(':tada: Done.')) &&
        h.sim.slack.messages(CHANNEL).filter((m) => m.text.startsWith('notification')).length === 8,
      150_000,
    );

    // Once each, in order: the burst in its order, the thread in step order.
    const burst = h.sim.slack.messages(CHANNEL).filter((m) => m.text.startsWith('notification'));
    expect(burst.map((m) => m.text)).toEqual(Array.from({ length: 8 }, (_, i) => `notification ${i + 1}`));
    expect(roots(h.sim).filter((m) => m.text.includes('Enable Cloud Service Mesh'))).toHaveLength(1);
    const thread = threadOf(h.sim, CLUSTER)
      .slice(1)
      .map((m) => m.text);
    const order = [
      ':mag:',
      ':link:',
      ':label:',
      ':gear:',
      ':clipboard:',
      ':syringe:',
      ':arrows_counterclockwise:',
      ':white_check_mark: All',
      ':tada:',
    ];
    expectInOrder(thread, order);
    expect(new Set(thread).size).toBe(thread.length);

    // About one message per second: any k consecutive posts to the channel span at least k - BURST seconds.
    const posts = h.sim.slack.calls.filter(
      (c) => c.method === 'chat.postMessage' && !c.error && c.args.channel === CHANNEL,
    );
    expect(posts.length).toBeGreaterThanOrEqual(20);
    for (let i = 0; i < posts.length; i++) {
      for (let j = i + BURST; j < posts.length; j++) {
        const span = posts[j]!.wallAt - posts[i]!.wallAt;
        expect(span).toBeGreaterThanOrEqual((j - i - BURST) * 1000 - 100);
      }
    }
    // The outbox never ran into Slack's pace; only the two forced 429s happened, and were waited out.
    const limited = h.sim.slack.calls.filter((c) => c.error === 'ratelimited');
    expect(limited).toHaveLength(2);
    // The checklist was kept up to date, paced apart, and shows the outcome.
    await waitFor('the checklist showing the outcome', () =>
      roots(h.sim).find((m) => m.text.includes(CLUSTER) && m.text.includes('Succeeded')),
    );
    expect(h.sim.slack.calls.filter((c) => c.method === 'chat.update' && !c.error).length).toBeGreaterThan(0);
    // About twenty messages at one a second take twenty seconds at least, more when the machine is busy.
  }, 180_000);
});
