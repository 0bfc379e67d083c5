import type { v1 as containerV1, protos } from '@google-cloud/container';
import { isMeshopsError, MeshopsError } from '../errors.js';
import type {
  ClusterInfo,
  ClusterRef,
  Gke,
  ListedCluster,
  OperationRef,
  OperationStatus,
  ReleaseChannel,
} from '../workflows/ports.js';
import type { CloudCaller } from './caller.js';

type ClusterManagerClient = containerV1.ClusterManagerClient;
type Cluster = protos.google.container.v1.ICluster;

const LABEL_ATTEMPTS = 8;

const channels: ReleaseChannel[] = ['UNSPECIFIED', 'RAPID', 'REGULAR', 'STABLE', 'EXTENDED'];
const clusterStatuses = [
  'STATUS_UNSPECIFIED',
  'PROVISIONING',
  'RUNNING',
  'RECONCILING',
  'STOPPING',
  'ERROR',
  'DEGRADED',
];
const operationStatuses = ['STATUS_UNSPECIFIED', 'PENDING', 'RUNNING', 'DONE', 'ABORTING'];
const workloadMetadataModes = ['MODE_UNSPECIFIED', 'GCE_METADATA', 'GKE_METADATA'];

/** gax may hand enums back as names or as numbers, depending on the transport. */
function enumName(value: unknown, names: readonly string[]): string {
  if (typeof value === 'number') return names[value] ?? String(value);
  return typeof value === 'string' ? value : (names[0] ?? 'UNSPECIFIED');
}

function clusterName(ref: ClusterRef): string {
  return `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export function toClusterInfo(cluster: Cluster): ClusterInfo {
  const channel = enumName(cluster.releaseChannel?.channel, channels);
  return {
    status: enumName(cluster.status, clusterStatuses),
    releaseChannel: (channels as string[]).includes(channel) ? (channel as ReleaseChannel) : 'UNSPECIFIED',
    workloadPool: cluster.workloadIdentityConfig?.workloadPool || null,
    autopilot: cluster.autopilot?.enabled === true,
    endpoint: cluster.endpoint ?? '',
    caCertificate: cluster.masterAuth?.clusterCaCertificate ?? '',
    resourceLabels: { ...(cluster.resourceLabels ?? {}) },
    labelFingerprint: cluster.labelFingerprint ?? '',
    masterVersion: cluster.currentMasterVersion ?? '',
    nodePools: (cluster.nodePools ?? []).map((pool) => {
      const mode = pool.config?.workloadMetadataConfig?.mode;
      const name = mode === undefined || mode === null ? null : enumName(mode, workloadMetadataModes);
      return { name: pool.name ?? '', workloadMetadataMode: name === 'MODE_UNSPECIFIED' ? null : name };
    }),
    fleet: cluster.fleet?.project
      ? { project: cluster.fleet.project, membership: cluster.fleet.membership ?? '' }
      : null,
    privateEndpointOnly: privateEndpointOnly(cluster),
  };
}

/**
 * Whether the control plane can be reached only from inside its VPC: a private cluster with its public
 * endpoint off (`privateClusterConfig.enablePrivateEndpoint`), or, in the newer shape, IP endpoints whose
 * public one is off (`controlPlaneEndpointsConfig.ipEndpointsConfig.enablePublicEndpoint: false`).
 */
function privateEndpointOnly(cluster: Cluster): boolean {
  const ip = cluster.controlPlaneEndpointsConfig?.ipEndpointsConfig;
  return (
    cluster.privateClusterConfig?.enablePrivateEndpoint === true ||
    (ip?.enabled !== false && ip?.enablePublicEndpoint === false)
  );
}

/** GKE clusters through @google-cloud/container's ClusterManagerClient (REST transport). */
export class ContainerGke implements Gke {
  constructor(
    private readonly client: ClusterManagerClient,
    private readonly caller: CloudCaller,
  ) {}

  async getCluster(ref: ClusterRef): Promise<ClusterInfo> {
    const name = clusterName(ref);
    try {
      const cluster = await this.caller.call('get cluster', name, ref.project, async () => {
        const [result] = await this.client.getCluster({ name });
        return result;
      });
      return toClusterInfo(cluster);
    } catch (error) {
      if (isMeshopsError(error, 'NOT_FOUND')) {
        throw new MeshopsError(
          'CLUSTER_NOT_FOUND',
          `cluster ${ref.project}/${ref.location}/${ref.name} not found`,
          {
            cause: error,
            hint: `check the name with \`gcloud container clusters list --project ${ref.project}\``,
          },
        );
      }
      throw error;
    }
  }

  async listClusters(project: string): Promise<ListedCluster[]> {
    const parent = `projects/${project}/locations/-`;
    const result = await this.caller.call('list clusters', parent, project, async () => {
      const [response] = await this.client.listClusters({ parent });
      return response;
    });
    return (result.clusters ?? []).map((cluster) => ({
      ...toClusterInfo(cluster),
      ref: { project, location: cluster.location ?? '', name: cluster.name ?? '' },
    }));
  }

  /**
   * setResourceLabels replaces the whole map and is guarded by the fingerprint: merge into the labels
   * just read, and if someone changed them in between (FAILED_PRECONDITION), read again and retry.
   * GKE answers the same while an earlier label operation still runs (a run resumed after a crash),
   * so the retries back off.
   */
  async setResourceLabels(ref: ClusterRef, labels: Record<string, string>): Promise<OperationRef | null> {
    return this.relabel(ref, (current) => ({ ...current, ...labels }));
  }

  async removeResourceLabels(ref: ClusterRef, keys: string[]): Promise<OperationRef | null> {
    return this.relabel(ref, (current) =>
      Object.fromEntries(Object.entries(current).filter(([k]) => !keys.includes(k))),
    );
  }

  /** One read-change-write of the label map under its fingerprint (see the class comment). */
  private async relabel(
    ref: ClusterRef,
    change: (current: Record<string, string>) => Record<string, string>,
  ): Promise<OperationRef | null> {
    const name = clusterName(ref);
    for (let attempt = 1; ; attempt++) {
      const current = await this.getCluster(ref);
      const wanted = change(current.resourceLabels);
      if (sameLabels(wanted, current.resourceLabels)) return null;
      try {
        const operation = await this.caller.call('set labels on', name, ref.project, async () => {
          const [result] = await this.client.setLabels({
            name,
            resourceLabels: wanted,
            labelFingerprint: current.labelFingerprint,
          });
          return result;
        });
        return { api: 'container', name: operation.name ?? '', project: ref.project, location: ref.location };
      } catch (error) {
        if (!isMeshopsError(error, 'FAILED_PRECONDITION') || attempt >= LABEL_ATTEMPTS) throw error;
        await this.caller.backoff(attempt);
      }
    }
  }

  async operationStatus(operation: OperationRef): Promise<OperationStatus> {
    const name = `projects/${operation.project ?? '-'}/locations/${operation.location ?? '-'}/operations/${operation.name}`;
    const result = await this.caller.call('get operation', name, operation.project, async () => {
      const [op] = await this.client.getOperation({ name });
      return op;
    });
    const status = enumName(result.status, operationStatuses);
    const error = result.error?.message || (status === 'DONE' ? result.statusMessage : '') || '';
    if (status === 'ABORTING') return { done: true, error: error || 'the operation was aborted' };
    return { done: status === 'DONE', ...(error ? { error } : {}) };
  }
}
