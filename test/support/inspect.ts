/**
 * Reads the emulated world back over its own HTTP APIs, the way an operator with gcloud and kubectl
 * would: what the tests assert is what Google and Kubernetes would answer.
 */
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Sim } from '../../src/sim/index.js';

export async function googleGet<T>(sim: Sim, base: keyof Sim['urls'], path: string): Promise<T> {
  const res = await fetch(new URL(path, sim.urls[base]), {
    headers: { Authorization: `Bearer ${sim.token}` },
  });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface ClusterJson {
  endpoint: string;
  masterAuth: { clusterCaCertificate: string };
  resourceLabels?: Record<string, string>;
}

export interface MembershipJson {
  name: string;
  endpoint?: { gkeCluster?: { resourceLink?: string; clusterMissing?: boolean } };
  authority?: { issuer?: string };
}

export interface FeatureJson {
  membershipSpecs?: Record<string, { mesh?: { management?: string } }>;
  membershipStates?: Record<string, unknown>;
}

export function getCluster(sim: Sim, ref: string): Promise<ClusterJson> {
  const [project, location, name] = ref.split('/');
  return googleGet(sim, 'container', `v1/projects/${project}/locations/${location}/clusters/${name}`);
}

export async function listMemberships(sim: Sim, project: string): Promise<MembershipJson[]> {
  const page = await googleGet<{ resources?: MembershipJson[] }>(
    sim,
    'gkehub',
    `v1/projects/${project}/locations/-/memberships`,
  );
  return page.resources ?? [];
}

export function getMeshFeature(sim: Sim, project: string): Promise<FeatureJson> {
  return googleGet(sim, 'gkehub', `v1/projects/${project}/locations/global/features/servicemesh`);
}

export async function kubeFor(sim: Sim, ref: string): Promise<{ core: CoreV1Api; apps: AppsV1Api }> {
  const cluster = await getCluster(sim, ref);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      { name: 'c', server: `https://${cluster.endpoint}`, caData: cluster.masterAuth.clusterCaCertificate },
    ],
    users: [{ name: 'u', token: sim.token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { core: config.makeApiClient(CoreV1Api), apps: config.makeApiClient(AppsV1Api) };
}

/** A namespace's labels as the cluster's API server reports them. */
export async function namespaceLabels(
  sim: Sim,
  ref: string,
  namespace: string,
): Promise<Record<string, string>> {
  const { core } = await kubeFor(sim, ref);
  return (await core.readNamespace({ name: namespace })).metadata?.labels ?? {};
}
