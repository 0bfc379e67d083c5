import type { SimCluster } from './cluster.js';
import type { SimRequest } from './http.js';
import {
  applyJsonPatch,
  isJsonObject,
  jsonEqual,
  mergePatch,
  PatchError,
  stringMap,
  without,
  type JsonObject,
  type JsonValue,
} from './json.js';
import { invalid, KubeError, unsupportedMediaType } from './kubeErrors.js';
import {
  matchesLabels,
  type Labels,
  type SimContainer,
  type SimNamespace,
  type SimWorkload,
} from './kubeTypes.js';

// Kubernetes label syntax: optional DNS-subdomain prefix and a name of at most 63 characters.
const labelName = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const labelPrefix = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function validateLabels(kind: string, name: string, labels: Labels): void {
  for (const [key, value] of Object.entries(labels)) {
    const [prefix, keyName] = key.includes('/') ? key.split(/\/(.*)/) : [undefined, key];
    const keyOk =
      keyName !== undefined &&
      keyName !== '' &&
      labelName.test(keyName) &&
      (prefix === undefined || labelPrefix.test(prefix));
    if (!keyOk) {
      throw invalid(
        kind,
        name,
        'metadata.labels',
        `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.'`,
      );
    }
    if (!labelName.test(value)) {
      throw invalid(
        kind,
        name,
        'metadata.labels',
        `Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
      );
    }
  }
}

function parsePatchBody(req: SimRequest): JsonValue {
  try {
    return JSON.parse(req.rawBody) as JsonValue;
  } catch (error) {
    throw new KubeError(400, 'BadRequest', `error decoding patch: ${String(error)}`);
  }
}

/** A create's or replace's body, a JSON object, or the API server's 400 naming the `kind` it expected. */
export function decodeObject(req: SimRequest, kind: string): JsonObject {
  try {
    const body = JSON.parse(req.rawBody) as unknown;
    if (isJsonObject(body)) return body;
  } catch {
    // answered below
  }
  throw new KubeError(400, 'BadRequest', `the body of the request could not be decoded as a ${kind}`);
}

/** Applies a PATCH the way the API server does, by its Content-Type. */
export function patchDocument(req: SimRequest, current: JsonObject): JsonObject {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (
    mediaType !== 'application/merge-patch+json' &&
    mediaType !== 'application/strategic-merge-patch+json' &&
    mediaType !== 'application/json-patch+json'
  ) {
    throw unsupportedMediaType;
  }
  const body = parsePatchBody(req);
  let patched: JsonValue;
  try {
    if (mediaType === 'application/json-patch+json') {
      patched = applyJsonPatch(current, body);
    } else {
      if (!isJsonObject(body)) throw new PatchError('a merge patch must be a JSON object');
      // Strategic merge treats these maps like a JSON merge patch; lists are replaced.
      patched = mergePatch(current, body);
    }
  } catch (error) {
    if (error instanceof PatchError) throw new KubeError(400, 'BadRequest', error.message);
    throw error;
  }
  if (!isJsonObject(patched)) {
    throw new KubeError(400, 'BadRequest', 'the patched object is not a JSON object');
  }
  return patched;
}

export function objectField(object: JsonObject, field: string): JsonObject {
  const value = object[field];
  return isJsonObject(value) ? value : {};
}

function decoded<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof PatchError) throw new KubeError(400, 'BadRequest', error.message);
    throw error;
  }
}

function checkIdentity(patched: JsonObject, name: string, namespace?: string): void {
  const metadata = objectField(patched, 'metadata');
  if (metadata.name !== name) {
    throw new KubeError(
      400,
      'BadRequest',
      `the name of the object (${JSON.stringify(metadata.name ?? null)}) does not match the name on the URL (${name})`,
    );
  }
  if (namespace !== undefined && metadata.namespace !== namespace) {
    throw new KubeError(
      400,
      'BadRequest',
      `the namespace of the object (${JSON.stringify(metadata.namespace ?? null)}) does not match the namespace on the URL (${namespace})`,
    );
  }
}

function decodeContainers(value: JsonValue | undefined, kind: string, name: string): SimContainer[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(kind, name, 'spec.template.spec.containers', 'Required value');
  }
  return value.map((item, i) => {
    if (
      !isJsonObject(item) ||
      typeof item.name !== 'string' ||
      typeof item.image !== 'string' ||
      item.image === ''
    ) {
      throw invalid(kind, name, `spec.template.spec.containers[${i}]`, 'name and image are required');
    }
    return { name: item.name, image: item.image };
  });
}

export function applyNamespacePatch(
  cluster: SimCluster,
  namespace: SimNamespace,
  patched: JsonObject,
  dryRun: boolean,
): void {
  checkIdentity(patched, namespace.name);
  const metadata = objectField(patched, 'metadata');
  const labels = decoded(() => stringMap(metadata.labels, 'metadata.labels'));
  const annotations = decoded(() => stringMap(metadata.annotations, 'metadata.annotations'));
  validateLabels('Namespace', namespace.name, labels);
  if (!dryRun) cluster.updateNamespace(namespace, labels, annotations);
}

export function applyWorkloadPatch(cluster: SimCluster, workload: SimWorkload, patched: JsonObject): void {
  const kind = `${workload.kind}.apps`;
  checkIdentity(patched, workload.name, workload.namespace);
  const metadata = objectField(patched, 'metadata');
  const spec = objectField(patched, 'spec');
  const template = objectField(spec, 'template');
  const templateMeta = objectField(template, 'metadata');
  const labels = decoded(() => stringMap(metadata.labels, 'metadata.labels'));
  // The controller owns this annotation; a patch cannot set it.
  const annotations = without(
    decoded(() => stringMap(metadata.annotations, 'metadata.annotations')),
    'deployment.kubernetes.io/revision',
  );
  const templateLabels = decoded(() => stringMap(templateMeta.labels, 'spec.template.metadata.labels'));
  const templateAnnotations = decoded(() =>
    stringMap(templateMeta.annotations, 'spec.template.metadata.annotations'),
  );
  validateLabels(kind, workload.name, labels);
  validateLabels(kind, workload.name, templateLabels);
  const selector = objectField(spec, 'selector');
  if (!jsonEqual(selector, { matchLabels: { ...workload.selector } })) {
    throw invalid(kind, workload.name, 'spec.selector', 'Invalid value: field is immutable');
  }
  if (!matchesLabels(templateLabels, workload.selector)) {
    throw invalid(
      kind,
      workload.name,
      'spec.template.metadata.labels',
      '`selector` does not match template `labels`',
    );
  }
  const replicas = workload.kind === 'DaemonSet' ? workload.replicas : spec.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid(
      kind,
      workload.name,
      'spec.replicas',
      `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`,
    );
  }
  const containers = decodeContainers(objectField(template, 'spec').containers, kind, workload.name);
  cluster.updateWorkload(workload, {
    labels,
    annotations,
    replicas,
    template: { labels: templateLabels, annotations: templateAnnotations, containers },
  });
}
