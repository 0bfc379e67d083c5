import type { KnownBlock } from '@slack/web-api';
import type { RedisClient } from './redisClient.js';
import type { Keys } from './keys.js';

/** What a message says: Slack's text (the notification and fallback) and its Block Kit blocks. */
export interface MessageContent {
  text: string;
  blocks?: KnownBlock[];
}

/** `compact`: not a message but a marker at the end of a chain (see MessageStore.compactChain). */
export type MessageOp = 'post' | 'ephemeral' | 'respond' | 'compact';

/** One message for the outbox. `key` is its idempotency key: a key already queued is never queued twice. */
export interface OutgoingMessage {
  key: string;
  op: MessageOp;
  channel: string;
  /** Messages of one chain (a run's thread, a watch's channel) are sent in the order they were queued. */
  chain?: string;
  /** Key of the thread's root message: this one is sent as a reply in that thread. */
  thread?: string;
  /** The thread's ts, when the sender knows it (an ephemeral answer to a click in a thread). */
  threadTs?: string;
  /** A thread reply also shown in the channel. */
  broadcast?: boolean;
  /** The one person who sees an ephemeral message. */
  user?: string;
  /** Slack's response_url of a slash command (op respond). */
  responseUrl?: string;
  content: MessageContent;
  /** How long the record (its ts, for updates and links) is kept after it was sent. */
  keepSeconds: number;
  /** With op compact: the chain's messages whose records stay (they may still be updated). */
  keep?: string[];
}

export type MessageState = 'queued' | 'sending' | 'sent' | 'failed';

export interface StoredMessage {
  spec?: OutgoingMessage;
  state: MessageState;
  channel: string;
  /** The message queued before this one in its chain, and the one after it. */
  prev?: string;
  next?: string;
  ts?: string;
  /** The ts of the thread it was posted in (a reply): where a replacement goes if it is deleted. */
  threadTs?: string;
  /** When a replacement for it (deleted in Slack) was last posted: a crash leaves that unknown until looked up. */
  replacingAt?: number;
  queuedAt: number;
  /** When a send was last attempted: a crash after it leaves the outcome unknown until looked up. */
  claimedAt?: number;
  /** The pacing slot this message holds. */
  slotAt?: number;
  /** The newest content for chat.update, with its version; `sentVersion` is the one Slack shows. */
  update?: MessageContent;
  updateVersion?: number;
  sentVersion?: number;
  error?: string;
}

/** Member of the unsent set that stands for "this message has a newer content than Slack shows". */
export function updateMember(key: string): string {
  return `update|${key}`;
}

/**
 * Queues one message unless its key is known: HSET the record, link it behind the tail of its
 * chain, and list it as unsent. Also used inside other scripts (the watcher's commit), so that
 * recording a change and queueing its message are one atomic step.
 */
export const enqueueLua = `
local function enqueue(msgPrefix, msgKey, tailKey, unsentKey, key, channel, spec, now, hasChain)
  local state = redis.call('HGET', msgKey, 'state')
  if state then return state end
  local prev = false
  if hasChain == '1' then
    prev = redis.call('GET', tailKey)
    redis.call('SET', tailKey, key, 'EX', 604800)
  end
  redis.call('HSET', msgKey, 'state', 'queued', 'channel', channel, 'spec', spec, 'queuedAt', now)
  if prev then
    redis.call('HSET', msgKey, 'prev', prev)
    redis.call('HSET', msgPrefix .. prev, 'next', key)
  end
  redis.call('ZADD', unsentKey, now, key)
  return 'new'
end
`;

const enqueueScript = `${enqueueLua}
return enqueue(ARGV[6], KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])`;

/** Newer content for chat.update of a queued or sent message; older versions are ignored. */
const setUpdateScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local current = tonumber(redis.call('HGET', KEYS[1], 'updv') or '-1')
if tonumber(ARGV[2]) <= current then return 'stale' end
redis.call('HSET', KEYS[1], 'upd', ARGV[1], 'updv', ARGV[2])
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[4])
return 'new'`;

/**
 * The message is in Slack: keep its ts, drop its content (only the ts is needed later), stop
 * listing it as unsent, and let the record expire. ARGV[3] is the update version its content was.
 */
const markSentScript = `
redis.call('HSET', KEYS[1], 'state', 'sent', 'ts', ARGV[1])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'thr', ARGV[6]) end
redis.call('HDEL', KEYS[1], 'spec', 'slotAt')
redis.call('ZREM', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then
  local sent = tonumber(redis.call('HGET', KEYS[1], 'sentv') or '-1')
  if tonumber(ARGV[3]) > sent then redis.call('HSET', KEYS[1], 'sentv', ARGV[3]) end
end
local newest = tonumber(redis.call('HGET', KEYS[1], 'updv') or '-1')
local shown = tonumber(redis.call('HGET', KEYS[1], 'sentv') or '-1')
if newest <= shown then
  redis.call('ZREM', KEYS[2], ARGV[5])
  redis.call('HDEL', KEYS[1], 'upd')
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

/** See MessageStore.claimReplacement. */
const claimReplacementScript = `
if redis.call('HGET', KEYS[1], 'ts') ~= ARGV[1] then return {'moved', ''} end
local at = redis.call('HGET', KEYS[1], 'rpl')
if at and tonumber(ARGV[2]) - tonumber(at) < tonumber(ARGV[3]) then return {'busy', at} end
redis.call('HSET', KEYS[1], 'rpl', ARGV[2])
if at then return {'stale', at} end
return {'claimed', ''}`;

/** Slack shows update version ARGV[1] now. */
const markUpdatedScript = `
local sent = tonumber(redis.call('HGET', KEYS[1], 'sentv') or '-1')
if tonumber(ARGV[1]) > sent then redis.call('HSET', KEYS[1], 'sentv', ARGV[1]) end
local newest = tonumber(redis.call('HGET', KEYS[1], 'updv') or '-1')
if newest <= tonumber(ARGV[1]) then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HDEL', KEYS[1], 'upd')
end
return 1`;

/**
 * GCRA pacing: reserves the next send slot of a bucket (about one per `interval` ms, `burst` at
 * once) and returns when it is. Reserving in queue order keeps a channel's messages in order.
 */
const reserveSlotScript = `
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = (tonumber(ARGV[3]) - 1) * interval
local start = math.max(tat, now)
local slot = math.max(now, start - tolerance)
redis.call('SET', KEYS[1], start + interval, 'PX', math.ceil(start + interval - now + tolerance) + 60000)
return slot`;

/** Slack said "not before ARGV[2]": nothing of this bucket is sent earlier. */
const holdBucketScript = `
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local tolerance = (tonumber(ARGV[3]) - 1) * tonumber(ARGV[4])
local until_ = tonumber(ARGV[2]) + tolerance
if until_ > tat then redis.call('SET', KEYS[1], until_, 'PX', math.ceil(until_ - tonumber(ARGV[1])) + 60000) end
return 1`;

/**
 * Drops the messages of a chain not sent yet, newest first, back to the first one sent (or one
 * being sent, which cannot be called back). Returns how many were dropped.
 */
const cancelChainScript = `
local key = redis.call('GET', KEYS[1])
local dropped = 0
while key and dropped < 1000 do
  local msg = ARGV[1] .. key
  if redis.call('HGET', msg, 'state') ~= 'queued' then break end
  redis.call('HSET', msg, 'state', 'failed', 'error', ARGV[2])
  redis.call('HDEL', msg, 'spec', 'upd')
  redis.call('ZREM', KEYS[2], key)
  redis.call('EXPIRE', msg, 86400)
  dropped = dropped + 1
  key = redis.call('HGET', msg, 'prev')
end
return dropped`;

/**
 * The chain behind marker ARGV[2] has been sent: its records go, except those named in ARGV[3..]
 * (messages still updated, e.g. a thread's root), which keep only what an update needs. Then the
 * marker and the chain's tail go too. Returns how many records were deleted.
 */
const compactChainScript = `
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
local key = redis.call('HGET', ARGV[1] .. ARGV[2], 'prev')
local deleted = 0
local seen = 0
while key and seen < 1000 do
  seen = seen + 1
  local msg = ARGV[1] .. key
  local state = redis.call('HGET', msg, 'state')
  if state == 'queued' or state == 'sending' then break end
  local prev = redis.call('HGET', msg, 'prev')
  if keep[key] then
    redis.call('HDEL', msg, 'prev', 'next', 'claimedAt', 'queuedAt', 'slotAt')
  elseif state then
    redis.call('DEL', msg)
    deleted = deleted + 1
  end
  key = prev
end
if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
redis.call('DEL', ARGV[1] .. ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
return deleted`;

function num(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}

/**
 * The outbox's records in Redis: every outgoing Slack message by its key, with its state and, once
 * sent, its ts. This is the one place meshops keeps message timestamps.
 */
export class MessageStore {
  constructor(
    private readonly redis: RedisClient,
    readonly keys: Keys,
  ) {}

  /** 'new' when queued now; else the state of the message already known under this key. */
  async enqueue(message: OutgoingMessage, now: number): Promise<'new' | MessageState> {
    const tail = message.chain ? this.keys.chainTail(message.chain) : this.keys.message(message.key);
    return (await this.redis.eval(
      enqueueScript,
      3,
      this.keys.message(message.key),
      tail,
      this.keys.unsentMessages(),
      message.key,
      message.channel,
      JSON.stringify(message),
      String(now),
      message.chain ? '1' : '0',
      this.keys.message(''),
    )) as 'new' | MessageState;
  }

  /** Stores newer content for chat.update of `key`; 'missing' if that message was never queued. */
  async setUpdate(
    key: string,
    content: MessageContent,
    version: number,
    now: number,
  ): Promise<'new' | 'stale' | 'missing'> {
    return (await this.redis.eval(
      setUpdateScript,
      2,
      this.keys.message(key),
      this.keys.unsentMessages(),
      JSON.stringify(content),
      String(version),
      String(now),
      updateMember(key),
    )) as 'new' | 'stale' | 'missing';
  }

  async get(key: string): Promise<StoredMessage | null> {
    const fields = await this.redis.hgetall(this.keys.message(key));
    if (!fields.state) return null;
    return {
      ...(fields.spec ? { spec: JSON.parse(fields.spec) as OutgoingMessage } : {}),
      state: fields.state as MessageState,
      channel: fields.channel ?? '',
      ...(fields.prev ? { prev: fields.prev } : {}),
      ...(fields.next ? { next: fields.next } : {}),
      ...(fields.ts ? { ts: fields.ts } : {}),
      ...(fields.thr ? { threadTs: fields.thr } : {}),
      ...(fields.rpl ? { replacingAt: Number(fields.rpl) } : {}),
      queuedAt: Number(fields.queuedAt ?? 0),
      ...(fields.claimedAt ? { claimedAt: Number(fields.claimedAt) } : {}),
      ...(fields.slotAt ? { slotAt: Number(fields.slotAt) } : {}),
      ...(fields.upd ? { update: JSON.parse(fields.upd) as MessageContent } : {}),
      ...(num(fields.updv) !== undefined ? { updateVersion: num(fields.updv) } : {}),
      ...(num(fields.sentv) !== undefined ? { sentVersion: num(fields.sentv) } : {}),
      ...(fields.error ? { error: fields.error } : {}),
    };
  }

  /** The ts Slack gave the message with this key, once it is sent. */
  async ts(key: string): Promise<string | null> {
    return this.redis.hget(this.keys.message(key), 'ts');
  }

  async state(key: string): Promise<MessageState | null> {
    return (await this.redis.hget(this.keys.message(key), 'state')) as MessageState | null;
  }

  async holdSlot(key: string, slotAt: number): Promise<void> {
    await this.redis.hset(this.keys.message(key), 'slotAt', String(slotAt));
  }

  async releaseSlot(key: string): Promise<void> {
    await this.redis.hdel(this.keys.message(key), 'slotAt');
  }

  /** About to call Slack: from now until it is marked sent, a crash leaves the outcome unknown. */
  async claim(key: string, now: number): Promise<void> {
    await this.redis.hset(this.keys.message(key), 'state', 'sending', 'claimedAt', String(now));
  }

  /** Slack refused the attempt (a 429): it was not sent, so the next attempt need not look it up. */
  async unclaim(key: string): Promise<void> {
    await this.redis.hset(this.keys.message(key), 'state', 'queued');
  }

  /** Slack refused it for good (channel gone, bad blocks): it will not be tried again. */
  async fail(key: string, error: string, keepSeconds: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.message(key), 'state', 'failed', 'error', error)
      .hdel(this.keys.message(key), 'spec', 'upd')
      .zrem(this.keys.unsentMessages(), key, updateMember(key))
      .expire(this.keys.message(key), keepSeconds)
      .exec();
  }

  async markSent(
    key: string,
    ts: string,
    keepSeconds: number,
    contentVersion?: number,
    threadTs?: string,
  ): Promise<void> {
    await this.redis.eval(
      markSentScript,
      2,
      this.keys.message(key),
      this.keys.unsentMessages(),
      ts,
      key,
      contentVersion === undefined ? '' : String(contentVersion),
      String(keepSeconds),
      updateMember(key),
      threadTs ?? '',
    );
  }

  /**
   * About to post a replacement for the message at `deletedTs`, deleted in Slack (see the outbox's
   * update). 'moved': it was replaced already (read it again); 'busy': another job is posting one right
   * now; 'stale': a claim older than `staleMs` was left by a crash (look it up first); else 'claimed'.
   */
  async claimReplacement(
    key: string,
    deletedTs: string,
    now: number,
    staleMs: number,
  ): Promise<{ state: 'claimed' | 'moved' | 'busy' } | { state: 'stale'; since: number }> {
    const [state, since] = (await this.redis.eval(
      claimReplacementScript,
      1,
      this.keys.message(key),
      deletedTs,
      String(now),
      String(staleMs),
    )) as [string, string];
    if (state === 'stale') return { state, since: Number(since) };
    return { state: state as 'claimed' | 'moved' | 'busy' };
  }

  /** The replacement is in Slack at `ts`: updates (and clicks) go to it from now on. */
  async replaced(key: string, ts: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.message(key), 'ts', ts)
      .hdel(this.keys.message(key), 'rpl')
      .exec();
  }

  async markUpdated(key: string, version: number): Promise<void> {
    await this.redis.eval(
      markUpdatedScript,
      2,
      this.keys.message(key),
      this.keys.unsentMessages(),
      String(version),
      updateMember(key),
    );
  }

  /**
   * Compacts the chain that `marker` ends (everything before it has been sent): see compactChainScript.
   * Returns how many records were deleted.
   */
  async compactChain(marker: string, chain: string, keep: string[]): Promise<number> {
    return Number(
      await this.redis.eval(
        compactChainScript,
        2,
        this.keys.chainTail(chain),
        this.keys.unsentMessages(),
        this.keys.message(''),
        marker,
        ...keep,
      ),
    );
  }

  /** Drops what a chain has not sent yet (e.g. a channel stopped watching); returns how many. */
  async cancelChain(chain: string, reason: string): Promise<number> {
    return Number(
      await this.redis.eval(
        cancelChainScript,
        2,
        this.keys.chainTail(chain),
        this.keys.unsentMessages(),
        this.keys.message(''),
        reason,
      ),
    );
  }

  /** Members of the unsent set queued before `before`: what the sweeper makes sure has a job. */
  async unsentBefore(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.unsentMessages(), '-inf', before, 'LIMIT', 0, limit);
  }

  async reserveSlot(bucket: string, now: number, intervalMs: number, burst: number): Promise<number> {
    return Number(
      await this.redis.eval(
        reserveSlotScript,
        1,
        this.keys.pace(bucket),
        String(now),
        String(intervalMs),
        String(burst),
      ),
    );
  }

  async holdBucket(
    bucket: string,
    now: number,
    until: number,
    intervalMs: number,
    burst: number,
  ): Promise<void> {
    await this.redis.eval(
      holdBucketScript,
      1,
      this.keys.pace(bucket),
      String(now),
      String(until),
      String(burst),
      String(intervalMs),
    );
  }
}
