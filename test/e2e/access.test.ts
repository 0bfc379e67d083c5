/**
 * Who may ask: config `access` limits requesters (users or user groups), channels and projects.
 * A refused command says why, starts nothing, locks nothing, and is in the cluster's audit stream.
 */
import { AuditLog } from '../../src/store/audit.js';
import { Keys } from '../../src/store/keys.js';
import { slash } from '../support/flows.js';
import {
  CHANNEL,
  REQUESTER,
  SIGNING_SECRET,
  STRANGER,
  startHarness,
  type Harness,
} from '../support/harness.js';
import { connect } from '../support/redis.js';
import { postSigned, slashCommandBody } from '../support/slackRequests.js';

describe('who may ask', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.stop();
  });

  async function say(text: string, user: string, channel = CHANNEL): Promise<string> {
    const res = await postSigned(h.app.url, slashCommandBody(text, user, channel), {
      secret: SIGNING_SECRET,
    });
    expect(res.status).toBe(200);
    return (JSON.parse(await res.text()) as { text: string }).text;
  }

  it('refuses requesters, channels and projects outside the allow-lists, with why, changing nothing', async () => {
    h = await startHarness(
      { scenario: 'default' },
      { config: { access: { requesters: ['S0PLATFORM'], channels: [CHANNEL], projects: ['proj-a'] } } },
    );
    h.sim.slack.usergroups.set('S0PLATFORM', [REQUESTER]);

    expect(await say('enable cluster proj-a/us-central1/c1', STRANGER)).toBe(
      ':no_entry: Not started: you may not ask meshops for changes (config access.requesters: <!subteam^S0PLATFORM>). Nothing was changed.',
    );
    expect(await say('enable cluster proj-a/us-central1/c1', REQUESTER, 'C0ELSEWHERE')).toContain(
      `meshops takes change requests only in <#${CHANNEL}> (config access.channels)`,
    );
    expect(await say('enable cluster proj-b/europe-west1/c2', REQUESTER)).toContain(
      'project `proj-b` is not one meshops may change (config access.projects: `proj-a`)',
    );
    // Nothing ran and nothing is locked: the allowed request goes through at once.
    expect(h.sim.slack.messages(CHANNEL)).toHaveLength(0);
    expect(h.sim.requests.mutations()).toHaveLength(0);
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1')).text).toMatch(
      /^:inbox_tray: Queued run/,
    );

    const redis = connect();
    try {
      const audit = new AuditLog(redis, new Keys(h.config.redis.prefix));
      expect((await audit.recent('proj-a/us-central1/c1', 10)).map((e) => [e.action, e.user])).toEqual([
        ['request-refused', REQUESTER],
        ['request-refused', STRANGER],
      ]);
      expect((await audit.recent('proj-b/europe-west1/c2', 10)).map((e) => e.action)).toEqual([
        'request-refused',
      ]);
    } finally {
      redis.disconnect();
    }
  }, 60_000);

  it('a replayed refused request is answered again, but judged and audited once', async () => {
    const body = slashCommandBody(
      'enable cluster proj-a/us-central1/c3',
      STRANGER,
      CHANNEL,
      'trigger-refused-1',
    );
    const send = async () =>
      (
        JSON.parse(await (await postSigned(h.app.url, body, { secret: SIGNING_SECRET })).text()) as {
          text: string;
        }
      ).text;
    expect(await send()).toContain(':no_entry: Not started: you may not ask meshops for changes');
    expect(await send()).toBe(
      'This request was already received, and it started nothing. Nothing was changed.',
    );
    const redis = connect();
    try {
      const audit = new AuditLog(redis, new Keys(h.config.redis.prefix));
      expect((await audit.recent('proj-a/us-central1/c3', 10)).map((e) => [e.action, e.user])).toEqual([
        ['request-refused', STRANGER],
      ]);
    } finally {
      redis.disconnect();
    }
  });

  it('a status read in a fleet named by fleet= only in a project meshops may work in; without fleet=, anyone may look', async () => {
    expect(await say('status proj-a/us-central1/c1 fleet=fleet-host', STRANGER)).toBe(
      ':no_entry: Not looked at: project `fleet-host` is not one meshops may change (config access.projects: `proj-a`). Nothing was read.',
    );
    // A read: neither the requester nor the channel lists apply, only the projects one.
    expect(await say('status proj-a/us-central1/c1 fleet=proj-a', STRANGER, 'C0ELSEWHERE')).toMatch(
      /^:mag: Looking at `proj-a\/us-central1\/c1` in the fleet of proj-a/,
    );
    expect(await say('status proj-a/us-central1/c1', STRANGER)).toMatch(/^:mag: Looking at/);
    const redis = connect();
    try {
      const audit = new AuditLog(redis, new Keys(h.config.redis.prefix));
      const [latest] = await audit.recent('proj-a/us-central1/c1', 1);
      expect(latest).toMatchObject({ action: 'request-refused', user: STRANGER });
      expect(latest?.reason).toContain('`fleet-host`');
    } finally {
      redis.disconnect();
    }
  });
});

describe('who may ask, for a batch whose clusters join fleet hosts by config', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      { scenario: 'default' },
      {
        config: {
          access: { projects: ['proj-*', 'fleet-host'] },
          fleet: {
            hostProjects: [
              { projects: 'proj-b', host: 'other-host' },
              { projects: 'proj-c', host: 'third-host' },
              { projects: 'proj-*', host: 'fleet-host' },
            ],
          },
        },
      },
    );
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('refuses a batch if a member’s host project is not one meshops may change, naming it and who it is for', async () => {
    // The batch's own scope is proj-a's, whose host is allowed: proj-b's and proj-c's hosts are not.
    const answer = await slash(
      h.app.url,
      'enable cluster proj-a/us-central1/c1 proj-b/europe-west1/c2 proj-c/-/*',
    );
    expect(answer.text).toBe(
      ":no_entry: Not started: the batch's clusters join the fleets of fleet host projects meshops may not change: `other-host` (for `proj-b`), `third-host` (for `proj-c`) (config fleet.hostProjects; config access.projects: `proj-*`, `fleet-host`). Nothing was changed.",
    );
    expect(h.sim.slack.messages(CHANNEL)).toHaveLength(0);
    expect(h.sim.requests.mutations()).toHaveLength(0);
    const redis = connect();
    try {
      const audit = new AuditLog(redis, new Keys(h.config.redis.prefix));
      // A refused batch is audited under the scope it would have locked, named after its (unstarted) run id.
      const keys = await redis.keys(`${h.config.redis.prefix}:auditlog:proj-a/-/*`);
      expect(keys).toHaveLength(1);
      const scope = keys[0]!.slice(`${h.config.redis.prefix}:auditlog:`.length);
      const refusals = await audit.recent(scope, 10);
      expect(refusals.map((e) => [e.action, e.reason])).toEqual([
        ['request-refused', expect.stringContaining('`other-host` (for `proj-b`)')],
      ]);
    } finally {
      redis.disconnect();
    }
  });

  it('admits a batch whose members’ hosts are all allowed, and one whose fleet= overrides the refused hosts', async () => {
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 proj-a/-/c3*')).text).toMatch(
      /^:mag: Batch `/,
    );
    expect(
      (await slash(h.app.url, 'enable cluster proj-b/europe-west1/c2 proj-c/-/* fleet=fleet-host')).text,
    ).toMatch(/^:mag: Batch `/);
  });
});
