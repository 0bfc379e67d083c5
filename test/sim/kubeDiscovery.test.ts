import { request } from 'node:https';
import { startSim, type Sim } from '../../src/sim/index.js';
import { humanDuration } from '../../src/sim/kubeTables.js';
import {
  kubeApis,
  kubeRequest,
  registerAndManage,
  restartDeployment,
  type Json,
  type KubeApis,
} from './helpers.js';

const C1 = 'proj-a/us-central1/c1';

interface WatchEvent {
  type: string;
  object: { kind: string; metadata: { name: string; resourceVersion: string } };
}

/** Opens a watch and collects its newline-delimited events until `until` is true of them (or 5 s pass). */
function watch(sim: Sim, path: string, until: (events: WatchEvent[]) => boolean): Promise<WatchEvent[]> {
  const cluster = sim.world.cluster(C1);
  const [host, port] = (cluster?.endpoint ?? '').split(':');
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    const req = request(
      {
        host,
        port: Number(port),
        path,
        headers: { authorization: `Bearer ${sim.token}` },
        ca: cluster?.caPem,
      },
      (res) => {
        let buffered = '';
        const timer = setTimeout(() => req.destroy(), 5000);
        res.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
          if (until(events)) {
            clearTimeout(timer);
            req.destroy();
          }
        });
        res.on('close', () => resolve(events));
      },
    );
    req.on('error', (error) => (events.length > 0 ? resolve(events) : reject(error)));
    req.end();
  });
}

describe('sim: Kubernetes discovery, watch and the verbs kubectl uses', () => {
  let sim: Sim;
  let apis: KubeApis;

  beforeEach(async () => {
    sim = await startSim();
    apis = kubeApis(sim, C1);
  });
  afterEach(() => sim.close());

  it('serves legacy discovery: /api, /apis and resource lists with verbs and short names', async () => {
    expect((await kubeRequest(sim, C1, 'GET', '/api')).body).toMatchObject({
      kind: 'APIVersions',
      versions: ['v1'],
    });
    const core = (await kubeRequest(sim, C1, 'GET', '/api/v1')).body as { resources: Json[] };
    expect(core).toMatchObject({ kind: 'APIResourceList', groupVersion: 'v1' });
    expect(core.resources).toContainEqual(
      expect.objectContaining({ name: 'pods', namespaced: true, kind: 'Pod', shortNames: ['po'] }),
    );
    expect(core.resources).toContainEqual(
      expect.objectContaining({
        name: 'namespaces',
        namespaced: false,
        verbs: ['get', 'list', 'watch', 'patch'],
      }),
    );

    const groups = async (): Promise<string[]> =>
      ((await kubeRequest(sim, C1, 'GET', '/apis')).body as { groups: Array<{ name: string }> }).groups.map(
        (g) => g.name,
      );
    expect(await groups()).toEqual(['apps', 'policy']);
    expect((await kubeRequest(sim, C1, 'GET', '/apis/mesh.cloud.google.com/v1beta1')).status).toBe(404);
    const apps = (await kubeRequest(sim, C1, 'GET', '/apis/apps/v1')).body as { resources: Json[] };
    expect(apps.resources.map((r) => r.name)).toEqual([
      'deployments',
      'statefulsets',
      'daemonsets',
      'replicasets',
    ]);

    // The mesh CRDs appear with the managed control plane.
    await registerAndManage(sim, C1, 'c1');
    sim.clock.advance(sim.world.timings.controlPlaneProvisioningAfter);
    expect(await groups()).toContain('mesh.cloud.google.com');
    const mesh = (await kubeRequest(sim, C1, 'GET', '/apis/mesh.cloud.google.com/v1beta1')).body as {
      resources: Json[];
    };
    expect(mesh.resources).toEqual([
      expect.objectContaining({ name: 'controlplanerevisions', namespaced: true }),
      expect.objectContaining({ name: 'dataplanecontrols', namespaced: false }),
    ]);
  });

  it('watches a list: current objects as ADDED, then changes as the clock moves, each with a newer resourceVersion', async () => {
    sim.clock.pause();
    const events = watch(sim, '/api/v1/namespaces/default/pods?watch=true', (seen) =>
      seen.some((e) => e.type === 'DELETED'),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await restartDeployment(apis, 'default', 'web');
    sim.clock.advance(sim.world.timings.podReadyAfter);
    const seen = await events;
    const types = seen.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['ADDED', 'ADDED']);
    expect(types).toContain('DELETED');
    expect(seen.every((e) => e.object.kind === 'Pod')).toBe(true);
    const versions = seen.slice(2).map((e) => Number(e.object.metadata.resourceVersion));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });

  it('watches from a resourceVersion: only what changed after it', async () => {
    sim.clock.pause();
    const list = await apis.core.listNamespace();
    const rv = list.metadata?.resourceVersion ?? '';
    const events = watch(
      sim,
      `/api/v1/namespaces?watch=true&resourceVersion=${rv}`,
      (seen) => seen.length > 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await kubeRequest(sim, C1, 'PATCH', '/api/v1/namespaces/shop', {
      body: JSON.stringify({ metadata: { labels: { 'istio-injection': 'enabled' } } }),
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    const seen = await events;
    expect(seen.map((e) => [e.type, e.object.metadata.name])).toEqual([['MODIFIED', 'shop']]);
  });

  it("creates a bare pod (kubectl run) and deletes it; a controller's deleted pod is replaced", async () => {
    const created = await kubeRequest(sim, C1, 'POST', '/api/v1/namespaces/default/pods', {
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'httpd', labels: { run: 'httpd' } },
        spec: { containers: [{ name: 'httpd', image: 'httpd' }] },
      }),
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ metadata: { name: 'httpd', labels: { run: 'httpd' } } });
    expect(created.body.metadata).not.toHaveProperty('ownerReferences');
    const again = await kubeRequest(sim, C1, 'POST', '/api/v1/namespaces/default/pods', {
      body: JSON.stringify({
        metadata: { name: 'httpd' },
        spec: { containers: [{ name: 'h', image: 'httpd' }] },
      }),
    });
    expect(again.body).toMatchObject({ reason: 'AlreadyExists', code: 409 });
    const invalid = await kubeRequest(sim, C1, 'POST', '/api/v1/namespaces/default/pods', {
      body: JSON.stringify({ metadata: { name: 'empty' }, spec: { containers: [] } }),
    });
    expect(invalid.body).toMatchObject({ reason: 'Invalid', code: 422 });

    expect((await kubeRequest(sim, C1, 'DELETE', '/api/v1/namespaces/default/pods/httpd')).status).toBe(200);
    expect((await kubeRequest(sim, C1, 'GET', '/api/v1/namespaces/default/pods/httpd')).status).toBe(404);
    expect((await kubeRequest(sim, C1, 'DELETE', '/api/v1/namespaces/default/pods/httpd')).status).toBe(404);

    // A controller's pod that is deleted comes back under a new name.
    const before = await apis.core.listNamespacedPod({ namespace: 'default' });
    const victim = before.items[0]?.metadata?.name ?? '';
    await kubeRequest(sim, C1, 'DELETE', `/api/v1/namespaces/default/pods/${victim}`);
    const after = await apis.core.listNamespacedPod({ namespace: 'default' });
    expect(after.items).toHaveLength(before.items.length);
    expect(after.items.map((p) => p.metadata?.name)).not.toContain(victim);
  });

  it("lists a Deployment's ReplicaSets, old and new, during a restart", async () => {
    sim.clock.pause();
    const first = await apis.apps.listNamespacedReplicaSet({ namespace: 'default' });
    expect(first.items.map((rs) => [rs.spec?.replicas, rs.status?.readyReplicas])).toEqual([[2, 2]]);
    await restartDeployment(apis, 'default', 'web');
    const during = await apis.apps.listNamespacedReplicaSet({ namespace: 'default' });
    expect(during.items.map((rs) => [rs.spec?.replicas, rs.status?.replicas])).toEqual([
      [2, 2],
      [0, 2],
    ]);
    expect(during.items[0]?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
    });
    sim.clock.advance(sim.world.timings.podReadyAfter);
    const done = await apis.apps.listNamespacedReplicaSet({ namespace: 'default' });
    expect(done.items).toHaveLength(1);
  });

  it('prints Tables for kubectl get, AGE on the sim clock, and plain JSON for everyone else', async () => {
    sim.clock.pause();
    sim.clock.advance(5 * 60_000 + 7_000);
    const accept =
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    const table = await kubeRequest(sim, C1, 'GET', '/api/v1/namespaces/default/pods', {
      headers: { accept },
    });
    expect(table.body).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    const { columnDefinitions, rows } = table.body as {
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{ cells: unknown[]; object: Json }>;
    };
    expect(columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
    ]);
    expect(rows).toHaveLength(2);
    expect(rows[0]?.object).toMatchObject({
      kind: 'PartialObjectMetadata',
      metadata: { namespace: 'default' },
    });
    // AGE as kubectl prints it under 10 minutes, from the object's own creation time on the sim clock
    // (the world ran a moment, at the emulator's speed, before the clock was paused).
    const ageOf = (object: Json) => {
      const created = Date.parse(
        (object as { metadata: { creationTimestamp: string } }).metadata.creationTimestamp,
      );
      const seconds = Math.floor((sim.clock.now() - created) / 1000);
      expect(seconds).toBeGreaterThanOrEqual(5 * 60 + 7);
      expect(seconds).toBeLessThan(10 * 60);
      return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
    };
    expect(rows[0]?.cells.slice(1, 5)).toEqual(['1/1', 'Running', '0', ageOf(rows[0]!.object)]);

    const one = await kubeRequest(sim, C1, 'GET', '/apis/apps/v1/namespaces/default/deployments/web', {
      headers: { accept },
    });
    const deployment = (one.body as { rows: Array<{ cells: unknown[]; object: Json }> }).rows[0]!;
    expect(deployment.cells).toEqual(['web', '2/2', 2, 2, ageOf(deployment.object)]);
    const plain = await kubeRequest(sim, C1, 'GET', '/api/v1/namespaces/default/pods');
    expect(plain.body.kind).toBe('PodList');
    const missing = await kubeRequest(sim, C1, 'GET', '/api/v1/namespaces/nowhere', { headers: { accept } });
    expect(missing.body).toMatchObject({ kind: 'Status', code: 404 });
  });

  it('formats ages as kubectl does', () => {
    expect(
      [
        -5_000,
        0,
        119_000,
        125_000,
        600_000,
        3 * 3600_000 + 60_000,
        9 * 3600_000,
        50 * 3600_000,
        400 * 86_400_000,
        800 * 86_400_000,
      ].map(humanDuration),
    ).toEqual(['<invalid>', '0s', '119s', '2m5s', '10m', '3h1m', '9h', '2d2h', '400d', '2y70d']);
  });
});
