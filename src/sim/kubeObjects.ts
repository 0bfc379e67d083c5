import { kubeTime } from './clock.js';
import { stableUid } from './ids.js';
import {
  matchesLabels,
  type Labels,
  type SimConfigMap,
  type SimContainer,
  type SimEvent,
  type SimNamespace,
  type SimPodDisruptionBudget,
  type SimPodView,
  type SimWorkload,
} from './kubeTypes.js';
import { without, type JsonObject } from './json.js';

/** Go's `omitempty`: Kubernetes leaves out empty maps and zero counts. */
function nonEmpty(field: string, value: Labels | number): JsonObject {
  if (typeof value === 'number') return value === 0 ? {} : { [field]: value };
  return Object.keys(value).length === 0 ? {} : { [field]: { ...value } };
}

function meta(
  object: { name: string; uid: string; createdAt: number; resourceVersion: number },
  extra: JsonObject = {},
): JsonObject {
  return {
    name: object.name,
    ...extra,
    uid: object.uid,
    resourceVersion: String(object.resourceVersion),
    creationTimestamp: kubeTime(object.createdAt),
  };
}

/** `metadata` (e.g. continue, remainingItemCount from paging) is merged over the default resourceVersion. */
export function listObject(
  kind: string,
  apiVersion: string,
  items: JsonObject[],
  resourceVersion: number,
  metadata: JsonObject = {},
): JsonObject {
  return { kind, apiVersion, metadata: { resourceVersion: String(resourceVersion), ...metadata }, items };
}

/** Items of a built-in list carry no kind/apiVersion, as the API server sends them. */
export function asListItem(object: JsonObject): JsonObject {
  return without(object, 'kind', 'apiVersion');
}

export function namespaceObject(ns: SimNamespace): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: meta(ns, { ...nonEmpty('labels', ns.labels), ...nonEmpty('annotations', ns.annotations) }),
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function containerObject(container: SimContainer): JsonObject {
  return {
    name: container.name,
    image: container.image,
    imagePullPolicy: 'IfNotPresent',
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    ...(container.restartPolicy ? { restartPolicy: container.restartPolicy } : {}),
  };
}

function containerStatus(container: SimContainer, pod: SimPodView): JsonObject {
  const startedAt = kubeTime(pod.readyAt);
  return {
    name: container.name,
    image: container.image,
    imageID: '',
    ready: pod.ready,
    started: pod.ready,
    restartCount: 0,
    state: pod.ready ? { running: { startedAt } } : { waiting: { reason: 'ContainerCreating' } },
    ...(pod.ready
      ? { containerID: `containerd://${pod.uid.replace(/-/g, '')}${container.name.length}` }
      : {}),
  };
}

function condition(type: string, status: boolean, at: number): JsonObject {
  return { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: kubeTime(at) };
}

const ownerKinds: Record<SimWorkload['kind'], string> = {
  Deployment: 'ReplicaSet',
  StatefulSet: 'StatefulSet',
  DaemonSet: 'DaemonSet',
};

function ownership(pod: SimPodView): JsonObject {
  const { owner } = pod;
  if (!owner) return {};
  const ownerName = owner.kind === 'Deployment' ? `${owner.name}-${pod.templateHash}` : owner.name;
  return {
    generateName: owner.kind === 'StatefulSet' ? `${owner.name}-` : `${ownerName}-`,
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: ownerKinds[owner.kind],
        name: ownerName,
        uid: owner.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

export function podObject(pod: SimPodView): JsonObject {
  const readyChangedAt = pod.ready ? pod.readyAt : pod.createdAt;
  const { generateName, ownerReferences } = ownership(pod);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(pod, {
      ...(generateName === undefined ? {} : { generateName }),
      namespace: pod.namespace,
      ...nonEmpty('labels', pod.labels),
      ...nonEmpty('annotations', pod.annotations),
      ...(ownerReferences === undefined ? {} : { ownerReferences }),
    }),
    spec: {
      ...(pod.initContainers.length > 0 ? { initContainers: pod.initContainers.map(containerObject) } : {}),
      containers: pod.containers.map(containerObject),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: pod.nodeName,
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: pod.phase,
      conditions: [
        condition('PodReadyToStartContainers', pod.ready, readyChangedAt),
        condition('Initialized', true, pod.createdAt),
        condition('Ready', pod.ready, readyChangedAt),
        condition('ContainersReady', pod.ready, readyChangedAt),
        condition('PodScheduled', true, pod.createdAt),
      ],
      hostIP: '10.128.0.12',
      podIP: pod.podIP,
      podIPs: [{ ip: pod.podIP }],
      startTime: kubeTime(pod.createdAt),
      ...(pod.initContainers.length > 0
        ? { initContainerStatuses: pod.initContainers.map((c) => containerStatus(c, pod)) }
        : {}),
      containerStatuses: pod.containers.map((c) => containerStatus(c, pod)),
      qosClass: 'Burstable',
    },
  };
}

function templateObject(workload: SimWorkload): JsonObject {
  return {
    metadata: {
      creationTimestamp: null,
      ...nonEmpty('labels', workload.template.labels),
      ...nonEmpty('annotations', workload.template.annotations),
    },
    spec: {
      containers: workload.template.containers.map(containerObject),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
    },
  };
}

function workloadStatus(workload: SimWorkload, pods: SimPodView[]): JsonObject {
  const owned = pods.filter((pod) => pod.owner?.uid === workload.uid);
  const updated = owned.filter((pod) => pod.templateHash === workload.templateHash).length;
  const ready = owned.filter((pod) => pod.ready).length;
  const complete =
    updated === workload.replicas && owned.length === workload.replicas && ready === workload.replicas;
  if (workload.kind === 'DaemonSet') {
    return {
      currentNumberScheduled: owned.length,
      numberMisscheduled: 0,
      desiredNumberScheduled: workload.replicas,
      numberReady: ready,
      observedGeneration: workload.generation,
      ...nonEmpty('updatedNumberScheduled', updated),
      ...nonEmpty('numberAvailable', ready),
      ...nonEmpty('numberUnavailable', workload.replicas - ready),
    };
  }
  if (workload.kind === 'StatefulSet') {
    const revision = `${workload.name}-${workload.templateHash}`;
    return {
      observedGeneration: workload.generation,
      replicas: owned.length,
      ...nonEmpty('readyReplicas', ready),
      ...nonEmpty('currentReplicas', updated),
      ...nonEmpty('updatedReplicas', updated),
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: 0,
      ...nonEmpty('availableReplicas', ready),
    };
  }
  const rsName = `${workload.name}-${workload.templateHash}`;
  return {
    observedGeneration: workload.generation,
    ...nonEmpty('replicas', owned.length),
    ...nonEmpty('updatedReplicas', updated),
    ...nonEmpty('readyReplicas', ready),
    ...nonEmpty('availableReplicas', ready),
    ...nonEmpty('unavailableReplicas', Math.max(0, workload.replicas - ready)),
    conditions: [
      {
        type: 'Available',
        status: ready >= workload.replicas ? 'True' : 'False',
        reason: ready >= workload.replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message:
          ready >= workload.replicas
            ? 'Deployment has minimum availability.'
            : 'Deployment does not have minimum availability.',
      },
      {
        type: 'Progressing',
        status: 'True',
        reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
        message: complete
          ? `ReplicaSet "${rsName}" has successfully progressed.`
          : `ReplicaSet "${rsName}" is progressing.`,
      },
    ],
  };
}

export function workloadObject(workload: SimWorkload, pods: SimPodView[]): JsonObject {
  const annotations =
    workload.kind === 'Deployment'
      ? { ...workload.annotations, 'deployment.kubernetes.io/revision': String(workload.revision) }
      : workload.annotations;
  const spec: JsonObject = {
    ...(workload.kind === 'DaemonSet' ? {} : { replicas: workload.replicas }),
    selector: { matchLabels: { ...workload.selector } },
    template: templateObject(workload),
    revisionHistoryLimit: 10,
  };
  if (workload.kind === 'Deployment') {
    spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
    spec.progressDeadlineSeconds = 600;
  } else if (workload.kind === 'StatefulSet') {
    spec.serviceName = workload.name;
    spec.podManagementPolicy = 'OrderedReady';
    spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
  } else {
    spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
  }
  return {
    apiVersion: 'apps/v1',
    kind: workload.kind,
    metadata: meta(workload, {
      namespace: workload.namespace,
      generation: workload.generation,
      ...nonEmpty('labels', workload.labels),
      ...nonEmpty('annotations', annotations),
    }),
    spec,
    status: workloadStatus(workload, pods),
  };
}

export function configMapObject(configMap: SimConfigMap): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(configMap, { namespace: configMap.namespace, ...nonEmpty('labels', configMap.labels) }),
    data: { ...configMap.data },
  };
}

export function eventObject(event: SimEvent): JsonObject {
  const at = kubeTime(event.at);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: meta({ ...event, createdAt: event.at }, { namespace: event.namespace }),
    involvedObject: { ...event.involvedObject },
    reason: event.reason,
    message: event.message,
    source: { component: event.component },
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
    type: event.type,
    eventTime: null,
    reportingComponent: event.component,
    reportingInstance: '',
  };
}

export function podDisruptionBudgetObject(pdb: SimPodDisruptionBudget, pods: SimPodView[]): JsonObject {
  const selected = pods.filter(
    (pod) => pod.namespace === pdb.namespace && matchesLabels(pod.labels, pdb.selector),
  );
  const healthy = selected.filter((pod) => pod.ready).length;
  const desired = pdb.minAvailable ?? Math.max(0, selected.length - (pdb.maxUnavailable ?? 0));
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(pdb, { namespace: pdb.namespace, generation: 1 }),
    spec: {
      ...(pdb.minAvailable === undefined ? {} : { minAvailable: pdb.minAvailable }),
      ...(pdb.maxUnavailable === undefined ? {} : { maxUnavailable: pdb.maxUnavailable }),
      selector: { matchLabels: { ...pdb.selector } },
    },
    status: {
      observedGeneration: 1,
      disruptionsAllowed: Math.max(0, healthy - desired),
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: selected.length,
    },
  };
}

/**
 * A Deployment's ReplicaSets: the current template's, and one per older template that still has live pods
 * (scaled to 0). The sim keeps no old templates, so an old ReplicaSet shows the current one under its hash.
 */
export function replicaSetObjects(deployment: SimWorkload, pods: SimPodView[]): JsonObject[] {
  const owned = pods.filter((pod) => pod.owner?.uid === deployment.uid);
  const hashes = [deployment.templateHash, ...new Set(owned.map((pod) => pod.templateHash))].filter(
    (hash, i, all) => all.indexOf(hash) === i,
  );
  return hashes.map((hash) => {
    const current = hash === deployment.templateHash;
    const mine = owned.filter((pod) => pod.templateHash === hash);
    const ready = mine.filter((pod) => pod.ready).length;
    const labels = { ...deployment.template.labels, 'pod-template-hash': hash };
    const template = templateObject(deployment);
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: meta(
        {
          name: `${deployment.name}-${hash}`,
          uid: stableUid(`${deployment.uid}/${hash}`),
          createdAt: deployment.createdAt,
          resourceVersion: deployment.resourceVersion,
        },
        {
          namespace: deployment.namespace,
          generation: 1,
          labels,
          annotations: {
            'deployment.kubernetes.io/desired-replicas': String(deployment.replicas),
            'deployment.kubernetes.io/max-replicas': String(deployment.replicas + 1),
            ...(current ? { 'deployment.kubernetes.io/revision': String(deployment.revision) } : {}),
          },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: deployment.name,
              uid: deployment.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
      ),
      spec: {
        replicas: current ? deployment.replicas : 0,
        selector: { matchLabels: { ...deployment.selector, 'pod-template-hash': hash } },
        template: { ...template, metadata: { ...(template.metadata as JsonObject), labels } },
      },
      status: {
        replicas: mine.length,
        ...nonEmpty('fullyLabeledReplicas', mine.length),
        ...nonEmpty('readyReplicas', ready),
        ...nonEmpty('availableReplicas', ready),
        observedGeneration: 1,
      },
    };
  });
}
