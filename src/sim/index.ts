/**
 * The outside world of meshops on one machine: GKE Hub, Container, Service Usage, Resource Manager and
 * Connect Gateway (one HTTP server each), a Kubernetes API server per cluster (HTTPS, the sim's own CA) and a Slack
 * Web API recorder. Clients reach it through the real client libraries; state that changes with time
 * is computed from the simulated clock when read. Every request any of them answers is in `requests`.
 */
import { createCertificates } from './certs.js';
import { startClientProxy } from './clientProxy.js';
import { ScaledClock, type SimClock } from './clock.js';
import { containerRouter } from './container.js';
import { startConnectGatewayServer } from './connectGateway.js';
import { startControlServer } from './control.js';
import { FaultInjector, type GoogleApiName } from './faults.js';
import { gkehubRouter } from './gkehub.js';
import { startGoogleServer } from './google.js';
import type { Router, RunningServer } from './http.js';
import { startKubernetesServer } from './kubernetes.js';
import { resourceManagerRouter } from './resourcemanager.js';
import { RequestLog } from './requestLog.js';
import { namedScenario } from './scenarios.js';
import { serviceUsageRouter } from './serviceusage.js';
import { SlackRecorder, startSlackServer } from './slack.js';
import { defaultTimings, type Scenario, type ScenarioName, type SimTimings } from './types.js';
import { SimWorld } from './world.js';

export type { SimClock } from './clock.js';
export type { ChannelSwitch, MeshHealthProblem, RolloutOptions, SimCluster } from './cluster.js';
export type {
  Labels,
  PodTemplate,
  SimConfigMap,
  SimContainer,
  SimEvent,
  SimNamespace,
  SimPod,
  SimPodDisruptionBudget,
  SimPodView,
  SimWorkload,
  WorkloadKind,
} from './kubeTypes.js';
export type { FaultApi, FaultInjector, FaultRule, FaultStatus, FiredFault, LatencyRule } from './faults.js';
export type { LifecycleState, MeshCondition, MeshMembershipState, StatusDetail } from './mesh.js';
export { channelProxyVersions } from './mesh.js';
export type {
  ClusterState,
  FaultState,
  FleetState,
  MeshState,
  NamespaceState,
  PodState,
} from './fleetState.js';
export type { MeshChange, MeshChangeOffer } from './meshChanges.js';
export { RequestLog } from './requestLog.js';
export type { RequestApi, RequestEntry, RequestFilter, RequestTotal } from './requestLog.js';
export type { RolloutStatus } from './rollout.js';
export { proxyAnnotation, upgradeFailedLabel } from './rollout.js';
export { continueTokenLifetimeMs } from './kubePaging.js';
export type {
  ChannelRate,
  SlackCall,
  SlackEphemeral,
  SlackMessage,
  SlackMetadata,
  SlackRecorder,
  SlackUser,
} from './slack.js';
export type * from './types.js';
export type { MembershipSpecEntry, SimFeature, SimMembership, SimProject, SimWorld } from './world.js';

export type SimServerName = GoogleApiName | 'slack';

export interface SimOptions {
  /** Address every server listens on; default '127.0.0.1'. */
  host?: string;
  /**
   * The host name clients reach the servers by, in every URL and cluster endpoint the emulator hands
   * out (and in its serving certificate): e.g. 'sim', the emulator's service in docker-compose.
   * Default: `host`, or 127.0.0.1 when that is a wildcard address.
   */
  advertiseHost?: string;
  /** Fixed ports; 0 (default) picks a free one. `kubernetes` is the first cluster's port, the next ones follow. */
  ports?: Partial<Record<SimServerName | 'kubernetes' | 'proxy' | 'control', number>>;
  /** Bearer token required on every Google and Kubernetes call; default 'sim-token'. */
  token?: string;
  /** Bot token the Slack recorder accepts; default 'xoxb-sim'. */
  slackToken?: string;
  /** Simulated ms per real ms; default 1. */
  speed?: number;
  scenario?: ScenarioName | Scenario;
  timings?: Partial<SimTimings>;
  /** Simulated time at start (epoch ms); default now. */
  startTime?: number;
}

export interface Sim {
  /** Base URLs, e.g. 'http://127.0.0.1:41234/'; slack is e.g. 'http://127.0.0.1:41239/api/'. */
  urls: Record<SimServerName, string>;
  /**
   * The HTTPS CONNECT proxy for gcloud (`proxy/address`, `proxy/port`): it serves `*.googleapis.com` with a
   * certificate from `caPem`, e.g. 'http://127.0.0.1:41240'.
   */
  proxyUrl: string;
  /**
   * The emulator's own state and control endpoint (control.ts): GET /_sim/state, POST /_sim/speed,
   * /_sim/mesh, /_sim/faults; e.g. 'http://127.0.0.1:41241/'.
   */
  controlUrl: string;
  /** The CA behind every cluster's API server and the proxy's `*.googleapis.com` certificate. */
  caPem: string;
  token: string;
  slackToken: string;
  clock: SimClock;
  world: SimWorld;
  slack: SlackRecorder;
  faults: FaultInjector;
  /** Every request every emulated server answered. */
  requests: RequestLog;
  /** Closes every server (Google APIs, Slack, each cluster's API server); idempotent. */
  close(): Promise<void>;
}

function checkTimings(timings: SimTimings): void {
  for (const [name, value] of Object.entries(timings)) {
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new Error(`sim timing ${name} must be a number >= 0`);
    }
  }
}

export async function startSim(options: SimOptions = {}): Promise<Sim> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? 'sim-token';
  const slackToken = options.slackToken ?? 'xoxb-sim';
  const timings: SimTimings = { ...defaultTimings, ...options.timings };
  checkTimings(timings);
  const clock = new ScaledClock(options.speed ?? 1, options.startTime ?? Date.now());
  const faults = new FaultInjector();
  const requests = new RequestLog(clock);
  // Clients cannot connect to a wildcard address: cluster endpoints and URLs name loopback instead.
  const advertisedHost = options.advertiseHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const certs = createCertificates(advertisedHost);
  const ports = options.ports ?? {};
  let nextKubernetesPort = ports.kubernetes ?? 0;

  const servers: RunningServer[] = [];
  const world: SimWorld = new SimWorld({
    clock,
    timings,
    caPem: certs.caPem,
    advertisedHost,
    serveCluster: (cluster) => {
      const port = nextKubernetesPort;
      if (nextKubernetesPort !== 0) nextKubernetesPort += 1;
      return startKubernetesServer({
        cluster,
        managedMesh: (c) => world.managedMesh(c),
        token,
        faults,
        requests,
        host,
        port,
        tls: { key: certs.serverKeyPem, cert: certs.serverCertPem },
      });
    },
  });
  const slack = new SlackRecorder(clock, slackToken);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= Promise.all([...servers.map((s) => s.close()), world.close()]).then(() => undefined);
    return closed;
  };

  try {
    const scenario =
      typeof options.scenario === 'object' ? options.scenario : namedScenario(options.scenario ?? 'default');
    for (const project of scenario.projects) world.addProject(project);
    for (const cluster of scenario.clusters) await world.addCluster(cluster);

    const serveGoogle = async (api: GoogleApiName, router: Router): Promise<string> => {
      const server = await startGoogleServer({
        api,
        router,
        token,
        faults,
        requests,
        host,
        port: ports[api] ?? 0,
        projectNumber: (ref) => world.project(ref)?.number,
        projects: world,
      });
      servers.push(server);
      return `http://${advertisedHost}:${server.port}/`;
    };
    const serveConnectGateway = async (): Promise<string> => {
      const server = await startConnectGatewayServer({
        world,
        managedMesh: (c) => world.managedMesh(c),
        token,
        faults,
        requests,
        host,
        port: ports.connectgateway ?? 0,
      });
      servers.push(server);
      return `http://${advertisedHost}:${server.port}/`;
    };
    const serveSlack = async (): Promise<string> => {
      const server = await startSlackServer(slack, host, ports.slack ?? 0, requests);
      // response_urls must name an address clients can reach, as the other URLs do.
      slack.serverUrl = `http://${advertisedHost}:${server.port}/`;
      servers.push(server);
      return `http://${advertisedHost}:${server.port}/api/`;
    };
    const urls: Record<SimServerName, string> = {
      gkehub: await serveGoogle('gkehub', gkehubRouter(world)),
      container: await serveGoogle('container', containerRouter(world)),
      serviceusage: await serveGoogle('serviceusage', serviceUsageRouter(world)),
      resourcemanager: await serveGoogle('resourcemanager', resourceManagerRouter(world)),
      connectgateway: await serveConnectGateway(),
      slack: await serveSlack(),
    };
    const proxy = await startClientProxy({
      host,
      port: ports.proxy ?? 0,
      tls: { key: certs.googleKeyPem, cert: certs.googleCertPem },
      upstreams: {
        'gkehub.googleapis.com': urls.gkehub,
        'container.googleapis.com': urls.container,
        'serviceusage.googleapis.com': urls.serviceusage,
        'cloudresourcemanager.googleapis.com': urls.resourcemanager,
        'connectgateway.googleapis.com': urls.connectgateway,
      },
    });
    servers.push(proxy);
    const control = await startControlServer({ world, clock, faults }, { host, port: ports.control ?? 0 });
    servers.push(control);
    return {
      urls,
      proxyUrl: `http://${advertisedHost}:${proxy.port}`,
      controlUrl: `http://${advertisedHost}:${control.port}/`,
      caPem: certs.caPem,
      token,
      slackToken,
      clock,
      world,
      slack,
      faults,
      requests,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
