/**
 * A fleet host project (issue 21 item 3): clusters of proj-* join the fleet of `fleet-host`, as config
 * fleet.hostProjects says (or `fleet=HOST` on the command). The membership and the servicemesh
 * feature live in the host project, `mesh_id` carries the host's number, preflight checks the host's
 * services and the grants its service agents need on the cluster's project, and status reads the
 * host's fleet. Every call is asserted on the emulator's request log.
 */
import type { Scenario } from '../../src/sim/index.js';
import { namedScenario } from '../../src/sim/scenarios.js';
import { ask, enableAndApprove, latestThreadOf, slash, threadOf } from '../support/flows.js';
import { startHarness, type Harness } from '../support/harness.js';
import { getCluster, listMemberships } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';
const C2 = 'proj-b/europe-west1/c2';
const HOST = 'fleet-host';
const HOST_NUMBER = '555000111222';

function hostedWorld(): Scenario {
  const base = namedScenario('default');
  const grants = [
    {
      role: 'roles/gkehub.serviceAgent',
      members: [`serviceAccount:service-${HOST_NUMBER}@gcp-sa-gkehub.iam.gserviceaccount.com`],
    },
    {
      role: 'roles/anthosservicemesh.serviceAgent',
      members: [`serviceAccount:service-${HOST_NUMBER}@gcp-sa-servicemesh.iam.gserviceaccount.com`],
    },
  ];
  return {
    // proj-a grants the host's agents their roles; proj-b does not.
    projects: [
      ...base.projects.map((p) => (p.id === 'proj-a' ? { ...p, iamBindings: grants } : p)),
      { id: HOST, number: HOST_NUMBER, displayName: 'Fleet host' },
    ],
    // c2 with Workload Identity, so the grants are what stops it.
    clusters: base.clusters.map((c) => (c.name === 'c2' ? { ...c, workloadIdentity: true } : c)),
  };
}

describe('a fleet host project', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      { scenario: hostedWorld() },
      { config: { fleet: { hostProjects: [{ projects: 'proj-*', host: HOST }] } } },
    );
  });
  afterAll(async () => {
    await h?.stop();
  });

  const googleMutations = () =>
    h.sim.requests
      .mutations()
      .filter((e) => e.api !== 'kubernetes')
      .map((e) => `${e.method} ${e.path}`);

  it('registers the cluster in the host’s fleet, labels it with the host’s number and runs the mesh there', async () => {
    h.sim.requests.clear();
    await enableAndApprove(h.app.url, h.sim, C1, 'default');

    const mutations = googleMutations();
    expect(mutations).toEqual(
      expect.arrayContaining([
        `POST /v1/projects/${HOST}/locations/us-central1/memberships`,
        `POST /v1/projects/${HOST}/locations/global/features`,
        `PATCH /v1/projects/${HOST}/locations/global/features/servicemesh`,
        'POST /v1/projects/proj-a/locations/us-central1/clusters/c1:setResourceLabels',
      ]),
    );
    // Nothing of the fleet in the cluster's own project.
    expect(mutations.filter((m) => m.includes('/projects/proj-a/') && !m.includes('/clusters/'))).toEqual([]);
    // Preflight read the cluster project's policy for the host's grants.
    expect(
      h.sim.requests.count({ api: 'resourcemanager', pathIncludes: '/v3/projects/proj-a:getIamPolicy' }),
    ).toBe(1);

    const [membership] = await listMemberships(h.sim, HOST);
    expect(membership?.name).toBe(`projects/${HOST}/locations/us-central1/memberships/c1`);
    expect(membership?.endpoint?.gkeCluster?.resourceLink).toBe(
      '//container.googleapis.com/projects/proj-a/locations/us-central1/clusters/c1',
    );
    expect(await listMemberships(h.sim, 'proj-a')).toEqual([]);
    expect((await getCluster(h.sim, C1)).resourceLabels?.mesh_id).toBe(`proj-${HOST_NUMBER}`);

    const thread = threadOf(h.sim, C1).map((m) => m.text);
    expect(thread.join('\n')).toContain(`fleet host ${HOST}`);
  });

  it('shows the cluster’s mesh from the host’s fleet in status', async () => {
    const answer = await ask(h.app.url, h.sim, `status ${C1}`);
    const text = `${answer.text}\n${JSON.stringify(answer.blocks ?? [])}`;
    expect(text).toContain(`Cloud Service Mesh on ${C1}: control plane ACTIVE, data plane ACTIVE`);
    expect(text).toContain('MANAGEMENT_AUTOMATIC');
  });

  it('reads the fleet that fleet= names on status, over config', async () => {
    h.sim.requests.clear();
    const own = await ask(h.app.url, h.sim, `status ${C1} fleet=proj-a`);
    expect(own.text).toBe(
      `:information_source: \`${C1}\` is not registered in the fleet of proj-a, so it has no managed Cloud Service Mesh. To put it on the mesh: \`/mesh enable cluster ${C1} fleet=proj-a\``,
    );
    const fleetReads = () =>
      h.sim.requests.entries({ api: 'gkehub' }).map((e) => e.path.replace(/\?.*$/, ''));
    expect(fleetReads()).toEqual(
      expect.arrayContaining([
        '/v1/projects/proj-a/locations/-/memberships',
        '/v1/projects/proj-a/locations/global/features/servicemesh',
      ]),
    );
    // (The host's fleet is read meanwhile too: the channel watches c1 since its run, by config.)

    h.sim.requests.clear();
    const hosted = await ask(h.app.url, h.sim, `status ${C1} fleet=${HOST}`);
    expect(`${hosted.text}\n${JSON.stringify(hosted.blocks ?? [])}`).toContain(
      `Cloud Service Mesh on ${C1}: control plane ACTIVE, data plane ACTIVE`,
    );
    expect(fleetReads()).toEqual(
      expect.arrayContaining([`/v1/projects/${HOST}/locations/global/features/servicemesh`]),
    );
  });

  it('refuses options status does not take', async () => {
    expect((await slash(h.app.url, `status ${C1} fleet=Not_A_Project`)).text).toContain(
      '`fleet=` takes a project ID',
    );
    expect((await slash(h.app.url, `status ${C1} restart=true`)).text).toContain('unknown option `restart=`');
  });

  it('stops before any change when the host’s agents lack their roles on the cluster’s project, with the grants to make', async () => {
    h.sim.requests.clear();
    const ack = await slash(h.app.url, `enable cluster ${C2}`);
    expect(ack.text).toMatch(/^:inbox_tray: Queued run/);
    const failed = await waitFor('the run to fail', () =>
      latestThreadOf(h.sim, C2).find((m) => m.text.includes('CROSS_PROJECT_PERMISSION')),
    );
    const text = `${failed.text}\n${JSON.stringify(failed.blocks ?? [])}`;
    expect(text).toContain(`the fleet host ${HOST} cannot act on proj-b`);
    // Each grant a command in a code span of its own, to copy one at a time.
    expect(text).toContain(
      `grant them: \`gcloud projects add-iam-policy-binding proj-b --member serviceAccount:service-${HOST_NUMBER}@gcp-sa-gkehub.iam.gserviceaccount.com --role roles/gkehub.serviceAgent\` and \`gcloud`,
    );
    expect(text).toContain(
      `--member serviceAccount:service-${HOST_NUMBER}@gcp-sa-servicemesh.iam.gserviceaccount.com --role roles/anthosservicemesh.serviceAgent`,
    );
    expect(googleMutations()).toEqual([]);
    expect(await listMemberships(h.sim, HOST)).toHaveLength(1);
  });

  it('takes fleet=PROJECT over config: a dry run plans the registration in the project named', async () => {
    h.sim.requests.clear();
    const ack = await slash(h.app.url, `enable cluster ${C2} fleet=proj-b dry-run=true`);
    expect(ack.text).toMatch(/^:test_tube: Queued dry run/);
    const plan = await waitFor('the plan', () =>
      h.sim.slack
        .messages()
        .find((m) => m.text.startsWith('Dry run of') && JSON.stringify(m.blocks).includes(C2)),
    );
    const blocks = JSON.stringify(plan.blocks ?? []);
    expect(blocks).toContain('POST /v1/projects/proj-b/locations/europe-west1/memberships');
    expect(blocks).not.toContain(`/projects/${HOST}/`);
    // The command it offers to run for real keeps fleet=: a copy of it joins the same fleet.
    expect(plan.text).toMatch(new RegExp(`^Dry run of /mesh enable cluster ${C2} fleet=proj-b:`));
    expect(blocks).toContain(`do it: \`/mesh enable cluster ${C2} fleet=proj-b\``);
    expect(googleMutations()).toEqual([]);
  });

  it('answers a fleet= that is no project ID with the reason, and starts nothing', async () => {
    const ack = await slash(h.app.url, `enable cluster ${C1} fleet=Not_A_Project`);
    expect(ack.text).toContain('`fleet=` takes a project ID');
  });
});

describe('a private cluster in a fleet host’s fleet, through Connect Gateway', () => {
  let h: Harness;
  const GATEWAY_PREFIX = `/v1/projects/${HOST_NUMBER}/locations/us-central1/gkeMemberships/c1/`;
  beforeAll(async () => {
    const world = hostedWorld();
    h = await startHarness(
      {
        scenario: {
          ...world,
          clusters: (world.clusters ?? []).map((c) =>
            c.name === 'c1' ? { ...c, privateEndpoint: true } : c,
          ),
        },
      },
      { config: { fleet: { hostProjects: [{ projects: 'proj-*', host: HOST }] } } },
    );
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('registers it in the host’s fleet and reaches it only through the gateway at the host’s number', async () => {
    h.sim.requests.clear();
    await enableAndApprove(h.app.url, h.sim, C1, 'default,shop');

    const mutations = h.sim.requests
      .mutations()
      .filter((e) => e.api === 'gkehub' || e.api === 'container')
      .map((e) => `${e.method} ${e.path}`);
    expect(mutations).toEqual(
      expect.arrayContaining([
        `POST /v1/projects/${HOST}/locations/us-central1/memberships`,
        `PATCH /v1/projects/${HOST}/locations/global/features/servicemesh`,
        'POST /v1/projects/proj-a/locations/us-central1/clusters/c1:setResourceLabels',
      ]),
    );
    expect(mutations.filter((m) => m.includes('/projects/proj-a/') && !m.includes('/clusters/'))).toEqual([]);
    expect(await listMemberships(h.sim, 'proj-a')).toEqual([]);
    expect((await getCluster(h.sim, C1)).resourceLabels?.mesh_id).toBe(`proj-${HOST_NUMBER}`);
    expect(h.sim.world.cluster(C1)?.namespace('shop')?.labels['istio-injection']).toBe('enabled');

    const calls = h.sim.requests.entries({ api: 'connectgateway', cluster: C1 });
    expect(calls.length).toBeGreaterThan(5);
    for (const call of calls) expect(call.path.startsWith(GATEWAY_PREFIX)).toBe(true);
    expect(calls.map((c) => `${c.method} ${c.path.slice(GATEWAY_PREFIX.length - 1)}`)).toEqual(
      expect.arrayContaining([
        'GET /api/v1/namespaces',
        'PATCH /api/v1/namespaces/shop',
        'PATCH /apis/apps/v1/namespaces/shop/deployments/cart',
      ]),
    );
    expect(calls.every((c) => c.status < 400)).toBe(true);
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: C1 })).toBe(0);
  });

  it('answers /mesh status from the host’s fleet, through the gateway', async () => {
    const before = h.sim.requests.entries({ api: 'connectgateway', cluster: C1 }).length;
    const answer = await ask(h.app.url, h.sim, `status ${C1}`);
    const text = `${answer.text}\n${JSON.stringify(answer.blocks ?? [])}`;
    expect(text).toContain(`Cloud Service Mesh on ${C1}: control plane ACTIVE, data plane ACTIVE`);
    expect(text).toContain(`projects/${HOST}/locations/us-central1/memberships/c1`);
    expect(text).toContain('`shop` (istio-injection=enabled)');
    expect(text).not.toContain('could not be read');
    const after = h.sim.requests.entries({ api: 'connectgateway', cluster: C1 }).slice(before);
    expect(after.length).toBeGreaterThan(0);
    for (const call of after) expect(call.path.startsWith(GATEWAY_PREFIX)).toBe(true);
    expect(h.sim.requests.count({ api: 'kubernetes', cluster: C1 })).toBe(0);
  });
});

describe('a fleet host’s Cloud Service Mesh agent without its role on the cluster’s project', () => {
  let h: Harness;
  beforeAll(async () => {
    const world = hostedWorld();
    h = await startHarness(
      {
        scenario: {
          ...world,
          // proj-b lets the host's GKE Hub agent register c2, but not its Cloud Service Mesh agent provision.
          projects: (world.projects ?? []).map((p) =>
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
        },
      },
      { config: { fleet: { hostProjects: [{ projects: 'proj-*', host: HOST }] } } },
    );
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('is taken by Google (the PATCH succeeds), and the run stops on the polled FAILED_PRECONDITION with the grant, not at its timeout', async () => {
    // meshops may not read proj-b's IAM policy: preflight's grant check is skipped.
    h.sim.faults.add({
      api: 'resourcemanager',
      status: 403,
      rate: 1,
      pathIncludes: ':getIamPolicy',
      permission: 'resourcemanager.projects.getIamPolicy',
    });
    h.sim.requests.clear();
    const ack = await slash(h.app.url, `enable cluster ${C2}`);
    expect(ack.text).toMatch(/^:inbox_tray: Queued run/);
    const failed = await waitFor('the run to fail', () =>
      latestThreadOf(h.sim, C2).find((m) => m.text.startsWith(':x: Failed')),
    );
    const text = `${failed.text}\n${JSON.stringify(failed.blocks ?? [])}`;
    expect(text).toContain('CROSS_PROJECT_PERMISSION');
    expect(text).toContain(
      `Control plane FAILED_PRECONDITION: the fleet host ${HOST}'s Cloud Service Mesh service agent cannot provision on proj-b`,
    );
    expect(text).toContain('condition MESH_IAM_PERMISSION_DENIED');
    expect(text).toContain(
      `gcloud projects add-iam-policy-binding proj-b --member serviceAccount:service-${HOST_NUMBER}@gcp-sa-servicemesh.iam.gserviceaccount.com --role roles/anthosservicemesh.serviceAgent`,
    );
    // Only the missing grant is asked for: the GKE Hub agent has its role.
    expect(text).not.toContain('roles/gkehub.serviceAgent');

    // The check was skipped, not failed; registration and management went through.
    const iamReads = h.sim.requests
      .entries({ api: 'resourcemanager' })
      .filter((e) => e.path.includes('proj-b:getIamPolicy'));
    expect(iamReads.length).toBeGreaterThan(0);
    expect(iamReads.every((e) => e.status === 403)).toBe(true);
    const patch = h.sim.requests
      .entries({ api: 'gkehub' })
      .find((e) => e.method === 'PATCH' && e.path.endsWith('/features/servicemesh'));
    expect(patch?.status).toBe(200);
    expect(await listMemberships(h.sim, HOST)).toHaveLength(1);

    // What the fleet reports, as gcloud container fleet mesh describe shows it.
    const state = h.sim.world.membershipState(HOST, `projects/${HOST}/locations/europe-west1/memberships/c2`);
    expect(state?.controlPlane).toBe('FAILED_PRECONDITION');
    expect(state?.controlPlaneDetails.map((d) => d.code)).toEqual(['REVISION_FAILED_PRECONDITION']);
    expect(state?.conditions.map((c) => [c.code, c.severity])).toEqual([
      ['MESH_IAM_PERMISSION_DENIED', 'ERROR'],
    ]);
  });
});
