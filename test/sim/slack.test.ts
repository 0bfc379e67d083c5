import { ErrorCode, LogLevel, WebClient, type WebAPICallResult } from '@slack/web-api';
import { startSim, type Sim } from '../../src/sim/index.js';

const CHANNEL = 'C0MESHOPS';

/** The `data` of a platform error, i.e. what Slack answered with ok:false. */
async function slackError(
  promise: Promise<WebAPICallResult>,
): Promise<{ error?: string; errors?: string[] }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; data?: { error?: string; errors?: string[] } };
    if (e.code !== ErrorCode.PlatformError) throw error;
    return e.data ?? {};
  }
  throw new Error('expected a Slack error');
}

describe('sim: Slack Web API recorder', () => {
  let sim: Sim;
  let slack: WebClient;

  beforeAll(async () => {
    sim = await startSim();
    slack = new WebClient(sim.slackToken, {
      slackApiUrl: sim.urls.slack,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    });
  });
  afterAll(() => sim.close());

  it('answers auth.test for the bot and refuses a wrong token', async () => {
    expect(await slack.auth.test()).toMatchObject({
      ok: true,
      team_id: 'T0SIM',
      user_id: 'U0BOT',
      bot_id: 'B0BOT',
      user: 'meshops',
    });
    const stranger = new WebClient('xoxb-wrong', {
      slackApiUrl: sim.urls.slack,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    expect(await slackError(stranger.auth.test())).toMatchObject({ error: 'invalid_auth' });
    expect(sim.slack.calls.filter((c) => c.method === 'auth.test')).toHaveLength(1);
  });

  it('records posts, thread replies and updates with unique increasing ts', async () => {
    const root = await slack.chat.postMessage({
      channel: CHANNEL,
      text: 'Enabling mesh on c1',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Enabling* mesh on c1' } }],
    });
    expect(root).toMatchObject({
      ok: true,
      channel: CHANNEL,
      message: { text: 'Enabling mesh on c1', user: 'U0BOT' },
    });
    expect(root.ts).toMatch(/^\d{10}\.\d{6}$/);
    const ts = root.ts ?? '';
    const reply = await slack.chat.postMessage({
      channel: CHANNEL,
      thread_ts: ts,
      text: 'approve?',
      reply_broadcast: true,
    });
    const second = await slack.chat.postMessage({ channel: CHANNEL, thread_ts: ts, text: 'registered' });
    expect(Number(reply.ts)).toBeGreaterThan(Number(ts));
    expect(Number(second.ts)).toBeGreaterThan(Number(reply.ts));

    await slack.chat.update({ channel: CHANNEL, ts, text: 'Mesh enabled on c1' });
    const [message] = sim.slack.messages(CHANNEL);
    expect(message).toMatchObject({ ts, text: 'Mesh enabled on c1', edits: 1, user: 'U0BOT' });
    // Slack keeps the blocks when an update sends only text.
    expect(message?.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Enabling* mesh on c1' } },
    ]);
    expect(sim.slack.thread(CHANNEL, ts).map((m) => [m.text, m.reply_broadcast])).toEqual([
      ['approve?', true],
      ['registered', undefined],
    ]);
    const call = sim.slack.calls.find((c) => c.method === 'chat.postMessage' && c.args.text === 'approve?');
    expect(call?.args).toMatchObject({ channel: CHANNEL, thread_ts: ts, reply_broadcast: true });

    expect(
      await slackError(slack.chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' })),
    ).toMatchObject({ error: 'message_not_found' });
  });

  it('keeps ephemerals apart and serves users and usergroups', async () => {
    const ephemeral = await slack.chat.postEphemeral({
      channel: CHANNEL,
      user: 'U0BOB',
      text: 'only you can see this',
    });
    expect(ephemeral.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(sim.slack.ephemerals(CHANNEL)).toEqual([
      { channel: CHANNEL, user: 'U0BOB', text: 'only you can see this' },
    ]);
    expect(sim.slack.messages(CHANNEL).some((m) => m.text === 'only you can see this')).toBe(false);

    sim.slack.usergroups.set('S0SRE', ['U0ALICE', 'U0CAROL']);
    expect((await slack.usergroups.users.list({ usergroup: 'S0SRE' })).users).toEqual(['U0ALICE', 'U0CAROL']);
    expect(await slackError(slack.usergroups.users.list({ usergroup: 'S0NONE' }))).toMatchObject({
      error: 'no_such_subteam',
    });
    expect((await slack.users.info({ user: 'U0ALICE' })).user).toMatchObject({
      id: 'U0ALICE',
      name: 'alice',
    });
    expect(await slackError(slack.users.info({ user: 'U0NOBODY' }))).toMatchObject({
      error: 'user_not_found',
    });
    expect(await slackError(slack.apiCall('conversations.kick', { channel: CHANNEL }))).toMatchObject({
      error: 'unknown_method',
    });
  });

  it('enforces Block Kit and message size limits', async () => {
    const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    expect(
      await slackError(slack.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: tooMany })),
    ).toMatchObject({
      error: 'invalid_blocks',
    });
    expect(
      (await slack.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: tooMany.slice(0, 50) })).ok,
    ).toBe(true);

    const long = await slackError(
      slack.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: [section('a'.repeat(3001))] }),
    );
    expect(long.error).toBe('invalid_blocks');
    expect(long.errors?.[0]).toContain('/blocks/0/text/text');
    expect(
      (await slack.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: [section('a'.repeat(3000))] })).ok,
    ).toBe(true);

    expect(
      await slackError(slack.chat.postMessage({ channel: CHANNEL, text: 'a'.repeat(40001) })),
    ).toMatchObject({ error: 'msg_too_long' });
    expect(await slackError(slack.chat.postMessage({ channel: CHANNEL, text: '' }))).toMatchObject({
      error: 'no_text',
    });
  });

  it('answers 429 with Retry-After for the next calls of a rate-limited method', async () => {
    sim.slack.rateLimit('chat.postMessage', 1, 7);
    await expect(slack.chat.postMessage({ channel: CHANNEL, text: 'limited' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 7,
    });
    expect((await slack.chat.postMessage({ channel: CHANNEL, text: 'after the limit' })).ok).toBe(true);
    expect(sim.slack.messages(CHANNEL).some((m) => m.text === 'limited')).toBe(false);
    expect(sim.slack.calls.filter((c) => c.args.text === 'limited').map((c) => c.error)).toEqual([
      'ratelimited',
    ]);
  });

  it('accepts JSON bodies too', async () => {
    const res = await fetch(`${sim.urls.slack}chat.postMessage`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sim.slackToken}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify({ channel: 'C0JSON', text: 'from json', blocks: [{ type: 'divider' }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0JSON' });
    expect(sim.slack.messages('C0JSON')).toEqual([
      expect.objectContaining({ text: 'from json', blocks: [{ type: 'divider' }], edits: 0 }),
    ]);
  });
});
