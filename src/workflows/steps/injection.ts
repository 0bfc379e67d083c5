/**
 * The steps every workflow that changes sidecar injection shares: plan, approval, label, restart,
 * verify. Parameterised by the mode: `inject` sets the injection label (and removes the other one),
 * `uninject` removes both; verify expects istio-proxy in every pod, or in none.
 */
import { createHash } from 'node:crypto';
import { MeshopsError } from '../../errors.js';
import { listed } from '../../text.js';
import type { Step, StepContext } from '../engine.js';
import type { Kube } from '../ports.js';
import type {
  ApprovalState,
  InClusterMigration,
  InjectionLabel,
  InjectionPlan,
  NamespacePlan,
  RunRecord,
} from '../run.js';
import { kubeOfRun, unreachableInDryRun } from './access.js';
import { dryRunStopsHere } from '../dryRun.js';
import { minutes, need, poll } from './common.js';
import { isManagedRevision, planMigration } from './inClusterIstiod.js';
import { isPattern, resolveNamespaces } from './namespaceSelection.js';

export type InjectionMode = 'inject' | 'uninject';

const injectionLabels: InjectionLabel[] = ['istio-injection', 'istio.io/rev'];

/** The plan's namespaces for an outcome line: the first 20 and a count of the rest. */
export function plannedNamespaces(plan: InjectionPlan): string {
  return listed(plan.namespaces.map((ns) => `\`${ns.name}\``));
}

/** `key=value` of what a plan sets, or what it removes. */
export function injectionLabel(plan: InjectionPlan): string {
  return plan.set ? `${plan.set.key}=${plan.set.value}` : `no ${plan.remove.join(' or ')}`;
}

/** The namespace's labels are already as the plan wants them. */
function labelledAsPlanned(
  plan: Pick<InjectionPlan, 'set' | 'remove'>,
  labels: Record<string, string>,
): boolean {
  return (
    (!plan.set || labels[plan.set.key] === plan.set.value) &&
    plan.remove.every((key) => labels[key] === undefined)
  );
}

/** A managed revision label already in use by one of the namespaces (a cluster on revision labels). */
function managedRevisionInUse(namespaces: NamespacePlan[]): string | undefined {
  return namespaces
    .map((ns) => ns.currentLabels['istio.io/rev'])
    .find((rev): rev is string => rev !== undefined && isManagedRevision(rev));
}

/** Namespaces read at once while planning: a plan of hundreds should not take hundreds of round trips in a row. */
const PLAN_CONCURRENCY = 8;

/** `fn` over `items`, at most `limit` at a time; the results in the order of `items`. */
async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The namespaces a command named; patterns (`team-*`) are matched against the cluster's list. */
async function askedNamespaces(kube: Kube, asked: string[], cluster: string): Promise<string[]> {
  if (!asked.some(isPattern)) return asked;
  return resolveNamespaces(
    asked,
    (await kube.listNamespaces()).map((ns) => ns.name),
    cluster,
  );
}

export interface PlanOptions {
  /** The namespaces to change; default: the ones the command named. */
  namespacesOf?: (kube: Kube) => Promise<string[]>;
  /** Plan (and so ask for approval) even with no namespace to change. */
  always?: boolean;
  /**
   * Leave namespaces on an in-cluster revision as they are (enable cluster); without it, inject moves
   * them to the managed revision. See steps/inClusterIstiod.ts for why.
   */
  leaveInCluster?: boolean;
}

/** Reads each namespace (it must exist), its workloads, pods and PDBs, and decides the labels. */
export function planInjection(mode: InjectionMode, options: PlanOptions = {}): Step {
  return async (ctx) => {
    const { notifier, policy } = ctx.deps;
    const unreachable = unreachableInDryRun(ctx);
    if (unreachable) return dryRunStopsHere(unreachable);
    const kube = kubeOfRun(ctx);
    const namespaces = options.namespacesOf
      ? await options.namespacesOf(kube)
      : await askedNamespaces(kube, ctx.run.options.namespaces, ctx.run.cluster.name);
    if (namespaces.length === 0 && !options.always) {
      return { type: 'next', skipped: true, detail: 'no namespaces asked for' };
    }
    /** The sidecar revisions the pods of each namespace run, where the pods say. */
    const sidecarRevisions = new Map<string, Set<string>>();
    const read = await inParallel(namespaces, PLAN_CONCURRENCY, async (name): Promise<NamespacePlan> => {
      const ns = await kube.getNamespace(name);
      if (!ns) {
        throw new MeshopsError('NOT_FOUND', `namespace ${name} does not exist in ${ctx.run.cluster.name}`, {
          hint: 'create it first, or leave it out of the namespaces',
        });
      }
      const workloads = await kube.listWorkloads(name, ['Deployment', ...policy.restartKinds]);
      const pods = (await kube.listPods(name)).filter(
        (pod) => pod.phase === 'Running' || pod.phase === 'Pending',
      );
      sidecarRevisions.set(
        name,
        new Set(pods.flatMap((pod) => (pod.sidecarRevision ? [pod.sidecarRevision] : []))),
      );
      return {
        name,
        currentLabels: ns.labels,
        workloads: workloads.map(({ kind, name: workload, replicas }) => ({
          kind,
          name: workload,
          replicas,
        })),
        pods: pods.length,
        podDisruptionBudgets: await kube.countPodDisruptionBudgets(name),
        // Every pod already as wanted: nothing of this namespace needs to restart.
        settled: pods.every((pod) => pod.hasIstioProxy === (mode === 'inject')),
      };
    });
    let plans = read;
    let migration: InClusterMigration | undefined;
    if (mode === 'inject') {
      const managedRevision = need(ctx.run.facts.meshRevision, 'the managed revision');
      const istiods = await kube.listIstiods();
      const inCluster = istiods.some((istiod) => !isManagedRevision(istiod.revision));
      ({ change: plans, migration } = planMigration({
        plans: read,
        istiods,
        // Which namespaces stay on an in-cluster revision after an inject: read only where there is one.
        all: inCluster && !options.leaveInCluster ? await kube.listNamespaces() : [],
        managedRevision,
        leave: options.leaveInCluster ?? false,
      }));
      if (plans.length === 0 && !options.always) {
        const left = migration?.left ?? [];
        return {
          type: 'next',
          skipped: true,
          facts: migration ? { migration } : {},
          detail: `${left.map((ns) => `\`${ns.name}\``).join(', ')} left on the in-cluster revision: not relabelled`,
        };
      }
    }
    let injection: InjectionPlan;
    if (mode === 'uninject') {
      injection = {
        mode,
        set: null,
        remove: injectionLabels,
        reason: 'sidecar injection off: new pods start without istio-proxy',
        namespaces: plans,
      };
    } else {
      // Beside an in-cluster istiod, a revision label names the managed control plane unambiguously
      // (`istio-injection` would go to whichever injector holds the default tag).
      const revision = migration ? migration.managedRevision : managedRevisionInUse(plans);
      const inCluster = [
        ...new Set([
          ...(migration?.istiods ?? []).map((i) => i.revision),
          ...(migration?.moved ?? []).map((m) => m.from),
        ]),
      ];
      injection = revision
        ? {
            mode,
            set: { key: 'istio.io/rev', value: revision },
            remove: ['istio-injection'],
            reason: migration
              ? `the cluster has an in-cluster control plane (${inCluster.join(', ')}): namespaces go to the managed ${revision} by revision label, one label per namespace`
              : `the cluster already uses revision ${revision} (revision labels)`,
            namespaces: plans,
          }
        : {
            mode,
            set: { key: 'istio-injection', value: 'enabled' },
            remove: ['istio.io/rev'],
            reason: 'the default for managed Cloud Service Mesh',
            namespaces: plans,
          };
    }
    // A namespace labelled as planned, whose pods are all as wanted, is left alone.
    // Pods on another revision's sidecar (an in-cluster istiod's) are not as wanted either.
    const wantedRevision = injection.set?.key === 'istio.io/rev' ? injection.set.value : undefined;
    for (const ns of injection.namespaces)
      ns.settled =
        ns.settled &&
        labelledAsPlanned(injection, ns.currentLabels) &&
        (!wantedRevision ||
          [...(sidecarRevisions.get(ns.name) ?? [])].every((rev) => rev === wantedRevision));
    const pods = plans.reduce((sum, ns) => sum + ns.pods, 0);
    const detail = `${injectionLabel(injection)} on ${plans.length} namespace(s), ${pods} pod(s)`;
    await notifier.emit(ctx.run, { type: 'injectionPlanned', plan: injection });
    return { type: 'next', facts: { plan: injection, ...(migration ? { migration } : {}) }, detail };
  };
}

/** A new approval request for the plan `hash` names: reminded at half-time, expiring with the policy's timeout. */
export function approvalRequested(ctx: StepContext, hash: string, required: number): ApprovalState {
  const { policy } = ctx.deps;
  return {
    requestedAt: ctx.now,
    remindAt: ctx.now + policy.approvalTimeoutMs / 2,
    expiresAt: ctx.now + policy.approvalTimeoutMs,
    reminded: false,
    planHash: hash,
    required,
    approvers: policy.approvers,
    approvals: [],
  };
}

/**
 * The approval prompt, its reminder at half-time and its expiry. `untouched` says what stays as it
 * is when the run is rejected or expires.
 */
export interface ApprovalOptions {
  /** What the prompt shows and a click names by its hash; none: nothing to approve. Default: the injection plan. */
  planOf?: (run: RunRecord) => object | undefined;
  /** The run asks again (its plan changed after an earlier prompt): the prompt is renewed, not posted anew. */
  asksAgain?: (run: RunRecord) => boolean;
}

export function awaitApproval(untouched: string, options: ApprovalOptions = {}): Step {
  const planOf = options.planOf ?? ((run: RunRecord) => run.facts.plan);
  return async (ctx) => {
    const { notifier, policy } = ctx.deps;
    const plan = planOf(ctx.run);
    if (!plan) return { type: 'next', skipped: true, detail: 'nothing to change' };
    const current = ctx.run.approval;
    if (!current) {
      // The prompt shows what approving lets happen, call by call, as a dry run would list it.
      const after = await ctx.rehearseRest();
      const requested: ApprovalState = {
        ...approvalRequested(ctx, planHash(plan), policy.approvalsNeeded(ctx.run.cluster.project)),
        ...(after ? { after } : {}),
      };
      const again = options.asksAgain?.(ctx.run) ?? false;
      await notifier.emit(
        { ...ctx.run, approval: requested },
        again ? { type: 'approvalRenewed', hash: requested.planHash } : { type: 'approvalRequested' },
      );
      return { type: 'approval', approval: requested, wakeAt: requested.remindAt };
    }
    if (current.decision) {
      await notifier.emit(ctx.run, { type: 'approvalClosed' });
      const { decision } = current;
      if (decision.approved) {
        const who = current.approvals.map((a) => `<@${a.by}>`).join(' and ');
        return { type: 'next', detail: `approved by ${who}` };
      }
      const why = decision.reason ? `: “${decision.reason}”` : '';
      return {
        type: 'finish',
        status: 'rejected',
        outcome: { message: `Rejected by <@${decision.by}>${why}. ${untouched}` },
      };
    }
    if (ctx.now >= current.expiresAt) {
      await notifier.emit(ctx.run, { type: 'approvalClosed' });
      return {
        type: 'finish',
        status: 'expired',
        outcome: {
          message: `Nobody decided within ${minutes(policy.approvalTimeoutMs)}. ${untouched}`,
          hint: 'run the command again to ask for approval anew',
        },
      };
    }
    if (ctx.now >= current.remindAt && !current.reminded) {
      await notifier.emit(ctx.run, {
        type: 'approvalReminder',
        expiresAt: current.expiresAt,
        remainingMs: current.expiresAt - ctx.now,
      });
      return { type: 'approval', approval: { ...current, reminded: true }, wakeAt: current.expiresAt };
    }
    return {
      type: 'approval',
      approval: current,
      wakeAt: current.reminded ? current.expiresAt : current.remindAt,
    };
  };
}

/** A short, stable hash of what the prompt shows: the namespaces, their labels and what will restart. */
export function planHash(plan: object): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 12);
}

/** JSON merge-patches each namespace's labels, unless it is labelled so already (read first). */
export const labelNamespaces: Step = async (ctx) => {
  const { notifier } = ctx.deps;
  const injection = ctx.run.facts.plan;
  if (!injection) return { type: 'next', skipped: true };
  const kube = kubeOfRun(ctx);
  const labels: Record<string, string | null> = Object.fromEntries(
    injection.remove.map((key) => [key, null]),
  );
  if (injection.set) labels[injection.set.key] = injection.set.value;
  for (const ns of injection.namespaces) {
    const current = await kube.getNamespace(ns.name);
    if (current && labelledAsPlanned(injection, current.labels)) continue;
    await kube.patchNamespaceLabels(ns.name, labels);
  }
  await notifier.emit(ctx.run, { type: 'namespacesLabelled', plan: injection });
  return { type: 'next', detail: injectionLabel(injection) };
};

/** What `kubectl rollout restart` does, once per run (one restartedAt), for namespaces not settled. */
export const restartWorkloads: Step = async (ctx) => {
  const { notifier } = ctx.deps;
  const injection = ctx.run.facts.plan;
  if (!injection) return { type: 'next', skipped: true };
  if (!ctx.run.options.restart) {
    return { type: 'next', skipped: true, detail: 'restart=false: pods change when they next restart' };
  }
  const kube = kubeOfRun(ctx);
  const restartedAt = ctx.run.facts.restartedAt ?? new Date(ctx.now).toISOString();
  let count = 0;
  for (const ns of injection.namespaces) {
    if (ns.settled) continue;
    for (const workload of ns.workloads) {
      await kube.restartWorkload({ ...workload, namespace: ns.name }, restartedAt);
      count++;
    }
  }
  await notifier.emit(ctx.run, { type: 'workloadsRestarted', count, restartedAt });
  return { type: 'next', facts: { restartedAt }, detail: `${count} workload(s)` };
};

/** Every running pod has istio-proxy (inject) or none has (uninject); waits, then names the pods. */
export const verifyPods: Step = async (ctx) => {
  const { notifier, policy } = ctx.deps;
  const injection = ctx.run.facts.plan;
  if (!injection || !ctx.run.options.restart) return { type: 'next', skipped: true };
  const withProxy = injection.mode === 'inject';
  // A revision label: the pods must run that revision's proxy, not the one they had (an in-cluster istiod's).
  const revision = injection.set?.key === 'istio.io/rev' ? injection.set.value : undefined;
  const kube = kubeOfRun(ctx);
  const wrong: string[] = [];
  const otherRevision: string[] = [];
  const notReady: string[] = [];
  let total = 0;
  for (const ns of injection.namespaces) {
    for (const pod of await kube.listPods(ns.name)) {
      if (pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
      total++;
      if (pod.hasIstioProxy !== withProxy) wrong.push(`${ns.name}/${pod.name}`);
      else if (revision && pod.sidecarRevision && pod.sidecarRevision !== revision)
        otherRevision.push(`${ns.name}/${pod.name} (${pod.sidecarRevision})`);
      else if (!pod.ready || pod.phase !== 'Running') notReady.push(`${ns.name}/${pod.name}`);
    }
  }
  const proxy = withProxy ? `with istio-proxy${revision ? ` of ${revision}` : ''}` : 'without istio-proxy';
  if (wrong.length === 0 && otherRevision.length === 0 && notReady.length === 0) {
    await notifier.emit(ctx.run, { type: 'podsVerified', pods: total, withProxy });
    return { type: 'next', facts: { verifiedPods: total }, detail: `${total} pod(s) ${proxy}` };
  }
  if (ctx.elapsedMs > policy.verifyTimeoutMs) {
    const list = (pods: string[]) =>
      pods.slice(0, 20).join(', ') + (pods.length > 20 ? ` and ${pods.length - 20} more` : '');
    throw new MeshopsError(
      'VERIFY_FAILED',
      [
        wrong.length ? `pods ${withProxy ? 'without' : 'still with'} istio-proxy: ${list(wrong)}` : '',
        otherRevision.length
          ? `pods still on another revision's proxy, not ${revision}: ${list(otherRevision)}`
          : '',
        notReady.length ? `pods not ready: ${list(notReady)}` : '',
      ]
        .filter(Boolean)
        .join('; '),
      { hint: 'check the namespace labels, the data plane state and `kubectl describe pod` of those pods' },
    );
  }
  return poll(
    ctx,
    `${total - wrong.length - otherRevision.length - notReady.length}/${total} pod(s) ready ${proxy}`,
  );
};
