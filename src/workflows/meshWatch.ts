/**
 * The watcher's judgement, pure: two snapshots of a cluster's mesh in, the changes people should
 * hear about out. A state must be seen on two reads in a row before it counts, so a blip shorter
 * than one interval says nothing; lists are compared as sets, so reordering says nothing; a pod
 * restarted on the same proxy version says nothing. Proxy roll-outs are followed from the moment
 * the managed data plane's target version changes until every pod that may move has moved.
 */
import type { MeshCondition, ReleaseChannel } from './ports.js';
import type { MeshSnapshot } from './snapshot.js';

/** What of a snapshot the watcher compares and remembers: small, so a thousand watches stay cheap. */
export interface Observed {
  managed: boolean;
  health: { healthy: boolean; states: string; codes: string[] };
  implementation: string | null;
  channel: ReleaseChannel | null;
  revisions: string[];
  /** Revisions ready; in `reported`, every revision ever announced ready that still exists. */
  ready: string[];
  /** The managed data plane's target proxy version. */
  target: string | null;
  proxies: { versions: Record<string, number>; pods: number; optedOut: number } | null;
  failed: string[];
}

export interface Rollout {
  from: string | null;
  to: string;
  startedAt: number;
  /** The last quarter announced (1 = 25 %, 2 = 50 %, 3 = 75 %; only 2 when fewer than 20 pods move). */
  quarter: number;
}

/** What the watcher keeps per cluster between reads. */
export interface WatchMemory {
  /** What the previous read saw. */
  last: Observed;
  /** What has been announced (or was there when the watch began). */
  reported: Observed;
  rollout: Rollout | null;
  /** Reads so far: the deep parts are read every so many. */
  reads: number;
}

export type MeshEvent =
  | { type: 'revisionReady'; revision: string }
  | { type: 'revisionsChanged'; from: string[]; to: string[] }
  | { type: 'implementationChanged'; from: string | null; to: string }
  | { type: 'channelChanged'; from: ReleaseChannel | null; to: ReleaseChannel | null }
  | { type: 'rolloutStarted'; from: string | null; to: string; pods: number }
  | { type: 'rolloutProgress'; to: string; done: number; pods: number }
  | { type: 'rolloutFinished'; to: string; pods: number; optedOut: string[] }
  | {
      type: 'rolloutFailed';
      to: string | null;
      pods: string[];
      reasons: Array<{ pod: string; message: string }>;
    }
  | { type: 'degraded'; states: string; conditions: MeshCondition[] }
  | { type: 'recovered'; states: string };

const unhealthyStates = new Set(['DEGRADED', 'STALLED', 'NEEDS_ATTENTION']);

/**
 * Unhealthy: a plane degraded, stalled or needing attention, a condition of severity ERROR or
 * WARNING, or a data plane refused although its control plane is up. Provisioning is not.
 */
function isHealthy(cp: string | null, dp: string | null, serious: number): boolean {
  if (serious > 0) return false;
  if ((cp && unhealthyStates.has(cp)) || (dp && unhealthyStates.has(dp))) return false;
  return !(cp === 'ACTIVE' && dp === 'FAILED_PRECONDITION');
}

function sorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * The compared parts of a read. What the read could not see (the API server unreachable, the deep
 * parts not read this time, the cluster not found) is taken from the previous read, so that not
 * looking is never mistaken for a change.
 */
export function observe(snapshot: MeshSnapshot, last?: Observed): Observed {
  if (!snapshot.found && last) return last;
  const cp = snapshot.controlPlane?.state ?? null;
  const dp = snapshot.dataPlane?.state ?? null;
  const serious = snapshot.conditions.filter((c) => c.severity === 'ERROR' || c.severity === 'WARNING');
  const google = {
    managed: snapshot.management === 'MANAGEMENT_AUTOMATIC' || cp !== null,
    health: {
      healthy: isHealthy(cp, dp, serious.length),
      states: `${cp ?? '-'}/${dp ?? '-'}`,
      codes: sorted(serious.map((c) => c.code)),
    },
    implementation: snapshot.controlPlane?.implementation ?? null,
    channel: snapshot.gke?.releaseChannel ?? null,
  };
  if (snapshot.kubeError && last) {
    const { revisions, ready, target, proxies, failed } = last;
    return { ...google, revisions, ready, target, proxies, failed };
  }
  const mesh = {
    revisions: sorted(snapshot.revisions.map((r) => r.name)),
    ready: sorted(snapshot.revisions.filter((r) => r.ready).map((r) => r.name)),
    target:
      snapshot.dataPlaneControls
        .map((d) => d.proxyVersion)
        .filter(Boolean)
        .sort()[0] ?? null,
  };
  if (!snapshot.deep && last) return { ...google, ...mesh, proxies: last.proxies, failed: last.failed };
  const proxies = snapshot.proxies;
  return {
    ...google,
    ...mesh,
    proxies: proxies
      ? {
          versions: Object.fromEntries(
            Object.entries(proxies.versions).sort(([a], [b]) => a.localeCompare(b)),
          ),
          pods: proxies.sampled,
          optedOut: proxies.optedOutPods,
        }
      : null,
    failed: sorted([...(proxies?.failed ?? []), ...snapshot.upgradeFailures.map((f) => f.pod)]),
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Pods that may move in a roll-out to `to`, and how many already run it. */
function progress(observed: Observed, to: string): { done: number; pods: number } {
  const proxies = observed.proxies;
  if (!proxies) return { done: 0, pods: 0 };
  return { done: proxies.versions[to] ?? 0, pods: Math.max(0, proxies.pods - proxies.optedOut) };
}

/**
 * The next memory and the events of one read. `snapshot` is the read; `memory` what was kept
 * after the previous one (none on the first read, which only sets the baseline).
 */
export function nextWatch(
  memory: WatchMemory | null,
  snapshot: MeshSnapshot,
): { memory: WatchMemory; events: MeshEvent[] } {
  const seen = observe(snapshot, memory?.last);
  if (!memory) {
    return { memory: { last: seen, reported: seen, rollout: null, reads: 1 }, events: [] };
  }
  const { last } = memory;
  const reported: Observed = { ...memory.reported };
  let rollout = memory.rollout;
  const events: MeshEvent[] = [];
  /** Seen twice in a row, and not what was announced: it counts now. */
  const settled = <K extends keyof Observed>(key: K): boolean =>
    same(seen[key], last[key]) && !same(seen[key], reported[key]);

  if (settled('channel')) {
    events.push({ type: 'channelChanged', from: reported.channel, to: seen.channel });
    reported.channel = seen.channel;
  }
  if (settled('implementation') && seen.implementation) {
    events.push({ type: 'implementationChanged', from: reported.implementation, to: seen.implementation });
  }
  if (settled('implementation')) reported.implementation = seen.implementation;
  if (settled('revisions')) {
    if (reported.revisions.length > 0 || seen.revisions.length > 0)
      events.push({ type: 'revisionsChanged', from: reported.revisions, to: seen.revisions });
    reported.revisions = seen.revisions;
  }
  if (settled('ready')) {
    // A revision is announced ready once: its health flapping is told as degraded / recovered.
    for (const revision of seen.ready.filter((r) => !reported.ready.includes(r)))
      events.push({ type: 'revisionReady', revision });
    reported.ready = sorted([...reported.ready.filter((r) => seen.revisions.includes(r)), ...seen.ready]);
  }
  if (settled('health') && seen.managed) {
    if (!seen.health.healthy) {
      events.push({ type: 'degraded', states: seen.health.states, conditions: snapshot.conditions });
    } else if (!reported.health.healthy) {
      events.push({ type: 'recovered', states: seen.health.states });
    }
  }
  if (settled('health')) reported.health = seen.health;

  if (settled('target') && seen.target) {
    const { done, pods } = progress(seen, seen.target);
    events.push({ type: 'rolloutStarted', from: reported.target, to: seen.target, pods: pods - done });
    rollout = { from: reported.target, to: seen.target, startedAt: snapshot.takenAt, quarter: 0 };
  }
  if (settled('target')) reported.target = seen.target;

  if (rollout && seen.proxies) {
    const { done, pods } = progress(seen, rollout.to);
    if (done >= pods) {
      events.push({
        type: 'rolloutFinished',
        to: rollout.to,
        pods,
        optedOut: snapshot.proxies?.optedOut ?? [],
      });
      rollout = null;
    } else {
      // Quarters for a big roll-out; for a small one only halfway, or every pod would be a message.
      const reached = Math.floor((done / Math.max(1, pods)) * 4);
      const quarter = pods >= 20 ? reached : reached >= 2 ? 2 : 0;
      if (quarter > rollout.quarter) {
        events.push({ type: 'rolloutProgress', to: rollout.to, done, pods });
        rollout = { ...rollout, quarter };
      }
    }
  }
  reported.proxies = seen.proxies;

  const newlyFailed = seen.failed.filter((pod) => !reported.failed.includes(pod));
  if (newlyFailed.length) {
    events.push({
      type: 'rolloutFailed',
      to: rollout?.to ?? seen.target,
      pods: newlyFailed,
      reasons: snapshot.upgradeFailures.filter((f) => newlyFailed.includes(f.pod)),
    });
  }
  reported.failed = seen.failed;
  reported.managed = seen.managed;

  return { memory: { last: seen, reported, rollout, reads: memory.reads + 1 }, events };
}

/**
 * Whether a read must look at the deep parts too: on the first read, while a roll-out runs, when
 * the target version moved, and every `every` reads so slow changes are still seen.
 */
export function needsDeepRead(memory: WatchMemory | null, quick: MeshSnapshot, every: number): boolean {
  if (!memory || memory.rollout) return true;
  if (observe(quick, memory.last).target !== memory.last.target) return true;
  return memory.reads % Math.max(1, every) === 0;
}
