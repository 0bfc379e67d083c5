import { v1 as containerV1 } from '@google-cloud/container';
import { gkehub_v1 } from 'googleapis/build/src/apis/gkehub/v1.js';
import { serviceusage_v1 } from 'googleapis/build/src/apis/serviceusage/v1.js';
import { cloudresourcemanager_v3 } from 'googleapis/build/src/apis/cloudresourcemanager/v3.js';
import { staticCredentials } from '../../src/cloud/auth.js';
import { CloudCaller } from '../../src/cloud/caller.js';
import { GkeHubFleet } from '../../src/cloud/fleet.js';
import { ContainerGke } from '../../src/cloud/gke.js';
import { ClientNodeKubeFactory } from '../../src/cloud/kube.js';
import { CloudOperations } from '../../src/cloud/operations.js';
import { ResourceManagerProjects } from '../../src/cloud/projects.js';
import { ServiceUsage } from '../../src/cloud/services.js';
import type { Sim } from '../../src/sim/index.js';

/** The real adapters over the real client libraries, pointed at the emulator (as main.ts wires them). */
export function adaptersFor(sim: Sim, waits: number[] = []) {
  const credentials = staticCredentials(sim.token);
  const auth = credentials.authClient;
  const caller = new CloudCaller({ attempts: 4, baseDelayMs: 10, maxDelayMs: 3000 }, (ms) => {
    waits.push(ms);
    return new Promise((r) => setTimeout(r, Math.min(ms, 50)));
  });
  const container = new URL(sim.urls.container);
  const fleet = new GkeHubFleet(
    new gkehub_v1.Gkehub({ rootUrl: sim.urls.gkehub, auth, retry: false }),
    caller,
  );
  const containerClient = new containerV1.ClusterManagerClient({
    fallback: true,
    apiEndpoint: container.hostname,
    port: Number(container.port),
    protocol: 'http',
    ...credentials.gaxAuth,
  });
  const gke = new ContainerGke(containerClient, caller);
  const services = new ServiceUsage(
    new serviceusage_v1.Serviceusage({ rootUrl: sim.urls.serviceusage, auth, retry: false }),
    caller,
  );
  const projects = new ResourceManagerProjects(
    new cloudresourcemanager_v3.Cloudresourcemanager({
      rootUrl: sim.urls.resourcemanager,
      auth,
      retry: false,
    }),
    caller,
  );
  return {
    containerClient,
    fleet,
    gke,
    services,
    projects,
    operations: new CloudOperations(fleet, gke, services),
    kube: new ClientNodeKubeFactory(credentials.tokens, caller),
  };
}
