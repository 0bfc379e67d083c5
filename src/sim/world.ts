import type { SimClock } from './clock.js';
import { createCertificates } from './certs.js';
import { SimCluster } from './cluster.js';
import type { Labels } from './kubeTypes.js';
import type { RunningServer } from './http.js';
import { uuid } from './ids.js';
import type { ManagedMeshView } from './injection.js';
import type { JsonObject } from './json.js';
import { OperationFaults } from './operations.js';
import {
  channelProxyVersions,
  computeMeshState,
  iamPermissionDenied,
  managedRevision,
  type MeshCondition,
  type MeshMembershipState,
} from './mesh.js';
import type { RolloutStatus } from './rollout.js';
import type {
  ClusterSpec,
  ManagedChannel,
  MeshRuntime,
  MeshUpgrade,
  ProjectSpec,
  ReleaseChannel,
  SimTimings,
} from './types.js';

export const defaultServices = [
  'cloudresourcemanager.googleapis.com',
  'compute.googleapis.com',
  'connectgateway.googleapis.com',
  'container.googleapis.com',
  'gkeconnect.googleapis.com',
  'gkehub.googleapis.com',
  'iam.googleapis.com',
  'iamcredentials.googleapis.com',
  'logging.googleapis.com',
  'mesh.googleapis.com',
  'meshca.googleapis.com',
  'meshconfig.googleapis.com',
  'monitoring.googleapis.com',
  'networkservices.googleapis.com',
  'serviceusage.googleapis.com',
  'stackdriver.googleapis.com',
  'trafficdirector.googleapis.com',
];

export interface SimProject {
  id: string;
  number: string;
  displayName: string;
  parent: string;
  createdAt: number;
  /** Enabled services, e.g. 'mesh.googleapis.com'. */
  services: Set<string>;
  /** Services a batchEnable turns on when its operation is done (see SimWorld.enableServicesAt). */
  enabling: Array<{ service: string; at: number }>;
  /** The VPC Service Controls perimeter around it, if any, and the services it restricts. */
  perimeter?: { name: string; restricted: Set<string> };
  /** IAM policy bindings, as getIamPolicy answers them; what a fleet host's agents need is checked. */
  iamBindings: Array<{ role: string; members: string[] }>;
  /** Bumped by every setIamPolicy: the policy's etag, so a stale read-modify-write is refused. */
  iamRevision: number;
}

/** What a perimeter restricts when its scenario names no services: the fleet's and the mesh's APIs. */
export const defaultRestrictedServices = [
  'gkehub.googleapis.com',
  'mesh.googleapis.com',
  'meshconfig.googleapis.com',
];

export interface SimMembership {
  /** projects/PROJECT_ID/locations/LOCATION/memberships/NAME */
  name: string;
  project: string;
  location: string;
  membershipId: string;
  /** //container.googleapis.com/projects/P/locations/L/clusters/C */
  resourceLink: string;
  issuer?: string;
  uniqueId: string;
  labels: Labels;
  createdAt: number;
  /** When the create operation finishes; before that the state is CREATING. */
  readyAt: number;
  deletingAt?: number;
  /** When the delete operation finishes and the membership is gone. */
  goneAt?: number;
}

export type MembershipStateCode = 'CREATING' | 'READY' | 'DELETING';

export interface MembershipSpecEntry {
  /** The membership's spec as last written, without `origin`, e.g. { mesh: { management: 'MANAGEMENT_AUTOMATIC' } }. */
  spec: JsonObject;
  /** `origin.type` as written (USER when the writer named none): FLEET stays FLEET. */
  origin: string;
  /** When management last became MANAGEMENT_AUTOMATIC; undefined when it is not automatic. */
  automaticSince?: number;
}

export interface SimFeature {
  /** projects/PROJECT_ID/locations/global/features/ID */
  name: string;
  project: string;
  featureId: string;
  createdAt: number;
  updatedAt: number;
  spec: JsonObject;
  labels: Labels;
  /** Keyed `projects/NUMBER/locations/L/memberships/NAME`, as the real API normalises them. */
  membershipSpecs: Map<string, MembershipSpecEntry>;
}

export interface WorldContext {
  clock: SimClock;
  timings: SimTimings;
  caPem: string;
  /** Starts the Kubernetes API server of a new cluster and returns it; sets nothing on the cluster. */
  serveCluster(cluster: SimCluster): Promise<RunningServer>;
  /** Host part of cluster endpoints. */
  advertisedHost: string;
}

const resourceLinkPattern =
  /^\/\/container\.googleapis\.com\/(?:v1\/)?projects\/([^/]+)\/(?:locations|zones)\/([^/]+)\/clusters\/([^/]+)$/;
const membershipNamePattern = /^projects\/([^/]+)\/locations\/([^/]+)\/memberships\/([^/]+)$/;

export function resourceLinkFor(cluster: SimCluster): string {
  return `//container.googleapis.com/projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`;
}

/** Everything the emulated Google and Kubernetes APIs read and change. */
export class SimWorld {
  readonly projects = new Map<string, SimProject>();
  readonly clusters: SimCluster[] = [];
  private readonly clusterIndex = new Map<string, SimCluster>();
  /** Which cluster a membership's resource link names, resolved once (the link never changes). */
  private readonly linkedCluster = new Map<string, SimCluster | undefined>();
  private readonly allMemberships = new Map<string, SimMembership>();
  /** Memberships whose deletion (or failed creation) ends at their goneAt: the only ones a sweep looks at. */
  private readonly leaving = new Set<SimMembership>();
  /** Memberships by the cluster their resource link names: a cluster's lookup must not scan the fleet. */
  private readonly membershipsByCluster = new Map<SimCluster, Set<SimMembership>>();
  readonly features = new Map<string, SimFeature>();
  /** Long-running operations that will end with an error (see OperationFaults). */
  readonly operationFaults = new OperationFaults();
  private readonly servers = new Map<SimCluster, RunningServer>();

  constructor(private readonly context: WorldContext) {}

  get clock(): SimClock {
    return this.context.clock;
  }

  get timings(): SimTimings {
    return this.context.timings;
  }

  addProject(spec: ProjectSpec): SimProject {
    if (this.project(spec.id) || this.project(spec.number)) {
      throw new Error(`project ${spec.id} already exists`);
    }
    const project: SimProject = {
      id: spec.id,
      number: spec.number,
      displayName: spec.displayName ?? spec.id,
      parent: 'organizations/100000000001',
      createdAt: this.clock.now(),
      services: new Set(spec.services ?? defaultServices),
      enabling: [],
      ...(spec.perimeter
        ? {
            perimeter: {
              name: spec.perimeter.name,
              restricted: new Set(spec.perimeter.restricted ?? defaultRestrictedServices),
            },
          }
        : {}),
      iamBindings: (spec.iamBindings ?? []).map((b) => ({ role: b.role, members: [...b.members] })),
      iamRevision: 0,
    };
    this.projects.set(project.id, project);
    return project;
  }

  /** A project by ID or number, the two forms Google accepts in paths; services due by now are on. */
  project(idOrNumber: string): SimProject | undefined {
    const found = this.projects.get(idOrNumber) ?? this.projectByNumber(idOrNumber);
    if (found && found.enabling.length > 0) {
      const now = this.clock.now();
      for (const { service } of found.enabling.filter((e) => e.at <= now)) found.services.add(service);
      found.enabling = found.enabling.filter((e) => e.at > now);
    }
    return found;
  }

  private projectByNumber(number: string): SimProject | undefined {
    for (const project of this.projects.values()) if (project.number === number) return project;
    return undefined;
  }

  /** `services` turn on at `at`: when the batchEnable operation that enables them is done. */
  enableServicesAt(project: SimProject, services: string[], at: number): void {
    project.enabling.push(...services.map((service) => ({ service, at })));
  }

  /** Whether `member` has `role` on the project (by ID or number). */
  hasRole(project: string, role: string, member: string): boolean {
    return (this.project(project)?.iamBindings ?? []).some(
      (b) => b.role === role && b.members.includes(member),
    );
  }

  setService(project: string, service: string, enabled: boolean): void {
    const found = this.project(project);
    if (!found) throw new Error(`no project ${project}`);
    if (enabled) found.services.add(service);
    else found.services.delete(service);
  }

  async addCluster(spec: ClusterSpec): Promise<SimCluster> {
    const project = this.project(spec.project);
    if (!project) throw new Error(`cluster ${spec.name}: no project ${spec.project}`);
    if (this.cluster(`${spec.project}/${spec.location}/${spec.name}`)) {
      throw new Error(`cluster ${spec.project}/${spec.location}/${spec.name} already exists`);
    }
    const cluster = new SimCluster(
      { ...spec, project: project.id },
      {
        clock: this.clock,
        timings: this.timings,
        caPem: this.context.caPem,
        managedMesh: (c) => this.managedMesh(c),
      },
    );
    const server = await this.context.serveCluster(cluster);
    this.servers.set(cluster, server);
    cluster.endpoint = `${this.context.advertisedHost}:${server.port}`;
    this.clusters.push(cluster);
    this.clusterIndex.set(cluster.ref, cluster);
    this.linkedCluster.clear();
    // Memberships that name it already (it was deleted and is back under the same name) are its again.
    const linked = [...this.allMemberships.values()].filter((m) => this.clusterOf(m) === cluster);
    if (linked.length > 0) this.membershipsByCluster.set(cluster, new Set(linked));
    if (spec.registeredIn) this.registerElsewhere(cluster, spec.registeredIn);
    return cluster;
  }

  /** A membership for `cluster` in another project's fleet, READY, as an earlier `memberships register` left it. */
  private registerElsewhere(cluster: SimCluster, where: NonNullable<ClusterSpec['registeredIn']>): void {
    const fleet = this.project(where.project);
    if (!fleet) throw new Error(`cluster ${cluster.ref}: no fleet project ${where.project}`);
    const location = where.location ?? 'global';
    const membershipId = where.membership ?? cluster.name;
    const now = this.clock.now();
    this.addMembership({
      name: `projects/${fleet.id}/locations/${location}/memberships/${membershipId}`,
      project: fleet.id,
      location,
      membershipId,
      resourceLink: resourceLinkFor(cluster),
      issuer: `https://container.googleapis.com/v1/projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`,
      createdAt: now,
      readyAt: now,
    });
  }

  /** 'P/L/C' or 'projects/P/locations/L/clusters/C', P being the project ID or number. */
  cluster(ref: string): SimCluster | undefined {
    const parts = ref.startsWith('projects/') ? ref.split('/').filter((_, i) => i % 2 === 1) : ref.split('/');
    if (parts.length !== 3) return undefined;
    const [projectRef, location, name] = parts;
    const project = projectRef === undefined ? undefined : this.project(projectRef);
    // An index, not a scan: a fleet of a thousand clusters is read a thousand times per interval.
    return project ? this.clusterIndex.get(`${project.id}/${location}/${name}`) : undefined;
  }

  clusterByResourceLink(resourceLink: string): SimCluster | undefined {
    const match = resourceLinkPattern.exec(resourceLink);
    if (!match) return undefined;
    return this.cluster(`${match[1]}/${match[2]}/${match[3]}`);
  }

  /** Memberships by full name (project ID form), without those whose deletion has finished. */
  get memberships(): Map<string, SimMembership> {
    if (this.leaving.size === 0) return this.allMemberships;
    const now = this.clock.now();
    for (const membership of this.leaving) {
      if (membership.goneAt === undefined || membership.goneAt > now) continue;
      this.leaving.delete(membership);
      this.allMemberships.delete(membership.name);
      for (const set of this.membershipsByCluster.values()) set.delete(membership);
    }
    return this.allMemberships;
  }

  /** The membership is gone from `at` on (its delete operation ends then, or its creation failed). */
  scheduleGone(membership: SimMembership, at: number): void {
    membership.goneAt = at;
    this.leaving.add(membership);
  }

  membershipStateCode(membership: SimMembership): MembershipStateCode {
    if (membership.deletingAt !== undefined) return 'DELETING';
    return this.clock.now() < membership.readyAt ? 'CREATING' : 'READY';
  }

  /** `projects/P/locations/L/memberships/M` with P as ID or number → the membership, if it exists. */
  membership(fullName: string): SimMembership | undefined {
    const match = membershipNamePattern.exec(fullName);
    if (!match) return undefined;
    const project = this.project(match[1] ?? '');
    if (!project) return undefined;
    return this.memberships.get(`projects/${project.id}/locations/${match[2]}/memberships/${match[3]}`);
  }

  addMembership(membership: Omit<SimMembership, 'uniqueId' | 'labels'> & { labels?: Labels }): SimMembership {
    const created: SimMembership = { ...membership, uniqueId: uuid(), labels: { ...membership.labels } };
    this.allMemberships.set(created.name, created);
    const cluster = this.clusterOf(created);
    if (cluster) {
      const set = this.membershipsByCluster.get(cluster) ?? new Set<SimMembership>();
      set.add(created);
      this.membershipsByCluster.set(cluster, set);
    }
    return created;
  }

  /** The key GKE Hub uses in membershipSpecs / membershipStates: project NUMBER form. */
  membershipKey(membership: SimMembership): string {
    const number = this.project(membership.project)?.number ?? membership.project;
    return `projects/${number}/locations/${membership.location}/memberships/${membership.membershipId}`;
  }

  membershipsOfCluster(cluster: SimCluster): SimMembership[] {
    const live = this.memberships;
    return [...(this.membershipsByCluster.get(cluster) ?? [])].filter((m) => live.get(m.name) === m);
  }

  private clusterOf(membership: SimMembership): SimCluster | undefined {
    if (!this.linkedCluster.has(membership.resourceLink)) {
      this.linkedCluster.set(membership.resourceLink, this.clusterByResourceLink(membership.resourceLink));
    }
    return this.linkedCluster.get(membership.resourceLink);
  }

  feature(project: string, featureId: string): SimFeature | undefined {
    const found = this.project(project);
    return found
      ? this.features.get(`projects/${found.id}/locations/global/features/${featureId}`)
      : undefined;
  }

  /** Computed servicemesh state of a membership (full name, project as ID or number) at this moment. */
  membershipState(project: string, membershipFullName: string): MeshMembershipState | undefined {
    const membership = this.membership(membershipFullName);
    if (!membership || (this.project(project)?.id ?? project) !== membership.project) return undefined;
    return this.meshStateOf(membership);
  }

  private automaticSince(membership: SimMembership): number | undefined {
    const entry = this.feature(membership.project, 'servicemesh')?.membershipSpecs.get(
      this.membershipKey(membership),
    );
    return entry?.automaticSince;
  }

  /** A channel change still provisioning its revision at this moment, if any. */
  private pendingSwitch(cluster: SimCluster | undefined): SimCluster['channelSwitch'] {
    const change = cluster?.channelSwitch;
    return change && this.clock.now() < change.readyAt ? change : undefined;
  }

  meshStateOf(membership: SimMembership): MeshMembershipState {
    const cluster = this.clusterByResourceLink(membership.resourceLink);
    const pending = this.pendingSwitch(cluster);
    return computeMeshState({
      automaticSince: cluster ? this.automaticSince(membership) : undefined,
      now: this.clock.now(),
      timings: this.timings,
      // The old channel's revision serves until the new one is provisioned.
      channel: pending?.from ?? cluster?.releaseChannel ?? 'REGULAR',
      behaviour: cluster?.mesh.behaviour ?? 'normal',
      implementation: cluster?.mesh.implementation ?? 'ISTIOD',
      ...(pending ? { provisioningRevision: managedRevision(pending.to) } : {}),
      ...(cluster?.meshHealth ? { degradedBy: cluster.meshHealth.condition } : {}),
      ...this.meshAgentRoleMissing(membership, cluster),
    });
  }

  /** A fleet host's servicemesh agent without its role on the member cluster's project, if so. */
  private meshAgentRoleMissing(
    membership: SimMembership,
    cluster: SimCluster | undefined,
  ): { agentRoleMissing?: { project: string; agent: string } } {
    if (!cluster || cluster.project === membership.project) return {};
    const host = this.project(membership.project);
    if (!host) return {};
    const agent = `service-${host.number}@gcp-sa-servicemesh.iam.gserviceaccount.com`;
    if (this.hasRole(cluster.project, 'roles/anthosservicemesh.serviceAgent', `serviceAccount:${agent}`))
      return {};
    return { agentRoleMissing: { project: cluster.project, agent } };
  }

  /** The managed mesh for a cluster, through its (first ready) membership; undefined when not registered. */
  managedMesh(cluster: SimCluster): ManagedMeshView | undefined {
    const membership = this.membershipsOfCluster(cluster).find(
      (m) => this.membershipStateCode(m) === 'READY',
    );
    if (!membership) return undefined;
    const state = this.meshStateOf(membership);
    const since = this.automaticSince(membership) ?? this.clock.now();
    const pending = this.pendingSwitch(cluster);
    const switched = cluster.channelSwitch;
    return {
      revision: state.revision,
      dataPlaneActive: state.dataPlane === 'ACTIVE',
      controlPlaneState: state.controlPlane,
      dataPlaneState: state.dataPlane,
      proxyVersion: pending?.fromProxyVersion ?? cluster.mesh.proxyVersion,
      since,
      ...(pending
        ? { provisioningRevision: managedRevision(pending.to), provisioningSince: pending.at }
        : {}),
      ...(!pending && switched && switched.at > since ? { revisionSince: switched.at } : {}),
      ...(state.conditions.length > 0 ? { conditions: state.conditions } : {}),
    };
  }

  private requireCluster(ref: string): SimCluster {
    const cluster = this.cluster(ref);
    if (!cluster) throw new Error(`no cluster ${ref}`);
    return cluster;
  }

  /** Changes how the managed mesh behaves for a cluster: an upgrade (proxy version, implementation) or a fault. */
  setMeshRuntime(ref: string, runtime: Partial<MeshRuntime>): void {
    const cluster = this.requireCluster(ref);
    cluster.mesh = { ...cluster.mesh, ...runtime };
  }

  /**
   * A managed data plane upgrade, as Google runs it. `proxyVersion` becomes the target at once
   * (DataPlaneControl spec.proxyVersion, and what new pods get); from then on the mdp-controller replaces
   * one pod with an older managed proxy every `podIntervalMs` of sim time, honouring PodDisruptionBudgets,
   * skipping opted-out workloads and failing those in `failWorkloads`. `implementation` is what the feature
   * reports (UPDATING while Google migrates ISTIOD to TRAFFIC_DIRECTOR).
   */
  upgradeMesh(ref: string, change: MeshUpgrade): void {
    const cluster = this.requireCluster(ref);
    if (change.implementation !== undefined) {
      cluster.mesh = { ...cluster.mesh, implementation: change.implementation };
    }
    const rolls =
      change.proxyVersion !== undefined ||
      change.podIntervalMs !== undefined ||
      change.failWorkloads !== undefined;
    if (!rolls) return;
    // Steps due under the old target happen before the target moves.
    cluster.settle();
    if (change.proxyVersion !== undefined) {
      cluster.mesh = { ...cluster.mesh, proxyVersion: change.proxyVersion };
    }
    cluster.startProxyRollout({
      ...(change.podIntervalMs === undefined ? {} : { podIntervalMs: change.podIntervalMs }),
      ...(change.failWorkloads === undefined ? {} : { failWorkloads: change.failWorkloads }),
    });
  }

  /** Progress of the proxy roll-out in a cluster (steps due by now applied first). */
  rolloutStatus(ref: string): RolloutStatus {
    return this.requireCluster(ref).rolloutStatus();
  }

  /**
   * The cluster moves to another GKE release channel and its managed revision follows: the new channel's
   * revision provisions for `controlPlaneProvisioningAfter` while the old one serves, then serves itself,
   * and the proxies roll to `proxyVersion` (default: the channel's, see channelProxyVersions).
   */
  setReleaseChannel(ref: string, channel: ManagedChannel, options: { proxyVersion?: string } = {}): void {
    const cluster = this.requireCluster(ref);
    if (cluster.releaseChannel === channel) {
      // Same channel, same revision: at most a new proxy version to roll to.
      if (options.proxyVersion !== undefined) this.upgradeMesh(ref, { proxyVersion: options.proxyVersion });
      return;
    }
    // The channel whose revision serves right now (a change still provisioning has not taken over yet).
    const from: ReleaseChannel = this.pendingSwitch(cluster)?.from ?? cluster.releaseChannel;
    cluster.settle();
    const now = this.clock.now();
    const fromProxyVersion = this.managedMesh(cluster)?.proxyVersion ?? cluster.mesh.proxyVersion;
    const readyAt = now + this.timings.controlPlaneProvisioningAfter;
    cluster.releaseChannel = channel;
    cluster.channelSwitch = { from, to: channel, fromProxyVersion, at: now, readyAt };
    cluster.mesh = { ...cluster.mesh, proxyVersion: options.proxyVersion ?? channelProxyVersions[channel] };
    cluster.startProxyRollout({ startsAt: readyAt });
  }

  /**
   * The control plane turns unhealthy once provisioned: DEGRADED, REVISION_UNHEALTHY, code WARNING and
   * `condition` (default MESH_IAM_PERMISSION_DENIED) in the feature's conditions, until recoverMesh.
   */
  degradeMesh(ref: string, condition: Partial<MeshCondition> = {}): void {
    const cluster = this.requireCluster(ref);
    cluster.meshHealth = { condition: { ...iamPermissionDenied, ...condition }, since: this.clock.now() };
  }

  /** Back to a healthy ACTIVE control plane without conditions (also ends a 'degrade' or 'stall' behaviour). */
  recoverMesh(ref: string): void {
    const cluster = this.requireCluster(ref);
    cluster.meshHealth = undefined;
    if (cluster.mesh.behaviour !== 'normal') cluster.mesh = { ...cluster.mesh, behaviour: 'normal' };
  }

  /**
   * What GKE reports for reaching a cluster's API server goes wrong: 'unreachable' gives an endpoint
   * where nothing listens (a private endpoint seen from outside), 'wrong-ca' a CA that did not sign the
   * server's certificate; null mends it.
   */
  breakClusterAccess(ref: string, how: 'unreachable' | 'wrong-ca' | null): void {
    const cluster = this.requireCluster(ref);
    if (how === null) cluster.brokenAccess = undefined;
    else if (how === 'unreachable') cluster.brokenAccess = { endpoint: '127.0.0.1:9' };
    else cluster.brokenAccess = { caPem: createCertificates().caPem };
  }

  /**
   * The cluster's control plane gets only a private endpoint (true) or its public one back (false): while
   * private, its endpoint refuses every connection and Connect Gateway is the way in.
   */
  setPrivateEndpoint(ref: string, privateOnly: boolean): void {
    this.requireCluster(ref).privateEndpoint = privateOnly;
  }

  /**
   * The cluster behind a membership, as Connect Gateway reaches it: `projects/P/locations/L/memberships/M`
   * (P as ID or number) must exist and not be being deleted, and its cluster must exist.
   */
  gatewayMember(fullName: string): SimCluster | undefined {
    const membership = this.membership(fullName);
    if (!membership || membership.deletingAt !== undefined) return undefined;
    return this.clusterOf(membership);
  }

  /**
   * Someone deletes the cluster (gcloud container clusters delete): GKE no longer knows it, its API
   * server stops answering, and memberships that point at it stay, reporting `clusterMissing`.
   */
  async deleteCluster(ref: string): Promise<void> {
    const cluster = this.requireCluster(ref);
    this.clusters.splice(this.clusters.indexOf(cluster), 1);
    this.clusterIndex.delete(cluster.ref);
    this.linkedCluster.clear();
    this.membershipsByCluster.delete(cluster);
    const server = this.servers.get(cluster);
    this.servers.delete(cluster);
    await server?.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => server.close()));
  }
}
