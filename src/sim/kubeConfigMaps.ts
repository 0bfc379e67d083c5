/**
 * ConfigMap create, replace (PUT) and patch, with the API server's optimistic concurrency: a
 * `metadata.resourceVersion` in the body (a replace, or a patch that names one) must be the stored
 * one, else 409 Conflict; a create of a name that exists is 409 AlreadyExists.
 */
import type { SimCluster } from './cluster.js';
import { ok, type SimRequest, type SimResponse } from './http.js';
import { PatchError, stringMap, type JsonObject } from './json.js';
import { invalid, KubeError, notFound } from './kubeErrors.js';
import { configMapObject } from './kubeObjects.js';
import { decodeObject, objectField, patchDocument } from './kubePatch.js';
import type { SimConfigMap } from './kubeTypes.js';
import { uuid } from './ids.js';

const dnsSubdomain = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function conflict(name: string): KubeError {
  return new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on configmaps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: 'configmaps' },
  );
}

/** labels and data of a ConfigMap object as sent, or 422. */
function contents(
  name: string,
  object: JsonObject,
): { labels: Record<string, string>; data: Record<string, string> } {
  try {
    return {
      labels: stringMap(objectField(object, 'metadata').labels, 'metadata.labels'),
      data: stringMap(object.data, 'data'),
    };
  } catch (error) {
    if (error instanceof PatchError) throw invalid('ConfigMap', name, 'data', error.message);
    throw error;
  }
}

function find(cluster: SimCluster, namespace: string, name: string): SimConfigMap {
  const found = cluster.configMaps.find((c) => c.namespace === namespace && c.name === name);
  if (!found) throw notFound('configmaps', name);
  return found;
}

/** A write to `found` whose body names a resourceVersion: it must be the current one. */
function checkVersion(found: SimConfigMap, object: JsonObject): void {
  const version = objectField(object, 'metadata').resourceVersion;
  if (version !== undefined && version !== String(found.resourceVersion)) throw conflict(found.name);
}

/** A replace or patch of `found` to `object`: on its resourceVersion, stored unless it is a dry run. */
function written(cluster: SimCluster, found: SimConfigMap, object: JsonObject, req: SimRequest): SimResponse {
  checkVersion(found, object);
  if (req.query.get('dryRun') !== null) return ok(object);
  const { labels, data } = contents(found.name, object);
  found.labels = labels;
  found.data = data;
  found.resourceVersion = cluster.nextResourceVersion();
  return ok(configMapObject(found));
}

export function createConfigMap(cluster: SimCluster, namespace: string, req: SimRequest): SimResponse {
  if (!cluster.namespace(namespace)) throw notFound('namespaces', namespace);
  const body = decodeObject(req, 'ConfigMap');
  const name = objectField(body, 'metadata').name;
  if (typeof name !== 'string' || !dnsSubdomain.test(name)) {
    throw invalid('ConfigMap', typeof name === 'string' ? name : '', 'metadata.name', 'Required value');
  }
  if (cluster.configMaps.some((c) => c.namespace === namespace && c.name === name)) {
    throw new KubeError(409, 'AlreadyExists', `configmaps "${name}" already exists`, {
      name,
      kind: 'configmaps',
    });
  }
  const { labels, data } = contents(name, body);
  const created: SimConfigMap = {
    name,
    namespace,
    uid: uuid(),
    labels,
    data,
    createdAt: cluster.clock.now(),
    resourceVersion: cluster.nextResourceVersion(),
  };
  if (req.query.get('dryRun') === null) cluster.configMaps.push(created);
  return { status: 201, body: configMapObject(created) };
}

export function replaceConfigMap(
  cluster: SimCluster,
  namespace: string,
  name: string,
  req: SimRequest,
): SimResponse {
  const found = find(cluster, namespace, name);
  const body = decodeObject(req, 'ConfigMap');
  if (objectField(body, 'metadata').name !== name) {
    throw new KubeError(
      400,
      'BadRequest',
      `the name of the object does not match the name on the URL (${name})`,
    );
  }
  return written(cluster, found, body, req);
}

export function patchConfigMap(
  cluster: SimCluster,
  namespace: string,
  name: string,
  req: SimRequest,
): SimResponse {
  const found = find(cluster, namespace, name);
  return written(cluster, found, patchDocument(req, configMapObject(found)), req);
}
