/**
 * Connect Gateway (connectgateway.googleapis.com): a fleet member's Kubernetes API under
 * `/v1/projects/PROJECT/locations/LOCATION/gkeMemberships/MEMBERSHIP`, the server that
 * `gcloud container fleet memberships get-credentials` writes into a kubeconfig; kubectl appends the
 * Kubernetes path (`…/gkeMemberships/c1/api/v1/namespaces`). The gateway checks the caller and the
 * membership and answers those failures as Google does; the rest goes to the member cluster's API server
 * as it would arrive at the cluster's own endpoint, in process, the way Google's side of the Connect
 * tunnel is: a private endpoint that refuses every connection is still reached through here.
 */
import type { SimCluster } from './cluster.js';
import type { FaultInjector } from './faults.js';
import { faultError, GoogleApiError, notFound, requireProject, unauthenticated } from './google.js';
import {
  bearerToken,
  holdFor,
  listen,
  type RunningServer,
  type SimRequest,
  type SimResponse,
} from './http.js';
import type { ManagedMeshView } from './injection.js';
import { kubernetesHandler } from './kubernetes.js';
import type { RequestLog } from './requestLog.js';
import type { SimWorld } from './world.js';

const SERVICE = 'connectgateway.googleapis.com';
const gatewayPath = /^\/v1(?:beta1)?\/projects\/([^/]+)\/locations\/([^/]+)\/gkeMemberships\/([^/]+)(\/.*)?$/;

export interface ConnectGatewayOptions {
  world: SimWorld;
  managedMesh(cluster: SimCluster): ManagedMeshView | undefined;
  token: string;
  faults: FaultInjector;
  host: string;
  port: number;
  requests?: RequestLog;
}

interface GatewayTarget {
  project: string;
  location: string;
  membership: string;
  /** The Kubernetes path after the gateway's prefix, '/' when there is none. */
  rest: string;
}

function targetOf(path: string): GatewayTarget | undefined {
  const match = gatewayPath.exec(path);
  if (!match) return undefined;
  const [, project = '', location = '', membership = '', rest = '/'] = match;
  return { project, location, membership, rest };
}

function membershipName(target: GatewayTarget): string {
  return `projects/${target.project}/locations/${target.location}/memberships/${target.membership}`;
}

export function startConnectGatewayServer(options: ConnectGatewayOptions): Promise<RunningServer> {
  const { world, faults, requests } = options;
  // One Kubernetes API per member cluster, made when the gateway first forwards to it.
  const apis = new WeakMap<SimCluster, (req: SimRequest) => Promise<SimResponse>>();
  const apiOf = (cluster: SimCluster) => {
    let api = apis.get(cluster);
    if (!api) {
      api = kubernetesHandler({
        cluster,
        managedMesh: (c) => options.managedMesh(c),
        token: options.token,
        faults,
      });
      apis.set(cluster, api);
    }
    return api;
  };
  const projectNumber = (ref: string) => world.project(ref)?.number;

  async function answer(req: SimRequest): Promise<SimResponse> {
    const latency = faults.takeLatency('connectgateway', req.method, req.path);
    if (latency > 0) await holdFor(latency);
    const token = bearerToken(req.headers);
    if (token === undefined) {
      return new GoogleApiError(
        403,
        'PERMISSION_DENIED',
        'The request has no access token: Connect Gateway needs a Google OAuth 2 access token (Authorization: Bearer).',
      ).toResponse();
    }
    if (token !== options.token) return unauthenticated('connectgateway', req).toResponse();
    const fault = faults.take('connectgateway', req.method, req.path);
    if (fault) return faultError('connectgateway', fault, projectNumber).toResponse();
    const target = targetOf(req.path);
    if (!target) {
      return notFound(
        `The requested URL ${req.method} ${req.path} was not found on this server (meshops sim: connectgateway).`,
      ).toResponse();
    }
    try {
      requireProject(world, target.project, SERVICE);
    } catch (error) {
      if (error instanceof GoogleApiError) return error.toResponse();
      throw error;
    }
    const cluster = world.gatewayMember(membershipName(target));
    if (!cluster) {
      return notFound(
        `membership ${membershipName(target)} not found: Connect Gateway reaches only registered fleet members`,
      ).toResponse();
    }
    return apiOf(cluster)({ ...req, path: target.rest });
  }

  return listen(answer, {
    host: options.host,
    port: options.port,
    ...(requests
      ? {
          observe: (request) => {
            const target = targetOf(request.path);
            const cluster = target ? world.gatewayMember(membershipName(target)) : undefined;
            return requests.begin('connectgateway', request, cluster?.ref);
          },
        }
      : {}),
  });
}
