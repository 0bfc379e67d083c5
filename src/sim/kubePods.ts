/** Pod create and delete, what `kubectl run` and `kubectl delete pod` send. */
import type { SimCluster } from './cluster.js';
import type { SimRequest, SimResponse } from './http.js';
import { isJsonObject, stringMap, PatchError, type JsonValue } from './json.js';
import { invalid, KubeError, notFound } from './kubeErrors.js';
import { podObject } from './kubeObjects.js';
import { decodeObject } from './kubePatch.js';
import type { SimContainer, SimPodView } from './kubeTypes.js';
import { kubeSuffix } from './ids.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function containers(name: string, value: JsonValue | undefined, field: string): SimContainer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('Pod', name, field, 'Invalid value: must be a list');
  return value.map((item, i) => {
    const container = isJsonObject(item) ? item : {};
    const { name: containerName, image, restartPolicy } = container;
    if (typeof containerName !== 'string' || !dnsLabel.test(containerName)) {
      throw invalid('Pod', name, `${field}[${i}].name`, 'Required value: a DNS-1123 label');
    }
    if (typeof image !== 'string' || image === '') {
      throw invalid('Pod', name, `${field}[${i}].image`, 'Required value');
    }
    return { name: containerName, image, ...(restartPolicy === 'Always' ? { restartPolicy } : {}) };
  });
}

export function createPod(cluster: SimCluster, namespace: string, req: SimRequest): SimResponse {
  if (!cluster.namespace(namespace)) throw notFound('namespaces', namespace);
  const body = decodeObject(req, 'Pod');
  const metadata = isJsonObject(body.metadata) ? body.metadata : {};
  const spec = isJsonObject(body.spec) ? body.spec : {};
  const generated =
    typeof metadata.generateName === 'string' ? `${metadata.generateName}${kubeSuffix()}` : undefined;
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : generated;
  if (name === undefined || !dnsLabel.test(name)) {
    throw invalid('Pod', name ?? '', 'metadata.name', 'Required value: name or generateName is required');
  }
  if (cluster.pods.some((pod) => pod.namespace === namespace && pod.name === name)) {
    throw new KubeError(409, 'AlreadyExists', `pods "${name}" already exists`, { name, kind: 'pods' });
  }
  const main = containers(name, spec.containers, 'spec.containers');
  if (main.length === 0) throw invalid('Pod', name, 'spec.containers', 'Required value');
  let labels: Record<string, string>;
  let annotations: Record<string, string>;
  try {
    labels = stringMap(metadata.labels, 'metadata.labels');
    annotations = stringMap(metadata.annotations, 'metadata.annotations');
  } catch (error) {
    if (error instanceof PatchError) throw invalid('Pod', name, 'metadata', error.message);
    throw error;
  }
  const pod = cluster.addPod(namespace, {
    name,
    labels,
    annotations,
    containers: main,
    initContainers: containers(name, spec.initContainers, 'spec.initContainers'),
  });
  const view: SimPodView = { ...pod, phase: 'Pending', ready: false };
  return { status: 201, body: podObject(view) };
}

export function deletePod(cluster: SimCluster, namespace: string, name: string): SimResponse {
  const pod = cluster.pods.find((p) => p.namespace === namespace && p.name === name);
  if (!pod || !cluster.deletePod(namespace, name)) throw notFound('pods', name);
  return { status: 200, body: podObject(pod) };
}
