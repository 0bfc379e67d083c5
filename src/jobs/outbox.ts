/**
 * The Slack outbox: every message meshops sends, queued in Redis under its idempotency key and
 * sent by a BullMQ worker, paced per channel as Slack asks (about one chat.postMessage per second
 * per channel, a small burst; chat.update paced apart), in order within a chain (a run's thread),
 * and once: a key already queued is never queued again, and a send whose outcome a crash left
 * unknown is looked up in Slack (by the key in the message's metadata) before it is tried again.
 */
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { ChatPostMessageResponse, WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';
import {
  type MessageContent,
  type MessageStore,
  type OutgoingMessage,
  type StoredMessage,
} from '../store/messages.js';
import type { Outbox } from '../slack/outbox.js';

export const OUTBOX_QUEUE = 'outbox';

/** The metadata event type that carries a message's key, so a lost ts can be found again. */
export const MESSAGE_EVENT_TYPE = 'meshops_message';

export type OutboxJobData =
  | { kind: 'send'; key: string }
  /** `slotAt`: the pacing slot an update holds while it is parked. */
  | { kind: 'update'; key: string; slotAt?: number }
  | { kind: 'sweep' };

export interface Pacing {
  messagesPerSecond: number;
  burst: number;
  updatesPerSecond: number;
  updateBurst: number;
}

/** BullMQ job ids may not contain ':'. */
function jobId(kind: 'send' | 'update', key: string, version?: number): string {
  return `${kind}|${key.replace(/:/g, '|')}${version === undefined ? '' : `|${version}`}`;
}

/** The longest wait between two tries of a message while Slack does not answer. */
const MAX_RETRY_MS = 10_000;
const RETRY_BACKOFF = 'outbox';

/**
 * A Slack outage is waited out with tries after about 1, 2, 4, 8 s, then every 10 s (±20 %, so a
 * backlog does not arrive at once): once Slack answers again, every message is out within seconds,
 * not after an exponential wait that has grown to minutes. The outbox's workers take this as their
 * BullMQ `settings`.
 */
export const outboxWorkerSettings = {
  backoffStrategy: (attemptsMade: number): number =>
    Math.round(Math.min(1000 * 2 ** (attemptsMade - 1), MAX_RETRY_MS) * (0.8 + Math.random() * 0.4)),
};

const jobOptions = {
  // About an hour of tries (4 quick ones, then one every 10 s), then the job is kept as failed.
  attempts: 364,
  backoff: { type: RETRY_BACKOFF },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 86_400 },
};

/** The producer side: record the message (atomically, under its key), then make sure a job sends it. */
export class QueuedOutbox implements Outbox {
  constructor(
    private readonly queue: Queue<OutboxJobData>,
    private readonly store: MessageStore,
    private readonly now: () => number = Date.now,
  ) {}

  async send(message: OutgoingMessage): Promise<void> {
    const state = await this.store.enqueue(message, this.now());
    // 'queued' or 'sending': the record exists but its job may have been lost with a crash.
    if (state === 'sent' || state === 'failed') return;
    await this.addSend(message.key);
  }

  async update(key: string, content: MessageContent, version: number): Promise<void> {
    if ((await this.store.setUpdate(key, content, version, this.now())) !== 'new') return;
    await this.addUpdate(key, version);
  }

  cancel(chain: string, reason: string): Promise<number> {
    return this.store.cancelChain(chain, reason);
  }

  sentTs(key: string): Promise<string | null> {
    return this.store.ts(key);
  }

  async addSend(key: string): Promise<void> {
    await this.queue.add('send', { kind: 'send', key }, { jobId: jobId('send', key), ...jobOptions });
  }

  async addUpdate(key: string, version: number): Promise<void> {
    await this.queue.add(
      'update',
      { kind: 'update', key },
      { jobId: jobId('update', key, version), ...jobOptions },
    );
  }

  /**
   * A message whose job used up its tries (Slack down for over an hour) is tried again: its job is kept
   * as failed under the message's id, so adding it again would do nothing. True if it was failed.
   */
  async retryFailedSend(key: string): Promise<boolean> {
    const job = await this.queue.getJob(jobId('send', key));
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed');
    return true;
  }

  /** Wakes the job of a message that waits for its predecessor, if it is parked. */
  async wake(key: string): Promise<void> {
    const job = await this.queue.getJob(jobId('send', key));
    if (!job || !(await job.isDelayed())) return;
    await job.promote().catch(() => undefined);
  }
}

export interface OutboxDeps {
  store: MessageStore;
  outbox: QueuedOutbox;
  /** A client that rejects rate-limited calls and does not retry: the outbox paces and retries itself. */
  web: WebClient;
  pacing: Pacing;
  log: Logger;
  now?: () => number;
  /** POSTs to a slash command's response_url. */
  fetch?: typeof fetch;
}

/** A message waiting for its predecessor or its thread root is looked at again after this long. */
const WAIT_FOR_ORDER_MS = 250;
/** Older than this, an unsent message may be one whose job used up its tries (about an hour of them). */
const GAVE_UP_AFTER_MS = 3_600_000;
/** A replacement claimed longer ago than this was left by a crash (a post takes well under a second). */
const REPLACEMENT_STALE_MS = 15_000;
/** Slack errors that say the message can never be sent as it is. */
const permanentErrors = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'restricted_action',
  'user_not_in_channel',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'not_authed',
  'expired_url',
  'used_url',
]);

interface SlackError {
  code?: string;
  retryAfter?: number;
  data?: { error?: string };
}

function slackError(error: unknown): SlackError {
  return typeof error === 'object' && error !== null ? error : {};
}

function payloadKey(payload: unknown): unknown {
  return typeof payload === 'object' && payload !== null ? (payload as { key?: unknown }).key : undefined;
}

class Park extends Error {
  constructor(readonly until: number) {
    super('park');
  }
}

/** What the outbox worker runs for each job. */
export function createOutboxProcessor(deps: OutboxDeps) {
  const { store, outbox, web, pacing, log } = deps;
  const now = deps.now ?? Date.now;
  const post = { interval: 1000 / pacing.messagesPerSecond, burst: pacing.burst };
  const edit = { interval: 1000 / pacing.updatesPerSecond, burst: pacing.updateBurst };
  const doFetch = deps.fetch ?? fetch;

  /** The ts of a message we may have sent before a crash, found by the key in its metadata. */
  async function lookup(key: string, channel: string, threadTs: string | undefined, since: number) {
    const oldest = String(Math.floor(since / 1000) - 5);
    try {
      const page = threadTs
        ? await web.conversations.replies({
            channel,
            ts: threadTs,
            oldest,
            include_all_metadata: true,
            limit: 200,
          })
        : await web.conversations.history({
            channel,
            oldest,
            include_all_metadata: true,
            limit: 200,
          });
      const found = (page.messages ?? []).find(
        (m) => m.metadata?.event_type === MESSAGE_EVENT_TYPE && payloadKey(m.metadata.event_payload) === key,
      );
      return found?.ts ?? null;
    } catch (error) {
      // Without the history scope the window stays open: say so once per message and send.
      log.warn({ key, err: error }, 'could not look up a message whose send was interrupted; sending it');
      return null;
    }
  }

  async function deliver(
    key: string,
    spec: OutgoingMessage,
    content: MessageContent,
    threadTs: string | undefined,
  ): Promise<string> {
    const blocks = content.blocks ? { blocks: content.blocks } : {};
    if (spec.op === 'ephemeral') {
      const result = await web.chat.postEphemeral({
        channel: spec.channel,
        user: spec.user ?? '',
        text: content.text,
        ...blocks,
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return result.message_ts ?? '';
    }
    if (spec.op === 'respond') {
      const res = await doFetch(spec.responseUrl ?? '', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          response_type: 'ephemeral',
          replace_original: false,
          text: content.text,
          ...blocks,
        }),
      });
      if (!res.ok) {
        const body = await res.text();
        throw Object.assign(new Error(`response_url answered ${res.status}`), {
          code: 'slack_webapi_platform_error',
          data: { error: /used_url|expired_url/.exec(body)?.[0] ?? `http_${res.status}` },
        });
      }
      return '';
    }
    const message = {
      channel: spec.channel,
      text: content.text,
      ...blocks,
      unfurl_links: false,
      metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { key } },
    };
    const result: ChatPostMessageResponse = threadTs
      ? await web.chat.postMessage({
          ...message,
          thread_ts: threadTs,
          reply_broadcast: spec.broadcast === true,
        })
      : await web.chat.postMessage(message);
    if (!result.ts) throw new Error('Slack answered chat.postMessage without a ts');
    return result.ts;
  }

  /** Where a reply goes: the thread root's ts once it is in Slack; parks until then. */
  async function threadOf(spec: OutgoingMessage): Promise<string | undefined> {
    if (spec.threadTs) return spec.threadTs;
    if (!spec.thread) return undefined;
    const root = await store.get(spec.thread);
    if (root?.state === 'sent') return root.ts;
    if (root?.state === 'failed' || !root) {
      log.warn({ key: spec.key, thread: spec.thread }, 'thread root was never sent; posting in the channel');
      return undefined;
    }
    throw new Park(now() + WAIT_FOR_ORDER_MS);
  }

  async function send(key: string, message: StoredMessage): Promise<void> {
    const spec = message.spec;
    if (!spec) return;
    if (message.prev) {
      const before = await store.state(message.prev);
      if (before === 'queued' || before === 'sending') throw new Park(now() + WAIT_FOR_ORDER_MS);
    }
    if (spec.op === 'compact') {
      // Every message before it in the chain is out (or refused for good): its records can go.
      const deleted = await store.compactChain(key, spec.chain ?? '', spec.keep ?? []);
      log.debug({ chain: spec.chain, deleted }, 'compacted a finished thread');
      return;
    }
    const threadTs = await threadOf(spec);
    if (spec.op === 'post') {
      let slot = message.slotAt;
      if (slot === undefined) {
        slot = await store.reserveSlot(`post:${spec.channel}`, now(), post.interval, post.burst);
        await store.holdSlot(key, slot);
      }
      if (slot > now()) throw new Park(slot);
      if (message.state === 'sending' && message.claimedAt !== undefined) {
        const ts = await lookup(key, spec.channel, threadTs, message.claimedAt);
        if (ts) {
          log.info({ key, ts }, 'an interrupted send had reached Slack; not sending it again');
          await store.markSent(key, ts, spec.keepSeconds, message.updateVersion, threadTs);
          return;
        }
      }
    }
    // The newest update content, if one came before the message itself went out.
    const content = message.update ?? spec.content;
    await store.claim(key, now());
    let ts: string;
    try {
      ts = await deliver(key, spec, content, threadTs);
    } catch (error) {
      const { code, retryAfter, data } = slackError(error);
      if (code === 'slack_webapi_rate_limited_error') {
        // Slack refused it (so it was not sent): nothing goes to this channel before Retry-After.
        const until = now() + (retryAfter ?? 1) * 1000;
        await store.holdBucket(`post:${spec.channel}`, now(), until, post.interval, post.burst);
        await store.releaseSlot(key);
        await store.unclaim(key);
        log.info({ key, retryAfter }, 'Slack rate-limited a message; sending it after Retry-After');
        throw new Park(until);
      }
      if (code === 'slack_webapi_platform_error' && data?.error && permanentErrors.has(data.error)) {
        log.error({ key, channel: spec.channel, error: data.error }, 'Slack refused a message for good');
        await store.fail(key, data.error, spec.keepSeconds);
        return;
      }
      // Anything else (network, 5xx): the outcome is unknown; the next attempt looks before sending.
      throw error;
    }
    await store.markSent(key, ts, spec.keepSeconds, message.updateVersion, threadTs);
    if (message.next) await outbox.wake(message.next);
  }

  async function update(
    key: string,
    message: StoredMessage,
    job: Job<OutboxJobData>,
    slotAt: number | undefined,
  ): Promise<void> {
    if (message.state === 'failed') return;
    // The post itself carries the newest content if it goes out later; until it is out, wait.
    if (message.state !== 'sent' || !message.ts) throw new Park(now() + WAIT_FOR_ORDER_MS);
    const version = message.updateVersion;
    if (!message.update || version === undefined || (message.sentVersion ?? -1) >= version) return;
    let slot = slotAt;
    if (slot === undefined) {
      slot = await store.reserveSlot(`update:${message.channel}`, now(), edit.interval, edit.burst);
      await job.updateData({ kind: 'update', key, slotAt: slot });
    }
    if (slot > now()) throw new Park(slot);
    try {
      await web.chat.update({
        channel: message.channel,
        ts: message.ts,
        text: message.update.text,
        ...(message.update.blocks ? { blocks: message.update.blocks } : {}),
      });
    } catch (error) {
      const { code, retryAfter, data: slack } = slackError(error);
      if (code === 'slack_webapi_rate_limited_error') {
        const until = now() + (retryAfter ?? 1) * 1000;
        await store.holdBucket(`update:${message.channel}`, now(), until, edit.interval, edit.burst);
        await job.updateData({ kind: 'update', key });
        throw new Park(until);
      }
      if (code === 'slack_webapi_platform_error' && slack?.error && permanentErrors.has(slack.error)) {
        log.error({ key, error: slack.error }, 'Slack refused an update for good');
        await store.markUpdated(key, version);
        return;
      }
      if (code === 'slack_webapi_platform_error' && slack?.error === 'message_not_found') {
        await replace(key, { ...message, ts: message.ts }, message.update, version);
        return;
      }
      throw error;
    }
    await store.markUpdated(key, version);
  }

  /**
   * Someone deleted the message an update is for (a thread's root, a prompt): its new content goes out as
   * a reply in the thread (which stays when its parent is deleted), and the reply's ts is kept, so later
   * updates, and clicks on its buttons, go to it. One job posts it (updates of other versions wait, then
   * edit the reply); a post a crash left unknown is looked up by its key before it is tried again.
   */
  async function replace(
    key: string,
    message: StoredMessage & { ts: string },
    content: MessageContent,
    version: number,
  ): Promise<void> {
    const thread = message.threadTs ?? message.ts;
    const replacementKey = `${key}#${message.ts}`;
    const claim = await store.claimReplacement(key, message.ts, now(), REPLACEMENT_STALE_MS);
    // Replaced already, or being replaced: once the new ts is stored, this update edits it.
    if (claim.state === 'moved') throw new Park(now());
    if (claim.state === 'busy') throw new Park(now() + WAIT_FOR_ORDER_MS);
    if (claim.state === 'stale') {
      const ts = await lookup(replacementKey, message.channel, thread, claim.since);
      if (ts) {
        await store.replaced(key, ts);
        throw new Park(now());
      }
    }
    const result = await web.chat.postMessage({
      channel: message.channel,
      thread_ts: thread,
      text: content.text,
      ...(content.blocks ? { blocks: content.blocks } : {}),
      unfurl_links: false,
      metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { key: replacementKey } },
    });
    if (!result.ts) throw new Error('Slack answered chat.postMessage without a ts');
    log.warn(
      { key, ts: message.ts, replacement: result.ts },
      'the message to update was deleted; posted it again in its thread',
    );
    await store.replaced(key, result.ts);
    await store.markUpdated(key, version);
  }

  /**
   * Every unsent message older than a few seconds has a job: one lost in a crash is added again, and
   * one whose tries ran out (its job failed, after about an hour) is tried again.
   */
  async function sweep(): Promise<void> {
    for (const member of await store.unsentBefore(now() - GAVE_UP_AFTER_MS, 100)) {
      if (member.startsWith('update|')) continue;
      if (await outbox.retryFailedSend(member))
        log.warn({ key: member }, 'trying a message again after its tries ran out');
    }
    for (const member of await store.unsentBefore(now() - 5000, 500)) {
      if (member.startsWith('update|')) {
        const key = member.slice('update|'.length);
        const message = await store.get(key);
        if (message?.updateVersion !== undefined) await outbox.addUpdate(key, message.updateVersion);
      } else {
        await outbox.addSend(member);
      }
    }
  }

  return async function processOutboxJob(job: Job<OutboxJobData>, token?: string): Promise<void> {
    try {
      if (job.data.kind === 'sweep') return await sweep();
      const { key } = job.data;
      const message = await store.get(key);
      if (!message) return;
      if (job.data.kind === 'update') return await update(key, message, job, job.data.slotAt);
      if (message.state === 'sent' || message.state === 'failed') return;
      return await send(key, message);
    } catch (error) {
      if (!(error instanceof Park)) throw error;
      if (!token) throw new Error('BullMQ gave no lock token: cannot park the outbox job');
      await job.moveToDelayed(error.until, token);
      throw new DelayedError();
    }
  };
}
