/**
 * `/mesh disable cluster`: after an approval that lists what will change, injection is off, this
 * membership alone is MANAGEMENT_MANUAL (the other's spec untouched), and with unregister=true the
 * membership is deleted.
 */
import type { Scenario } from '../../src/sim/index.js';
import {
  click,
  enableAndApprove,
  latestThreadOf,
  slash,
  threadOf,
  waitForPrompt,
  waitForReply,
} from '../support/flows.js';
import { waitFor } from '../support/wait.js';
import { APPROVER, startHarness, type Harness } from '../support/harness.js';
import { getCluster, getMeshFeature, kubeFor, listMemberships } from '../support/inspect.js';

const C1 = 'proj-a/us-central1/c1';
const C3 = 'proj-a/us-east1/c3';
const KEY1 = 'projects/123456789012/locations/us-central1/memberships/c1';
const KEY3 = 'projects/123456789012/locations/us-east1/memberships/c3';

const shopCluster = (location: string, name: string) => ({
  project: 'proj-a',
  location,
  name,
  namespaces: [
    { name: 'default', deployments: [{ name: 'web', replicas: 2 }] },
    { name: 'shop', deployments: [{ name: 'cart', replicas: 1 }] },
    { name: 'kube-system' },
    { name: 'istio-system' },
  ],
});

const scenario: Scenario = {
  projects: [{ id: 'proj-a', number: '123456789012' }],
  clusters: [shopCluster('us-central1', 'c1'), shopCluster('us-east1', 'c3')],
};

describe('/mesh disable cluster', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ scenario });
    await enableAndApprove(h.app.url, h.sim, C1, 'default,shop');
    await enableAndApprove(h.app.url, h.sim, C3, 'default');
  });
  afterAll(async () => {
    await h?.stop();
  });

  async function disable(ref: string, extra = ''): Promise<string> {
    expect((await slash(h.app.url, `disable cluster ${ref} ${extra}`)).text).toMatch(/Queued run/);
    const title = `Disable Cloud Service Mesh on \`${ref}\``;
    const prompt = await waitForPrompt(h.sim, title);
    const asked = JSON.stringify(prompt.blocks);
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    await waitForReply(h.sim, ':tada: Done.', title);
    return asked;
  }

  it('turns injection off and sets only this membership to MANAGEMENT_MANUAL; the membership stays', async () => {
    const asked = await disable(C1);
    expect(asked).toContain('Turning managed Cloud Service Mesh off');
    expect(asked).toContain('on 2 injected namespace(s)');
    expect(asked).toContain('MANAGEMENT_MANUAL (only this membership); the membership stays');

    const feature = await getMeshFeature(h.sim, 'proj-a');
    expect(feature.membershipSpecs?.[KEY1]?.mesh?.management).toBe('MANAGEMENT_MANUAL');
    expect(feature.membershipSpecs?.[KEY3]?.mesh?.management).toBe('MANAGEMENT_AUTOMATIC');
    expect((await listMemberships(h.sim, 'proj-a')).map((m) => m.name).sort()).toEqual([
      'projects/proj-a/locations/us-central1/memberships/c1',
      'projects/proj-a/locations/us-east1/memberships/c3',
    ]);
    const { core } = await kubeFor(h.sim, C1);
    for (const namespace of ['default', 'shop']) {
      const labels = (await core.readNamespace({ name: namespace })).metadata?.labels ?? {};
      expect(labels).not.toHaveProperty('istio-injection');
      const pods = (await core.listNamespacedPod({ namespace })).items;
      expect(pods.some((p) => p.spec?.containers.some((c) => c.name === 'istio-proxy'))).toBe(false);
    }
    // mesh_id stays unless config says so (other clusters may share the mesh).
    expect((await getCluster(h.sim, C1)).resourceLabels?.mesh_id).toBe('proj-123456789012');
    const thread = threadOf(h.sim, `Disable Cloud Service Mesh on \`${C1}\``).map((m) => m.text);
    expect(thread.some((t) => t.startsWith(':gear: Managed mesh turned off for'))).toBe(true);
  });

  it('with unregister=true also deletes the membership (its operation awaited); the other cluster is untouched', async () => {
    await disable(C3, 'unregister=true');
    expect((await listMemberships(h.sim, 'proj-a')).map((m) => m.name)).toEqual([
      'projects/proj-a/locations/us-central1/memberships/c1',
    ]);
    const feature = await getMeshFeature(h.sim, 'proj-a');
    expect(feature.membershipSpecs?.[KEY1]?.mesh?.management).toBe('MANAGEMENT_MANUAL');
    const done = threadOf(h.sim, `Disable Cloud Service Mesh on \`${C3}\``).find((m) =>
      m.text.startsWith(':tada:'),
    );
    expect(done?.text).toContain('membership `projects/proj-a/locations/us-east1/memberships/c3` deleted');
  });

  it('refuses, before any change, a cluster that is not registered', async () => {
    const mutations = h.sim.requests.mutations().length;
    expect((await slash(h.app.url, `disable cluster ${C3}`)).text).toMatch(/Queued run/);
    const failed = await waitFor('the failure in the new run thread', () =>
      latestThreadOf(h.sim, `Disable Cloud Service Mesh on \`${C3}\``).find((m) =>
        m.text.startsWith(':x: Failed at'),
      ),
    );
    expect(failed.text).toContain('is not registered in the fleet');
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
  });
});
