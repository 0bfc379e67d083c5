/**
 * Preflight end to end: every case the docs warn about, produced by the emulator, is found before any
 * change and reported together in the thread with its code, fix and doc link; the emulator's request
 * log shows no mutating call. With fleet.enableServices the missing services are enabled in one
 * batchEnable, its operation is awaited, and the run goes on.
 */
import type { Scenario, SlackMessage } from '../../src/sim/index.js';
import { defaultServices } from '../../src/sim/world.js';
import { enableAndApprove, latestThreadOf, slash, waitForReply } from '../support/flows.js';
import { CHANNEL, startHarness, type Harness } from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const STANDARD = 'proj-s/europe-west1/std';
const AUTOPILOT = 'proj-p/us-central1/ap';

const withoutMesh = defaultServices.filter(
  (s) => s !== 'mesh.googleapis.com' && s !== 'gkehub.googleapis.com',
);

const blockersWorld: Scenario = {
  projects: [
    { id: 'proj-s', number: '111111111111', services: withoutMesh },
    // Inside a perimeter that restricts the fleet's APIs: meshops calls from outside it.
    { id: 'proj-p', number: '222222222222', perimeter: { name: 'accessPolicies/1/servicePerimeters/mesh' } },
    { id: 'proj-other', number: '333333333333' },
  ],
  clusters: [
    {
      project: 'proj-s',
      location: 'europe-west1',
      name: 'std',
      autopilot: false,
      workloadIdentity: false,
      releaseChannel: 'RAPID',
      nodePools: [{ name: 'default-pool' }, { name: 'batch', workloadMetadata: 'GCE_METADATA' }],
    },
    {
      project: 'proj-p',
      location: 'us-central1',
      name: 'ap',
      releaseChannel: 'STABLE',
      registeredIn: { project: 'proj-other', membership: 'ap-old' },
      namespaces: [
        { name: 'default' },
        {
          name: 'istio-system',
          configMaps: [
            {
              name: 'asm-options',
              data: { ASM_OPTS: 'CA=PRIVATECA;CAAddr=projects/proj-p/locations/us-central1/caPools/mesh' },
            },
          ],
        },
      ],
    },
  ],
};

/** The failure reply of the run on `ref`, and every Google or Kubernetes mutation since the log was cleared. */
async function failedRun(h: Harness, ref: string): Promise<{ failed: SlackMessage; mutations: string[] }> {
  h.sim.requests.clear();
  expect((await slash(h.app.url, `enable cluster ${ref}`)).text).toMatch(/Queued run/);
  const failed = await waitForReply(h.sim, ':x: Failed', ref);
  return { failed, mutations: h.sim.requests.mutations().map((e) => `${e.method} ${e.path}`) };
}

describe('preflight', () => {
  let h: Harness;

  describe('blockers', () => {
    beforeAll(async () => {
      h = await startHarness(
        { scenario: blockersWorld },
        { config: { fleet: { enableServices: false }, mesh: { channel: 'stable', caPool: null } } },
      );
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('a Standard cluster: services off, Workload Identity off, node pools, a mesh channel other than its GKE channel', async () => {
      const { failed, mutations } = await failedRun(h, STANDARD);
      expect(mutations).toEqual([]);
      const text = failed.text;
      expect(text).toContain(':x: Failed at *Preflight');
      expect(text).toContain('4 blockers found before any change');
      expect(text).toContain(
        '`SERVICE_DISABLED` mesh.googleapis.com, gkehub.googleapis.com not enabled on proj-s',
      );
      expect(text).toContain(
        '*What to do:* gcloud services enable mesh.googleapis.com gkehub.googleapis.com --project proj-s',
      );
      expect(text).toContain('`WORKLOAD_IDENTITY_DISABLED` Workload Identity is not enabled on std');
      expect(text).toContain('--workload-pool=proj-s.svc.id.goog');
      expect(text).toContain(
        '`NODE_POOL_METADATA` node pool(s) default-pool (unset), batch (GCE_METADATA) of std',
      );
      expect(text).toContain(
        'gcloud container node-pools update batch --cluster std --location europe-west1 --project proj-s --workload-metadata=GKE_METADATA',
      );
      expect(text).toContain(
        '`MESH_CHANNEL_MISMATCH` config mesh.channel is stable, but the Fleet API gives std the rapid mesh channel',
      );
      expect(text).toContain('asmcli install --managed --channel stable');
      expect(text).toContain(
        '<https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity|docs>',
      );
      expect(text).toContain('<https://cloud.google.com/service-mesh/docs/asmcli-reference|docs>');
      expect(text).toContain(
        '<https://cloud.google.com/service-mesh/docs/onboarding/provision-control-plane|docs>',
      );
      expect(text).toContain('PREFLIGHT_BLOCKED');
    });

    it('an Autopilot cluster: in another fleet, a private CA, inside a VPC Service Controls perimeter', async () => {
      const { failed, mutations } = await failedRun(h, AUTOPILOT);
      expect(mutations).toEqual([]);
      const text = failed.text;
      expect(text).toContain('3 blockers found before any change');
      expect(text).toContain(
        '`REGISTERED_IN_ANOTHER_FLEET` ap is already registered in the fleet of project 333333333333 (membership projects/333333333333/locations/global/memberships/ap-old)',
      );
      expect(text).toContain(
        'gcloud container fleet memberships unregister ap-old --location global --project 333333333333 --gke-cluster us-central1/ap',
      );
      expect(text).toContain('<https://cloud.google.com/service-mesh/docs/supported-features-managed|docs>');
      expect(text).toContain(
        '`PRIVATE_CA_UNSUPPORTED` the asm-options ConfigMap in istio-system asks for mesh certificates from the private CA projects/proj-p/locations/us-central1/caPools/mesh; the Fleet API cannot configure a private CA',
      );
      expect(text).toContain('--ca gcp_cas --ca_pool projects/proj-p/locations/us-central1/caPools/mesh');
      expect(text).toContain(
        "`VPC_SERVICE_CONTROLS` proj-p is inside a VPC Service Controls perimeter that refuses meshops' calls",
      );
      expect(text).toContain('<https://cloud.google.com/service-mesh/docs/managed/vpc-sc|docs>');
      // What Google answered, as it answers a call from outside the perimeter.
      const refused = h.sim.requests.entries({ api: 'gkehub' }).filter((e) => e.status === 403);
      expect(refused.length).toBeGreaterThan(0);
      // Its fleet is out of meshops' reach (the emulator's own view): nothing was registered there.
      expect([...h.sim.world.memberships.keys()]).toEqual([
        'projects/proj-other/locations/global/memberships/ap-old',
      ]);
    });

    it('a dry run shows the same blockers in its plan and changes nothing', async () => {
      h.sim.requests.clear();
      expect((await slash(h.app.url, `enable cluster ${STANDARD} dry-run=true`)).text).toMatch(/dry run/);
      const plan = await waitFor('the dry run’s plan', () =>
        h.sim.slack
          .messages(CHANNEL)
          .find((m) => m.text.startsWith(`Dry run of /mesh enable cluster ${STANDARD}`)),
      );
      expect(plan.text).toContain('4 blockers found, nothing changed');
      const blocks = JSON.stringify(plan.blocks);
      for (const code of [
        'SERVICE_DISABLED',
        'WORKLOAD_IDENTITY_DISABLED',
        'NODE_POOL_METADATA',
        'MESH_CHANNEL_MISMATCH',
      ])
        expect(blocks).toContain(`\`${code}\``);
      expect(h.sim.requests.mutations()).toEqual([]);
    });
  });

  describe('fleet.enableServices', () => {
    afterEach(async () => {
      await h?.stop();
    });

    it('enables the missing services in one batchEnable, awaits its operation and goes on', async () => {
      const scenario: Scenario = {
        projects: [{ id: 'proj-e', number: '444444444444', services: withoutMesh }],
        clusters: [{ project: 'proj-e', location: 'us-central1', name: 'e1' }],
      };
      h = await startHarness({ scenario });
      const ref = 'proj-e/us-central1/e1';
      expect((await slash(h.app.url, `enable cluster ${ref}`)).text).toMatch(/Queued run/);
      await waitFor('the run to succeed', () =>
        latestThreadOf(h.sim, ref).find((m) => m.text.startsWith(':tada: Done.')),
      );
      const thread = latestThreadOf(h.sim, ref).map((m) => m.text);
      expect(thread).toContainEqual(
        expect.stringContaining(
          ':electric_plug: Enabling `mesh.googleapis.com`, `gkehub.googleapis.com` on proj-e (one batchEnable',
        ),
      );
      const log = h.sim.requests.entries({ api: 'serviceusage' });
      const enables = log.filter((e) => e.method === 'POST');
      expect(enables.map((e) => e.path)).toEqual(['/v1/projects/proj-e/services:batchEnable']);
      // Its operation was read until done before the fleet was touched.
      const firstFleetWrite = h.sim.requests.mutations({ api: 'gkehub' })[0]!;
      const operationReads = log.filter((e) => e.method === 'GET' && e.path.startsWith('/v1/operations/'));
      expect(operationReads.length).toBeGreaterThan(0);
      expect(operationReads.at(-1)!.at).toBeLessThanOrEqual(firstFleetWrite.at);
      expect(h.sim.world.project('proj-e')?.services.has('mesh.googleapis.com')).toBe(true);
      expect(await listMemberships(h.sim, 'proj-e')).toHaveLength(1);
    });
  });

  describe('Connect Gateway’s API, when the run reaches the cluster through it', () => {
    const PRIVATE = 'proj-g/us-central1/g1';
    const PUBLIC = 'proj-g/us-central1/g2';
    const gatewayOff: Scenario = {
      projects: [
        {
          id: 'proj-g',
          number: '555555555555',
          services: defaultServices.filter((s) => s !== 'connectgateway.googleapis.com'),
        },
      ],
      clusters: [
        { project: 'proj-g', location: 'us-central1', name: 'g1', privateEndpoint: true },
        { project: 'proj-g', location: 'us-central1', name: 'g2' },
      ],
    };
    const batchGets = () =>
      h.sim.requests
        .entries({ api: 'serviceusage' })
        .filter((e) => e.method === 'GET' && e.path.includes('services:batchGet'))
        .map((e) => `${e.path}?${decodeURIComponent(e.query)}`);

    afterEach(async () => {
      await h?.stop();
    });

    it('is asked for on the fleet project for a private-endpoint-only cluster, and its being off blocks the run; a public cluster does not need it', async () => {
      h = await startHarness({ scenario: gatewayOff }, { config: { fleet: { enableServices: false } } });
      const { failed, mutations } = await failedRun(h, PRIVATE);
      expect(mutations).toEqual([]);
      expect(failed.text).toContain(': connectgateway.googleapis.com not enabled on proj-g');
      expect(failed.text).toContain('SERVICE_DISABLED');
      expect(failed.text).toContain('gcloud services enable connectgateway.googleapis.com --project proj-g');
      expect(batchGets().some((p) => p.includes('/services/connectgateway.googleapis.com'))).toBe(true);
      // The gateway was not tried while its API is off.
      expect(h.sim.requests.count({ api: 'connectgateway' })).toBe(0);

      h.sim.requests.clear();
      expect((await slash(h.app.url, `enable cluster ${PUBLIC} namespaces=default`)).text).toMatch(
        /Queued run/,
      );
      // Preflight passed once the fleet is written to.
      await waitFor('the public cluster’s preflight to pass', () =>
        h.sim.requests.mutations({ api: 'gkehub' }).length > 0 ? true : undefined,
      );
      expect(batchGets().length).toBeGreaterThan(0);
      expect(batchGets().some((p) => p.includes('connectgateway'))).toBe(false);
    });

    it('with kube.access: gateway, a public cluster needs it too; fleet.enableServices enables it and the run goes on through the gateway', async () => {
      h = await startHarness({ scenario: gatewayOff }, { config: { kube: { access: 'gateway' } } });
      await enableAndApprove(h.app.url, h.sim, PUBLIC, 'default');
      const enables = h.sim.requests
        .entries({ api: 'serviceusage' })
        .filter((e) => e.method === 'POST')
        .map((e) => e.path);
      expect(enables).toEqual(['/v1/projects/proj-g/services:batchEnable']);
      expect(h.sim.world.project('proj-g')?.services.has('connectgateway.googleapis.com')).toBe(true);
      const thread = latestThreadOf(h.sim, PUBLIC).map((m) => m.text);
      expect(thread).toContainEqual(
        expect.stringContaining(':electric_plug: Enabling `connectgateway.googleapis.com` on proj-g'),
      );
      expect(h.sim.requests.count({ api: 'connectgateway', cluster: PUBLIC })).toBeGreaterThan(0);
      expect(h.sim.requests.count({ api: 'kubernetes', cluster: PUBLIC })).toBe(0);
    });
  });
});
