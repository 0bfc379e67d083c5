import { v1 as containerV1 } from '@google-cloud/container';
import { cloudresourcemanager_v3 } from 'googleapis/build/src/apis/cloudresourcemanager/v3.js';
import { serviceusage_v1 } from 'googleapis/build/src/apis/serviceusage/v1.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { call, staticAuth, type Json } from './helpers.js';

const C1 = 'projects/proj-a/locations/us-central1/clusters/c1';

describe('sim: Container API through @google-cloud/container (REST fallback)', () => {
  let sim: Sim;
  let client: containerV1.ClusterManagerClient;

  beforeAll(async () => {
    sim = await startSim();
    sim.clock.pause();
    const url = new URL(sim.urls.container);
    client = new containerV1.ClusterManagerClient({
      fallback: true,
      apiEndpoint: url.hostname,
      port: Number(url.port),
      protocol: 'http',
      authClient: staticAuth(sim),
    });
  });
  afterAll(async () => {
    await client.close();
    await sim.close();
  });

  it('gets a cluster with the fields the workflow reads', async () => {
    const [cluster] = await client.getCluster({ name: C1 });
    expect(cluster).toMatchObject({
      name: 'c1',
      location: 'us-central1',
      status: 'RUNNING',
      releaseChannel: { channel: 'REGULAR' },
      workloadIdentityConfig: { workloadPool: 'proj-a.svc.id.goog' },
      autopilot: { enabled: true },
      resourceLabels: { env: 'dev', team: 'platform' },
      endpoint: sim.world.cluster('proj-a/us-central1/c1')?.endpoint,
    });
    expect(Buffer.from(cluster.masterAuth?.clusterCaCertificate ?? '', 'base64').toString()).toContain(
      'BEGIN CERTIFICATE',
    );
    expect(cluster.labelFingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(cluster.fleet).toBeFalsy();

    const [c2] = await client.getCluster({
      name: 'projects/987654321098/locations/europe-west1/clusters/c2',
    });
    expect(c2.releaseChannel?.channel).toBe('RAPID');
    expect(c2.workloadIdentityConfig).toBeFalsy();
  });

  it('answers enums as numbers when the client asks for enum-encoding=int, as Google does', async () => {
    const res = await call(sim, 'container', 'GET', `v1/${C1}?$alt=json%3Benum-encoding=int`);
    expect(res.body).toMatchObject({ status: 2, releaseChannel: { channel: 2 } });
    expect((await call(sim, 'container', 'GET', `v1/${C1}`)).body).toMatchObject({ status: 'RUNNING' });
  });

  it('lists node pools with their workload metadata mode, as names or as numbers', async () => {
    const [c2] = await client.getCluster({ name: 'projects/proj-b/locations/europe-west1/clusters/c2' });
    // A Standard cluster without Workload Identity: its pool serves the Compute Engine metadata.
    expect(c2.nodePools?.map((p) => [p.name, p.config?.workloadMetadataConfig?.mode ?? null])).toEqual([
      ['default-pool', null],
    ]);
    const [c1] = await client.getCluster({ name: C1 });
    expect(c1.nodePools?.[0]?.config?.workloadMetadataConfig?.mode).toBe('GKE_METADATA');
    const res = await call(sim, 'container', 'GET', `v1/${C1}?$alt=json%3Benum-encoding=int`);
    expect(res.body).toMatchObject({
      nodePools: [{ name: 'default-pool', status: 2, config: { workloadMetadataConfig: { mode: 2 } } }],
    });
  });

  it('lists clusters across locations with locations/-', async () => {
    const [clusters] = await client.listClusters({ parent: 'projects/proj-a/locations/-' });
    expect(clusters.clusters?.map((c) => c.name)).toEqual(['c1']);
  });

  it('sets resource labels against the fingerprint and runs the operation PENDING → RUNNING → DONE', async () => {
    const [before] = await client.getCluster({ name: C1 });
    const labels = { ...before.resourceLabels, mesh_id: 'proj-123456789012' };
    const [operation] = await client.setLabels({
      name: C1,
      resourceLabels: labels,
      labelFingerprint: before.labelFingerprint,
    });
    expect(operation).toMatchObject({ operationType: 'UPDATE_CLUSTER', status: 'PENDING' });
    expect(operation.targetLink).toMatch(/\/projects\/123456789012\/locations\/us-central1\/clusters\/c1$/);

    const opName = `projects/proj-a/locations/us-central1/operations/${operation.name ?? ''}`;
    const clash = await call(sim, 'container', 'POST', `v1/${C1}:setResourceLabels`, {
      resourceLabels: labels,
      labelFingerprint: 'x',
    });
    expect(clash.status).toBe(400);
    expect((clash.body.error as Json).message).toMatch(/incompatible operation/);

    sim.clock.advance(1000);
    expect((await client.getOperation({ name: opName }))[0].status).toBe('RUNNING');
    sim.clock.advance(1000);
    const [done] = await client.getOperation({ name: opName });
    expect(done.status).toBe('DONE');
    expect(done.endTime).toBeTruthy();

    const [after] = await client.getCluster({ name: C1 });
    expect(after.resourceLabels).toEqual(labels);
    expect(after.labelFingerprint).not.toBe(before.labelFingerprint);
  });

  it('refuses a stale fingerprint with FAILED_PRECONDITION and accepts the current one', async () => {
    const stale = await call(sim, 'container', 'POST', `v1/${C1}:setResourceLabels`, {
      resourceLabels: { env: 'prod' },
      labelFingerprint: 'deadbeef',
    });
    expect(stale.status).toBe(400);
    expect(stale.body.error).toMatchObject({ code: 400, status: 'FAILED_PRECONDITION' });
    expect((stale.body.error as Json).message).toMatch(/fingerprint mismatch/);

    await expect(
      client.setLabels({ name: C1, resourceLabels: { env: 'prod' }, labelFingerprint: 'deadbeef' }),
    ).rejects.toMatchObject({
      code: 400,
    });

    const current = sim.world.cluster('proj-a/us-central1/c1')?.labelFingerprint;
    const ok = await call(sim, 'container', 'POST', `v1/${C1}:setResourceLabels`, {
      resourceLabels: { env: 'prod' },
      labelFingerprint: current,
    });
    expect(ok.status).toBe(200);
    expect(sim.world.cluster('proj-a/us-central1/c1')?.resourceLabels).toEqual({ env: 'prod' });
  });

  it('answers 404 NOT_FOUND for an unknown cluster', async () => {
    const res = await call(sim, 'container', 'GET', 'v1/projects/proj-a/locations/us-central1/clusters/nope');
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ status: 'NOT_FOUND' });
  });
});

describe('sim: Service Usage and Resource Manager through googleapis', () => {
  let sim: Sim;

  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());

  it('reads a project by ID or number and hides unknown ones behind 403', async () => {
    const rm = new cloudresourcemanager_v3.Cloudresourcemanager({
      rootUrl: sim.urls.resourcemanager,
      auth: staticAuth(sim),
      retry: false,
    });
    const byId = await rm.projects.get({ name: 'projects/proj-a' });
    expect(byId.data).toMatchObject({ name: 'projects/123456789012', projectId: 'proj-a', state: 'ACTIVE' });
    expect((await rm.projects.get({ name: 'projects/987654321098' })).data.projectId).toBe('proj-b');
    await expect(rm.projects.get({ name: 'projects/no-such-project' })).rejects.toMatchObject({
      status: 403,
    });
  });

  it('reports and enables services', async () => {
    sim.world.setService('proj-a', 'mesh.googleapis.com', false);
    const su = new serviceusage_v1.Serviceusage({
      rootUrl: sim.urls.serviceusage,
      auth: staticAuth(sim),
      retry: false,
    });
    const before = await su.services.get({ name: 'projects/proj-a/services/mesh.googleapis.com' });
    expect(before.data).toMatchObject({
      name: 'projects/123456789012/services/mesh.googleapis.com',
      parent: 'projects/123456789012',
      state: 'DISABLED',
    });

    const op = await su.services.enable({ name: 'projects/proj-a/services/mesh.googleapis.com' });
    expect(op.data).toMatchObject({
      done: true,
      response: {
        '@type': 'type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse',
        service: { state: 'ENABLED' },
      },
    });
    expect(op.data.name).toMatch(/^operations\//);
    expect((await su.operations.get({ name: op.data.name ?? '' })).data.done).toBe(true);
    expect(sim.world.project('proj-a')?.services.has('mesh.googleapis.com')).toBe(true);
  });

  it('reads services in one batchGet and enables several in one batchEnable, on when its operation is done', async () => {
    sim.world.setService('proj-b', 'mesh.googleapis.com', false);
    sim.world.setService('proj-b', 'gkehub.googleapis.com', false);
    const su = new serviceusage_v1.Serviceusage({
      rootUrl: sim.urls.serviceusage,
      auth: staticAuth(sim),
      retry: false,
    });
    const names = ['mesh.googleapis.com', 'gkehub.googleapis.com', 'container.googleapis.com'].map(
      (s) => `projects/proj-b/services/${s}`,
    );
    const states = async () =>
      ((await su.services.batchGet({ parent: 'projects/proj-b', names })).data.services ?? []).map(
        (s) => s.state,
      );
    expect(await states()).toEqual(['DISABLED', 'DISABLED', 'ENABLED']);
    const op = await su.services.batchEnable({
      parent: 'projects/proj-b',
      requestBody: { serviceIds: ['mesh.googleapis.com', 'gkehub.googleapis.com'] },
    });
    expect(op.data.done).toBeFalsy();
    expect(await states()).toEqual(['DISABLED', 'DISABLED', 'ENABLED']);
    sim.clock.advance(sim.world.timings.serviceEnable);
    expect((await su.operations.get({ name: op.data.name ?? '' })).data).toMatchObject({
      done: true,
      response: { '@type': 'type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse' },
    });
    expect(await states()).toEqual(['ENABLED', 'ENABLED', 'ENABLED']);
    await expect(
      su.services.batchEnable({ parent: 'projects/proj-b', requestBody: { serviceIds: [] } }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
