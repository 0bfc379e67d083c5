/**
 * `/mesh disable cluster REF [unregister=true]`: seed 002's clean-up, in reverse of enable. After
 * approval: injection off where the managed mesh injects (labels removed, workloads restarted, no
 * pod left with istio-proxy), this membership's management set to MANAGEMENT_MANUAL (only its key),
 * the membership deleted when asked, and the mesh_id label removed when config says so.
 */
import { notInFleetHint } from './namespaces.js';
import { MeshopsError } from '../errors.js';
import type { Step, StepContext } from './engine.js';
import type { Kube } from './ports.js';
import type { WorkflowDefinition } from './registry.js';
import { clusterKey, type DisableFacts, type RunRecord, type StepName } from './run.js';
import { readCluster, setManagement } from './steps/cluster.js';
import { awaitOperation, need, startedOperation } from './steps/common.js';
import {
  awaitApproval,
  labelNamespaces,
  planInjection,
  restartWorkloads,
  verifyPods,
} from './steps/injection.js';

function factsOf(ctx: { run: RunRecord }): DisableFacts {
  if (ctx.run.kind !== 'disable-cluster')
    throw new MeshopsError('INTERNAL', `run ${ctx.run.id} is not a disable run`);
  return ctx.run.facts;
}

function unregisterAsked(ctx: { run: RunRecord }): boolean {
  return ctx.run.kind === 'disable-cluster' && ctx.run.options.unregister;
}

const resolve: Step = async (ctx) => {
  const { fleet, notifier } = ctx.deps;
  const { cluster: ref } = ctx.run;
  const { cluster, projectNumber, fleet: host, meshRevision } = await readCluster(ctx, { mustRun: false });
  const membership = await fleet.findMembership(host.project, ref, projectNumber);
  if (!membership) {
    throw new MeshopsError(
      'FAILED_PRECONDITION',
      `${clusterKey(ref)} is not registered in the fleet of ${host.project}: there is no managed mesh to turn off`,
      {
        hint: `\`/mesh status ${clusterKey(ref)}\` shows what it has; ${notInFleetHint}`,
      },
    );
  }
  await notifier.emit(ctx.run, {
    type: 'clusterResolved',
    cluster,
    projectNumber,
    meshRevision,
    fleet: host,
  });
  return {
    type: 'next',
    facts: { cluster, projectNumber, fleet: host, meshRevision, membershipName: membership.name },
    detail: membership.name,
  };
};

/** Namespaces the managed mesh injects: `istio-injection=enabled` or a managed `istio.io/rev`. In-cluster istiod revisions are left alone. */
async function managedNamespaces(kube: Kube): Promise<string[]> {
  return (await kube.listNamespaces())
    .filter(
      (ns) =>
        ns.labels['istio-injection'] === 'enabled' ||
        (ns.labels['istio-injection'] === undefined &&
          (ns.labels['istio.io/rev'] ?? '').startsWith('asm-managed')),
    )
    .map((ns) => ns.name)
    .sort();
}

const unregister: Step = async (ctx) => {
  const { fleet, notifier } = ctx.deps;
  if (!unregisterAsked(ctx))
    return { type: 'next', skipped: true, detail: 'membership kept (unregister=true deletes it)' };
  const membershipName = need(factsOf(ctx).membershipName, 'the membership');
  const waiting = await awaitOperation(ctx, 'unregistering the membership');
  if (waiting) return waiting;
  if (!ctx.run.facts.operation) {
    const operation = await fleet.deleteMembership(membershipName);
    if (operation) return startedOperation(ctx, operation, `unregistering ${membershipName}`);
  }
  await notifier.emit(ctx.run, { type: 'unregistered', membership: membershipName });
  return { type: 'next', detail: `${membershipName} deleted` };
};

const unlabel: Step = async (ctx: StepContext) => {
  const { gke, notifier, policy } = ctx.deps;
  if (!policy.removeMeshIdOnDisable) {
    return { type: 'next', skipped: true, detail: 'mesh_id label kept (config fleet.removeMeshIdOnDisable)' };
  }
  const waiting = await awaitOperation(ctx, 'removing the mesh_id label');
  if (waiting) return waiting;
  if (!ctx.run.facts.operation) {
    const operation = await gke.removeResourceLabels(ctx.run.cluster, ['mesh_id']);
    if (operation) return startedOperation(ctx, operation, 'removing the mesh_id label');
  }
  await notifier.emit(ctx.run, { type: 'meshIdRemoved', label: 'mesh_id' });
  return { type: 'next', detail: 'mesh_id removed' };
};

const done: Step = (ctx) => {
  const { plan, membershipName, verifiedPods } = factsOf(ctx);
  const names = plan?.namespaces.map((ns) => `\`${ns.name}\``) ?? [];
  const parts = [
    `Managed Cloud Service Mesh is off for \`${ctx.run.cluster.name}\` (MANAGEMENT_MANUAL)`,
    names.length ? `${names.join(', ')} no longer injected` : 'no namespace was injected',
  ];
  if (verifiedPods !== undefined && names.length) parts.push(`${verifiedPods} pod(s) without istio-proxy`);
  if (unregisterAsked(ctx)) parts.push(`membership \`${membershipName ?? '?'}\` deleted`);
  return Promise.resolve({
    type: 'finish',
    status: 'succeeded',
    outcome: { message: `${parts.join('; ')}.` },
  });
};

const steps: Record<StepName, Step> = {
  resolve,
  plan: planInjection('uninject', { namespacesOf: managedNamespaces, always: true }),
  approval: awaitApproval('Managed mesh stays on; nothing was changed.'),
  inject: labelNamespaces,
  restart: restartWorkloads,
  verify: verifyPods,
  manage: setManagement('MANAGEMENT_MANUAL'),
  unregister,
  unlabel,
  done,
};

export const disableClusterWorkflow: WorkflowDefinition = {
  kind: 'disable-cluster',
  title: 'Disable Cloud Service Mesh on',
  approves: 'turning Cloud Service Mesh off on',
  order: Object.keys(steps),
  steps,
  titles: {
    resolve: 'Resolve cluster and membership',
    plan: 'Plan: injected namespaces, what will change',
    approval: 'Approval',
    inject: 'Remove the injection labels',
    restart: 'Restart workloads',
    verify: 'Verify no istio-proxy in pods',
    manage: 'Set management to MANAGEMENT_MANUAL',
    unregister: 'Unregister from the fleet',
    unlabel: 'Remove the mesh_id label',
    done: 'Summary',
  },
  pointOfNoReturn: 'inject',
};
