/** The shapes tests and scenarios use to describe a world. */

export type ScenarioName = 'default' | 'in-cluster-istiod' | 'upgrades';

export interface SimTimings {
  /** Membership create (and delete) LRO is done after this long. */
  membershipCreate: number;
  /** Container setResourceLabels operation (type UPDATE_CLUSTER): PENDING, then RUNNING, DONE after this long in total. */
  labelOperation: number;
  /** After management becomes AUTOMATIC, the control plane stays DISABLED this long. */
  controlPlaneProvisioningAfter: number;
  /** ...and PROVISIONING until this long after management became AUTOMATIC. */
  controlPlaneActiveAfter: number;
  /** The data plane is FAILED_PRECONDITION until the control plane is ACTIVE, then PROVISIONING until this. */
  dataPlaneProvisioningAfter: number;
  /** A new pod is Pending (containers not ready) this long. */
  podReadyAfter: number;
  /** Feature create / update LROs are done after this long. */
  featureOperation: number;
  /** A Service Usage batchEnable operation is done after this long (a single :enable at once). */
  serviceEnable: number;
}

export const defaultTimings: SimTimings = {
  membershipCreate: 3000,
  labelOperation: 2000,
  controlPlaneProvisioningAfter: 5000,
  controlPlaneActiveAfter: 60000,
  dataPlaneProvisioningAfter: 90000,
  podReadyAfter: 2000,
  featureOperation: 1000,
  serviceEnable: 2000,
};

export type ReleaseChannel = 'RAPID' | 'REGULAR' | 'STABLE' | 'EXTENDED' | 'UNSPECIFIED';
export type ClusterStatus = 'PROVISIONING' | 'RUNNING' | 'RECONCILING' | 'STOPPING' | 'ERROR' | 'DEGRADED';
/** How managed provisioning goes for a cluster: normally, stuck (STALLED), or DEGRADED with a condition. */
export type MeshBehaviour = 'normal' | 'stall' | 'degrade';
/** UPDATING is what Google reports while it migrates a fleet from ISTIOD to TRAFFIC_DIRECTOR. */
export type MeshImplementation = 'ISTIOD' | 'UPDATING' | 'TRAFFIC_DIRECTOR';
/** The release channels a managed revision follows. */
export type ManagedChannel = 'RAPID' | 'REGULAR' | 'STABLE';

/** What `SimWorld.upgradeMesh` changes; see there. */
export interface MeshUpgrade {
  /** New target proxy version: DataPlaneControl says so at once, and pods roll to it one by one. */
  proxyVersion?: string;
  implementation?: MeshImplementation;
  /** Sim time between two pod replacements; default 10 s. */
  podIntervalMs?: number;
  /** 'namespace/name' of workloads whose pods fail to upgrade (labelled and reported, never replaced). */
  failWorkloads?: string[];
}

/**
 * A VPC Service Controls perimeter around a project: calls from outside it (meshops) to its restricted
 * services are refused with 403 SECURITY_POLICY_VIOLATED, as Google answers them.
 */
export interface PerimeterSpec {
  /** accessPolicies/N/servicePerimeters/NAME, or just NAME. */
  name: string;
  /** Default: the fleet's and the mesh's APIs (gkehub, mesh, meshconfig). */
  restricted?: string[];
}

export interface ProjectSpec {
  id: string;
  number: string;
  displayName?: string;
  /** Enabled services; default: the usual GKE + fleet + mesh set. */
  services?: string[];
  perimeter?: PerimeterSpec;
  /** IAM policy bindings (role → members); default none beyond what the emulator never checks. */
  iamBindings?: Array<{ role: string; members: string[] }>;
}

/** A node pool of a Standard cluster, with what its nodes serve pods as metadata. */
export interface NodePoolSpec {
  name: string;
  /** `config.workloadMetadataConfig.mode`; default GKE_METADATA when the cluster has Workload Identity, else unset. */
  workloadMetadata?: 'GKE_METADATA' | 'GCE_METADATA';
}

export interface WorkloadSpec {
  name: string;
  /** Deployments and StatefulSets; DaemonSets run one pod per node. Default 1. */
  replicas?: number;
  image?: string;
  /** Labels on the workload object itself, besides `app: NAME`. */
  labels?: Record<string, string>;
  /** Pod template labels besides `app: NAME` (they may override `app`; the selector follows it). */
  podLabels?: Record<string, string>;
  templateAnnotations?: Record<string, string>;
}

export interface PodDisruptionBudgetSpec {
  name: string;
  /** matchLabels of the selector. */
  selector: Record<string, string>;
  minAvailable?: number;
  maxUnavailable?: number;
}

export interface NamespaceSpec {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deployments?: WorkloadSpec[];
  statefulSets?: WorkloadSpec[];
  daemonSets?: WorkloadSpec[];
  configMaps?: Array<{ name: string; data: Record<string, string> }>;
  podDisruptionBudgets?: PodDisruptionBudgetSpec[];
}

export interface MeshRuntime {
  behaviour: MeshBehaviour;
  implementation: MeshImplementation;
  /** Proxy version the managed data plane injects, e.g. '1.23.6-asm.14'. */
  proxyVersion: string;
}

export interface ClusterSpec {
  project: string;
  location: string;
  name: string;
  status?: ClusterStatus;
  releaseChannel?: ReleaseChannel;
  /** Workload Identity (workloadPool P.svc.id.goog); default true. */
  workloadIdentity?: boolean;
  autopilot?: boolean;
  resourceLabels?: Record<string, string>;
  /** Kubernetes native sidecars: istio-proxy goes to initContainers with restartPolicy Always. */
  nativeSidecars?: boolean;
  mesh?: Partial<MeshRuntime>;
  masterVersion?: string;
  nodeCount?: number;
  /** Default: one `default-pool` (Autopilot: `default-pool`, GKE_METADATA, managed by Google). */
  nodePools?: NodePoolSpec[];
  /**
   * Registered in the fleet of another project, as someone did before (`gcloud container fleet
   * memberships register`): that project must be in the scenario. The membership is READY at once.
   */
  registeredIn?: { project: string; location?: string; membership?: string };
  /** Default: default, kube-system and istio-system, empty. */
  namespaces?: NamespaceSpec[];
  /**
   * A private cluster with only a private endpoint (`privateClusterConfig.enablePrivateEndpoint`): its
   * `endpoint` refuses every connection from outside the VPC (here: from anyone), so its API server is
   * reached only through Connect Gateway, once it is a fleet member. Default false.
   */
  privateEndpoint?: boolean;
}

export interface Scenario {
  projects: ProjectSpec[];
  clusters: ClusterSpec[];
}
