/**
 * The dry-run decorator lets only reads reach the real adapters; every other method of every port
 * records the call it would make instead. A method added to a port must be added to the decorator
 * (tsc: each of its classes implements its port) and to this test, as a read below or with sample
 * arguments: a method this test does not know fails it, and one that passes a change through fails it.
 */
import { recordChanges } from '../../src/cloud/dryRun.js';
import { enableClusterWorkflow } from '../../src/workflows/enableCluster.js';
import { advance } from '../../src/workflows/engine.js';
import type { CloudPorts, ClusterInfo, Membership } from '../../src/workflows/ports.js';
import { startRun } from '../../src/workflows/registry.js';
import type { RunRecord } from '../../src/workflows/run.js';
import { FakeClock, FakeWorld } from '../support/fakes.js';

const ref = { project: 'proj-a', location: 'us-central1', name: 'c1' };
const c1 = 'projects/proj-a/locations/us-central1/memberships/c1';

/**
 * What a dry run may ask of a real adapter: reads, and the cluster client the factory hands over
 * (`kube` is the KubeFactory port, `cluster` the Kube it gives).
 */
const READS: Record<string, readonly string[]> = {
  gke: ['getCluster', 'listClusters'],
  projects: ['projectNumber', 'iamBindings'],
  services: ['disabled'],
  fleet: ['listMemberships', 'readMeshFeature', 'findMembership', 'meshState'],
  operations: ['status'],
  kube: ['forCluster'],
  cluster: [
    'getNamespace',
    'listNamespaces',
    'listControlPlaneRevisions',
    'listDataPlaneControls',
    'sampleProxyPods',
    'listUpgradeFailures',
    'listPods',
    'listWorkloads',
    'listIstiods',
    'countPodDisruptionBudgets',
    'getConfigMap',
  ],
};

/** Arguments to call each method with; the changes are ones the world below does not have yet. */
const SAMPLES: Record<string, unknown[]> = {
  'gke.getCluster': [ref],
  'gke.listClusters': ['proj-a'],
  'gke.setResourceLabels': [ref, { mesh_id: 'proj-123' }],
  'gke.removeResourceLabels': [ref, ['team']],
  'projects.projectNumber': ['proj-a'],
  'projects.iamBindings': ['proj-a'],
  'services.disabled': ['proj-a', ['mesh.googleapis.com', 'gkehub.googleapis.com']],
  'services.batchEnable': ['proj-a', ['mesh.googleapis.com', 'gkehub.googleapis.com']],
  'fleet.listMemberships': ['proj-a'],
  'fleet.readMeshFeature': ['proj-a'],
  'fleet.findMembership': ['proj-a', ref, '123'],
  'fleet.meshState': ['proj-a', c1, '123'],
  'fleet.createMembership': ['proj-a', 'us-central1', 'c9', { ...ref, name: 'c9' }, true],
  'fleet.deleteMembership': [c1],
  'fleet.enableMeshFeature': ['proj-a'],
  'fleet.setMeshManagement': ['proj-a', c1, 'MANAGEMENT_AUTOMATIC'],
  'operations.status': [{ api: 'gkehub', name: 'operations/real-1' }],
  'kube.forCluster': [{ endpoint: '10.0.0.1', caCertificate: '' }],
  'cluster.getNamespace': ['shop'],
  'cluster.listNamespaces': [],
  'cluster.listControlPlaneRevisions': [],
  'cluster.listDataPlaneControls': [],
  'cluster.sampleProxyPods': [10],
  'cluster.listUpgradeFailures': [],
  'cluster.listPods': ['shop'],
  'cluster.listWorkloads': ['shop', ['Deployment']],
  'cluster.listIstiods': [],
  'cluster.countPodDisruptionBudgets': ['shop'],
  'cluster.patchNamespaceLabels': ['shop', { 'istio-injection': 'enabled', 'istio.io/rev': null }],
  'cluster.restartWorkload': [{ kind: 'Deployment', name: 'cart', namespace: 'shop', replicas: 2 }, 'now'],
  'cluster.getConfigMap': ['istio-system', 'istio-asm-managed'],
  'cluster.patchConfigMapData': [
    'istio-system',
    'istio-asm-managed',
    { mesh: 'accessLogFile: /dev/stdout\n' },
    '1001',
  ],
  'cluster.createConfigMap': [
    'istio-system',
    'istio-asm-managed-rapid',
    { mesh: 'accessLogFile: /dev/stdout\n' },
  ],
};

const cluster: ClusterInfo = {
  status: 'RUNNING',
  releaseChannel: 'REGULAR',
  workloadPool: 'proj-a.svc.id.goog',
  autopilot: true,
  endpoint: '10.0.0.1',
  caCertificate: '',
  resourceLabels: { team: 'platform' },
  labelFingerprint: 'f1',
  masterVersion: '1.31',
  nodePools: [],
  fleet: null,
};
const membership: Membership = {
  name: c1,
  resourceLink: '//container.googleapis.com/projects/proj-a/locations/us-central1/clusters/c1',
  state: 'READY',
};

/** What the fake adapters answer, by `port.method`; anything else answers undefined. */
const ANSWERS: Record<string, unknown> = {
  'gke.getCluster': cluster,
  'gke.listClusters': [],
  'projects.projectNumber': '123',
  'projects.iamBindings': [],
  'services.disabled': ['mesh.googleapis.com', 'gkehub.googleapis.com'],
  'fleet.listMemberships': [membership],
  'fleet.readMeshFeature': { enabled: false, memberships: {} },
  'fleet.findMembership': membership,
  'fleet.meshState': null,
  'operations.status': { done: false },
  'cluster.getNamespace': { name: 'shop', labels: {} },
  'cluster.listNamespaces': [],
  'cluster.listPods': [],
  'cluster.listWorkloads': [],
  'cluster.listIstiods': [],
  'cluster.countPodDisruptionBudgets': 0,
  'cluster.getConfigMap': null,
};

/** Adapters that answer anything and write down every method anyone reached on them. */
function fakePorts(reached: string[], answers: Record<string, unknown> = ANSWERS): CloudPorts {
  const port = (name: string): unknown =>
    new Proxy(
      {},
      {
        get:
          (_target, method) =>
          (..._args: unknown[]) => {
            const key = `${name}.${String(method)}`;
            reached.push(key);
            if (key === 'kube.forCluster') return port('cluster');
            return Promise.resolve(answers[key]);
          },
      },
    );
  return {
    gke: port('gke'),
    projects: port('projects'),
    services: port('services'),
    fleet: port('fleet'),
    operations: port('operations'),
    kube: port('kube'),
  } as CloudPorts;
}

/** A wrapped port's own methods: those of its class. */
function methodsOf(wrapped: object): string[] {
  return Object.getOwnPropertyNames(Object.getPrototypeOf(wrapped)).filter((n) => n !== 'constructor');
}

describe('the dry-run decorator', () => {
  it('passes every read through, records every other method of every port, and changes nothing', async () => {
    const reached: string[] = [];
    const rehearsal = recordChanges(fakePorts(reached), ref, []);
    const wrapped: Record<string, object> = {
      ...rehearsal.ports,
      cluster: rehearsal.ports.kube.forCluster({ endpoint: '10.0.0.1', caCertificate: '' }),
    };
    // Every port the decorator wraps is known here (a new port needs its reads listed).
    expect(Object.keys(wrapped).sort()).toEqual(Object.keys(READS).sort());
    const covered: string[] = [];
    for (const [name, port] of Object.entries(wrapped)) {
      for (const method of methodsOf(port)) {
        const key = `${name}.${method}`;
        const args = SAMPLES[key];
        if (!args) throw new Error(`${key} is new: list it in READS or give it SAMPLES`);
        reached.length = 0;
        const before = rehearsal.recorded().length;
        await (port as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
        const recorded = rehearsal.recorded().slice(before);
        // Whatever a method asks of the real adapters, it is only ever a read.
        const notReads = reached.filter((asked) => {
          const [port, called] = asked.split('.') as [string, string];
          return !READS[port]?.includes(called);
        });
        expect([key, notReads]).toEqual([key, []]);
        if (READS[name]!.includes(method)) {
          expect([key, reached]).toEqual([key, expect.arrayContaining([key])]);
          expect([key, recorded]).toEqual([key, []]);
        } else {
          expect([key, reached.includes(key)]).toEqual([key, false]);
          expect([key, recorded.length]).toEqual([key, 1]);
          const [call] = recorded;
          expect(call?.method).toMatch(/^(POST|PATCH|PUT|DELETE)$/);
          expect(call?.path).toMatch(/^\/(v1|api|apis)\//);
          expect(call?.resource).not.toBe('');
          expect(call?.change).not.toBe('');
        }
        covered.push(key);
      }
    }
    // The lists name nothing that is not there any more.
    for (const [name, reads] of Object.entries(READS))
      for (const method of reads) expect(covered).toContain(`${name}.${method}`);
    expect(covered.filter((k) => !READS[k.split('.')[0]!]!.includes(k.split('.')[1]!)).sort()).toEqual([
      'cluster.createConfigMap',
      'cluster.patchConfigMapData',
      'cluster.patchNamespaceLabels',
      'cluster.restartWorkload',
      'fleet.createMembership',
      'fleet.deleteMembership',
      'fleet.enableMeshFeature',
      'fleet.setMeshManagement',
      'gke.removeResourceLabels',
      'gke.setResourceLabels',
      'services.batchEnable',
    ]);
  });

  it('answers as the API would: pretended operations done, the change already so is none, a taken name refused', async () => {
    const reached: string[] = [];
    const { ports, recorded } = recordChanges(fakePorts(reached), ref, []);
    const operation = await ports.services.batchEnable('proj-a', ['mesh.googleapis.com']);
    expect(await ports.operations.status(operation)).toEqual({ done: true });
    expect(await ports.services.disabled('proj-a', ['mesh.googleapis.com', 'gkehub.googleapis.com'])).toEqual(
      ['gkehub.googleapis.com'],
    );
    expect(await ports.gke.setResourceLabels(ref, { team: 'platform' })).toBeNull();
    expect(await ports.gke.removeResourceLabels(ref, ['mesh_id'])).toBeNull();
    await expect(
      ports.fleet.createMembership('proj-a', 'us-central1', 'c1', ref, true),
    ).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    // Deleted in the plan: the later steps no longer find it.
    await ports.fleet.deleteMembership(c1);
    expect(await ports.fleet.findMembership('proj-a', ref, '123')).toBeNull();
    expect(await ports.fleet.deleteMembership(c1)).toBeNull();
    expect(recorded().map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v1/projects/proj-a/services:batchEnable',
      `DELETE /v1/${c1}`,
    ]);
  });

  it('sees what the earlier steps of the same dry run would have created', async () => {
    const reached: string[] = [];
    // A cluster not in the fleet yet, in a fleet without the servicemesh feature.
    const world = { ...ANSWERS, 'fleet.findMembership': null };
    const first = recordChanges(fakePorts(reached, world), { ...ref, name: 'c9' }, []);
    await first.ports.fleet.createMembership('proj-a', 'us-central1', 'c9', { ...ref, name: 'c9' }, true);
    await first.ports.fleet.enableMeshFeature('proj-a');
    const later = recordChanges(fakePorts(reached, world), { ...ref, name: 'c9' }, first.recorded());
    expect(await later.ports.fleet.findMembership('proj-a', { ...ref, name: 'c9' }, '123')).toMatchObject({
      name: 'projects/proj-a/locations/us-central1/memberships/c9',
    });
    expect((await later.ports.fleet.readMeshFeature('proj-a')).enabled).toBe(true);
    expect(await later.ports.fleet.enableMeshFeature('proj-a')).toBeNull();
  });
});

describe('a dry run through the engine', () => {
  function dryRun(): RunRecord {
    return startRun('enable-cluster', {
      id: 'rdry1',
      now: 1_700_000_000_000,
      requester: { userId: 'UREQ', channelId: 'C1' },
      cluster: ref,
      options: { namespaces: ['default'], restart: true },
      dryRun: true,
    });
  }

  it('goes through every step without waiting or asking, records the changes and makes none', async () => {
    const world = new FakeWorld();
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let run = dryRun();
    for (let i = 0; i < 100; i++) {
      const advanced = await advance(run, enableClusterWorkflow, deps);
      run = advanced.run;
      if (advanced.then.type === 'stop') break;
      // A dry run never parks: nothing it waits for was turned on.
      expect(advanced.then.type === 'park' && advanced.then.wakeAt > clock.now()).toBe(false);
    }
    expect(run.status).toBe('succeeded');
    expect(world.calls).toEqual([]);
    expect(world.approvalsAsked).toEqual([]);
    expect(world.messages).toEqual([]);
    expect(run.dryRun?.calls.map((c) => `${c.step} ${c.method} ${c.path}`)).toEqual([
      'register POST /v1/projects/proj-a/locations/us-central1/memberships?membershipId=c1',
      'label POST /v1/projects/proj-a/locations/us-central1/clusters/c1:setResourceLabels',
      'manage PATCH /v1/projects/proj-a/locations/global/features/servicemesh?updateMask=membershipSpecs',
      'inject PATCH /api/v1/namespaces/default',
      'restart PATCH /apis/apps/v1/namespaces/default/deployments/web',
    ]);
    expect(run.dryRun?.waits.map((w) => w.step)).toEqual(['controlPlane', 'dataPlane', 'verify']);
    expect(run.dryRun?.approval).toEqual({ step: 'approval', required: 1, approvers: ['UAPP'] });
    expect(run.outcome?.message).toBe(
      'Dry run: nothing was changed. A real run would make 5 change(s) and wait 4 time(s).',
    );
  });
});
