/**
 * `npm start` with nothing running, as a newcomer meets it: with no REDIS_URL and nothing answering
 * where the config points, local mode runs a redis-server of its own and stops it on exit; with
 * none on PATH it says in one line what to do; on a shared Redis it deletes its keys on exit. Its
 * workspace has two approvers, so a run the first asks for is decided by the second.
 */
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import type { SlackEphemeral, SlackMessage } from '../../src/sim/index.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { runToExit, startMeshopsProcess, writeConfigFile, type MeshopsProcess } from '../support/child.js';
import { buttonOf, hasButtons } from '../support/flows.js';
import { freePort } from '../support/globalSetup.js';
import { connect, testRedisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** A config whose Redis is a port nothing listens on, with REDIS_URL left unset. */
async function unreachableRedisConfig(): Promise<string> {
  return writeConfigFile({ redis: { url: `redis://127.0.0.1:${await freePort()}` } });
}

function logLines(p: MeshopsProcess): Array<Record<string, unknown>> {
  return p.output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function logged(p: MeshopsProcess, text: string): Record<string, unknown> | undefined {
  return logLines(p).find((line) => String(line.msg).includes(text));
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('error', () => resolve(true));
    socket.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(false)));
  });
}

interface ConsoleState {
  users: Array<{ id: string; approver: boolean }>;
  messages: SlackMessage[];
  ephemerals: SlackEphemeral[];
}

async function consoleState(url: string, user: string): Promise<ConsoleState> {
  return (await (await fetch(`${url}/console/state?user=${user}`)).json()) as ConsoleState;
}

async function consolePost(url: string, path: string, body: Record<string, string>): Promise<unknown> {
  const res = await fetch(`${url}/console/${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

/** Clicks Approve on `prompt` from the console, as `user`. */
function approve(url: string, user: string, prompt: SlackMessage): Promise<unknown> {
  const button = buttonOf(prompt, APPROVE_ACTION)!;
  return consolePost(url, 'click', {
    user,
    actionId: APPROVE_ACTION,
    value: button.value,
    blockId: button.blockId,
    messageTs: prompt.ts,
    threadTs: prompt.thread_ts ?? '',
  });
}

describe('local mode with nothing running', () => {
  const processes: MeshopsProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill('SIGTERM');
  });

  it('starts a private redis-server, prints the console URL within 30 s, and stops it on exit', async () => {
    const local = await startMeshopsProcess({ MESHOPS_CONFIG: await unreachableRedisConfig(), PORT: '0' });
    processes.push(local);
    const started = logged(local, 'private redis-server');
    expect(started).toBeDefined();
    expect(logged(local, 'open the web console')?.console).toMatch(/^http:\/\/localhost:\d+\/$/);
    // Its own Redis keeps nothing on purpose: no warning about persistence.
    expect(logged(local, 'no persistence')).toBeUndefined();
    const port = Number(new URL(String(started!.redis)).port);
    expect(await refused(port)).toBe(false);
    expect((await fetch(`${local.url}/readyz`)).status).toBe(200);

    await local.kill('SIGTERM');
    expect(local.child.exitCode).toBe(0);
    expect(await refused(port)).toBe(true);
    const dir = /meshops-local-redis-\w+/.exec(local.output.join(''));
    if (dir) expect(existsSync(`/tmp/${dir[0]}`)).toBe(false);
  }, 60_000);

  it('no redis-server on PATH either: one line naming REDIS_URL and both ways to get a Redis; exit 1', async () => {
    const ended = await runToExit({ MESHOPS_CONFIG: await unreachableRedisConfig(), PATH: '/nonexistent' });
    expect(ended.code).toBe(1);
    const lines = ended.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^meshops: no Redis: nothing answers at redis:\/\/127\.0\.0\.1:\d+/);
    for (const fix of ['REDIS_URL', 'apt-get install redis-server', 'docker compose up redis'])
      expect(lines[0]).toContain(fix);
    expect(ended.stderr).not.toMatch(/^\s+at /m);
  }, 40_000);

  it('REDIS_URL given but down: the Redis error, no private server', async () => {
    const ended = await runToExit({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(ended.code).toBe(1);
    expect(ended.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(ended.stderr).toMatch(/^meshops: Redis is not reachable at .* \(REDIS_URL\)/);
  }, 40_000);

  it.each([
    ['SLACK_APP_TOKEN', 'xapp-only'],
    ['SLACK_SIGNING_SECRET', 'secret-only'],
  ])(
    '%s alone is half the Slack credentials: the config error, exit 2',
    async (name, value) => {
      const ended = await runToExit({ [name]: value, REDIS_URL: testRedisUrl() });
      expect(ended.code).toBe(2);
      expect(ended.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(ended.stderr).toContain('SLACK_BOT_TOKEN');
      expect(ended.stderr).not.toContain(value);
    },
    40_000,
  );
});

describe('local mode on a shared Redis', () => {
  const redis = connect();
  afterAll(async () => {
    await redis.quit();
  });

  it('keeps to a prefix of its own and deletes its keys when it stops', async () => {
    const local = await startMeshopsProcess({ REDIS_URL: testRedisUrl(), PORT: '0' });
    let prefix = '';
    try {
      prefix = String(logged(local, 'deletes them when it stops')?.prefix);
      expect(prefix).toMatch(/^meshops-local-[0-9a-f]{8}$/);
      await consolePost(local.url, 'command', { user: 'U0BOB', text: '/mesh list' });
      await waitFor('keys of this start', async () => (await redis.keys(`${prefix}:*`)).length > 0);
    } finally {
      await local.kill('SIGTERM');
    }
    expect(local.child.exitCode).toBe(0);
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    expect(logged(local, 'deleted the keys of this start')?.deleted).toEqual(expect.any(Number));
  }, 60_000);

  it('has two approvers: a run Alice asks for is not hers to approve, and Carol approves it', async () => {
    const local = await startMeshopsProcess({ REDIS_URL: testRedisUrl(), PORT: '0' });
    try {
      const { users } = await consoleState(local.url, 'U0ALICE');
      expect(users.filter((u) => u.approver).map((u) => u.id)).toEqual(['U0ALICE', 'U0CAROL']);

      await consolePost(local.url, 'command', {
        user: 'U0ALICE',
        text: '/mesh enable cluster proj-a/us-central1/c1 namespaces=default',
      });
      const prompt = await waitFor(
        'the approval prompt',
        async () => (await consoleState(local.url, 'U0ALICE')).messages.find(hasButtons),
        45_000,
        250,
      );
      await approve(local.url, 'U0ALICE', prompt);
      await waitFor(
        'Alice told she may not approve her own run',
        async () =>
          (await consoleState(local.url, 'U0ALICE')).ephemerals.some((e) => /You requested/.test(e.text)),
        10_000,
        100,
      );
      await approve(local.url, 'U0CAROL', prompt);
      await waitFor(
        'the prompt to say Carol approved',
        async () =>
          JSON.stringify((await consoleState(local.url, 'U0ALICE')).messages).includes(
            'Approved by <@U0CAROL>',
          ),
        15_000,
        250,
      );
    } finally {
      await local.kill('SIGTERM');
    }
  }, 90_000);
});
