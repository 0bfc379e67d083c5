/**
 * Seed 000's runbook over a fleet, as one person would do it: one cluster after another, every wait
 * polled as gcloud polls (1 s, then ×1.4, in the emulated world's time), no time spent typing or
 * reading. It goes through meshops' own adapters (the same Google and Kubernetes clients), so the
 * calls and the emulated timings are the same as a meshops run's; only the order differs. Per
 * cluster: register (wait), project number, mesh_id label (wait), enable the feature once per
 * project (wait), management automatic (wait), describe until both planes are ACTIVE, credentials,
 * label the namespace, restart, wait until every pod runs istio-proxy.
 *
 *   npm run bench:runbook-fleet -- [--clusters 100] [--projects 10] [--speed 20]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import { buildCloudAdapters } from '../src/cloudAdapters.js';
import { startSim, type Sim } from '../src/sim/index.js';
import { membershipLocation } from '../src/workflows/enableCluster.js';
import type { CloudPorts as CloudAdapters, ClusterRef, OperationRef } from '../src/workflows/ports.js';
import { contractEnv } from '../test/support/harness.js';
import { fleetWorld } from './fleetWorld.js';

export interface RunbookOutcome {
  clusters: number;
  wallMs: number;
  /** Wall time of each cluster, in order. */
  perClusterMs: number[];
  googleCallsPerCluster: number;
  kubernetesCallsPerCluster: number;
}

/** gcloud's wait: poll after 1 s, then 1.4 times longer each time, in emulated seconds. */
async function pollUntil(sim: Sim, what: string, done: () => Promise<boolean>): Promise<void> {
  let delaySimMs = 1000;
  const deadline = Date.now() + 10 * 60_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`runbook: ${what} did not finish in 10 minutes`);
    await new Promise((r) => setTimeout(r, delaySimMs / sim.clock.speed));
    delaySimMs *= 1.4;
  }
}

async function awaitOperation(
  sim: Sim,
  cloud: CloudAdapters,
  what: string,
  operation: OperationRef | null,
): Promise<void> {
  if (!operation) return;
  await pollUntil(sim, what, async () => {
    const status = await cloud.operations.status(operation);
    if (status.error) throw new Error(`runbook: ${what} failed: ${status.error}`);
    return status.done;
  });
}

/** One cluster, every step of seed 000 in order. */
async function onboardOne(
  sim: Sim,
  cloud: CloudAdapters,
  cluster: ClusterRef,
  featureEnabled: Set<string>,
): Promise<void> {
  const { project, location, name } = cluster;
  const loc = membershipLocation('auto', location);
  await cloud.fleet.listMemberships(project);
  const projectNumber = await cloud.projects.projectNumber(project);
  await awaitOperation(
    sim,
    cloud,
    'register',
    await cloud.fleet.createMembership(project, loc, name, cluster, true),
  );
  await awaitOperation(
    sim,
    cloud,
    'mesh_id label',
    await cloud.gke.setResourceLabels(cluster, { mesh_id: `proj-${projectNumber}` }),
  );
  if (!featureEnabled.has(project)) {
    await awaitOperation(sim, cloud, 'mesh enable', await cloud.fleet.enableMeshFeature(project));
    featureEnabled.add(project);
  }
  const membership = await cloud.fleet.findMembership(project, cluster, projectNumber);
  if (!membership) throw new Error(`runbook: ${name} is not registered`);
  await awaitOperation(
    sim,
    cloud,
    'management automatic',
    await cloud.fleet.setMeshManagement(project, membership.name, 'MANAGEMENT_AUTOMATIC'),
  );
  await pollUntil(sim, 'both planes ACTIVE', async () => {
    const mesh = await cloud.fleet.meshState(project, membership.name, projectNumber);
    return mesh?.controlPlane?.state === 'ACTIVE' && mesh.dataPlane?.state === 'ACTIVE';
  });
  const info = await cloud.gke.getCluster(cluster);
  const kube = cloud.kube.forCluster(info);
  await kube.patchNamespaceLabels('default', { 'istio-injection': 'enabled', 'istio.io/rev': null });
  const restartedAt = new Date().toISOString();
  for (const workload of await kube.listWorkloads('default', ['Deployment'])) {
    await kube.restartWorkload(workload, restartedAt);
  }
  await pollUntil(sim, 'rollout', async () => {
    const pods = await kube.listPods('default');
    return pods.length > 0 && pods.every((pod) => pod.hasIstioProxy && pod.ready);
  });
}

/** `count` clusters of the benchmarks' fleet, one after another, on a fresh emulated world. */
export async function byRunbook(count: number, projects: number, speed: number): Promise<RunbookOutcome> {
  const { projects: projectSpecs, clusters } = fleetWorld(count, projects);
  const sim = await startSim({ speed, scenario: { projects: projectSpecs, clusters } });
  try {
    // Only the Google settings are read: no Redis is needed.
    const config = loadConfig(contractEnv(sim, { REDIS_URL: 'redis://127.0.0.1:1' }));
    const cloud = buildCloudAdapters(config.google);
    const featureEnabled = new Set<string>();
    const perClusterMs: number[] = [];
    const started = performance.now();
    for (const spec of clusters) {
      const began = performance.now();
      await onboardOne(
        sim,
        cloud,
        { project: spec.project, location: spec.location, name: spec.name },
        featureEnabled,
      );
      perClusterMs.push(performance.now() - began);
    }
    const wallMs = performance.now() - started;
    const kubernetes = sim.requests.count({ api: 'kubernetes' });
    const google = sim.requests.count() - kubernetes - sim.requests.count({ api: 'slack' });
    return {
      clusters: count,
      wallMs,
      perClusterMs,
      googleCallsPerCluster: google / count,
      kubernetesCallsPerCluster: kubernetes / count,
    };
  } finally {
    await sim.close();
  }
}

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

async function main(): Promise<void> {
  const outcome = await byRunbook(arg('clusters', 100), arg('projects', 10), arg('speed', 20));
  const sorted = [...outcome.perClusterMs].sort((a, b) => a - b);
  const s = (ms: number) => `${Math.round(ms / 10) / 100} s`;
  console.log(`${outcome.clusters} clusters one after another: ${s(outcome.wallMs)}`);
  console.log(
    `per cluster: median ${s(sorted[Math.floor(sorted.length / 2)]!)}, min ${s(sorted[0]!)}, max ${s(sorted.at(-1)!)}`,
  );
  console.log(
    `Google calls per cluster ${outcome.googleCallsPerCluster}, Kubernetes ${outcome.kubernetesCallsPerCluster}`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/runbookFleet.json',
    `${JSON.stringify({ date: new Date().toISOString(), ...outcome }, null, 2)}\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
