/**
 * A fleet host's service agents on a member cluster's project, over the wire: the GKE Hub agent's role
 * is checked when the membership is created; the Cloud Service Mesh agent's is not checked on the PATCH
 * (Google takes it) but shows in the membership's servicemesh state, as `gcloud container fleet mesh
 * describe` shows it, until the role is granted.
 */
import { startSim, type Sim } from '../../src/sim/index.js';
import { namedScenario } from '../../src/sim/scenarios.js';
import { call, resourceLink, type Json } from './helpers.js';

const HOST = 'fleet-host';
const HOST_NUMBER = '555000111222';
const C2 = 'proj-b/europe-west1/c2';
const meshAgent = `serviceAccount:service-${HOST_NUMBER}@gcp-sa-servicemesh.iam.gserviceaccount.com`;

describe('sim: a fleet host’s Cloud Service Mesh agent without its role on the cluster’s project', () => {
  let sim: Sim;
  beforeAll(async () => {
    const base = namedScenario('default');
    sim = await startSim({
      scenario: {
        projects: [
          ...base.projects.map((p) =>
            p.id === 'proj-b'
              ? {
                  ...p,
                  iamBindings: [
                    {
                      role: 'roles/gkehub.serviceAgent',
                      members: [
                        `serviceAccount:service-${HOST_NUMBER}@gcp-sa-gkehub.iam.gserviceaccount.com`,
                      ],
                    },
                  ],
                }
              : p,
          ),
          { id: HOST, number: HOST_NUMBER, displayName: 'Fleet host' },
        ],
        clusters: base.clusters.map((c) => (c.name === 'c2' ? { ...c, workloadIdentity: true } : c)),
      },
    });
    sim.clock.pause();
  });
  afterAll(() => sim.close());

  const stateOf = async (): Promise<Json> => {
    const feature = (
      await call(sim, 'gkehub', 'GET', `v1/projects/${HOST}/locations/global/features/servicemesh`)
    ).body;
    const states = feature.membershipStates as Record<string, { servicemesh: Json }>;
    return states[`projects/${HOST_NUMBER}/locations/europe-west1/memberships/c2`]!.servicemesh;
  };

  it('takes the PATCH, then reports FAILED_PRECONDITION with MESH_IAM_PERMISSION_DENIED; once granted, provisions', async () => {
    const created = await call(
      sim,
      'gkehub',
      'POST',
      `v1/projects/${HOST}/locations/europe-west1/memberships?membershipId=c2`,
      { endpoint: { gkeCluster: { resourceLink: resourceLink(C2) } } },
    );
    expect(created.status).toBe(200);
    sim.clock.advance(sim.world.timings.membershipCreate);
    await call(
      sim,
      'gkehub',
      'POST',
      `v1/projects/${HOST}/locations/global/features?featureId=servicemesh`,
      {},
    );
    const patched = await call(
      sim,
      'gkehub',
      'PATCH',
      `v1/projects/${HOST}/locations/global/features/servicemesh?updateMask=membershipSpecs`,
      {
        membershipSpecs: {
          [`projects/${HOST}/locations/europe-west1/memberships/c2`]: {
            mesh: { management: 'MANAGEMENT_AUTOMATIC' },
          },
        },
      },
    );
    expect(patched.status).toBe(200);

    sim.clock.advance(sim.world.timings.controlPlaneProvisioningAfter);
    const denied = await stateOf();
    expect(denied.controlPlaneManagement).toMatchObject({
      state: 'FAILED_PRECONDITION',
      details: [{ code: 'REVISION_FAILED_PRECONDITION' }],
    });
    const conditions = denied.conditions as Array<{ code: string; severity: string; details: string }>;
    expect(conditions.map((c) => [c.code, c.severity])).toEqual([['MESH_IAM_PERMISSION_DENIED', 'ERROR']]);
    expect(conditions[0]!.details).toContain(
      `${meshAgent.replace('serviceAccount:', '')} is missing the required IAM role roles/anthosservicemesh.serviceAgent on project proj-b`,
    );

    sim.world.project('proj-b')!.iamBindings.push({
      role: 'roles/anthosservicemesh.serviceAgent',
      members: [meshAgent],
    });
    sim.clock.advance(sim.world.timings.controlPlaneActiveAfter);
    const granted = await stateOf();
    expect(granted.controlPlaneManagement).toMatchObject({ state: 'ACTIVE' });
    expect(granted.conditions ?? []).toEqual([]);
  });
});
