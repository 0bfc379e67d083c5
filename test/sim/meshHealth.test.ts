import { startSim, type Sim } from '../../src/sim/index.js';
import { call, kubeApis, meshWithSidecars, registerAndManage, type Json, type KubeApis } from './helpers.js';

const C1 = 'proj-a/us-central1/c1';
const KEY = 'projects/123456789012/locations/global/memberships/c1';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

async function membershipState(sim: Sim, key = KEY): Promise<{ servicemesh: Json; state: Json }> {
  const feature = (
    await call(sim, 'gkehub', 'GET', 'v1/projects/proj-a/locations/global/features/servicemesh')
  ).body;
  const state = (feature.membershipStates as Record<string, { servicemesh: Json; state: Json }>)[key];
  if (!state) throw new Error(`no membership state for ${key}`);
  return state;
}

async function reconciled(apis: KubeApis): Promise<Condition | undefined> {
  const cpr = (await apis.custom.getNamespacedCustomObject({
    group: 'mesh.cloud.google.com',
    version: 'v1beta1',
    namespace: 'istio-system',
    plural: 'controlplanerevisions',
    name: 'asm-managed',
  })) as { status: { conditions: Condition[] } };
  return cpr.status.conditions.find((c) => c.type === 'Reconciled');
}

describe('sim: mesh health after provisioning', () => {
  let sim: Sim;
  let apis: KubeApis;

  beforeEach(async () => {
    sim = await startSim();
    sim.clock.pause();
    apis = await meshWithSidecars(sim, C1, 'c1', ['shop']);
  });
  afterEach(() => sim.close());

  it('degrades an ACTIVE control plane with the default condition, and recovers it', async () => {
    sim.world.degradeMesh(C1);
    const degraded = await membershipState(sim);
    expect(degraded.servicemesh).toEqual({
      controlPlaneManagement: {
        state: 'DEGRADED',
        implementation: 'ISTIOD',
        details: [{ code: 'REVISION_UNHEALTHY', details: 'Revision(s) reporting unhealthy: asm-managed' }],
      },
      // The proxies keep running: the data plane stays ACTIVE.
      dataPlaneManagement: { state: 'ACTIVE', details: [{ code: 'OK', details: 'Service is running.' }] },
      conditions: [
        {
          code: 'MESH_IAM_PERMISSION_DENIED',
          details: expect.stringContaining('roles/anthosservicemesh.serviceAgent') as unknown,
          documentationLink: expect.stringMatching(
            /^https:\/\/cloud\.google\.com\/service-mesh\//,
          ) as unknown,
          severity: 'ERROR',
        },
      ],
    });
    expect(degraded.state).toMatchObject({
      code: 'WARNING',
      description: 'Revision(s) reporting unhealthy: asm-managed.',
    });
    expect(await reconciled(apis)).toMatchObject({ status: 'False', reason: 'Unhealthy' });

    sim.world.recoverMesh(C1);
    const recovered = await membershipState(sim);
    expect(recovered.servicemesh.controlPlaneManagement).toEqual({
      state: 'ACTIVE',
      implementation: 'ISTIOD',
      details: [{ code: 'REVISION_READY', details: 'Ready: asm-managed' }],
    });
    expect(recovered.servicemesh.conditions).toBeUndefined();
    expect(recovered.state).toMatchObject({ code: 'OK' });
    expect(await reconciled(apis)).toMatchObject({ status: 'True', reason: 'Provisioned' });
  });

  it('takes a condition of the test’s own, filling what it leaves out from the default', async () => {
    sim.world.degradeMesh(C1, {
      code: 'CNI_CONFIG_UNSUPPORTED',
      details: 'The CNI plugin configuration is not supported.',
      severity: 'WARNING',
    });
    const { servicemesh } = await membershipState(sim);
    expect(servicemesh.conditions).toEqual([
      {
        code: 'CNI_CONFIG_UNSUPPORTED',
        details: 'The CNI plugin configuration is not supported.',
        documentationLink:
          'https://cloud.google.com/service-mesh/docs/troubleshooting/troubleshoot-with-feature-state-condition#mesh_iam_permission_denied',
        severity: 'WARNING',
      },
    ]);
    expect(await reconciled(apis)).toMatchObject({
      status: 'False',
      reason: 'Unhealthy',
      message: 'The CNI plugin configuration is not supported.',
    });
    // Injection still works while degraded.
    expect(sim.world.managedMesh(sim.world.cluster(C1)!)?.dataPlaneActive).toBe(true);
  });
});

describe('sim: degrading before the control plane is ACTIVE', () => {
  it('stays PROVISIONING until it would be ACTIVE; the provisioning-time degrade behaviour still works and recovers', async () => {
    const sim = await startSim();
    try {
      sim.clock.pause();
      await registerAndManage(sim, C1, 'c1');
      sim.world.degradeMesh(C1);
      sim.clock.advance(10_000);
      expect((await membershipState(sim)).servicemesh.controlPlaneManagement).toMatchObject({
        state: 'PROVISIONING',
      });
      sim.clock.advance(60_000);
      expect((await membershipState(sim)).servicemesh.controlPlaneManagement).toMatchObject({
        state: 'DEGRADED',
      });

      const sick = await sim.world.addCluster({
        project: 'proj-a',
        location: 'europe-west4',
        name: 'sick',
        mesh: { behaviour: 'degrade' },
      });
      await registerAndManage(sim, sick.ref, 'sick');
      sim.clock.advance(90_000);
      const sickKey = 'projects/123456789012/locations/global/memberships/sick';
      expect((await membershipState(sim, sickKey)).servicemesh).toMatchObject({
        controlPlaneManagement: { state: 'DEGRADED' },
        dataPlaneManagement: { state: 'FAILED_PRECONDITION' },
        conditions: [{ code: 'MESH_IAM_PERMISSION_DENIED' }],
      });
      sim.world.recoverMesh(sick.ref);
      expect((await membershipState(sim, sickKey)).servicemesh).toMatchObject({
        controlPlaneManagement: { state: 'ACTIVE' },
        dataPlaneManagement: { state: 'ACTIVE' },
      });
      expect((await membershipState(sim, sickKey)).servicemesh.conditions).toBeUndefined();
      const crds: unknown = await kubeApis(sim, sick.ref).custom.listNamespacedCustomObject({
        group: 'mesh.cloud.google.com',
        version: 'v1beta1',
        namespace: 'istio-system',
        plural: 'controlplanerevisions',
      });
      expect(crds).toMatchObject({ items: [{ metadata: { name: 'asm-managed' } }] });
    } finally {
      await sim.close();
    }
  });
});
