import { request as httpsRequest } from 'node:https';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { OAuth2Client } from 'google-auth-library';
import type { Sim } from '../../src/sim/index.js';

export type Json = Record<string, unknown>;

export interface WireResponse {
  status: number;
  headers: Headers;
  body: Json;
}

/** A raw call to one of the sim's Google APIs, as curl would make it. */
export async function call(
  sim: Sim,
  api: 'gkehub' | 'container' | 'serviceusage' | 'resourcemanager',
  method: string,
  path: string,
  body?: unknown,
  token: string | null = sim.token,
): Promise<WireResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(new URL(path, sim.urls[api]), {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

export function staticAuth(sim: Sim): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: sim.token });
  return auth;
}

export function resourceLink(ref: string): string {
  const [project, location, name] = ref.split('/');
  return `//container.googleapis.com/projects/${project}/locations/${location}/clusters/${name}`;
}

/** Registers a cluster, waits out the operation, and turns managed mesh on for it, all over HTTP. */
export async function registerAndManage(sim: Sim, ref: string, membershipId: string): Promise<string> {
  const [project] = ref.split('/');
  const created = await call(
    sim,
    'gkehub',
    'POST',
    `v1/projects/${project}/locations/global/memberships?membershipId=${membershipId}`,
    {
      endpoint: { gkeCluster: { resourceLink: resourceLink(ref) } },
    },
  );
  if (created.status !== 200) throw new Error(`register ${ref}: ${JSON.stringify(created.body)}`);
  sim.clock.advance(sim.world.timings.membershipCreate);
  const feature = await call(
    sim,
    'gkehub',
    'POST',
    `v1/projects/${project}/locations/global/features?featureId=servicemesh`,
    {},
  );
  if (feature.status !== 200 && feature.status !== 409)
    throw new Error(`feature: ${JSON.stringify(feature.body)}`);
  const key = `projects/${project}/locations/global/memberships/${membershipId}`;
  const patched = await call(
    sim,
    'gkehub',
    'PATCH',
    `v1/projects/${project}/locations/global/features/servicemesh?updateMask=membershipSpecs`,
    { membershipSpecs: { [key]: { mesh: { management: 'MANAGEMENT_AUTOMATIC' } } } },
  );
  if (patched.status !== 200) throw new Error(`manage: ${JSON.stringify(patched.body)}`);
  return key;
}

export interface KubeApis {
  core: CoreV1Api;
  apps: AppsV1Api;
  custom: CustomObjectsApi;
}

/** Clients built the way `gcloud container clusters get-credentials` would: endpoint, CA, bearer token. */
export function kubeApis(sim: Sim, ref: string, token = sim.token): KubeApis {
  const cluster = sim.world.cluster(ref);
  if (!cluster) throw new Error(`no cluster ${ref}`);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `https://${cluster.endpoint}`,
        caData: Buffer.from(cluster.caPem).toString('base64'),
      },
    ],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
  };
}

/** The HTTP status of a failed @kubernetes/client-node call. */
export async function kubeErrorCode(promise: Promise<unknown>): Promise<{ code: number; body: Json }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: number; body?: unknown };
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as Json) : ((e.body ?? {}) as Json);
    return { code: e.code ?? 0, body };
  }
  throw new Error('expected the call to fail');
}

/** A raw HTTPS call to a cluster's API server that trusts only the sim's CA, for what typed clients hide. */
export function kubeRequest(
  sim: Sim,
  ref: string,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string>; token?: string | null } = {},
): Promise<{ status: number; body: Json }> {
  const cluster = sim.world.cluster(ref);
  if (!cluster) throw new Error(`no cluster ${ref}`);
  const [host, port] = cluster.endpoint.split(':');
  const token = options.token === undefined ? sim.token : options.token;
  const headers: Record<string, string> = {
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host, port: Number(port), method, path, headers, ca: cluster.caPem },
      (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as Json }));
      },
    );
    req.on('error', reject);
    req.end(options.body ?? '');
  });
}

/** What `kubectl rollout restart` sends: a new template annotation, so every pod is replaced. */
export async function restartDeployment(apis: KubeApis, namespace: string, name: string): Promise<void> {
  await apis.apps.patchNamespacedDeployment(
    {
      name,
      namespace,
      body: {
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
          },
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

/**
 * Managed mesh on for a cluster with its data plane ACTIVE, then `namespaces` labelled for injection and
 * their deployments restarted, all over HTTP: on return every pod there runs the managed proxy and is ready.
 */
export async function meshWithSidecars(
  sim: Sim,
  ref: string,
  membershipId: string,
  namespaces: string[],
): Promise<KubeApis> {
  await registerAndManage(sim, ref, membershipId);
  sim.clock.advance(sim.world.timings.dataPlaneProvisioningAfter);
  const apis = kubeApis(sim, ref);
  for (const namespace of namespaces) {
    await apis.core.patchNamespace(
      { name: namespace, body: { metadata: { labels: { 'istio-injection': 'enabled' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const deployments = await apis.apps.listNamespacedDeployment({ namespace });
    for (const deployment of deployments.items) {
      await restartDeployment(apis, namespace, deployment.metadata?.name ?? '');
    }
  }
  sim.clock.advance(sim.world.timings.podReadyAfter);
  return apis;
}

/** The istio-proxy image tag of a pod (sidecar container or native sidecar), or undefined. */
export function proxyTag(pod: V1Pod): string | undefined {
  const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
    (c) => c.name === 'istio-proxy',
  );
  return proxy?.image?.split(':')[1];
}
