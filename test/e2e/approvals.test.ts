/**
 * Approvals teams can trust: a click counts only from the run's current prompt and from someone
 * who may approve (by user ID or user group); `prod`-like projects need two different approvers;
 * Reject takes a reason; and every decision and refusal lands in the cluster's audit stream,
 * which `/mesh status` shows.
 */
import { startSim, type SlackMessage } from '../../src/sim/index.js';
import { REJECT_ACTION } from '../../src/slack/render.js';
import { AuditLog } from '../../src/store/audit.js';
import { Keys } from '../../src/store/keys.js';
import {
  ask,
  buttonOf,
  click,
  hasButtons,
  roots,
  slash,
  threadOf,
  waitForPrompt,
  waitForReply,
} from '../support/flows.js';
import {
  APPROVER,
  CHANNEL,
  REQUESTER,
  SECOND_APPROVER,
  SIGNING_SECRET,
  STRANGER,
  startHarness,
  type Harness,
} from '../support/harness.js';
import { processEnv, startMeshopsProcess } from '../support/child.js';
import { namespaceLabels } from '../support/inspect.js';
import { connect } from '../support/redis.js';
import { buttonClickBody, postSigned } from '../support/slackRequests.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';

describe('approvals', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  const labels = (namespace: string) => namespaceLabels(h.sim, C1, namespace);

  /** The ephemeral `user` was told last that contains `text`. */
  function toldTo(user: string, text: string): Promise<{ text: string }> {
    return waitFor(`${user} told “${text}”`, () =>
      h.sim.slack
        .ephemerals(CHANNEL)
        .filter((e) => e.user === user && e.text.includes(text))
        .at(-1),
    );
  }

  async function audit(): Promise<Array<{ action: string; user: string; reason?: string }>> {
    const redis = connect();
    try {
      return (await new AuditLog(redis, new Keys(h.config.redis.prefix)).recent(C1, 50)).reverse();
    } finally {
      redis.disconnect();
    }
  }

  async function toApproval(): Promise<{ runId: string; prompt: SlackMessage }> {
    const queued = await slash(h.app.url, `enable cluster ${C1} namespaces=shop`);
    const runId = /run `(r[0-9a-z]+)`/.exec(queued.text)?.[1] ?? '';
    expect(runId).not.toBe('');
    return { runId, prompt: await waitForPrompt(h.sim, C1) };
  }

  it('counts a click only from the current prompt and from an approver who is not the requester', async () => {
    h = await startHarness({ scenario: 'default' });
    const { runId, prompt } = await toApproval();
    const root = roots(h.sim)[0]!;
    // The prompt says who may approve and that the requester may not.
    const context = JSON.stringify(prompt.blocks);
    expect(context).toContain(
      `Needs one approver of <@${APPROVER}>, <@${SECOND_APPROVER}>, <@${REQUESTER}>, not <@${REQUESTER}> (who asked).`,
    );
    expect(context).toContain(`<@${APPROVER}>`);

    // An approver's Approve, delivered from the root message (same action id and value): refused.
    expect(await click(h.app.url, APPROVER, prompt, undefined, { from: root })).toBe(200);
    await toldTo(APPROVER, 'is not on the approval prompt');
    // The right message but a plan hash the prompt does not carry (a stale or crafted value): refused.
    const button = buttonOf(prompt, 'approval_approve')!;
    const forged = buttonClickBody({
      user: APPROVER,
      actionId: 'approval_approve',
      value: `${runId}:000000000000`,
      blockId: `approval:${runId}:000000000000`,
      channel: CHANNEL,
      messageTs: prompt.ts,
      threadTs: prompt.thread_ts!,
    });
    expect((await postSigned(h.app.url, forged, { secret: SIGNING_SECRET })).status).toBe(200);
    await waitFor('two refusals for the wrong source', async () =>
      (await audit()).filter((e) => e.reason === 'not-the-prompt').length === 2 ? true : undefined,
    );
    // Someone who is not an approver, and the requester approving their own run: refused.
    expect(await click(h.app.url, STRANGER, prompt)).toBe(200);
    await toldTo(STRANGER, 'You are not an approver for meshops');
    expect(await click(h.app.url, REQUESTER, prompt)).toBe(200);
    await toldTo(REQUESTER, 'You requested this run, so another approver has to decide');

    // None of it moved the run: it still waits, and the namespace is untouched.
    const still = threadOf(h.sim, C1).find((m) => m.ts === prompt.ts)!;
    expect(hasButtons(still)).toBe(true);
    expect(await labels('shop')).not.toHaveProperty('istio-injection');

    // The real prompt, by an approver: it counts.
    expect(button.blockId).toMatch(new RegExp(`^approval:${runId}:[0-9a-f]{12}$`));
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', C1, 60_000);
    expect((await labels('shop'))['istio-injection']).toBe('enabled');

    expect((await audit()).map((e) => [e.action, e.user, e.reason ?? ''])).toEqual([
      ['click-refused', APPROVER, 'not-the-prompt'],
      ['click-refused', APPROVER, 'not-the-prompt'],
      ['click-refused', STRANGER, 'not-an-approver'],
      ['click-refused', REQUESTER, 'self-approval'],
      ['approved', APPROVER, ''],
    ]);
    // `/mesh status` shows the trail, newest first.
    const status = JSON.stringify((await ask(h.app.url, h.sim, `status ${C1}`)).blocks);
    expect(status).toContain('*Audit* (newest first)');
    expect(status.indexOf(`<@${APPROVER}> approved`)).toBeLessThan(status.indexOf('click refused'));
    expect(status).toContain(`<@${STRANGER}> click refused \`${runId}\`: not-an-approver`);
  }, 120_000);

  it('takes an approver from a user group, looked up with usergroups.users.list', async () => {
    h = await startHarness({ scenario: 'default' }, { env: { MESHOPS_APPROVERS: 'S0PLATFORM' } });
    h.sim.slack.usergroups.set('S0PLATFORM', ['UGROUPIE']);
    const { prompt } = await toApproval();
    expect(JSON.stringify(prompt.blocks)).toContain('<!subteam^S0PLATFORM>');
    // APPROVER is not in the group: refused. The group's member: counts.
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await toldTo(APPROVER, 'You are not an approver for meshops');
    expect(await click(h.app.url, 'UGROUPIE', prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', C1, 60_000);
    expect(h.sim.slack.calls.filter((c) => c.method === 'usergroups.users.list').length).toBeGreaterThan(0);
    expect((await audit()).map((e) => [e.action, e.user])).toEqual([
      ['click-refused', APPROVER],
      ['approved', 'UGROUPIE'],
    ]);
  }, 120_000);

  it('needs two different approvers on a project MESHOPS_TWO_APPROVERS names; one approver twice is not two', async () => {
    h = await startHarness({ scenario: 'default' }, { env: { MESHOPS_TWO_APPROVERS: 'proj-*' } });
    const { prompt } = await toApproval();
    expect(JSON.stringify(prompt.blocks)).toContain(`neither of them <@${REQUESTER}> (who asked)`);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await toldTo(APPROVER, 'needs one more approver');
    // The prompt keeps its buttons and says who approved.
    const partial = await waitFor('the prompt updated with the first approval', () =>
      threadOf(h.sim, C1).find(
        (m) => m.ts === prompt.ts && JSON.stringify(m.blocks).includes('1 more approver'),
      ),
    );
    expect(hasButtons(partial)).toBe(true);
    expect(JSON.stringify(partial.blocks)).toContain(`Approved by <@${APPROVER}>`);
    // The same approver again is not a second approval.
    expect(await click(h.app.url, APPROVER, partial)).toBe(200);
    await toldTo(APPROVER, 'You approved already');
    await new Promise((r) => setTimeout(r, 500));
    expect(await labels('shop')).not.toHaveProperty('istio-injection');
    // A second, different approver completes it.
    expect(await click(h.app.url, SECOND_APPROVER, partial)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', C1, 60_000);
    const closed = threadOf(h.sim, C1).find((m) => m.ts === prompt.ts)!;
    expect(hasButtons(closed)).toBe(false);
    expect(JSON.stringify(closed.blocks)).toMatch(
      new RegExp(`Approved by <@${APPROVER}> [^"]* and <@${SECOND_APPROVER}>`),
    );
    expect((await audit()).map((e) => [e.action, e.user, e.reason ?? ''])).toEqual([
      ['approved', APPROVER, ''],
      ['click-refused', APPROVER, 'approved-already'],
      ['approved', SECOND_APPROVER, ''],
    ]);
  }, 120_000);

  it('takes a reason with Reject: in the outcome, the closed prompt and the audit stream', async () => {
    h = await startHarness({ scenario: 'default' });
    const { prompt } = await toApproval();
    const reason = 'change freeze until Friday';
    expect(await click(h.app.url, APPROVER, prompt, REJECT_ACTION, { reason })).toBe(200);
    const rejected = await waitFor('the outcome', () =>
      threadOf(h.sim, C1).find(
        (m) => m.text.startsWith(':no_entry:') && m.text.includes('no namespace was touched'),
      ),
    );
    expect(rejected.text).toContain(`Rejected by <@${APPROVER}>: “${reason}”`);
    const closed = await waitFor('the closed prompt', () =>
      threadOf(h.sim, C1).find((m) => m.ts === prompt.ts && !hasButtons(m)),
    );
    expect(JSON.stringify(closed.blocks)).toContain(reason);
    // A late Approve is told who decided, and why.
    expect(await click(h.app.url, SECOND_APPROVER, prompt)).toBe(200);
    const late = await toldTo(SECOND_APPROVER, 'Already rejected by');
    expect(late.text).toContain(reason);
    expect(await labels('shop')).not.toHaveProperty('istio-injection');
    expect((await audit()).map((e) => [e.action, e.user, e.reason ?? ''])).toEqual([
      ['rejected', APPROVER, reason],
      ['click-refused', SECOND_APPROVER, 'decided'],
    ]);
  }, 120_000);
});

describe('an approval click as fast as Slack can deliver it', () => {
  it('counts a click that arrives the moment the prompt is posted, before its ts is recorded', async () => {
    const sim = await startSim({ speed: 100, scenario: 'default' });
    sim.slack.postAnswerLagMs = 300;
    const bot = await startMeshopsProcess(processEnv(sim));
    try {
      const clicked: Array<Promise<number>> = [];
      // Slack shows the prompt, and the approver clicks, before the post's answer reaches meshops.
      const stop = sim.slack.onPost((message) => {
        if (hasButtons(message)) clicked.push(click(bot.url, APPROVER, message));
      });
      await slash(bot.url, `enable cluster ${C1} namespaces=shop`);
      await waitForReply(sim, ':tada: Done.', C1, 60_000);
      stop();
      expect(await Promise.all(clicked)).toEqual([200]);
      // The clicker was told nothing: no refusal.
      expect(sim.slack.ephemerals(CHANNEL).filter((e) => e.user === APPROVER)).toEqual([]);
    } finally {
      await bot.kill('SIGTERM');
      await sim.close();
    }
  }, 120_000);
});
