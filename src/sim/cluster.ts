import type { SimClock } from './clock.js';
import { kubeSuffix, labelFingerprint, randomHex, templateHash, uuid } from './ids.js';
import { chooseSidecar, type ManagedMeshView, type Sidecar } from './injection.js';
import { proxyImage, type MeshCondition } from './mesh.js';
import {
  defaultPodIntervalMs,
  hasManagedProxy,
  isOptedOut,
  ProxyRollout,
  runsTarget,
  upgradeFailedLabel,
  type RolloutHost,
  type RolloutStatus,
} from './rollout.js';
import type {
  ClusterSpec,
  ClusterStatus,
  ManagedChannel,
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

/** A release channel change in progress: the old channel's revision serves until the new one is ready. */
export interface ChannelSwitch {
  from: ReleaseChannel;
  to: ManagedChannel;
  /** The proxy version the old revision injects meanwhile. */
  fromProxyVersion: string;
  at: number;
  readyAt: number;
}

/** A control plane that became unhealthy after provisioning (SimWorld.degradeMesh). */
export interface MeshHealthProblem {
  condition: MeshCondition;
  since: number;
}

/** How the next proxy roll-out goes; see SimWorld.upgradeMesh. */
export interface RolloutOptions {
  /** Default: now. */
  startsAt?: number;
  /** Default: the previous roll-out's, else 10 s. */
  podIntervalMs?: number;
  /** Default: the previous roll-out's, else none. */
  failWorkloads?: string[];
}

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
  nodePools: Array<{ name: string; workloadMetadata: 'GKE_METADATA' | 'GCE_METADATA' | undefined }>;
  /** `127.0.0.1:PORT`, as GKE gives `endpoint` (an address without scheme). */
  endpoint = '';
  readonly caPem: string;
  /**
   * Set by SimWorld.breakClusterAccess: clusters.get reports an endpoint where nothing listens, or a
   * CA that did not sign the API server's certificate.
   */
  brokenAccess: { endpoint?: string; caPem?: string } | undefined;
  /** Only a private endpoint (ClusterSpec.privateEndpoint, SimWorld.setPrivateEndpoint): `endpoint` refuses connections. */
  privateEndpoint: boolean;
  /** Set by SimWorld.setReleaseChannel while (and after) the managed revision follows a new channel. */
  channelSwitch: ChannelSwitch | undefined;
  /** Set by SimWorld.degradeMesh, cleared by recoverMesh. */
  meshHealth: MeshHealthProblem | undefined;

  readonly namespaces: SimNamespace[] = [];
  readonly deployments: SimWorkload[] = [];
  readonly statefulSets: SimWorkload[] = [];
  readonly daemonSets: SimWorkload[] = [];
  readonly configMaps: SimConfigMap[] = [];
  readonly podDisruptionBudgets: SimPodDisruptionBudget[] = [];
  private readonly eventLog: SimEvent[] = [];
  private allPods: SimPod[] = [];
  private version = 1000;
  private nextPodIp = 10;
  private rollout: ProxyRollout | undefined;
  /** True while roll-out steps are being applied: their own pod reads must not start another round. */
  private advancingRollout = false;

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
    const metadata = this.workloadIdentity ? ('GKE_METADATA' as const) : undefined;
    this.nodePools = (spec.nodePools ?? [{ name: 'default-pool' }]).map((pool) => ({
      name: pool.name,
      workloadMetadata: this.autopilot ? 'GKE_METADATA' : (pool.workloadMetadata ?? metadata),
    }));
    this.privateEndpoint = spec.privateEndpoint ?? false;
    this.caPem = context.caPem;
    const namespaces = spec.namespaces ?? [
      { name: 'default' },
      { name: 'kube-system' },
      { name: 'istio-system' },
    ];
    // Namespaces first: a pod needs its namespace's labels to be admitted.
    for (const namespace of namespaces) this.addNamespaceObjects(namespace);
    // istio-system's workloads first: a seeded istiod must exist before the pods it would inject.
    const controlPlaneFirst = [
      ...namespaces.filter((ns) => ns.name === 'istio-system'),
      ...namespaces.filter((ns) => ns.name !== 'istio-system'),
    ];
    for (const namespace of controlPlaneFirst) this.addWorkloads(namespace);
  }

  /** The sim clock everything in this cluster runs on. */
  get clock(): SimClock {
    return this.context.clock;
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
    return this.livePods().filter((pod) => pod.owner?.uid === workload.uid);
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

  /** `at`: when the controller creates them (a roll-out step may lie in the past of a lazy read). */
  private createPods(
    workload: SimWorkload,
    count: number,
    readyAfter: number,
    at = this.context.clock.now(),
  ): void {
    const namespace = this.namespace(workload.namespace);
    if (!namespace) return;
    const taken = new Set(
      this.allPods
        .filter((pod) => pod.owner?.uid === workload.uid && (pod.goneAt === undefined || pod.goneAt > at))
        .map((pod) => pod.name),
    );
    let ordinal = 0;
    for (let created = 0; created < count; ordinal += 1) {
      const name = this.podName(workload, ordinal);
      if (taken.has(name)) continue;
      created += 1;
      this.schedulePod(
        namespace,
        {
          name,
          labels: { ...workload.template.labels, ...this.controllerLabels(workload, ordinal, name) },
          annotations: { ...workload.template.annotations },
          containers: workload.template.containers.map((c) => ({ ...c })),
          initContainers: [],
          owner: { kind: workload.kind, name: workload.name, uid: workload.uid },
          templateHash: workload.templateHash,
        },
        at,
        at + readyAfter,
      );
    }
  }

  /** A pod created through the API (`kubectl run`): no controller, so nothing replaces it once deleted. */
  addPod(
    namespace: string,
    fields: Pick<SimPod, 'name' | 'labels' | 'annotations' | 'containers' | 'initContainers'>,
  ): SimPod {
    const found = this.namespace(namespace);
    if (!found) throw new Error(`namespace ${namespace} does not exist in ${this.ref}`);
    const now = this.context.clock.now();
    return this.schedulePod(
      found,
      { ...fields, templateHash: '' },
      now,
      now + this.context.timings.podReadyAfter,
    );
  }

  /** Deletes a live pod now; its controller, if it has one, creates a replacement. False when there is none. */
  deletePod(namespace: string, name: string): boolean {
    const pod = this.livePods().find((p) => p.namespace === namespace && p.name === name);
    if (!pod) return false;
    this.evict(pod, this.context.clock.now());
    this.prunePods();
    return true;
  }

  /** Admission (sidecar injection) and scheduling of a new pod, as the API server and scheduler do it. */
  private schedulePod(
    namespace: SimNamespace,
    fields: Pick<
      SimPod,
      'name' | 'labels' | 'annotations' | 'containers' | 'initContainers' | 'owner' | 'templateHash'
    >,
    at: number,
    readyAt: number,
  ): SimPod {
    const sidecar = chooseSidecar({
      namespaceLabels: namespace.labels,
      podLabels: fields.labels,
      managed: this.context.managedMesh(this),
      inClusterRevisions: this.inClusterRevisions(),
    });
    const pod: SimPod = {
      ...fields,
      namespace: namespace.name,
      uid: uuid(),
      nodeName: `gk3-${this.name}-pool-1-${randomHex(4)}-${kubeSuffix(4)}`,
      podIP: `10.52.${Math.floor(this.nextPodIp / 250)}.${(this.nextPodIp % 250) + 2}`,
      createdAt: at,
      readyAt,
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
      'Normal',
      at,
    );
    return pod;
  }

  private inject(pod: SimPod, sidecar: Sidecar): void {
    const proxy: SimContainer = { name: 'istio-proxy', image: proxyImage(sidecar.proxyVersion) };
    if (this.nativeSidecars) pod.initContainers.push({ ...proxy, restartPolicy: 'Always' });
    else pod.containers.push(proxy);
    pod.sidecar = sidecar;
    pod.labels['security.istio.io/tlsMode'] = 'istio';
    pod.labels['service.istio.io/canonical-name'] = pod.labels.app ?? pod.owner?.name ?? pod.name;
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
    this.advanceRollout();
    this.prunePods();
    return this.allPods;
  }

  /** Applies what is due by now (roll-out steps) before the world changes something from outside. */
  settle(): void {
    this.livePods();
  }

  /** Applies the roll-out steps due by now, before anything reads or changes pods. */
  private advanceRollout(): void {
    if (!this.rollout || this.advancingRollout) return;
    this.advancingRollout = true;
    try {
      this.rollout.advance(this.rolloutHost, this.context.clock.now());
    } finally {
      this.advancingRollout = false;
    }
  }

  private readonly rolloutHost: RolloutHost = {
    podsAt: (at) =>
      this.allPods.filter((pod) => pod.createdAt <= at && (pod.goneAt === undefined || pod.goneAt > at)),
    disruptionBudgets: () => this.podDisruptionBudgets,
    target: () => {
      const view = this.context.managedMesh(this);
      return view?.dataPlaneActive ? { revision: view.revision, proxyVersion: view.proxyVersion } : undefined;
    },
    replace: (pod, at) => this.evict(pod, at),
    fail: (pod, at, message) => {
      pod.labels = { ...pod.labels, [upgradeFailedLabel]: 'failed' };
      pod.resourceVersion = this.nextResourceVersion();
      this.addEvent(
        pod.namespace,
        { kind: 'Pod', name: pod.name, uid: pod.uid, apiVersion: 'v1' },
        'DataPlaneUpgradeFailure',
        message,
        'mdp-controller',
        'Warning',
        at,
      );
    },
  };

  /** An eviction: the pod terminates at `at` and its controller creates a replacement then. */
  private evict(pod: SimPod, at: number): void {
    pod.goneAt = at;
    pod.resourceVersion = this.nextResourceVersion();
    const workload = (['Deployment', 'StatefulSet', 'DaemonSet'] as const)
      .map((kind) => this.workloads(kind).find((w) => w.uid === pod.owner?.uid))
      .find((w) => w !== undefined);
    if (workload) this.createPods(workload, 1, this.context.timings.podReadyAfter, at);
  }

  /**
   * Starts the managed data plane's roll-out to the current target (replacing any running one, after
   * applying its due steps): from `startsAt`, one pod per interval.
   */
  startProxyRollout(options: RolloutOptions = {}): void {
    this.settle();
    const previous = this.rollout?.plan;
    this.rollout = new ProxyRollout({
      startsAt: options.startsAt ?? this.context.clock.now(),
      intervalMs: options.podIntervalMs ?? previous?.intervalMs ?? defaultPodIntervalMs,
      failWorkloads: new Set(options.failWorkloads ?? previous?.failWorkloads ?? []),
    });
  }

  /** How far the managed proxies are rolled to the target, now. */
  rolloutStatus(): RolloutStatus {
    const pods = this.livePods().filter(hasManagedProxy);
    const view = this.context.managedMesh(this);
    const target = {
      revision: view?.revision ?? pods[0]?.sidecar?.revision ?? 'asm-managed',
      proxyVersion: view?.proxyVersion ?? this.mesh.proxyVersion,
    };
    const covered = pods.filter((pod) => !isOptedOut(pod.annotations));
    const done = covered.filter((pod) => runsTarget(pod, target)).length;
    const failed = covered.filter((pod) => !runsTarget(pod, target) && this.rollout?.hasFailed(pod)).length;
    const pending = covered.length - done - failed;
    const nextStepAt =
      pending > 0 && this.rollout && view?.dataPlaneActive
        ? this.rollout.nextStepAt(this.context.clock.now())
        : undefined;
    return {
      target: target.proxyVersion,
      revision: target.revision,
      total: covered.length,
      done,
      failed,
      pending,
      optedOut: pods.length - covered.length,
      complete: pending === 0,
      ...(nextStepAt === undefined ? {} : { nextStepAt }),
    };
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

  /** Events in the order they were recorded (the newest 1000), roll-out steps due by now included. */
  get events(): SimEvent[] {
    this.advanceRollout();
    return this.eventLog;
  }

  addEvent(
    namespace: string,
    involved: { kind: string; name: string; uid: string; apiVersion: string },
    reason: string,
    message: string,
    component: string,
    type: 'Normal' | 'Warning' = 'Normal',
    at = this.context.clock.now(),
  ): SimEvent {
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
    this.eventLog.push(event);
    if (this.eventLog.length > maxEvents) this.eventLog.splice(0, this.eventLog.length - maxEvents);
    return event;
  }
}
