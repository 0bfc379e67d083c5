/**
 * `/mesh config REF access-log=on|off tracing=SAMPLING`: one edit of `data.mesh` (Istio's MeshConfig as
 * YAML) in the managed mesh's ConfigMap for the cluster's release channel (seed 003: istio-asm-managed,
 * -rapid, -stable in istio-system), after approval, with every other key kept.
 *
 * The write is conditioned on the resourceVersion it read, so a concurrent edit is never lost: on a
 * conflict the ConfigMap is read again. If someone else changed only other keys, the same edit is
 * written over their change. If they changed `data.mesh`, what was approved is no longer the diff that
 * would be written: the run plans again and asks again, on the same prompt.
 */
import { MeshopsError } from '../errors.js';
import type { Step, StepContext } from './engine.js';
import type { ConfigMapInfo, Kube } from './ports.js';
import type { WorkflowDefinition } from './registry.js';
import { editedMeshConfig, lineDiff, type MeshSettings } from './meshYaml.js';
import {
  clusterKey,
  type MeshConfigFacts,
  type MeshConfigPlan,
  type RunRecord,
  type StepName,
} from './run.js';
import { kubeOfRun, membershipForAccess } from './steps/access.js';
import { readCluster } from './steps/cluster.js';
import { need } from './steps/common.js';
import { awaitApproval } from './steps/injection.js';

export const MESH_CONFIG_NAMESPACE = 'istio-system';
/** Reads after a 409 within one write step, before the run gives up (someone keeps editing it). */
const MAX_REREADS = 3;

/** The ConfigMap the managed control plane of `meshRevision` reads: `istio-` + the revision (seed 003). */
export function meshConfigMapName(meshRevision: string): string {
  return `istio-${meshRevision}`;
}

function meshRun(run: RunRecord): Extract<RunRecord, { kind: 'mesh-config' }> {
  if (run.kind !== 'mesh-config')
    throw new MeshopsError('INTERNAL', `run ${run.id} is not a mesh-config run`);
  return run;
}

function factsOf(ctx: { run: RunRecord }): MeshConfigFacts {
  return meshRun(ctx.run).facts;
}

export function settingsOf(run: RunRecord): MeshSettings {
  const { accessLog, tracingSampling } = meshRun(run).options;
  return {
    ...(accessLog !== undefined ? { accessLog } : {}),
    ...(tracingSampling !== undefined ? { tracingSampling } : {}),
  };
}

/** `access logs on (/dev/stdout)`, `tracing sampling 10%`: what the command asks, in words. */
export function describeSettings(settings: MeshSettings): string {
  const parts: string[] = [];
  if (settings.accessLog !== undefined)
    parts.push(settings.accessLog ? 'access logs on (`accessLogFile: /dev/stdout`)' : 'access logs off');
  if (settings.tracingSampling !== undefined)
    parts.push(`tracing sampling ${settings.tracingSampling}% (\`defaultConfig.tracing.sampling\`)`);
  return parts.join(', ');
}

/** The edit of what was read (`current`, null when there is no such ConfigMap). Pure. */
function planFrom(
  run: RunRecord,
  name: string,
  current: ConfigMapInfo | null,
  replanned: number,
): MeshConfigPlan {
  const before = current?.data.mesh ?? '';
  const after = editedMeshConfig(before, settingsOf(run), `${MESH_CONFIG_NAMESPACE}/${name}`);
  return {
    namespace: MESH_CONFIG_NAMESPACE,
    configMap: name,
    resourceVersion: current?.resourceVersion ?? null,
    before,
    after,
    diff: lineDiff(before, after),
    replanned,
  };
}

function kubeOf(ctx: StepContext): Kube {
  return kubeOfRun(ctx);
}

const resolve: Step = async (ctx) => {
  const { cluster, projectNumber, fleet, meshRevision } = await readCluster(ctx, { mustRun: true });
  const membershipName = await membershipForAccess(
    ctx.deps.policy.kubeAccess,
    ctx.deps.fleet,
    fleet.project,
    ctx.run.cluster,
    cluster,
    projectNumber,
  );
  await ctx.deps.notifier.emit(ctx.run, { type: 'clusterResolved', cluster, projectNumber, meshRevision });
  return {
    type: 'next',
    facts: { cluster, projectNumber, meshRevision, ...(membershipName ? { membershipName } : {}) },
    detail: `${cluster.releaseChannel} channel → ConfigMap ${MESH_CONFIG_NAMESPACE}/${meshConfigMapName(meshRevision)}`,
  };
};

const plan: Step = async (ctx) => {
  const kube = kubeOf(ctx);
  const name = meshConfigMapName(need(factsOf(ctx).meshRevision, 'the mesh revision'));
  const current = await kube.getConfigMap(MESH_CONFIG_NAMESPACE, name);
  if (!current && !(await kube.getNamespace(MESH_CONFIG_NAMESPACE))) {
    throw new MeshopsError(
      'FAILED_PRECONDITION',
      `${clusterKey(ctx.run.cluster)} has no ${MESH_CONFIG_NAMESPACE} namespace: the managed mesh is not installed there`,
      { hint: `put it on the mesh first: \`/mesh enable cluster ${clusterKey(ctx.run.cluster)}\`` },
    );
  }
  const planned = planFrom(ctx.run, name, current, 0);
  await ctx.deps.notifier.emit(ctx.run, { type: 'meshConfigPlanned', plan: planned });
  const where = `${MESH_CONFIG_NAMESPACE}/${name}`;
  return {
    type: 'next',
    facts: { meshConfig: planned },
    detail: !planned.diff
      ? `${where} is already as asked`
      : current
        ? `edit data.mesh of ${where}`
        : `create ${where} (it does not exist yet)`,
  };
};

const write: Step = async (ctx) => {
  const { notifier } = ctx.deps;
  const planned = factsOf(ctx).meshConfig;
  if (!planned?.diff) return { type: 'next', skipped: true, detail: 'nothing to change' };
  const kube = kubeOf(ctx);
  const { namespace, configMap: name } = planned;
  for (let reread = 0; reread < MAX_REREADS; reread++) {
    const current = await kube.getConfigMap(namespace, name);
    const mesh = current?.data.mesh ?? '';
    // Written already (a step run again after a crash): nothing more to do.
    if (current && mesh === planned.after && planned.resourceVersion !== current.resourceVersion) {
      return { type: 'next', detail: `${namespace}/${name} already edited` };
    }
    if (mesh !== planned.before || (current === null) !== (planned.resourceVersion === null)) {
      // Someone else changed data.mesh since the approval: what was approved is not what would be written.
      const again = planFrom(ctx.run, name, current, planned.replanned + 1);
      if (!again.diff) {
        return {
          type: 'finish',
          status: 'succeeded',
          outcome: {
            message: `\`data.mesh\` of ConfigMap \`${namespace}/${name}\` was changed by someone else meanwhile, and is now as asked: meshops wrote nothing.`,
          },
        };
      }
      return {
        type: 'again',
        step: 'approval',
        facts: { meshConfig: again },
        detail: `${namespace}/${name} changed after the prompt: asking again`,
      };
    }
    const result = current
      ? await kube.patchConfigMapData(namespace, name, { mesh: planned.after }, current.resourceVersion)
      : await kube.createConfigMap(namespace, name, { mesh: planned.after });
    if (result === 'written') {
      await notifier.emit(ctx.run, { type: 'meshConfigWritten', plan: planned, created: !current });
      return {
        type: 'next',
        facts: {
          written: {
            created: !current,
            movedOn: reread > 0 || (current !== null && current.resourceVersion !== planned.resourceVersion),
          },
        },
        detail: current ? `data.mesh of ${namespace}/${name} edited` : `${namespace}/${name} created`,
      };
    }
    // 409: it changed between this read and the write; read it again.
  }
  throw new MeshopsError(
    'CONFLICT',
    `ConfigMap ${namespace}/${name} changed under every one of ${MAX_REREADS} writes: someone keeps editing it`,
    { hint: 'find out who (a GitOps tool, a controller) and run the command again once it is quiet' },
  );
};

const done: Step = (ctx) => {
  const { meshConfig: planned, written } = factsOf(ctx);
  const where = `\`${planned?.namespace ?? MESH_CONFIG_NAMESPACE}/${planned?.configMap ?? '?'}\``;
  const asked = describeSettings(settingsOf(ctx.run));
  if (!planned?.diff) {
    return Promise.resolve({
      type: 'finish',
      status: 'succeeded',
      outcome: { message: `ConfigMap ${where} already has ${asked}: nothing was changed.` },
    });
  }
  const tracing = settingsOf(ctx.run).tracingSampling !== undefined;
  const parts = [
    `${written?.created ? 'Created ConfigMap' : 'Edited `data.mesh` of ConfigMap'} ${where}: ${asked}`,
    written?.created ? '' : 'every other key kept',
    written?.movedOn ? 'it had changed meanwhile outside `data.mesh`: read again, that change kept' : '',
  ].filter(Boolean);
  return Promise.resolve({
    type: 'finish',
    status: 'succeeded',
    outcome: {
      message: `${parts.join('; ')}.${tracing ? ' Proxies take the new sampling when their pods restart.' : ''}`,
    },
  });
};

const steps: Record<StepName, Step> = {
  resolve,
  plan,
  approval: awaitApproval('The ConfigMap was not changed.', {
    planOf: (run) => {
      const planned = meshRun(run).facts.meshConfig;
      return planned?.diff ? planned : undefined;
    },
    asksAgain: (run) => (meshRun(run).facts.meshConfig?.replanned ?? 0) > 0,
  }),
  write,
  done,
};

export const meshConfigWorkflow: WorkflowDefinition = {
  kind: 'mesh-config',
  title: 'Mesh config on',
  approves: 'editing the mesh config of',
  order: Object.keys(steps),
  steps,
  titles: {
    resolve: 'Resolve cluster and release channel',
    plan: 'Plan: read the ConfigMap, diff data.mesh',
    approval: 'Approval',
    write: 'Write data.mesh (on its resourceVersion)',
    done: 'Summary',
  },
  pointOfNoReturn: 'write',
};
