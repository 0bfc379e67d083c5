import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis that globalSetup started (or REDIS_URL). Tests keep to a random key prefix and never flush. */
export function testRedisUrl(): string {
  const url = process.env.MESHOPS_TEST_REDIS_URL;
  if (!url)
    throw new Error(
      'MESHOPS_TEST_REDIS_URL is not set: run the tests through jest (globalSetup starts Redis)',
    );
  return url;
}

export function testPrefix(): string {
  return `meshops-test-${randomBytes(4).toString('hex')}`;
}

export function connect(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
}
