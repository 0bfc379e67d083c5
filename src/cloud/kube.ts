import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { isMeshopsError } from '../errors.js';
import type {
  ClusterAccess,
  Kube,
  KubeFactory,
  NamespaceInfo,
  PodInfo,
  WorkloadInfo,
  WorkloadKind,
} from '../workflows/ports.js';
import type { CloudCaller } from './caller.js';

export interface TokenSource {
  accessToken(): Promise<string>;
}

interface Apis {
  token: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Sidecar injected as a container, or (Kubernetes ≥ 1.29 native sidecars) as an init container that keeps running. */
export function hasIstioProxy(pod: V1Pod): boolean {
  return (
    (pod.spec?.containers ?? []).some((c) => c.name === 'istio-proxy') ||
    (pod.spec?.initContainers ?? []).some((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always')
  );
}

function toPodInfo(pod: V1Pod): PodInfo {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready:
      (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ||
      (statuses.length > 0 && (pod.status?.containerStatuses ?? []).every((s) => s.ready)),
    hasIstioProxy: hasIstioProxy(pod),
    labels: { ...(pod.metadata?.labels ?? {}) },
  };
}

/**
 * One cluster's API server, reached as `gcloud container clusters get-credentials` would: https to
 * the cluster endpoint, its CA, and a Google access token as bearer (refreshed when it changes).
 */
export class ClientNodeKube implements Kube {
  private apis: Apis | undefined;

  constructor(
    private readonly access: ClusterAccess,
    private readonly tokens: TokenSource,
    private readonly caller: CloudCaller,
  ) {}

  private async client(): Promise<Apis> {
    const token = await this.tokens.accessToken();
    if (this.apis?.token === token) return this.apis;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [
        { name: 'gke', server: `https://${this.access.endpoint}`, caData: this.access.caCertificate },
      ],
      users: [{ name: 'meshops', token }],
      contexts: [{ name: 'gke', cluster: 'gke', user: 'meshops' }],
      currentContext: 'gke',
    });
    this.apis = {
      token,
      core: config.makeApiClient(CoreV1Api),
      apps: config.makeApiClient(AppsV1Api),
      policy: config.makeApiClient(PolicyV1Api),
    };
    return this.apis;
  }

  private call<T>(what: string, resource: string, fn: (apis: Apis) => Promise<T>): Promise<T> {
    return this.caller.call(what, `${resource} on ${this.access.endpoint}`, undefined, async () =>
      fn(await this.client()),
    );
  }

  async getNamespace(name: string): Promise<NamespaceInfo | null> {
    try {
      const ns = await this.call('read namespace', name, ({ core }) => core.readNamespace({ name }));
      return { name, labels: { ...(ns.metadata?.labels ?? {}) } };
    } catch (error) {
      if (isMeshopsError(error, 'NOT_FOUND')) return null;
      throw error;
    }
  }

  async listPods(namespace: string, labelSelector?: string): Promise<PodInfo[]> {
    const list = await this.call('list pods in', namespace, ({ core }) =>
      core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    );
    return list.items.map(toPodInfo);
  }

  async listWorkloads(namespace: string, kinds: WorkloadKind[]): Promise<WorkloadInfo[]> {
    const out: WorkloadInfo[] = [];
    for (const kind of kinds) {
      const items = await this.call(`list ${kind}s in`, namespace, async ({ apps }) => {
        if (kind === 'Deployment') return (await apps.listNamespacedDeployment({ namespace })).items;
        if (kind === 'StatefulSet') return (await apps.listNamespacedStatefulSet({ namespace })).items;
        return (await apps.listNamespacedDaemonSet({ namespace })).items;
      });
      for (const item of items) {
        const spec = item.spec as { replicas?: number } | undefined;
        const status = item.status as { desiredNumberScheduled?: number } | undefined;
        out.push({
          kind,
          name: item.metadata?.name ?? '',
          namespace,
          replicas: spec?.replicas ?? status?.desiredNumberScheduled ?? 1,
        });
      }
    }
    return out;
  }

  async countPodDisruptionBudgets(namespace: string): Promise<number> {
    const list = await this.call('list PodDisruptionBudgets in', namespace, ({ policy }) =>
      policy.listNamespacedPodDisruptionBudget({ namespace }),
    );
    return list.items.length;
  }

  async patchNamespaceLabels(name: string, labels: Record<string, string | null>): Promise<void> {
    await this.call('label namespace', name, ({ core }) =>
      core.patchNamespace({ name, body: { metadata: { labels } } }, mergePatch),
    );
  }

  async restartWorkload(workload: WorkloadInfo, restartedAt: string): Promise<void> {
    const { name, namespace } = workload;
    const body = {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } },
    };
    await this.call(`restart ${workload.kind}`, `${namespace}/${name}`, ({ apps }) => {
      if (workload.kind === 'Deployment')
        return apps.patchNamespacedDeployment({ name, namespace, body }, mergePatch);
      if (workload.kind === 'StatefulSet')
        return apps.patchNamespacedStatefulSet({ name, namespace, body }, mergePatch);
      return apps.patchNamespacedDaemonSet({ name, namespace, body }, mergePatch);
    });
  }
}

export class ClientNodeKubeFactory implements KubeFactory {
  private readonly clusters = new Map<string, ClientNodeKube>();

  constructor(
    private readonly tokens: TokenSource,
    private readonly caller: CloudCaller,
  ) {}

  forCluster(access: ClusterAccess): Kube {
    const key = `${access.endpoint}|${access.caCertificate}`;
    let kube = this.clusters.get(key);
    if (!kube) {
      kube = new ClientNodeKube(access, this.tokens, this.caller);
      this.clusters.set(key, kube);
    }
    return kube;
  }
}
