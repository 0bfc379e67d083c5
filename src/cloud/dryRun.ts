/**
 * The dry-run decorator: a run's cloud ports with every mutating method replaced by one that writes
 * down the call it would make (method, path, resource, what changes) and answers as the API would
 * have: an operation that is done at once, null where the change is already so, the error a read
 * shows the API would give. Reads go through to the real adapters. The real mutating methods are not
 * reachable from what this returns, so no step can change anything in a dry run, on purpose or by mistake.
 *
 * What a later step of the same dry run reads includes what earlier steps would have created (the
 * membership, the enabled API, the feature): it is derived from their recorded calls, which the run
 * record keeps, so a dry run resumed after a crash sees the same.
 *
 * Each class below has its port's methods and no others (test/unit/dryRun.test.ts calls every one).
 */
import { MeshopsError } from '../errors.js';
import { clusterPath, clusterResourceLink } from '../workflows/names.js';
import type {
  ClusterAccess,
  ClusterInfo,
  ClusterRef,
  CloudPorts,
  ConfigMapInfo,
  ConfigMapWrite,
  DryRunDecorator,
  Fleet,
  FleetMesh,
  Gke,
  IamBinding,
  IstiodDeployment,
  Kube,
  KubeFactory,
  ListedCluster,
  Membership,
  MeshState,
  NamespaceInfo,
  OperationRef,
  OperationStatus,
  Operations,
  PlannedCall,
  Projects,
  Services,
  WorkloadInfo,
  WorkloadKind,
} from '../workflows/ports.js';

const FEATURE = 'servicemesh';
/** The names of the operations a dry run pretends to start: answered done, never asked of Google. */
const PRETENDED = 'dry-run/';

function featureName(project: string): string {
  return `projects/${project}/locations/global/features/${FEATURE}`;
}

/** The calls of one dry run: the earlier steps' (from the record) and this step's. */
class Recorder {
  readonly calls: PlannedCall[] = [];

  constructor(private readonly earlier: readonly PlannedCall[]) {}

  record(call: PlannedCall): void {
    this.calls.push(call);
  }

  /** Writes a Google call down; returns the long-running operation it pretends to have started. */
  started(
    call: PlannedCall & { api: OperationRef['api'] },
    where: Pick<OperationRef, 'project' | 'location'> = {},
  ): OperationRef {
    this.record(call);
    return { api: call.api, name: `${PRETENDED}${this.earlier.length + this.calls.length}`, ...where };
  }

  /** Whether this dry run would already have made `method` on `resource`. */
  did(api: PlannedCall['api'], method: PlannedCall['method'], resource: string): boolean {
    return this.made(api, method, resource).length > 0;
  }

  /** The calls this dry run would already have made with `method` on `resource`. */
  made(api: PlannedCall['api'], method: PlannedCall['method'], resource: string): PlannedCall[] {
    return [...this.earlier, ...this.calls].filter(
      (c) => c.api === api && c.method === method && c.resource === resource,
    );
  }

  /** Resources this dry run would have created with `method` on `api`, starting with `prefix`. */
  created(api: PlannedCall['api'], prefix: string): string[] {
    return [...this.earlier, ...this.calls]
      .filter((c) => c.api === api && c.method === 'POST' && c.resource.startsWith(prefix))
      .map((c) => c.resource);
  }
}

/** `a=1 set, b removed (c, d kept)`: a label change as the plan says it, what it sets first. */
function labelChange(
  current: Record<string, string>,
  wanted: Record<string, string | null>,
  kept = Object.keys(current).filter((k) => !(k in wanted)),
): string {
  const entries = Object.entries(wanted);
  const set = entries.flatMap(([k, v]) => (v === null ? [] : [`${k}=${v} set`]));
  const removed = entries.flatMap(([k, v]) =>
    v !== null ? [] : [k in current ? `${k} removed` : `${k} removed (not there now)`],
  );
  return `${[...set, ...removed].join(', ')}${kept.length ? ` (${kept.join(', ')} kept)` : ''}`;
}

/** GKE's setResourceLabels takes the whole map: the labels just read, changed; nothing when they are so already. */
async function relabelled(
  gke: Gke,
  recorder: Recorder,
  cluster: ClusterRef,
  changes: (current: Record<string, string>) => Record<string, string | null>,
): Promise<OperationRef | null> {
  const current = (await gke.getCluster(cluster)).resourceLabels;
  const wanted = changes(current);
  if (Object.keys(wanted).length === 0) return null;
  const name = clusterPath(cluster);
  return recorder.started(
    {
      api: 'container',
      method: 'POST',
      path: `/v1/${name}:setResourceLabels`,
      resource: name,
      change: `relabel the cluster: ${labelChange(current, wanted)}`,
    },
    { project: cluster.project, location: cluster.location },
  );
}

class DryRunGke implements Gke {
  constructor(
    private readonly inner: Gke,
    private readonly recorder: Recorder,
  ) {}

  getCluster(cluster: ClusterRef): Promise<ClusterInfo> {
    return this.inner.getCluster(cluster);
  }

  listClusters(project: string): Promise<ListedCluster[]> {
    return this.inner.listClusters(project);
  }

  setResourceLabels(cluster: ClusterRef, labels: Record<string, string>): Promise<OperationRef | null> {
    return relabelled(this.inner, this.recorder, cluster, (current) =>
      Object.fromEntries(Object.entries(labels).filter(([k, v]) => current[k] !== v)),
    );
  }

  removeResourceLabels(cluster: ClusterRef, keys: string[]): Promise<OperationRef | null> {
    return relabelled(this.inner, this.recorder, cluster, (current) =>
      Object.fromEntries(keys.filter((k) => k in current).map((k) => [k, null])),
    );
  }
}

class DryRunProjects implements Projects {
  constructor(private readonly inner: Projects) {}

  projectNumber(projectId: string): Promise<string> {
    return this.inner.projectNumber(projectId);
  }

  iamBindings(projectId: string): Promise<IamBinding[]> {
    return this.inner.iamBindings(projectId);
  }
}

/** A batchEnable's `change`, and the services it names (what a later step of the same dry run sees enabled). */
function batchEnableChange(project: string, services: string[]): string {
  return `enable ${services.join(', ')} on ${project} (one batchEnable)`;
}

function servicesOfChange(change: string): string[] {
  return /^enable (.+) on \S+ \(one batchEnable\)$/.exec(change)?.[1]?.split(', ') ?? [];
}

class DryRunServices implements Services {
  constructor(
    private readonly inner: Services,
    private readonly recorder: Recorder,
  ) {}

  async disabled(project: string, services: string[]): Promise<string[]> {
    const enabled = new Set(
      this.recorder
        .made('serviceusage', 'POST', `projects/${project}/services`)
        .flatMap((call) => servicesOfChange(call.change)),
    );
    return (await this.inner.disabled(project, services)).filter((service) => !enabled.has(service));
  }

  batchEnable(project: string, services: string[]): Promise<OperationRef> {
    return Promise.resolve(
      this.recorder.started(
        {
          api: 'serviceusage',
          method: 'POST',
          path: `/v1/projects/${project}/services:batchEnable`,
          resource: `projects/${project}/services`,
          change: batchEnableChange(project, services),
        },
        { project },
      ),
    );
  }
}

/** The memberships a dry run would have created in `project`: for the run's cluster (a run registers only it). */
function pretendedMemberships(recorder: Recorder, cluster: ClusterRef, project: string): Membership[] {
  return recorder
    .created('gkehub', `projects/${project}/locations/`)
    .flatMap((name) =>
      name.includes('/memberships/')
        ? [{ name, resourceLink: clusterResourceLink(cluster), state: 'READY' }]
        : [],
    );
}

class DryRunFleet implements Fleet {
  constructor(
    private readonly inner: Fleet,
    private readonly recorder: Recorder,
    /** The run's cluster: the one a membership this dry run would create points at. */
    private readonly cluster: ClusterRef,
  ) {}

  async listMemberships(project: string): Promise<Membership[]> {
    const real = (await this.inner.listMemberships(project)).filter(
      (m) => !this.recorder.did('gkehub', 'DELETE', m.name),
    );
    return [
      ...real,
      ...pretendedMemberships(this.recorder, this.cluster, project).filter(
        (p) => !real.some((m) => m.name === p.name),
      ),
    ];
  }

  async readMeshFeature(project: string): Promise<FleetMesh> {
    const read = await this.inner.readMeshFeature(project);
    if (read.enabled || !this.recorder.did('gkehub', 'POST', featureName(project))) return read;
    return { enabled: true, memberships: {} };
  }

  async findMembership(
    project: string,
    cluster: ClusterRef,
    projectNumber: string,
  ): Promise<Membership | null> {
    const found = await this.inner.findMembership(project, cluster, projectNumber);
    if (found) return this.recorder.did('gkehub', 'DELETE', found.name) ? null : found;
    const link = clusterResourceLink(cluster);
    return (
      pretendedMemberships(this.recorder, this.cluster, project).find((m) => m.resourceLink === link) ?? null
    );
  }

  async createMembership(
    project: string,
    location: string,
    membershipId: string,
    cluster: ClusterRef,
    workloadIdentity: boolean,
  ): Promise<OperationRef> {
    const parent = `projects/${project}/locations/${location}`;
    const name = `${parent}/memberships/${membershipId}`;
    // What Google would answer: the name is taken (by another cluster: the step looked for this one first).
    if ((await this.listMemberships(project)).some((m) => m.name === name)) {
      throw new MeshopsError('ALREADY_EXISTS', `membership ${name} already exists`);
    }
    return this.recorder.started({
      api: 'gkehub',
      method: 'POST',
      path: `/v1/${parent}/memberships?membershipId=${membershipId}`,
      resource: name,
      change: `register ${clusterPath(cluster)} in the fleet${workloadIdentity ? ' (fleet Workload Identity)' : ''}`,
    });
  }

  async deleteMembership(name: string): Promise<OperationRef | null> {
    const project = /^projects\/([^/]+)\//.exec(name)?.[1] ?? '';
    if (!(await this.listMemberships(project)).some((m) => m.name === name)) return null;
    return this.recorder.started({
      api: 'gkehub',
      method: 'DELETE',
      path: `/v1/${name}`,
      resource: name,
      change: 'unregister the membership from the fleet',
    });
  }

  async enableMeshFeature(project: string): Promise<OperationRef | null> {
    if ((await this.readMeshFeature(project)).enabled) return null;
    return this.recorder.started({
      api: 'gkehub',
      method: 'POST',
      path: `/v1/projects/${project}/locations/global/features?featureId=${FEATURE}`,
      resource: featureName(project),
      change: `create the ${FEATURE} feature of the fleet`,
    });
  }

  setMeshManagement(
    project: string,
    membershipName: string,
    management: 'MANAGEMENT_AUTOMATIC' | 'MANAGEMENT_MANUAL',
  ): Promise<OperationRef> {
    const name = featureName(project);
    return Promise.resolve(
      this.recorder.started({
        api: 'gkehub',
        method: 'PATCH',
        path: `/v1/${name}?updateMask=membershipSpecs`,
        resource: name,
        change: `set mesh.management=${management} for ${membershipName} (only this membership's spec)`,
      }),
    );
  }

  meshState(project: string, membershipName: string, projectNumber: string): Promise<MeshState | null> {
    return this.inner.meshState(project, membershipName, projectNumber);
  }
}

class DryRunOperations implements Operations {
  constructor(private readonly inner: Operations) {}

  status(operation: OperationRef): Promise<OperationStatus> {
    if (operation.name.startsWith(PRETENDED)) return Promise.resolve({ done: true });
    return this.inner.status(operation);
  }
}

const workloadPaths: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

class DryRunKube implements Kube {
  constructor(
    private readonly inner: Kube,
    private readonly recorder: Recorder,
  ) {}

  getNamespace(name: string): Promise<NamespaceInfo | null> {
    return this.inner.getNamespace(name);
  }

  listNamespaces(): Promise<NamespaceInfo[]> {
    return this.inner.listNamespaces();
  }

  listControlPlaneRevisions(): ReturnType<Kube['listControlPlaneRevisions']> {
    return this.inner.listControlPlaneRevisions();
  }

  listDataPlaneControls(): ReturnType<Kube['listDataPlaneControls']> {
    return this.inner.listDataPlaneControls();
  }

  sampleProxyPods(limit: number): ReturnType<Kube['sampleProxyPods']> {
    return this.inner.sampleProxyPods(limit);
  }

  listUpgradeFailures(): ReturnType<Kube['listUpgradeFailures']> {
    return this.inner.listUpgradeFailures();
  }

  listPods(namespace: string, labelSelector?: string): ReturnType<Kube['listPods']> {
    return this.inner.listPods(namespace, labelSelector);
  }

  listWorkloads(namespace: string, kinds: WorkloadKind[]): Promise<WorkloadInfo[]> {
    return this.inner.listWorkloads(namespace, kinds);
  }

  listIstiods(): Promise<IstiodDeployment[]> {
    return this.inner.listIstiods();
  }

  countPodDisruptionBudgets(namespace: string): Promise<number> {
    return this.inner.countPodDisruptionBudgets(namespace);
  }

  async patchNamespaceLabels(name: string, labels: Record<string, string | null>): Promise<void> {
    const current = (await this.inner.getNamespace(name))?.labels ?? {};
    this.recorder.record({
      api: 'kubernetes',
      method: 'PATCH',
      path: `/api/v1/namespaces/${name}`,
      resource: `namespaces/${name}`,
      change: `relabel namespace ${name}: ${labelChange(current, labels, [])} (merge-patch)`,
    });
  }

  restartWorkload(workload: WorkloadInfo, _restartedAt: string): Promise<void> {
    const { kind, name, namespace, replicas } = workload;
    this.recorder.record({
      api: 'kubernetes',
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/${namespace}/${workloadPaths[kind]}/${name}`,
      resource: `${namespace}/${workloadPaths[kind]}/${name}`,
      change: `restart ${kind} ${name} in ${namespace}: ${replicas} pod(s) (rollout restart: kubectl.kubernetes.io/restartedAt)`,
    });
    return Promise.resolve();
  }

  getConfigMap(namespace: string, name: string): Promise<ConfigMapInfo | null> {
    return this.inner.getConfigMap(namespace, name);
  }

  patchConfigMapData(
    namespace: string,
    name: string,
    data: Record<string, string>,
    resourceVersion: string,
  ): Promise<ConfigMapWrite> {
    this.recorder.record({
      api: 'kubernetes',
      method: 'PATCH',
      path: `/api/v1/namespaces/${namespace}/configmaps/${name}`,
      resource: `${namespace}/configmaps/${name}`,
      change: `edit ${Object.keys(data)
        .map((key) => `data.${key}`)
        .join(
          ', ',
        )} of ConfigMap ${namespace}/${name} at resourceVersion ${resourceVersion} (merge-patch: every other key kept; refused if it changed meanwhile)`,
    });
    return Promise.resolve('written');
  }

  createConfigMap(namespace: string, name: string, data: Record<string, string>): Promise<ConfigMapWrite> {
    this.recorder.record({
      api: 'kubernetes',
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      resource: `${namespace}/configmaps/${name}`,
      change: `create ConfigMap ${namespace}/${name} with ${Object.keys(data)
        .map((key) => `data.${key}`)
        .join(', ')} (refused if it exists by then)`,
    });
    return Promise.resolve('written');
  }
}

class DryRunKubeFactory implements KubeFactory {
  constructor(
    private readonly inner: KubeFactory,
    private readonly recorder: Recorder,
  ) {}

  forCluster(access: ClusterAccess): Kube {
    return new DryRunKube(this.inner.forCluster(access), this.recorder);
  }
}

/** The dry-run decorator (see the module comment): a run's cloud ports that record every change instead. */
export const recordChanges: DryRunDecorator = (ports: CloudPorts, cluster, earlier) => {
  const recorder = new Recorder(earlier);
  return {
    ports: {
      gke: new DryRunGke(ports.gke, recorder),
      projects: new DryRunProjects(ports.projects),
      services: new DryRunServices(ports.services, recorder),
      fleet: new DryRunFleet(ports.fleet, recorder, cluster),
      operations: new DryRunOperations(ports.operations),
      kube: new DryRunKubeFactory(ports.kube, recorder),
    },
    recorded: () => [...recorder.calls],
  };
};
