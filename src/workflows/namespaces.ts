/**
 * `/mesh inject` and `/mesh uninject`: sidecar injection on or off for some namespaces of a cluster
 * that is already on the mesh. The shared injection steps, after a resolve that checks what must
 * hold first (for inject: registered, and its managed data plane ACTIVE, or no pod would get a
 * sidecar).
 */
import { MeshopsError } from '../errors.js';
import type { Step } from './engine.js';
import type { WorkflowDefinition } from './registry.js';
import { clusterAccess, membershipForAccess, viaGateway } from './steps/access.js';
import { readCluster } from './steps/cluster.js';
import { migrationOutcome, refuseMoveBeforeActive } from './steps/inClusterIstiod.js';
import { clusterKey, type StepName } from './run.js';
import {
  injectionLabel,
  plannedNamespaces,
  labelNamespaces,
  planInjection,
  restartWorkloads,
  verifyPods,
  awaitApproval,
  type InjectionMode,
} from './steps/injection.js';

/** Where to look when the cluster is in no membership of the project meshops looked in. */
export const notInFleetHint =
  "if it is in a fleet host project's fleet, add `fleet=HOST_PROJECT` (or set config fleet.hostProjects)";

function resolve(mode: InjectionMode): Step {
  return async (ctx) => {
    const { fleet, notifier } = ctx.deps;
    const { cluster: ref } = ctx.run;
    const key = clusterKey(ref);
    const { cluster, projectNumber, fleet: host, meshRevision } = await readCluster(ctx, { mustRun: true });
    let membershipName: string | undefined;
    if (mode === 'inject') {
      const membership = await fleet.findMembership(host.project, ref, projectNumber);
      if (!membership) {
        throw new MeshopsError(
          'FAILED_PRECONDITION',
          `${key} is not registered in the fleet of ${host.project}, so it has no managed mesh to inject`,
          {
            hint: `put it on the mesh first: \`/mesh enable cluster ${key} namespaces=${ctx.run.options.namespaces.join(',')}\`; ${notInFleetHint}`,
          },
        );
      }
      if (viaGateway(ctx.deps.policy.kubeAccess, cluster)) membershipName = membership.name;
      const mesh = await fleet.meshState(host.project, membership.name, host.number);
      // A namespace on an in-cluster revision is told that its istiod keeps serving it meanwhile.
      const access = clusterAccess(ctx.deps.policy.kubeAccess, ref, cluster, {
        name: membership.name,
        projectNumber: host.number,
      });
      await refuseMoveBeforeActive(ctx, ctx.deps.kube.forCluster(access), mesh);
      const state = mesh?.dataPlane?.state;
      if (state !== 'ACTIVE') {
        throw new MeshopsError(
          'FAILED_PRECONDITION',
          `the managed data plane of ${key} is ${state ?? 'not enabled'}, not ACTIVE: restarted pods would get no sidecar`,
          {
            hint: `\`/mesh enable cluster ${key}\` turns it on and waits for ACTIVE; \`/mesh status ${key}\` shows why it is not`,
          },
        );
      }
    } else {
      // Uninject needs no mesh; a cluster reached through Connect Gateway still needs its membership.
      membershipName = await membershipForAccess(
        ctx.deps.policy.kubeAccess,
        fleet,
        host.project,
        ref,
        cluster,
        projectNumber,
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
      facts: {
        cluster,
        projectNumber,
        fleet: host,
        meshRevision,
        ...(membershipName ? { membershipName } : {}),
      },
      detail: `${cluster.releaseChannel} channel → ${meshRevision}`,
    };
  };
}

const done: Step = (ctx) => {
  const { plan, verifiedPods } = ctx.run.facts;
  const names = plan ? plannedNamespaces(plan) : 'no namespace';
  const parts = [
    plan?.set ? `${names} labelled \`${injectionLabel(plan)}\`` : `${names} no longer labelled for injection`,
  ];
  if (verifiedPods !== undefined)
    parts.push(`${verifiedPods} pod(s) ${plan?.set ? 'with' : 'without'} istio-proxy`);
  const migration = migrationOutcome(clusterKey(ctx.run.cluster), ctx.run.facts.migration);
  if (migration) parts.push(migration);
  return Promise.resolve({
    type: 'finish',
    status: 'succeeded',
    outcome: { message: `${parts.join('; ')}.` },
  });
};

function definition(mode: InjectionMode): WorkflowDefinition {
  const steps: Record<StepName, Step> = {
    resolve: resolve(mode),
    plan: planInjection(mode),
    approval: awaitApproval('No namespace was touched.'),
    inject: labelNamespaces,
    restart: restartWorkloads,
    verify: verifyPods,
    done,
  };
  return {
    kind: mode,
    title: mode === 'inject' ? 'Sidecar injection on' : 'Remove sidecar injection on',
    approves: mode === 'inject' ? 'sidecar injection on' : 'removing sidecar injection on',
    order: Object.keys(steps),
    steps,
    titles: {
      resolve: mode === 'inject' ? 'Resolve cluster (data plane ACTIVE)' : 'Resolve cluster',
      plan: mode === 'inject' ? 'Plan sidecar injection' : 'Plan removing sidecar injection',
      approval: 'Approval',
      inject: mode === 'inject' ? 'Label namespaces' : 'Remove the injection labels',
      restart: 'Restart workloads',
      verify: mode === 'inject' ? 'Verify istio-proxy in pods' : 'Verify no istio-proxy in pods',
      done: 'Summary',
    },
    pointOfNoReturn: 'inject',
  };
}

export const injectWorkflow = definition('inject');
export const uninjectWorkflow = definition('uninject');
