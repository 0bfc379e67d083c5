/**
 * Step 2 of `enable cluster`: before any change, every case Google's docs (and seed 000) warn about,
 * found together and reported together, each a MeshopsError with its code, reason, fix and doc link.
 * The checks over what the run already read are pure functions (test/unit/preflight.test.ts); the
 * step reads the rest (services, the fleet, the cluster's istio-system) and, when config allows,
 * enables the missing services in one batchEnable and waits for it.
 */
import { isMeshopsError, MeshopsError } from '../../errors.js';
import type { MeshChannel, Step, StepContext } from '../engine.js';
import type { ClusterInfo, ClusterRef, Kube, ReleaseChannel } from '../ports.js';
import { kubeBeforeRegistration, viaGateway } from './access.js';
import { needFleet } from './cluster.js';
import { awaitOperation, need, startedOperation } from './common.js';
import { crossProjectBlocker } from './fleetHost.js';
import { announceInClusterControlPlane } from './inClusterIstiod.js';
import { resolveNamespaces } from './namespaceSelection.js';

export const docs = {
  services: 'https://cloud.google.com/service-mesh/docs/onboarding/provision-control-plane',
  workloadIdentity: 'https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity',
  limitations: 'https://cloud.google.com/service-mesh/docs/supported-features-managed',
  asmcli: 'https://cloud.google.com/service-mesh/docs/asmcli-reference',
  vpcServiceControls: 'https://cloud.google.com/service-mesh/docs/managed/vpc-sc',
} as const;

/**
 * What managed Cloud Service Mesh through the Fleet API needs enabled: the mesh API (which brings
 * meshconfig and the rest it depends on) with the fleet and GKE APIs on the fleet project; the mesh
 * and GKE APIs on a cluster's own project.
 */
export const fleetProjectServices = [
  'mesh.googleapis.com',
  'gkehub.googleapis.com',
  'container.googleapis.com',
];
export const clusterProjectServices = ['mesh.googleapis.com', 'container.googleapis.com'];
/** Connect Gateway is the fleet project's API: its path names the fleet's membership (Google's gateway setup). */
export const gatewayService = 'connectgateway.googleapis.com';

/**
 * The services each project needs, the fleet project first; one entry per project (the same project
 * merges). With `gateway` (the run reaches the cluster through Connect Gateway), the fleet project needs
 * connectgateway.googleapis.com too.
 */
export function requiredServices(
  fleetProject: string,
  clusterProjects: string[],
  { gateway = false }: { gateway?: boolean } = {},
): Array<{ project: string; services: string[] }> {
  const needs = new Map<string, Set<string>>([
    [fleetProject, new Set([...fleetProjectServices, ...(gateway ? [gatewayService] : [])])],
  ]);
  for (const project of clusterProjects) {
    const services = needs.get(project) ?? new Set<string>();
    for (const service of clusterProjectServices) services.add(service);
    needs.set(project, services);
  }
  return [...needs].map(([project, services]) => ({ project, services: [...services] }));
}

/** SERVICE_DISABLED for the services found off on one project, with the command that enables them. */
export function servicesBlocker(project: string, missing: string[], enableServices: boolean): MeshopsError {
  const command = `gcloud services enable ${missing.join(' ')} --project ${project}`;
  return new MeshopsError('SERVICE_DISABLED', `${missing.join(', ')} not enabled on ${project}`, {
    hint: enableServices
      ? `meshops enables them itself (fleet.enableServices) once the other blockers are fixed; or \`${command}\``
      : `${command} (or set fleet.enableServices: true and meshops does it)`,
    docs: docs.services,
  });
}

/** The cluster's Workload Identity pool must be the project's. */
export function workloadIdentityBlocker(ref: ClusterRef, cluster: ClusterInfo): MeshopsError | undefined {
  const pool = `${ref.project}.svc.id.goog`;
  if (cluster.workloadPool === pool) return undefined;
  return new MeshopsError(
    'WORKLOAD_IDENTITY_DISABLED',
    `Workload Identity is not enabled on ${ref.name} (workload pool is ${cluster.workloadPool ?? 'unset'})`,
    {
      hint: `gcloud container clusters update ${ref.name} --location ${ref.location} --project ${ref.project} --workload-pool=${pool}`,
      docs: docs.workloadIdentity,
    },
  );
}

/** On a Standard cluster every node pool must run the GKE metadata server (Autopilot's always do). */
export function nodePoolBlocker(ref: ClusterRef, cluster: ClusterInfo): MeshopsError | undefined {
  if (cluster.autopilot) return undefined;
  const pools = cluster.nodePools.filter((pool) => pool.workloadMetadataMode !== 'GKE_METADATA');
  if (pools.length === 0) return undefined;
  const described = pools.map((pool) => `${pool.name} (${pool.workloadMetadataMode ?? 'unset'})`);
  return new MeshopsError(
    'NODE_POOL_METADATA',
    `node pool(s) ${described.join(', ')} of ${ref.name} do not use the GKE metadata server: their pods cannot use Workload Identity, which the managed mesh's proxies need`,
    {
      hint: pools
        .map(
          (pool) =>
            `gcloud container node-pools update ${pool.name} --cluster ${ref.name} --location ${ref.location} --project ${ref.project} --workload-metadata=GKE_METADATA`,
        )
        .join(' ; '),
      docs: docs.workloadIdentity,
    },
  );
}

/** The mesh channel the Fleet API gives a cluster: its GKE release channel's (seed 003). */
export const meshChannelByReleaseChannel: Record<ReleaseChannel, MeshChannel> = {
  RAPID: 'rapid',
  REGULAR: 'regular',
  STABLE: 'stable',
  EXTENDED: 'stable',
  UNSPECIFIED: 'regular',
};

/** Config asks for a mesh channel other than the one the Fleet API would give (seed 000: asmcli only). */
export function meshChannelBlocker(
  ref: ClusterRef,
  cluster: ClusterInfo,
  wanted: MeshChannel | null,
): MeshopsError | undefined {
  const given = meshChannelByReleaseChannel[cluster.releaseChannel];
  if (wanted === null || wanted === given) return undefined;
  return new MeshopsError(
    'MESH_CHANNEL_MISMATCH',
    `config mesh.channel is ${wanted}, but the Fleet API gives ${ref.name} the ${given} mesh channel of its GKE release channel ${cluster.releaseChannel}: it cannot give a mesh channel different from the GKE one`,
    {
      hint: `move the cluster to the ${wanted.toUpperCase()} channel before onboarding (\`gcloud container clusters update ${ref.name} --location ${ref.location} --project ${ref.project} --release-channel ${wanted}\`), set mesh.channel to ${given}, or install with \`asmcli install --managed --channel ${wanted}\``,
      docs: docs.asmcli,
    },
  );
}

/** The project part of `projects/X`, as the Cluster's fleet field writes it. */
function projectOf(name: string): string {
  return name.replace(/^projects\//, '');
}

/**
 * The cluster is registered in a fleet other than the run's: a cluster belongs to one fleet, and
 * every cluster of one mesh must be in the same fleet. A membership in the run's fleet is reused.
 */
export function otherFleetBlocker(
  ref: ClusterRef,
  cluster: ClusterInfo,
  fleet: { project: string; number: string },
): MeshopsError | undefined {
  if (!cluster.fleet) return undefined;
  const registeredIn = projectOf(cluster.fleet.project);
  if (registeredIn === fleet.project || registeredIn === fleet.number) return undefined;
  const membership = cluster.fleet.membership;
  const [, , , location = 'global', , name = ref.name] = membership.split('/');
  return new MeshopsError(
    'REGISTERED_IN_ANOTHER_FLEET',
    `${ref.name} is already registered in the fleet of project ${registeredIn} (membership ${membership || 'unnamed'}), not in ${fleet.project}'s`,
    {
      hint: `onboard it in that fleet, or unregister it there first (\`gcloud container fleet memberships unregister ${name} --location ${location} --project ${registeredIn} --gke-cluster ${ref.location}/${ref.name}\`)`,
      docs: docs.limitations,
    },
  );
}

/** The CA Service pool `ASM_OPTS` of an `asm-options` ConfigMap asks for (`CA=PRIVATECA;CAAddr=POOL`), if any. */
export function privateCaOf(asmOpts: string | undefined): string | undefined {
  if (!asmOpts) return undefined;
  const options = new Map(
    asmOpts.split(/[;,]/).map((option) => {
      const [key = '', ...value] = option.trim().split('=');
      return [key, value.join('=')] as const;
    }),
  );
  return options.get('CA') === 'PRIVATECA' ? (options.get('CAAddr') ?? 'a CA Service pool') : undefined;
}

/** Mesh certificates from a private CA (CA Service): the Fleet API path has no setting for it (seed 000). */
export function privateCaBlocker(
  ref: ClusterRef,
  pool: string | undefined,
  where: string,
): MeshopsError | undefined {
  if (!pool) return undefined;
  return new MeshopsError(
    'PRIVATE_CA_UNSUPPORTED',
    `${where} asks for mesh certificates from the private CA ${pool}; the Fleet API cannot configure a private CA (it provisions with Mesh CA): use asmcli`,
    {
      hint: `install with \`asmcli install --managed --project_id ${ref.project} --cluster_location ${ref.location} --cluster_name ${ref.name} --ca gcp_cas --ca_pool ${pool}\`, or drop the private CA to let meshops use Mesh CA`,
      docs: docs.asmcli,
    },
  );
}

/** What a VPC Service Controls refusal of a read on `project` makes of it: one blocker per project. */
function perimeterBlocker(project: string, error: MeshopsError): MeshopsError {
  return new MeshopsError(
    'VPC_SERVICE_CONTROLS',
    `${project} is inside a VPC Service Controls perimeter that refuses meshops' calls: the Fleet API path cannot set up managed Cloud Service Mesh there`,
    { cause: error, ...(error.hint ? { hint: error.hint } : {}), docs: docs.vpcServiceControls },
  );
}

/**
 * Runs a read of `project`; a VPC Service Controls refusal becomes that project's blocker (one per
 * project, however many reads it refused), anything else is thrown.
 */
async function unlessPerimeter<T>(
  project: string,
  fenced: Map<string, MeshopsError>,
  read: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (!isMeshopsError(error, 'VPC_SERVICE_CONTROLS')) throw error;
    if (!fenced.has(project)) fenced.set(project, perimeterBlocker(project, error));
    return undefined;
  }
}

/** Every namespace asked for exists (the API server must answer); else a blocker naming the missing. */
async function namespacesBlocker(ctx: StepContext, kube: Kube): Promise<MeshopsError | undefined> {
  const asked = ctx.run.options.namespaces;
  if (asked.length === 0) return undefined;
  const existing = (await kube.listNamespaces()).map((ns) => ns.name);
  try {
    resolveNamespaces(asked, existing, ctx.run.cluster.name, '; nothing was changed');
    return undefined;
  } catch (error) {
    if (isMeshopsError(error) && !error.retryable) return error;
    throw error;
  }
}

/** The blockers, as one error: itself when it is one, else PREFLIGHT_BLOCKED carrying each. */
export function blocked(blockers: MeshopsError[]): MeshopsError {
  if (blockers.length === 1) return blockers[0]!;
  return new MeshopsError(
    'PREFLIGHT_BLOCKED',
    `${blockers.length} blockers found before any change (${blockers.map((b) => b.code).join(', ')}); nothing was changed`,
    { blockers, hint: 'fix each as it says, then run the command again' },
  );
}

interface Findings {
  blockers: MeshopsError[];
  /** Services off, by project, in the order the projects were checked. */
  missing: Array<{ project: string; services: string[] }>;
}

/** Every check, reads included; nothing here changes anything. */
async function findBlockers(ctx: StepContext): Promise<Findings> {
  const { deps, run } = ctx;
  const ref = run.cluster;
  const cluster = need(run.facts.cluster, 'the cluster');
  const host = needFleet(ctx);
  const fleetProject = host.project;
  const blockers = [
    workloadIdentityBlocker(ref, cluster),
    nodePoolBlocker(ref, cluster),
    meshChannelBlocker(ref, cluster, deps.policy.meshChannel),
    otherFleetBlocker(ref, cluster, host),
    privateCaBlocker(ref, deps.policy.caPool ?? undefined, 'config mesh.caPool'),
  ].filter((b): b is MeshopsError => b !== undefined);

  const missing: Findings['missing'] = [];
  const fenced = new Map<string, MeshopsError>();
  const gateway = viaGateway(deps.policy.kubeAccess, cluster);
  for (const { project, services } of requiredServices(fleetProject, [ref.project], { gateway })) {
    const off = await unlessPerimeter(project, fenced, () => deps.services.disabled(project, services));
    if (off && off.length > 0) missing.push({ project, services: off });
  }
  // A perimeter may leave Service Usage out and keep the fleet API in: read the fleet too.
  const fleetOff = missing.find((m) => m.project === fleetProject)?.services ?? [];
  if (!fenced.has(fleetProject) && !fleetOff.includes('gkehub.googleapis.com')) {
    await unlessPerimeter(fleetProject, fenced, () => deps.fleet.listMemberships(fleetProject));
  }
  blockers.push(...fenced.values());
  // A fleet host's service agents act on the cluster's project: they need their roles there.
  if (fleetProject !== ref.project) {
    const grants = await crossProjectBlocker(ctx, host);
    if (grants) blockers.push(grants);
  }

  // A cluster only Connect Gateway reaches and not yet a fleet member is read by the register step,
  // right after registering and before the first change to the cluster (see enableCluster.ts); with the
  // gateway's API off it cannot be read yet at all (the reads follow once preflight enabled it).
  if (fleetOff.includes(gatewayService)) return { blockers, missing };
  const kube = await kubeBeforeRegistration(ctx, cluster);
  if (!kube) return { blockers, missing };
  const namespaces = await namespacesBlocker(ctx, kube);
  if (namespaces) blockers.push(namespaces);
  // asmcli (and the Terraform module) record a private CA for the managed control plane here.
  const asmOptions = await kube.getConfigMap('istio-system', 'asm-options');
  const privateCa = privateCaBlocker(
    ref,
    privateCaOf(asmOptions?.data.ASM_OPTS),
    'the asm-options ConfigMap in istio-system',
  );
  if (privateCa) blockers.push(privateCa);
  return { blockers, missing };
}

export const preflight: Step = async (ctx) => {
  const { services, notifier, policy } = ctx.deps;
  const enabling = ctx.run.facts.operation;
  const waiting = await awaitOperation(ctx, 'enabling the required services');
  if (waiting) return waiting;
  const { blockers, missing } = await findBlockers(ctx);
  // An enable that finished and left its services off would be asked for again and again.
  const stillOff = enabling ? missing.find((m) => m.project === enabling.project) : undefined;
  if (stillOff) {
    blockers.push(
      new MeshopsError(
        'SERVICE_DISABLED',
        `${stillOff.services.join(', ')} still not enabled on ${stillOff.project} after the batchEnable finished`,
        {
          hint: `check \`gcloud services list --enabled --project ${stillOff.project}\`; enabling can take a few minutes to show`,
          docs: docs.services,
        },
      ),
    );
  }
  // Enabling is a change: only when nothing else stands in the way. One project per operation.
  const toEnable = policy.enableServices && blockers.length === 0 ? missing[0] : undefined;
  if (toEnable) {
    const operation = await services.batchEnable(toEnable.project, toEnable.services);
    await notifier.emit(ctx.run, { type: 'serviceEnabling', ...toEnable });
    return startedOperation(
      ctx,
      operation,
      `enabling ${toEnable.services.join(', ')} on ${toEnable.project}`,
    );
  }
  for (const { project, services: off } of missing)
    if (project !== stillOff?.project) blockers.push(servicesBlocker(project, off, policy.enableServices));
  if (blockers.length > 0) throw blocked(blockers);
  const cluster = need(ctx.run.facts.cluster, 'the cluster');
  const { autopilot } = cluster;
  // An in-cluster istiod (seed 002) is said now, with what the run leaves alone and the way off it.
  const kube = await kubeBeforeRegistration(ctx, cluster);
  if (kube) await announceInClusterControlPlane(ctx, kube);
  return {
    type: 'next',
    detail: `Workload Identity on${autopilot ? '' : ', node pools GKE_METADATA'}; services enabled; no asmcli-only case`,
  };
};
