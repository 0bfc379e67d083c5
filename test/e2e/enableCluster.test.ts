/**
 * The spine, end to end: a signed `/mesh enable cluster` reaches the app over HTTP, a worker runs
 * the workflow through BullMQ on a real Redis, the real client libraries talk to the emulator, and
 * the user sees the thread, approves with a button, and ends with injected namespaces.
 */
import type { SlackMessage } from '../../src/sim/index.js';
import { REJECT_ACTION } from '../../src/slack/render.js';
import {
  click,
  hasButtons,
  roots,
  slash,
  threadOf,
  waitForPrompt,
  waitForReply,
  expectInOrder,
} from '../support/flows.js';
import {
  APPROVER,
  CHANNEL,
  REQUESTER,
  SECOND_APPROVER,
  STRANGER,
  startHarness,
  type Harness,
} from '../support/harness.js';
import { getCluster, getMeshFeature, kubeFor, namespaceLabels, listMemberships } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const CLUSTER = 'proj-a/us-central1/c1';
const MEMBERSHIP = 'projects/123456789012/locations/us-central1/memberships/c1';

async function runToApproval(h: Harness): Promise<{ root: SlackMessage; prompt: SlackMessage }> {
  // How fast the ack comes is measured by `npm run bench`, not asserted here.
  const reply = await slash(h.app.url, `enable cluster ${CLUSTER} namespaces=default,shop`);
  expect(reply.status).toBe(200);
  expect(reply.text).toMatch(
    /Queued run `r[0-9a-z]+`: managed Cloud Service Mesh on `proj-a\/us-central1\/c1`/,
  );
  const root = await waitFor('the root message', () => roots(h.sim)[0]);
  expect(root.text).toContain('Enable Cloud Service Mesh on `proj-a/us-central1/c1`');
  const prompt = await waitForPrompt(h.sim);
  expect(prompt.thread_ts).toBe(root.ts);
  expect(prompt.reply_broadcast).toBe(true);
  return { root, prompt };
}

function labelsOf(h: Harness, namespace: string): Promise<Record<string, string>> {
  return namespaceLabels(h.sim, CLUSTER, namespace);
}

describe('/mesh enable cluster, end to end', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  it('onboards proj-a/us-central1/c1 with istio-injection=enabled after an approver approves', async () => {
    h = await startHarness({ scenario: 'default' });
    const { root, prompt } = await runToApproval(h);

    // Fleet and cluster state before anything touches a namespace.
    const memberships = await listMemberships(h.sim, 'proj-a');
    expect(memberships).toHaveLength(1);
    expect(memberships[0]).toMatchObject({
      endpoint: {
        gkeCluster: {
          resourceLink: '//container.googleapis.com/projects/proj-a/locations/us-central1/clusters/c1',
        },
      },
      authority: {
        issuer: 'https://container.googleapis.com/v1/projects/proj-a/locations/us-central1/clusters/c1',
      },
    });
    expect((await getCluster(h.sim, CLUSTER)).resourceLabels).toEqual({
      env: 'dev',
      team: 'platform',
      mesh_id: 'proj-123456789012',
    });
    const feature = await getMeshFeature(h.sim, 'proj-a');
    expect(Object.keys(feature.membershipSpecs ?? {})).toEqual([MEMBERSHIP]);
    expect(feature.membershipSpecs?.[MEMBERSHIP]).toMatchObject({
      mesh: { management: 'MANAGEMENT_AUTOMATIC' },
    });
    expect(await labelsOf(h, 'default')).not.toHaveProperty('istio-injection');
    expect(await labelsOf(h, 'shop')).not.toHaveProperty('istio-injection');
    expect(JSON.stringify(prompt.blocks)).toContain('istio-injection=enabled');

    // The requester and a stranger are refused; nothing changes.
    expect(await click(h.app.url, REQUESTER, prompt)).toBe(200);
    expect(await click(h.app.url, STRANGER, prompt)).toBe(200);
    const refusals = await waitFor('two refusals', () => {
      const e = h.sim.slack.ephemerals(CHANNEL);
      return e.length >= 2 ? e : undefined;
    });
    expect(refusals.find((e) => e.user === REQUESTER)?.text).toMatch(/You requested this run/);
    expect(refusals.find((e) => e.user === STRANGER)?.text).toMatch(/not an approver/);
    expect(hasButtons(threadOf(h.sim).find((m) => m.ts === prompt.ts)!)).toBe(true);
    expect(await labelsOf(h, 'default')).not.toHaveProperty('istio-injection');

    // The approver approves: buttons give way to who decided, and the run finishes.
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    const outcome = await waitForReply(h.sim, ':tada: Done.');
    expect(outcome.text).toContain('`default`, `shop` labelled `istio-injection=enabled`');
    const closed = threadOf(h.sim).find((m) => m.ts === prompt.ts)!;
    expect(hasButtons(closed)).toBe(false);
    expect(JSON.stringify(closed.blocks)).toContain(`Approved by <@${APPROVER}>`);

    for (const ns of ['default', 'shop']) {
      const labels = await labelsOf(h, ns);
      expect(labels['istio-injection']).toBe('enabled');
      expect(labels).not.toHaveProperty('istio.io/rev');
    }
    const { core, apps } = await kubeFor(h.sim, CLUSTER);
    for (const ns of ['default', 'shop']) {
      const deployments = (await apps.listNamespacedDeployment({ namespace: ns })).items;
      expect(deployments.length).toBeGreaterThan(0);
      for (const d of deployments) {
        expect(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
      }
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      expect(pods.length).toBeGreaterThan(0);
      for (const pod of pods) expect(pod.spec?.containers.map((c) => c.name)).toContain('istio-proxy');
    }

    // One root message, kept as a checklist that shows the outcome; thread replies in step order.
    expect(roots(h.sim)).toHaveLength(1);
    expect(roots(h.sim)[0]!.text).toContain('Succeeded');
    const [first, ...replies] = threadOf(h.sim);
    expect(first!.ts).toBe(root.ts);
    const thread = replies.map((m) => m.text);
    const order = [
      ':mag: Cluster',
      ':link:',
      ':label:',
      ':gear:',
      ':satellite: Control plane: *ACTIVE*',
      ':satellite: Data plane: *ACTIVE*',
      ':clipboard: Plan',
      ':syringe:',
      ':arrows_counterclockwise:',
      ':white_check_mark: All',
      ':tada:',
    ];
    expectInOrder(thread, order);
    expect(thread.some((t) => t.includes('Control plane: *PROVISIONING*'))).toBe(true);
    expect(
      thread.some((t) => t.includes('Data plane: *FAILED_PRECONDITION* (MANAGED_CONTROL_PLANE_REQUIRED')),
    ).toBe(true);

    // A late second click is told who decided.
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitFor('the already-decided answer', () =>
      h.sim.slack
        .ephemerals(CHANNEL)
        .find((e) => e.user === APPROVER && /not waiting for approval|Already approved/.test(e.text)),
    );
  });

  it('two approvers clicking at once: the first decision wins and the other is told', async () => {
    h = await startHarness({ scenario: 'default' });
    const { prompt } = await runToApproval(h);
    // Two approvers click at once: the first decision wins, the other is told who decided.
    const statuses = await Promise.all([
      click(h.app.url, APPROVER, prompt),
      click(h.app.url, SECOND_APPROVER, prompt, REJECT_ACTION),
    ]);
    expect(statuses).toEqual([200, 200]);
    const told = await waitFor('the loser told who decided', () =>
      h.sim.slack.ephemerals(CHANNEL).find((e) => /^Already (approved|rejected) by/.test(e.text)),
    );
    const approved = told.user === SECOND_APPROVER;
    expect(told.text).toContain(
      approved ? `Already approved by <@${APPROVER}>` : `Already rejected by <@${SECOND_APPROVER}>`,
    );
    if (!approved) {
      const rejected = await waitForReply(h.sim, ':no_entry: Rejected');
      expect(rejected.text).toContain('no namespace was touched');
      expect(await labelsOf(h, 'shop')).not.toHaveProperty('istio-injection');
    } else {
      await waitForReply(h.sim, ':tada: Done.');
      expect((await labelsOf(h, 'shop'))['istio-injection']).toBe('enabled');
    }
    const decisions = h.sim.slack.ephemerals(CHANNEL).filter((e) => /^Already/.test(e.text));
    expect(decisions).toHaveLength(1);
  });

  it('reminds at half-time, then expires: buttons gone, mesh on, no namespace touched', async () => {
    h = await startHarness({ scenario: 'default' }, { config: { approvals: { timeoutMs: 2000 } } });
    const { prompt } = await runToApproval(h);
    const reminder = await waitForReply(h.sim, ':hourglass_flowing_sand: Still waiting for an approver');
    expect(reminder.thread_ts).toBe(prompt.thread_ts);
    const expired = await waitForReply(h.sim, ':alarm_clock: Nobody decided');
    expect(expired.text).toContain(
      'Nobody decided within 2 s. The managed mesh stays on; no namespace was touched.',
    );
    const closed = threadOf(h.sim).find((m) => m.ts === prompt.ts)!;
    expect(hasButtons(closed)).toBe(false);
    expect(JSON.stringify(closed.blocks)).toContain('Expired');
    expect(roots(h.sim)[0]!.text).toContain('Expired');
    expect(await labelsOf(h, 'shop')).not.toHaveProperty('istio-injection');
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitFor('the too-late answer', () =>
      h.sim.slack
        .ephemerals(CHANNEL)
        .find(
          (e) =>
            e.user === APPROVER &&
            e.text.startsWith('This approval expired') &&
            e.text.includes('changed nothing'),
        ),
    );
  });
});
