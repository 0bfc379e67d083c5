import { gkehub_v1 } from 'googleapis/build/src/apis/gkehub/v1.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { call, registerAndManage, resourceLink, staticAuth, type Json } from './helpers.js';

const C1 = 'proj-a/us-central1/c1';

describe('sim: GKE Hub', () => {
  let sim: Sim;
  let hub: gkehub_v1.Gkehub;

  beforeAll(async () => {
    sim = await startSim({ scenario: 'default' });
    sim.clock.pause();
    hub = new gkehub_v1.Gkehub({ rootUrl: sim.urls.gkehub, auth: staticAuth(sim), retry: false });
  });
  afterAll(() => sim.close());

  it('refuses calls without the bearer token, in Google error shape', async () => {
    for (const api of ['gkehub', 'container', 'serviceusage', 'resourcemanager'] as const) {
      const missing = await call(
        sim,
        api,
        'GET',
        'v1/projects/proj-a/locations/-/memberships',
        undefined,
        null,
      );
      expect(missing.status).toBe(401);
      expect(missing.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
      const wrong = await call(
        sim,
        api,
        'GET',
        'v1/projects/proj-a/locations/-/memberships',
        undefined,
        'not-the-token',
      );
      expect(wrong.status).toBe(401);
    }
  });

  it('registers a membership through a long-running operation and lists it under locations/-', async () => {
    const op = await hub.projects.locations.memberships.create({
      parent: 'projects/proj-a/locations/global',
      membershipId: 'c1',
      requestBody: {
        endpoint: { gkeCluster: { resourceLink: resourceLink(C1) } },
        authority: {
          issuer: 'https://container.googleapis.com/v1/projects/proj-a/locations/us-central1/clusters/c1',
        },
      },
    });
    // proto3 JSON: an operation still running has no `done` at all (nor `cancelRequested`).
    expect(op.data).not.toHaveProperty('done');
    expect(op.data.metadata).not.toHaveProperty('cancelRequested');
    expect(op.data.name).toMatch(/^projects\/proj-a\/locations\/global\/operations\/operation-/);
    expect(op.data.metadata).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.gkehub.v1.OperationMetadata',
      verb: 'create',
      target: 'projects/proj-a/locations/global/memberships/c1',
    });

    sim.clock.advance(2999);
    expect(
      (await hub.projects.locations.operations.get({ name: op.data.name ?? '' })).data.done,
    ).toBeUndefined();
    sim.clock.advance(1);
    const done = await hub.projects.locations.operations.get({ name: op.data.name ?? '' });
    expect(done.data.done).toBe(true);
    expect(done.data.response).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.gkehub.v1.Membership',
      name: 'projects/proj-a/locations/global/memberships/c1',
      state: { code: 'READY' },
      endpoint: { gkeCluster: { resourceLink: resourceLink(C1) } },
      authority: { workloadIdentityPool: 'proj-a.svc.id.goog' },
    });
    expect(JSON.stringify(done.data.response)).not.toContain('clusterMissing');

    const listed = await hub.projects.locations.memberships.list({ parent: 'projects/proj-a/locations/-' });
    expect(listed.data.resources?.map((m) => m.name)).toEqual([
      'projects/proj-a/locations/global/memberships/c1',
    ]);
    const byNumber = await call(
      sim,
      'gkehub',
      'GET',
      'v1/projects/123456789012/locations/global/memberships/c1',
    );
    expect(byNumber.status).toBe(200);
    // An empty list is `{}` in proto3 JSON, not `{resources: []}`.
    expect(
      (await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/us-central1/memberships')).body,
    ).toEqual({});
  });

  it('answers 409 for a duplicate membership and 400 for a missing cluster or an issuer without Workload Identity', async () => {
    const duplicate = await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-a/locations/global/memberships?membershipId=c1',
      {
        endpoint: { gkeCluster: { resourceLink: resourceLink(C1) } },
      },
    );
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toMatchObject({ status: 'ALREADY_EXISTS' });

    const missing = await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-a/locations/global/memberships?membershipId=nope',
      {
        endpoint: { gkeCluster: { resourceLink: resourceLink('proj-a/us-central1/nope') } },
      },
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ status: 'INVALID_ARGUMENT' });

    const noWorkloadIdentity = await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-b/locations/global/memberships?membershipId=c2',
      {
        endpoint: { gkeCluster: { resourceLink: resourceLink('proj-b/europe-west1/c2') } },
        authority: {
          issuer: 'https://container.googleapis.com/v1/projects/proj-b/locations/europe-west1/clusters/c2',
        },
      },
    );
    expect(noWorkloadIdentity.status).toBe(400);
    expect((noWorkloadIdentity.body.error as Json).message).toMatch(/Workload Identity is not enabled/);
  });

  it('answers 403 SERVICE_DISABLED with ErrorInfo when gkehub.googleapis.com is off', async () => {
    sim.world.setService('proj-b', 'gkehub.googleapis.com', false);
    const res = await call(sim, 'gkehub', 'GET', 'v1/projects/proj-b/locations/-/memberships');
    sim.world.setService('proj-b', 'gkehub.googleapis.com', true);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    const details = (res.body.error as Json).details as Json[];
    expect(details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo')).toMatchObject({
      reason: 'SERVICE_DISABLED',
      domain: 'googleapis.com',
      metadata: { service: 'gkehub.googleapis.com', consumer: 'projects/987654321098' },
    });
  });

  it('merges membershipSpecs by key, keyed by project number, and deletes a key sent as {}', async () => {
    const other = await sim.world.addCluster({ project: 'proj-a', location: 'us-east1', name: 'c3' });
    expect(other.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    await call(sim, 'gkehub', 'POST', 'v1/projects/proj-a/locations/us-east1/memberships?membershipId=c3', {
      endpoint: { gkeCluster: { resourceLink: resourceLink('proj-a/us-east1/c3') } },
    });
    sim.clock.advance(3000);
    const created = await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-a/locations/global/features?featureId=servicemesh',
      {},
    );
    expect(created.status).toBe(200);
    const again = await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-a/locations/global/features?featureId=servicemesh',
      {},
    );
    expect(again.status).toBe(409);

    const patch = (specs: Json) =>
      call(
        sim,
        'gkehub',
        'PATCH',
        'v1/projects/proj-a/locations/global/features/servicemesh?updateMask=membershipSpecs',
        {
          membershipSpecs: specs,
        },
      );
    expect(
      (
        await patch({
          'projects/proj-a/locations/global/memberships/c1': { mesh: { management: 'MANAGEMENT_AUTOMATIC' } },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await patch({
          'projects/123456789012/locations/us-east1/memberships/c3': {
            mesh: { management: 'MANAGEMENT_AUTOMATIC' },
          },
        })
      ).status,
    ).toBe(200);

    const feature = (
      await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh')
    ).body;
    expect(Object.keys(feature.membershipSpecs as Json).sort()).toEqual([
      'projects/123456789012/locations/global/memberships/c1',
      'projects/123456789012/locations/us-east1/memberships/c3',
    ]);
    expect(Object.keys(feature.membershipStates as Json).sort()).toEqual([
      'projects/123456789012/locations/global/memberships/c1',
      'projects/123456789012/locations/us-east1/memberships/c3',
    ]);

    expect((await patch({ 'projects/proj-a/locations/us-east1/memberships/c3': {} })).status).toBe(200);
    const after = (
      await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh')
    ).body;
    expect(Object.keys(after.membershipSpecs as Json)).toEqual([
      'projects/123456789012/locations/global/memberships/c1',
    ]);

    const unknown = await patch({
      'projects/proj-a/locations/global/memberships/ghost': { mesh: { management: 'MANAGEMENT_AUTOMATIC' } },
    });
    expect(unknown.status).toBe(400);
    const badEnum = await patch({
      'projects/proj-a/locations/global/memberships/c1': { mesh: { management: 'AUTOMATIC_PLEASE' } },
    });
    expect(badEnum.status).toBe(400);
    const noMask = await call(
      sim,
      'gkehub',
      'PATCH',
      'v1/projects/proj-a/locations/global/features/servicemesh',
      { membershipSpecs: {} },
    );
    expect(noMask.status).toBe(400);
  });

  it('refuses the servicemesh feature while mesh.googleapis.com is disabled', async () => {
    sim.world.setService('proj-b', 'mesh.googleapis.com', false);
    const res = await call(
      sim,
      'gkehub',
      'POST',
      'v1/projects/proj-b/locations/global/features?featureId=servicemesh',
      {},
    );
    sim.world.setService('proj-b', 'mesh.googleapis.com', true);
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).toContain('"reason":"SERVICE_DISABLED"');
    expect(JSON.stringify(res.body)).toContain('"service":"mesh.googleapis.com"');
  });
});

describe('sim: managed mesh provisioning on the clock', () => {
  let sim: Sim;

  beforeAll(async () => {
    sim = await startSim();
    sim.clock.pause();
  });
  afterAll(() => sim.close());

  const states = async (): Promise<{
    cp: unknown;
    dp: unknown;
    cpDetails: unknown;
    dpDetails: unknown;
    impl: unknown;
  }> => {
    const feature = (
      await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh')
    ).body;
    const state = (feature.membershipStates as Record<string, { servicemesh: Json }>)[
      'projects/123456789012/locations/global/memberships/c1'
    ];
    const cp = state?.servicemesh.controlPlaneManagement as Json;
    const dp = state?.servicemesh.dataPlaneManagement as Json;
    return {
      cp: cp.state,
      dp: dp.state,
      cpDetails: cp.details,
      dpDetails: dp.details,
      impl: cp.implementation,
    };
  };

  it('walks DISABLED → PROVISIONING → ACTIVE with the data plane waiting on the control plane', async () => {
    await registerAndManage(sim, C1, 'c1');
    expect(await states()).toMatchObject({ cp: 'DISABLED', dp: 'DISABLED' });

    sim.clock.advance(5000);
    expect(await states()).toEqual({
      cp: 'PROVISIONING',
      cpDetails: [{ code: 'REVISION_PROVISIONING', details: 'Provisioning: asm-managed' }],
      dp: 'FAILED_PRECONDITION',
      dpDetails: [
        { code: 'MANAGED_CONTROL_PLANE_REQUIRED', details: 'Requires active managed control plane.' },
      ],
      impl: 'ISTIOD',
    });

    sim.clock.advance(55000);
    expect(await states()).toMatchObject({
      cp: 'ACTIVE',
      cpDetails: [{ code: 'REVISION_READY', details: 'Ready: asm-managed' }],
      dp: 'PROVISIONING',
    });
    expect(
      sim.world.membershipState('proj-a', 'projects/proj-a/locations/global/memberships/c1'),
    ).toMatchObject({
      controlPlane: 'ACTIVE',
      dataPlane: 'PROVISIONING',
    });

    sim.clock.advance(30000);
    expect(await states()).toMatchObject({
      cp: 'ACTIVE',
      dp: 'ACTIVE',
      dpDetails: [{ code: 'OK', details: 'Service is running.' }],
    });
  });

  it('turns management off with MANAGEMENT_MANUAL', async () => {
    const res = await call(
      sim,
      'gkehub',
      'PATCH',
      'v1/projects/proj-a/locations/global/features/servicemesh?updateMask=membershipSpecs',
      {
        membershipSpecs: {
          'projects/proj-a/locations/global/memberships/c1': { mesh: { management: 'MANAGEMENT_MANUAL' } },
        },
      },
    );
    expect(res.status).toBe(200);
    expect(await states()).toMatchObject({ cp: 'DISABLED', dp: 'DISABLED' });
  });

  it('stalls or degrades provisioning when the cluster says so, with conditions', async () => {
    const stalled = await sim.world.addCluster({
      project: 'proj-a',
      location: 'asia-northeast1',
      name: 'stuck',
      releaseChannel: 'RAPID',
      mesh: { behaviour: 'stall' },
    });
    const degraded = await sim.world.addCluster({
      project: 'proj-a',
      location: 'europe-west4',
      name: 'sick',
      mesh: { behaviour: 'degrade' },
    });
    await registerAndManage(sim, stalled.ref, 'stuck');
    await registerAndManage(sim, degraded.ref, 'sick');
    sim.clock.advance(20000);
    const stuck = sim.world.membershipState('proj-a', 'projects/proj-a/locations/global/memberships/stuck');
    expect(stuck).toMatchObject({ controlPlane: 'PROVISIONING', revision: 'asm-managed-rapid' });
    sim.clock.advance(60000);
    expect(
      sim.world.membershipState('proj-a', 'projects/123456789012/locations/global/memberships/stuck'),
    ).toMatchObject({
      controlPlane: 'STALLED',
      dataPlane: 'FAILED_PRECONDITION',
    });
    const feature = (
      await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh')
    ).body;
    const sick = (feature.membershipStates as Record<string, { servicemesh: Json }>)[
      'projects/123456789012/locations/global/memberships/sick'
    ];
    expect(sick?.servicemesh).toMatchObject({
      controlPlaneManagement: { state: 'DEGRADED' },
      conditions: [
        {
          code: 'MESH_IAM_PERMISSION_DENIED',
          severity: 'ERROR',
        },
      ],
    });
    expect(JSON.stringify(sick?.servicemesh.conditions)).toContain(
      '"documentationLink":"https://cloud.google.com/service-mesh/',
    );
  });

  it('deletes a membership through an operation', async () => {
    const res = await call(sim, 'gkehub', 'DELETE', 'v1/projects/proj-a/locations/global/memberships/sick');
    expect(res.body).toMatchObject({ metadata: { verb: 'delete' } });
    expect(res.body).not.toHaveProperty('done');
    expect(
      (await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/memberships/sick')).body,
    ).toMatchObject({
      state: { code: 'DELETING' },
    });
    sim.clock.advance(3000);
    expect(
      (await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/memberships/sick')).status,
    ).toBe(404);
    const op = await call(sim, 'gkehub', 'GET', `v1/${String(res.body.name)}`);
    expect(op.body).toMatchObject({
      done: true,
      response: { '@type': 'type.googleapis.com/google.protobuf.Empty' },
    });
  });
});
