import { rfc3339 } from './clock.js';
import type { SimCluster } from './cluster.js';
import { failedPrecondition, invalidArgument, notFound, parseJsonBody, requireProject } from './google.js';
import { ok, param, Router, type SimRequest, type SimResponse } from './http.js';
import { randomHex } from './ids.js';
import { isJsonObject, type JsonObject } from './json.js';
import type { SimProject, SimWorld } from './world.js';

const containerService = 'container.googleapis.com';
const labelKeyPattern = /^[a-z][a-z0-9_-]{0,62}$/;
const labelValuePattern = /^[a-z0-9_-]{0,63}$/;

interface ContainerOperation {
  id: string;
  project: SimProject;
  cluster: SimCluster;
  startedAt: number;
  doneAt: number;
}

type OperationStatus = 'PENDING' | 'RUNNING' | 'DONE';

// The REST fallback of @google-cloud/container asks for `$alt=json;enum-encoding=int`, and the real API then
// answers enums as their proto numbers.
const clusterStatusNumbers: Record<string, number> = {
  PROVISIONING: 1,
  RUNNING: 2,
  RECONCILING: 3,
  STOPPING: 4,
  ERROR: 5,
  DEGRADED: 6,
};
const channelNumbers: Record<string, number> = {
  UNSPECIFIED: 0,
  RAPID: 1,
  REGULAR: 2,
  STABLE: 3,
  EXTENDED: 4,
};
const operationStatusNumbers: Record<string, number> = { PENDING: 1, RUNNING: 2, DONE: 3 };
const nodePoolStatusNumbers: Record<string, number> = { PROVISIONING: 1, RUNNING: 2, RECONCILING: 4 };
const workloadMetadataNumbers: Record<string, number> = { GCE_METADATA: 1, GKE_METADATA: 2 };

function nodePoolWithIntEnums(pool: JsonObject): JsonObject {
  const result: JsonObject = { ...pool };
  if (typeof pool.status === 'string') result.status = nodePoolStatusNumbers[pool.status] ?? 0;
  const config = isJsonObject(pool.config) ? pool.config : undefined;
  const metadata = isJsonObject(config?.workloadMetadataConfig) ? config.workloadMetadataConfig : undefined;
  if (config && typeof metadata?.mode === 'string') {
    result.config = {
      ...config,
      workloadMetadataConfig: { mode: workloadMetadataNumbers[metadata.mode] ?? 0 },
    };
  }
  return result;
}
// The API marks SET_LABELS (12) unused: a setResourceLabels operation reports UPDATE_CLUSTER (6).
const operationTypeNumbers: Record<string, number> = { UPDATE_CLUSTER: 6 };

function wantsIntEnums(req: SimRequest): boolean {
  return (req.query.get('$alt') ?? '').includes('enum-encoding=int');
}

function clusterWithIntEnums(cluster: JsonObject): JsonObject {
  const result: JsonObject = { ...cluster };
  if (typeof cluster.status === 'string') result.status = clusterStatusNumbers[cluster.status] ?? 0;
  const channel = isJsonObject(cluster.releaseChannel) ? cluster.releaseChannel.channel : undefined;
  if (typeof channel === 'string') result.releaseChannel = { channel: channelNumbers[channel] ?? 0 };
  if (Array.isArray(cluster.nodePools)) {
    result.nodePools = cluster.nodePools.map((pool) =>
      isJsonObject(pool) ? nodePoolWithIntEnums(pool) : pool,
    );
  }
  return result;
}

function operationWithIntEnums(operation: JsonObject): JsonObject {
  const status = typeof operation.status === 'string' ? (operationStatusNumbers[operation.status] ?? 0) : 0;
  const type =
    typeof operation.operationType === 'string' ? (operationTypeNumbers[operation.operationType] ?? 0) : 0;
  return { ...operation, operationType: type, status };
}

function respond(
  req: SimRequest,
  body: JsonObject,
  toIntEnums: (body: JsonObject) => JsonObject,
): SimResponse {
  return ok(wantsIntEnums(req) ? toIntEnums(body) : body);
}

function clusterListWithIntEnums(list: JsonObject): JsonObject {
  const clusters = Array.isArray(list.clusters) ? list.clusters : [];
  return clusters.length > 0
    ? { clusters: clusters.map((c) => (isJsonObject(c) ? clusterWithIntEnums(c) : c)) }
    : {};
}

function zonesOf(location: string): string[] {
  return /-[a-z]$/.test(location) ? [location] : ['b', 'c', 'f'].map((zone) => `${location}-${zone}`);
}

/** A node pool as the Cluster resource lists it (the fields meshops and gcloud read). */
function nodePoolResource(cluster: SimCluster, pool: SimCluster['nodePools'][number]): JsonObject {
  return {
    name: pool.name,
    config: {
      machineType: cluster.autopilot ? 'ek-standard-2' : 'e2-standard-4',
      diskSizeGb: 100,
      imageType: 'COS_CONTAINERD',
      // Unset on a pool created without Workload Identity: the node serves the Compute Engine metadata.
      ...(pool.workloadMetadata ? { workloadMetadataConfig: { mode: pool.workloadMetadata } } : {}),
    },
    initialNodeCount: cluster.nodeCount,
    locations: zonesOf(cluster.location),
    selfLink: `https://container.googleapis.com/v1/projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}/nodePools/${pool.name}`,
    version: cluster.masterVersion,
    status: 'RUNNING',
  };
}

function clusterResource(world: SimWorld, cluster: SimCluster): JsonObject {
  const resource: JsonObject = {
    name: cluster.name,
    masterAuth: {
      clusterCaCertificate: Buffer.from(cluster.brokenAccess?.caPem ?? cluster.caPem).toString('base64'),
    },
    loggingService: 'logging.googleapis.com/kubernetes',
    monitoringService: 'monitoring.googleapis.com/kubernetes',
    network: 'default',
    clusterIpv4Cidr: '10.52.0.0/14',
    subnetwork: 'default',
    locations: zonesOf(cluster.location),
    resourceLabels: { ...cluster.resourceLabels },
    labelFingerprint: cluster.labelFingerprint,
    // An UNSPECIFIED enum is the proto default and so is left out, leaving an empty message.
    releaseChannel: cluster.releaseChannel === 'UNSPECIFIED' ? {} : { channel: cluster.releaseChannel },
    selfLink: `https://container.googleapis.com/v1/projects/${cluster.project}/locations/${cluster.location}/clusters/${cluster.name}`,
    zone: cluster.location,
    endpoint: cluster.brokenAccess?.endpoint ?? cluster.endpoint,
    // A private cluster's `endpoint` is its private endpoint (the control plane's address in the VPC).
    ...(cluster.privateEndpoint
      ? {
          privateClusterConfig: {
            enablePrivateNodes: true,
            enablePrivateEndpoint: true,
            masterIpv4CidrBlock: '172.16.0.32/28',
            privateEndpoint: cluster.brokenAccess?.endpoint ?? cluster.endpoint,
          },
        }
      : {}),
    initialClusterVersion: cluster.masterVersion,
    currentMasterVersion: cluster.masterVersion,
    currentNodeVersion: cluster.masterVersion,
    createTime: rfc3339(cluster.createdAt),
    status: cluster.status,
    servicesIpv4Cidr: '34.118.224.0/20',
    currentNodeCount: cluster.nodeCount,
    location: cluster.location,
    id: cluster.id,
    etag: cluster.labelFingerprint,
    nodePools: cluster.nodePools.map((pool) => nodePoolResource(cluster, pool)),
  };
  if (cluster.autopilot) resource.autopilot = { enabled: true };
  if (cluster.workloadIdentity) {
    resource.workloadIdentityConfig = { workloadPool: `${cluster.project}.svc.id.goog` };
  }
  const membership = world.membershipsOfCluster(cluster)[0];
  if (membership) {
    const fleetNumber = world.project(membership.project)?.number ?? membership.project;
    resource.fleet = {
      project: `projects/${fleetNumber}`,
      membership: world.membershipKey(membership),
      preRegistered: false,
    };
  }
  if (Object.keys(cluster.resourceLabels).length === 0) delete resource.resourceLabels;
  return resource;
}

export function containerRouter(world: SimWorld): Router {
  const operations = new Map<string, ContainerOperation>();

  const findCluster = (
    req: SimRequest,
    locationParam: string,
  ): { project: SimProject; cluster: SimCluster } => {
    const project = requireProject(world, param(req, 'project'), containerService);
    const location = param(req, locationParam);
    const cluster = world.cluster(`${project.id}/${location}/${param(req, 'cluster')}`);
    if (!cluster) {
      throw notFound(
        `Not found: projects/${param(req, 'project')}/locations/${location}/clusters/${param(req, 'cluster')}.`,
      );
    }
    return { project, cluster };
  };

  const operationStatus = (operation: ContainerOperation): OperationStatus => {
    const now = world.clock.now();
    if (now >= operation.doneAt) return 'DONE';
    return now - operation.startedAt < (operation.doneAt - operation.startedAt) / 4 ? 'PENDING' : 'RUNNING';
  };

  const operationResource = (operation: ContainerOperation): JsonObject => {
    const { cluster, project } = operation;
    const base = `https://container.googleapis.com/v1/projects/${project.number}/locations/${cluster.location}`;
    const status = operationStatus(operation);
    return {
      name: operation.id,
      zone: cluster.location,
      operationType: 'UPDATE_CLUSTER',
      status,
      selfLink: `${base}/operations/${operation.id}`,
      targetLink: `${base}/clusters/${cluster.name}`,
      startTime: rfc3339(operation.startedAt),
      ...(status === 'DONE' ? { endTime: rfc3339(operation.doneAt) } : {}),
      location: cluster.location,
    };
  };

  const setResourceLabels = (req: SimRequest, locationParam: string): JsonObject => {
    const { project, cluster } = findCluster(req, locationParam);
    const body = parseJsonBody(req);
    const fingerprint = body.labelFingerprint;
    if (typeof fingerprint !== 'string' || fingerprint === '') {
      throw invalidArgument('label_fingerprint is required: read the cluster and send its labelFingerprint.');
    }
    const running = [...operations.values()].find(
      (op) => op.cluster === cluster && operationStatus(op) !== 'DONE',
    );
    if (running) throw failedPrecondition(`Cluster is running incompatible operation ${running.id}.`);
    if (fingerprint !== cluster.labelFingerprint) {
      throw failedPrecondition(
        'Labels could not be set due to fingerprint mismatch. Please re-read the cluster and retry.',
      );
    }
    const raw = body.resourceLabels ?? {};
    if (!isJsonObject(raw)) {
      throw invalidArgument("Invalid value at 'resource_labels': expected a map of strings.");
    }
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value !== 'string') {
        throw invalidArgument(`Invalid value at 'resource_labels[${key}]': expected a string.`);
      }
      if (!labelKeyPattern.test(key) || !labelValuePattern.test(value)) {
        throw invalidArgument(
          `Invalid label ${key}=${value}: keys start with a lowercase letter, keys and values use only lowercase letters, digits, _ and -, at most 63 characters.`,
        );
      }
      labels[key] = value;
    }
    if (Object.keys(labels).length > 64) throw invalidArgument('A cluster can have at most 64 labels.');
    cluster.setResourceLabels(labels);
    const now = world.clock.now();
    const operation: ContainerOperation = {
      id: `operation-${now}-${randomHex(4)}`,
      project,
      cluster,
      startedAt: now,
      doneAt: now + world.timings.labelOperation,
    };
    operations.set(operation.id, operation);
    return operationResource(operation);
  };

  const getOperation = (req: SimRequest, locationParam: string): JsonObject => {
    const project = requireProject(world, param(req, 'project'), containerService);
    const operation = operations.get(param(req, 'operation'));
    if (
      !operation ||
      operation.project !== project ||
      operation.cluster.location !== param(req, locationParam)
    ) {
      throw notFound(`Not found: operation ${param(req, 'operation')}.`);
    }
    return operationResource(operation);
  };

  const listClusters = (req: SimRequest, locationParam: string): JsonObject => {
    const project = requireProject(world, param(req, 'project'), containerService);
    const location = param(req, locationParam);
    const clusters = world.clusters
      .filter((c) => c.project === project.id && (location === '-' || c.location === location))
      .map((c) => clusterResource(world, c));
    return clusters.length > 0 ? { clusters } : {};
  };

  const router = new Router();
  for (const [scope, locationParam] of [
    ['/v1/projects/{project}/locations/{location}', 'location'],
    ['/v1/projects/{project}/zones/{zone}', 'zone'],
  ] as const) {
    const labelsPath =
      locationParam === 'location'
        ? `${scope}/clusters/{cluster}:setResourceLabels`
        : `${scope}/clusters/{cluster}/resourceLabels`;
    router
      .add('GET', `${scope}/clusters`, (req) =>
        respond(req, listClusters(req, locationParam), clusterListWithIntEnums),
      )
      .add('GET', `${scope}/clusters/{cluster}`, (req) =>
        respond(req, clusterResource(world, findCluster(req, locationParam).cluster), clusterWithIntEnums),
      )
      .add('POST', labelsPath, (req) =>
        respond(req, setResourceLabels(req, locationParam), operationWithIntEnums),
      )
      .add('GET', `${scope}/operations/{operation}`, (req) =>
        respond(req, getOperation(req, locationParam), operationWithIntEnums),
      );
  }
  return router;
}
