/**
 * Slack's Web API goes down for a minute mid-run: the run goes on with Google, every message waits
 * in the outbox, and once Slack is back they all arrive within seconds, in order, once each.
 * A minute of waiting: in `npm run test:reliability`.
 */
import {
  click,
  expectInOrder,
  roots,
  slash,
  threadOf,
  waitForPrompt,
  waitForReply,
} from '../support/flows.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';

const OUTAGE_MS = 60_000;
/** The outbox tries a waiting message every 10 s (±20 %) at most: the backlog is out soon after. */
const CATCH_UP_MS = 20_000;

describe('a Slack outage mid-run', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('keeps every message and delivers them in order once Slack answers again', async () => {
    expect((await slash(h.app.url, 'enable cluster proj-a/us-central1/c1 namespaces=default')).text).toMatch(
      /Queued run/,
    );
    await waitForReply(h.sim, ':mag:');
    const downAt = Date.now();
    h.sim.slack.outage(OUTAGE_MS);
    const failedCalls = () => h.sim.slack.calls.filter((c) => c.error === 'http_503').length;

    // Google goes on while Slack is down; the messages wait.
    const prompt = await waitForPrompt(h.sim, undefined, OUTAGE_MS + CATCH_UP_MS);
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(OUTAGE_MS - 100);
    expect(failedCalls()).toBeGreaterThan(0);
    // Slack answers again: what waited goes out within a few of the outbox's tries, not minutes later.
    expect(Date.now() - (downAt + OUTAGE_MS)).toBeLessThan(CATCH_UP_MS);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', undefined, 60_000);

    expect(roots(h.sim)).toHaveLength(1);
    const texts = threadOf(h.sim).map((m) => m.text);
    expect(texts.slice(1).filter((t, i, all) => all.indexOf(t) !== i)).toEqual([]);
    expectInOrder(texts, [
      ':mag:',
      ':link:',
      ':label:',
      ':gear:',
      ':satellite: Control plane',
      ':clipboard:',
      ':white_check_mark: Approved by',
      ':syringe:',
      ':tada:',
    ]);
  });
});
