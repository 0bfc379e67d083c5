import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { startSim, type Sim } from '../../src/sim/index.js';
import {
  call,
  kubeApis,
  meshWithSidecars,
  proxyTag,
  restartDeployment,
  type Json,
  type KubeApis,
} from './helpers.js';

const C1 = 'proj-a/us-central1/c1';
const MEMBERSHIP_KEY = 'projects/123456789012/locations/global/memberships/c1';
const OLD = '1.23.6-asm.14';
const NEW = '1.24.2-asm.1';
const mesh = { group: 'mesh.cloud.google.com', version: 'v1beta1' };

interface MeshCr {
  metadata: { name: string };
  spec: Record<string, unknown>;
  status: { state?: string; conditions?: Array<{ type: string; status: string; reason: string }> };
}

async function allPods(apis: KubeApis, namespaces: string[]): Promise<V1Pod[]> {
  const lists = await Promise.all(namespaces.map((namespace) => apis.core.listNamespacedPod({ namespace })));
  return lists.flatMap((list) => list.items);
}

/** `namespace/owner` → proxy tags of its pods, sorted: what the roll-out changed, read over HTTP. */
async function tagsByWorkload(apis: KubeApis, namespaces: string[]): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const pod of await allPods(apis, namespaces)) {
    const owner = pod.metadata?.labels?.app ?? '?';
    const key = `${pod.metadata?.namespace ?? ''}/${owner}`;
    (result[key] ??= []).push(proxyTag(pod) ?? 'none');
  }
  for (const tags of Object.values(result)) tags.sort();
  return result;
}

async function dataPlaneControl(apis: KubeApis): Promise<MeshCr[]> {
  const list = (await apis.custom.listClusterCustomObject({ ...mesh, plural: 'dataplanecontrols' })) as {
    items: MeshCr[];
  };
  return list.items;
}

async function controlPlaneRevisions(apis: KubeApis): Promise<MeshCr[]> {
  const list = (await apis.custom.listNamespacedCustomObject({
    ...mesh,
    namespace: 'istio-system',
    plural: 'controlplanerevisions',
  })) as { items: MeshCr[] };
  return list.items;
}

async function controlPlaneState(sim: Sim): Promise<Json> {
  const feature = (
    await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh')
  ).body;
  const state = (feature.membershipStates as Record<string, { servicemesh: Json }>)[MEMBERSHIP_KEY];
  return state?.servicemesh.controlPlaneManagement as Json;
}

describe('sim: managed data plane upgrades', () => {
  let sim: Sim;
  let apis: KubeApis;

  beforeEach(async () => {
    sim = await startSim({ scenario: 'upgrades' });
    sim.clock.pause();
    apis = await meshWithSidecars(sim, C1, 'c1', ['default', 'shop', 'legacy']);
  });
  afterEach(() => sim.close());

  it('seeds an opted-out batch deployment in legacy, and the status counts it apart', async () => {
    const batch = await apis.apps.readNamespacedDeployment({ name: 'batch', namespace: 'legacy' });
    expect(batch.spec?.replicas).toBe(2);
    expect(batch.spec?.template.metadata?.annotations?.['mesh.cloud.google.com/proxy']).toBe(
      '{"managed":"false"}',
    );
    expect(await tagsByWorkload(apis, ['default', 'shop', 'legacy'])).toEqual({
      'default/web': [OLD, OLD],
      'shop/cart': [OLD, OLD],
      'shop/checkout': [OLD],
      'legacy/batch': [OLD, OLD],
    });
    expect(sim.world.rolloutStatus(C1)).toEqual({
      target: OLD,
      revision: 'asm-managed',
      total: 5,
      done: 5,
      failed: 0,
      pending: 0,
      optedOut: 2,
      complete: true,
    });
  });

  it('moves the DataPlaneControl target at once, then replaces one pod per interval; opted-out pods stay behind', async () => {
    sim.world.upgradeMesh(C1, { proxyVersion: NEW, podIntervalMs: 10_000 });
    const [dpc] = await dataPlaneControl(apis);
    expect(dpc?.spec).toMatchObject({ revision: 'asm-managed', proxyVersion: NEW });
    expect(sim.world.rolloutStatus(C1)).toMatchObject({ target: NEW, total: 5, done: 0, pending: 5 });

    sim.clock.advance(9_999);
    expect(sim.world.rolloutStatus(C1).done).toBe(0);
    sim.clock.advance(1);
    const one = Object.values(await tagsByWorkload(apis, ['default', 'shop'])).flat();
    expect(one.filter((tag) => tag === NEW)).toHaveLength(1);
    expect(sim.world.rolloutStatus(C1)).toMatchObject({
      done: 1,
      pending: 4,
      nextStepAt: sim.clock.now() + 10_000,
    });

    sim.clock.advance(40_000);
    expect(await tagsByWorkload(apis, ['default', 'shop', 'legacy'])).toEqual({
      'default/web': [NEW, NEW],
      'shop/cart': [NEW, NEW],
      'shop/checkout': [NEW],
      'legacy/batch': [OLD, OLD],
    });
    const status = sim.world.rolloutStatus(C1);
    expect(status).toMatchObject({ target: NEW, total: 5, done: 5, pending: 0, optedOut: 2, complete: true });
    expect(status.nextStepAt).toBeUndefined();

    // Replacements are recreated by their ReplicaSet: same template hash, a new name, Running once ready.
    const deployment = await apis.apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(deployment.status).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 });
  });

  it('lets a PodDisruptionBudget hold a pod back until its sibling’s replacement is ready', async () => {
    // 1 s between steps, pods ready after 2 s: cart (minAvailable 1) cannot lose its second pod at once.
    sim.world.upgradeMesh(C1, { proxyVersion: NEW, podIntervalMs: 1_000 });
    sim.clock.advance(3_000);
    expect(await tagsByWorkload(apis, ['default', 'shop'])).toEqual({
      'default/web': [NEW, NEW],
      'shop/cart': [OLD, NEW],
      'shop/checkout': [OLD],
    });
    sim.clock.advance(1_000);
    // The step at 4 s skipped cart (its new pod not ready yet) and took checkout.
    expect(await tagsByWorkload(apis, ['shop'])).toEqual({
      'shop/cart': [OLD, NEW],
      'shop/checkout': [NEW],
    });
    sim.clock.advance(1_000);
    expect(await tagsByWorkload(apis, ['shop'])).toEqual({
      'shop/cart': [NEW, NEW],
      'shop/checkout': [NEW],
    });
    const pdb = await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    expect(pdb.items.filter((p) => p.status?.phase === 'Running')).toHaveLength(1);
  });

  it('gives the current target to pods created any other way, in containers or as native sidecars', async () => {
    sim.world.upgradeMesh(C1, { proxyVersion: NEW, podIntervalMs: 3_600_000 });
    await restartDeployment(apis, 'shop', 'checkout');
    const pods = await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' });
    const fresh = pods.items.filter((p) => p.status?.phase === 'Pending');
    expect(fresh.map(proxyTag)).toEqual([NEW]);
    expect(fresh[0]?.spec?.containers.map((c) => c.image)).toContain(`gcr.io/gke-release/asm/proxyv2:${NEW}`);

    const native = await sim.world.addCluster({
      project: 'proj-a',
      location: 'us-west1',
      name: 'native',
      nativeSidecars: true,
      namespaces: [{ name: 'app', deployments: [{ name: 'api', replicas: 2 }] }],
    });
    const nativeApis = await meshWithSidecars(sim, native.ref, 'native', ['app']);
    sim.world.upgradeMesh(native.ref, { proxyVersion: NEW, podIntervalMs: 1_000 });
    sim.clock.advance(10_000);
    const upgraded = (await nativeApis.core.listNamespacedPod({ namespace: 'app' })).items;
    expect(upgraded.map(proxyTag)).toEqual([NEW, NEW]);
    for (const pod of upgraded) {
      expect(pod.spec?.containers.map((c) => c.name)).toEqual(['app']);
      expect(pod.spec?.initContainers?.[0]).toMatchObject({ name: 'istio-proxy', restartPolicy: 'Always' });
    }
  });

  it('labels pods of failing workloads and reports DataPlaneUpgradeFailure events, then moves on', async () => {
    sim.world.upgradeMesh(C1, {
      proxyVersion: NEW,
      podIntervalMs: 5_000,
      failWorkloads: ['shop/cart', 'default/web'],
    });
    sim.clock.advance(25_000);
    const failed = await apis.core.listPodForAllNamespaces({ labelSelector: 'dataplane-upgrade=failed' });
    expect(failed.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.labels?.app}`).sort()).toEqual([
      'default/web',
      'default/web',
      'shop/cart',
      'shop/cart',
    ]);
    expect(failed.items.map(proxyTag)).toEqual([OLD, OLD, OLD, OLD]);
    expect(await tagsByWorkload(apis, ['shop'])).toMatchObject({ 'shop/checkout': [NEW] });

    const events: CoreV1Event[] = (
      await apis.core.listEventForAllNamespaces({ fieldSelector: 'reason=DataPlaneUpgradeFailure' })
    ).items;
    expect(events).toHaveLength(4);
    for (const event of events) {
      expect(event).toMatchObject({
        type: 'Warning',
        source: { component: 'mdp-controller' },
        involvedObject: { kind: 'Pod' },
      });
      const pod = failed.items.find((p) => p.metadata?.name === event.involvedObject.name);
      expect(pod?.metadata?.uid).toBe(event.involvedObject.uid);
    }
    const cartEvent = events.find((e) => e.involvedObject.namespace === 'shop');
    expect(cartEvent?.message).toBe(
      `Failed to upgrade proxy of pod shop/${cartEvent?.involvedObject.name}: eviction blocked by PodDisruptionBudget shop/cart`,
    );
    const webEvent = events.find((e) => e.involvedObject.namespace === 'default');
    expect(webEvent?.message).toMatch(/^Failed to upgrade proxy of pod default\/web-[a-z0-9-]+: \S/);
    expect(webEvent?.message).not.toContain('PodDisruptionBudget');

    expect(sim.world.rolloutStatus(C1)).toMatchObject({
      total: 5,
      done: 1,
      failed: 4,
      pending: 0,
      complete: true,
    });
  });

  it('finishes at once when the clock jumps, and never spins on a budget that allows nothing', async () => {
    const strict = await sim.world.addCluster({
      project: 'proj-a',
      location: 'us-east4',
      name: 'strict',
      namespaces: [
        {
          name: 'db',
          deployments: [{ name: 'pg', replicas: 2 }, { name: 'api' }],
          podDisruptionBudgets: [{ name: 'pg', selector: { app: 'pg' }, minAvailable: 2 }],
        },
      ],
    });
    const strictApis = await meshWithSidecars(sim, strict.ref, 'strict', ['db']);
    sim.world.upgradeMesh(strict.ref, { proxyVersion: NEW, podIntervalMs: 1 });
    sim.world.upgradeMesh(C1, { proxyVersion: NEW, podIntervalMs: 1 });
    const started = Date.now();
    sim.clock.advance(365 * 24 * 3_600_000);
    expect(sim.world.rolloutStatus(C1)).toMatchObject({ done: 5, complete: true });
    expect(sim.world.rolloutStatus(strict.ref)).toMatchObject({ done: 1, pending: 2, complete: false });
    expect(await tagsByWorkload(strictApis, ['db'])).toEqual({ 'db/api': [NEW], 'db/pg': [OLD, OLD] });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports the implementation Google says, UPDATING while it migrates to TRAFFIC_DIRECTOR', async () => {
    expect(await controlPlaneState(sim)).toMatchObject({ state: 'ACTIVE', implementation: 'ISTIOD' });
    sim.world.upgradeMesh(C1, { implementation: 'UPDATING' });
    expect(await controlPlaneState(sim)).toMatchObject({ state: 'ACTIVE', implementation: 'UPDATING' });
    sim.world.upgradeMesh(C1, { implementation: 'TRAFFIC_DIRECTOR' });
    expect(await controlPlaneState(sim)).toMatchObject({ implementation: 'TRAFFIC_DIRECTOR' });
    // An implementation change alone rolls no pod.
    sim.clock.advance(60_000);
    expect(sim.world.rolloutStatus(C1)).toMatchObject({ target: OLD, done: 5 });
  });

  it('follows a release channel change: the new revision provisions, then serves, and the proxies roll to it', async () => {
    sim.world.setReleaseChannel(C1, 'RAPID');
    const cluster = await call(
      sim,
      'container',
      'GET',
      'v1/projects/proj-a/locations/us-central1/clusters/c1',
    );
    expect(cluster.body.releaseChannel).toEqual({ channel: 'RAPID' });

    expect(await controlPlaneState(sim)).toEqual({
      state: 'ACTIVE',
      implementation: 'ISTIOD',
      details: [
        { code: 'REVISION_READY', details: 'Ready: asm-managed' },
        { code: 'REVISION_PROVISIONING', details: 'Provisioning: asm-managed-rapid' },
      ],
    });
    const during = await controlPlaneRevisions(apis);
    expect(
      during.map((cr) => [cr.metadata.name, cr.spec.channel, cr.status.conditions?.[0]?.status]),
    ).toEqual([
      ['asm-managed', 'regular', 'True'],
      ['asm-managed-rapid', 'rapid', 'False'],
    ]);
    expect((await dataPlaneControl(apis)).map((d) => d.spec)).toEqual([
      { revision: 'asm-managed', proxyVersion: OLD, proxyTargetBasisPoints: 10000 },
    ]);

    sim.clock.advance(sim.world.timings.controlPlaneProvisioningAfter);
    expect(await controlPlaneState(sim)).toMatchObject({
      state: 'ACTIVE',
      details: [{ code: 'REVISION_READY', details: 'Ready: asm-managed-rapid' }],
    });
    const after = await controlPlaneRevisions(apis);
    expect(after.map((cr) => [cr.metadata.name, cr.spec.channel, cr.status.conditions?.[0]?.reason])).toEqual(
      [['asm-managed-rapid', 'rapid', 'Provisioned']],
    );
    const read = (await apis.custom.getNamespacedCustomObject({
      ...mesh,
      namespace: 'istio-system',
      plural: 'controlplanerevisions',
      name: 'asm-managed-rapid',
    })) as MeshCr;
    expect(read.metadata.name).toBe('asm-managed-rapid');
    expect(
      (await dataPlaneControl(apis)).map((d) => [d.metadata.name, d.spec.revision, d.spec.proxyVersion]),
    ).toEqual([['asm-managed-rapid', 'asm-managed-rapid', NEW]]);
    expect(sim.world.rolloutStatus(C1)).toMatchObject({
      target: NEW,
      revision: 'asm-managed-rapid',
      done: 0,
    });

    sim.clock.advance(60_000);
    const pods = await allPods(apis, ['default', 'shop']);
    expect(pods.map(proxyTag)).toEqual([NEW, NEW, NEW, NEW, NEW]);
    expect(
      pods.map((p) => JSON.parse(p.metadata?.annotations?.['sidecar.istio.io/status'] ?? '{}') as Json),
    ).toEqual(Array(5).fill(expect.objectContaining({ revision: 'asm-managed-rapid' })));
    expect(sim.world.rolloutStatus(C1)).toMatchObject({ done: 5, complete: true, optedOut: 2 });

    sim.world.setReleaseChannel(C1, 'STABLE');
    sim.clock.advance(5_000 + 60_000);
    expect(await controlPlaneState(sim)).toMatchObject({
      details: [{ code: 'REVISION_READY', details: 'Ready: asm-managed-stable' }],
    });
    expect((await allPods(apis, ['default', 'shop'])).map(proxyTag)).toEqual(Array(5).fill('1.22.8-asm.5'));
  });
});

describe('sim: roll-outs on the clock', () => {
  const ref = 'proj-d/us-central1/d1';
  const scenario = {
    projects: [{ id: 'proj-d', number: '222233334444' }],
    clusters: [
      {
        project: 'proj-d',
        location: 'us-central1',
        name: 'd1',
        namespaces: [
          {
            name: 'app',
            deployments: [
              { name: 'front', replicas: 3 },
              { name: 'back', replicas: 2 },
            ],
            podDisruptionBudgets: [{ name: 'front', selector: { app: 'front' }, maxUnavailable: 1 }],
          },
        ],
      },
    ],
  };

  /** A mesh with sidecars, a StatefulSet created once injection works, and a roll-out started. */
  async function upgrading(): Promise<{ sim: Sim; apis: KubeApis }> {
    const sim = await startSim({ scenario });
    sim.clock.pause();
    const apis = await meshWithSidecars(sim, ref, 'd1', ['app']);
    sim.world.cluster(ref)?.addWorkload('StatefulSet', 'app', { name: 'db', replicas: 2 });
    sim.world.upgradeMesh(ref, { proxyVersion: NEW, podIntervalMs: 1_500, failWorkloads: ['app/back'] });
    return { sim, apis };
  }

  it('ends the same whether pods are read at every step or only at the end', async () => {
    const watched = await upgrading();
    const unwatched = await upgrading();
    try {
      const seen: number[] = [];
      for (let i = 0; i < 12; i += 1) {
        watched.sim.clock.advance(1_000);
        seen.push(watched.sim.world.rolloutStatus(ref).done);
      }
      unwatched.sim.clock.advance(12_000);
      // Steps every 1.5 s: back fails twice, front-a, then db-0 while front waits for a ready pod, front-b,
      // db-1 while front waits again, front-c.
      expect(seen).toEqual([0, 0, 0, 0, 1, 2, 2, 3, 4, 4, 5, 5]);
      for (const { sim, apis } of [watched, unwatched]) {
        expect(sim.world.rolloutStatus(ref)).toMatchObject({ total: 7, done: 5, failed: 2, complete: true });
        expect(await tagsByWorkload(apis, ['app'])).toEqual({
          'app/front': [NEW, NEW, NEW],
          'app/back': [OLD, OLD],
          'app/db': [NEW, NEW],
        });
      }
      // A StatefulSet's pod comes back under its own name.
      const db = await unwatched.apis.core.listNamespacedPod({ namespace: 'app', labelSelector: 'app=db' });
      expect(db.items.map((p) => p.metadata?.name).sort()).toEqual(['db-0', 'db-1']);
    } finally {
      await watched.sim.close();
      await unwatched.sim.close();
    }
  });
});

describe('sim: upgrades without a managed data plane', () => {
  it('rolls nothing while the data plane is not ACTIVE, and the channel still changes', async () => {
    const sim = await startSim({ scenario: 'upgrades' });
    try {
      sim.clock.pause();
      sim.world.upgradeMesh(C1, { proxyVersion: NEW, podIntervalMs: 1_000 });
      sim.world.setReleaseChannel(C1, 'STABLE');
      sim.clock.advance(60_000);
      expect(sim.world.rolloutStatus(C1)).toMatchObject({ total: 0, done: 0, complete: true });
      expect(sim.world.cluster(C1)?.releaseChannel).toBe('STABLE');
      const pods = (await kubeApis(sim, C1).core.listNamespacedPod({ namespace: 'legacy' })).items;
      expect(pods.map(proxyTag)).toEqual([undefined, undefined]);
    } finally {
      await sim.close();
    }
  });
});
