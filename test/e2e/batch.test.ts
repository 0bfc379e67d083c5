/**
 * `/mesh enable cluster` over patterns: the resolved list first, only to the requester, with a
 * button; then one root message with a live table, one approval for every plan, failures told in
 * the batch's thread while the other clusters go on, and a summary. The runs post nothing of their
 * own. Over the emulator, with real HTTP and Redis.
 */
import type { ClusterSpec } from '../../src/sim/index.js';
import { CONFIRM_ACTION, DISCARD_ACTION } from '../../src/slack/renderBatch.js';
import { ask, click, hasButtons, roots, slash } from '../support/flows.js';
import { APPROVER, CHANNEL, REQUESTER, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { batchCluster as cluster, batchProjects as projects } from '../support/batchWorld.js';

const clusters: ClusterSpec[] = [
  cluster('fleet-aa', 'us-central1', 'shop-1'),
  cluster('fleet-aa', 'us-central1', 'shop-2'),
  cluster('fleet-aa', 'us-central1', 'shop-3'),
  // Not matched: another location, and a name the pattern leaves out.
  cluster('fleet-aa', 'europe-west1', 'shop-4'),
  cluster('fleet-aa', 'us-central1', 'admin'),
  cluster('fleet-bb', 'us-east1', 'api-1'),
  // Fails its preflight: the batch says so in its thread and goes on with the others.
  cluster('fleet-bb', 'europe-west1', 'api-2', { workloadIdentity: false }),
];

describe('enable cluster over patterns: one batch', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: { projects, clusters } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('shows the list, starts on Confirm, asks once, tells failures, and finishes every other cluster', async () => {
    const { sim, app } = h;
    const list = await ask(
      app.url,
      sim,
      'enable cluster fleet-aa/us-central1/shop-* fleet-bb/-/* fleet-aa/asia-east1/none-* namespaces=default',
    );
    // The list names exactly what matched, and what matched nothing; nothing is in the channel yet.
    const shown = JSON.stringify(list.blocks);
    for (const ref of [
      'fleet-aa/us-central1/shop-1',
      'fleet-aa/us-central1/shop-3',
      'fleet-bb/us-east1/api-1',
      'fleet-bb/europe-west1/api-2',
    ])
      expect(shown).toContain(ref);
    expect(shown).not.toContain('shop-4');
    expect(shown).not.toContain('admin');
    expect(shown).toContain('*5 cluster(s)*');
    expect(shown).toContain('Matched nothing: `fleet-aa/asia-east1/none-*`');
    expect(roots(sim)).toEqual([]);
    // Nothing changed in the discarded batch's project (the cancelled run before may still end its step elsewhere).
    expect(sim.requests.mutations().filter((m) => JSON.stringify(m).includes('fleet-bb'))).toEqual([]);

    // Someone else cannot start it.
    expect(await click(app.url, APPROVER, list, CONFIRM_ACTION)).toBe(200);
    await waitFor('the refusal', () =>
      sim.slack.ephemerals(CHANNEL).find((e) => e.user === APPROVER && e.text.includes('may start it')),
    );
    expect(roots(sim)).toEqual([]);

    expect(await click(app.url, REQUESTER, list, CONFIRM_ACTION)).toBe(200);
    const prompt = await waitFor(
      'the batch approval prompt',
      () => sim.slack.messages(CHANNEL).find((m) => m.thread_ts && hasButtons(m)),
      60_000,
    );
    const promptText = JSON.stringify(prompt.blocks);
    expect(promptText).toContain('Sidecar injection on 4 cluster(s)');
    expect(promptText).toContain('fleet-aa/us-central1/shop-2');
    expect(promptText).not.toContain('api-2');
    // The failure was told in the batch's thread before the prompt, and no namespace was touched yet.
    const [root] = roots(sim);
    expect(roots(sim)).toHaveLength(1);
    const thread = () => sim.slack.thread(CHANNEL, root!.ts);
    expect(thread().some((m) => m.text.startsWith(':x: `fleet-bb/europe-west1/api-2`'))).toBe(true);
    expect(sim.requests.count({ api: 'kubernetes', method: 'PATCH' })).toBe(0);

    expect(await click(app.url, APPROVER, prompt)).toBe(200);
    const summary = await waitFor(
      'the batch summary',
      () => thread().find((m) => m.text.includes('4 of 5 cluster(s) on Cloud Service Mesh')),
      90_000,
    );
    expect(summary.text).toContain('1 did not finish');
    // Each approved cluster had its namespace labelled once; the failed one none.
    const patched = sim.requests.entries({
      api: 'kubernetes',
      method: 'PATCH',
      pathIncludes: '/namespaces/default',
    });
    expect(new Set(patched.map((e) => e.cluster))).toEqual(
      new Set([
        'fleet-aa/us-central1/shop-1',
        'fleet-aa/us-central1/shop-2',
        'fleet-aa/us-central1/shop-3',
        'fleet-bb/us-east1/api-1',
      ]),
    );
    // One root, its table at the end, and a short thread: the runs posted nothing of their own.
    expect(roots(sim)).toHaveLength(1);
    await waitFor('the final table', () =>
      JSON.stringify(sim.slack.messages(CHANNEL).find((m) => m.ts === root!.ts)?.blocks ?? '').includes(
        'succeeded: 4',
      ),
    );
    expect(thread().length).toBeLessThanOrEqual(4);
  }, 150_000);

  it('status BATCH_ID lists every cluster and its plan; cancel BATCH_ID stops the batch and its runs', async () => {
    const { sim, app } = h;
    const list = await ask(
      app.url,
      sim,
      'enable cluster fleet-aa/europe-west1/* fleet-aa/us-central1/admin namespaces=default',
    );
    expect(await click(app.url, REQUESTER, list, CONFIRM_ACTION)).toBe(200);
    const batchId = /Batch `(r[0-9a-z]+)`/.exec(JSON.stringify(list.blocks))![1]!;
    const root = await waitFor('the batch root', () => roots(sim).find((m) => m.text.includes('2 clusters')));
    const prompt = await waitFor(
      'the second batch prompt',
      () => sim.slack.thread(CHANNEL, root.ts).find(hasButtons),
      60_000,
    );
    const status = await ask(app.url, sim, `status ${batchId}`);
    const listed = JSON.stringify(status.blocks);
    expect(listed).toContain('`fleet-aa/europe-west1/shop-4` run');
    expect(listed).toContain('plan: `default`, 2 of 2 pod(s) restart');
    expect(listed).toContain('`fleet-aa/us-central1/admin` run');

    const cancelled = await slash(app.url, `cancel ${batchId}`);
    expect(cancelled.text).toBe(
      `:octagonal_sign: Cancelled batch \`${batchId}\`: 2 of its runs stopped. Its thread says so.`,
    );
    await waitFor('the batch to end cancelled', () =>
      sim.slack.thread(CHANNEL, root.ts).find((m) => m.text.startsWith(':octagonal_sign:')),
    );
    // The prompt lost its buttons, no namespace was labelled, and both clusters are free again.
    await waitFor(
      'the prompt closed',
      () => !hasButtons(sim.slack.messages(CHANNEL).find((m) => m.ts === prompt.ts)!),
    );
    expect(
      sim.requests.count({ api: 'kubernetes', method: 'PATCH', cluster: 'fleet-aa/us-central1/admin' }),
    ).toBe(0);
    const again = await slash(app.url, 'enable cluster fleet-aa/us-central1/admin');
    expect(again.text).toMatch(/Queued run/);
    const single = /run `(r[0-9a-z]+)`/.exec(again.text)![1]!;
    // Cancelled at once, so it says nothing during the next test (its cluster was freed before the answer).
    expect((await slash(app.url, `cancel ${single}`)).text).toMatch(/Cancelled run/);
  }, 90_000);

  it('Discard starts nothing and leaves nothing in the channel', async () => {
    const { sim, app } = h;
    sim.requests.clear();
    const list = await ask(app.url, sim, 'enable cluster fleet-bb/-/api-*');
    expect(JSON.stringify(list.blocks)).toContain('*2 cluster(s)*');
    expect(await click(app.url, REQUESTER, list, DISCARD_ACTION)).toBe(200);
    await waitFor('the discard', () =>
      sim.slack.ephemerals(CHANNEL).find((e) => e.text.startsWith(':wastebasket: Discarded batch')),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const batchId = /Batch `(r[0-9a-z]+)`/.exec(JSON.stringify(list.blocks))![1]!;
    // No root message, no reply, nothing in the channel names the discarded batch.
    expect(sim.slack.messages(CHANNEL).filter((m) => JSON.stringify(m).includes(batchId))).toEqual([]);
    // Nothing changed in the discarded batch's project (the cancelled run before may still end its step elsewhere).
    expect(sim.requests.mutations().filter((m) => JSON.stringify(m).includes('fleet-bb'))).toEqual([]);
  }, 60_000);
});
