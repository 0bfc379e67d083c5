/**
 * `enable cluster` again on a cluster it already put on the mesh: every step sees the world is
 * already as wanted. No mutating call reaches Google or the cluster, and no pod restarts.
 */
import { enableAndApprove, latestThreadOf, slash } from '../support/flows.js';
import { startHarness, type Harness } from '../support/harness.js';
import { kubeFor } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';

describe('enable cluster on a meshed cluster', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.stop();
  });

  async function podNames(): Promise<string[]> {
    const { core } = await kubeFor(h.sim, C1);
    const names: string[] = [];
    for (const namespace of ['default', 'shop']) {
      names.push(...(await core.listNamespacedPod({ namespace })).items.map((p) => p.metadata?.name ?? ''));
    }
    return names.sort();
  }

  it('changes nothing and restarts nothing the second time', async () => {
    h = await startHarness({ scenario: 'default' });
    await enableAndApprove(h.app.url, h.sim, C1, 'default,shop');
    const pods = await podNames();
    const mutationsBefore = h.sim.requests.mutations().length;

    expect((await slash(h.app.url, `enable cluster ${C1} namespaces=default,shop`)).text).toContain(
      'Queued run',
    );
    const done = await waitFor(
      'the second run to end',
      () => {
        const thread = latestThreadOf(h.sim, 'Enable Cloud Service Mesh on');
        return thread.length > 1 && thread.some((m) => /^:(tada|x):/.test(m.text)) ? thread : undefined;
      },
      60_000,
    );
    expect(done.find((m) => /^:(tada|x):/.test(m.text))!.text).toMatch(/^:tada: Done\./);
    expect(h.sim.requests.mutations().slice(mutationsBefore)).toEqual([]);
    expect(await podNames()).toEqual(pods);
  }, 120_000);
});
