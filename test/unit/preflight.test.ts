/** The pure checks of preflight, and the step over in-memory ports: blockers found together, services enabled once. */
import type { ClusterInfo, ClusterRef } from '../../src/workflows/ports.js';
import { enableClusterWorkflow } from '../../src/workflows/enableCluster.js';
import { advance } from '../../src/workflows/engine.js';
import { newRun, type RunRecord } from '../../src/workflows/run.js';
import {
  blocked,
  meshChannelBlocker,
  nodePoolBlocker,
  otherFleetBlocker,
  privateCaBlocker,
  privateCaOf,
  requiredServices,
} from '../../src/workflows/steps/preflight.js';
import { FakeClock, FakeWorld } from '../support/fakes.js';

const ref: ClusterRef = { project: 'proj-a', location: 'us-central1', name: 'c1' };
const standard: ClusterInfo = {
  ...new FakeWorld().cluster,
  autopilot: false,
  nodePools: [
    { name: 'default-pool', workloadMetadataMode: 'GKE_METADATA' },
    { name: 'old', workloadMetadataMode: 'GCE_METADATA' },
    { name: 'bare', workloadMetadataMode: null },
  ],
};

describe('preflight checks', () => {
  it('asks the fleet project and each cluster project for their services, a shared project once', () => {
    expect(requiredServices('proj-a', ['proj-a'])).toEqual([
      {
        project: 'proj-a',
        services: ['mesh.googleapis.com', 'gkehub.googleapis.com', 'container.googleapis.com'],
      },
    ]);
    expect(requiredServices('host', ['proj-a', 'proj-b', 'proj-a'])).toEqual([
      {
        project: 'host',
        services: ['mesh.googleapis.com', 'gkehub.googleapis.com', 'container.googleapis.com'],
      },
      { project: 'proj-a', services: ['mesh.googleapis.com', 'container.googleapis.com'] },
      { project: 'proj-b', services: ['mesh.googleapis.com', 'container.googleapis.com'] },
    ]);
  });

  it('asks the fleet project, and only it, for Connect Gateway when the run reaches the cluster through it', () => {
    expect(requiredServices('host', ['proj-a'], { gateway: true })).toEqual([
      {
        project: 'host',
        services: [
          'mesh.googleapis.com',
          'gkehub.googleapis.com',
          'container.googleapis.com',
          'connectgateway.googleapis.com',
        ],
      },
      { project: 'proj-a', services: ['mesh.googleapis.com', 'container.googleapis.com'] },
    ]);
  });

  it('names the node pools of a Standard cluster without GKE_METADATA, with a command each; Autopilot passes', () => {
    const blocker = nodePoolBlocker(ref, standard);
    expect(blocker?.code).toBe('NODE_POOL_METADATA');
    expect(blocker?.message).toContain('old (GCE_METADATA), bare (unset)');
    expect(blocker?.message).not.toContain('default-pool');
    expect(blocker?.hint).toBe(
      'gcloud container node-pools update old --cluster c1 --location us-central1 --project proj-a --workload-metadata=GKE_METADATA ; ' +
        'gcloud container node-pools update bare --cluster c1 --location us-central1 --project proj-a --workload-metadata=GKE_METADATA',
    );
    expect(blocker?.docs).toMatch(/^https:\/\/cloud\.google\.com\//);
    expect(nodePoolBlocker(ref, { ...standard, autopilot: true })).toBeUndefined();
  });

  it('compares mesh.channel with the channel the release channel gives', () => {
    const rapid = { ...standard, releaseChannel: 'RAPID' as const };
    expect(meshChannelBlocker(ref, rapid, null)).toBeUndefined();
    expect(meshChannelBlocker(ref, rapid, 'rapid')).toBeUndefined();
    expect(
      meshChannelBlocker(ref, { ...standard, releaseChannel: 'UNSPECIFIED' }, 'regular'),
    ).toBeUndefined();
    expect(meshChannelBlocker(ref, { ...standard, releaseChannel: 'EXTENDED' }, 'stable')).toBeUndefined();
    const blocker = meshChannelBlocker(ref, rapid, 'stable');
    expect(blocker?.code).toBe('MESH_CHANNEL_MISMATCH');
    expect(blocker?.hint).toContain('asmcli install --managed --channel stable');
    expect(blocker?.docs).toBe('https://cloud.google.com/service-mesh/docs/asmcli-reference');
  });

  it('reuses a membership in the same fleet (by ID or number) and names another fleet', () => {
    const fleet = { project: 'proj-a', number: '123' };
    const inFleet = (project: string): ClusterInfo => ({
      ...standard,
      fleet: { project, membership: `${project}/locations/global/memberships/c1` },
    });
    expect(otherFleetBlocker(ref, standard, fleet)).toBeUndefined();
    expect(otherFleetBlocker(ref, inFleet('projects/123'), fleet)).toBeUndefined();
    expect(otherFleetBlocker(ref, inFleet('projects/proj-a'), fleet)).toBeUndefined();
    const blocker = otherFleetBlocker(ref, inFleet('projects/999'), fleet);
    expect(blocker?.code).toBe('REGISTERED_IN_ANOTHER_FLEET');
    expect(blocker?.message).toContain(
      'the fleet of project 999 (membership projects/999/locations/global/memberships/c1)',
    );
  });

  it('reads a private CA from ASM_OPTS as asmcli and the Terraform module write it', () => {
    expect(privateCaOf(undefined)).toBeUndefined();
    expect(privateCaOf('CNI=on')).toBeUndefined();
    expect(privateCaOf('CA=PRIVATECA;CAAddr=projects/p/locations/l/caPools/pool')).toBe(
      'projects/p/locations/l/caPools/pool',
    );
    expect(privateCaOf('CNI=on,CA=PRIVATECA')).toBe('a CA Service pool');
    expect(privateCaBlocker(ref, undefined, 'x')).toBeUndefined();
    expect(
      privateCaBlocker(ref, 'projects/p/locations/l/caPools/pool', 'config mesh.caPool')?.hint,
    ).toContain('--ca gcp_cas --ca_pool projects/p/locations/l/caPools/pool');
  });

  it('reports one blocker as itself, several as PREFLIGHT_BLOCKED carrying each', () => {
    const one = nodePoolBlocker(ref, standard)!;
    expect(blocked([one])).toBe(one);
    const two = blocked([one, meshChannelBlocker(ref, standard, 'rapid')!]);
    expect(two.code).toBe('PREFLIGHT_BLOCKED');
    expect(two.blockers.map((b) => b.code)).toEqual(['NODE_POOL_METADATA', 'MESH_CHANNEL_MISMATCH']);
  });
});

describe('the preflight step', () => {
  function atPreflight(world: FakeWorld): RunRecord {
    const run = newRun({
      kind: 'enable-cluster',
      id: 'r1',
      now: 0,
      requester: { userId: 'U1', channelId: 'C1' },
      cluster: ref,
      options: { namespaces: [], restart: true },
      firstStep: 'preflight',
    });
    return {
      ...run,
      status: 'running',
      facts: { cluster: world.cluster, projectNumber: '123' },
    };
  }

  it('collects every blocker of one run, and enables nothing while any stands', async () => {
    const world = new FakeWorld();
    world.cluster = { ...standard, workloadPool: null, releaseChannel: 'RAPID' };
    world.meshEnabled = false;
    world.fenced.add('proj-a');
    world.configMaps.set('istio-system/asm-options', {
      resourceVersion: '1',
      data: { ASM_OPTS: 'CA=PRIVATECA;CAAddr=projects/p/locations/l/caPools/pool' },
    });
    const clock = new FakeClock();
    const { run } = await advance(
      atPreflight(world),
      enableClusterWorkflow,
      world.deps(clock, { meshChannel: 'stable' }),
    );
    expect(run.status).toBe('failed');
    expect(run.outcome?.code).toBe('PREFLIGHT_BLOCKED');
    expect(run.outcome?.blockers?.map((b) => b.code)).toEqual([
      'WORKLOAD_IDENTITY_DISABLED',
      'NODE_POOL_METADATA',
      'MESH_CHANNEL_MISMATCH',
      'VPC_SERVICE_CONTROLS',
      'PRIVATE_CA_UNSUPPORTED',
    ]);
    expect(run.outcome?.blockers?.every((b) => b.hint && b.docs)).toBe(true);
    expect(world.calls).toEqual([]);
  });

  it('enables the missing services in one batchEnable, waits for it, then goes on', async () => {
    const world = new FakeWorld();
    world.meshEnabled = false;
    world.disabledServices.add('gkehub.googleapis.com');
    const clock = new FakeClock();
    const deps = world.deps(clock);
    const first = await advance(atPreflight(world), enableClusterWorkflow, deps);
    expect(first.run.status).toBe('waiting');
    expect(first.run.facts.operation).toMatchObject({ api: 'serviceusage', project: 'proj-a' });
    expect(world.calls).toEqual(['batchEnable proj-a mesh.googleapis.com,gkehub.googleapis.com']);
    expect(world.messages.map((m) => m.key)).toContain(
      'enable:proj-a:mesh.googleapis.com,gkehub.googleapis.com',
    );
    const second = await advance(first.run, enableClusterWorkflow, deps);
    expect(second.run.step).toBe('register');
    expect(world.calls).toHaveLength(1);
  });
});
