/**
 * One way to connect to Redis: a plain client, or, with `redis.cluster`, ioredis' Cluster client
 * (Memorystore for Redis Cluster), which follows MOVED and ASK redirects. Every key meshops and
 * BullMQ use is under the prefix; with a hash-tagged prefix (`{meshops}`) they share one slot.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export function connectRedis(url: string, cluster: boolean, options: RedisOptions = {}): RedisClient {
  if (!cluster) return new Redis(url, options);
  const parsed = new URL(url);
  const node = { host: parsed.hostname, port: Number(parsed.port || 6379) };
  return new Cluster([node], {
    // Each node is reached with the URL's credentials and TLS, and the caller's retry settings.
    redisOptions: {
      ...options,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    enableOfflineQueue: options.enableOfflineQueue ?? true,
  });
}
