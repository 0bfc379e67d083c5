/**
 * Start-up as an operator meets it: a missing Redis, half the Slack credentials and a busy port
 * each end in one line on stderr that names the setting and the fix (no stack trace, no secret);
 * local mode listens on 127.0.0.1 only and, as every MESHOPS_ROLE=all process, runs its workers on a
 * thread of their own.
 */
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  runToExit as run,
  startMeshopsProcess,
  writeConfigFile,
  type MeshopsProcess,
} from '../support/child.js';
import { testPrefix, testRedisUrl } from '../support/redis.js';

const credentials = {
  SLACK_BOT_TOKEN: 'xoxb-startup-test',
  SLACK_SIGNING_SECRET: 'startup-secret',
  SLACK_API_URL: 'http://127.0.0.1:9/api/',
  MESHOPS_GCP_ACCESS_TOKEN: 'ya29.startup',
};

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

describe('start-up failures', () => {
  const processes: MeshopsProcess[] = [];
  let busy: Server | undefined;
  afterAll(async () => {
    for (const p of processes) await p.kill('SIGTERM');
    await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
  });

  it('no Redis: one line naming REDIS_URL and how to get one, the password hidden; exit 1', async () => {
    const ended = await run({ ...credentials, REDIS_URL: 'redis://:hunter2@127.0.0.1:1' });
    expect(ended.code).toBe(1);
    const line = oneLine(ended.stderr);
    expect(line).toMatch(
      /^meshops: Redis is not reachable at redis:\/\/:\*\*\*@127\.0\.0\.1:1 \(REDIS_URL\): /,
    );
    expect(line).toContain('apt-get install redis-server');
    expect(ended.stderr + ended.stdout).not.toContain('hunter2');
    expect(ended.stdout).not.toContain('MaxRetriesPerRequestError');
  }, 40_000);

  it('half the Slack credentials: the config error, exit 2', async () => {
    const ended = await run({ SLACK_BOT_TOKEN: 'xoxb-only', REDIS_URL: testRedisUrl() });
    expect(ended.code).toBe(2);
    const line = oneLine(ended.stderr);
    expect(line).toContain('SLACK_SIGNING_SECRET');
    expect(line).toContain('SLACK_APP_TOKEN');
    expect(line).not.toContain('xoxb-only');
  }, 40_000);

  it('a busy port: one line naming PORT; exit 1', async () => {
    busy = createServer();
    const port = await new Promise<number>((resolve) =>
      busy!.listen(0, () => resolve((busy!.address() as { port: number }).port)),
    );
    const ended = await run({
      ...credentials,
      REDIS_URL: testRedisUrl(),
      PORT: String(port),
      MESHOPS_CONFIG: writeConfigFile({ redis: { prefix: testPrefix() } }),
    });
    expect(ended.code).toBe(1);
    expect(oneLine(ended.stderr)).toBe(
      `meshops: port ${port} is already in use (PORT): stop what listens there, or set PORT to a free port`,
    );
  }, 40_000);

  it('local mode listens on 127.0.0.1 only, its workers on a thread of their own', async () => {
    const local = await startMeshopsProcess({ REDIS_URL: testRedisUrl(), PORT: '0' });
    processes.push(local);
    const started = local.output
      .join('')
      .split('\n')
      .find((l) => l.includes('"meshops started"'))!;
    expect(JSON.parse(started)).toMatchObject({ boundTo: '127.0.0.1', role: 'all', worker: 'own thread' });
    // The workers' thread said it started, and under its own name in the log.
    expect(local.output.join('')).toMatch(/"thread":"workers".*"msg":"workers started"/);
    const port = new URL(local.url).port;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // From another interface of this machine, nothing answers.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (external) {
      await expect(fetch(`http://${external}:${port}/healthz`)).rejects.toThrow();
    }
  }, 60_000);
});
