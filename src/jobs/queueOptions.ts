import type { QueueOptions } from 'bullmq';
import type { RedisClient } from '../store/redisClient.js';

/**
 * How every meshops queue is opened. Nobody listens to the queues' event streams, so they are kept
 * short (BullMQ keeps 10,000 events by default: megabytes of Redis for a busy watcher queue).
 */
export function queueOptions(connection: RedisClient, prefix: string): QueueOptions {
  return { connection, prefix, streams: { events: { maxLen: 100 } } };
}
