/**
 * Local mode's own Redis: when nothing answers where the config points and REDIS_URL was not given,
 * `npm start` runs a redis-server from PATH on a free loopback port, in a temporary directory, keeping
 * nothing on disk, and stops it with the bot. Production never does this: there REDIS_URL is the truth.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { StartupError } from '../config.js';

export interface PrivateRedis {
  url: string;
  /** Stops the server and removes its directory; idempotent. */
  stop(): Promise<void>;
  /** Kills the server at once: for process.on('exit'), where nothing asynchronous runs. */
  killNow(): void;
}

const START_TIMEOUT_MS = 10_000;

export const noRedisHint =
  'set REDIS_URL to a Redis that runs, install one (apt-get install redis-server) or start one (docker compose up redis)';

function freePort(): Promise<number> {
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

/** Whether a Redis answers PING at `url` within a second (one connection attempt, no retries). */
export async function redisAnswers(connect: () => Redis): Promise<boolean> {
  const probe = connect();
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Starts `redis-server` and resolves once it answers. `connect(url)` builds the probing client (the
 * caller owns ioredis). No redis-server on PATH, or one that will not start: a StartupError saying
 * what to do instead.
 */
export async function startPrivateRedis(
  connect: (url: string) => Redis,
  /** The address that did not answer, for the message when there is no redis-server either. */
  wanted: string,
): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meshops-local-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  // Its own process group: Ctrl-C reaches the bot, which stops its workers before it stops Redis.
  const child = spawn('redis-server', [...args, '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new StartupError(
          error.code === 'ENOENT'
            ? `no Redis: nothing answers at ${wanted} and redis-server is not on PATH; ${noRedisHint}`
            : `could not start redis-server (${error.message}); ${noRedisHint}`,
        ),
      ),
    );
    child.once('exit', (code) => {
      const last = output.trim().split('\n').pop() ?? '';
      reject(
        new StartupError(
          `redis-server exited with ${code} as it started${last ? ` (${last})` : ''}; ${noRedisHint}`,
        ),
      );
    });
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (!(await Promise.race([redisAnswers(() => connect(url)), failed]))) {
      if (Date.now() > deadline)
        throw new StartupError(`redis-server on port ${port} did not answer within 10 s; ${noRedisHint}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    child.kill('SIGKILL');
    await exited(child);
    removeDir();
    throw error;
  }
  // From here on an exit is the bot's doing (stop) or a crash the bot's own Redis errors will report.
  child.removeAllListeners('exit');
  let stopped: Promise<void> | undefined;
  return {
    url,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited(child);
        removeDir();
      })();
      return stopped;
    },
    killNow() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      removeDir();
    },
  };
}
