/**
 * The app stopped and started again in the middle of inject, uninject and disable — once while the
 * run waits for its approval, once right after the approval while it labels and restarts — and each
 * run goes on in the same thread: one root, every step told once, the click taken by the new app.
 */
import { createLogger } from '../../src/log.js';
import { startMeshops, type Meshops } from '../../src/main.js';
import type { SlackMessage } from '../../src/sim/index.js';
import { click, enableAndApprove, hasButtons, latestThreadOf, roots, slash } from '../support/flows.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';

describe('an app restarted in the middle of each workflow', () => {
  let h: Harness;
  let app: Meshops;
  beforeAll(async () => {
    h = await startHarness({ scenario: 'default' });
    app = h.app;
    await enableAndApprove(app.url, h.sim, C1, 'default');
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
    await h?.sim.close();
  });

  async function restart(): Promise<void> {
    await app.stop();
    app = await startMeshops(h.config, { log: createLogger(process.env.MESHOPS_TEST_LOG ?? 'silent') });
  }

  /** Root messages of runs (watch notifications are roots too, keyed `watch/…`). */
  function runRoots(): SlackMessage[] {
    return roots(h.sim).filter((m) => JSON.stringify(m.metadata ?? {}).includes('"key":"run/'));
  }

  async function throughRestarts(command: string, title: string): Promise<SlackMessage[]> {
    const rootsBefore = runRoots().length;
    expect((await slash(app.url, command)).text).toMatch(/^:inbox_tray: Queued run/);
    const prompt = await waitFor(`the ${title} prompt`, () => latestThreadOf(h.sim, title).find(hasButtons));
    await restart();
    expect(await click(app.url, APPROVER, prompt)).toBe(200);
    await waitFor('the prompt closed', () =>
      latestThreadOf(h.sim, title).find((m) => m.ts === prompt.ts && !hasButtons(m)),
    );
    await restart();
    const thread = await waitFor(
      `${title} done`,
      () => {
        const messages = latestThreadOf(h.sim, title);
        return messages.some((m) => m.text.startsWith(':tada: Done.')) ? messages : undefined;
      },
      60_000,
    );
    // One new root, and the whole story in its thread, nothing told twice.
    expect(runRoots()).toHaveLength(rootsBefore + 1);
    const texts = thread.slice(1).map((m) => m.text);
    expect(texts.filter((t, i) => texts.indexOf(t) !== i)).toEqual([]);
    expect(thread.every((m, i) => i === 0 || m.thread_ts === thread[0]!.ts)).toBe(true);
    return thread;
  }

  async function proxies(namespace: string): Promise<{ pods: number; withProxy: number; label?: string }> {
    const { core } = await kubeFor(h.sim, C1);
    const pods = (await core.listNamespacedPod({ namespace })).items;
    const labels = (await core.readNamespace({ name: namespace })).metadata?.labels ?? {};
    return {
      pods: pods.length,
      withProxy: pods.filter((p) => p.spec?.containers.some((c) => c.name === 'istio-proxy')).length,
      ...(labels['istio-injection'] ? { label: labels['istio-injection'] } : {}),
    };
  }

  it('inject', async () => {
    await throughRestarts(`inject ${C1} shop`, 'Sidecar injection on');
    const shop = await proxies('shop');
    expect(shop).toEqual({ pods: shop.pods, withProxy: shop.pods, label: 'enabled' });
  }, 120_000);

  it('uninject', async () => {
    await throughRestarts(`uninject ${C1} shop`, 'Remove sidecar injection on');
    expect((await proxies('shop')).withProxy).toBe(0);
  }, 120_000);

  it('disable', async () => {
    const thread = await throughRestarts(`disable cluster ${C1}`, 'Disable Cloud Service Mesh on');
    expect(thread.find((m) => m.text.startsWith(':tada: Done.'))!.text).toContain('MANAGEMENT_MANUAL');
    expect((await proxies('default')).withProxy).toBe(0);
    // The channel that watched the cluster since its enable is told it no longer does, once.
    // (It follows the Done message: an empty list is no answer yet, and waitFor takes any array as one.)
    const stopped = await waitFor('the watch stopped', () => {
      const told = latestThreadOf(h.sim, 'Disable Cloud Service Mesh on').filter((m) =>
        m.text.startsWith(':no_bell:'),
      );
      return told.length ? told : undefined;
    });
    expect(stopped.map((m) => m.text)).toEqual([
      `:no_bell: <#C0MESH> no longer watches \`${C1}\`: its mesh is no longer managed. \`/mesh watch ${C1}\` after enabling it again.`,
    ]);
    expect((await slash(app.url, 'list')).text).not.toContain(C1);
  }, 120_000);
});
