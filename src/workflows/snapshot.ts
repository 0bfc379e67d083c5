/**
 * One snapshot of a cluster's managed mesh, from reads only: what `/mesh status` shows and what
 * the watcher compares. The Google side (cluster, membership, the servicemesh feature) comes as a
 * FleetContext, which the watcher derives from reads shared by every cluster of a project; the
 * Kubernetes side is read from the cluster, the deep parts (namespaces, pods, istiod, events) only
 * when asked, else carried over from the previous snapshot.
 */
import type { Policy } from './engine.js';
import { MESH_CONFIG_NAMESPACE, meshConfigMapName } from './meshConfig.js';
import { meshSettingsOf } from './meshYaml.js';
import { meshRevisionByChannel } from './steps/cluster.js';
import { clusterResourceLink, membershipKeyWithNumber } from './names.js';
import { clusterAccess } from './steps/access.js';
import type {
  ClusterRef,
  ControlPlaneRevisionInfo,
  DataPlaneControlInfo,
  FleetMesh,
  Gke,
  IstiodDeployment,
  Kube,
  KubeFactory,
  ListedCluster,
  MeshCondition,
  Membership,
  MembershipMesh,
  PlaneState,
  Fleet,
  Projects,
  ReleaseChannel,
} from './ports.js';
import { clusterKey } from './run.js';

export interface ProxySummary {
  /** Pods looked at (a bounded sample) and how many injected pods the cluster has in all. */
  sampled: number;
  total: number;
  /** Pods per istio-proxy version, in the sample. */
  versions: Record<string, number>;
  /** Pods the managed data plane labelled `dataplane-upgrade=failed` (namespace/name). */
  failed: string[];
  /** Workloads opted out of the managed data plane (namespace/name): they stay on their version. */
  optedOut: string[];
  /** Pods of those workloads, in the sample. */
  optedOutPods: number;
  /** Pods per istio-proxy version in each namespace, in the sample. */
  byNamespace?: Record<string, Record<string, number>>;
}

/**
 * What the managed MeshConfig of the cluster's channel says about access logs and tracing (the
 * ConfigMap `/mesh config` edits): read, absent (the mesh is not provisioned there yet), or not
 * readable and why.
 */
export type MeshConfigRead = { namespace: string; configMap: string } & (
  | { state: 'read'; accessLogFile: string | null; tracingSampling: number | null; tracer: string | null }
  | { state: 'absent' }
  | { state: 'unreadable'; error: string }
);

export interface MeshSnapshot {
  /** PROJECT/LOCATION/CLUSTER */
  cluster: string;
  takenAt: number;
  /** The Container API knows the cluster. */
  found: boolean;
  gke: { status: string; releaseChannel: ReleaseChannel; masterVersion: string } | null;
  /** The fleet membership of the cluster, null when it is not registered. */
  membership: string | null;
  /** The membership's `mesh.management` in the servicemesh feature, null when it has no spec. */
  management: string | null;
  controlPlane: PlaneState | null;
  dataPlane: PlaneState | null;
  conditions: MeshCondition[];
  revisions: ControlPlaneRevisionInfo[];
  dataPlaneControls: DataPlaneControlInfo[];
  /** Namespaces with sidecar injection on, and the label that turns it on. */
  namespaces: Array<{ name: string; label: string }>;
  proxies: ProxySummary | null;
  /** Revisions of in-cluster istiod deployments in istio-system (seed 002). */
  istiodRevisions: string[];
  /** Those deployments: name, revision, image version, ready replicas. */
  istiods: IstiodDeployment[];
  upgradeFailures: Array<{ pod: string; message: string }>;
  /** Whether the deep parts (namespaces, proxies, istiod, upgrade events) were read this time. */
  deep: boolean;
  /** Why the cluster's API server could not be read, if it could not. */
  kubeError?: string;
  /** Read only when asked (`/mesh status`), with the deep parts: one GET more. */
  meshConfig?: MeshConfigRead;
}

/** What a snapshot needs from Google about one cluster. */
export interface FleetContext {
  cluster: ListedCluster | null;
  membership: string | null;
  mesh: MembershipMesh | null;
  /** The fleet project's number (a fleet host's, with one): Connect Gateway's path names the membership with it. */
  projectNumber: string;
}

export interface SnapshotReader {
  gke: Gke;
  fleet: Fleet;
  projects: Projects;
  kube: KubeFactory;
  policy: Pick<Policy, 'kubeAccess'>;
}

export interface ProjectReads {
  /** The clusters' project's number (a membership's resourceLink may name it so). */
  projectNumber: string;
  /** The number of the fleet project the memberships and the feature were read from (keys use it). */
  fleetNumber: string;
  clusters: ListedCluster[];
  memberships: Membership[];
  feature: FleetMesh;
}

/**
 * The reads one project needs for all its clusters: three calls (four with the project number); the
 * memberships and the feature from `fleetProject` (a fleet host's, when the clusters joined one).
 */
export async function readProject(
  reader: SnapshotReader,
  project: string,
  fleetProject: string = project,
): Promise<ProjectReads> {
  const [projectNumber, fleetNumber, clusters, memberships, feature] = await Promise.all([
    reader.projects.projectNumber(project),
    fleetProject === project ? null : reader.projects.projectNumber(fleetProject),
    reader.gke.listClusters(project),
    reader.fleet.listMemberships(fleetProject),
    reader.fleet.readMeshFeature(fleetProject),
  ]);
  return { projectNumber, fleetNumber: fleetNumber ?? projectNumber, clusters, memberships, feature };
}

/** One cluster's Google side, out of its project's reads. Pure. */
export function fleetContextOf(reads: ProjectReads, ref: ClusterRef): FleetContext {
  const cluster =
    reads.clusters.find(
      (c) => c.ref.location === ref.location && c.ref.name === ref.name && c.ref.project === ref.project,
    ) ?? null;
  const links = new Set([ref.project, reads.projectNumber].map((p) => clusterResourceLink(ref, p)));
  const membership = reads.memberships.find((m) => links.has(m.resourceLink))?.name ?? null;
  const mesh = membership
    ? (reads.feature.memberships[membershipKeyWithNumber(membership, reads.fleetNumber)] ??
      reads.feature.memberships[membership] ??
      null)
    : null;
  return { cluster, membership, mesh, projectNumber: reads.fleetNumber };
}

const SAMPLE_LIMIT = 500;

function injectionLabel(labels: Record<string, string>): string | null {
  if (labels['istio-injection'] === 'enabled') return 'istio-injection=enabled';
  if (labels['istio-injection'] === undefined && labels['istio.io/rev'])
    return `istio.io/rev=${labels['istio.io/rev']}`;
  return null;
}

function summarise(
  sample: Awaited<ReturnType<ReturnType<KubeFactory['forCluster']>['sampleProxyPods']>>,
): ProxySummary {
  const versions: Record<string, number> = {};
  const failed: string[] = [];
  const optedOut = new Set<string>();
  let optedOutPods = 0;
  const byNamespace: Record<string, Record<string, number>> = {};
  for (const pod of sample.pods) {
    const version = pod.proxyVersion ?? 'unknown';
    versions[version] = (versions[version] ?? 0) + 1;
    const inNamespace = (byNamespace[pod.namespace] ??= {});
    inNamespace[version] = (inNamespace[version] ?? 0) + 1;
    if (pod.upgradeFailed) failed.push(`${pod.namespace}/${pod.name}`);
    if (pod.optedOut) {
      optedOut.add(`${pod.namespace}/${pod.workload ?? pod.name}`);
      optedOutPods++;
    }
  }
  return {
    sampled: sample.pods.length,
    total: sample.total,
    versions,
    failed: failed.sort(),
    optedOut: [...optedOut].sort(),
    optedOutPods,
    byNamespace,
  };
}

const empty = {
  revisions: [],
  dataPlaneControls: [],
  namespaces: [],
  proxies: null,
  istiodRevisions: [],
  istiods: [],
  upgradeFailures: [],
};

/**
 * The channel's managed MeshConfig, in one GET. Never throws: a status that cannot read it still
 * shows the rest, and says this part could not be read.
 */
async function readMeshConfig(kube: Kube, channel: ReleaseChannel): Promise<MeshConfigRead> {
  const where = {
    namespace: MESH_CONFIG_NAMESPACE,
    configMap: meshConfigMapName(meshRevisionByChannel[channel]),
  };
  try {
    const configMap = await kube.getConfigMap(where.namespace, where.configMap);
    if (!configMap) return { ...where, state: 'absent' };
    const { accessLogFile, tracingSampling, tracer } = meshSettingsOf(
      configMap.data.mesh ?? '',
      `${where.namespace}/${where.configMap}`,
    );
    return { ...where, state: 'read', accessLogFile, tracingSampling, tracer };
  } catch (error) {
    return { ...where, state: 'unreadable', error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Takes the snapshot: the two mesh objects always, and when `deep` says so (given the quick
 * snapshot) also namespaces, injected pods, istiod and upgrade events: four more calls, five with
 * `meshConfig` (the channel's MeshConfig, which only `/mesh status` shows).
 */
export async function takeSnapshot(
  reader: Pick<SnapshotReader, 'kube' | 'policy'>,
  ref: ClusterRef,
  context: FleetContext,
  options: {
    now: number;
    deep: boolean | ((quick: MeshSnapshot) => boolean);
    sampleLimit?: number;
    meshConfig?: boolean;
  },
): Promise<MeshSnapshot> {
  const { cluster, membership, mesh } = context;
  const base: MeshSnapshot = {
    cluster: clusterKey(ref),
    takenAt: options.now,
    found: cluster !== null,
    gke: cluster
      ? {
          status: cluster.status,
          releaseChannel: cluster.releaseChannel,
          masterVersion: cluster.masterVersion,
        }
      : null,
    membership,
    management: mesh?.management ?? null,
    controlPlane: mesh?.state?.controlPlane ?? null,
    dataPlane: mesh?.state?.dataPlane ?? null,
    conditions: mesh?.state?.conditions ?? [],
    ...empty,
    deep: false,
  };
  if (!cluster || cluster.status !== 'RUNNING') return base;
  try {
    const kube = reader.kube.forCluster(
      clusterAccess(
        reader.policy.kubeAccess,
        ref,
        cluster,
        membership ? { name: membership, projectNumber: context.projectNumber } : null,
      ),
    );
    const [revisions, dataPlaneControls] = await Promise.all([
      kube.listControlPlaneRevisions(),
      kube.listDataPlaneControls(),
    ]);
    const quick = { ...base, revisions, dataPlaneControls };
    const deep = typeof options.deep === 'function' ? options.deep(quick) : options.deep;
    if (!deep) return quick;
    const [namespaces, sample, istiods, failures, meshConfig] = await Promise.all([
      kube.listNamespaces(),
      kube.sampleProxyPods(options.sampleLimit ?? SAMPLE_LIMIT),
      kube.listIstiods(),
      kube.listUpgradeFailures(),
      options.meshConfig ? readMeshConfig(kube, cluster.releaseChannel) : undefined,
    ]);
    return {
      ...quick,
      deep: true,
      ...(meshConfig ? { meshConfig } : {}),
      namespaces: namespaces
        .flatMap((ns) => {
          const label = injectionLabel(ns.labels);
          return label ? [{ name: ns.name, label }] : [];
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
      proxies: summarise(sample),
      istiodRevisions: [...new Set(istiods.map((istiod) => istiod.revision).filter(Boolean))].sort(),
      istiods: [...istiods].sort(
        (a, b) => a.revision.localeCompare(b.revision) || a.name.localeCompare(b.name),
      ),
      upgradeFailures: failures
        .map((f) => ({ pod: `${f.namespace}/${f.pod}`, message: f.message }))
        .sort((a, b) => a.pod.localeCompare(b.pod)),
    };
  } catch (error) {
    return { ...base, kubeError: error instanceof Error ? error.message : String(error) };
  }
}

/** The project and cluster of a `P/L/C` key. */
export function refOf(key: string): ClusterRef {
  const [project = '', location = '', name = ''] = key.split('/');
  return { project, location, name };
}
