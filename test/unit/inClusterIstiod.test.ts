/**
 * In-cluster istiod clusters (seed 002): the pure planning of what enable leaves alone and inject
 * moves, the revisions status lists, and the inject workflow's relabel over in-memory fakes.
 */
import { inClusterText } from '../../src/slack/render.js';
import { advance } from '../../src/workflows/engine.js';
import type { IstiodDeployment } from '../../src/workflows/ports.js';
import { startRun, workflowOf } from '../../src/workflows/registry.js';
import type { InjectionPlan, NamespacePlan, RunRecord } from '../../src/workflows/run.js';
import {
  findInClusterControlPlane,
  freedRevisions,
  migrationOutcome,
  planMigration,
  relabelOf,
  revisionUses,
  uninstallCommands,
} from '../../src/workflows/steps/inClusterIstiod.js';
import { FakeClock, FakeWorld } from '../support/fakes.js';

const C1 = 'proj-a/us-central1/c1';

const istiod = (revision: string, ready = 2): IstiodDeployment => ({
  name: `istiod-${revision}`,
  revision,
  version: '1.11.5-asm.3',
  replicas: 2,
  readyReplicas: ready,
});

const nsPlan = (name: string, labels: Record<string, string>, pods = 2): NamespacePlan => ({
  name,
  currentLabels: labels,
  workloads: [{ kind: 'Deployment', name: 'web', replicas: pods }],
  pods,
  podDisruptionBudgets: 0,
  settled: false,
});

describe('in-cluster istiod: planning', () => {
  it('finds the in-cluster istiods and the namespaces on their revisions, not the managed ones', () => {
    const found = findInClusterControlPlane(
      [istiod('asm-1125-2'), istiod('asm-1115-3')],
      [
        { name: 'shop', labels: { 'istio.io/rev': 'asm-1125-2' } },
        { name: 'default', labels: { 'istio.io/rev': 'asm-1115-3' } },
        { name: 'web', labels: { 'istio.io/rev': 'asm-managed' } },
        { name: 'batch', labels: { 'istio-injection': 'enabled' } },
      ],
      'asm-managed',
    );
    expect(found).toEqual({
      managedRevision: 'asm-managed',
      istiods: [istiod('asm-1115-3'), istiod('asm-1125-2')],
      namespaces: [
        { name: 'default', revision: 'asm-1115-3' },
        { name: 'shop', revision: 'asm-1125-2' },
      ],
    });
    expect(
      findInClusterControlPlane(
        [],
        [{ name: 'web', labels: { 'istio.io/rev': 'asm-managed' } }],
        'asm-managed',
      ),
    ).toBeNull();
  });

  it('enable leaves the namespaces on an in-cluster revision and changes the others', () => {
    const { change, migration } = planMigration({
      plans: [nsPlan('default', { 'istio.io/rev': 'asm-1115-3' }), nsPlan('tools', {}, 1)],
      istiods: [istiod('asm-1115-3')],
      all: [],
      managedRevision: 'asm-managed',
      leave: true,
    });
    expect(change.map((ns) => ns.name)).toEqual(['tools']);
    expect(migration).toEqual({
      managedRevision: 'asm-managed',
      istiods: [istiod('asm-1115-3')],
      moved: [],
      left: [{ name: 'default', revision: 'asm-1115-3', pods: 2, workloads: 1 }],
    });
    expect(migrationOutcome(C1, migration)).toBe(
      '`default` left on the in-cluster revision `asm-1115-3`, not relabelled: move each with `/mesh inject proj-a/us-central1/c1 namespaces=default` (one namespace per command; the migration path is in the thread)',
    );
  });

  it('inject moves the asked namespace and knows which stay on which revision', () => {
    const { change, migration } = planMigration({
      plans: [nsPlan('default', { 'istio.io/rev': 'asm-1115-3' })],
      istiods: [istiod('asm-1115-3'), istiod('asm-1125-2')],
      all: [
        { name: 'default', labels: { 'istio.io/rev': 'asm-1115-3' } },
        { name: 'shop', labels: { 'istio.io/rev': 'asm-1125-2' } },
      ],
      managedRevision: 'asm-managed',
      leave: false,
    });
    expect(change.map((ns) => ns.name)).toEqual(['default']);
    expect(migration?.moved).toEqual([{ name: 'default', from: 'asm-1115-3' }]);
    expect(migration?.left).toEqual([{ name: 'shop', revision: 'asm-1125-2' }]);
    expect(freedRevisions(migration!)).toEqual(['asm-1115-3']);
    expect(migrationOutcome(C1, migration)).toBe(
      'no namespace uses `asm-1115-3` any more: remove it with `istioctl uninstall --revision asm-1115-3 -y`; still on an in-cluster revision: `shop` (asm-1125-2)',
    );
  });

  it('a plain cluster has no migration', () => {
    const plans = [nsPlan('default', {})];
    expect(
      planMigration({ plans, istiods: [], all: [], managedRevision: 'asm-managed', leave: true }),
    ).toEqual({
      change: plans,
      migration: undefined,
    });
  });

  it('the relabel is istio.io/rev=asm-XXXX → the managed revision, only for inject', () => {
    const ns = nsPlan('default', { 'istio.io/rev': 'asm-1115-3' });
    const plan: InjectionPlan = {
      mode: 'inject',
      set: { key: 'istio.io/rev', value: 'asm-managed' },
      remove: ['istio-injection'],
      reason: '',
      namespaces: [ns],
    };
    expect(relabelOf(plan, ns)).toEqual({ from: 'asm-1115-3', to: 'asm-managed' });
    expect(relabelOf({ ...plan, mode: 'uninject', set: null }, ns)).toBeNull();
    expect(relabelOf(plan, nsPlan('tools', {}))).toBeNull();
  });

  it('the last step names the revision and its istiod', () => {
    expect(uninstallCommands('asm-1115-3', 'istiod-asm-1115-3')).toEqual([
      'istioctl uninstall --revision asm-1115-3 -y',
      'kubectl delete deployment,service,horizontalpodautoscaler,poddisruptionbudget istiod-asm-1115-3 -n istio-system --ignore-not-found',
      'kubectl delete mutatingwebhookconfiguration istio-sidecar-injector-asm-1115-3 --ignore-not-found',
    ]);
  });

  it('status: every revision with its namespaces, in-cluster first, then managed, then what nothing serves', () => {
    const uses = revisionUses({
      istiods: [istiod('asm-1125-2', 1), istiod('asm-1115-3')],
      namespaces: [
        { name: 'default', label: 'istio.io/rev=asm-1115-3' },
        { name: 'shop', label: 'istio.io/rev=asm-1125-2' },
        { name: 'web', label: 'istio.io/rev=asm-managed' },
        { name: 'old', label: 'istio.io/rev=asm-1106-1' },
        { name: 'batch', label: 'istio-injection=enabled' },
      ],
      managed: ['asm-managed'],
    });
    expect(uses.map((u) => [u.revision, u.kind, u.namespaces])).toEqual([
      ['asm-1115-3', 'in-cluster', ['default']],
      ['asm-1125-2', 'in-cluster', ['shop']],
      ['asm-managed', 'managed', ['web']],
      ['asm-1106-1', 'unserved', ['old']],
    ]);
  });

  it('the preflight explanation gives the migration path with the exact commands', () => {
    const run = startRun('enable-cluster', {
      id: 'r1',
      now: 0,
      requester: { userId: 'U', channelId: 'C' },
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
      options: { namespaces: ['default'], restart: true },
    });
    const text = inClusterText(run, {
      managedRevision: 'asm-managed',
      istiods: [istiod('asm-1115-3')],
      namespaces: [{ name: 'default', revision: 'asm-1115-3' }],
    });
    expect(text).toContain('`asm-1115-3`: `istiod-asm-1115-3` 1.11.5-asm.3, 2/2 ready — serves `default`');
    expect(text).toContain('asked for here and left as they are: `default`');
    expect(text).toContain(
      '`/mesh inject proj-a/us-central1/c1 namespaces=default` (`istio.io/rev=asm-1115-3` → `istio.io/rev=asm-managed`)',
    );
    expect(text).toContain(
      '`kubectl get namespaces -l istio.io/rev=asm-1115-3` lists none, then `istioctl uninstall --revision asm-1115-3 -y`',
    );
  });
});

describe('in-cluster istiod: the inject workflow', () => {
  function inject(namespaces: string[]): RunRecord {
    return startRun('inject', {
      id: 'r2',
      now: 1_700_000_000_000,
      requester: { userId: 'UREQ', channelId: 'C1' },
      cluster: { project: 'proj-a', location: 'us-central1', name: 'c1' },
      options: { namespaces, restart: true },
    });
  }

  async function drive(start: RunRecord, world: FakeWorld, clock: FakeClock): Promise<RunRecord> {
    const deps = world.deps(clock);
    let current = start;
    for (let i = 0; i < 100; i++) {
      if (current.status === 'awaiting-approval' && !current.approval?.decision) {
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

  function world(active: boolean): FakeWorld {
    const w = new FakeWorld();
    w.istiodRevisions = ['asm-1115-3'];
    w.namespaces.default!.labels = { 'istio.io/rev': 'asm-1115-3' };
    w.namespaces.shop!.labels = { 'istio.io/rev': 'asm-1115-3' };
    w.memberships.set(
      'projects/proj-a/locations/us-central1/memberships/c1',
      '//container.googleapis.com/projects/proj-a/locations/us-central1/clusters/c1',
    );
    w.management.set('projects/proj-a/locations/us-central1/memberships/c1', 'MANAGEMENT_AUTOMATIC');
    if (active) {
      w.controlPlaneAfter = 0;
      w.dataPlaneAfter = 0;
    }
    return w;
  }

  it('relabels one namespace from the in-cluster revision to the managed one in one patch; the other is untouched', async () => {
    const w = world(true);
    const r = await drive(inject(['default']), w, new FakeClock());
    expect(r.status).toBe('succeeded');
    expect(w.calls.filter((c) => c.startsWith('label '))).toEqual([
      'label default {"istio-injection":null,"istio.io/rev":"asm-managed"}',
    ]);
    expect(w.namespaces.default!.labels).toEqual({ 'istio.io/rev': 'asm-managed' });
    expect(w.namespaces.shop!.labels).toEqual({ 'istio.io/rev': 'asm-1115-3' });
    expect(r.facts.migration?.moved).toEqual([{ name: 'default', from: 'asm-1115-3' }]);
    expect(r.outcome?.message).toContain('still on an in-cluster revision: `shop` (asm-1115-3)');
  });

  it('refuses, before any change, while the managed control plane is not ACTIVE, saying the in-cluster istiod keeps serving', async () => {
    const w = world(false);
    const r = await drive(inject(['default']), w, new FakeClock());
    expect(r.status).toBe('failed');
    expect(r.step).toBe('resolve');
    expect(r.outcome?.message).toContain(
      '`default` (asm-1115-3) cannot move to the managed control plane of proj-a/us-central1/c1 yet',
    );
    expect(r.outcome?.message).toContain('It stays on its in-cluster revision, which keeps serving it');
    expect(r.outcome?.hint).toContain('`/mesh inject proj-a/us-central1/c1 namespaces=default` again');
    expect(w.calls.filter((c) => c.startsWith('label ') || c.startsWith('restart'))).toEqual([]);
  });
});
