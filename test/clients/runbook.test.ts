/**
 * Seed 000's runbook, typed as a person would, with the real gcloud and kubectl against the sim: gcloud
 * reaches "*.googleapis.com" through the sim's CONNECT proxy (its own proxy and CA settings in a throw-away
 * CLOUDSDK_CONFIG), kubectl uses the kubeconfig `get-credentials` writes, whose exec plugin gets the token from
 * gcloud. The transcript lands in .tmp/clients-runbook.txt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { clientEnvironment, writeClientFiles } from '../../src/sim/clientConfig.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { requireTools, Transcript } from './tools.js';

const projectNumber = '123456789012';
const membershipKey = `projects/${projectNumber}/locations/us-central1/memberships/c1`;

interface PlaneState {
  state: string;
  details?: Array<{ code: string; details: string }>;
}
interface MeshFeature {
  membershipSpecs?: Record<string, { mesh?: { management?: string } }>;
  membershipStates?: Record<
    string,
    {
      servicemesh?: { controlPlaneManagement?: PlaneState; dataPlaneManagement?: PlaneState };
      state?: { code?: string; description?: string };
    }
  >;
}

/** 'STATE (CODE)', as the seed writes the sequence it saw. */
function plane(state: PlaneState | undefined): string {
  const code = state?.details?.[0]?.code;
  return `${state?.state ?? '-'}${code ? ` (${code})` : ''}`;
}

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
  let dir: string;
  let sh: Transcript;
  const gcloud = (...args: string[]) => sh.run(['gcloud', ...args]);
  const kubectl = (...args: string[]) => sh.run(['kubectl', ...args]);
  const describeMesh = async (): Promise<MeshFeature> =>
    // gcloud's own YAML, as the seed shows it.
    parse((await gcloud('container', 'fleet', 'mesh', 'describe')).stdout) as MeshFeature;

  beforeAll(async () => {
    requireTools({
      gcloud: 'Google Cloud SDK, package google-cloud-cli',
      kubectl: 'package kubectl or google-cloud-cli-kubectl',
      'gke-gcloud-auth-plugin': 'package google-cloud-cli-gke-gcloud-auth-plugin',
    });
    // Five times real speed: the control plane is ACTIVE after 12 s, the data plane after 18 s.
    sim = await startSim({ speed: 5 });
    dir = await mkdtemp(join(tmpdir(), 'meshops-clients-'));
    const files = await writeClientFiles(sim, dir, 'proj-a');
    const home = join(dir, 'home');
    mkdirSync(home);
    sh = new Transcript({
      ...clientEnvironment(process.env, files, join(dir, 'kubeconfig')),
      // kubectl's discovery cache and the auth plugin's token cache live under HOME.
      HOME: home,
      CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    });
  });

  afterAll(async () => {
    if (sh) {
      mkdirSync('.tmp', { recursive: true });
      writeFileSync('.tmp/clients-runbook.txt', `${sh.text()}\n`);
    }
    await sim?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registers the cluster, labels it, and turns managed mesh on with gcloud', async () => {
    const empty = await gcloud('container', 'fleet', 'memberships', 'list');
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('Listed 0 items.');

    const uri = await gcloud('container', 'clusters', 'list', '--uri');
    expect(uri.stdout.trim()).toBe(
      'https://container.googleapis.com/v1/projects/proj-a/locations/us-central1/clusters/c1',
    );
    const registered = await gcloud(
      'container',
      'fleet',
      'memberships',
      'register',
      'c1',
      '--gke-cluster=us-central1/c1',
      '--enable-workload-identity',
    );
    expect(registered.stderr).toContain('Finished registering to the Fleet.');
    const listed = await gcloud('container', 'fleet', 'memberships', 'list');
    expect(listed.stdout).toMatch(/^NAME\s+UNIQUE_ID\s+LOCATION\nc1\s+\S+\s+us-central1\n$/);

    const number = await gcloud('projects', 'describe', 'proj-a', '--format=value(projectNumber)');
    expect(number.stdout.trim()).toBe(projectNumber);
    const updated = await gcloud(
      'container',
      'clusters',
      'update',
      'c1',
      '--location=us-central1',
      `--update-labels=mesh_id=proj-${projectNumber}`,
    );
    expect(updated.stderr).toContain('Updated [https://container.googleapis.com/v1/projects/proj-a/');
    // gcloud 528 sends only the labels it names (no client-side merge) and setResourceLabels sets the whole
    // map, as the API reference describes it: the cluster's env and team labels are gone. meshops sends the
    // merged map instead.
    expect(sim.world.cluster('proj-a/us-central1/c1')?.resourceLabels).toEqual({
      mesh_id: `proj-${projectNumber}`,
    });

    await gcloud('container', 'fleet', 'mesh', 'enable');
    const before = await describeMesh();
    expect(before.membershipSpecs).toBeUndefined();
    const state = before.membershipStates?.[membershipKey]?.servicemesh;
    expect(plane(state?.controlPlaneManagement)).toBe('DISABLED');
    expect(state?.dataPlaneManagement).toEqual({
      details: [{ code: 'DISABLED', details: 'Data Plane Management is not enabled.' }],
      state: 'DISABLED',
    });

    await gcloud('container', 'fleet', 'mesh', 'update', '--management', 'automatic', '--memberships', 'c1');
  });

  it('sees control and data plane go through the seed’s states to ACTIVE in mesh describe', async () => {
    const controlPlane: string[] = [];
    const dataPlane: string[] = [];
    let feature: MeshFeature = {};
    const deadline = Date.now() + 90_000;
    for (;;) {
      feature = await describeMesh();
      const state = feature.membershipStates?.[membershipKey]?.servicemesh;
      const cp = plane(state?.controlPlaneManagement);
      const dp = plane(state?.dataPlaneManagement);
      if (controlPlane.at(-1) !== cp) controlPlane.push(cp);
      if (dataPlane.at(-1) !== dp) dataPlane.push(dp);
      if ((cp.startsWith('ACTIVE') && dp.startsWith('ACTIVE')) || Date.now() > deadline) break;
      // A person re-runs describe every few seconds; the sim runs five times faster.
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
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
    await gcloud('container', 'clusters', 'get-credentials', 'c1', '--location=us-central1');
    const kubeconfig = await readFile(join(dir, 'kubeconfig'), 'utf8');
    expect(kubeconfig).toContain('command: gke-gcloud-auth-plugin');

    const labelled = await kubectl(
      'label',
      'namespace',
      'default',
      'istio-injection=enabled',
      'istio.io/rev-',
      '--overwrite',
    );
    // The seed's transcript, word for word.
    expect(labelled.stdout.trim().split('\n')).toEqual([
      'label "istio.io/rev" not found.',
      'namespace/default labeled',
    ]);

    const restarted = await kubectl('rollout', 'restart', 'deployment', '-n', 'default');
    expect(restarted.stdout.trim()).toBe('deployment.apps/web restarted');
    const status = await kubectl('rollout', 'status', 'deployment/web', '-n', 'default', '--timeout=120s');
    expect(status.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');

    const pods = await kubectl(
      'get',
      'pods',
      '-n',
      'default',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.containers[*].name}{"\\n"}{end}',
    );
    const rows = pods.stdout.trim().split('\n');
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
});
