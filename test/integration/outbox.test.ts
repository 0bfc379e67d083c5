/**
 * The outbox against a real Redis, a real BullMQ worker and the emulated Slack over HTTP: order
 * within a chain under 429s, collapsed root updates, a message lost between its record and its job,
 * and the window between Slack's answer and storing its ts, closed by looking the key up.
 */
import { Queue, Worker } from 'bullmq';
import { LogLevel, WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import {
  createOutboxProcessor,
  MESSAGE_EVENT_TYPE,
  OUTBOX_QUEUE,
  outboxWorkerSettings,
  QueuedOutbox,
  type OutboxJobData,
} from '../../src/jobs/outbox.js';
import { createLogger } from '../../src/log.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { Keys } from '../../src/store/keys.js';
import { MessageStore, type OutgoingMessage } from '../../src/store/messages.js';
import { testPrefix, testRedisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const CHANNEL = 'C0OUTBOX';

describe('the outbox', () => {
  let sim: Sim;
  let redis: Redis;
  let queue: Queue<OutboxJobData>;
  let store: MessageStore;
  let outbox: QueuedOutbox;
  let worker: Worker<OutboxJobData> | undefined;
  let web: WebClient;

  beforeEach(async () => {
    sim = await startSim();
    sim.slack.addChannel(CHANNEL);
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const prefix = testPrefix();
    queue = new Queue<OutboxJobData>(OUTBOX_QUEUE, { connection: redis, prefix });
    store = new MessageStore(redis, new Keys(prefix));
    outbox = new QueuedOutbox(queue, store);
    web = new WebClient(sim.slackToken, {
      slackApiUrl: sim.urls.slack,
      logLevel: LogLevel.ERROR,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    });
    worker = undefined;
  });
  afterEach(async () => {
    await worker?.close();
    await queue.close();
    await redis.quit();
    await sim.close();
  });

  function startWorker(
    pacing = { messagesPerSecond: 100, burst: 50, updatesPerSecond: 100, updateBurst: 50 },
    now?: () => number,
  ) {
    worker = new Worker<OutboxJobData>(
      OUTBOX_QUEUE,
      createOutboxProcessor({
        store,
        outbox,
        web,
        pacing,
        log: createLogger('silent'),
        ...(now ? { now } : {}),
      }),
      { connection: redis, prefix: queue.opts.prefix!, concurrency: 8, settings: outboxWorkerSettings },
    );
  }

  function message(key: string, text: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
    return { key, op: 'post', channel: CHANNEL, content: { text }, keepSeconds: 3600, ...extra };
  }

  function posted(): Array<{ text: string; ts: string; thread_ts?: string }> {
    return sim.slack.messages(CHANNEL);
  }

  it('sends a chain in the order it was queued, each once, through 429s with Retry-After', async () => {
    sim.slack.rateLimit('chat.postMessage', 3, 1);
    startWorker();
    await outbox.send(message('t/root', 'root', { chain: 't' }));
    for (let i = 1; i <= 10; i++) {
      await outbox.send(message(`t/${i}`, `reply ${i}`, { chain: 't', thread: 't/root' }));
      await outbox.send(message(`t/${i}`, `reply ${i} again`, { chain: 't', thread: 't/root' }));
    }
    await waitFor('all eleven messages', () => posted().length === 11, 20_000);
    const [root, ...replies] = posted();
    expect(root!.text).toBe('root');
    expect(replies.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `reply ${i + 1}`));
    expect(replies.every((m) => m.thread_ts === root!.ts)).toBe(true);
    const limited = sim.slack.calls.filter((c) => c.error === 'ratelimited');
    expect(limited).toHaveLength(3);
    // Nothing was sent to the channel before Retry-After (1 s) had passed since the last 429.
    const firstSent = sim.slack.calls.find((c) => c.method === 'chat.postMessage' && !c.error)!;
    expect(firstSent.wallAt - limited[2]!.wallAt).toBeGreaterThanOrEqual(950);
  });

  it('collapses updates: the newest content is shown, with fewer chat.update calls than versions', async () => {
    startWorker({ messagesPerSecond: 100, burst: 50, updatesPerSecond: 2, updateBurst: 1 });
    await outbox.send(message('u/root', 'v0'));
    await waitFor('the root', () => posted().length === 1);
    for (let v = 1; v <= 20; v++) await outbox.update('u/root', { text: `v${v}` }, v);
    await waitFor('the newest version shown', () => posted()[0]?.text === 'v20', 20_000);
    const updates = sim.slack.calls.filter((c) => c.method === 'chat.update');
    expect(updates.length).toBeLessThan(5);
    await outbox.update('u/root', { text: 'older' }, 7);
    await new Promise((r) => setTimeout(r, 300));
    expect(posted()[0]!.text).toBe('v20');
  });

  it('a message recorded just before a crash, whose job was never added, is sent by the sweeper', async () => {
    // The record exists (the producer died before queue.add): only the sweeper can find it.
    await store.enqueue(message('lost/1', 'found again'), Date.now() - 60_000);
    startWorker();
    await queue.add('sweep', { kind: 'sweep' });
    await waitFor('the lost message', () => posted().find((m) => m.text === 'found again'));
    expect(posted()).toHaveLength(1);
  });

  it.each([
    ['a channel message', false],
    ['a thread reply', true],
  ])(
    'a send that reached Slack before the crash is found by its key and not sent again: %s',
    async (_what, threaded) => {
      startWorker();
      let thread: string | undefined;
      if (threaded) {
        await outbox.send(message('w/root', 'root', { chain: 'w' }));
        await waitFor('the root', () => posted().length === 1);
        thread = (await store.ts('w/root'))!;
        await worker!.close();
      } else {
        await worker!.close();
      }
      const spec = message('w/1', 'sent once', threaded ? { chain: 'w', thread: 'w/root' } : {});
      await store.enqueue(spec, Date.now());
      // What a worker does before it dies: claim, then Slack accepts the message...
      await store.claim('w/1', Date.now());
      const sent = await web.chat.postMessage({
        channel: CHANNEL,
        text: 'sent once',
        ...(thread ? { thread_ts: thread } : {}),
        metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { key: 'w/1' } },
      });
      // ...and it is killed before it stores the ts. Another worker takes the job over.
      startWorker();
      await outbox.send(spec);
      await waitFor('the ts stored', () => store.ts('w/1'));
      expect(await store.ts('w/1')).toBe(sent.ts);
      expect(posted().filter((m) => m.text === 'sent once')).toHaveLength(1);
      const lookups = sim.slack.calls.filter((c) =>
        ['conversations.history', 'conversations.replies'].includes(c.method),
      );
      expect(lookups.map((c) => c.method)).toEqual([
        threaded ? 'conversations.replies' : 'conversations.history',
      ]);
    },
  );

  it('gives up on a message Slack refuses for good, and the chain goes on', async () => {
    startWorker();
    // 51 blocks: over Slack's limit, so it can never be sent as it is.
    const blocks = Array.from({ length: 51 }, () => ({ type: 'divider' as const }));
    await outbox.send(message('x/1', 'too big', { chain: 'x', content: { text: 'too big', blocks } }));
    await outbox.send(message('x/2', 'here', { chain: 'x' }));
    await waitFor('the second message', () => posted().find((m) => m.text === 'here'));
    expect((await store.get('x/1'))?.state).toBe('failed');
    expect((await store.get('x/1'))?.error).toBe('invalid_blocks');
    expect(posted().map((m) => m.text)).toEqual(['here']);
  });

  it.each([
    ['a thread root with replies (left as a tombstone)', 'd/root'],
    ['a reply', 'd/1'],
  ])(
    'an update of %s someone deleted goes out as a new reply in its thread, and later updates edit that reply',
    async (_what, deleted) => {
      startWorker();
      await outbox.send(message('d/root', 'root v0', { chain: 'd' }));
      await outbox.send(message('d/1', 'reply v0', { chain: 'd', thread: 'd/root' }));
      await waitFor('both sent', () => posted().length === 2);
      const rootTs = (await store.ts('d/root'))!;
      const oldTs = (await store.ts(deleted))!;
      sim.slack.deleteMessage(CHANNEL, oldTs);

      await outbox.update(deleted, { text: 'v1' }, 1);
      await waitFor('the replacement', () => posted().find((m) => m.text === 'v1'));
      const replacement = posted().find((m) => m.text === 'v1')!;
      expect(replacement.thread_ts).toBe(rootTs);
      expect(await store.ts(deleted)).toBe(replacement.ts);

      await outbox.update(deleted, { text: 'v2' }, 2);
      await waitFor(
        'the replacement edited',
        () => posted().find((m) => m.ts === replacement.ts)?.text === 'v2',
      );
      expect(posted().filter((m) => m.text.startsWith('v'))).toHaveLength(1);
      expect(sim.slack.calls.filter((c) => c.method === 'chat.update').map((c) => c.error ?? 'ok')).toEqual([
        'message_not_found',
        'ok',
      ]);
    },
  );

  it('a replacement that reached Slack before a crash is found by its key and not posted again', async () => {
    startWorker();
    await outbox.send(message('e/root', 'root', { chain: 'e' }));
    await outbox.send(message('e/1', 'prompt v0', { chain: 'e', thread: 'e/root' }));
    await waitFor('both sent', () => posted().length === 2);
    await worker!.close();
    const rootTs = (await store.ts('e/root'))!;
    sim.slack.deleteMessage(CHANNEL, (await store.ts('e/1'))!);
    // What a worker does before it dies: claim the replacement, then Slack accepts it...
    const deletedTs = (await store.ts('e/1'))!;
    expect(await store.claimReplacement('e/1', deletedTs, Date.now() - 60_000, 15_000)).toEqual({
      state: 'claimed',
    });
    const sent = await web.chat.postMessage({
      channel: CHANNEL,
      thread_ts: rootTs,
      text: 'prompt v1',
      metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { key: `e/1#${deletedTs}` } },
    });
    // ...and it is killed before it stores the new ts. Another worker takes the update over.
    startWorker();
    await outbox.update('e/1', { text: 'prompt v2' }, 2);
    await waitFor(
      'the found replacement edited',
      () => posted().find((m) => m.ts === sent.ts)?.text === 'prompt v2',
    );
    expect(await store.ts('e/1')).toBe(sent.ts);
    expect(posted().filter((m) => m.text.startsWith('prompt'))).toHaveLength(1);
    expect((await store.get('e/1'))?.replacingAt).toBeUndefined();
  });

  it('a message whose tries ran out (Slack down for over an hour) is tried again by the sweeper', async () => {
    let later = 0;
    startWorker(undefined, () => Date.now() + later);
    await store.enqueue(message('g/1', 'sent after all'), Date.now());
    // Slack is down for its only try: the job fails, as one does after its hour of tries.
    sim.slack.outage(1500);
    await queue.add('send', { kind: 'send', key: 'g/1' }, { jobId: 'send|g/1', attempts: 1 });
    await waitFor('the job failed', async () => (await queue.getJob('send|g/1'))?.isFailed());
    // Adding it again, as the sweeper of old did, does nothing: the failed job holds its id.
    await outbox.addSend('g/1');
    await new Promise((r) => setTimeout(r, 1600));
    expect(posted()).toEqual([]);
    // More than an hour after it was queued, Slack answering again: the sweeper tries it again.
    later = 2 * 3_600_000;
    await queue.add('sweep', { kind: 'sweep' });
    await waitFor('the message', () => posted().find((m) => m.text === 'sent after all'));
    expect(posted()).toHaveLength(1);
  });
});
