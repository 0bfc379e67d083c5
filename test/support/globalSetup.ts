// Jest loads this file outside its module resolver, so it imports nothing relative: tests import freePort and startRedisServer from here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server of the tests' own, on a free loopback port, keeping nothing on disk. */
export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

/**
 * Starts redis-server on `port` (a free one by default): tests that restart Redis reuse the port.
 * `args` come last, so they override the defaults (no persistence).
 */
export async function startRedisServer(
  port?: number,
  args: string[] = [],
  dataDir?: string,
): Promise<TestRedis> {
  port ??= await freePort();
  // A given directory outlives the server (a restart with AOF reads it back); our own is removed.
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'meshops-redis-'));
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...args,
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    throw new Error(`could not start redis-server (${String(error)})`);
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(
        new Error(
          `redis-server could not be started (${error.message}). Install it (apt-get install redis-server) or set REDIS_URL to a Redis the tests may use.`,
        ),
      ),
    ),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await Promise.race([ping(port), spawnError]);
    if (up) break;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
declare global {
  var __meshopsTestRedis: TestRedis | undefined;
}

/**
 * One Redis for the whole run: REDIS_URL when given (tests then only touch keys under their own
 * random prefix and never flush), else a redis-server of our own on a free port.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.MESHOPS_TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const redis = await startRedisServer();
  globalThis.__meshopsTestRedis = redis;
  process.env.MESHOPS_TEST_REDIS_URL = redis.url;
}
