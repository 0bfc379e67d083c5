/**
 * `/mesh enable cluster`: DESIGN.md steps 1–14 as a step machine. Every step reads the world first
 * and acts only if needed, so it can run again after a crash; a step that waits returns `wait` and
 * is called again later with the same record.
 */
import { MeshopsError, isMeshopsError } from '../errors.js';
import { failure, type Step, type StepContext, type StepResult } from './engine.js';
import { clusterResourceLink } from './names.js';
import type { WorkflowDefinition } from './registry.js';
import type { ClusterInfo, Kube, OperationRef, PlaneState, ReleaseChannel } from './ports.js';
import type { InjectionPlan, NamespacePlan, StepName } from './run.js';

const MESH_SERVICE = 'mesh.googleapis.com';

export const meshRevisionByChannel: Record<ReleaseChannel, string> = {
  RAPID: 'asm-managed-rapid',
  REGULAR: 'asm-managed',
  STABLE: 'asm-managed-stable',
  EXTENDED: 'asm-managed-stable',
  UNSPECIFIED: 'asm-managed',
};

/** `auto` registers the membership in the cluster's region (us-central1-a → us-central1). */
export function membershipLocation(configured: string, clusterLocation: string): string {
  if (configured !== 'auto') return configured;
  return /^([a-z]+-[a-z]+\d+)-[a-z]$/.exec(clusterLocation)?.[1] ?? clusterLocation;
}

function poll(ctx: StepContext, detail?: string): StepResult {
  return {
    type: 'wait',
    delayMs: ctx.deps.policy.pollDelayMs(ctx.run.attempt.polls),
    ...(detail ? { detail } : {}),
  };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new MeshopsError('INTERNAL', `run record lacks ${what}; an earlier step did not save it`);
  return value;
}

/**
 * Waits on the long-running operation saved in the record, if any. Returns a result while the
 * operation is still going (or failed), undefined once it is done and the step may go on.
 */
async function awaitOperation(ctx: StepContext, what: string): Promise<StepResult | undefined> {
  const operation = ctx.run.facts.operation;
  if (!operation) return undefined;
  const status = await ctx.deps.operations.status(operation);
  if (status.done && status.error) {
    return failure(
      new MeshopsError('OPERATION_FAILED', `${what} failed: ${status.error}`, {
        hint: `see operation ${operation.name}`,
      }),
    );
  }
  if (status.done) return undefined;
  if (ctx.elapsedMs > ctx.deps.policy.operationTimeoutMs) {
    return failure(
      new MeshopsError(
        'TIMEOUT',
        `${what} did not finish in ${minutes(ctx.deps.policy.operationTimeoutMs)}`,
        {
          hint: `check operation ${operation.name}`,
        },
      ),
    );
  }
  return poll(ctx, `${what}: operation running`);
}

function startedOperation(ctx: StepContext, operation: OperationRef, detail: string): StepResult {
  return { type: 'wait', facts: { operation }, detail, delayMs: ctx.deps.policy.pollDelayMs(0) };
}

function minutes(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

const resolve: Step = async (ctx) => {
  const { gke, projects, notifier } = ctx.deps;
  const { cluster: ref } = ctx.run;
  const cluster = await gke.getCluster(ref);
  if (cluster.status !== 'RUNNING') {
    throw new MeshopsError('CLUSTER_NOT_RUNNING', `cluster ${ref.name} is ${cluster.status}, not RUNNING`, {
      hint: 'wait until the cluster is RUNNING and run the command again',
    });
  }
  const projectNumber = await projects.projectNumber(ref.project);
  const meshRevision = meshRevisionByChannel[cluster.releaseChannel];
  const detail = `${cluster.autopilot ? 'Autopilot' : 'Standard'}, ${cluster.releaseChannel} channel → ${meshRevision}`;
  await notifier.emit(ctx.run, { type: 'clusterResolved', cluster, projectNumber, meshRevision });
  return { type: 'next', facts: { cluster, projectNumber, meshRevision }, detail };
};

const preflight: Step = async (ctx) => {
  const { services, notifier, policy } = ctx.deps;
  const { project, location, name } = ctx.run.cluster;
  const cluster = need(ctx.run.facts.cluster, 'the cluster');
  const pool = `${project}.svc.id.goog`;
  if (cluster.workloadPool !== pool) {
    throw new MeshopsError(
      'WORKLOAD_IDENTITY_DISABLED',
      `Workload Identity is not enabled on ${name} (workload pool is ${cluster.workloadPool ?? 'unset'})`,
      {
        hint: `gcloud container clusters update ${name} --location ${location} --project ${project} --workload-pool=${pool}`,
      },
    );
  }
  const waiting = await awaitOperation(ctx, `enabling ${MESH_SERVICE}`);
  if (waiting) return waiting;
  if (await services.isEnabled(project, MESH_SERVICE)) {
    return { type: 'next', detail: `Workload Identity on; ${MESH_SERVICE} enabled` };
  }
  if (!policy.enableServices) {
    throw new MeshopsError('SERVICE_DISABLED', `${MESH_SERVICE} is not enabled on ${project}`, {
      hint: `gcloud services enable ${MESH_SERVICE} --project ${project}`,
    });
  }
  const operation = await services.enable(project, MESH_SERVICE);
  await notifier.emit(ctx.run, { type: 'serviceEnabling', service: MESH_SERVICE, project });
  return startedOperation(ctx, operation, `enabling ${MESH_SERVICE}`);
};

const register: Step = async (ctx) => {
  const { fleet, notifier, policy } = ctx.deps;
  const { project, location, name } = ctx.run.cluster;
  const waiting = await awaitOperation(ctx, 'fleet registration');
  if (waiting) return waiting;
  const link = clusterResourceLink(ctx.run.cluster);
  const projectNumber = need(ctx.run.facts.projectNumber, 'the project number');
  const existing = await fleet.findMembership(project, ctx.run.cluster, projectNumber);
  if (existing) {
    const created = ctx.run.facts.operation !== undefined;
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
          hint: `unregister it (gcloud container fleet memberships delete ${name} --location ${loc}) or rename`,
        },
      );
    }
    throw error;
  }
};

const label: Step = async (ctx) => {
  const { gke, notifier } = ctx.deps;
  const projectNumber = need(ctx.run.facts.projectNumber, 'the project number');
  const meshId = `proj-${projectNumber}`;
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
  const operation = await ctx.deps.fleet.enableMeshFeature(ctx.run.cluster.project);
  if (!operation) return { type: 'next', detail: 'servicemesh feature already enabled' };
  return startedOperation(ctx, operation, 'enabling the servicemesh feature');
};

const manage: Step = async (ctx) => {
  const { fleet, notifier } = ctx.deps;
  const membershipName = need(ctx.run.facts.membershipName, 'the membership');
  const waiting = await awaitOperation(ctx, 'turning on managed mesh');
  if (waiting) return waiting;
  if (ctx.run.facts.operation) {
    await notifier.emit(ctx.run, { type: 'managementOn', membership: membershipName });
    return { type: 'next', detail: 'MANAGEMENT_AUTOMATIC' };
  }
  const operation = await fleet.setMeshManagement(
    ctx.run.cluster.project,
    membershipName,
    'MANAGEMENT_AUTOMATIC',
  );
  return startedOperation(ctx, operation, 'turning on managed mesh');
};

/** The checklist's one-line detail of a plane: its state, detail codes and implementation. */
export function describePlane(plane: PlaneState): string {
  const details = plane.details.map((d) => `${d.code}${d.details ? `: ${d.details}` : ''}`).join('; ');
  return `*${plane.state}*${details ? ` (${details})` : ''}${plane.implementation ? ` — ${plane.implementation}` : ''}`;
}

const planeLabels = { controlPlane: 'Control plane', dataPlane: 'Data plane' } as const;

/**
 * Steps 7 and 8: poll the membership's mesh state until `plane` is ACTIVE. Every transition is
 * shown, of the data plane too while the control plane comes up, with the conditions and their links.
 */
function awaitPlane(plane: 'controlPlane' | 'dataPlane'): Step {
  const shown: Array<'controlPlane' | 'dataPlane'> =
    plane === 'controlPlane' ? ['controlPlane', 'dataPlane'] : ['dataPlane'];
  return async (ctx) => {
    const { fleet, notifier, policy } = ctx.deps;
    const membershipName = need(ctx.run.facts.membershipName, 'the membership');
    const projectNumber = need(ctx.run.facts.projectNumber, 'the project number');
    const mesh = await fleet.meshState(ctx.run.cluster.project, membershipName, projectNumber);
    const facts: Partial<Record<'controlPlane' | 'dataPlane', PlaneState>> = {};
    for (const which of shown) {
      const state = mesh?.[which] ?? { state: 'UNKNOWN', details: [] };
      const previous = ctx.run.facts[which];
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
    if (ctx.elapsedMs > policy.provisioningTimeoutMs) {
      return failure(
        new MeshopsError(
          'PROVISIONING_FAILED',
          `${label} still ${state.state} after ${minutes(policy.provisioningTimeoutMs)}`,
          {
            hint: `check \`gcloud container fleet mesh describe --project ${ctx.run.cluster.project}\` and the conditions above`,
          },
        ),
      );
    }
    return { ...poll(ctx, state.state), facts };
  };
}

/** The revision label already in use, if the cluster runs an in-cluster istiod (seed 002) or revision labels. */
async function revisionInUse(kube: Kube, namespaces: NamespacePlan[]): Promise<string | undefined> {
  const labelled = namespaces.map((ns) => ns.currentLabels['istio.io/rev']).find(Boolean);
  if (labelled) return labelled;
  const istiods = await kube.listPods('istio-system', 'istio.io/rev');
  return istiods
    .map((pod) => pod.labels['istio.io/rev'])
    .filter((rev): rev is string => Boolean(rev) && rev !== 'default')
    .sort()[0];
}

const plan: Step = async (ctx) => {
  const { kube: kubeFactory, notifier, policy } = ctx.deps;
  const { namespaces } = ctx.run.options;
  if (namespaces.length === 0) return { type: 'next', skipped: true, detail: 'no namespaces asked for' };
  const cluster: ClusterInfo = need(ctx.run.facts.cluster, 'the cluster');
  const kube = kubeFactory.forCluster(cluster);
  const plans: NamespacePlan[] = [];
  for (const name of namespaces) {
    const ns = await kube.getNamespace(name);
    if (!ns) {
      throw new MeshopsError('NOT_FOUND', `namespace ${name} does not exist in ${ctx.run.cluster.name}`, {
        hint: 'create it first, or leave it out of namespaces=',
      });
    }
    const workloads = await kube.listWorkloads(name, ['Deployment', ...policy.restartKinds]);
    const pods = await kube.listPods(name);
    plans.push({
      name,
      currentLabels: ns.labels,
      workloads: workloads.map(({ kind, name: workload, replicas }) => ({ kind, name: workload, replicas })),
      pods: pods.filter((pod) => pod.phase === 'Running' || pod.phase === 'Pending').length,
      podDisruptionBudgets: await kube.countPodDisruptionBudgets(name),
    });
  }
  const revision = await revisionInUse(kube, plans);
  const injection: InjectionPlan = revision
    ? {
        set: { key: 'istio.io/rev', value: revision },
        remove: 'istio-injection',
        reason: `the cluster already uses revision ${revision} (in-cluster istiod or revision labels)`,
        namespaces: plans,
      }
    : {
        set: { key: 'istio-injection', value: 'enabled' },
        remove: 'istio.io/rev',
        reason: 'the default for managed Cloud Service Mesh',
        namespaces: plans,
      };
  const pods = plans.reduce((sum, ns) => sum + ns.pods, 0);
  const detail = `${injectionLabel(injection)} on ${plans.length} namespace(s), ${pods} pod(s)`;
  await notifier.emit(ctx.run, { type: 'injectionPlanned', plan: injection });
  return { type: 'next', facts: { plan: injection }, detail };
};

export function injectionLabel(plan: InjectionPlan): string {
  return `${plan.set.key}=${plan.set.value}`;
}

const approval: Step = async (ctx) => {
  const { notifier, policy } = ctx.deps;
  if (!ctx.run.facts.plan) return { type: 'next', skipped: true, detail: 'nothing to inject' };
  const current = ctx.run.approval;
  if (!current) {
    const requested = {
      requestedAt: ctx.now,
      remindAt: ctx.now + policy.approvalTimeoutMs / 2,
      expiresAt: ctx.now + policy.approvalTimeoutMs,
      reminded: false,
    };
    await notifier.emit({ ...ctx.run, approval: requested }, { type: 'approvalRequested' });
    return { type: 'approval', approval: requested, wakeAt: requested.remindAt };
  }
  if (current.decision) {
    await notifier.emit(ctx.run, { type: 'approvalClosed' });
    const who = `<@${current.decision.by}>`;
    if (current.decision.approved) return { type: 'next', detail: `approved by ${who}` };
    return {
      type: 'finish',
      status: 'rejected',
      outcome: { message: `Rejected by ${who}. The managed mesh stays on; no namespace was touched.` },
    };
  }
  if (ctx.now >= current.expiresAt) {
    await notifier.emit(ctx.run, { type: 'approvalClosed' });
    return {
      type: 'finish',
      status: 'expired',
      outcome: {
        message: `Nobody decided within ${minutes(policy.approvalTimeoutMs)}. The managed mesh stays on; no namespace was touched.`,
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

const inject: Step = async (ctx) => {
  const { kube: kubeFactory, notifier } = ctx.deps;
  const injection = ctx.run.facts.plan;
  if (!injection) return { type: 'next', skipped: true };
  const kube = kubeFactory.forCluster(need(ctx.run.facts.cluster, 'the cluster'));
  const labels: Record<string, string | null> = {
    [injection.set.key]: injection.set.value,
    [injection.remove]: null,
  };
  for (const ns of injection.namespaces) await kube.patchNamespaceLabels(ns.name, labels);
  await notifier.emit(ctx.run, { type: 'namespacesLabelled', plan: injection });
  return { type: 'next', detail: injectionLabel(injection) };
};

const restart: Step = async (ctx) => {
  const { kube: kubeFactory, notifier } = ctx.deps;
  const injection = ctx.run.facts.plan;
  if (!injection) return { type: 'next', skipped: true };
  if (!ctx.run.options.restart) {
    return {
      type: 'next',
      skipped: true,
      detail: 'restart=false: pods get the sidecar when they next restart',
    };
  }
  const kube = kubeFactory.forCluster(need(ctx.run.facts.cluster, 'the cluster'));
  const restartedAt = ctx.run.facts.restartedAt ?? new Date(ctx.now).toISOString();
  let count = 0;
  for (const ns of injection.namespaces) {
    for (const workload of ns.workloads) {
      await kube.restartWorkload({ ...workload, namespace: ns.name }, restartedAt);
      count++;
    }
  }
  await notifier.emit(ctx.run, { type: 'workloadsRestarted', count, restartedAt });
  return { type: 'next', facts: { restartedAt }, detail: `${count} workload(s)` };
};

const verify: Step = async (ctx) => {
  const { kube: kubeFactory, notifier, policy } = ctx.deps;
  const injection = ctx.run.facts.plan;
  if (!injection || !ctx.run.options.restart) return { type: 'next', skipped: true };
  const kube = kubeFactory.forCluster(need(ctx.run.facts.cluster, 'the cluster'));
  const missing: string[] = [];
  const notReady: string[] = [];
  let total = 0;
  for (const ns of injection.namespaces) {
    for (const pod of await kube.listPods(ns.name)) {
      if (pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
      total++;
      if (!pod.hasIstioProxy) missing.push(`${ns.name}/${pod.name}`);
      else if (!pod.ready || pod.phase !== 'Running') notReady.push(`${ns.name}/${pod.name}`);
    }
  }
  if (missing.length === 0 && notReady.length === 0) {
    await notifier.emit(ctx.run, { type: 'podsVerified', pods: total });
    return { type: 'next', facts: { verifiedPods: total }, detail: `${total} pod(s) with istio-proxy` };
  }
  if (ctx.elapsedMs > policy.verifyTimeoutMs) {
    const list = (pods: string[]) =>
      pods.slice(0, 20).join(', ') + (pods.length > 20 ? ` and ${pods.length - 20} more` : '');
    throw new MeshopsError(
      'VERIFY_FAILED',
      [
        missing.length ? `pods without istio-proxy: ${list(missing)}` : '',
        notReady.length ? `pods not ready: ${list(notReady)}` : '',
      ]
        .filter(Boolean)
        .join('; '),
      { hint: 'check the namespace labels, the data plane state and `kubectl describe pod` of those pods' },
    );
  }
  return poll(ctx, `${total - missing.length - notReady.length}/${total} pod(s) ready with istio-proxy`);
};

const done: Step = (ctx) => {
  const { plan: injection, meshRevision, verifiedPods } = ctx.run.facts;
  const parts = [`Cloud Service Mesh is on for \`${ctx.run.cluster.name}\` (${meshRevision ?? 'managed'})`];
  if (injection) {
    parts.push(
      `${injection.namespaces.map((ns) => `\`${ns.name}\``).join(', ')} labelled \`${injectionLabel(injection)}\``,
    );
  }
  if (verifiedPods !== undefined) parts.push(`${verifiedPods} pod(s) with istio-proxy`);
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
  manage,
  controlPlane: awaitPlane('controlPlane'),
  dataPlane: awaitPlane('dataPlane'),
  plan,
  approval,
  inject,
  restart,
  verify,
  done,
};

export const enableClusterWorkflow: WorkflowDefinition = {
  kind: 'enable-cluster',
  title: 'Enable Cloud Service Mesh on',
  order: Object.keys(steps),
  steps,
  titles: {
    resolve: 'Resolve cluster',
    preflight: 'Preflight (Workload Identity, mesh API)',
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
