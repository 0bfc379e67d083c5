/**
 * The emulator and the console as their own process (what docker-compose's `local` profile runs),
 * a meshops process configured only by the lines it prints: the emulator advertises an address other
 * than the one it was asked to listen on (here 127.0.0.2, as `sim` in compose), and a run typed in
 * the console goes all the way through the cluster's API server at that address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { FleetState, SlackMessage } from '../../src/sim/index.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { startMeshopsProcess, writeConfigFile, type MeshopsProcess } from '../support/child.js';
import { buttonOf, hasButtons } from '../support/flows.js';
import { freePort } from '../support/globalSetup.js';
import { testPrefix, testRedisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

interface Started {
  child: ChildProcess;
  consoleUrl: string;
  env: Record<string, string>;
  comments: string[];
}

function startConsole(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/console/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the console did not start:\n${out}`)), 30_000);
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!/^MESHOPS_APPROVERS=.*\n/m.test(out)) return;
      clearTimeout(timer);
      const lines = out.split('\n');
      const env = Object.fromEntries(
        lines
          .filter((l) => /^[A-Z_]+=/.test(l))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const consoleUrl = /console at (http:\/\/\S+?)\/? /.exec(out)![1]!;
      resolve({ child, consoleUrl, env, comments: lines.filter((l) => l.startsWith('#')) });
    });
    child.once('exit', (code) => reject(new Error(`the console exited with ${code}:\n${out}`)));
  });
}

async function state(url: string): Promise<{ messages: SlackMessage[] }> {
  return (await (await fetch(`${url}/console/state?user=U0BOB`)).json()) as { messages: SlackMessage[] };
}

async function post(url: string, path: string, body: Record<string, string>): Promise<void> {
  expect((await fetch(`${url}/console/${path}`, { method: 'POST', body: JSON.stringify(body) })).status).toBe(
    200,
  );
}

describe('the console beside a meshops elsewhere (docker compose --profile local)', () => {
  let started: Started | undefined;
  let bot: MeshopsProcess | undefined;
  afterAll(async () => {
    await bot?.kill('SIGTERM');
    if (started && started.child.exitCode === null) {
      const exited = new Promise((resolve) => started!.child.once('exit', resolve));
      started.child.kill('SIGTERM');
      await exited;
    }
  });

  it('prints what the bot needs, and a run goes through the advertised address', async () => {
    const botPort = await freePort();
    started = await startConsole([
      '--bot-url',
      `http://127.0.0.1:${botPort}`,
      '--host',
      '0.0.0.0',
      '--advertise-host',
      '127.0.0.2',
      '--port',
      '0',
      '--port-base',
      '0',
    ]);
    const { env, consoleUrl } = started;
    for (const name of ['MESHOPS_GKEHUB_URL', 'MESHOPS_CONTAINER_URL', 'SLACK_API_URL'])
      expect(env[name]).toMatch(/^http:\/\/127\.0\.0\.2:\d+\//);
    expect(
      started.comments
        .filter((c) => c.startsWith('# cluster'))
        .every((c) => c.includes('https://127.0.0.2:')),
    ).toBe(true);
    expect(env.SLACK_SIGNING_SECRET).toMatch(/^[0-9a-f]{32}$/);

    bot = await startMeshopsProcess({
      ...env,
      REDIS_URL: testRedisUrl(),
      PORT: String(botPort),
      MESHOPS_POLL_INTERVAL_MS: '500',
      MESHOPS_CONFIG: writeConfigFile({ redis: { prefix: testPrefix() } }),
    });
    // An ordinary bot: not local mode, so it serves no console of its own.
    expect(bot.output.join('')).not.toContain('local mode');

    await post(consoleUrl, 'command', {
      user: 'U0BOB',
      text: '/mesh enable cluster proj-a/us-central1/c1 namespaces=default',
    });
    const prompt = await waitFor(
      'the approval prompt',
      async () => (await state(consoleUrl)).messages.find(hasButtons),
      45_000,
      250,
    );
    const button = buttonOf(prompt, APPROVE_ACTION)!;
    await post(consoleUrl, 'click', {
      user: 'U0ALICE',
      actionId: APPROVE_ACTION,
      value: button.value,
      blockId: button.blockId,
      messageTs: prompt.ts,
      threadTs: prompt.thread_ts ?? '',
    });
    await waitFor(
      'the run to finish',
      async () => (await state(consoleUrl)).messages.some((m) => m.text.includes(':tada: Done')),
      60_000,
      500,
    );
    // The fleet panel's view, relayed from the emulator's own control endpoint at the advertised address.
    expect(started.comments).toContainEqual(
      expect.stringMatching(/^# the emulator's state and control: http:\/\/127\.0\.0\.2:\d+\/_sim\/state$/),
    );
    const fleet = (await (await fetch(`${consoleUrl}/console/fleet`)).json()) as FleetState;
    const c1 = fleet.clusters.find((c) => c.ref === 'proj-a/us-central1/c1');
    expect(c1?.membership?.state).toBe('READY');
    expect(c1?.mesh).toMatchObject({ controlPlane: 'ACTIVE', dataPlane: 'ACTIVE' });
    const web = c1?.namespaces.find((ns) => ns.name === 'default');
    expect(web?.injection).toEqual({ 'istio-injection': 'enabled' });
    expect(web?.pods.map((p) => p.proxy)).toEqual(['1.23.6-asm.14', '1.23.6-asm.14']);
  }, 150_000);
});
