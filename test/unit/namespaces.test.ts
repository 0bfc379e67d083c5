import { advance } from '../../src/workflows/engine.js';
import { startRun, workflowOf } from '../../src/workflows/registry.js';
import type { RunRecord } from '../../src/workflows/run.js';
import { FakeClock, FakeWorld } from '../support/fakes.js';

function run(kind: 'inject' | 'uninject', namespaces: string[]): RunRecord {
  return startRun(kind, {
    id: 'r2',
    now: 1_700_000_000_000,
    requester: { userId: 'UREQ', channelId: 'C1' },
    cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
    options: { namespaces, restart: true },
  });
}

async function drive(
  start: RunRecord,
  world: FakeWorld,
  clock: FakeClock,
  approve = true,
): Promise<RunRecord> {
  const deps = world.deps(clock);
  let current = start;
  for (let i = 0; i < 100; i++) {
    if (current.status === 'awaiting-approval' && approve && !current.approval?.decision) {
      current = {
        ...current,
        approval: { ...current.approval!, decision: { approved: true, by: 'UAPP', at: 0 } },
      };
    }
    const { run: next, then } = await advance(current, workflowOf(current.kind), deps);
    current = next;
    if (then.type === 'stop') return current;
    if (then.type === 'park') clock.time = Math.max(clock.time, then.wakeAt);
  }
  throw new Error(`run did not settle at ${current.step}`);
}

describe('inject and uninject workflows', () => {
  it('inject refuses, before any change, a cluster whose data plane is not ACTIVE', async () => {
    const world = new FakeWorld();
    world.memberships.set(
      'projects/proj-a/locations/us-central1/memberships/c1',
      '//container.googleapis.com/projects/proj-a/locations/us-central1/clusters/c1',
    );
    const r = await drive(run('inject', ['shop']), world, new FakeClock());
    expect(r.status).toBe('failed');
    expect(r.step).toBe('resolve');
    expect(r.outcome?.message).toContain('is FAILED_PRECONDITION, not ACTIVE');
    expect(r.outcome?.hint).toContain('/mesh enable cluster proj-a/us-central1/c1');
    expect(world.calls).toEqual([]);
  });

  it('a namespace already labelled, whose pods all have istio-proxy, is not restarted again', async () => {
    const world = new FakeWorld();
    world.dataPlaneAfter = 0;
    world.controlPlaneAfter = 0;
    world.memberships.set(
      'projects/proj-a/locations/us-central1/memberships/c1',
      '//container.googleapis.com/projects/proj-a/locations/us-central1/clusters/c1',
    );
    const clock = new FakeClock();
    const first = await drive(run('inject', ['shop']), world, clock);
    expect(first.status).toBe('succeeded');
    const restarts = world.calls.filter((c) => c.startsWith('restart')).length;
    expect(restarts).toBe(2);
    const again = await drive(run('inject', ['shop']), world, clock);
    expect(again.status).toBe('succeeded');
    expect(again.facts.plan?.namespaces[0]?.settled).toBe(true);
    expect(world.calls.filter((c) => c.startsWith('restart')).length).toBe(restarts);
    expect(world.calls.filter((c) => c.startsWith('label ')).length).toBe(1);
  });

  it('uninject removes both injection labels and expects no istio-proxy', async () => {
    const world = new FakeWorld();
    world.namespaces.shop!.labels = { 'istio-injection': 'enabled' };
    const r = await drive(run('uninject', ['shop']), world, new FakeClock());
    expect(r.status).toBe('succeeded');
    expect(world.namespaces.shop!.labels).toEqual({});
    expect(r.outcome?.message).toBe('`shop` no longer labelled for injection; 3 pod(s) without istio-proxy.');
  });
});
