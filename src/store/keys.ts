import { once } from 'node:events';
import { Cluster } from 'ioredis';
import type { RedisClient } from './redisClient.js';
/**
 * Every Redis key meshops writes, named in one place (as BullMQ's queue-keys.ts does), so a reader
 * can see the whole keyspace at a glance and no two modules invent the same name. BullMQ's own
 * queues live under `PREFIX:QUEUE:…` beside these.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  /** Hash: `v` (version) and `json` (the run record). */
  run(id: string): string {
    return `${this.prefix}:run:${id}`;
  }

  /** Sorted set of run ids by creation time: recent runs. */
  runsByTime(): string {
    return `${this.prefix}:index:runs`;
  }

  /** Sorted set of run ids that have not finished, by creation time: `/mesh list`. */
  activeRuns(): string {
    return `${this.prefix}:index:runs:active`;
  }

  /** Sorted set of one cluster's run ids by creation time: `/mesh status` shows the last. */
  runsOfCluster(cluster: string): string {
    return `${this.prefix}:index:cluster:${cluster}`;
  }

  /** String: the id of the run that holds the cluster. */
  clusterLock(cluster: string): string {
    return `${this.prefix}:lock:cluster:${cluster}`;
  }

  /** String with a TTL: the run (or answer) a Slack trigger_id started, so a replay starts nothing. */
  trigger(triggerId: string): string {
    return `${this.prefix}:trigger:${triggerId}`;
  }

  /** Hash: one outgoing Slack message by its idempotency key (state, ts, content). */
  message(key: string): string {
    return `${this.prefix}:msg:${key}`;
  }

  /** String: the key of the last message of a chain (a thread, or a watch's channel), for ordering. */
  chainTail(chain: string): string {
    return `${this.prefix}:msgchain:${chain}`;
  }

  /** Sorted set of message keys not sent yet, by when they were queued: the outbox sweeper's list. */
  unsentMessages(): string {
    return `${this.prefix}:outbox:unsent`;
  }

  /** String: the pacing state (theoretical arrival time) of one Slack channel. */
  pace(bucket: string): string {
    return `${this.prefix}:pace:${bucket}`;
  }

  /** Hash: a watched cluster (channels, the last snapshot, what was last reported). */
  watch(cluster: string): string {
    return `${this.prefix}:watch:${cluster}`;
  }

  /** Sorted set of watched clusters by when they were first watched. */
  watches(): string {
    return `${this.prefix}:index:watches`;
  }

  /** List (capped, newest first): one cluster's approval decisions, refused clicks and cancels, for `/mesh status`. */
  audit(cluster: string): string {
    return `${this.prefix}:auditlog:${cluster}`;
  }

  /** Sorted set of one fleet project's watched clusters: what its watcher reads each interval. */
  watchesOfProject(project: string): string {
    return `${this.prefix}:index:watches:project:${project}`;
  }
}

/**
 * Deletes every key under `prefix:` (meshops' own and BullMQ's queues): local mode's clean-up when it
 * stops, since each start keeps to a prefix of its own. Returns how many keys went.
 */
export async function deleteKeysUnder(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  // On a cluster, the primary that holds the prefix's slot is one of several: each is scanned. The
  // prefix is hash-tagged there (config refuses it otherwise), so a batch is in one slot.
  // A Cluster client knows its nodes once it is ready.
  if (redis instanceof Cluster && redis.status !== 'ready') await once(redis, 'ready');
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    for await (const batch of node.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<
      string[]
    >) {
      if (batch.length) deleted += await redis.unlink(...batch);
    }
  }
  return deleted;
}
