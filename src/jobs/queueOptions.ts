import type { QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * How every meshops queue is opened. Nobody listens to the queues' event streams, so they are kept
 * short (BullMQ keeps 10,000 events by default: megabytes of Redis for a busy watcher queue).
 */
export function queueOptions(connection: Redis, prefix: string): QueueOptions {
  return { connection, prefix, streams: { events: { maxLen: 100 } } };
}
