/** The cloud adapters through the real client libraries, over HTTP(S), against the emulator. */
import { CloudCaller } from '../../src/cloud/caller.js';
import { wrapCloudError } from '../../src/cloud/googleErrors.js';
import { ClientNodeKubeFactory } from '../../src/cloud/kube.js';
import { MeshopsError } from '../../src/errors.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import type { OperationRef } from '../../src/workflows/ports.js';
import { adaptersFor, rawContainerClient } from '../support/adapters.js';
import { waitFor } from '../support/wait.js';

const c1 = { project: 'proj-a', location: 'us-central1', name: 'c1' };

describe('cloud adapters against the emulator', () => {
  let sim: Sim;
  let a: ReturnType<typeof adaptersFor>;
  const waits: number[] = [];

  beforeAll(async () => {
    sim = await startSim({ speed: 200 });
    a = adaptersFor(sim, waits);
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.faults.clear();
    waits.length = 0;
  });

  async function done(operation: OperationRef): Promise<void> {
    await waitFor(`operation ${operation.name}`, async () => (await a.operations.status(operation)).done);
    expect(await a.operations.status(operation)).toEqual({ done: true });
  }

  it('reads a cluster into the domain shape', async () => {
    const cluster = await a.gke.getCluster(c1);
    expect(cluster).toMatchObject({
      status: 'RUNNING',
      releaseChannel: 'REGULAR',
      workloadPool: 'proj-a.svc.id.goog',
      autopilot: true,
      resourceLabels: { env: 'dev', team: 'platform' },
    });
    expect(cluster.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Buffer.from(cluster.caCertificate, 'base64').toString()).toContain('BEGIN CERTIFICATE');
  });

  it('names the fix when a cluster does not exist', async () => {
    await expect(a.gke.getCluster({ ...c1, name: 'nope' })).rejects.toMatchObject({
      code: 'CLUSTER_NOT_FOUND',
      hint: 'check the name with `gcloud container clusters list --project proj-a`',
    });
  });

  it('merges labels with the current fingerprint and is a no-op when already so', async () => {
    const operation = await a.gke.setResourceLabels(c1, { mesh_id: 'proj-123456789012' });
    expect(operation).toMatchObject({ api: 'container', project: 'proj-a', location: 'us-central1' });
    await done(operation!);
    expect((await a.gke.getCluster(c1)).resourceLabels).toEqual({
      env: 'dev',
      team: 'platform',
      mesh_id: 'proj-123456789012',
    });
    expect(await a.gke.setResourceLabels(c1, { mesh_id: 'proj-123456789012' })).toBeNull();
  });

  it('reads a stale fingerprint from the real Container client as FAILED_PRECONDITION', async () => {
    const error: unknown = await rawContainerClient(sim)
      .setLabels({
        name: 'projects/proj-a/locations/us-central1/clusters/c1',
        resourceLabels: { x: 'y' },
        labelFingerprint: 'stale',
      })
      .catch((e: unknown) => e);
    expect(wrapCloudError(error, 'set labels on', 'c1', 'proj-a')).toMatchObject({
      code: 'FAILED_PRECONDITION',
      retryable: false,
    });
  });

  it('waits out an earlier label operation still running (a resumed run) and then labels', async () => {
    const slowSim = await startSim({ timings: { labelOperation: 400 } });
    try {
      const slowWaits: number[] = [];
      const slow = adaptersFor(slowSim, slowWaits);
      const first = await slow.gke.setResourceLabels(c1, { mesh_id: 'proj-123456789012' });
      expect(first).not.toBeNull();
      const second = await slow.gke.setResourceLabels(c1, { owner: 'platform' });
      expect(second).not.toBeNull();
      expect(slowWaits.length).toBeGreaterThan(0);
      await waitFor('the second label operation', async () => (await slow.operations.status(second!)).done);
      expect((await slow.gke.getCluster(c1)).resourceLabels).toEqual({
        env: 'dev',
        team: 'platform',
        mesh_id: 'proj-123456789012',
        owner: 'platform',
      });
    } finally {
      await slowSim.close();
    }
  });

  it('retries 503 and 429 (honouring Retry-After) and then succeeds', async () => {
    sim.faults.add({ api: 'container', status: 503, times: 2 });
    expect((await a.gke.getCluster(c1)).status).toBe('RUNNING');
    sim.faults.add({ api: 'gkehub', status: 429, times: 1, retryAfterSeconds: 2 });
    expect(await a.fleet.findMembership('proj-a', c1, '123456789012')).toBeNull();
    expect(sim.faults.fired).toBeGreaterThanOrEqual(3);
    expect(waits).toContain(2000);
  });

  it('gives up after the attempts with a retryable error that says so', async () => {
    sim.faults.add({ api: 'resourcemanager', status: 503, times: 10 });
    const error = await a.projects.projectNumber('proj-a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshopsError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(waits).toHaveLength(3);
  });

  it('does not retry 403, and names the API to enable for SERVICE_DISABLED', async () => {
    const before = sim.faults.fired;
    sim.faults.add({
      api: 'gkehub',
      status: 403,
      times: 5,
      reason: 'SERVICE_DISABLED',
      service: 'gkehub.googleapis.com',
    });
    await expect(a.fleet.findMembership('proj-a', c1, '123456789012')).rejects.toMatchObject({
      code: 'SERVICE_DISABLED',
      retryable: false,
      hint: 'gcloud services enable gkehub.googleapis.com --project proj-a',
    });
    expect(sim.faults.fired - before).toBe(1);
    sim.faults.clear();
    sim.faults.add({ api: 'container', status: 403, times: 5 });
    await expect(a.gke.getCluster(c1)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', retryable: false });
    expect(waits).toEqual([]);
  });

  it('registers, finds, and manages exactly one membership key', async () => {
    const number = await a.projects.projectNumber('proj-a');
    expect(number).toBe('123456789012');
    const created = await a.fleet.createMembership('proj-a', 'us-central1', 'c1', c1, true);
    await done(created);
    const membership = await a.fleet.findMembership('proj-a', c1, number);
    expect(membership?.name).toMatch(
      /^projects\/(proj-a|123456789012)\/locations\/us-central1\/memberships\/c1$/,
    );
    await expect(a.fleet.createMembership('proj-a', 'us-central1', 'c1', c1, true)).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });

    const feature = await a.fleet.enableMeshFeature('proj-a');
    if (feature) await done(feature);
    expect(await a.fleet.enableMeshFeature('proj-a')).toBeNull();
    // Another run's membership key, set earlier, must survive our PATCH.
    const other = { ...c1, name: 'other' };
    await sim.world.addCluster({ project: 'proj-a', location: 'us-central1', name: 'other' });
    await done(await a.fleet.createMembership('proj-a', 'us-central1', 'other', other, true));
    await done(
      await a.fleet.setMeshManagement(
        'proj-a',
        'projects/proj-a/locations/us-central1/memberships/other',
        'MANAGEMENT_AUTOMATIC',
      ),
    );
    await done(await a.fleet.setMeshManagement('proj-a', membership!.name, 'MANAGEMENT_AUTOMATIC'));
    const res = await fetch(
      new URL('v1/projects/proj-a/locations/global/features/servicemesh', sim.urls.gkehub),
      {
        headers: { Authorization: `Bearer ${sim.token}` },
      },
    );
    const specs = ((await res.json()) as { membershipSpecs: Record<string, unknown> }).membershipSpecs;
    expect(Object.keys(specs).sort()).toEqual([
      'projects/123456789012/locations/us-central1/memberships/c1',
      'projects/123456789012/locations/us-central1/memberships/other',
    ]);
    const state = await waitFor('the control plane ACTIVE', async () => {
      const s = await a.fleet.meshState('proj-a', membership!.name, number);
      return s?.controlPlane?.state === 'ACTIVE' && s.dataPlane?.state === 'ACTIVE' ? s : undefined;
    });
    expect(state.controlPlane?.details).toEqual([{ code: 'REVISION_READY', details: 'Ready: asm-managed' }]);
  });

  it("answers many runs' polls of one fleet project with one feature read while it is fresh", async () => {
    const shared = adaptersFor(sim, [], 300);
    const featureReads = () =>
      sim.requests.count({ api: 'gkehub', method: 'GET', pathIncludes: 'features/servicemesh' });
    const before = featureReads();
    const polls = Array.from({ length: 20 }, () =>
      shared.fleet.meshState(
        'proj-a',
        'projects/proj-a/locations/us-central1/memberships/c1',
        '123456789012',
      ),
    );
    const states = await Promise.all(polls);
    expect(new Set(states.map((s) => JSON.stringify(s))).size).toBe(1);
    expect(featureReads() - before).toBe(1);
    // Older than the window: the next poll reads again.
    await new Promise((r) => setTimeout(r, 350));
    await shared.fleet.meshState(
      'proj-a',
      'projects/proj-a/locations/us-central1/memberships/c1',
      '123456789012',
    );
    expect(featureReads() - before).toBe(2);
    // A failed read is not handed to the next poll.
    await new Promise((r) => setTimeout(r, 350));
    sim.faults.add({ api: 'gkehub', status: 403, method: 'GET', pathIncludes: 'features/servicemesh' });
    await expect(
      shared.fleet.meshState(
        'proj-a',
        'projects/proj-a/locations/us-central1/memberships/c1',
        '123456789012',
      ),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await shared.fleet.meshState(
      'proj-a',
      'projects/proj-a/locations/us-central1/memberships/c1',
      '123456789012',
    );
    expect(featureReads() - before).toBe(4);
  });

  it('enables disabled services in one batchEnable and waits for its operation', async () => {
    const wanted = ['mesh.googleapis.com', 'gkehub.googleapis.com', 'container.googleapis.com'];
    sim.world.setService('proj-b', 'mesh.googleapis.com', false);
    sim.world.setService('proj-b', 'gkehub.googleapis.com', false);
    expect(await a.services.disabled('proj-b', wanted)).toEqual([
      'mesh.googleapis.com',
      'gkehub.googleapis.com',
    ]);
    await done(await a.services.batchEnable('proj-b', ['mesh.googleapis.com', 'gkehub.googleapis.com']));
    expect(await a.services.disabled('proj-b', wanted)).toEqual([]);
  });

  it('talks to the cluster API server over TLS with the Google token', async () => {
    const kube = a.kube.forCluster(await a.gke.getCluster(c1));
    expect(await kube.getNamespace('nope')).toBeNull();
    await kube.patchNamespaceLabels('shop', { 'istio-injection': 'enabled', 'istio.io/rev': null });
    expect((await kube.getNamespace('shop'))?.labels).toMatchObject({ 'istio-injection': 'enabled' });
    await kube.patchNamespaceLabels('shop', { 'istio-injection': null });
    expect((await kube.getNamespace('shop'))?.labels).not.toHaveProperty('istio-injection');
    const workloads = await kube.listWorkloads('shop', ['Deployment']);
    expect(workloads.map((w) => `${w.name}×${w.replicas}`).sort()).toEqual(['cart×2', 'checkout×1']);
    expect(await kube.countPodDisruptionBudgets('shop')).toBe(1);
    const pods = await kube.listPods('shop');
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.phase === 'Running' && !p.hasIstioProxy)).toBe(true);
  });

  it('keeps the clients of the most recently used clusters only, and a dropped one still finishes its call', async () => {
    const factory = new ClientNodeKubeFactory(
      { accessToken: () => Promise.resolve(sim.token) },
      new CloudCaller({ attempts: 2, baseDelayMs: 10, maxDelayMs: 10 }),
      1,
    );
    const access = await a.gke.getCluster(c1);
    const first = factory.forCluster(access);
    expect(factory.forCluster(access)).toBe(first);
    // A second cluster pushes the first out while a call of the first is in flight: that call still answers.
    const other = await a.gke.getCluster({ project: 'proj-b', location: 'europe-west1', name: 'c2' });
    sim.faults.slow({ api: 'kubernetes', latencyMs: 300, method: 'GET', pathIncludes: '/namespaces/shop' });
    const inFlight = first.getNamespace('shop');
    const second = factory.forCluster(other);
    expect(second).not.toBe(first);
    expect((await inFlight)?.name).toBe('shop');
    // Dropped and closed, the old client is built again if a step still holds it; the factory hands out a new one.
    expect((await first.getNamespace('default'))?.name).toBe('default');
    expect(factory.forCluster(access)).not.toBe(first);
  });
});
