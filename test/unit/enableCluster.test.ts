import { enableClusterWorkflow, membershipLocation } from '../../src/workflows/enableCluster.js';
import { advance, type WorkflowDeps } from '../../src/workflows/engine.js';
import { startRun } from '../../src/workflows/registry.js';
import type { RunRecord } from '../../src/workflows/run.js';
import { FakeClock, FakeWorld } from '../support/fakes.js';

function run(namespaces = ['default', 'shop'], restart = true): RunRecord {
  return startRun('enable-cluster', {
    id: 'r1',
    now: 1_700_000_000_000,
    requester: { userId: 'UREQ', channelId: 'C1' },
    cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
    options: { namespaces, restart },
  });
}

/** Drives the step machine the way the runner does, jumping the clock to each wake-up time. */
async function drive(
  start: RunRecord,
  deps: WorkflowDeps,
  clock: FakeClock,
  until: (r: RunRecord) => boolean,
) {
  let current = start;
  for (let i = 0; i < 200; i++) {
    if (until(current)) return current;
    const { run: next, then } = await advance(current, enableClusterWorkflow, deps);
    current = next;
    if (then.type === 'stop') return current;
    if (then.type === 'park') clock.time = Math.max(clock.time, then.wakeAt);
  }
  throw new Error(`run did not settle: at ${current.step} (${current.status})`);
}

function decide(r: RunRecord, approved: boolean, by = 'UAPP'): RunRecord {
  return { ...r, approval: { ...r.approval!, decision: { approved, by, at: 0 } } };
}

describe('enable-cluster workflow', () => {
  it('runs every step to success with istio-injection=enabled after approval', async () => {
    const world = new FakeWorld();
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run(), deps, clock, (x) => x.status === 'awaiting-approval');
    expect(r.step).toBe('approval');
    expect(world.namespaces.default!.labels).toEqual({});
    expect(world.calls).toEqual([
      'createMembership us-central1/c1',
      'setLabels {"env":"dev","mesh_id":"proj-123"}',
      'manage projects/proj-a/locations/us-central1/memberships/c1 MANAGEMENT_AUTOMATIC',
    ]);
    r = await drive(decide(r, true), deps, clock, () => false);
    expect(r.status).toBe('succeeded');
    expect(world.namespaces.shop!.labels).toEqual({ 'istio-injection': 'enabled' });
    expect([...world.pods.values()].flat().every((p) => p.hasIstioProxy)).toBe(true);
    expect(r.facts.verifiedPods).toBe(5);
    expect(r.outcome?.message).toContain('`default`, `shop` labelled `istio-injection=enabled`');
    const keys = world.messages.map((m) => m.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'resolve',
        'register',
        'label',
        'manage',
        'plan',
        'inject',
        'restart',
        'verify',
      ]),
    );
    expect(keys.filter((k) => k.startsWith('controlPlane:')).length).toBeGreaterThanOrEqual(2);
  });

  it('beside an in-cluster istiod, labels for the managed revision by istio.io/rev and removes istio-injection', async () => {
    const world = new FakeWorld();
    world.istiodRevisions = ['asm-1115-3'];
    world.namespaces.default!.labels = { 'istio-injection': 'enabled' };
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run(), deps, clock, (x) => x.status === 'awaiting-approval');
    expect(r.facts.plan?.set).toEqual({ key: 'istio.io/rev', value: 'asm-managed' });
    r = await drive(decide(r, true), deps, clock, () => false);
    expect(r.status).toBe('succeeded');
    expect(world.namespaces.default!.labels).toEqual({ 'istio.io/rev': 'asm-managed' });
    expect(world.namespaces.shop!.labels).toEqual({ 'istio.io/rev': 'asm-managed' });
  });

  it('leaves a namespace on an in-cluster revision as it is, and says how to move it', async () => {
    const world = new FakeWorld();
    world.istiodRevisions = ['asm-1115-3'];
    world.namespaces.default!.labels = { 'istio.io/rev': 'asm-1115-3' };
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run(), deps, clock, (x) => x.status === 'awaiting-approval');
    expect(world.messages.map((m) => m.key)).toContain('incluster');
    expect(r.facts.plan?.namespaces.map((ns) => ns.name)).toEqual(['shop']);
    expect(r.facts.migration?.left).toEqual([
      { name: 'default', revision: 'asm-1115-3', pods: 2, workloads: 1 },
    ]);
    r = await drive(decide(r, true), deps, clock, () => false);
    expect(r.status).toBe('succeeded');
    expect(world.namespaces.default!.labels).toEqual({ 'istio.io/rev': 'asm-1115-3' });
    expect(world.namespaces.shop!.labels).toEqual({ 'istio.io/rev': 'asm-managed' });
    expect(world.calls.filter((c) => c.startsWith('label default'))).toEqual([]);
    expect(r.outcome?.message).toContain(
      '`default` left on the in-cluster revision `asm-1115-3`, not relabelled: move each with `/mesh inject proj-a/us-central1/c1 namespaces=default`',
    );
  });

  it('reuses an existing membership instead of registering again', async () => {
    const world = new FakeWorld();
    world.memberships.set(
      'projects/proj-a/locations/global/memberships/old',
      '//container.googleapis.com/projects/proj-a/locations/us-central1/clusters/c1',
    );
    const clock = new FakeClock();
    const r = await drive(run([]), world.deps(clock), clock, () => false);
    expect(r.status).toBe('succeeded');
    expect(world.calls.some((c) => c.startsWith('createMembership'))).toBe(false);
    expect(world.management.get('projects/proj-a/locations/global/memberships/old')).toBe(
      'MANAGEMENT_AUTOMATIC',
    );
    expect(r.steps.approval?.status).toBe('skipped');
  });

  it('a rejection ends the run with no namespace touched', async () => {
    const world = new FakeWorld();
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run(), deps, clock, (x) => x.status === 'awaiting-approval');
    r = await drive(decide(r, false, 'UBOSS'), deps, clock, () => false);
    expect(r.status).toBe('rejected');
    expect(r.outcome?.message).toBe(
      'Rejected by <@UBOSS>. The managed mesh stays on; no namespace was touched.',
    );
    expect(world.calls.filter((c) => c.startsWith('label '))).toEqual([]);
    expect(world.closedApprovals).toHaveLength(1);
  });

  it('reminds at half-time and expires at the deadline', async () => {
    const world = new FakeWorld();
    const clock = new FakeClock();
    const deps = world.deps(clock);
    const r = await drive(run(), deps, clock, () => false);
    expect(r.status).toBe('expired');
    expect(world.messages.filter((m) => m.key === 'approval:reminder')).toHaveLength(1);
    expect(r.approval!.expiresAt - r.approval!.requestedAt).toBe(3_600_000);
    expect(world.namespaces.default!.labels).toEqual({});
  });

  it('fails with the exact fix when Workload Identity is off', async () => {
    const world = new FakeWorld();
    world.cluster = { ...world.cluster, workloadPool: null };
    const clock = new FakeClock();
    const r = await drive(run(), world.deps(clock), clock, () => false);
    expect(r.status).toBe('failed');
    expect(r.step).toBe('preflight');
    expect(r.outcome).toMatchObject({
      code: 'WORKLOAD_IDENTITY_DISABLED',
      hint: 'gcloud container clusters update c1 --location us-central1 --project proj-a --workload-pool=proj-a.svc.id.goog',
    });
  });

  it('enables mesh.googleapis.com when allowed, and says how when not', async () => {
    const world = new FakeWorld();
    world.meshEnabled = false;
    const clock = new FakeClock();
    const r = await drive(run([]), world.deps(clock), clock, () => false);
    expect(r.status).toBe('succeeded');
    expect(world.calls).toContain('batchEnable proj-a mesh.googleapis.com');

    const strict = new FakeWorld();
    strict.meshEnabled = false;
    const failed = await drive(run([]), strict.deps(clock, { enableServices: false }), clock, () => false);
    expect(failed.outcome).toMatchObject({
      code: 'SERVICE_DISABLED',
      hint: 'gcloud services enable mesh.googleapis.com --project proj-a (or set fleet.enableServices: true and meshops does it)',
    });
  });

  it('names the pods that never got istio-proxy', async () => {
    const world = new FakeWorld();
    world.injectorWorks = false;
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run(['shop']), deps, clock, (x) => x.status === 'awaiting-approval');
    r = await drive(decide(r, true), deps, clock, () => false);
    expect(r.status).toBe('failed');
    expect(r.outcome?.code).toBe('VERIFY_FAILED');
    expect(r.outcome?.message).toContain(
      'pods without istio-proxy: shop/cart-0, shop/cart-1, shop/checkout-0',
    );
  });

  it('gives up on provisioning after the timeout with what to check', async () => {
    const world = new FakeWorld();
    world.controlPlaneAfter = Number.POSITIVE_INFINITY;
    const clock = new FakeClock();
    const r = await drive(run([]), world.deps(clock, { provisioningTimeoutMs: 10_000 }), clock, () => false);
    expect(r.status).toBe('failed');
    expect(r.outcome?.code).toBe('PROVISIONING_FAILED');
    expect(r.outcome?.hint).toContain('gcloud container fleet mesh describe --project proj-a');
  });

  it('a repeated restart step restarts nothing twice', async () => {
    const world = new FakeWorld();
    const clock = new FakeClock();
    const deps = world.deps(clock);
    let r = await drive(run(['default']), deps, clock, (x) => x.status === 'awaiting-approval');
    r = await drive(decide(r, true), deps, clock, (x) => x.step === 'verify');
    const restarted = world.calls.filter((c) => c.startsWith('restart'));
    await enableClusterWorkflow.steps.restart!({
      run: { ...r, step: 'restart' },
      deps,
      now: clock.now(),
      elapsedMs: 0,
      rehearseRest: () => Promise.resolve(undefined),
    });
    expect(world.calls.filter((c) => c.startsWith('restart'))).toEqual(restarted);
  });

  it('registers zonal clusters in their region', () => {
    expect(membershipLocation('auto', 'us-central1-a')).toBe('us-central1');
    expect(membershipLocation('auto', 'europe-west1')).toBe('europe-west1');
    expect(membershipLocation('global', 'us-central1-a')).toBe('global');
  });
});
