import type { SimClock } from './clock.js';
import { kubeSuffix, labelFingerprint, randomHex, templateHash, uuid } from './ids.js';
import { chooseSidecar, type ManagedMeshView, type Sidecar } from './injection.js';
import { proxyImage } from './mesh.js';
import type {
  ClusterSpec,
  ClusterStatus,
  MeshRuntime,
  NamespaceSpec,
  ReleaseChannel,
  SimTimings,
  WorkloadSpec,
} from './types.js';
import type {
  Labels,
  PodTemplate,
  SimConfigMap,
  SimContainer,
  SimEvent,
  SimNamespace,
  SimPod,
  SimPodDisruptionBudget,
  SimPodView,
  SimWorkload,
  WorkloadKind,
} from './kubeTypes.js';

export interface ClusterContext {
  clock: SimClock;
  timings: SimTimings;
  /** The CA that signed the API server's certificate. */
  caPem: string;
  /** The managed mesh for this cluster's membership, as GKE Hub says at this moment. */
  managedMesh(cluster: SimCluster): ManagedMeshView | undefined;
}

const maxEvents = 1000;

/** A GKE cluster: its Container API attributes and the Kubernetes objects its API server serves. */
export class SimCluster {
  readonly project: string;
  readonly location: string;
  readonly name: string;
  readonly id = randomHex(16);
  readonly createdAt: number;
  status: ClusterStatus;
  releaseChannel: ReleaseChannel;
  workloadIdentity: boolean;
  autopilot: boolean;
  resourceLabels: Labels;
  labelFingerprint: string;
  nativeSidecars: boolean;
  mesh: MeshRuntime;
  masterVersion: string;
  nodeCount: number;
  /** `127.0.0.1:PORT`, as GKE gives `endpoint` (an address without scheme). */
  endpoint = '';
  readonly caPem: string;

  readonly namespaces: SimNamespace[] = [];
  readonly deployments: SimWorkload[] = [];
  readonly statefulSets: SimWorkload[] = [];
  readonly daemonSets: SimWorkload[] = [];
  readonly configMaps: SimConfigMap[] = [];
  readonly events: SimEvent[] = [];
  readonly podDisruptionBudgets: SimPodDisruptionBudget[] = [];
  private allPods: SimPod[] = [];
  private version = 1000;
  private nextPodIp = 10;

  constructor(
    spec: ClusterSpec,
    private readonly context: ClusterContext,
  ) {
    this.project = spec.project;
    this.location = spec.location;
    this.name = spec.name;
    this.createdAt = context.clock.now();
    this.status = spec.status ?? 'RUNNING';
    this.releaseChannel = spec.releaseChannel ?? 'REGULAR';
    this.workloadIdentity = spec.workloadIdentity ?? true;
    this.autopilot = spec.autopilot ?? true;
    this.resourceLabels = { ...spec.resourceLabels };
    this.labelFingerprint = labelFingerprint(this.resourceLabels);
    this.nativeSidecars = spec.nativeSidecars ?? false;
    this.mesh = {
      behaviour: spec.mesh?.behaviour ?? 'normal',
      implementation: spec.mesh?.implementation ?? 'ISTIOD',
      proxyVersion: spec.mesh?.proxyVersion ?? '1.23.6-asm.14',
    };
    this.masterVersion = spec.masterVersion ?? '1.31.6-gke.1020000';
    this.nodeCount = spec.nodeCount ?? 3;
    this.caPem = context.caPem;
    const namespaces = spec.namespaces ?? [
      { name: 'default' },
      { name: 'kube-system' },
      { name: 'istio-system' },
    ];
    // Namespaces first: a seeded istiod in istio-system must exist before the pods it would inject.
    for (const namespace of namespaces) this.addNamespaceObjects(namespace);
    for (const namespace of namespaces) this.addWorkloads(namespace);
  }

  /** 'PROJECT/LOCATION/NAME' */
  get ref(): string {
    return `${this.project}/${this.location}/${this.name}`;
  }

  get resourceVersion(): number {
    return this.version;
  }

  nextResourceVersion(): number {
    this.version += 1;
    return this.version;
  }

  setResourceLabels(labels: Labels): void {
    this.resourceLabels = { ...labels };
    this.labelFingerprint = labelFingerprint(this.resourceLabels);
  }

  namespace(name: string): SimNamespace | undefined {
    return this.namespaces.find((ns) => ns.name === name);
  }

  /** A namespace with its config maps, PDBs and workloads (whose pods start Running). */
  addNamespace(spec: NamespaceSpec): SimNamespace {
    const namespace = this.addNamespaceObjects(spec);
    this.addWorkloads(spec);
    return namespace;
  }

  private addNamespaceObjects(spec: NamespaceSpec): SimNamespace {
    if (this.namespace(spec.name)) throw new Error(`namespace ${spec.name} already exists in ${this.ref}`);
    const namespace: SimNamespace = {
      name: spec.name,
      uid: uuid(),
      labels: { ...spec.labels, 'kubernetes.io/metadata.name': spec.name },
      annotations: { ...spec.annotations },
      createdAt: this.context.clock.now(),
      resourceVersion: this.nextResourceVersion(),
    };
    this.namespaces.push(namespace);
    const now = this.context.clock.now();
    this.configMaps.push({
      name: 'kube-root-ca.crt',
      namespace: spec.name,
      uid: uuid(),
      labels: {},
      data: { 'ca.crt': this.caPem },
      createdAt: now,
      resourceVersion: this.nextResourceVersion(),
    });
    for (const configMap of spec.configMaps ?? []) {
      this.configMaps.push({
        name: configMap.name,
        namespace: spec.name,
        uid: uuid(),
        labels: {},
        data: { ...configMap.data },
        createdAt: now,
        resourceVersion: this.nextResourceVersion(),
      });
    }
    for (const pdb of spec.podDisruptionBudgets ?? []) {
      this.podDisruptionBudgets.push({
        ...pdb,
        selector: { ...pdb.selector },
        namespace: spec.name,
        uid: uuid(),
        createdAt: now,
        resourceVersion: this.nextResourceVersion(),
      });
    }
    return namespace;
  }

  private addWorkloads(spec: NamespaceSpec): void {
    for (const workload of spec.deployments ?? []) this.addWorkload('Deployment', spec.name, workload);
    for (const workload of spec.statefulSets ?? []) this.addWorkload('StatefulSet', spec.name, workload);
    for (const workload of spec.daemonSets ?? []) this.addWorkload('DaemonSet', spec.name, workload);
  }

  updateNamespace(namespace: SimNamespace, labels: Labels, annotations: Labels): void {
    // The API server always keeps this label, whatever a patch says.
    namespace.labels = { ...labels, 'kubernetes.io/metadata.name': namespace.name };
    namespace.annotations = { ...annotations };
    namespace.resourceVersion = this.nextResourceVersion();
  }

  workloads(kind: WorkloadKind): SimWorkload[] {
    if (kind === 'Deployment') return this.deployments;
    if (kind === 'StatefulSet') return this.statefulSets;
    return this.daemonSets;
  }

  workload(kind: WorkloadKind, namespace: string, name: string): SimWorkload | undefined {
    return this.workloads(kind).find((w) => w.namespace === namespace && w.name === name);
  }

  addWorkload(kind: WorkloadKind, namespace: string, spec: WorkloadSpec): SimWorkload {
    if (!this.namespace(namespace)) throw new Error(`namespace ${namespace} does not exist in ${this.ref}`);
    if (this.workload(kind, namespace, spec.name)) {
      throw new Error(`${kind} ${namespace}/${spec.name} already exists`);
    }
    const template: PodTemplate = {
      labels: { app: spec.name, ...spec.podLabels },
      annotations: { ...spec.templateAnnotations },
      containers: [
        { name: 'app', image: spec.image ?? `us-docker.pkg.dev/meshops-sim/apps/${spec.name}:1.0.0` },
      ],
    };
    const workload: SimWorkload = {
      kind,
      name: spec.name,
      namespace,
      uid: uuid(),
      labels: { app: spec.name, ...spec.labels },
      annotations: {},
      replicas: kind === 'DaemonSet' ? this.nodeCount : (spec.replicas ?? 1),
      selector: { app: template.labels.app ?? spec.name },
      template,
      templateHash: templateHash(template),
      generation: 1,
      revision: 1,
      createdAt: this.context.clock.now(),
      resourceVersion: this.nextResourceVersion(),
    };
    this.workloads(kind).push(workload);
    // Seeded pods are already running when the world starts.
    this.createPods(workload, workload.replicas, 0);
    return workload;
  }

  /** Applies a workload's new desired state the way its controller would. */
  updateWorkload(
    workload: SimWorkload,
    changes: { labels: Labels; annotations: Labels; replicas: number; template: PodTemplate },
  ): void {
    const hash = templateHash(changes.template);
    const templateChanged = hash !== workload.templateHash;
    const replicasChanged = workload.kind !== 'DaemonSet' && changes.replicas !== workload.replicas;
    workload.labels = { ...changes.labels };
    workload.annotations = { ...changes.annotations };
    workload.resourceVersion = this.nextResourceVersion();
    if (!templateChanged && !replicasChanged) return;
    workload.generation += 1;
    if (replicasChanged) workload.replicas = changes.replicas;
    if (templateChanged) {
      workload.template = changes.template;
      workload.templateHash = hash;
      workload.revision += 1;
      this.rollOut(workload);
    } else {
      this.scale(workload);
    }
  }

  private ownedPods(workload: SimWorkload): SimPod[] {
    return this.livePods().filter((pod) => pod.owner.uid === workload.uid);
  }

  private rollOut(workload: SimWorkload): void {
    const now = this.context.clock.now();
    const delay = this.context.timings.podReadyAfter;
    for (const pod of this.ownedPods(workload)) {
      // StatefulSet pods keep their names, so the old one must go before its successor exists.
      const goneAt = workload.kind === 'StatefulSet' ? now : now + delay;
      pod.goneAt = Math.min(pod.goneAt ?? Infinity, goneAt);
    }
    this.prunePods();
    this.createPods(workload, workload.replicas, delay);
    if (workload.kind === 'Deployment') {
      this.addEvent(
        workload.namespace,
        { kind: 'Deployment', name: workload.name, uid: workload.uid, apiVersion: 'apps/v1' },
        'ScalingReplicaSet',
        `Scaled up replica set ${workload.name}-${workload.templateHash} from 0 to ${workload.replicas}`,
        'deployment-controller',
      );
    }
  }

  private scale(workload: SimWorkload): void {
    const current = this.ownedPods(workload).filter((pod) => pod.goneAt === undefined);
    if (current.length < workload.replicas) {
      this.createPods(workload, workload.replicas - current.length, this.context.timings.podReadyAfter);
      return;
    }
    const now = this.context.clock.now();
    for (const pod of current.slice(workload.replicas)) pod.goneAt = now;
    this.prunePods();
  }

  private podName(workload: SimWorkload, ordinal: number): string {
    if (workload.kind === 'StatefulSet') return `${workload.name}-${ordinal}`;
    if (workload.kind === 'DaemonSet') return `${workload.name}-${kubeSuffix()}`;
    return `${workload.name}-${workload.templateHash}-${kubeSuffix()}`;
  }

  private controllerLabels(workload: SimWorkload, ordinal: number, name: string): Labels {
    if (workload.kind === 'Deployment') return { 'pod-template-hash': workload.templateHash };
    if (workload.kind === 'DaemonSet') {
      return {
        'controller-revision-hash': workload.templateHash,
        'pod-template-generation': String(workload.generation),
      };
    }
    return {
      'controller-revision-hash': `${workload.name}-${workload.templateHash}`,
      'statefulset.kubernetes.io/pod-name': name,
      'apps.kubernetes.io/pod-index': String(ordinal),
    };
  }

  private inClusterRevisions(): string[] {
    return this.deployments
      .filter((d) => d.namespace === 'istio-system' && d.template.labels.app === 'istiod')
      .map((d) => d.template.labels['istio.io/rev'])
      .filter((rev): rev is string => rev !== undefined);
  }

  private createPods(workload: SimWorkload, count: number, readyAfter: number): void {
    const namespace = this.namespace(workload.namespace);
    if (!namespace) return;
    const now = this.context.clock.now();
    const taken = new Set(this.ownedPods(workload).map((pod) => pod.name));
    let ordinal = 0;
    for (let created = 0; created < count; ordinal += 1) {
      const name = this.podName(workload, ordinal);
      if (taken.has(name)) continue;
      created += 1;
      const labels = { ...workload.template.labels, ...this.controllerLabels(workload, ordinal, name) };
      const sidecar = chooseSidecar({
        namespaceLabels: namespace.labels,
        podLabels: labels,
        managed: this.context.managedMesh(this),
        inClusterRevisions: this.inClusterRevisions(),
      });
      const pod: SimPod = {
        name,
        namespace: workload.namespace,
        uid: uuid(),
        labels,
        annotations: { ...workload.template.annotations },
        containers: workload.template.containers.map((c) => ({ ...c })),
        initContainers: [],
        owner: { kind: workload.kind, name: workload.name, uid: workload.uid },
        templateHash: workload.templateHash,
        nodeName: `gk3-${this.name}-pool-1-${randomHex(4)}-${kubeSuffix(4)}`,
        podIP: `10.52.${Math.floor(this.nextPodIp / 250)}.${(this.nextPodIp % 250) + 2}`,
        createdAt: now,
        readyAt: now + readyAfter,
        resourceVersion: this.nextResourceVersion(),
      };
      this.nextPodIp += 1;
      if (sidecar) this.inject(pod, sidecar);
      this.allPods.push(pod);
      this.addEvent(
        pod.namespace,
        { kind: 'Pod', name: pod.name, uid: pod.uid, apiVersion: 'v1' },
        'Scheduled',
        `Successfully assigned ${pod.namespace}/${pod.name} to ${pod.nodeName}`,
        'default-scheduler',
      );
    }
  }

  private inject(pod: SimPod, sidecar: Sidecar): void {
    const proxy: SimContainer = { name: 'istio-proxy', image: proxyImage(sidecar.proxyVersion) };
    if (this.nativeSidecars) pod.initContainers.push({ ...proxy, restartPolicy: 'Always' });
    else pod.containers.push(proxy);
    pod.sidecar = sidecar;
    pod.labels['security.istio.io/tlsMode'] = 'istio';
    pod.labels['service.istio.io/canonical-name'] = pod.labels.app ?? pod.owner.name;
    pod.labels['service.istio.io/canonical-revision'] = 'latest';
    pod.annotations['sidecar.istio.io/status'] = JSON.stringify({
      initContainers: this.nativeSidecars ? ['istio-proxy'] : null,
      containers: this.nativeSidecars ? null : ['istio-proxy'],
      volumes: [
        'workload-socket',
        'credential-socket',
        'workload-certs',
        'istio-envoy',
        'istio-data',
        'istio-podinfo',
        'istio-token',
      ],
      imagePullSecrets: null,
      revision: sidecar.revision,
    });
  }

  private prunePods(): void {
    const now = this.context.clock.now();
    this.allPods = this.allPods.filter((pod) => pod.goneAt === undefined || pod.goneAt > now);
  }

  private livePods(): SimPod[] {
    this.prunePods();
    return this.allPods;
  }

  /** Pods as they are now: replaced pods disappear, new ones turn Running/ready after podReadyAfter. */
  get pods(): SimPodView[] {
    const now = this.context.clock.now();
    return this.livePods().map((pod) => {
      const ready = now >= pod.readyAt;
      return { ...pod, phase: ready ? 'Running' : 'Pending', ready };
    });
  }

  /** Sets labels on a live pod, e.g. `dataplane-upgrade=failed` as the managed data plane does. */
  setPodLabels(namespace: string, name: string, labels: Labels): void {
    const pod = this.livePods().find((p) => p.namespace === namespace && p.name === name);
    if (!pod) throw new Error(`no pod ${namespace}/${name} in ${this.ref}`);
    pod.labels = { ...pod.labels, ...labels };
    pod.resourceVersion = this.nextResourceVersion();
  }

  addEvent(
    namespace: string,
    involved: { kind: string; name: string; uid: string; apiVersion: string },
    reason: string,
    message: string,
    component: string,
    type: 'Normal' | 'Warning' = 'Normal',
  ): SimEvent {
    const at = this.context.clock.now();
    const event: SimEvent = {
      name: `${involved.name}.${at.toString(16)}${randomHex(4)}`,
      namespace,
      uid: uuid(),
      involvedObject: { ...involved, namespace },
      reason,
      message,
      type,
      component,
      at,
      resourceVersion: this.nextResourceVersion(),
    };
    this.events.push(event);
    if (this.events.length > maxEvents) this.events.splice(0, this.events.length - maxEvents);
    return event;
  }
}
