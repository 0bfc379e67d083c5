/**
 * The outside world misbehaving during a run: Google answering 503/429 at random and Slack rate
 * limiting still end in one successful run with no message twice; a precondition that is not met
 * ends the run with the exact fix in the thread and frees the cluster for the next try.
 */
import { APPROVE_ACTION } from '../../src/slack/render.js';
import type { SlackMessage } from '../../src/sim/index.js';
import {
  APPROVER,
  CHANNEL,
  REQUESTER,
  SIGNING_SECRET,
  startHarness,
  type Harness,
} from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';
import { buttonClickBody, postSigned, slashCommandBody } from '../support/slackRequests.js';
import { waitFor } from '../support/wait.js';

async function enable(h: Harness, ref: string, extra = ''): Promise<string> {
  const res = await postSigned(
    h.app.url,
    slashCommandBody(`enable cluster ${ref}${extra}`, REQUESTER, CHANNEL),
    {
      secret: SIGNING_SECRET,
    },
  );
  return ((await res.json()) as { text: string }).text;
}

function threadOf(h: Harness, ref: string): SlackMessage[] {
  const root = h.sim.slack.messages(CHANNEL).find((m) => !m.thread_ts && m.text.includes(ref));
  return root ? [root, ...h.sim.slack.thread(CHANNEL, root.ts)] : [];
}

describe('faults during a run', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  it('finishes through random 503s and 429s from Google and a rate-limited Slack, posting nothing twice', async () => {
    h = await startHarness({ scenario: 'default' });
    for (const api of ['gkehub', 'container', 'serviceusage', 'resourcemanager'] as const) {
      h.sim.faults.add({ api, status: 503, rate: 0.25 });
    }
    h.sim.faults.add({ api: 'gkehub', status: 429, rate: 0.1, retryAfterSeconds: 0 });
    h.sim.faults.add({ api: 'kubernetes', status: 503, rate: 0.2 });
    h.sim.slack.rateLimit('chat.postMessage', 2, 1);

    expect(await enable(h, 'proj-a/us-central1/c1', ' namespaces=shop')).toMatch(/Queued run/);
    const prompt = await waitFor(
      'the approval prompt',
      () =>
        threadOf(h, 'proj-a/us-central1/c1').find((m) =>
          JSON.stringify(m.blocks ?? []).includes(APPROVE_ACTION),
        ),
      60_000,
    );
    const runId = /run `(r[0-9a-z]+)`/.exec(JSON.stringify(prompt.blocks))?.[1] ?? '';
    const click = buttonClickBody({
      user: APPROVER,
      actionId: APPROVE_ACTION,
      value: runId,
      channel: CHANNEL,
      messageTs: prompt.ts,
    });
    expect((await postSigned(h.app.url, click, { secret: SIGNING_SECRET })).status).toBe(200);
    await waitFor(
      'the success summary',
      () => threadOf(h, 'proj-a/us-central1/c1').find((m) => m.text.startsWith(':tada: Done.')),
      60_000,
    );

    expect(h.sim.faults.fired).toBeGreaterThan(3);
    expect(await listMemberships(h.sim, 'proj-a')).toHaveLength(1);
    const texts = threadOf(h, 'proj-a/us-central1/c1').map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(h.sim.slack.messages(CHANNEL).filter((m) => !m.thread_ts)).toHaveLength(1);
  });

  it('stops at preflight with the exact fix when Workload Identity is off, and frees the cluster', async () => {
    h = await startHarness({ scenario: 'default' });
    expect(await enable(h, 'proj-b/europe-west1/c2')).toMatch(/Queued run/);
    const failed = await waitFor(
      'the failure',
      () => threadOf(h, 'proj-b/europe-west1/c2').find((m) => m.text.startsWith(':x: Failed')),
      30_000,
    );
    expect(failed.text).toContain('Workload Identity is not enabled on c2');
    expect(failed.text).toContain(
      '*What to do:* gcloud container clusters update c2 --location europe-west1 --project proj-b --workload-pool=proj-b.svc.id.goog',
    );
    expect(failed.text).toContain('WORKLOAD_IDENTITY_DISABLED');
    expect(threadOf(h, 'proj-b/europe-west1/c2')[0]!.text).toContain('Failed');
    expect(await listMemberships(h.sim, 'proj-b')).toHaveLength(0);
    // The lock went with the run: a new try is accepted at once.
    expect(await enable(h, 'proj-b/europe-west1/c2')).toMatch(/Queued run/);
  });

  it('stops with the API to enable when Google says SERVICE_DISABLED, without retrying it', async () => {
    h = await startHarness({ scenario: 'default' });
    h.sim.faults.add({
      api: 'gkehub',
      status: 403,
      reason: 'SERVICE_DISABLED',
      service: 'gkehub.googleapis.com',
      times: 100,
    });
    expect(await enable(h, 'proj-a/us-central1/c1')).toMatch(/Queued run/);
    const failed = await waitFor(
      'the failure',
      () => threadOf(h, 'proj-a/us-central1/c1').find((m) => m.text.startsWith(':x: Failed')),
      30_000,
    );
    expect(failed.text).toContain(
      '*What to do:* gcloud services enable gkehub.googleapis.com --project proj-a',
    );
    expect(h.sim.faults.fired).toBe(1);
  });
});
