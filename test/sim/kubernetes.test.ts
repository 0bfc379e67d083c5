import { request } from 'node:https';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { startSim, type Sim } from '../../src/sim/index.js';
import { namedScenario } from '../../src/sim/scenarios.js';
import {
  kubeApis,
  kubeErrorCode,
  registerAndManage,
  restartDeployment as restart,
  type KubeApis,
} from './helpers.js';

const C1 = 'proj-a/us-central1/c1';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function containerNames(pod: V1Pod): { containers: string[]; init: string[] } {
  return {
    containers: pod.spec?.containers.map((c) => c.name) ?? [],
    init: pod.spec?.initContainers?.map((c) => c.name) ?? [],
  };
}

/** A raw HTTPS request that trusts only the sim's CA, for what the typed client cannot send. */
function rawRequest(
  sim: Sim,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; body: string }> {
  const cluster = sim.world.cluster(C1);
  const [host, port] = (cluster?.endpoint ?? '').split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, headers, ca: cluster?.caPem }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => (data += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('sim: Kubernetes API server', () => {
  let sim: Sim;
  let apis: KubeApis;

  beforeAll(async () => {
    // The in-cluster istiods of seed 002 before any namespace was put on them: these tests label them.
    const scenario = namedScenario('in-cluster-istiod');
    for (const cluster of scenario.clusters)
      for (const ns of cluster.namespaces ?? []) if (ns.name !== 'istio-system') delete ns.labels;
    sim = await startSim({ scenario });
    sim.clock.pause();
    apis = kubeApis(sim, C1);
  });
  afterAll(() => sim.close());

  it('serves the seeded world over TLS signed by the sim CA, and requires the bearer token', async () => {
    const namespaces = await apis.core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual([
      'default',
      'shop',
      'kube-system',
      'istio-system',
    ]);
    const pods = await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    expect(pods.items).toHaveLength(2);
    expect(pods.items[0]?.metadata?.name).toMatch(/^cart-[a-z0-9]{10}-[a-z0-9]{5}$/);
    expect(pods.items[0]?.status?.phase).toBe('Running');

    const unauthorized = await kubeErrorCode(kubeApis(sim, C1, 'wrong').core.listNamespace());
    expect(unauthorized.code).toBe(401);
    const raw = await rawRequest(sim, 'GET', '/api/v1/namespaces', {});
    expect(raw.status).toBe(401);
    expect(JSON.parse(raw.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('merge-patches namespace labels, null deleting a key, and answers 415 for other content types', async () => {
    const patched = await apis.core.patchNamespace(
      { name: 'default', body: { metadata: { labels: { 'istio-injection': 'enabled', team: 'web' } } } },
      mergePatch,
    );
    expect(patched.metadata?.labels).toEqual({
      'kubernetes.io/metadata.name': 'default',
      'istio-injection': 'enabled',
      team: 'web',
    });
    const removed = await apis.core.patchNamespace(
      { name: 'default', body: { metadata: { labels: { team: null } } } },
      mergePatch,
    );
    expect(removed.metadata?.labels).toEqual({
      'kubernetes.io/metadata.name': 'default',
      'istio-injection': 'enabled',
    });
    expect(Number(removed.metadata?.resourceVersion)).toBeGreaterThan(
      Number(patched.metadata?.resourceVersion),
    );

    const wrongType = await rawRequest(
      sim,
      'PATCH',
      '/api/v1/namespaces/default',
      { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
      JSON.stringify({ metadata: { labels: { a: 'b' } } }),
    );
    expect(wrongType.status).toBe(415);
    expect(JSON.parse(wrongType.body)).toMatchObject({
      kind: 'Status',
      reason: 'UnsupportedMediaType',
      code: 415,
    });

    // Without a Content-Type option the client sends json-patch+json, which needs an array of operations.
    const defaulted = await kubeErrorCode(
      apis.core.patchNamespace({ name: 'default', body: { metadata: { labels: { a: 'b' } } } }),
    );
    expect(defaulted.code).toBe(400);
    const jsonPatched = await apis.core.patchNamespace({
      name: 'default',
      body: [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }],
    });
    expect(jsonPatched.metadata?.labels?.tier).toBe('front');
    expect((await kubeErrorCode(apis.core.readNamespace({ name: 'nope' }))).code).toBe(404);
  });

  it('restarts without a sidecar in a labelled namespace while the managed data plane is not active', async () => {
    await restart(apis, 'default', 'web');
    const pods = await apis.core.listNamespacedPod({ namespace: 'default' });
    const fresh = pods.items.filter((p) => p.status?.phase === 'Pending');
    expect(fresh).toHaveLength(2);
    expect(fresh.map(containerNames)).toEqual([
      { containers: ['app'], init: [] },
      { containers: ['app'], init: [] },
    ]);
    sim.clock.advance(2000);
  });

  it('replaces pods on rollout restart: Pending for podReadyAfter, then Running with istio-proxy once the data plane is ACTIVE', async () => {
    await registerAndManage(sim, C1, 'c1');
    const crdsBefore = await kubeErrorCode(
      apis.custom.listClusterCustomObject({
        group: 'mesh.cloud.google.com',
        version: 'v1beta1',
        plural: 'dataplanecontrols',
      }),
    );
    expect(crdsBefore.code).toBe(404);
    sim.clock.advance(90000);

    await apis.core.patchNamespace(
      { name: 'shop', body: { metadata: { labels: { 'istio-injection': 'enabled' } } } },
      mergePatch,
    );
    const before = await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    const oldNames = before.items.map((p) => p.metadata?.name);
    await restart(apis, 'shop', 'cart');

    const during = await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    const newPods = during.items.filter((p) => !oldNames.includes(p.metadata?.name));
    expect(newPods).toHaveLength(2);
    for (const pod of newPods) {
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.status?.containerStatuses?.every((c) => c.ready === false)).toBe(true);
      expect(containerNames(pod).containers).toEqual(['app', 'istio-proxy']);
      expect(pod.spec?.containers[1]?.image).toMatch(/^gcr\.io\/gke-release\/asm\/proxyv2:/);
      expect(JSON.parse(pod.metadata?.annotations?.['sidecar.istio.io/status'] ?? '{}')).toMatchObject({
        revision: 'asm-managed',
      });
    }
    const running = await apis.core.listNamespacedPod({
      namespace: 'shop',
      fieldSelector: 'status.phase=Running',
      labelSelector: 'app=cart',
    });
    expect(running.items.map((p) => p.metadata?.name).sort()).toEqual([...oldNames].sort());

    sim.clock.advance(2000);
    const after = await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    expect(after.items.map((p) => p.metadata?.name).sort()).toEqual(
      newPods.map((p) => p.metadata?.name).sort(),
    );
    expect(
      after.items.every(
        (p) => p.status?.phase === 'Running' && p.status.containerStatuses?.every((c) => c.ready),
      ),
    ).toBe(true);

    const deployment = await apis.apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(deployment.status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2 });
    expect(deployment.metadata?.generation).toBe(2);

    const checkoutUntouched = await apis.core.listNamespacedPod({
      namespace: 'shop',
      labelSelector: 'app=checkout',
    });
    expect(checkoutUntouched.items.map(containerNames)).toEqual([{ containers: ['app'], init: [] }]);

    const dpc = (await apis.custom.listClusterCustomObject({
      group: 'mesh.cloud.google.com',
      version: 'v1beta1',
      plural: 'dataplanecontrols',
    })) as { items: Array<{ spec: { revision: string; proxyVersion: string }; status: { state: string } }> };
    expect(dpc.items.map((item) => [item.spec.revision, item.status.state])).toEqual([
      ['asm-managed', 'Ready'],
    ]);
    const cpr = (await apis.custom.listNamespacedCustomObject({
      group: 'mesh.cloud.google.com',
      version: 'v1beta1',
      namespace: 'istio-system',
      plural: 'controlplanerevisions',
    })) as { items: Array<{ metadata: { name: string } }> };
    expect(cpr.items.map((i) => i.metadata.name)).toEqual(['asm-managed']);
  });

  it('injects the in-cluster istiod revision for istio.io/rev, and istio-injection wins when both are set', async () => {
    const istiod = await apis.core.listNamespacedPod({
      namespace: 'istio-system',
      labelSelector: 'app=istiod,istio.io/rev=asm-1115-3',
    });
    expect(istiod.items).toHaveLength(2);

    await apis.core.patchNamespace(
      {
        name: 'default',
        body: { metadata: { labels: { 'istio-injection': null, 'istio.io/rev': 'asm-1115-3' } } },
      },
      mergePatch,
    );
    await restart(apis, 'default', 'web');
    sim.clock.advance(2000);
    const revPods = await apis.core.listNamespacedPod({ namespace: 'default' });
    expect(revPods.items.map((p) => p.spec?.containers[1]?.image)).toEqual([
      'gcr.io/gke-release/asm/proxyv2:1.11.5-asm.3',
      'gcr.io/gke-release/asm/proxyv2:1.11.5-asm.3',
    ]);

    await apis.core.patchNamespace(
      { name: 'default', body: { metadata: { labels: { 'istio-injection': 'enabled' } } } },
      mergePatch,
    );
    await restart(apis, 'default', 'web');
    sim.clock.advance(2000);
    const both = await apis.core.listNamespacedPod({ namespace: 'default' });
    expect(
      both.items.map(
        (p) => JSON.parse(p.metadata?.annotations?.['sidecar.istio.io/status'] ?? '{}') as unknown,
      ),
    ).toEqual([
      expect.objectContaining({ revision: 'asm-managed' }),
      expect.objectContaining({ revision: 'asm-managed' }),
    ]);

    await apis.core.patchNamespace(
      { name: 'default', body: { metadata: { labels: { 'istio-injection': 'disabled' } } } },
      mergePatch,
    );
    await restart(apis, 'default', 'web');
    sim.clock.advance(2000);
    const disabled = await apis.core.listNamespacedPod({ namespace: 'default' });
    expect(disabled.items.map(containerNames)).toEqual([
      { containers: ['app'], init: [] },
      { containers: ['app'], init: [] },
    ]);
  });

  it('rejects a patch that breaks the selector, and scales on replicas', async () => {
    const broken = await kubeErrorCode(
      apis.apps.patchNamespacedDeployment(
        {
          name: 'web',
          namespace: 'default',
          body: { spec: { template: { metadata: { labels: { app: 'other' } } } } },
        },
        mergePatch,
      ),
    );
    expect(broken.code).toBe(422);
    await apis.apps.patchNamespacedDeployment(
      { name: 'checkout', namespace: 'shop', body: { spec: { replicas: 3 } } },
      mergePatch,
    );
    expect(
      (await apis.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=checkout' })).items,
    ).toHaveLength(3);
    expect(sim.world.cluster(C1)?.deployments.find((d) => d.name === 'checkout')?.replicas).toBe(3);
  });

  it('lists PodDisruptionBudgets, events and configmaps', async () => {
    const pdbs = await rawRequest(sim, 'GET', '/apis/policy/v1/namespaces/shop/poddisruptionbudgets', {
      authorization: `Bearer ${sim.token}`,
    });
    expect(JSON.parse(pdbs.body)).toMatchObject({
      kind: 'PodDisruptionBudgetList',
      items: [{ metadata: { name: 'cart' }, spec: { minAvailable: 1 } }],
    });
    const events = await apis.core.listNamespacedEvent({
      namespace: 'shop',
      fieldSelector: 'reason=ScalingReplicaSet',
    });
    expect(events.items.length).toBeGreaterThan(0);
    const configMap = await apis.core.readNamespacedConfigMap({
      name: 'kube-root-ca.crt',
      namespace: 'default',
    });
    expect(configMap.data?.['ca.crt']).toContain('BEGIN CERTIFICATE');
    const badField = await kubeErrorCode(
      apis.core.listNamespacedPod({ namespace: 'shop', fieldSelector: 'spec.priority=1' }),
    );
    expect(badField.code).toBe(400);
  });

  it('answers injected faults as Status objects', async () => {
    sim.faults.add({
      api: 'kubernetes',
      status: 429,
      retryAfterSeconds: 2,
      pathIncludes: '/namespaces/shop',
    });
    const limited = await rawRequest(sim, 'GET', '/api/v1/namespaces/shop', {
      authorization: `Bearer ${sim.token}`,
    });
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body)).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    expect((await apis.core.readNamespace({ name: 'shop' })).metadata?.name).toBe('shop');
  });
});

describe('sim: native sidecars', () => {
  let sim: Sim;

  beforeAll(async () => {
    sim = await startSim({
      scenario: {
        projects: [{ id: 'proj-n', number: '111122223333' }],
        clusters: [
          {
            project: 'proj-n',
            location: 'us-west1',
            name: 'native',
            nativeSidecars: true,
            namespaces: [
              {
                name: 'app',
                labels: { 'istio-injection': 'enabled' },
                deployments: [{ name: 'api', replicas: 1 }],
              },
            ],
          },
        ],
      },
    });
    sim.clock.pause();
  });
  afterAll(() => sim.close());

  it('puts istio-proxy in initContainers with restartPolicy Always', async () => {
    const ref = 'proj-n/us-west1/native';
    await registerAndManage(sim, ref, 'native');
    sim.clock.advance(90000);
    const cluster = sim.world.cluster(ref);
    const apis = kubeApis(sim, ref);
    await restart(apis, 'app', 'api');
    sim.clock.advance(2000);
    const [pod] = (await apis.core.listNamespacedPod({ namespace: 'app' })).items;
    expect(pod && containerNames(pod)).toEqual({ containers: ['app'], init: ['istio-proxy'] });
    expect(pod?.spec?.initContainers?.[0]?.restartPolicy).toBe('Always');
    expect(pod?.status?.initContainerStatuses?.[0]?.ready).toBe(true);
    expect(cluster?.pods.map((p) => p.ready)).toEqual([true]);
  });
});
