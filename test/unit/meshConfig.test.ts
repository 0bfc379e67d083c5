/**
 * The mesh-config workflow over in-memory ports: the ConfigMap of the cluster's channel, the plan's
 * diff, an approval, and a write conditioned on the resourceVersion that reads again after a conflict
 * and plans and asks again when `data.mesh` itself changed.
 */
import type { Kube } from '../../src/workflows/ports.js';
import { advance, type WorkflowDeps } from '../../src/workflows/engine.js';
import { meshConfigWorkflow } from '../../src/workflows/meshConfig.js';
import { startRun } from '../../src/workflows/registry.js';
import type { RunRecord } from '../../src/workflows/run.js';
import { FakeClock, FakeWorld } from '../support/fakes.js';

const CM = 'istio-system/istio-asm-managed';

function run(options: { accessLog?: boolean; tracingSampling?: number }): RunRecord {
  return startRun('mesh-config', {
    id: 'rcfg1',
    now: 1_700_000_000_000,
    requester: { userId: 'UREQ', channelId: 'C1' },
    cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
    options: { namespaces: [], restart: false, ...options },
  });
}

async function drive(start: RunRecord, deps: WorkflowDeps, clock: FakeClock): Promise<RunRecord> {
  let current = start;
  for (let i = 0; i < 50; i++) {
    const { run: next, then } = await advance(current, meshConfigWorkflow, deps);
    current = next;
    if (then.type === 'stop' || current.status === 'awaiting-approval') return current;
    if (then.type === 'park') clock.time = Math.max(clock.time, then.wakeAt);
  }
  throw new Error(`run did not settle: at ${current.step}`);
}

function approved(r: RunRecord): RunRecord {
  return { ...r, approval: { ...r.approval!, decision: { approved: true, by: 'UAPP', at: 0 } } };
}

function facts(r: RunRecord) {
  if (r.kind !== 'mesh-config') throw new Error('not a mesh-config run');
  return r.facts;
}

describe('mesh-config workflow', () => {
  it('plans the diff, asks, and merge-patches data.mesh on the resourceVersion it read', async () => {
    const world = new FakeWorld();
    world.editConfigMap(CM, { mesh: 'accessLogEncoding: JSON\n', other: 'x' });
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run({ accessLog: true }), deps, clock);
    expect(r.status).toBe('awaiting-approval');
    expect(facts(r).meshConfig).toMatchObject({
      configMap: 'istio-asm-managed',
      resourceVersion: '101',
      diff: '  accessLogEncoding: JSON\n+ accessLogFile: /dev/stdout',
    });
    expect(world.calls).toEqual([]);
    r = await drive(approved(r), deps, clock);
    expect(r.status).toBe('succeeded');
    expect(world.calls).toEqual([`patch configmap ${CM}`]);
    expect(world.configMaps.get(CM)?.data).toEqual({
      mesh: 'accessLogEncoding: JSON\naccessLogFile: /dev/stdout\n',
      other: 'x',
    });
  });

  it('reads again after a 409 on the write itself, and writes the same edit when data.mesh did not change', async () => {
    const world = new FakeWorld();
    world.editConfigMap(CM, { mesh: '', other: 'x' });
    const clock = new FakeClock();
    const deps = world.deps(clock);
    const r = await drive(run({ tracingSampling: 5 }), deps, clock);
    // Between the write step's read and its patch, someone changes another key: the patch is refused once.
    const kube: Kube = world.kube;
    const patch = kube.patchConfigMapData.bind(kube);
    let raced = false;
    world.kube = {
      ...kube,
      patchConfigMapData: async (...args) => {
        if (!raced) {
          raced = true;
          world.editConfigMap(CM, { ...world.configMaps.get(CM)!.data, other: 'theirs' });
        }
        return patch(...args);
      },
    };
    const done = await drive(approved(r), deps, clock);
    expect(done.status).toBe('succeeded');
    expect(world.configMaps.get(CM)?.data).toEqual({
      mesh: 'defaultConfig:\n  tracing:\n    sampling: 5\n',
      other: 'theirs',
    });
    expect(facts(done).written).toEqual({ created: false, movedOn: true });
  });

  it('plans and asks again when data.mesh changed after the approval; nothing is written before', async () => {
    const world = new FakeWorld();
    world.editConfigMap(CM, { mesh: 'accessLogFile: /dev/stdout\n' });
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run({ accessLog: false }), deps, clock);
    const firstHash = r.approval?.planHash;
    world.editConfigMap(CM, { mesh: 'accessLogFile: /dev/stdout\nenableTracing: true\n' });
    r = await drive(approved(r), deps, clock);
    expect(r.status).toBe('awaiting-approval');
    expect(r.step).toBe('approval');
    expect(r.approval?.planHash).not.toBe(firstHash);
    expect(r.approval?.decision).toBeUndefined();
    expect(facts(r).meshConfig).toMatchObject({
      replanned: 1,
      diff: '- accessLogFile: /dev/stdout\n  enableTracing: true',
    });
    expect(world.calls).toEqual([]);
    expect(world.messages.map((m) => m.key)).toContain(`approval:renewed:${r.approval?.planHash}`);
    r = await drive(approved(r), deps, clock);
    expect(r.status).toBe('succeeded');
    expect(world.configMaps.get(CM)?.data.mesh).toBe('enableTracing: true\n');
  });

  it('creates the ConfigMap when it does not exist, and changes nothing when it is already as asked', async () => {
    const world = new FakeWorld();
    world.cluster = { ...world.cluster, releaseChannel: 'STABLE' };
    const clock = new FakeClock();
    const deps = world.deps(clock);
    // No istio-system at all: the mesh is not installed, nothing to configure.
    const refused = await drive(run({ accessLog: true }), deps, clock);
    expect(refused.status).toBe('failed');
    expect(refused.outcome?.message).toContain('has no istio-system namespace');
    world.namespaces['istio-system'] = { labels: {}, deployments: {} };
    let r = await drive({ ...run({ accessLog: true }), id: 'rcfg3' }, deps, clock);
    expect(facts(r).meshConfig).toMatchObject({
      configMap: 'istio-asm-managed-stable',
      resourceVersion: null,
    });
    r = await drive(approved(r), deps, clock);
    expect(world.calls).toEqual(['create configmap istio-system/istio-asm-managed-stable']);
    expect(r.outcome?.message).toContain('Created ConfigMap `istio-system/istio-asm-managed-stable`');

    const again = await drive({ ...run({ accessLog: true }), id: 'rcfg2' }, deps, clock);
    expect(again.status).toBe('succeeded');
    expect(again.steps.approval?.status).toBe('skipped');
    expect(again.outcome?.message).toContain('already has access logs on');
    expect(world.calls).toHaveLength(1);
  });
});
