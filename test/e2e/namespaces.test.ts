/**
 * `/mesh inject` and `/mesh uninject` end to end: approval first, then labels, restarts and the
 * sidecars there (or gone); refused before any change where the cluster is not on the mesh.
 */
import {
  ask,
  click,
  enableAndApprove,
  hasButtons,
  latestThreadOf,
  runIdOf,
  slash,
  threadOf,
  waitForPrompt,
  waitForReply,
} from '../support/flows.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';
const C2 = 'proj-b/europe-west1/c2';

describe('/mesh inject and /mesh uninject', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' });
    await enableAndApprove(h.app.url, h.sim, C1, 'default');
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function namespace(name: string) {
    const { core } = await kubeFor(h.sim, C1);
    const labels = (await core.readNamespace({ name })).metadata?.labels ?? {};
    const pods = (await core.listNamespacedPod({ namespace: name })).items;
    return {
      labels,
      pods,
      proxies: pods.filter((p) => p.spec?.containers.some((c) => c.name === 'istio-proxy')).length,
    };
  }

  /** Runs a command through its approval to the end; returns its thread's texts (found by its title). */
  async function approveRun(text: string, title: string): Promise<string[]> {
    expect((await slash(h.app.url, text)).text).toMatch(/Queued run/);
    const prompt = await waitForPrompt(h.sim, title);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', title);
    return threadOf(h.sim, title).map((m) => m.text);
  }

  it('inject labels the namespace after approval and every pod gets istio-proxy; the others are not restarted', async () => {
    const before = await namespace('default');
    const thread = await approveRun(`inject ${C1} shop`, 'Sidecar injection on');
    expect(thread.find((t) => t.startsWith(':tada:'))).toContain(
      '`shop` labelled `istio-injection=enabled`; 3 pod(s) with istio-proxy',
    );
    const shop = await namespace('shop');
    expect(shop.labels['istio-injection']).toBe('enabled');
    expect(shop.proxies).toBe(shop.pods.length);
    const after = await namespace('default');
    expect(after.pods.map((p) => p.metadata?.name)).toEqual(before.pods.map((p) => p.metadata?.name));
  });

  it('uninject removes the labels after approval and no pod keeps istio-proxy', async () => {
    const thread = await approveRun(`uninject ${C1} shop default`, 'Remove sidecar injection on');
    expect(
      thread.some((t) =>
        t.startsWith(':scissors: Removed `istio-injection` and `istio.io/rev` from `shop`, `default`'),
      ),
    ).toBe(true);
    expect(thread.find((t) => t.startsWith(':tada:'))).toContain(
      'no longer labelled for injection; 5 pod(s) without istio-proxy',
    );
    for (const name of ['shop', 'default']) {
      const ns = await namespace(name);
      expect(ns.labels).not.toHaveProperty('istio-injection');
      expect(ns.labels).not.toHaveProperty('istio.io/rev');
      expect(ns.proxies).toBe(0);
    }
  });

  it('inject on a cluster that is not on the mesh fails before any change, saying what to do first', async () => {
    const mutations = h.sim.requests.mutations().length;
    expect((await slash(h.app.url, `inject ${C2} default`)).text).toMatch(/Queued run/);
    const failed = await waitForReply(h.sim, ':x: Failed at', C2);
    expect(failed.text).toContain('is not registered in the fleet');
    expect(failed.text).toContain(`/mesh enable cluster ${C2} namespaces=default`);
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
  });

  it('inject by pattern over 120 namespaces: the prompt summarises within Block Kit limits, every namespace is labelled, status RUN_ID lists them all', async () => {
    const cluster = h.sim.world.cluster(C1)!;
    const teams = Array.from({ length: 120 }, (_, i) => `team-${String(i).padStart(3, '0')}`);
    for (const name of teams) cluster.addNamespace({ name, deployments: [{ name: 'web' }] });

    expect((await slash(h.app.url, `inject ${C1} team-*`)).text).toMatch(/Queued run/);
    const thread = () => latestThreadOf(h.sim, `Sidecar injection on \`${C1}\``);
    const prompt = await waitFor('the approval prompt', () => thread().find(hasButtons));
    const blocks = (prompt.blocks ?? []) as Array<{ text?: { text: string } }>;
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const block of blocks) expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    const summary = JSON.stringify(prompt.blocks);
    const runId = runIdOf(prompt);
    expect(summary).toContain('120 of 120 pod(s) will restart');
    expect(summary).toMatch(/…and \d+ more namespace\(s\) with \d+ pod\(s\)/);
    expect(summary).toContain(`/mesh status ${runId}`);
    // The system namespaces and the other apps were not selected.
    expect(summary).not.toContain('`shop`');

    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    const done = await waitFor('the run to succeed', () => thread().find((m) => m.text.startsWith(':tada:')));
    expect(done.text).toContain(
      '`team-019` and 100 more labelled `istio-injection=enabled`; 120 pod(s) with istio-proxy',
    );
    for (const name of [teams[0]!, teams[77]!, teams[119]!]) {
      const ns = await namespace(name);
      expect(ns.labels['istio-injection']).toBe('enabled');
      expect(ns.proxies).toBe(1);
    }
    expect((await namespace('kube-system')).labels).not.toHaveProperty('istio-injection');

    const answer = await ask(h.app.url, h.sim, `status ${runId}`);
    const listing = JSON.stringify(answer.blocks);
    for (const name of teams) expect(listing).toContain(`\`${name}\`: 1 pod(s)`);
    expect(listing).toContain('Deployment web');
  });
});
