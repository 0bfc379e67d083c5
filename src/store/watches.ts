import type { RedisClient } from './redisClient.js';
import type { WatchMemory } from '../workflows/meshWatch.js';
import type { Keys } from './keys.js';
import { enqueueLua, type OutgoingMessage } from './messages.js';

/** A channel told about one cluster's mesh. */
export interface WatchChannel {
  channel: string;
  by: string;
  since: number;
  /** Started by a successful `enable cluster`, not by `/mesh watch`. */
  auto?: boolean;
}

export interface WatchRecord {
  cluster: string;
  channels: WatchChannel[];
  memory: WatchMemory | null;
  version: number;
  lastChange?: { at: number; summary: string };
}

/**
 * Adds a channel to a cluster's watch (creating it); 0 when that channel already watched it.
 * A change of channels moves the version, so a read that began before it cannot commit messages
 * for the channels it saw then.
 */
const addScript = `
local raw = redis.call('HGET', KEYS[1], 'channels')
local channels = raw and cjson.decode(raw) or {}
for _, c in ipairs(channels) do
  if c.channel == ARGV[1] then return 0 end
end
table.insert(channels, cjson.decode(ARGV[2]))
redis.call('HSET', KEYS[1], 'channels', cjson.encode(channels))
redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[4])
return 1`;

/** Removes a channel; the watch goes when none is left. Returns the channels left, as JSON. */
const removeScript = `
local raw = redis.call('HGET', KEYS[1], 'channels')
if not raw then return false end
local kept = {}
local removed = false
for _, c in ipairs(cjson.decode(raw)) do
  if c.channel == ARGV[1] then removed = true else table.insert(kept, c) end
end
if not removed then return false end
if #kept == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
  return '[]'
end
local encoded = cjson.encode(kept)
redis.call('HSET', KEYS[1], 'channels', encoded)
redis.call('HINCRBY', KEYS[1], 'v', 1)
return encoded`;

/**
 * The watcher's commit: the new memory at version ARGV[1] + 1, only if nobody committed since it
 * read version ARGV[1] (another process, or this job run twice after a stall), and in the same
 * step the messages that announce what changed, so a change is announced exactly once.
 * KEYS: watch, unsent, then a message key and its chain tail per message.
 */
const commitScript = `${enqueueLua}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(ARGV[1]) + 1), 'memory', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'lastChange', ARGV[3]) end
local count = tonumber(ARGV[6])
for i = 1, count do
  local spec = cjson.decode(ARGV[6 + i])
  enqueue(ARGV[4], KEYS[1 + 2 * i], KEYS[2 + 2 * i], KEYS[2], spec.key, spec.channel, ARGV[6 + i], ARGV[5], '1')
end
return 1`;

/**
 * The memory as stored: what was reported is left out while it equals what was last seen (nearly
 * always), which halves a watch's bytes in Redis.
 */
function packMemory(memory: WatchMemory): string {
  const { reported, ...rest } = memory;
  return JSON.stringify(JSON.stringify(reported) === JSON.stringify(memory.last) ? rest : memory);
}

function unpackMemory(json: string): WatchMemory {
  const stored = JSON.parse(json) as Omit<WatchMemory, 'reported'> & { reported?: WatchMemory['reported'] };
  return { ...stored, reported: stored.reported ?? stored.last };
}

function projectOf(cluster: string): string {
  return cluster.split('/')[0] ?? '';
}

/** Watched clusters in Redis: channels, the watcher's memory (CAS-versioned), the last change seen. */
export class WatchStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async add(cluster: string, watch: WatchChannel): Promise<boolean> {
    const added = await this.redis.eval(
      addScript,
      3,
      this.keys.watch(cluster),
      this.keys.watches(),
      this.keys.watchesOfProject(projectOf(cluster)),
      watch.channel,
      JSON.stringify(watch),
      String(watch.since),
      cluster,
    );
    return added === 1;
  }

  /** The channels still watching afterwards, or null if `channel` was not watching the cluster. */
  async remove(cluster: string, channel: string): Promise<WatchChannel[] | null> {
    const left = await this.redis.eval(
      removeScript,
      3,
      this.keys.watch(cluster),
      this.keys.watches(),
      this.keys.watchesOfProject(projectOf(cluster)),
      channel,
      cluster,
    );
    return typeof left === 'string' ? (JSON.parse(left) as WatchChannel[]) : null;
  }

  async get(cluster: string): Promise<WatchRecord | null> {
    const fields = await this.redis.hgetall(this.keys.watch(cluster));
    return fields.channels ? this.record(cluster, fields) : null;
  }

  /** Watched clusters, oldest watch first. */
  async list(limit = 100): Promise<WatchRecord[]> {
    const clusters = await this.redis.zrange(this.keys.watches(), 0, limit - 1);
    if (clusters.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const cluster of clusters) pipeline.hgetall(this.keys.watch(cluster));
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([, fields], i) => {
      const found = fields as Record<string, string> | null;
      return found?.channels ? [this.record(clusters[i]!, found)] : [];
    });
  }

  /** The watched clusters of one fleet project. */
  async clustersOfProject(project: string): Promise<string[]> {
    return this.redis.zrange(this.keys.watchesOfProject(project), 0, -1);
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.keys.watches());
  }

  /**
   * Stores `memory` as the version after `version` and queues `messages`, atomically; false when
   * someone else committed first or the watch is gone (then nothing is stored or queued).
   */
  async commit(
    cluster: string,
    version: number,
    memory: WatchMemory,
    messages: OutgoingMessage[],
    lastChange: { at: number; summary: string } | null,
    now: number,
  ): Promise<boolean> {
    const keys = [this.keys.watch(cluster), this.keys.unsentMessages()];
    for (const message of messages) {
      keys.push(this.keys.message(message.key), this.keys.chainTail(message.chain ?? message.key));
    }
    const committed = await this.redis.eval(
      commitScript,
      keys.length,
      ...keys,
      String(version),
      packMemory(memory),
      lastChange ? JSON.stringify(lastChange) : '',
      this.keys.message(''),
      String(now),
      String(messages.length),
      ...messages.map((m) => JSON.stringify(m)),
    );
    return committed === 1;
  }

  private record(cluster: string, fields: Record<string, string>): WatchRecord {
    return {
      cluster,
      channels: JSON.parse(fields.channels ?? '[]') as WatchChannel[],
      memory: fields.memory ? unpackMemory(fields.memory) : null,
      version: Number(fields.v ?? 0),
      ...(fields.lastChange
        ? { lastChange: JSON.parse(fields.lastChange) as WatchRecord['lastChange'] }
        : {}),
    };
  }
}
