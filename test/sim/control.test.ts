/**
 * The emulator's own state and control endpoint, over HTTP as the console uses it: the fleet it reports
 * follows what the Google and Kubernetes APIs did, and its controls change the speed, the mesh of a
 * cluster and which API fails, as seen through those APIs.
 */
import { startSim, type FleetState, type Sim } from '../../src/sim/index.js';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { call, kubeApis, registerAndManage, restartDeployment, type Json } from './helpers.js';

const C1 = 'proj-a/us-central1/c1';

describe('sim: the state and control endpoint', () => {
  let sim: Sim;

  beforeAll(async () => {
    sim = await startSim();
    sim.clock.pause();
  });
  afterAll(() => sim.close());

  async function control(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }> {
    const res = await fetch(new URL(path, sim.controlUrl), {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  async function state(): Promise<FleetState> {
    const { status, body } = await control('GET', '_sim/state');
    expect(status).toBe(200);
    return body as unknown as FleetState;
  }

  async function cluster(ref = C1) {
    const found = (await state()).clusters.find((c) => c.ref === ref);
    if (!found) throw new Error(`no ${ref} in the state`);
    return found;
  }

  it('reports every cluster, unregistered, with its namespaces and pods without a proxy', async () => {
    const fleet = await state();
    expect(fleet.clusters.map((c) => c.ref)).toEqual([C1, 'proj-b/europe-west1/c2']);
    expect(fleet.speed).toBe(1);
    const c1 = await cluster();
    expect(c1).toMatchObject({ status: 'RUNNING', releaseChannel: 'REGULAR', membership: null, mesh: null });
    const shop = c1.namespaces.find((ns) => ns.name === 'shop');
    expect(shop?.injection).toEqual({});
    expect(shop?.pods).toHaveLength(3);
    expect(shop?.pods.every((p) => p.proxy === null && p.phase === 'Running')).toBe(true);
    expect(c1.changes.map((o) => [o.change, o.channel ?? null])).toEqual([
      ['channel', 'RAPID'],
      ['channel', 'STABLE'],
      ['proxy', null],
      ['modernize', null],
      ['degrade', null],
      ['recover', null],
    ]);
  });

  it('follows registration, the planes, injection labels and the sidecars pods get', async () => {
    await registerAndManage(sim, C1, 'c1');
    let c1 = await cluster();
    expect(c1.membership).toEqual({
      name: 'projects/proj-a/locations/global/memberships/c1',
      state: 'READY',
    });
    expect(c1.mesh).toMatchObject({
      management: 'MANAGEMENT_AUTOMATIC',
      controlPlane: 'DISABLED',
      rollout: null,
    });
    sim.clock.advance(sim.world.timings.dataPlaneProvisioningAfter);
    c1 = await cluster();
    expect(c1.mesh).toMatchObject({
      controlPlane: 'ACTIVE',
      dataPlane: 'ACTIVE',
      implementation: 'ISTIOD',
      revision: 'asm-managed',
      conditions: [],
    });

    // As meshops does: the label on one namespace, then a restart of one of its deployments.
    const apis = kubeApis(sim, C1);
    await apis.core.patchNamespace(
      { name: 'shop', body: { metadata: { labels: { 'istio-injection': 'enabled' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await restartDeployment(apis, 'shop', 'cart');
    sim.clock.advance(sim.world.timings.podReadyAfter * 4);
    const shop = (await cluster()).namespaces.find((ns) => ns.name === 'shop');
    expect(shop?.injection).toEqual({ 'istio-injection': 'enabled' });
    const carts = shop?.pods.filter((p) => p.name.startsWith('cart-')) ?? [];
    expect(carts.map((p) => p.proxy)).toEqual(['1.23.6-asm.14', '1.23.6-asm.14']);
    expect(shop?.pods.find((p) => p.name.startsWith('checkout-'))?.proxy).toBeNull();
  });

  it('a revision upgrade: the release channel moves and the new revision serves once provisioned', async () => {
    const answer = await control('POST', '_sim/mesh', { cluster: C1, change: 'channel', channel: 'RAPID' });
    expect(answer).toEqual({
      status: 200,
      body: { done: expect.stringContaining('asm-managed-rapid') as unknown },
    });
    expect(await cluster()).toMatchObject({ releaseChannel: 'RAPID', mesh: { revision: 'asm-managed' } });
    sim.clock.advance(sim.world.timings.controlPlaneProvisioningAfter);
    const c1 = await cluster();
    expect(c1.mesh).toMatchObject({ revision: 'asm-managed-rapid', rollout: { target: '1.24.2-asm.1' } });
    expect(c1.changes.filter((o) => o.change === 'channel').map((o) => o.channel)).toEqual([
      'REGULAR',
      'STABLE',
    ]);
  });

  it('degrades and recovers the control plane, with the condition in the state', async () => {
    expect((await control('POST', '_sim/mesh', { cluster: C1, change: 'degrade' })).status).toBe(200);
    expect((await cluster()).mesh).toMatchObject({
      controlPlane: 'DEGRADED',
      conditions: ['MESH_IAM_PERMISSION_DENIED'],
    });
    await control('POST', '_sim/mesh', { cluster: C1, change: 'recover' });
    expect((await cluster()).mesh).toMatchObject({ controlPlane: 'ACTIVE', conditions: [] });
  });

  it('makes an API fail as asked, lists the rule while it lasts, and clears it', async () => {
    const added = await control('POST', '_sim/faults', { api: 'container', status: 503, times: 2 });
    expect(added.body.done).toBe('container answers 503 to the next 2 call(s).');
    expect((await state()).faults.active).toEqual([
      { api: 'container', status: 503, remaining: 2, rate: null, method: null, pathIncludes: null },
    ]);
    const path = 'v1/projects/proj-a/locations/us-central1/clusters/c1';
    expect((await call(sim, 'container', 'GET', path)).status).toBe(503);
    expect((await state()).faults.active[0]?.remaining).toBe(1);

    await control('POST', '_sim/faults', { api: 'gkehub', status: 429, rate: 1, retryAfterSeconds: 2 });
    const limited = await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships');
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '2']);
    const fired = (await state()).faults.fired;

    expect((await control('DELETE', '_sim/faults')).status).toBe(200);
    expect((await state()).faults).toEqual({ active: [], fired });
    expect((await call(sim, 'container', 'GET', path)).status).toBe(200);
  });

  it('sets the speed, keeping the simulated time reached', async () => {
    sim.clock.resume();
    const before = sim.clock.now();
    expect(await control('POST', '_sim/speed', { speed: 50 })).toEqual({ status: 200, body: { speed: 50 } });
    expect(sim.clock.speed).toBe(50);
    expect(sim.clock.now()).toBeGreaterThanOrEqual(before);
    expect(sim.clock.now() - before).toBeLessThan(60_000);
    expect((await state()).speed).toBe(50);
    sim.clock.pause();
  });

  it('refuses what it cannot do, saying why, and changes nothing', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '_sim/speed', { speed: 0 }, 'speed must be a number'],
      ['POST', '_sim/speed', 'fast', 'the body must be a JSON object'],
      ['POST', '_sim/mesh', { cluster: 'proj-a/us-central1/nope', change: 'proxy' }, 'no cluster'],
      ['POST', '_sim/mesh', { cluster: C1, change: 'explode' }, 'change must be one of'],
      [
        'POST',
        '_sim/mesh',
        { cluster: C1, change: 'channel', channel: 'EXTENDED' },
        'channel must be one of',
      ],
      ['POST', '_sim/faults', { api: 'slack', status: 503 }, 'api must be one of'],
      ['POST', '_sim/faults', { api: 'gkehub', status: 418 }, 'status must be one of'],
      ['POST', '_sim/faults', { api: 'gkehub', status: 503, rate: 2 }, 'rate must be'],
    ];
    const before = await state();
    for (const [method, path, body, error] of cases) {
      const answer = await control(method, path, body);
      expect([path, answer.status, String(answer.body.error)]).toEqual([
        path,
        400,
        expect.stringContaining(error) as unknown,
      ]);
    }
    expect((await control('PUT', '_sim/state')).status).toBe(405);
    expect((await control('GET', '_sim/nothing')).status).toBe(404);
    expect(await state()).toEqual(before);
  });
});
