/**
 * `/mesh enable cluster`: DESIGN.md steps 1–14 as a step machine. Every step reads the world first
 * and acts only if needed, so it can run again after a crash; a step that waits returns `wait` and
 * is called again later with the same record.
 */
import { MeshopsError, isMeshopsError } from '../errors.js';
import { failure, type Step, type StepContext } from './engine.js';
import { clusterResourceLink } from './names.js';
import type { ClusterInfo, MeshCondition, PlaneState } from './ports.js';
import type { WorkflowDefinition } from './registry.js';
import { clusterKey, type EnableFacts, type RunRecord, type StepName } from './run.js';
import { clusterAccess, viaGateway } from './steps/access.js';
import { needFleet, readCluster, setManagement } from './steps/cluster.js';
import { crossProjectGrants, grantCommands, MULTI_PROJECT_DOC } from './steps/fleetHost.js';
import { resolveNamespaces } from './steps/namespaceSelection.js';
import { awaitOperation, minutes, need, poll, startedOperation } from './steps/common.js';
import { migrationOutcome } from './steps/inClusterIstiod.js';
import { preflight } from './steps/preflight.js';
import {
  awaitApproval,
  injectionLabel,
  plannedNamespaces,
  labelNamespaces,
  planInjection,
  restartWorkloads,
  verifyPods,
} from './steps/injection.js';

export { meshRevisionByChannel } from './steps/cluster.js';

/** `auto` registers the membership in the cluster's region (us-central1-a → us-central1). */
export function membershipLocation(configured: string, clusterLocation: string): string {
  if (configured !== 'auto') return configured;
  return /^([a-z]+-[a-z]+\d+)-[a-z]$/.exec(clusterLocation)?.[1] ?? clusterLocation;
}

/** The facts of an enable-cluster run (its steps run on no other kind). */
function factsOf(ctx: { run: RunRecord }): EnableFacts {
  if (ctx.run.kind !== 'enable-cluster')
    throw new MeshopsError('INTERNAL', `run ${ctx.run.id} is not an enable-cluster run`);
  return ctx.run.facts;
}

const resolve: Step = async (ctx) => {
  const { notifier } = ctx.deps;
  const { cluster, projectNumber, fleet, meshRevision } = await readCluster(ctx, { mustRun: true });
  const host = fleet.project === ctx.run.cluster.project ? '' : `, fleet host ${fleet.project}`;
  const detail = `${cluster.autopilot ? 'Autopilot' : 'Standard'}, ${cluster.releaseChannel} channel → ${meshRevision}${host}`;
  await notifier.emit(ctx.run, { type: 'clusterResolved', cluster, projectNumber, meshRevision, fleet });
  return { type: 'next', facts: { cluster, projectNumber, fleet, meshRevision }, detail };
};

/**
 * Reads the cluster's namespaces through Connect Gateway at `membership` and names every one asked for
 * that is missing (`after` says what was done already).
 */
async function namespacesExist(
  ctx: StepContext,
  cluster: ClusterInfo,
  membership: string,
  after: string,
): Promise<void> {
  const asked = ctx.run.options.namespaces;
  if (asked.length === 0) return;
  const host = needFleet(ctx);
  const access = clusterAccess(ctx.deps.policy.kubeAccess, ctx.run.cluster, cluster, {
    name: membership,
    projectNumber: host.number,
  });
  const existing = (await ctx.deps.kube.forCluster(access).listNamespaces()).map((ns) => ns.name);
  resolveNamespaces(asked, existing, ctx.run.cluster.name, after);
}

const register: Step = async (ctx) => {
  const { fleet, notifier, policy } = ctx.deps;
  const { location, name } = ctx.run.cluster;
  const waiting = await awaitOperation(ctx, 'fleet registration');
  if (waiting) return waiting;
  const link = clusterResourceLink(ctx.run.cluster);
  const projectNumber = need(ctx.run.facts.projectNumber, 'the project number');
  const project = needFleet(ctx).project;
  const existing = await fleet.findMembership(project, ctx.run.cluster, projectNumber);
  if (existing) {
    const created = ctx.run.facts.operation !== undefined;
    const cluster = need(ctx.run.facts.cluster, 'the cluster');
    // The check preflight could not make before the cluster was a fleet member (see preflight). A dry
    // run only planned the membership, so the gateway would not know it yet.
    if (created && !ctx.run.dryRun && viaGateway(policy.kubeAccess, cluster)) {
      await namespacesExist(
        ctx,
        cluster,
        existing.name,
        `; the cluster was registered in the fleet as ${existing.name} (Connect Gateway reaches it only so; the next run reuses it), nothing else was changed`,
      );
    }
    await notifier.emit(ctx.run, { type: 'registered', membership: existing.name, reused: !created });
    return { type: 'next', facts: { membershipName: existing.name }, detail: existing.name };
  }
  if (ctx.run.facts.operation) {
    throw new MeshopsError(
      'OPERATION_FAILED',
      `the registration finished but no membership points at ${link}`,
    );
  }
  const loc = membershipLocation(policy.membershipLocation, location);
  try {
    const operation = await fleet.createMembership(project, loc, name, ctx.run.cluster, true);
    return startedOperation(ctx, operation, `registering ${name} in ${loc}`);
  } catch (error) {
    if (isMeshopsError(error, 'ALREADY_EXISTS')) {
      throw new MeshopsError(
        'CONFLICT',
        `a fleet membership named ${name} already exists in ${loc} for another cluster`,
        {
          cause: error,
          hint: `unregister it (gcloud container fleet memberships delete ${name} --location ${loc} --project ${project}) or rename`,
        },
      );
    }
    throw error;
  }
};

const label: Step = async (ctx) => {
  const { gke, notifier } = ctx.deps;
  // The fleet's project number: with a fleet host, the host's, so every cluster of the fleet shares one mesh.
  const meshId = `proj-${needFleet(ctx).number}`;
  const waiting = await awaitOperation(ctx, 'setting the mesh_id label');
  if (waiting) return waiting;
  const detail = `mesh_id=${meshId}`;
  if (ctx.run.facts.operation) {
    await notifier.emit(ctx.run, { type: 'labelled', label: detail, already: false });
    return { type: 'next', detail };
  }
  const operation = await gke.setResourceLabels(ctx.run.cluster, { mesh_id: meshId });
  if (!operation) {
    await notifier.emit(ctx.run, { type: 'labelled', label: detail, already: true });
    return { type: 'next', detail };
  }
  return startedOperation(ctx, operation, `labelling ${detail}`);
};

const feature: Step = async (ctx) => {
  const waiting = await awaitOperation(ctx, 'enabling the servicemesh feature');
  if (waiting) return waiting;
  if (ctx.run.facts.operation) return { type: 'next', detail: 'servicemesh feature enabled' };
  const operation = await ctx.deps.fleet.enableMeshFeature(needFleet(ctx).project);
  if (!operation) return { type: 'next', detail: 'servicemesh feature already enabled' };
  return startedOperation(ctx, operation, 'enabling the servicemesh feature');
};

/** The checklist's one-line detail of a plane: its state, detail codes and implementation. */
export function describePlane(plane: PlaneState): string {
  const details = plane.details.map((d) => `${d.code}${d.details ? `: ${d.details}` : ''}`).join('; ');
  return `*${plane.state}*${details ? ` (${details})` : ''}${plane.implementation ? ` — ${plane.implementation}` : ''}`;
}

/** Every this many polls of a plane, the cluster is read too (it may have been deleted meanwhile). */
const CLUSTER_CHECK_EVERY = 5;

const planeLabels = { controlPlane: 'Control plane', dataPlane: 'Data plane' } as const;

/**
 * A plane in FAILED_PRECONDITION with an ERROR condition waits on a person, not on time: Google retries
 * every 15 minutes but nothing changes until someone fixes what the condition names (a fleet host's
 * service agent without its role on the cluster's project, which preflight could not see when it may not
 * read that project's IAM policy). The run stops with the fix instead of polling to its timeout.
 */
function blockingCondition(
  ctx: StepContext,
  label: string,
  state: PlaneState,
  conditions: readonly MeshCondition[],
): MeshopsError | undefined {
  if (state.state !== 'FAILED_PRECONDITION') return undefined;
  const errors = conditions.filter((c) => c.severity === 'ERROR');
  if (errors.length === 0) return undefined;
  const said = [
    ...state.details.map((d) => `${d.code}${d.details ? `: ${d.details}` : ''}`),
    ...errors.map((c) => `condition ${c.code}: ${c.details}`),
  ].join('; ');
  const docs = errors.flatMap((c) => (c.documentationLink ? [c.documentationLink] : []));
  const host = needFleet(ctx);
  const project = ctx.run.cluster.project;
  if (host.project !== project && errors.some((c) => c.code === 'MESH_IAM_PERMISSION_DENIED')) {
    const grant = crossProjectGrants(host).filter((g) => g.role === 'roles/anthosservicemesh.serviceAgent');
    return new MeshopsError(
      'CROSS_PROJECT_PERMISSION',
      `${label} FAILED_PRECONDITION: the fleet host ${host.project}'s Cloud Service Mesh service agent cannot provision on ${project} (${said})`,
      {
        hint: `${grantCommands(project, grant)}, then run the command again: the steps already done are skipped`,
        docs: docs[0] ?? MULTI_PROJECT_DOC,
      },
    );
  }
  return new MeshopsError('PROVISIONING_FAILED', `${label} FAILED_PRECONDITION (${said})`, {
    hint: `fix what the condition names${docs.length > 0 ? ` (${docs.join(', ')})` : ''}, then run the command again: the steps already done are skipped`,
    ...(docs[0] ? { docs: docs[0] } : {}),
  });
}

/**
 * Steps 7 and 8: poll the membership's mesh state until `plane` is ACTIVE. Every transition is
 * shown, of the data plane too while the control plane comes up, with the conditions and their links.
 */
function awaitPlane(plane: 'controlPlane' | 'dataPlane'): Step {
  const shown: Array<'controlPlane' | 'dataPlane'> =
    plane === 'controlPlane' ? ['controlPlane', 'dataPlane'] : ['dataPlane'];
  return async (ctx) => {
    const { fleet, notifier, policy } = ctx.deps;
    const membershipName = need(factsOf(ctx).membershipName, 'the membership');
    const host = needFleet(ctx);
    const mesh = await fleet.meshState(host.project, membershipName, host.number);
    const facts: Partial<Record<'controlPlane' | 'dataPlane', PlaneState>> = {};
    for (const which of shown) {
      const state = mesh?.[which] ?? { state: 'UNKNOWN', details: [] };
      const previous = factsOf(ctx)[which];
      facts[which] = state;
      if (
        previous?.state === state.state &&
        JSON.stringify(previous.details) === JSON.stringify(state.details)
      )
        continue;
      await notifier.emit(ctx.run, {
        type: 'planeChanged',
        plane: which,
        state,
        conditions: which === plane ? (mesh?.conditions ?? []) : [],
      });
    }
    const state = facts[plane]!;
    const label = planeLabels[plane];
    if (state.state === 'ACTIVE') return { type: 'next', facts, detail: describePlane(state) };
    const blocked = blockingCondition(ctx, label, state, mesh?.conditions ?? []);
    if (blocked) return failure(blocked);
    // The fleet goes on reporting a cluster someone deleted: look at the cluster itself now and then
    // (GKE's NOT_FOUND ends the run, see the engine).
    if (ctx.run.attempt.polls % CLUSTER_CHECK_EVERY === CLUSTER_CHECK_EVERY - 1) {
      await ctx.deps.gke.getCluster(ctx.run.cluster);
    }
    if (ctx.elapsedMs > policy.provisioningTimeoutMs) {
      // What Google last said is in the failure itself, not only somewhere up the thread.
      const conditions = mesh?.conditions ?? [];
      const said = [
        ...state.details.map((d) => `${d.code}${d.details ? `: ${d.details}` : ''}`),
        ...conditions.map((c) => `condition ${c.code}: ${c.details}`),
      ];
      const docs = conditions.flatMap((c) => (c.documentationLink ? [c.documentationLink] : []));
      return failure(
        new MeshopsError(
          'PROVISIONING_FAILED',
          `${label} still ${state.state} after ${minutes(policy.provisioningTimeoutMs)}${said.length > 0 ? ` (${said.join('; ')})` : ''}`,
          {
            hint:
              docs.length > 0
                ? `fix what the condition names (${docs.join(', ')}), then run the command again: the steps already done are skipped`
                : `check \`gcloud container fleet mesh describe --project ${host.project}\` and the states above`,
          },
        ),
      );
    }
    // Before management is on (or while a dry run only plans it), the fleet reports no state at all.
    return { ...poll(ctx, mesh?.[plane] ? state.state : 'not reported by the fleet yet'), facts };
  };
}

const done: Step = (ctx) => {
  const { plan: injection, meshRevision, verifiedPods } = ctx.run.facts;
  const parts = [`Cloud Service Mesh is on for \`${ctx.run.cluster.name}\` (${meshRevision ?? 'managed'})`];
  if (injection) {
    parts.push(`${plannedNamespaces(injection)} labelled \`${injectionLabel(injection)}\``);
  }
  if (verifiedPods !== undefined) parts.push(`${verifiedPods} pod(s) with istio-proxy`);
  const migration = migrationOutcome(clusterKey(ctx.run.cluster), ctx.run.facts.migration);
  if (migration) parts.push(migration);
  return Promise.resolve({
    type: 'finish',
    status: 'succeeded',
    outcome: { message: parts.join('; ') + '.' },
  });
};

const steps: Record<StepName, Step> = {
  resolve,
  preflight,
  register,
  label,
  feature,
  manage: setManagement('MANAGEMENT_AUTOMATIC'),
  controlPlane: awaitPlane('controlPlane'),
  dataPlane: awaitPlane('dataPlane'),
  // Namespaces on an in-cluster revision are left as they are: `/mesh inject` moves them one by one.
  plan: planInjection('inject', { leaveInCluster: true }),
  approval: awaitApproval('The managed mesh stays on; no namespace was touched.'),
  inject: labelNamespaces,
  restart: restartWorkloads,
  verify: verifyPods,
  done,
};

export const enableClusterWorkflow: WorkflowDefinition = {
  kind: 'enable-cluster',
  title: 'Enable Cloud Service Mesh on',
  approves: 'sidecar injection on',
  order: Object.keys(steps),
  steps,
  titles: {
    resolve: 'Resolve cluster',
    preflight: 'Preflight (services, Workload Identity, node pools, fleet, asmcli-only cases)',
    register: 'Register in the fleet',
    label: 'Label cluster mesh_id',
    feature: 'Enable the servicemesh feature',
    manage: 'Turn on managed mesh',
    controlPlane: 'Control plane ACTIVE',
    dataPlane: 'Data plane ACTIVE',
    plan: 'Plan sidecar injection',
    approval: 'Approval',
    inject: 'Label namespaces',
    restart: 'Restart workloads',
    verify: 'Verify istio-proxy in pods',
    done: 'Summary',
  },
  // Labelling the first namespace changes what users' pods run: from there the run goes to its end.
  pointOfNoReturn: 'inject',
};
