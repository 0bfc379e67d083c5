import { needsDeepRead, nextWatch, type MeshEvent, type WatchMemory } from '../../src/workflows/meshWatch.js';
import type { MeshSnapshot } from '../../src/workflows/snapshot.js';

/** A managed, healthy cluster on 1.23.6-asm.14 with 10 injected pods; `change` tweaks it. */
function snapshot(change: (s: MeshSnapshot) => void = () => undefined, at = 0): MeshSnapshot {
  const s: MeshSnapshot = {
    cluster: 'proj-a/us-central1/c1',
    takenAt: at,
    found: true,
    gke: { status: 'RUNNING', releaseChannel: 'REGULAR', masterVersion: '1.31.6-gke.1020000' },
    membership: 'projects/proj-a/locations/us-central1/memberships/c1',
    management: 'MANAGEMENT_AUTOMATIC',
    controlPlane: {
      state: 'ACTIVE',
      details: [{ code: 'REVISION_READY', details: 'Ready: asm-managed' }],
      implementation: 'ISTIOD',
    },
    dataPlane: { state: 'ACTIVE', details: [{ code: 'OK', details: 'Service is running.' }] },
    conditions: [],
    revisions: [{ name: 'asm-managed', channel: 'regular', ready: true, conditions: [] }],
    dataPlaneControls: [
      { name: 'asm-managed', revision: 'asm-managed', proxyVersion: '1.23.6-asm.14', state: 'Ready' },
    ],
    namespaces: [
      { name: 'default', label: 'istio-injection=enabled' },
      { name: 'shop', label: 'istio-injection=enabled' },
    ],
    proxies: {
      sampled: 10,
      total: 10,
      versions: { '1.23.6-asm.14': 10 },
      failed: [],
      optedOut: [],
      optedOutPods: 0,
    },
    istiodRevisions: [],
    istiods: [],
    upgradeFailures: [],
    deep: true,
  };
  change(s);
  return s;
}

const degraded = (s: MeshSnapshot) => {
  s.controlPlane = {
    state: 'DEGRADED',
    details: [{ code: 'REVISION_UNHEALTHY', details: '' }],
    implementation: 'ISTIOD',
  };
  s.conditions = [{ code: 'MESH_IAM_PERMISSION_DENIED', details: 'missing role', severity: 'ERROR' }];
};

/** Feeds reads one after another; returns the events of each. */
function feed(
  reads: MeshSnapshot[],
  start: WatchMemory | null = null,
): { events: MeshEvent[][]; memory: WatchMemory } {
  let memory = start;
  const events: MeshEvent[][] = [];
  for (const read of reads) {
    const next = nextWatch(memory, read);
    memory = next.memory;
    events.push(next.events);
  }
  return { events, memory: memory! };
}

function upgrade(to: string, onNew: number, extra: (s: MeshSnapshot) => void = () => undefined) {
  return snapshot((s) => {
    s.dataPlaneControls[0]!.proxyVersion = to;
    s.proxies!.versions = { '1.23.6-asm.14': 10 - onNew, ...(onNew ? { [to]: onNew } : {}) };
    if (onNew === 10) s.proxies!.versions = { [to]: 10 };
    extra(s);
  });
}

describe('the watcher’s diff', () => {
  it('a first read sets the baseline and says nothing; 30 unchanged reads say nothing', () => {
    const { events } = feed(Array.from({ length: 31 }, (_, i) => snapshot(undefined, i * 60_000)));
    expect(events.flat()).toEqual([]);
  });

  it('a blip shorter than one interval says nothing; reordered lists say nothing', () => {
    const { events } = feed([
      snapshot(),
      snapshot(degraded),
      snapshot(),
      snapshot((s) => {
        s.namespaces.reverse();
        s.revisions = [{ name: 'asm-managed', channel: 'regular', ready: true, conditions: [] }];
        s.proxies!.versions = { '1.23.6-asm.14': 10 };
      }),
      snapshot(),
    ]);
    expect(events.flat()).toEqual([]);
  });

  it('a pod restarted on the same proxy version says nothing', () => {
    const { events } = feed([
      snapshot(),
      snapshot((s) => (s.proxies!.sampled = 9)),
      snapshot((s) => (s.proxies!.sampled = 10)),
      snapshot(),
    ]);
    expect(events.flat()).toEqual([]);
  });

  it('degraded once it is seen twice, with the condition; recovered once, too', () => {
    const { events } = feed([
      snapshot(),
      snapshot(degraded),
      snapshot(degraded),
      snapshot(degraded),
      snapshot(),
      snapshot(),
    ]);
    expect(events.map((e) => e.map((x) => x.type))).toEqual([[], [], ['degraded'], [], [], ['recovered']]);
    expect(events[2]![0]).toMatchObject({
      states: 'DEGRADED/ACTIVE',
      conditions: [{ code: 'MESH_IAM_PERMISSION_DENIED', severity: 'ERROR' }],
    });
  });

  it('follows the implementation from ISTIOD through UPDATING to TRAFFIC_DIRECTOR', () => {
    const impl = (name: string) => snapshot((s) => (s.controlPlane!.implementation = name));
    const { events } = feed([
      impl('ISTIOD'),
      impl('UPDATING'),
      impl('UPDATING'),
      impl('TRAFFIC_DIRECTOR'),
      impl('TRAFFIC_DIRECTOR'),
    ]);
    expect(events.flat()).toEqual([
      { type: 'implementationChanged', from: 'ISTIOD', to: 'UPDATING' },
      { type: 'implementationChanged', from: 'UPDATING', to: 'TRAFFIC_DIRECTOR' },
    ]);
  });

  it('a release channel change, its new revision coming ready', () => {
    const rapid = (ready: boolean) =>
      snapshot((s) => {
        s.gke!.releaseChannel = 'RAPID';
        s.revisions = [{ name: 'asm-managed-rapid', channel: 'rapid', ready, conditions: [] }];
      });
    const { events } = feed([snapshot(), rapid(false), rapid(false), rapid(true), rapid(true)]);
    expect(events.flat()).toEqual([
      { type: 'channelChanged', from: 'REGULAR', to: 'RAPID' },
      { type: 'revisionsChanged', from: ['asm-managed'], to: ['asm-managed-rapid'] },
      { type: 'revisionReady', revision: 'asm-managed-rapid' },
    ]);
  });

  it('a proxy roll-out: started, each quarter once, finished — the opted-out workload named as staying behind', () => {
    const optOut = (s: MeshSnapshot) => {
      s.proxies!.optedOut = ['legacy/batch'];
      s.proxies!.optedOutPods = 2;
    };
    const to = '1.24.2-asm.1';
    const reads = [
      snapshot(optOut),
      upgrade(to, 0, optOut),
      upgrade(to, 0, optOut),
      upgrade(to, 1, optOut),
      upgrade(to, 2, optOut),
      upgrade(to, 3, optOut),
      upgrade(to, 4, optOut),
      upgrade(to, 4, optOut),
      upgrade(to, 7, optOut),
      upgrade(to, 8, optOut),
      upgrade(to, 8, optOut),
    ];
    const { events, memory } = feed(reads);
    // Eight pods move: halfway is told, not every quarter.
    expect(events.flat()).toEqual([
      { type: 'rolloutStarted', from: '1.23.6-asm.14', to, pods: 8 },
      { type: 'rolloutProgress', to, done: 4, pods: 8 },
      { type: 'rolloutFinished', to, pods: 8, optedOut: ['legacy/batch'] },
    ]);
    expect(memory.rollout).toBeNull();
  });

  it('a big roll-out is told at each quarter', () => {
    const big = (onNew: number) =>
      snapshot((s) => {
        s.dataPlaneControls[0]!.proxyVersion = '1.24.2-asm.1';
        s.proxies = {
          sampled: 40,
          total: 40,
          versions: { '1.23.6-asm.14': 40 - onNew, '1.24.2-asm.1': onNew },
          failed: [],
          optedOut: [],
          optedOutPods: 0,
        };
      });
    const { events } = feed([
      snapshot(),
      big(0),
      big(0),
      big(9),
      big(10),
      big(21),
      big(30),
      big(39),
      big(40),
    ]);
    expect(events.flat().map((e) => (e.type === 'rolloutProgress' ? e.done : e.type))).toEqual([
      'rolloutStarted',
      10,
      21,
      30,
      'rolloutFinished',
    ]);
  });

  it('a failed upgrade is told once, with the pod and the reason', () => {
    const failing = (s: MeshSnapshot) => {
      s.proxies!.failed = ['shop/cart-1'];
      s.upgradeFailures = [
        { pod: 'shop/cart-1', message: 'eviction blocked by PodDisruptionBudget shop/cart' },
      ];
    };
    const to = '1.24.2-asm.1';
    const { events } = feed([
      snapshot(),
      upgrade(to, 0),
      upgrade(to, 0),
      upgrade(to, 5, failing),
      upgrade(to, 6, failing),
    ]);
    const failed = events.flat().filter((e) => e.type === 'rolloutFailed');
    expect(failed).toEqual([
      {
        type: 'rolloutFailed',
        to,
        pods: ['shop/cart-1'],
        reasons: [{ pod: 'shop/cart-1', message: 'eviction blocked by PodDisruptionBudget shop/cart' }],
      },
    ]);
  });

  it('what a read could not see is not a change: the API server down, a quick read, the cluster not found', () => {
    const { events } = feed([
      snapshot(),
      snapshot((s) => {
        s.kubeError = 'connect ECONNREFUSED';
        s.revisions = [];
        s.dataPlaneControls = [];
        s.proxies = null;
      }),
      snapshot((s) => {
        s.kubeError = 'connect ECONNREFUSED';
        s.revisions = [];
        s.dataPlaneControls = [];
        s.proxies = null;
      }),
      snapshot((s) => {
        s.deep = false;
        s.proxies = null;
      }),
      snapshot((s) => {
        s.deep = false;
        s.proxies = null;
      }),
      snapshot((s) => {
        s.found = false;
        s.gke = null;
        s.controlPlane = null;
      }),
      snapshot((s) => {
        s.found = false;
        s.gke = null;
        s.controlPlane = null;
      }),
      snapshot(),
    ]);
    expect(events.flat()).toEqual([]);
  });

  it('reads deep on the first read, during a roll-out, when the target moves, and every N reads', () => {
    const first = nextWatch(null, snapshot()).memory;
    expect(needsDeepRead(null, snapshot(), 10)).toBe(true);
    expect(needsDeepRead(first, snapshot(), 10)).toBe(false);
    expect(needsDeepRead(first, upgrade('1.24.2-asm.1', 0), 10)).toBe(true);
    expect(needsDeepRead({ ...first, reads: 10 }, snapshot(), 10)).toBe(true);
    expect(
      needsDeepRead({ ...first, rollout: { from: null, to: 'x', startedAt: 0, quarter: 0 } }, snapshot(), 10),
    ).toBe(true);
  });
});
