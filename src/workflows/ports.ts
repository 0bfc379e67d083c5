/**
 * What the workflows see of the world. Adapters in src/cloud and src/slack implement these over
 * the real clients; unit tests implement them in memory. Small domain shapes, not SDK shapes.
 */
import type { RunEvent } from './events.js';
import type { BatchMember, Decision, RunRecord } from './run.js';

export interface ClusterRef {
  project: string;
  location: string;
  name: string;
}

export type ReleaseChannel = 'RAPID' | 'REGULAR' | 'STABLE' | 'EXTENDED' | 'UNSPECIFIED';

export interface ClusterInfo {
  status: string;
  releaseChannel: ReleaseChannel;
  workloadPool: string | null;
  autopilot: boolean;
  /** Host (and port) of the API server, as GKE reports it: no scheme. */
  endpoint: string;
  /** Base64 PEM of the cluster CA, as GKE reports it. */
  caCertificate: string;
  resourceLabels: Record<string, string>;
  labelFingerprint: string;
  /** The GKE version of the control plane, e.g. 1.31.6-gke.1020000. */
  masterVersion: string;
  /** Its node pools (Autopilot's too, which Google manages), as the cluster GET lists them. */
  nodePools: NodePoolInfo[];
  /** The fleet the cluster is registered in (the Cluster's `fleet` field), null when in none. */
  fleet: ClusterFleet | null;
  /**
   * The control plane has only a private endpoint (`privateClusterConfig.enablePrivateEndpoint`, or its
   * IP endpoints with the public one off): `endpoint` is an address in the VPC. Absent in records saved
   * before meshops read it.
   */
  privateEndpointOnly?: boolean;
}

export interface NodePoolInfo {
  name: string;
  /** `config.workloadMetadataConfig.mode`: GKE_METADATA serves Workload Identity; null when unset. */
  workloadMetadataMode: string | null;
}

export interface ClusterFleet {
  /** `projects/NUMBER` (or the ID) of the fleet host project, as GKE writes it. */
  project: string;
  /** The membership's full name, e.g. projects/NUMBER/locations/global/memberships/NAME. */
  membership: string;
}

/** A cluster as a project's cluster list shows it. */
export interface ListedCluster extends ClusterInfo {
  ref: ClusterRef;
}

export interface Membership {
  /** projects/P/locations/L/memberships/NAME */
  name: string;
  resourceLink: string;
  state: string;
}

/** A long-running operation we started and may have to come back for. */
export interface OperationRef {
  api: 'gkehub' | 'container' | 'serviceusage';
  name: string;
  /** Container operations are addressed by project and location too. */
  project?: string;
  location?: string;
}

export interface OperationStatus {
  done: boolean;
  error?: string;
}

export interface StateDetail {
  code: string;
  details: string;
}

export interface MeshCondition {
  code: string;
  details: string;
  documentationLink?: string;
  severity?: string;
}

export interface PlaneState {
  state: string;
  details: StateDetail[];
  implementation?: string;
}

export interface MeshState {
  controlPlane: PlaneState | null;
  dataPlane: PlaneState | null;
  conditions: MeshCondition[];
}

export interface Gke {
  getCluster(cluster: ClusterRef): Promise<ClusterInfo>;
  /** Every cluster of a project, in every location: one call. */
  listClusters(project: string): Promise<ListedCluster[]>;
  /** Merges `labels` into the cluster's labels (re-reading the fingerprint if it moved). */
  /** Resolves null when the labels are already so. */
  setResourceLabels(cluster: ClusterRef, labels: Record<string, string>): Promise<OperationRef | null>;
  /** Removes labels from the cluster (keeping the others); null when none of them is there. */
  removeResourceLabels(cluster: ClusterRef, keys: string[]): Promise<OperationRef | null>;
}

/** One role of a project's IAM policy and who has it (`serviceAccount:…`, `user:…`). */
export interface IamBinding {
  role: string;
  members: string[];
}

export interface Projects {
  projectNumber(projectId: string): Promise<string>;
  /** The project's IAM policy bindings (conditions aside). */
  iamBindings(projectId: string): Promise<IamBinding[]>;
}

export interface Services {
  /** Which of `services` are not enabled on `project` (one batchGet). */
  disabled(project: string, services: string[]): Promise<string[]>;
  /** Enables every one of `services` on `project` in one batchEnable: a long-running operation. */
  batchEnable(project: string, services: string[]): Promise<OperationRef>;
}

/** One membership as the servicemesh feature sees it: its spec's management and its state. */
export interface MembershipMesh {
  management: string | null;
  state: MeshState | null;
}

/**
 * One read of a fleet project's servicemesh feature: every membership's spec and state, keyed by
 * the membership's name with the project NUMBER (as the server writes the keys).
 */
export interface FleetMesh {
  /** The feature exists (servicemesh is enabled on the fleet). */
  enabled: boolean;
  memberships: Record<string, MembershipMesh>;
}

export interface Fleet {
  /** Every membership of a fleet project, in every location. */
  listMemberships(project: string): Promise<Membership[]>;
  /** The servicemesh feature of a fleet project, every membership at once; `enabled: false` if it does not exist. */
  readMeshFeature(project: string): Promise<FleetMesh>;
  /**
   * The membership of fleet `project` whose gkeCluster.resourceLink is this cluster (written with the
   * cluster's project ID or `clusterProjectNumber`).
   */
  findMembership(
    project: string,
    cluster: ClusterRef,
    clusterProjectNumber: string,
  ): Promise<Membership | null>;
  createMembership(
    project: string,
    location: string,
    membershipId: string,
    cluster: ClusterRef,
    workloadIdentity: boolean,
  ): Promise<OperationRef>;
  /** Unregisters a membership (a long-running operation); null when it is already gone. */
  deleteMembership(name: string): Promise<OperationRef | null>;
  /** Creates the servicemesh feature; resolves null when it already exists. */
  enableMeshFeature(project: string): Promise<OperationRef | null>;
  /** Sets mesh management for exactly one membership key (updateMask=membershipSpecs merges). */
  setMeshManagement(
    project: string,
    membershipName: string,
    management: 'MANAGEMENT_AUTOMATIC' | 'MANAGEMENT_MANUAL',
  ): Promise<OperationRef>;
  meshState(project: string, membershipName: string, projectNumber: string): Promise<MeshState | null>;
}

export interface Operations {
  status(operation: OperationRef): Promise<OperationStatus>;
}

/**
 * How `kube.access` says the clusters' API servers are reached: `direct` at the cluster's endpoint,
 * `gateway` through Connect Gateway, `auto` the gateway only for a cluster with a private endpoint only.
 */
export type KubeAccessMode = 'direct' | 'gateway' | 'auto';

export interface ClusterAccess {
  endpoint: string;
  caCertificate: string;
  /**
   * Set: reach the API server through Connect Gateway, at this fleet membership written with the project
   * NUMBER (`projects/123/locations/us-central1/memberships/c1`); `endpoint` and the cluster CA are not used.
   */
  gateway?: string;
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface PodInfo {
  name: string;
  namespace: string;
  phase: string;
  ready: boolean;
  hasIstioProxy: boolean;
  labels: Record<string, string>;
  /** The revision that injected its sidecar (`sidecar.istio.io/status`), when the pod says. */
  sidecarRevision?: string;
}

/**
 * An in-cluster istiod (asmcli, seed 002): a Deployment in istio-system labelled `app=istiod` and
 * `istio.io/rev=asm-XXXX`. The managed control plane has none: it runs outside the cluster.
 */
export interface IstiodDeployment {
  name: string;
  revision: string;
  /** The tag of its image, e.g. 1.11.5-asm.3; null when the image has none. */
  version: string | null;
  replicas: number;
  readyReplicas: number;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadInfo {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  replicas: number;
}

/** A `controlplanerevisions.mesh.cloud.google.com` object: a managed control-plane revision. */
export interface ControlPlaneRevisionInfo {
  name: string;
  /** regular, rapid or stable. */
  channel: string;
  /** Its `Reconciled` condition is True. */
  ready: boolean;
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
}

/** A cluster-scoped `dataplanecontrols.mesh.cloud.google.com` object: the managed data plane's target. */
export interface DataPlaneControlInfo {
  name: string;
  revision: string;
  proxyVersion: string;
  state: string;
}

/** An injected pod, for what its sidecar says. */
export interface ProxyPod {
  namespace: string;
  name: string;
  /** The workload that owns it (Deployment, StatefulSet, DaemonSet), when known. */
  workload?: string;
  /** The tag of its istio-proxy image, e.g. 1.23.6-asm.14. */
  proxyVersion: string | null;
  /** Labelled `dataplane-upgrade=failed` by the managed data plane. */
  upgradeFailed: boolean;
  /** Annotated `mesh.cloud.google.com/proxy: {"managed":"false"}`: the managed data plane leaves it alone. */
  optedOut: boolean;
}

/** A bounded sample of the injected pods of a cluster, and how many there are in all. */
export interface ProxySample {
  pods: ProxyPod[];
  total: number;
}

/** A `DataPlaneUpgradeFailure` event of the managed data plane. */
export interface UpgradeFailure {
  namespace: string;
  pod: string;
  message: string;
  at: number;
}

/** A ConfigMap's data and the resourceVersion it was read at (what a write is conditioned on). */
export interface ConfigMapInfo {
  namespace: string;
  name: string;
  resourceVersion: string;
  data: Record<string, string>;
}

/** A conditional write: done, or refused because the object moved on (409: changed, or created meanwhile). */
export type ConfigMapWrite = 'written' | 'conflict';

export interface Kube {
  getNamespace(name: string): Promise<NamespaceInfo | null>;
  listNamespaces(): Promise<NamespaceInfo[]>;
  /** Empty when the mesh CRDs are not installed (managed mesh never provisioned). */
  listControlPlaneRevisions(): Promise<ControlPlaneRevisionInfo[]>;
  listDataPlaneControls(): Promise<DataPlaneControlInfo[]>;
  /** At most `limit` injected pods across all namespaces (one call), with the total count. */
  sampleProxyPods(limit: number): Promise<ProxySample>;
  listUpgradeFailures(): Promise<UpgradeFailure[]>;
  /** Pods in a namespace; `labelSelector` as Kubernetes writes it. */
  listPods(namespace: string, labelSelector?: string): Promise<PodInfo[]>;
  listWorkloads(namespace: string, kinds: WorkloadKind[]): Promise<WorkloadInfo[]>;
  /** The in-cluster istiod Deployments of istio-system (one list call). */
  listIstiods(): Promise<IstiodDeployment[]>;
  countPodDisruptionBudgets(namespace: string): Promise<number>;
  /** JSON merge-patch of the namespace labels: `null` removes a label. */
  patchNamespaceLabels(name: string, labels: Record<string, string | null>): Promise<void>;
  /** What `kubectl rollout restart` does: stamp the pod template with restartedAt. */
  restartWorkload(workload: WorkloadInfo, restartedAt: string): Promise<void>;
  /** Null when there is no such ConfigMap. */
  getConfigMap(namespace: string, name: string): Promise<ConfigMapInfo | null>;
  /**
   * Merge-patches these `data` keys (the others are kept) on the condition that the ConfigMap is still
   * at `resourceVersion`: 'conflict' when someone changed it since it was read.
   */
  patchConfigMapData(
    namespace: string,
    name: string,
    data: Record<string, string>,
    resourceVersion: string,
  ): Promise<ConfigMapWrite>;
  /** Creates a ConfigMap with `data`: 'conflict' when it exists by now. */
  createConfigMap(namespace: string, name: string, data: Record<string, string>): Promise<ConfigMapWrite>;
}

export interface KubeFactory {
  forCluster(access: ClusterAccess): Kube;
}

/** Tells the people following a run what happened (src/slack turns events into messages). */
export interface Notifier {
  emit(run: RunRecord, event: RunEvent): Promise<void>;
}

export interface Clock {
  now(): number;
}

/** The ports through which a run reaches Google and the clusters: what a dry run wraps. */
export interface CloudPorts {
  gke: Gke;
  projects: Projects;
  services: Services;
  fleet: Fleet;
  operations: Operations;
  kube: KubeFactory;
}

/** A change a dry run would have made: what the recording decorator wrote down instead of calling. */
export interface PlannedCall {
  api: 'gkehub' | 'container' | 'serviceusage' | 'kubernetes';
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The request's path and query, as the API is called: `/v1/projects/P/locations/global/features?featureId=servicemesh`. */
  path: string;
  /** The resource it changes or creates: `projects/P/locations/L/memberships/NAME`, `namespaces/shop`. */
  resource: string;
  /** What it changes, in words: `mesh_id=proj-123 added (env, team kept)`. */
  change: string;
}

/** A dry run's cloud ports, and what they recorded instead of changing. */
export interface Rehearsal {
  ports: CloudPorts;
  /** The calls recorded through `ports` so far. */
  recorded(): PlannedCall[];
}

/**
 * Wraps a run's cloud ports for a dry run (src/cloud/dryRun.ts): reads go through, every mutating
 * method records the call it would make and answers as if it had. `earlier` are the calls the run's
 * earlier steps recorded, so a step sees what they would have created (a membership, an enabled API).
 */
export type DryRunDecorator = (
  ports: CloudPorts,
  cluster: ClusterRef,
  earlier: readonly PlannedCall[],
) => Rehearsal;

/** A batch's runs, as its steps see them (src/jobs/batches.ts keeps them in Redis and the run queue). */
export interface Batches {
  /**
   * Admits one `enable-cluster` run per cluster, each with `parent` set to the batch, and enqueues it.
   * Keyed on the batch and the cluster: called again (after a crash), it admits nothing twice.
   * A cluster another run holds gets no run: its member names the holder.
   */
  start(batch: RunRecord, clusters: ClusterRef[]): Promise<BatchMember[]>;
  /** The records of the batch's runs, in the order asked (null for one that is gone). */
  runs(ids: string[]): Promise<Array<RunRecord | null>>;
  /**
   * Hands the batch's decision (every approval, or the rejection) to each run that waits for it and
   * wakes it. Returns how many took it.
   */
  decide(ids: string[], decisions: Decision[]): Promise<number>;
}
