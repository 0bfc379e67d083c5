/**
 * Every Google and Kubernetes client, each wrapped in its adapter: the composition root's part that
 * only workers need. src/main.ts imports this module where workers start, so a process or thread that
 * only answers Slack never loads the Google and Kubernetes SDKs (about 100 MB of each thread's memory).
 */
import { v1 as containerV1 } from '@google-cloud/container';
import { gkehub_v1 } from 'googleapis/build/src/apis/gkehub/v1.js';
import { serviceusage_v1 } from 'googleapis/build/src/apis/serviceusage/v1.js';
import { cloudresourcemanager_v3 } from 'googleapis/build/src/apis/cloudresourcemanager/v3.js';
import { applicationDefaultCredentials, staticCredentials } from './cloud/auth.js';
import { CloudCaller } from './cloud/caller.js';
import type { Sleep } from './cloud/retry.js';
import { GkeHubFleet } from './cloud/fleet.js';
import { ContainerGke } from './cloud/gke.js';
import { ClientNodeKubeFactory } from './cloud/kube.js';
import { CloudOperations } from './cloud/operations.js';
import { ResourceManagerProjects } from './cloud/projects.js';
import { ServiceUsage } from './cloud/services.js';
import type { Config } from './config.js';
import type { CloudPorts } from './workflows/ports.js';

/** @google-cloud/container takes host, port and protocol apart rather than a URL. */
function containerEndpoint(url: string): { apiEndpoint: string; port: number; protocol: string } {
  const parsed = new URL(url);
  const protocol = parsed.protocol.replace(':', '');
  return {
    apiEndpoint: parsed.hostname,
    port: Number(parsed.port || (protocol === 'http' ? 80 : 443)),
    protocol,
  };
}

/** Every Google and Kubernetes client, each wrapped in its adapter. `wait` lets tests see the backoff. */
export function buildCloudAdapters(
  google: Config['google'],
  wait?: Sleep,
  /** How old a feature read may be and still answer a run's poll: the shortest poll delay. */
  sharedReadMs = 0,
): CloudPorts {
  const credentials = google.accessToken
    ? staticCredentials(google.accessToken)
    : applicationDefaultCredentials();
  const caller = new CloudCaller(google.retry, wait);
  // retry: false — CloudCaller owns retries, so they are not multiplied by the client's own.
  const auth = credentials.authClient;
  const fleet = new GkeHubFleet(
    new gkehub_v1.Gkehub({ rootUrl: google.gkehubUrl, auth, retry: false }),
    caller,
    sharedReadMs,
  );
  const services = new ServiceUsage(
    new serviceusage_v1.Serviceusage({ rootUrl: google.serviceusageUrl, auth, retry: false }),
    caller,
  );
  const projects = new ResourceManagerProjects(
    new cloudresourcemanager_v3.Cloudresourcemanager({
      rootUrl: google.resourcemanagerUrl,
      auth,
      retry: false,
    }),
    caller,
  );
  const gke = new ContainerGke(
    new containerV1.ClusterManagerClient({
      fallback: true,
      ...containerEndpoint(google.containerUrl),
      ...credentials.gaxAuth,
    }),
    caller,
  );
  return {
    gke,
    projects,
    services,
    fleet,
    operations: new CloudOperations(fleet, gke, services),
    kube: new ClientNodeKubeFactory(credentials.tokens, caller, undefined, google.connectgatewayUrl),
  };
}
