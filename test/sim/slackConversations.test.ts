import { ErrorCode, LogLevel, WebClient, type WebAPICallResult } from '@slack/web-api';
import { startSim, type Sim } from '../../src/sim/index.js';

type Message = { ts: string; text: string; thread_ts?: string; metadata?: unknown; subtype?: string };

/** The `error` of a platform error, i.e. what Slack answered with ok:false. */
async function slackError(promise: Promise<WebAPICallResult>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; data?: { error?: string } };
    if (e.code !== ErrorCode.PlatformError) throw error;
    return e.data?.error;
  }
  throw new Error('expected a Slack error');
}

function texts(result: { messages?: unknown[] }): string[] {
  return ((result.messages ?? []) as Message[]).map((m) => m.text);
}

function client(sim: Sim): WebClient {
  return new WebClient(sim.slackToken, {
    slackApiUrl: sim.urls.slack,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logLevel: LogLevel.ERROR,
  });
}

async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('sim: Slack message metadata and wall time', () => {
  let sim: Sim;
  let slack: WebClient;

  beforeAll(async () => {
    sim = await startSim();
    slack = client(sim);
  });
  afterAll(() => sim.close());

  it('stores metadata sent in a form body (as @slack/web-api does) or a JSON body', async () => {
    const metadata = {
      event_type: 'meshops_run',
      event_payload: { run: 'r-1', cluster: 'proj-a/us-central1/c1' },
    };
    const posted = await slack.chat.postMessage({ channel: 'C0META', text: 'run r-1', metadata });
    const [message] = sim.slack.messages('C0META');
    expect(message).toMatchObject({ ts: posted.ts, metadata });
    const call = sim.slack.calls.find((c) => c.method === 'chat.postMessage' && c.args.text === 'run r-1');
    expect(call?.args.metadata).toEqual(metadata);

    const res = await fetch(`${sim.urls.slack}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.slackToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        channel: 'C0META',
        text: 'json',
        metadata: { event_type: 'x', event_payload: {} },
      }),
    });
    expect(await res.json()).toMatchObject({ ok: true });
    expect(sim.slack.messages('C0META')[1]?.metadata).toEqual({ event_type: 'x', event_payload: {} });

    expect(
      await slackError(
        slack.apiCall('chat.postMessage', { channel: 'C0META', text: 'x', metadata: '{nope' }),
      ),
    ).toBe('invalid_metadata_format');
    expect(
      await slackError(
        slack.apiCall('chat.postMessage', {
          channel: 'C0META',
          text: 'x',
          metadata: JSON.stringify({ a: 1 }),
        }),
      ),
    ).toBe('invalid_metadata_schema');
  });

  it('stamps every call with wall time besides the sim clock', async () => {
    const sped = await startSim({ speed: 1000 });
    try {
      const before = Date.now();
      await client(sped).auth.test();
      const [call] = sped.slack.calls;
      expect(call?.wallAt).toBeGreaterThanOrEqual(before);
      expect(call?.wallAt).toBeLessThanOrEqual(Date.now());
      expect(call?.at).toBeGreaterThan(call?.wallAt ?? Infinity);
    } finally {
      await sped.close();
    }
  });
});

describe('sim: conversations.history, conversations.replies and chat.getPermalink', () => {
  let sim: Sim;
  let slack: WebClient;
  const channel = 'C0HIST';
  let ts: Record<string, string>;

  beforeAll(async () => {
    sim = await startSim();
    sim.clock.pause();
    slack = client(sim);
    const post = async (text: string, extra: Record<string, unknown> = {}): Promise<string> => {
      sim.clock.advance(1000);
      const res = await slack.chat.postMessage({ channel, text, ...extra });
      return res.ts ?? '';
    };
    const one = await post('one', { metadata: { event_type: 'meshops_run', event_payload: { run: 'r-1' } } });
    const reply1 = await post('reply 1', { thread_ts: one });
    const broadcast = await post('broadcast', { thread_ts: one, reply_broadcast: true });
    const two = await post('two');
    const reply2 = await post('reply 2', { thread_ts: one });
    const three = await post('three');
    await slack.chat.postMessage({ channel: 'C0OTHER', text: 'elsewhere' });
    ts = { one, reply1, broadcast, two, reply2, three };
  });
  afterAll(() => sim.close());

  it('lists top-level messages and broadcast replies, newest first', async () => {
    const history = await slack.conversations.history({ channel });
    expect(texts(history)).toEqual(['three', 'two', 'broadcast', 'one']);
    expect(history).toMatchObject({ ok: true, has_more: false, response_metadata: { next_cursor: '' } });
    const [, , broadcast, one] = history.messages as Message[];
    expect(broadcast).toMatchObject({ thread_ts: ts.one, subtype: 'thread_broadcast' });
    expect(one).toMatchObject({
      type: 'message',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      reply_count: 3,
      latest_reply: ts.reply2,
    });
    expect(one?.metadata).toBeUndefined();
  });

  it('includes metadata only with include_all_metadata', async () => {
    const history = await slack.conversations.history({ channel, include_all_metadata: true });
    const one = (history.messages as Message[]).find((m) => m.text === 'one');
    expect(one?.metadata).toEqual({ event_type: 'meshops_run', event_payload: { run: 'r-1' } });
    const replies = await slack.conversations.replies({
      channel,
      ts: ts.one ?? '',
      include_all_metadata: true,
    });
    expect((replies.messages as Message[])[0]?.metadata).toEqual({
      event_type: 'meshops_run',
      event_payload: { run: 'r-1' },
    });
  });

  it('pages with limit and cursor, and windows with oldest, latest and inclusive', async () => {
    const first = await slack.conversations.history({ channel, limit: 2 });
    expect(texts(first)).toEqual(['three', 'two']);
    expect(first.has_more).toBe(true);
    const cursor = first.response_metadata?.next_cursor ?? '';
    expect(cursor).not.toBe('');
    const second = await slack.conversations.history({ channel, limit: 2, cursor });
    expect(texts(second)).toEqual(['broadcast', 'one']);
    expect(second.has_more).toBe(false);

    expect(texts(await slack.conversations.history({ channel, oldest: ts.two }))).toEqual(['three']);
    expect(texts(await slack.conversations.history({ channel, oldest: ts.two, inclusive: true }))).toEqual([
      'three',
      'two',
    ]);
    expect(texts(await slack.conversations.history({ channel, latest: ts.two }))).toEqual([
      'broadcast',
      'one',
    ]);
    expect(
      texts(await slack.conversations.history({ channel, latest: ts.two, oldest: ts.one, inclusive: true })),
    ).toEqual(['two', 'broadcast', 'one']);
    expect(await slackError(slack.conversations.history({ channel, cursor: 'bm9wZQ==' }))).toBe(
      'invalid_cursor',
    );
  });

  it('answers a thread as its parent, then the replies oldest first, from the parent or any reply', async () => {
    const thread = await slack.conversations.replies({ channel, ts: ts.one ?? '' });
    expect(texts(thread)).toEqual(['one', 'reply 1', 'broadcast', 'reply 2']);
    expect(thread.has_more).toBe(false);
    expect(texts(await slack.conversations.replies({ channel, ts: ts.reply1 ?? '' }))).toEqual(texts(thread));

    const first = await slack.conversations.replies({ channel, ts: ts.one ?? '', limit: 2 });
    expect(texts(first)).toEqual(['one', 'reply 1', 'broadcast']);
    expect(first.has_more).toBe(true);
    const rest = await slack.conversations.replies({
      channel,
      ts: ts.one ?? '',
      limit: 2,
      cursor: first.response_metadata?.next_cursor ?? '',
    });
    expect(texts(rest)).toEqual(['one', 'reply 2']);
    expect(rest.has_more).toBe(false);

    expect(
      texts(await slack.conversations.replies({ channel, ts: ts.one ?? '', oldest: ts.broadcast })),
    ).toEqual(['one', 'reply 2']);
    expect(texts(await slack.conversations.replies({ channel, ts: ts.two ?? '' }))).toEqual(['two']);
  });

  it('answers channel_not_found and thread_not_found for what does not exist', async () => {
    expect(await slackError(slack.conversations.history({ channel: 'C0NOWHERE' }))).toBe('channel_not_found');
    expect(await slackError(slack.conversations.replies({ channel: 'C0NOWHERE', ts: ts.one ?? '' }))).toBe(
      'channel_not_found',
    );
    expect(await slackError(slack.conversations.replies({ channel, ts: '1.000001' }))).toBe(
      'thread_not_found',
    );
    // A known channel with nothing in it yet (the local console's) has an empty history.
    expect((await slack.conversations.history({ channel: 'C0PLATFORM' })).messages).toEqual([]);
    sim.slack.addChannel('C0EMPTY');
    expect((await slack.conversations.history({ channel: 'C0EMPTY' })).messages).toEqual([]);
  });

  it('builds permalinks, naming the thread for a reply', async () => {
    const top = await slack.chat.getPermalink({ channel, message_ts: ts.two ?? '' });
    expect(top).toMatchObject({
      ok: true,
      channel,
      permalink: `https://meshops-sim.slack.com/archives/${channel}/p${(ts.two ?? '').replace('.', '')}`,
    });
    const reply = await slack.chat.getPermalink({ channel, message_ts: ts.reply1 ?? '' });
    expect(reply.permalink).toBe(
      `https://meshops-sim.slack.com/archives/${channel}/p${(ts.reply1 ?? '').replace('.', '')}?thread_ts=${ts.one}&cid=${channel}`,
    );
    expect(await slackError(slack.chat.getPermalink({ channel, message_ts: '1.000001' }))).toBe(
      'message_not_found',
    );
  });
});

describe('sim: Slack response_url', () => {
  let sim: Sim;
  const channel = 'C0CMD';

  beforeAll(async () => {
    sim = await startSim();
    sim.clock.pause();
  });
  afterAll(() => sim.close());

  it('is served by the Slack server, and posts an ephemeral by default or to the channel when asked', async () => {
    const url = sim.slack.responseUrl('U0BOB', channel);
    const base = new URL(sim.urls.slack);
    expect(url).toMatch(new RegExp(`^http://${base.host}/commands/T0SIM/\\d+/[a-zA-Z0-9]+$`));
    expect(sim.slack.responseUrl('U0BOB', channel)).not.toBe(url);

    expect(await postJson(url, { text: 'Working on it…' })).toEqual({ status: 200, body: { ok: true } });
    expect(sim.slack.ephemerals(channel, 'U0BOB')).toEqual([
      { channel, user: 'U0BOB', text: 'Working on it…', via: 'response_url' },
    ]);
    expect(sim.slack.ephemerals(channel, 'U0ALICE')).toEqual([]);

    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Enabled* c1' } }];
    expect((await postJson(url, { text: 'Enabled c1', blocks, response_type: 'in_channel' })).status).toBe(
      200,
    );
    expect(sim.slack.messages(channel)).toEqual([
      expect.objectContaining({ text: 'Enabled c1', blocks, user: 'U0BOT', edits: 0 }),
    ]);
    expect(sim.slack.calls.filter((c) => c.method === 'response_url').map((c) => c.args)).toEqual([
      { text: 'Working on it…', channel, user: 'U0BOB' },
      { text: 'Enabled c1', blocks, response_type: 'in_channel', channel, user: 'U0BOB' },
    ]);
  });

  it('allows 5 uses, then answers 404 used_url; after 30 minutes 404 expired_url', async () => {
    const url = sim.slack.responseUrl('U0ALICE', channel);
    for (let i = 1; i <= 5; i += 1) expect((await postJson(url, { text: `use ${i}` })).status).toBe(200);
    expect(await postJson(url, { text: 'use 6' })).toEqual({
      status: 404,
      body: { ok: false, error: 'used_url' },
    });
    expect(sim.slack.calls.at(-1)).toMatchObject({ method: 'response_url', error: 'used_url' });

    const late = sim.slack.responseUrl('U0ALICE', channel);
    sim.clock.advance(30 * 60_000);
    expect((await postJson(late, { text: 'just in time' })).status).toBe(200);
    sim.clock.advance(1);
    expect(await postJson(late, { text: 'late' })).toEqual({
      status: 404,
      body: { ok: false, error: 'expired_url' },
    });
    const forged = late.replace(/\/[a-zA-Z0-9]+$/, '/forged');
    expect((await postJson(forged, { text: 'x' })).status).toBe(404);
  });

  it('checks Block Kit limits like chat.postMessage, without using the URL up', async () => {
    const url = sim.slack.responseUrl('U0BOB', channel);
    const tooLong = [{ type: 'section', text: { type: 'mrkdwn', text: 'a'.repeat(3001) } }];
    const refused = await postJson(url, { text: 'x', blocks: tooLong });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect((await postJson(url, { text: '' })).body).toMatchObject({ error: 'no_text' });
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(bad.status).toBe(400);
    for (let i = 0; i < 5; i += 1) expect((await postJson(url, { text: 'fine' })).status).toBe(200);
  });

  it('replaces or deletes the message an interaction came from, or its own last ephemeral', async () => {
    const slack = client(sim);
    const prompt = await slack.chat.postMessage({ channel, text: 'Approve?' });
    const url = sim.slack.responseUrl('U0ALICE', channel, { messageTs: prompt.ts ?? '' });
    await postJson(url, { text: 'Approved by alice', replace_original: true, response_type: 'in_channel' });
    expect(sim.slack.messages(channel).find((m) => m.ts === prompt.ts)).toMatchObject({
      text: 'Approved by alice',
      edits: 1,
    });
    await postJson(url, { delete_original: true });
    expect(sim.slack.messages(channel).some((m) => m.ts === prompt.ts)).toBe(false);

    const command = sim.slack.responseUrl('U0BOB', 'C0REPLACE');
    await postJson(command, { text: 'step 1/2' });
    await postJson(command, { text: 'step 2/2', replace_original: true });
    expect(sim.slack.ephemerals('C0REPLACE').map((e) => e.text)).toEqual(['step 2/2']);
    await postJson(command, { delete_original: true });
    expect(sim.slack.ephemerals('C0REPLACE')).toEqual([]);
  });
});

describe('sim: Slack per-channel pacing', () => {
  let sim: Sim;
  let slack: WebClient;

  beforeAll(async () => {
    sim = await startSim();
    slack = client(sim);
  });
  afterAll(() => sim.close());
  afterEach(() => sim.slack.enforceChannelRate(null));

  it('is off by default', async () => {
    for (let i = 0; i < 10; i += 1) await slack.chat.postMessage({ channel: 'C0FREE', text: `m${i}` });
    expect(sim.slack.messages('C0FREE')).toHaveLength(10);
  });

  it('answers 429 with Retry-After beyond the burst, per channel, on wall-clock time', async () => {
    // A token every 500 ms: a busy machine's slow posts must not refill the bucket before the third one.
    sim.slack.enforceChannelRate({ perSecond: 2, burst: 2 });
    await slack.chat.postMessage({ channel: 'C0PACE', text: 'a' });
    await slack.chat.postMessage({ channel: 'C0PACE', text: 'b' });
    await expect(slack.chat.postMessage({ channel: 'C0PACE', text: 'c' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 1,
    });
    // Another channel has its own bucket; other methods are not paced.
    expect((await slack.chat.postMessage({ channel: 'C0OTHER', text: 'x' })).ok).toBe(true);
    expect((await slack.auth.test()).ok).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 550));
    expect((await slack.chat.postMessage({ channel: 'C0PACE', text: 'd' })).ok).toBe(true);
    expect(sim.slack.messages('C0PACE').map((m) => m.text)).toEqual(['a', 'b', 'd']);
    const paced = sim.slack.calls.filter((c) => c.args.channel === 'C0PACE');
    expect(paced.map((c) => c.error)).toEqual([undefined, undefined, 'ratelimited', undefined]);
    expect((paced[3]?.wallAt ?? 0) - (paced[2]?.wallAt ?? 0)).toBeGreaterThanOrEqual(500);
  });

  it('says how long to wait in whole seconds at a slow rate', async () => {
    sim.slack.enforceChannelRate({ perSecond: 0.25, burst: 1 });
    await slack.chat.postMessage({ channel: 'C0SLOW', text: 'a' });
    const res = await fetch(`${sim.urls.slack}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.slackToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C0SLOW', text: 'b' }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(3);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(4);
    expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
  });
});
