/**
 * The managed data plane controller (mdp-controller) rolling proxies to a new version: every
 * `intervalMs` of sim time it evicts one pod whose managed istio-proxy is older than the target, if its
 * PodDisruptionBudgets allow, and the pod's controller recreates it with the new proxy injected. The
 * sim applies the steps that are due lazily, whenever pods are read, so the outcome depends only on the
 * clock.
 */
import { matchesLabels, type Labels, type SimPod, type SimPodDisruptionBudget } from './kubeTypes.js';

/** Pod template annotation that opts a workload out of the managed data plane's upgrades. */
export const proxyAnnotation = 'mesh.cloud.google.com/proxy';
export const upgradeFailedLabel = 'dataplane-upgrade';
export const defaultPodIntervalMs = 10_000;

/** Progress of the proxy roll-out in one cluster. */
export interface RolloutStatus {
  /** The proxy version the managed data plane rolls to (DataPlaneControl spec.proxyVersion). */
  target: string;
  /** The managed revision pods are rolled to. */
  revision: string;
  /** Pods with a managed proxy that the roll-out covers (opted-out ones not included). */
  total: number;
  /** ...of which run the target version and revision. */
  done: number;
  /** ...of which failed to upgrade (labelled dataplane-upgrade=failed, reported by an event). */
  failed: number;
  /** ...still waiting for their turn: total - done - failed. */
  pending: number;
  /** Pods with a managed proxy whose workload opted out: never replaced. */
  optedOut: number;
  /** No pod is pending. */
  complete: boolean;
  /** Sim time of the next replacement step, while pods are pending and a roll-out is running. */
  nextStepAt?: number;
}

export interface RolloutPlan {
  /** Sim time the roll-out starts; the first pod is replaced one interval later. */
  startsAt: number;
  intervalMs: number;
  /** 'namespace/name' of workloads whose pods fail to upgrade. */
  failWorkloads: ReadonlySet<string>;
}

export interface ProxyTarget {
  revision: string;
  proxyVersion: string;
}

/** What the roll-out needs of its cluster. */
export interface RolloutHost {
  /** Pods that existed at sim time `at` (including ones gone by now). */
  podsAt(at: number): SimPod[];
  disruptionBudgets(): SimPodDisruptionBudget[];
  /** The managed revision and proxy version now; undefined while the managed data plane is not ACTIVE. */
  target(): ProxyTarget | undefined;
  /** Evicts `pod` at `at`; its controller recreates it. */
  replace(pod: SimPod, at: number): void;
  /** Labels `pod` as failed and reports why with a Warning event at `at`. */
  fail(pod: SimPod, at: number, message: string): void;
}

/** `{"managed":"false"}` (or `false`) in the proxy annotation. */
export function isOptedOut(annotations: Labels): boolean {
  const raw = annotations[proxyAnnotation];
  if (raw === undefined) return false;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return false;
    const managed = (parsed as Record<string, unknown>).managed;
    return managed === 'false' || managed === false;
  } catch {
    return false;
  }
}

export function hasManagedProxy(pod: SimPod): boolean {
  return pod.goneAt === undefined && pod.sidecar?.managed === true;
}

export function runsTarget(pod: SimPod, target: ProxyTarget): boolean {
  return pod.sidecar?.proxyVersion === target.proxyVersion && pod.sidecar.revision === target.revision;
}

function budgetsOf(pod: SimPod, budgets: SimPodDisruptionBudget[]): SimPodDisruptionBudget[] {
  return budgets.filter((pdb) => pdb.namespace === pod.namespace && matchesLabels(pod.labels, pdb.selector));
}

/** A budget that allows no disruption at `at`: terminating and not-yet-ready pods are not healthy. */
function blockingBudget(
  pod: SimPod,
  pods: SimPod[],
  budgets: SimPodDisruptionBudget[],
  at: number,
): SimPodDisruptionBudget | undefined {
  return budgetsOf(pod, budgets).find((pdb) => {
    const selected = pods.filter(
      (p) => p.namespace === pdb.namespace && matchesLabels(p.labels, pdb.selector),
    );
    const healthy = selected.filter((p) => p.goneAt === undefined && p.readyAt <= at).length;
    const desired = pdb.minAvailable ?? Math.max(0, selected.length - (pdb.maxUnavailable ?? 0));
    return healthy - desired <= 0;
  });
}

function failureMessage(pod: SimPod, budgets: SimPodDisruptionBudget[]): string {
  const budget = budgetsOf(pod, budgets)[0];
  const reason = budget
    ? `eviction blocked by PodDisruptionBudget ${budget.namespace}/${budget.name}`
    : 'the pod was not evicted within the upgrade timeout';
  return `Failed to upgrade proxy of pod ${pod.namespace}/${pod.name}: ${reason}`;
}

function byAge(a: SimPod, b: SimPod): number {
  return (
    a.createdAt - b.createdAt ||
    a.namespace.localeCompare(b.namespace) ||
    (a.owner?.name ?? a.name).localeCompare(b.owner?.name ?? b.name) ||
    a.name.localeCompare(b.name)
  );
}

type StepOutcome = 'acted' | 'blocked' | 'finished';

export class ProxyRollout {
  /** Steps applied so far; step k happens at startsAt + k * intervalMs. */
  private steps = 0;
  private readonly failedPods = new Set<string>();

  constructor(readonly plan: RolloutPlan) {
    if (!(plan.intervalMs > 0)) throw new Error(`podIntervalMs must be positive, got ${plan.intervalMs}`);
  }

  hasFailed(pod: SimPod): boolean {
    return this.failedPods.has(pod.uid);
  }

  private stepTime(step: number): number {
    return this.plan.startsAt + step * this.plan.intervalMs;
  }

  private dueSteps(now: number): number {
    return now < this.plan.startsAt ? 0 : Math.floor((now - this.plan.startsAt) / this.plan.intervalMs);
  }

  /** When the next step is due. */
  nextStepAt(now: number): number {
    return this.stepTime(Math.max(this.steps, this.dueSteps(now)) + 1);
  }

  /** Applies every step due by `now`. */
  advance(host: RolloutHost, now: number): void {
    const due = this.dueSteps(now);
    const target = host.target();
    if (!target) {
      // The controller only works while the managed data plane is ACTIVE; missed steps are not made up.
      this.steps = Math.max(this.steps, due);
      return;
    }
    while (this.steps < due) {
      this.steps += 1;
      const at = this.stepTime(this.steps);
      const outcome = this.step(host, at, target);
      if (outcome === 'finished') {
        this.steps = due;
      } else if (outcome === 'blocked') {
        this.skipUntilChange(host, at, due);
      }
    }
  }

  private step(host: RolloutHost, at: number, target: ProxyTarget): StepOutcome {
    const pods = host.podsAt(at);
    const budgets = host.disruptionBudgets();
    const candidates = pods
      .filter(
        (pod) =>
          hasManagedProxy(pod) &&
          !runsTarget(pod, target) &&
          !isOptedOut(pod.annotations) &&
          !this.failedPods.has(pod.uid),
      )
      .sort(byAge);
    if (candidates.length === 0) return 'finished';
    for (const pod of candidates) {
      if (this.plan.failWorkloads.has(`${pod.namespace}/${pod.owner?.name ?? pod.name}`)) {
        this.failedPods.add(pod.uid);
        host.fail(pod, at, failureMessage(pod, budgets));
        return 'acted';
      }
      if (blockingBudget(pod, pods, budgets, at)) continue;
      host.replace(pod, at);
      return 'acted';
    }
    return 'blocked';
  }

  /**
   * Every candidate is held by a budget: nothing changes until some pod turns ready or goes away, so
   * jump to the last step before that (keeps a long clock advance cheap).
   */
  private skipUntilChange(host: RolloutHost, at: number, due: number): void {
    const changes = host
      .podsAt(at)
      .flatMap((pod) => [pod.readyAt, pod.goneAt ?? Infinity])
      .filter((time) => time > at);
    const next = Math.min(...changes);
    if (!Number.isFinite(next)) {
      this.steps = due;
      return;
    }
    const firstStepAfter = Math.ceil((next - this.plan.startsAt) / this.plan.intervalMs);
    this.steps = Math.min(due, Math.max(this.steps, firstStepAfter - 1));
  }
}
