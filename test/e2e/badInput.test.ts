/**
 * What arrives at /slack/events from outside: malformed commands get usage and start nothing;
 * unsigned, mis-signed or stale requests get 401; a replayed request starts nothing twice.
 */
import { Redis } from 'ioredis';
import { CHANNEL, REQUESTER, SIGNING_SECRET, startHarness, type Harness } from '../support/harness.js';
import { postSigned, sign, slashCommandBody } from '../support/slackRequests.js';
import { waitFor } from '../support/wait.js';

describe('bad input at /slack/events', () => {
  let h: Harness;
  let redis: Redis;

  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' });
    redis = new Redis(h.config.redis.url);
  });
  afterAll(async () => {
    await redis.quit();
    await h.stop();
  });

  async function keysOfRuns(): Promise<string[]> {
    return redis.keys(`${h.config.redis.prefix}:run:*`);
  }

  it.each([
    ['enable cluster ;;;', 'not a cluster reference'],
    ['frobnicate proj-a/us-central1/c1', 'unknown command `frobnicate`'],
    [`enable cluster proj-a/us-central1/c1 namespaces=${'a'.repeat(4950)}`, 'the limit is 4000'],
    ['enable cluster プロジェクト/東京/クラスタ', 'not a valid project ID'],
    [
      'enable cluster proj-a/us-central1/c1 namespaces=default restart=perhaps',
      '`restart=` takes true or false',
    ],
    ['enable cluster proj-a/us-central1/c1 ✨', 'is not an option'],
  ])('%#: answers usage to a malformed command and starts nothing', async (text, reason) => {
    // Bolt's own auth.test on the first request is not something the command did.
    const posted = () => h.sim.slack.calls.filter((c) => c.method !== 'auth.test').length;
    const calls = posted();
    const res = await postSigned(h.app.url, slashCommandBody(text, REQUESTER, CHANNEL), {
      secret: SIGNING_SECRET,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(reason);
    expect(body.text).toContain('Nothing was started');
    expect(body.text).toContain('/mesh enable cluster PROJECT/LOCATION/CLUSTER');
    expect(body.text.length).toBeLessThan(1500);
    expect(await keysOfRuns()).toEqual([]);
    expect(posted()).toBe(calls);
  });

  it('answers help', async () => {
    const res = await postSigned(h.app.url, slashCommandBody('help', REQUESTER, CHANNEL), {
      secret: SIGNING_SECRET,
    });
    expect(((await res.json()) as { text: string }).text).toContain('*Usage*');
  });

  it('refuses a bad signature, a missing one and a stale timestamp with 401', async () => {
    const body = slashCommandBody('enable cluster proj-a/us-central1/c1', REQUESTER, CHANNEL);
    const wrongSecret = await postSigned(h.app.url, body, { secret: 'not-the-secret' });
    expect(wrongSecret.status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const tampered = await postSigned(h.app.url, body.replace('c1', 'c2'), {
      secret: SIGNING_SECRET,
      timestamp: now,
      signature: sign(SIGNING_SECRET, now, body),
    });
    expect(tampered.status).toBe(401);
    const stale = await postSigned(h.app.url, body, { secret: SIGNING_SECRET, timestamp: now - 6 * 60 });
    expect(stale.status).toBe(401);
    const unsigned = await fetch(`${h.app.url}/slack/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(unsigned.status).toBe(401);
    expect(await keysOfRuns()).toEqual([]);
  });

  it('a replayed request (same trigger_id) starts one run, and a second enable points at it', async () => {
    const body = slashCommandBody(
      'enable cluster proj-a/us-central1/c1',
      REQUESTER,
      CHANNEL,
      'trigger-replayed-1',
    );
    const first = (await (await postSigned(h.app.url, body, { secret: SIGNING_SECRET })).json()) as {
      text: string;
    };
    const again = (await (await postSigned(h.app.url, body, { secret: SIGNING_SECRET })).json()) as {
      text: string;
    };
    const runId = /Queued run `(r[0-9a-z]+)`/.exec(first.text)?.[1];
    expect(runId).toBeDefined();
    expect(again.text).toBe(`This request was already received: run \`${runId}\`.`);
    const other = slashCommandBody(
      'enable cluster proj-a/us-central1/c1 namespaces=shop',
      REQUESTER,
      CHANNEL,
    );
    const second = (await (await postSigned(h.app.url, other, { secret: SIGNING_SECRET })).json()) as {
      text: string;
    };
    expect(second.text).toContain(`A run is already going for \`proj-a/us-central1/c1\`: run \`${runId}\``);
    expect(await keysOfRuns()).toHaveLength(1);
    await waitFor(
      'the run to finish',
      () => h.sim.slack.messages(CHANNEL).find((m) => m.text.startsWith(':tada: Done.')),
      30_000,
    );
    expect(h.sim.slack.messages(CHANNEL).filter((m) => !m.thread_ts)).toHaveLength(1);
  });

  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${h.app.url}/readyz`)).text()).toBe('ready');
    expect(await (await fetch(`${h.app.url}/metrics`)).text()).toContain('process_cpu_user_seconds_total');
  });
});

describe('a mistyped namespace', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.stop();
  });

  it('is found before the first change: no membership, no label, no mesh, nothing enabled', async () => {
    h = await startHarness({ scenario: 'default' });
    const queued = await postSigned(
      h.app.url,
      slashCommandBody(
        'enable cluster proj-a/us-central1/c1 namespaces=default,nosuch,shopp',
        REQUESTER,
        CHANNEL,
      ),
      { secret: SIGNING_SECRET },
    );
    expect(await queued.text()).toContain('Queued run');
    const failed = await waitFor('the run failing', () =>
      h.sim.slack.messages(CHANNEL).find((m) => m.thread_ts && m.text.startsWith(':x:')),
    );
    expect(failed.text).toContain('namespaces `nosuch`, `shopp` do not exist in c1; nothing was changed');
    expect(failed.text).toContain('kubectl get namespaces');
    expect(h.sim.requests.mutations()).toEqual([]);
  });
});
