import { startSim, type Sim } from '../../src/sim/index.js';
import { call, resourceLink, type Json } from './helpers.js';

const C1 = 'proj-a/us-central1/c1';
const key = 'projects/123456789012/locations/us-central1/memberships/c1';
const v2Path = 'v2/projects/proj-a/locations/us-central1/memberships/c1/features/servicemesh';

/** Waits out an operation's time on the sim clock and reads it back through the version it came from. */
async function finish(sim: Sim, version: string, operation: Json): Promise<Json> {
  sim.clock.advance(sim.world.timings.featureOperation);
  return (await call(sim, 'gkehub', 'GET', `${version}/${String(operation.name)}`)).body;
}

describe('sim: GKE Hub v2 MembershipFeature and v1beta, the surfaces gcloud 528 uses', () => {
  let sim: Sim;

  beforeAll(async () => {
    sim = await startSim();
    sim.clock.pause();
    const created = await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-a/locations/us-central1/memberships?membershipId=c1',
      { endpoint: { gkeCluster: { resourceLink: resourceLink(C1) } } },
    );
    expect(created.status).toBe(200);
    sim.clock.advance(sim.world.timings.membershipCreate);
  });
  afterAll(() => sim.close());

  it('lists memberships under v1beta locations/- as v1 does', async () => {
    const v1 = await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships');
    const v1beta = await call(sim, 'gkehub', 'GET', 'v1beta/projects/proj-a/locations/-/memberships');
    expect(v1beta.status).toBe(200);
    expect(v1beta.body).toEqual(v1.body);
    expect(v1beta.body.resources).toHaveLength(1);
  });

  it('refuses a v2 write before the fleet feature is enabled, then creates it with allowMissing', async () => {
    const body = { spec: { servicemesh: { management: 'MANAGEMENT_AUTOMATIC' } } };
    const early = await call(sim, 'gkehub', 'PATCH', `${v2Path}?allowMissing=True&updateMask=spec`, body);
    expect(early.body).toMatchObject({ error: { status: 'FAILED_PRECONDITION' } });

    await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-a/locations/global/features?featureId=servicemesh',
      {},
    );
    const missing = await call(sim, 'gkehub', 'PATCH', `${v2Path}?updateMask=spec`, body);
    expect(missing.status).toBe(404);

    const op = await call(sim, 'gkehub', 'PATCH', `${v2Path}?allowMissing=True&updateMask=spec`, body);
    expect(op.status).toBe(200);
    expect(op.body).not.toHaveProperty('done');
    expect(op.body.metadata).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.gkehub.v2.OperationMetadata',
      verb: 'update',
      apiVersion: 'v2',
    });
    expect(op.body.metadata).not.toHaveProperty('cancelRequested');
    const done = await finish(sim, 'v2', op.body);
    expect(done).toMatchObject({
      done: true,
      response: {
        '@type': 'type.googleapis.com/google.cloud.gkehub.v2.MembershipFeature',
        name: `${key}/features/servicemesh`,
        spec: { servicemesh: { management: 'MANAGEMENT_AUTOMATIC' }, origin: { type: 'USER' } },
      },
    });
  });

  it('shows one truth through v1 membershipSpecs/membershipStates and the v2 resource', async () => {
    sim.clock.advance(sim.world.timings.controlPlaneActiveAfter);
    const v1 = (await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh'))
      .body as { membershipSpecs: Record<string, Json>; membershipStates: Record<string, Json> };
    const v2 = (await call(sim, 'gkehub', 'GET', v2Path)).body;
    expect(v1.membershipSpecs[key]).toEqual({
      mesh: { management: 'MANAGEMENT_AUTOMATIC' },
      origin: { type: 'USER' },
    });
    expect(v2.state).toEqual(v1.membershipStates[key]);
    expect(v2).toMatchObject({
      state: { servicemesh: { controlPlaneManagement: { state: 'ACTIVE' } } },
      lifecycleState: { state: 'ACTIVE' },
    });

    // A v1 write is what v2 reads next, and the other way round.
    await call(
      sim,
      'gkehub',
      'PATCH',
      'v1/projects/proj-a/locations/global/features/servicemesh?updateMask=membershipSpecs',
      { membershipSpecs: { [key]: { mesh: { management: 'MANAGEMENT_MANUAL' } } } },
    );
    expect((await call(sim, 'gkehub', 'GET', v2Path)).body.spec).toEqual({
      servicemesh: { management: 'MANAGEMENT_MANUAL' },
      origin: { type: 'USER' },
    });
  });

  it('keeps origin FLEET as written, through v1 and v2', async () => {
    await call(
      sim,
      'gkehub',
      'PATCH',
      'v1/projects/proj-a/locations/global/features/servicemesh?updateMask=membershipSpecs',
      {
        membershipSpecs: {
          [key]: { mesh: { management: 'MANAGEMENT_AUTOMATIC' }, origin: { type: 'FLEET' } },
        },
      },
    );
    const v1 = await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh');
    expect((v1.body.membershipSpecs as Record<string, Json>)[key]).toMatchObject({
      origin: { type: 'FLEET' },
    });
    expect((await call(sim, 'gkehub', 'GET', v2Path)).body.spec).toMatchObject({ origin: { type: 'FLEET' } });

    const bad = await call(sim, 'gkehub', 'PATCH', `${v2Path}?updateMask=spec`, {
      spec: { servicemesh: {}, origin: { type: 'SOMEONE' } },
    });
    expect(bad.body).toMatchObject({ error: { status: 'INVALID_ARGUMENT' } });
  });

  it('answers proto3 JSON: no false, 0, empty strings or empty lists anywhere', async () => {
    const bodies = [
      (await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/-/memberships')).body,
      (await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh')).body,
      (await call(sim, 'container', 'GET', 'v1/projects/proj-a/locations/us-central1/clusters/c1')).body,
    ];
    const defaults: string[] = [];
    const visit = (value: unknown, path: string): void => {
      if (value === false || value === 0 || value === '' || (Array.isArray(value) && value.length === 0)) {
        defaults.push(path);
      } else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`);
      }
    };
    bodies.forEach((body, i) => visit(body, `#${i}`));
    expect(defaults).toEqual([]);
  });
});
