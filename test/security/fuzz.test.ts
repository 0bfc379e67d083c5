/**
 * Property-based fuzzing (fast-check) of what anyone in Slack can send: the command parser never
 * throws and reads nothing malformed as a command; over the wire, malformed commands and forged or
 * mangled button payloads never start, decide or change anything. A real approval afterwards still
 * works, so the suite can tell "refused" from "broken".
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { parseMeshCommand, verbs as registeredVerbs } from '../../src/handlers/registry.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../../src/slack/render.js';
import {
  buttonOf,
  click,
  hasButtons,
  slash,
  threadOf,
  waitForPrompt,
  waitForReply,
} from '../support/flows.js';
import {
  APPROVER,
  CHANNEL,
  REQUESTER,
  SIGNING_SECRET,
  startHarness,
  type Harness,
} from '../support/harness.js';
import { buttonClickBody, postSigned, slashCommandBody } from '../support/slackRequests.js';

/** Every verb the registry knows, as a user would type it. */
const verbs = registeredVerbs.map((verb) => verb.name);

/** Command-shaped text: a verb, then tokens that look like references, options, channels and noise. */
const commandText = fc
  .tuple(
    fc.constantFrom(...verbs, 'cluster', ''),
    fc.array(
      fc.oneof(
        fc.constantFrom(
          'cluster',
          'namespaces=',
          'restart=maybe',
          'unregister=true',
          '#platform',
          '<#C1|x>',
          '*',
          '-',
        ),
        fc.stringMatching(/^[a-z0-9-]{1,12}\/[a-z0-9-]{1,12}\/[a-z0-9-]{0,12}$/),
        fc.stringMatching(/^[a-z]{1,10}=[a-z0-9,*-]{0,20}$/),
        fc.string({ maxLength: 30 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
      ),
      { maxLength: 8 },
    ),
  )
  .map(([verb, tokens]) => [verb, ...tokens].join(' '));

describe('the command parser under fuzzing', () => {
  it('never throws, and answers every input with a command or a reason to read', () => {
    fc.assert(
      fc.property(
        fc.oneof(commandText, fc.string({ maxLength: 5000 }), fc.string({ unit: 'binary' })),
        (text) => {
          const parsed = parseMeshCommand(text, { prod: 'proj-a/us-central1/c1' });
          if ('invalid' in parsed) {
            expect(typeof parsed.invalid).toBe('string');
            expect(parsed.invalid.length).toBeGreaterThan(0);
            // A reason never echoes more than a line of what was typed.
            expect(parsed.invalid.length).toBeLessThan(600);
          } else {
            expect(verbs).toContain(parsed.verb);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('fuzzed requests at /slack/events', () => {
  let h: Harness;
  let redis: Redis;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' });
    redis = new Redis(h.config.redis.url);
  });
  afterAll(async () => {
    await redis.quit();
    await h?.stop();
  });

  const runKeys = () => redis.keys(`${h.config.redis.prefix}:run:*`);

  it('malformed commands answer 200 with a reason and never enqueue, post or change anything', async () => {
    const invalid = fc.sample(
      commandText.filter((text) => 'invalid' in parseMeshCommand(text)),
      { numRuns: 150, seed: 42 },
    );
    expect(invalid.length).toBe(150);
    const posted = h.sim.slack.messages().length;
    for (const text of invalid) {
      const res = await postSigned(h.app.url, slashCommandBody(text, REQUESTER, CHANNEL), {
        secret: SIGNING_SECRET,
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { text: string };
      expect(body.text).toMatch(/Nothing was started|\/mesh help/);
    }
    expect(await runKeys()).toEqual([]);
    expect(h.sim.slack.messages()).toHaveLength(posted);
    expect(h.sim.requests.mutations()).toEqual([]);
  });

  it('forged and mangled button payloads never decide a run; a real click afterwards does', async () => {
    expect(
      (await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=default,shop')).status,
    ).toBe(200);
    const prompt = await waitForPrompt(h.sim);
    const approve = buttonOf(prompt, APPROVE_ACTION)!;
    const [runId = '', planHash = ''] = approve.value.split(':');
    const root = threadOf(h.sim)[0]!;
    const mutationsBefore = h.sim.requests.mutations().length;

    // Everything a click carries, each drawn from real values, near misses and garbage.
    const near = (real: string) =>
      fc.oneof(
        fc.constant(real),
        fc.constant(`${real}x`),
        fc.constant(real.slice(1)),
        fc.string({ maxLength: 40 }),
      );
    const payload = fc.record({
      user: fc.constantFrom(APPROVER, REQUESTER, 'UNOBODY', 'USTRANGER', ''),
      actionId: fc.constantFrom(APPROVE_ACTION, REJECT_ACTION, 'approval_approve ', 'other'),
      value: fc.oneof(
        fc.constant(`${runId}:${planHash}x`),
        fc.constant(`${runId}:`),
        fc.constant(`rnosuchrun1:${planHash}`),
        fc.tuple(near(runId), near(planHash)).map(([r, p]) => `${r}:${p}`),
        fc.string({ maxLength: 60 }),
      ),
      blockId: fc.oneof(
        fc.constant(approve.blockId),
        near(approve.blockId),
        fc.constant(`approval:${runId}:0000`),
      ),
      channel: fc.constantFrom(CHANNEL, 'COTHER', ''),
      messageTs: fc.constantFrom(prompt.ts, root.ts, '1.000001', ''),
    });
    // A payload that is exactly the approver's valid click from the prompt is not a forgery: leave it out.
    const forged = fc
      .sample(payload, { numRuns: 120, seed: 7 })
      .filter(
        (p) =>
          !(
            p.user === APPROVER &&
            p.value === approve.value &&
            p.blockId === approve.blockId &&
            p.channel === CHANNEL &&
            p.messageTs === prompt.ts
          ),
      );
    for (const p of forged) {
      const started = Date.now();
      const res = await postSigned(h.app.url, buttonClickBody(p), { secret: SIGNING_SECRET });
      // Acked at once (Slack shows an error after 3 s without an ack), refused or not.
      expect([res.status, Date.now() - started < 2500]).toEqual([200, true]);
    }
    // Garbage where a payload should be: Bolt refuses it, nothing breaks.
    for (const body of [
      'payload=%7Bnot-json',
      'payload=',
      'payload=%5B%5D',
      'payload=%7B%22type%22%3A%22block_actions%22%7D',
    ]) {
      const res = await postSigned(h.app.url, body, { secret: SIGNING_SECRET });
      expect(res.status).toBeLessThan(500);
    }

    const run = JSON.parse((await redis.hget(`${h.config.redis.prefix}:run:${runId}`, 'json')) ?? '{}') as {
      status?: string;
      approval?: { decision?: unknown; approvals?: unknown[] };
    };
    expect(run.status).toBe('awaiting-approval');
    expect(run.approval?.decision).toBeUndefined();
    expect(run.approval?.approvals).toEqual([]);
    expect(h.sim.requests.mutations()).toHaveLength(mutationsBefore);
    expect(threadOf(h.sim).some(hasButtons)).toBe(true);

    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.');
  });
});
