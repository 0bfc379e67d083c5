/**
 * What the workflows see of the world. Adapters in src/cloud and src/slack implement these over
 * the real clients; unit tests implement them in memory. Small domain shapes, not SDK shapes.
 */
import type { RunEvent } from './events.js';
import type { RunRecord } from './run.js';

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
  /** Merges `labels` into the cluster's labels (re-reading the fingerprint if it moved). */
  /** Resolves null when the labels are already so. */
  setResourceLabels(cluster: ClusterRef, labels: Record<string, string>): Promise<OperationRef | null>;
}

export interface Projects {
  projectNumber(projectId: string): Promise<string>;
}

export interface Services {
  isEnabled(project: string, service: string): Promise<boolean>;
  enable(project: string, service: string): Promise<OperationRef>;
}

export interface Fleet {
  /** The membership whose gkeCluster.resourceLink is this cluster (written with the project ID or number). */
  findMembership(project: string, cluster: ClusterRef, projectNumber: string): Promise<Membership | null>;
  createMembership(
    project: string,
    location: string,
    membershipId: string,
    cluster: ClusterRef,
    workloadIdentity: boolean,
  ): Promise<OperationRef>;
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

export interface ClusterAccess {
  endpoint: string;
  caCertificate: string;
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
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadInfo {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  replicas: number;
}

export interface Kube {
  getNamespace(name: string): Promise<NamespaceInfo | null>;
  /** Pods in a namespace; `labelSelector` as Kubernetes writes it. */
  listPods(namespace: string, labelSelector?: string): Promise<PodInfo[]>;
  listWorkloads(namespace: string, kinds: WorkloadKind[]): Promise<WorkloadInfo[]>;
  countPodDisruptionBudgets(namespace: string): Promise<number>;
  /** JSON merge-patch of the namespace labels: `null` removes a label. */
  patchNamespaceLabels(name: string, labels: Record<string, string | null>): Promise<void>;
  /** What `kubectl rollout restart` does: stamp the pod template with restartedAt. */
  restartWorkload(workload: WorkloadInfo, restartedAt: string): Promise<void>;
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
