/**
 * Seed 000's runbook, typed as a person would, with the real gcloud and kubectl against the sim: gcloud
 * reaches "*.googleapis.com" through the sim's CONNECT proxy (its own proxy and CA settings in a throw-away
 * CLOUDSDK_CONFIG), kubectl uses the kubeconfig `get-credentials` writes, whose exec plugin gets the token from
 * gcloud. The transcript lands in .tmp/clients-runbook.txt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayKubeconfig } from '../../src/sim/clientConfig.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import type { StepContext } from '../../src/workflows/engine.js';
import { crossProjectBlocker } from '../../src/workflows/steps/fleetHost.js';
import {
  awaitPlanesActive,
  clientsFor,
  describeMesh,
  membershipKey,
  plane,
  projectNumber,
  runbook,
  type Clients,
} from './seed000.js';

/** Whether `seen` walks `expected` in order, skipping what a poll missed but never going back. */
function inOrder(seen: string[], expected: string[]): boolean {
  let at = 0;
  return seen.every((item) => {
    const index = expected.indexOf(item, at);
    if (index < 0) return false;
    at = index;
    return true;
  });
}

describe("seed 000's runbook with the real gcloud and kubectl", () => {
  let sim: Sim;
  let clients: Clients;
  const run = (argv: string[]) => clients.sh.run(argv);
  const kubectl = (...args: string[]) => clients.sh.run(['kubectl', ...args]);

  beforeAll(async () => {
    // Five times real speed: the control plane is ACTIVE after 12 s, the data plane after 18 s.
    sim = await startSim({ speed: 5 });
    clients = await clientsFor(sim);
  });

  afterAll(async () => {
    if (clients) {
      mkdirSync('.tmp', { recursive: true });
      writeFileSync('.tmp/clients-runbook.txt', `${clients.sh.text()}\n`);
      await clients.remove();
    }
    await sim?.close();
  });

  it('registers the cluster, labels it, and turns managed mesh on with gcloud', async () => {
    const empty = await run(runbook.listMemberships);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('Listed 0 items.');

    expect((await run(runbook.clusterUris)).stdout.trim()).toBe(
      'https://container.googleapis.com/v1/projects/proj-a/locations/us-central1/clusters/c1',
    );
    expect((await run(runbook.register)).stderr).toContain('Finished registering to the Fleet.');
    expect((await run(runbook.listMemberships)).stdout).toMatch(
      /^NAME\s+UNIQUE_ID\s+LOCATION\nc1\s+\S+\s+us-central1\n$/,
    );

    expect((await run(runbook.projectNumber)).stdout.trim()).toBe(projectNumber);
    expect((await run(runbook.meshIdLabel)).stderr).toContain(
      'Updated [https://container.googleapis.com/v1/projects/proj-a/',
    );
    // gcloud 528 sends only the labels it names (no client-side merge) and setResourceLabels sets the whole
    // map, as the API reference describes it: the cluster's env and team labels are gone. meshops sends the
    // merged map instead.
    expect(sim.world.cluster('proj-a/us-central1/c1')?.resourceLabels).toEqual({
      mesh_id: `proj-${projectNumber}`,
    });

    await run(runbook.enableMesh);
    const before = await describeMesh(clients.sh);
    expect(before.membershipSpecs).toBeUndefined();
    const state = before.membershipStates?.[membershipKey]?.servicemesh;
    expect(plane(state?.controlPlaneManagement)).toBe('DISABLED');
    expect(state?.dataPlaneManagement).toEqual({
      details: [{ code: 'DISABLED', details: 'Data Plane Management is not enabled.' }],
      state: 'DISABLED',
    });

    expect((await run(runbook.manage)).stderr).toContain(
      `Waiting for MembershipFeature projects/proj-a/locations/us-central1/memberships/c1/features/servicemesh to be updated...`,
    );
  });

  it('sees control and data plane go through the seed’s states to ACTIVE in mesh describe', async () => {
    // A person re-runs describe every few seconds; the sim runs five times faster.
    const { controlPlane, dataPlane, feature } = await awaitPlanesActive(clients.sh, 1000, 90_000);
    // The seed's sequences; a poll may miss a short state, never reorder them.
    expect(
      inOrder(controlPlane, ['DISABLED', 'PROVISIONING (REVISION_PROVISIONING)', 'ACTIVE (REVISION_READY)']),
    ).toBe(true);
    expect(
      inOrder(dataPlane, [
        'DISABLED (DISABLED)',
        'FAILED_PRECONDITION (MANAGED_CONTROL_PLANE_REQUIRED)',
        'PROVISIONING (PROVISIONING)',
        'ACTIVE (OK)',
      ]),
    ).toBe(true);
    expect(controlPlane).toContain('PROVISIONING (REVISION_PROVISIONING)');
    expect(controlPlane.at(-1)).toBe('ACTIVE (REVISION_READY)');
    expect(dataPlane.at(-1)).toBe('ACTIVE (OK)');
    expect(feature.membershipSpecs?.[membershipKey]).toEqual({
      mesh: { management: 'MANAGEMENT_AUTOMATIC' },
      origin: { type: 'USER' },
    });
    const states = feature.membershipStates?.[membershipKey];
    expect(states?.servicemesh?.controlPlaneManagement?.details).toEqual([
      { code: 'REVISION_READY', details: 'Ready: asm-managed' },
    ]);
    expect(states?.servicemesh?.dataPlaneManagement?.details).toEqual([
      { code: 'OK', details: 'Service is running.' },
    ]);
    expect(states?.state).toMatchObject({
      code: 'OK',
      description: 'Revision(s) ready for use: asm-managed.',
    });
  });

  it('injects sidecars with kubectl through the kubeconfig get-credentials writes', async () => {
    await run(runbook.credentials);
    expect(await readFile(clients.kubeconfig, 'utf8')).toContain('command: gke-gcloud-auth-plugin');

    // The seed's transcript, word for word.
    expect((await run(runbook.label)).stdout.trim().split('\n')).toEqual([
      'label "istio.io/rev" not found.',
      'namespace/default labeled',
    ]);
    expect((await run(runbook.restart)).stdout.trim()).toBe('deployment.apps/web restarted');
    const status = await run(runbook.rolloutStatus);
    expect(status.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');

    const rows = (await run(runbook.podContainers)).stdout.trim().split('\n');
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.split('\t')[1]?.split(' ')).toContain('istio-proxy');

    // The seed's own check: a new pod in the labelled namespace gets the proxy.
    expect((await kubectl('run', 'httpd', '--image', 'httpd')).stdout.trim()).toBe('pod/httpd created');
    const httpd = await kubectl('get', 'pod', 'httpd', '-o', 'jsonpath={.spec.containers[*].name}');
    expect(httpd.stdout.split(' ')).toEqual(['httpd', 'istio-proxy']);
  });

  it('reads the managed control plane’s custom resources with kubectl', async () => {
    const revisions = await kubectl('get', 'controlplanerevisions', '-n', 'istio-system');
    expect(revisions.stdout).toMatch(/^NAME\s+AGE\nasm-managed\s/);
    const reconciled = await kubectl(
      'get',
      'controlplanerevisions',
      'asm-managed',
      '-n',
      'istio-system',
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Reconciled")].status}',
    );
    expect(reconciled.stdout).toBe('True');
    const dataPlaneControls = await kubectl(
      'get',
      'dataplanecontrols',
      '-o',
      'jsonpath={.items[*].spec.revision}',
    );
    expect(dataPlaneControls.stdout).toBe('asm-managed');
  });

  it('reaches the registered cluster through Connect Gateway with kubectl', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshops-gateway-'));
    try {
      const file = join(dir, 'kubeconfig');
      await writeFile(file, gatewayKubeconfig(sim, membershipKey), { mode: 0o600 });
      const namespaces = await kubectl('--kubeconfig', file, 'get', 'namespaces', '-o', 'name');
      expect(namespaces.stdout.split('\n')).toContain('namespace/shop');
      const paths = sim.requests.entries({ api: 'connectgateway' }).map((e) => e.path);
      expect(paths).toContain(
        `/v1/projects/${projectNumber}/locations/us-central1/gkeMemberships/c1/api/v1/namespaces`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('grants a fleet host’s agents with the very gcloud commands the CROSS_PROJECT_PERMISSION blocker names', async () => {
    // What the bot tells a user whose proj-a cluster is to join proj-b's fleet, with no grants yet.
    const host = { project: 'proj-b', number: '987654321098' };
    const ctx = {
      run: { cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' } },
      deps: { projects: { iamBindings: () => Promise.resolve([]) } },
    } as unknown as StepContext;
    const hint = (await crossProjectBlocker(ctx, host))?.hint ?? '';
    const commands = [...hint.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');
    expect(commands).toHaveLength(2);
    for (const command of commands) {
      const argv = command.split(' ');
      expect(argv.slice(0, 3)).toEqual(['gcloud', 'projects', 'add-iam-policy-binding']);
      // gcloud reads the policy (v1 getIamPolicy), adds the binding and writes it back with the etag it read.
      await run([...argv, '--format=json']);
    }
    for (const [agent, role] of [
      ['gcp-sa-gkehub', 'roles/gkehub.serviceAgent'],
      ['gcp-sa-servicemesh', 'roles/anthosservicemesh.serviceAgent'],
    ] as const) {
      expect(
        sim.world.hasRole(
          'proj-a',
          role,
          `serviceAccount:service-987654321098@${agent}.iam.gserviceaccount.com`,
        ),
      ).toBe(true);
    }
    const policy = await run([
      'gcloud',
      'projects',
      'get-iam-policy',
      'proj-a',
      '--format=value(bindings.role)',
    ]);
    expect(policy.stdout).toContain('roles/anthosservicemesh.serviceAgent');
    const writes = sim.requests
      .entries({ api: 'resourcemanager' })
      .filter((e) => e.path.endsWith(':setIamPolicy'));
    expect(writes.map((e) => e.path)).toEqual([
      '/v1/projects/proj-a:setIamPolicy',
      '/v1/projects/proj-a:setIamPolicy',
    ]);
  });
});
