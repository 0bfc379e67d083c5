/**
 * In-memory implementations of the workflow ports, for unit tests of the step machine. They keep
 * just enough state to answer the way the real adapters do; the emulator tests cover the wire.
 */
import { recordChanges } from '../../src/cloud/dryRun.js';
import { MeshopsError } from '../../src/errors.js';
import type { Policy, WorkflowDeps } from '../../src/workflows/engine.js';
import type {
  ClusterInfo,
  ClusterRef,
  Kube,
  MeshState,
  NamespaceInfo,
  OperationRef,
  PodInfo,
  WorkloadInfo,
} from '../../src/workflows/ports.js';
import { runEventKey, type RunEvent } from '../../src/workflows/events.js';
import type { RunRecord } from '../../src/workflows/run.js';

export class FakeClock {
  constructor(public time = 1_700_000_000_000) {}
  now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface FakeNamespace {
  labels: Record<string, string>;
  deployments: Record<string, number>;
}

export class FakeWorld {
  readonly calls: string[] = [];
  /** Thread replies by event key, once each, as the outbox would post them. */
  readonly messages: Array<{ key: string; event: RunEvent }> = [];
  readonly approvalsAsked: RunRecord[] = [];
  readonly closedApprovals: RunRecord[] = [];
  cluster: ClusterInfo = {
    status: 'RUNNING',
    releaseChannel: 'REGULAR',
    workloadPool: 'proj-a.svc.id.goog',
    autopilot: true,
    endpoint: '10.0.0.1',
    caCertificate: 'Q0E=',
    resourceLabels: { env: 'dev' },
    labelFingerprint: 'f1',
    masterVersion: '1.31.6-gke.1020000',
    nodePools: [{ name: 'default-pool', workloadMetadataMode: 'GKE_METADATA' }],
    fleet: null,
  };
  /** Services off, on every project. */
  disabledServices = new Set<string>();
  /** Projects inside a VPC Service Controls perimeter: every read of them is refused. */
  fenced = new Set<string>();
  set meshEnabled(on: boolean) {
    if (on) this.disabledServices.delete('mesh.googleapis.com');
    else this.disabledServices.add('mesh.googleapis.com');
  }
  memberships = new Map<string, string>(); // name → resourceLink
  management = new Map<string, string>();
  /** Polls of meshState until the planes are ACTIVE. */
  controlPlaneAfter = 2;
  dataPlaneAfter = 3;
  meshPolls = 0;
  namespaces: Record<string, FakeNamespace> = {
    default: { labels: {}, deployments: { web: 2 } },
    shop: { labels: {}, deployments: { cart: 2, checkout: 1 } },
  };
  istiodRevisions: string[] = [];
  /** Pods get the sidecar on restart only when this is true. */
  injectorWorks = true;
  restartedAt = new Map<string, string>();
  pods = new Map<string, PodInfo[]>();
  /** ConfigMaps by `namespace/name`, each with the resourceVersion a conditional write checks. */
  configMaps = new Map<string, { resourceVersion: string; data: Record<string, string> }>();
  private version = 100;

  /** Changes a ConfigMap as someone else would (kubectl edit): a new resourceVersion. */
  editConfigMap(key: string, data: Record<string, string>): void {
    this.configMaps.set(key, { resourceVersion: String(++this.version), data: { ...data } });
  }

  constructor() {
    for (const [ns, spec] of Object.entries(this.namespaces)) this.pods.set(ns, this.podsOf(ns, spec, false));
  }

  private podsOf(ns: string, spec: FakeNamespace, proxy: boolean): PodInfo[] {
    return Object.entries(spec.deployments).flatMap(([name, replicas]) =>
      Array.from({ length: replicas }, (_, i) => ({
        name: `${name}-${i}`,
        namespace: ns,
        phase: 'Running',
        ready: true,
        hasIstioProxy: proxy,
        labels: { app: name },
      })),
    );
  }

  kube: Kube = {
    getNamespace: async (name): Promise<NamespaceInfo | null> => {
      const ns = this.namespaces[name];
      return ns ? { name, labels: { ...ns.labels } } : null;
    },
    listPods: async (namespace, selector) => {
      if (namespace === 'istio-system' && selector === 'istio.io/rev') {
        return this.istiodRevisions.map((rev) => ({
          name: `istiod-${rev}`,
          namespace,
          phase: 'Running',
          ready: true,
          hasIstioProxy: false,
          labels: { app: 'istiod', 'istio.io/rev': rev },
        }));
      }
      return this.pods.get(namespace) ?? [];
    },
    listWorkloads: async (namespace): Promise<WorkloadInfo[]> =>
      Object.entries(this.namespaces[namespace]?.deployments ?? {}).map(([name, replicas]) => ({
        kind: 'Deployment',
        name,
        namespace,
        replicas,
      })),
    listIstiods: async () =>
      this.istiodRevisions.map((revision) => ({
        name: `istiod-${revision}`,
        revision,
        version: null,
        replicas: 1,
        readyReplicas: 1,
      })),
    countPodDisruptionBudgets: async () => 0,
    // The mesh's read-only views are covered over the emulator (test/integration/snapshot.test.ts).
    listNamespaces: async () =>
      Object.entries(this.namespaces).map(([name, ns]) => ({ name, labels: { ...ns.labels } })),
    listControlPlaneRevisions: async () => [],
    listDataPlaneControls: async () => [],
    sampleProxyPods: async () => ({ pods: [], total: 0 }),
    listUpgradeFailures: async () => [],
    patchNamespaceLabels: async (name, labels) => {
      this.calls.push(`label ${name} ${JSON.stringify(labels)}`);
      const ns = this.namespaces[name]!;
      for (const [k, v] of Object.entries(labels)) {
        if (v === null) delete ns.labels[k];
        else ns.labels[k] = v;
      }
    },
    getConfigMap: async (namespace, name) => {
      const found = this.configMaps.get(`${namespace}/${name}`);
      return found
        ? { namespace, name, resourceVersion: found.resourceVersion, data: { ...found.data } }
        : null;
    },
    patchConfigMapData: async (namespace, name, data, resourceVersion) => {
      const key = `${namespace}/${name}`;
      const found = this.configMaps.get(key);
      if (!found || found.resourceVersion !== resourceVersion) return 'conflict';
      this.calls.push(`patch configmap ${key}`);
      this.editConfigMap(key, { ...found.data, ...data });
      return 'written';
    },
    createConfigMap: async (namespace, name, data) => {
      const key = `${namespace}/${name}`;
      if (this.configMaps.has(key)) return 'conflict';
      this.calls.push(`create configmap ${key}`);
      this.editConfigMap(key, data);
      return 'written';
    },
    restartWorkload: async (workload, at) => {
      const key = `${workload.namespace}/${workload.name}`;
      if (this.restartedAt.get(key) === at) return;
      this.restartedAt.set(key, at);
      this.calls.push(`restart ${key}`);
      const ns = this.namespaces[workload.namespace]!;
      const labelled = ns.labels['istio-injection'] === 'enabled' || Boolean(ns.labels['istio.io/rev']);
      const others = (this.pods.get(workload.namespace) ?? []).filter((p) => p.labels.app !== workload.name);
      const fresh = this.podsOf(
        workload.namespace,
        { labels: {}, deployments: { [workload.name]: workload.replicas } },
        labelled && this.injectorWorks,
      );
      this.pods.set(workload.namespace, [...others, ...fresh]);
    },
  };

  private refuseIfFenced(project: string): void {
    if (this.fenced.has(project)) {
      throw new MeshopsError(
        'VPC_SERVICE_CONTROLS',
        `${project}: Request is prohibited by organization's policy`,
        {
          hint: 'call from inside the perimeter',
        },
      );
    }
  }

  deps(clock: FakeClock, policy: Partial<Policy> = {}): WorkflowDeps {
    const operation = (name: string): OperationRef => ({ api: 'gkehub', name });
    const noBatches = () => Promise.reject(new Error('these unit tests run no batch'));
    return {
      clock,
      batches: { start: noBatches, runs: noBatches, decide: noBatches },
      dryRun: recordChanges,
      policy: {
        pollDelayMs: () => 1000,
        operationTimeoutMs: 60_000,
        provisioningTimeoutMs: 600_000,
        verifyTimeoutMs: 60_000,
        approvalTimeoutMs: 3_600_000,
        approvers: ['UAPP'],
        approvalsNeeded: () => 1,
        membershipLocation: 'auto',
        hostProjects: [],
        enableServices: true,
        meshChannel: null,
        caPool: null,
        restartKinds: [],
        removeMeshIdOnDisable: false,
        kubeAccess: 'auto',
        ...policy,
      },
      gke: {
        getCluster: async (ref: ClusterRef) => {
          if (ref.name !== 'c1') throw new MeshopsError('CLUSTER_NOT_FOUND', `cluster ${ref.name} not found`);
          return this.cluster;
        },
        removeResourceLabels: async (_ref, keys) => {
          const kept = Object.fromEntries(
            Object.entries(this.cluster.resourceLabels).filter(([k]) => !keys.includes(k)),
          );
          if (Object.keys(kept).length === Object.keys(this.cluster.resourceLabels).length) return null;
          this.calls.push(`removeLabels ${keys.join(',')}`);
          this.cluster = { ...this.cluster, resourceLabels: kept };
          return { api: 'container', name: 'op-unlabel' };
        },
        listClusters: async (project) => [
          { ...this.cluster, ref: { project, location: 'us-central1', name: 'c1' } },
        ],
        setResourceLabels: async (_ref, labels) => {
          const merged = { ...this.cluster.resourceLabels, ...labels };
          if (JSON.stringify(merged) === JSON.stringify(this.cluster.resourceLabels)) return null;
          this.calls.push(`setLabels ${JSON.stringify(merged)}`);
          this.cluster = { ...this.cluster, resourceLabels: merged };
          return { api: 'container', name: 'op-label' };
        },
      },
      projects: { projectNumber: async () => '123', iamBindings: async () => [] },
      services: {
        disabled: async (project, services) => {
          this.refuseIfFenced(project);
          return services.filter((s) => this.disabledServices.has(s));
        },
        batchEnable: async (project, services) => {
          this.calls.push(`batchEnable ${project} ${services.join(',')}`);
          for (const service of services) this.disabledServices.delete(service);
          return { api: 'serviceusage', name: 'operations/enable', project };
        },
      },
      fleet: {
        listMemberships: async (project) => {
          this.refuseIfFenced(project);
          return [...this.memberships].map(([name, resourceLink]) => ({
            name,
            resourceLink,
            state: 'READY',
          }));
        },
        readMeshFeature: async () => ({
          enabled: true,
          memberships: Object.fromEntries(
            [...this.management].map(([name, management]) => [name, { management, state: null }]),
          ),
        }),
        findMembership: async (_project, ref) => {
          for (const [name, link] of this.memberships)
            if (link.endsWith(`/clusters/${ref.name}`)) return { name, resourceLink: link, state: 'READY' };
          return null;
        },
        createMembership: async (project, location, id, ref) => {
          this.calls.push(`createMembership ${location}/${id}`);
          this.memberships.set(
            `projects/${project}/locations/${location}/memberships/${id}`,
            `//container.googleapis.com/projects/${project}/locations/${ref.location}/clusters/${ref.name}`,
          );
          return operation('op-register');
        },
        enableMeshFeature: async () => null,
        deleteMembership: async (name) => {
          if (!this.memberships.delete(name)) return null;
          this.calls.push(`deleteMembership ${name}`);
          return operation('op-delete');
        },
        setMeshManagement: async (_project, membership, management) => {
          this.calls.push(`manage ${membership} ${management}`);
          this.management.set(membership, management);
          return operation('op-manage');
        },
        meshState: async (): Promise<MeshState | null> => {
          this.meshPolls++;
          const cp = this.meshPolls >= this.controlPlaneAfter ? 'ACTIVE' : 'PROVISIONING';
          const dp =
            this.meshPolls >= this.dataPlaneAfter
              ? 'ACTIVE'
              : cp === 'ACTIVE'
                ? 'PROVISIONING'
                : 'FAILED_PRECONDITION';
          return {
            controlPlane: {
              state: cp,
              details: [{ code: cp === 'ACTIVE' ? 'REVISION_READY' : 'REVISION_PROVISIONING', details: '' }],
              implementation: 'ISTIOD',
            },
            dataPlane: { state: dp, details: [] },
            conditions: [],
          };
        },
      },
      operations: { status: async () => ({ done: true }) },
      kube: { forCluster: () => this.kube },
      notifier: {
        emit: async (run, event) => {
          if (event.type === 'approvalRequested') this.approvalsAsked.push(run);
          if (event.type === 'approvalClosed') this.closedApprovals.push(run);
          const key = runEventKey(event);
          if (key !== null && !this.messages.some((m) => m.key === key)) this.messages.push({ key, event });
        },
      },
    };
  }
}
