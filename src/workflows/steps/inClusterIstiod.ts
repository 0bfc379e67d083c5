/**
 * Clusters with an in-cluster control plane installed by asmcli (seed 002): istiod Deployments
 * `istiod-asm-XXXX` in istio-system, namespaces labelled `istio.io/rev=asm-XXXX`, and the way from
 * there to the managed control plane.
 *
 * The choice, and why: `enable cluster` provisions the managed control plane as usual (the fleet
 * steps change nothing inside the cluster; the in-cluster istiod keeps serving its namespaces) but
 * never relabels a namespace an in-cluster revision serves, and says so before any change.
 * `/mesh inject REF namespaces=NS` moves such a namespace, one command per namespace, with approval:
 * `istio.io/rev=asm-XXXX` → `istio.io/rev=<managed revision>` in one merge-patch, its workloads
 * restarted, its pods checked to run the managed proxy. Each move is a jump of control-plane version
 * (1.11 → the channel's) and the restart is where it breaks if it does; one namespace at a time keeps
 * the way back open (relabel it `asm-XXXX` and restart) while the in-cluster istiod is still there.
 * Removing the in-cluster istiod is the user's last step, once no namespace uses it: meshops gives the
 * commands and runs none of them. A namespace carries one revision label, never two.
 */
import { MeshopsError } from '../../errors.js';
import { listed } from '../../text.js';
import type { StepContext } from '../engine.js';
import type { IstiodDeployment, Kube, MeshState, NamespaceInfo } from '../ports.js';
import {
  clusterKey,
  type InClusterControlPlane,
  type InClusterMigration,
  type InjectionPlan,
  type NamespacePlan,
} from '../run.js';

/** asm-managed, asm-managed-rapid, asm-managed-stable: revisions Google runs outside the cluster. */
export function isManagedRevision(revision: string): boolean {
  return revision.startsWith('asm-managed');
}

/** The in-cluster revision a namespace is labelled with (`istio.io/rev`, not a managed one), if any. */
export function inClusterRevisionOf(labels: Record<string, string>): string | undefined {
  const revision = labels['istio.io/rev'];
  return revision && !isManagedRevision(revision) ? revision : undefined;
}

const byRevision = (a: IstiodDeployment, b: IstiodDeployment) =>
  a.revision.localeCompare(b.revision) || a.name.localeCompare(b.name);

/** The cluster's in-cluster control plane, from its istiods and namespace labels; null when it has none. Pure. */
export function findInClusterControlPlane(
  istiods: IstiodDeployment[],
  namespaces: NamespaceInfo[],
  managedRevision: string,
): InClusterControlPlane | null {
  const inCluster = istiods.filter((istiod) => !isManagedRevision(istiod.revision)).sort(byRevision);
  const labelled = namespaces
    .flatMap((ns) => {
      const revision = inClusterRevisionOf(ns.labels);
      return revision ? [{ name: ns.name, revision }] : [];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  if (inCluster.length === 0 && labelled.length === 0) return null;
  return { managedRevision, istiods: inCluster, namespaces: labelled };
}

export interface MigrationInput {
  /** The namespaces the run was asked for, as the plan read them. */
  plans: NamespacePlan[];
  istiods: IstiodDeployment[];
  /** Every namespace of the cluster (for inject: which stay on an in-cluster revision after it). */
  all: NamespaceInfo[];
  managedRevision: string;
  /** enable cluster: leave namespaces on an in-cluster revision as they are; inject: move them. */
  leave: boolean;
}

/**
 * Which of the asked namespaces the run changes, and what it does about the in-cluster control plane;
 * `migration` is undefined when the cluster has none (no istiod, no namespace on an in-cluster revision). Pure.
 */
export function planMigration(input: MigrationInput): {
  change: NamespacePlan[];
  migration: InClusterMigration | undefined;
} {
  const { plans, managedRevision } = input;
  const found = findInClusterControlPlane(input.istiods, [], managedRevision);
  const onInCluster = plans.filter((ns) => inClusterRevisionOf(ns.currentLabels));
  if (!found && onInCluster.length === 0) return { change: plans, migration: undefined };
  const istiods = found?.istiods ?? [];
  if (input.leave) {
    return {
      change: plans.filter((ns) => !inClusterRevisionOf(ns.currentLabels)),
      migration: {
        managedRevision,
        istiods,
        moved: [],
        left: onInCluster.map((ns) => ({
          name: ns.name,
          revision: inClusterRevisionOf(ns.currentLabels)!,
          pods: ns.pods,
          workloads: ns.workloads.length,
        })),
      },
    };
  }
  const asked = new Set(plans.map((ns) => ns.name));
  const left = (findInClusterControlPlane([], input.all, managedRevision)?.namespaces ?? []).filter(
    (ns) => !asked.has(ns.name),
  );
  return {
    change: plans,
    migration: {
      managedRevision,
      istiods,
      moved: onInCluster.map((ns) => ({ name: ns.name, from: inClusterRevisionOf(ns.currentLabels)! })),
      left,
    },
  };
}

/** The relabel a plan makes on one namespace, `istio.io/rev=asm-XXXX` → the managed revision, if it does. */
export function relabelOf(plan: InjectionPlan, ns: NamespacePlan): { from: string; to: string } | null {
  const from = inClusterRevisionOf(ns.currentLabels);
  if (plan.mode !== 'inject' || plan.set?.key !== 'istio.io/rev' || !from) return null;
  return { from, to: plan.set.value };
}

/** The in-cluster revisions an inject run leaves with no namespace: the user may remove them now. Pure. */
export function freedRevisions(migration: InClusterMigration): string[] {
  const still = new Set(migration.left.map((ns) => ns.revision));
  return [...new Set(migration.moved.map((ns) => ns.from))].filter((rev) => !still.has(rev)).sort();
}

/** The command that moves one namespace to the managed control plane. */
export function moveCommand(cluster: string, namespace: string): string {
  return `/mesh inject ${cluster} namespaces=${namespace}`;
}

/** The check that nothing uses a revision any more, before it is removed. */
export function unusedCheck(revision: string): string {
  return `kubectl get namespaces -l istio.io/rev=${revision}`;
}

/**
 * The last step of a migration, which the user runs: remove an in-cluster revision once no namespace
 * uses it. istioctl (of that version: asmcli leaves one in its output directory), or kubectl.
 */
export function uninstallCommands(revision: string, istiod = `istiod-${revision}`): string[] {
  return [
    `istioctl uninstall --revision ${revision} -y`,
    `kubectl delete deployment,service,horizontalpodautoscaler,poddisruptionbudget ${istiod} -n istio-system --ignore-not-found`,
    `kubectl delete mutatingwebhookconfiguration istio-sidecar-injector-${revision} --ignore-not-found`,
  ];
}

/** The outcome's sentence about an in-cluster control plane, if the run met one. */
export function migrationOutcome(cluster: string, migration: InClusterMigration | undefined): string | null {
  if (!migration) return null;
  const parts: string[] = [];
  if (migration.moved.length === 0 && migration.left.length > 0) {
    const names = listed(migration.left.map((ns) => `\`${ns.name}\``));
    const revisions = [...new Set(migration.left.map((ns) => `\`${ns.revision}\``))].join(', ');
    parts.push(
      `${names} left on the in-cluster revision ${revisions}, not relabelled: move each with \`${moveCommand(cluster, migration.left[0]!.name)}\` (one namespace per command; the migration path is in the thread)`,
    );
  }
  const freed = freedRevisions(migration);
  if (freed.length > 0) {
    parts.push(
      `no namespace uses ${freed.map((rev) => `\`${rev}\``).join(', ')} any more: remove it with ${freed.map((rev) => `\`${uninstallCommands(rev, migration.istiods.find((i) => i.revision === rev)?.name)[0]}\``).join(', ')}`,
    );
  }
  const still = [...new Set(migration.left.map((ns) => ns.revision))];
  if (migration.moved.length > 0 && still.length > 0) {
    parts.push(
      `still on an in-cluster revision: ${listed(migration.left.map((ns) => `\`${ns.name}\` (${ns.revision})`))}`,
    );
  }
  return parts.length ? parts.join('; ') : null;
}

/**
 * enable cluster's preflight, before any change: an in-cluster control plane is said in the thread,
 * with what the run leaves alone and the way off it. Reads the cluster as the preflight does.
 */
export async function announceInClusterControlPlane(ctx: StepContext, kube: Kube): Promise<void> {
  const [istiods, namespaces] = await Promise.all([kube.listIstiods(), kube.listNamespaces()]);
  const managedRevision = ctx.run.facts.meshRevision ?? 'asm-managed';
  const found = findInClusterControlPlane(istiods, namespaces, managedRevision);
  if (found) await ctx.deps.notifier.emit(ctx.run, { type: 'inClusterControlPlane', found });
}

/**
 * inject: a namespace on an in-cluster revision moves only to a managed control plane that is ACTIVE
 * (data plane too), else its restarted pods would get no sidecar at all. Until then it is refused,
 * saying that the in-cluster istiod goes on serving it. Nothing when no asked namespace is on one.
 */
export async function refuseMoveBeforeActive(
  ctx: StepContext,
  kube: Kube,
  mesh: MeshState | null,
): Promise<void> {
  const controlPlane = mesh?.controlPlane?.state;
  const dataPlane = mesh?.dataPlane?.state;
  if (controlPlane === 'ACTIVE' && dataPlane === 'ACTIVE') return;
  const asked = new Set(ctx.run.options.namespaces);
  const moving = (await kube.listNamespaces()).flatMap((ns) => {
    const revision = inClusterRevisionOf(ns.labels);
    return asked.has(ns.name) && revision ? [{ name: ns.name, revision }] : [];
  });
  if (moving.length === 0) return;
  const key = clusterKey(ctx.run.cluster);
  const which = listed(moving.map((ns) => `\`${ns.name}\` (${ns.revision})`));
  const state =
    controlPlane === 'ACTIVE'
      ? `its managed data plane is ${dataPlane ?? 'not enabled'}`
      : `its managed control plane is ${controlPlane ?? 'not enabled'}`;
  throw new MeshopsError(
    'FAILED_PRECONDITION',
    `${which} cannot move to the managed control plane of ${key} yet: ${state}, not ACTIVE, so its restarted pods would get no sidecar. It stays on its in-cluster revision, which keeps serving it; nothing was changed`,
    {
      hint: `wait until \`/mesh status ${key}\` shows the managed control plane and data plane ACTIVE (\`/mesh enable cluster ${key}\` turns them on), then \`${moveCommand(key, moving[0]!.name)}\` again`,
    },
  );
}

/** A namespace's label as status shows it: `istio.io/rev=X` or `istio-injection=enabled`. */
export interface LabelledNamespace {
  name: string;
  label: string;
}

/** One control-plane revision of a cluster and the namespaces that use it. */
export interface RevisionUse {
  revision: string;
  /** in-cluster: an istiod Deployment serves it; managed: Google runs it; unserved: named by namespaces, served by nothing. */
  kind: 'in-cluster' | 'managed' | 'unserved';
  istiod?: IstiodDeployment;
  namespaces: string[];
}

/**
 * The revisions of a cluster and which namespaces use which, for `/mesh status`: every in-cluster
 * istiod, the managed revisions (`managed`: those provisioned or the channel's when management is
 * on), and any revision a namespace names that nothing serves. Namespaces on `istio-injection=enabled`
 * follow the default injector, not a revision: they are not here. Pure.
 */
export function revisionUses(input: {
  istiods: IstiodDeployment[];
  namespaces: LabelledNamespace[];
  managed: string[];
}): RevisionUse[] {
  const byRev = new Map<string, string[]>();
  for (const ns of input.namespaces) {
    if (!ns.label.startsWith('istio.io/rev=')) continue;
    const revision = ns.label.slice('istio.io/rev='.length);
    byRev.set(revision, [...(byRev.get(revision) ?? []), ns.name].sort());
  }
  const uses: RevisionUse[] = [];
  const seen = new Set<string>();
  for (const istiod of [...input.istiods].sort(byRevision)) {
    if (seen.has(istiod.revision)) continue;
    seen.add(istiod.revision);
    uses.push({
      revision: istiod.revision,
      kind: 'in-cluster',
      istiod,
      namespaces: byRev.get(istiod.revision) ?? [],
    });
  }
  const managed = [...new Set([...input.managed, ...[...byRev.keys()].filter(isManagedRevision)])].sort();
  for (const revision of managed) {
    if (seen.has(revision)) continue;
    seen.add(revision);
    uses.push({ revision, kind: 'managed', namespaces: byRev.get(revision) ?? [] });
  }
  for (const [revision, namespaces] of [...byRev.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (!seen.has(revision)) uses.push({ revision, kind: 'unserved', namespaces });
  }
  return uses;
}
