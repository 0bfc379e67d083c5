import type { SimCluster } from './cluster.js';
import type { FaultInjector } from './faults.js';
import {
  bearerToken,
  listen,
  ok,
  param,
  Router,
  type RunningServer,
  type SimRequest,
  type SimResponse,
  holdFor,
} from './http.js';
import type { ManagedMeshView } from './injection.js';
import { isJsonObject, stringMap, type JsonObject } from './json.js';
import { KubeError, kubeFault, notFound } from './kubeErrors.js';
import {
  asListItem,
  configMapObject,
  eventObject,
  listObject,
  namespaceObject,
  podDisruptionBudgetObject,
  podObject,
  replicaSetObjects,
  workloadObject,
} from './kubeObjects.js';
import { controlPlaneRevisionObjects, dataPlaneControlObject } from './meshObjects.js';
import {
  apiGroupList,
  apiResourceList,
  apiVersions,
  builtInGroups,
  coreV1,
  meshGroup,
} from './kubeDiscovery.js';
import { createConfigMap, patchConfigMap, replaceConfigMap } from './kubeConfigMaps.js';
import { createPod, deletePod } from './kubePods.js';
import { asTable, wantsTable } from './kubeTables.js';
import { watchResponse } from './kubeWatch.js';
import { paginate } from './kubePaging.js';
import type { RequestLog } from './requestLog.js';
import { applyNamespacePatch, applyWorkloadPatch, objectField, patchDocument } from './kubePatch.js';
import type { Labels, SimWorkload, WorkloadKind } from './kubeTypes.js';
import { fieldMatcher, labelMatcher, SelectorError } from './kubeSelectors.js';

const resourceNames: Record<WorkloadKind, { plural: string; resource: string; listKind: string }> = {
  Deployment: { plural: 'deployments', resource: 'deployments.apps', listKind: 'DeploymentList' },
  StatefulSet: { plural: 'statefulsets', resource: 'statefulsets.apps', listKind: 'StatefulSetList' },
  DaemonSet: { plural: 'daemonsets', resource: 'daemonsets.apps', listKind: 'DaemonSetList' },
};

function labelsOf(object: JsonObject): Labels {
  return stringMap(objectField(object, 'metadata').labels, 'metadata.labels');
}

/**
 * A list call, or with `watch=true` a watch of the same selection. `objects` computes the whole objects
 * (kind included) now; a watch calls it again as the sim's clock moves on.
 */
function listResponse(
  req: SimRequest,
  cluster: SimCluster,
  kind: string,
  apiVersion: string,
  objects: () => JsonObject[],
  fields: string[],
  builtIn = true,
): SimResponse {
  let matchLabels: (labels: Labels) => boolean;
  let matchFields: (object: JsonObject) => boolean;
  try {
    matchLabels = labelMatcher(req.query.get('labelSelector'));
    matchFields = fieldMatcher(req.query.get('fieldSelector'), [
      'metadata.name',
      'metadata.namespace',
      ...fields,
    ]);
  } catch (error) {
    if (error instanceof SelectorError) throw new KubeError(400, 'BadRequest', error.message);
    throw error;
  }
  const selected = (): JsonObject[] => objects().filter((o) => matchLabels(labelsOf(o)) && matchFields(o));
  const watch = req.query.get('watch');
  if (watch === 'true' || watch === '1') return watchResponse(req, cluster, selected);
  const items = selected().map((o) => (builtIn ? asListItem(o) : o));
  const page = paginate(req, kind, items, cluster.resourceVersion, cluster.clock.now());
  return ok(listObject(kind, apiVersion, page.items, cluster.resourceVersion, page.metadata));
}

const podFields = [
  'status.phase',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'status.podIP',
];
const eventFields = [
  'involvedObject.kind',
  'involvedObject.name',
  'involvedObject.namespace',
  'involvedObject.uid',
  'reason',
  'type',
];

/** What a cluster's Kubernetes API needs, wherever it is served. */
export interface KubernetesApiOptions {
  cluster: SimCluster;
  managedMesh(cluster: SimCluster): ManagedMeshView | undefined;
  token: string;
  faults: FaultInjector;
}

export interface KubernetesServerOptions extends KubernetesApiOptions {
  host: string;
  port: number;
  tls: { key: string; cert: string };
  /** Where every request is recorded (with the cluster's ref), if anywhere. */
  requests?: RequestLog;
}

function kubernetesRouter(options: KubernetesApiOptions): Router {
  const { cluster } = options;
  const router = new Router();
  const requireNamespace = (name: string) => {
    const namespace = cluster.namespace(name);
    if (!namespace) throw notFound('namespaces', name);
    return namespace;
  };
  // The mesh CRDs are discoverable once the managed control plane is being installed, as their routes are.
  const groups = () => (mesh() ? [...builtInGroups, meshGroup] : builtInGroups);
  const inNamespace = (req: SimRequest) => (object: { namespace: string }) =>
    req.params.namespace === undefined || object.namespace === req.params.namespace;

  router
    .add('GET', '/version', () =>
      ok({
        major: '1',
        minor: cluster.masterVersion.split('.')[1] ?? '31',
        gitVersion: `v${cluster.masterVersion}`,
        platform: 'linux/amd64',
      }),
    )
    .add('GET', '/api', () => ok(apiVersions(cluster.endpoint)))
    .add('GET', '/api/v1', () => ok(apiResourceList(coreV1)))
    .add('GET', '/apis', () => ok(apiGroupList(groups())))
    .add('GET', '/apis/{group}/{version}', (req) => {
      const found = groups().find(
        (gv) => gv.group === param(req, 'group') && gv.version === param(req, 'version'),
      );
      if (!found) throw new KubeError(404, 'NotFound', 'the server could not find the requested resource');
      return ok(apiResourceList(found));
    })
    .add('GET', '/api/v1/namespaces', (req) =>
      listResponse(req, cluster, 'NamespaceList', 'v1', () => cluster.namespaces.map(namespaceObject), [
        'status.phase',
      ]),
    )
    .add('GET', '/api/v1/namespaces/{namespace}', (req) =>
      ok(namespaceObject(requireNamespace(param(req, 'namespace')))),
    )
    .add('PATCH', '/api/v1/namespaces/{namespace}', (req) => {
      const namespace = requireNamespace(param(req, 'namespace'));
      const patched = patchDocument(req, namespaceObject(namespace));
      const dryRun = req.query.get('dryRun') !== null;
      applyNamespacePatch(cluster, namespace, patched, dryRun);
      return ok(dryRun ? patched : namespaceObject(namespace));
    });

  for (const prefix of ['/api/v1', '/api/v1/namespaces/{namespace}']) {
    router
      .add('GET', `${prefix}/pods`, (req) =>
        listResponse(
          req,
          cluster,
          'PodList',
          'v1',
          () => cluster.pods.filter(inNamespace(req)).map(podObject),
          podFields,
        ),
      )
      .add('GET', `${prefix}/configmaps`, (req) =>
        listResponse(
          req,
          cluster,
          'ConfigMapList',
          'v1',
          () => cluster.configMaps.filter(inNamespace(req)).map(configMapObject),
          [],
        ),
      )
      .add('GET', `${prefix}/events`, (req) =>
        listResponse(
          req,
          cluster,
          'EventList',
          'v1',
          () => cluster.events.filter(inNamespace(req)).map(eventObject),
          eventFields,
        ),
      );
  }
  router
    .add('POST', '/api/v1/namespaces/{namespace}/pods', (req) =>
      createPod(cluster, param(req, 'namespace'), req),
    )
    .add('DELETE', '/api/v1/namespaces/{namespace}/pods/{name}', (req) =>
      deletePod(cluster, param(req, 'namespace'), param(req, 'name')),
    )
    .add('GET', '/api/v1/namespaces/{namespace}/pods/{name}', (req) => {
      const pod = cluster.pods.find(
        (p) => p.namespace === param(req, 'namespace') && p.name === param(req, 'name'),
      );
      if (!pod) throw notFound('pods', param(req, 'name'));
      return ok(podObject(pod));
    })
    .add('GET', '/api/v1/namespaces/{namespace}/configmaps/{name}', (req) => {
      const found = cluster.configMaps.find(
        (c) => c.namespace === param(req, 'namespace') && c.name === param(req, 'name'),
      );
      if (!found) throw notFound('configmaps', param(req, 'name'));
      return ok(configMapObject(found));
    })
    .add('POST', '/api/v1/namespaces/{namespace}/configmaps', (req) =>
      createConfigMap(cluster, param(req, 'namespace'), req),
    )
    .add('PUT', '/api/v1/namespaces/{namespace}/configmaps/{name}', (req) =>
      replaceConfigMap(cluster, param(req, 'namespace'), param(req, 'name'), req),
    )
    .add('PATCH', '/api/v1/namespaces/{namespace}/configmaps/{name}', (req) =>
      patchConfigMap(cluster, param(req, 'namespace'), param(req, 'name'), req),
    );

  for (const prefix of ['/apis/policy/v1', '/apis/policy/v1/namespaces/{namespace}']) {
    router.add('GET', `${prefix}/poddisruptionbudgets`, (req) => {
      const items = (): JsonObject[] => {
        const pods = cluster.pods;
        return cluster.podDisruptionBudgets
          .filter(inNamespace(req))
          .map((pdb) => podDisruptionBudgetObject(pdb, pods));
      };
      return listResponse(req, cluster, 'PodDisruptionBudgetList', 'policy/v1', items, []);
    });
  }

  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) {
    const { plural, resource, listKind } = resourceNames[kind];
    const find = (req: SimRequest): SimWorkload => {
      const workload = cluster.workload(kind, param(req, 'namespace'), param(req, 'name'));
      if (!workload) throw notFound(resource, param(req, 'name'));
      return workload;
    };
    for (const prefix of ['/apis/apps/v1', '/apis/apps/v1/namespaces/{namespace}']) {
      router.add('GET', `${prefix}/${plural}`, (req) => {
        const items = (): JsonObject[] => {
          const pods = cluster.pods;
          return cluster
            .workloads(kind)
            .filter(inNamespace(req))
            .map((w) => workloadObject(w, pods));
        };
        return listResponse(req, cluster, listKind, 'apps/v1', items, []);
      });
    }
    router
      .add('GET', `/apis/apps/v1/namespaces/{namespace}/${plural}/{name}`, (req) =>
        ok(workloadObject(find(req), cluster.pods)),
      )
      .add('PATCH', `/apis/apps/v1/namespaces/{namespace}/${plural}/{name}`, (req) => {
        const workload = find(req);
        const patched = patchDocument(req, workloadObject(workload, cluster.pods));
        if (req.query.get('dryRun') !== null) return ok(patched);
        applyWorkloadPatch(cluster, workload, patched);
        return ok(workloadObject(workload, cluster.pods));
      });
  }

  const replicaSets = (req: SimRequest): JsonObject[] => {
    const pods = cluster.pods;
    return cluster.deployments.filter(inNamespace(req)).flatMap((d) => replicaSetObjects(d, pods));
  };
  for (const prefix of ['/apis/apps/v1', '/apis/apps/v1/namespaces/{namespace}']) {
    router.add('GET', `${prefix}/replicasets`, (req) =>
      listResponse(req, cluster, 'ReplicaSetList', 'apps/v1', () => replicaSets(req), []),
    );
  }
  router.add('GET', '/apis/apps/v1/namespaces/{namespace}/replicasets/{name}', (req) => {
    const found = replicaSets(req).find(
      (rs) => isJsonObject(rs.metadata) && rs.metadata.name === param(req, 'name'),
    );
    if (!found) throw notFound('replicasets.apps', param(req, 'name'));
    return ok(found);
  });

  const mesh = (): ManagedMeshView | undefined => {
    const view = options.managedMesh(cluster);
    return view && view.controlPlaneState !== 'DISABLED' ? view : undefined;
  };
  // The mesh.cloud.google.com CRDs only exist once the managed control plane is being installed.
  const requireMeshCrds = (): ManagedMeshView => {
    const view = mesh();
    if (!view) throw new KubeError(404, 'NotFound', 'the server could not find the requested resource', {});
    return view;
  };
  const meshBase = '/apis/mesh.cloud.google.com/v1beta1';
  for (const prefix of [meshBase, `${meshBase}/namespaces/{namespace}`]) {
    router.add('GET', `${prefix}/controlplanerevisions`, (req) => {
      requireMeshCrds();
      const items = (): JsonObject[] =>
        req.params.namespace === undefined || req.params.namespace === 'istio-system'
          ? controlPlaneRevisionObjects(cluster, requireMeshCrds())
          : [];
      return listResponse(
        req,
        cluster,
        'ControlPlaneRevisionList',
        'mesh.cloud.google.com/v1beta1',
        items,
        [],
        false,
      );
    });
  }
  router
    .add('GET', `${meshBase}/namespaces/{namespace}/controlplanerevisions/{name}`, (req) => {
      const view = requireMeshCrds();
      const found =
        param(req, 'namespace') === 'istio-system'
          ? controlPlaneRevisionObjects(cluster, view).find(
              (object) => isJsonObject(object.metadata) && object.metadata.name === param(req, 'name'),
            )
          : undefined;
      if (!found) throw notFound('controlplanerevisions.mesh.cloud.google.com', param(req, 'name'));
      return ok(found);
    })
    .add('GET', `${meshBase}/dataplanecontrols`, (req) => {
      requireMeshCrds();
      const items = (): JsonObject[] => {
        const view = requireMeshCrds();
        return view.dataPlaneState === 'ACTIVE' || view.dataPlaneState === 'PROVISIONING'
          ? [dataPlaneControlObject(cluster, view)]
          : [];
      };
      return listResponse(
        req,
        cluster,
        'DataPlaneControlList',
        'mesh.cloud.google.com/v1beta1',
        items,
        [],
        false,
      );
    })
    .add('GET', `${meshBase}/dataplanecontrols/{name}`, (req) => {
      const view = requireMeshCrds();
      const exists = view.dataPlaneState === 'ACTIVE' || view.dataPlaneState === 'PROVISIONING';
      if (!exists || param(req, 'name') !== view.revision) {
        throw notFound('dataplanecontrols.mesh.cloud.google.com', param(req, 'name'));
      }
      return ok(dataPlaneControlObject(cluster, view));
    });
  return router;
}

/**
 * What one cluster's API server answers, wherever the request came in: at its own endpoint, or through
 * Connect Gateway (connectGateway.ts) with the gateway's path prefix taken off.
 */
export function kubernetesHandler(options: KubernetesApiOptions): (req: SimRequest) => Promise<SimResponse> {
  const router = kubernetesRouter(options);
  return async (req) => {
    const latency = options.faults.takeLatency('kubernetes', req.method, req.path);
    if (latency > 0) await holdFor(latency);
    if (bearerToken(req.headers) !== options.token) {
      return new KubeError(401, 'Unauthorized', 'Unauthorized').toResponse();
    }
    const fault = options.faults.take('kubernetes', req.method, req.path);
    if (fault) return kubeFault(fault).toResponse();
    const route = router.match(req.method, req.path);
    if (!route) {
      return router.servesPath(req.path)
        ? new KubeError(
            405,
            'MethodNotAllowed',
            'the server does not allow this method on the requested resource',
          ).toResponse()
        : new KubeError(404, 'NotFound', 'the server could not find the requested resource').toResponse();
    }
    try {
      const response = route.handler({ ...req, params: route.params });
      // A watch renders its own events; everything else becomes a Table here when kubectl get asks.
      return response.stream || response.status >= 300 || !wantsTable(req.headers)
        ? response
        : { ...response, body: asTable(response.body, options.cluster.clock.now()) };
    } catch (error) {
      if (error instanceof KubeError) return error.toResponse();
      throw error;
    }
  };
}

/**
 * One cluster's API server on its own HTTPS port, authenticated with the same bearer token as Google. A
 * cluster with only a private endpoint resets every connection to it (each one recorded, method CONNECT).
 */
export function startKubernetesServer(options: KubernetesServerOptions): Promise<RunningServer> {
  const { requests, cluster } = options;
  return listen(kubernetesHandler(options), {
    host: options.host,
    port: options.port,
    tls: options.tls,
    refuse: () => cluster.privateEndpoint,
    ...(requests
      ? {
          observe: (request) => requests.begin('kubernetes', request, cluster.ref),
          onRefused: () =>
            requests.begin('kubernetes', { method: 'CONNECT', path: '', query: '' }, cluster.ref)(0),
        }
      : {}),
  });
}
