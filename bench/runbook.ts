/**
 * Seed 000's runbook two ways, each on a fresh emulated world with the same timings: a person with the real
 * gcloud and kubectl (commands back to back, `mesh describe` re-run every 5 simulated seconds until both
 * planes are ACTIVE, then label, restart, rollout status, check the pods), and meshops' `/mesh enable cluster
 * … namespaces=default` approved the moment it asks, polling with its production backoff. Times are
 * simulated seconds (what the same provisioning timings would take on GKE) and wall seconds.
 * Needs gcloud, kubectl and gke-gcloud-auth-plugin. Prints a table and writes bench/results/runbook.json.
 *
 *   npm run bench:runbook -- [--speed 1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startMeshops } from '../src/main.js';
import { startSim, type Sim } from '../src/sim/index.js';
import { awaitPlanesActive, clientsFor, runbook } from '../test/clients/seed000.js';
import { click, slash, threadOf, waitForPrompt } from '../test/support/flows.js';
import { startRedisServer } from '../test/support/globalSetup.js';
import { contractEnv } from '../test/support/harness.js';
import { waitFor } from '../test/support/wait.js';

const CLUSTER = 'proj-a/us-central1/c1';
const TEN_MINUTES = 600_000;

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

interface Row {
  who: string;
  /** Simulated seconds from the first command until both planes were seen ACTIVE. */
  meshActiveSimS: number;
  /** …until every pod of `default` was seen running istio-proxy. */
  doneSimS: number;
  doneWallS: number;
  googleCalls: number;
  kubernetesCalls: number;
  /** Commands typed (person) or Slack interactions (meshops: the command and the click). */
  actions: number;
}

/** A stopwatch on both clocks, started now. */
function stopwatch(sim: Sim): () => { simS: number; wallS: number } {
  const sim0 = sim.clock.now();
  const wall0 = Date.now();
  return () => ({ simS: (sim.clock.now() - sim0) / 1000, wallS: (Date.now() - wall0) / 1000 });
}

function calls(sim: Sim): { googleCalls: number; kubernetesCalls: number } {
  const kubernetesCalls = sim.requests.count({ api: 'kubernetes' });
  const slackCalls = sim.requests.count({ api: 'slack' });
  return { googleCalls: sim.requests.count() - kubernetesCalls - slackCalls, kubernetesCalls };
}

async function byHand(speed: number): Promise<Row> {
  const sim = await startSim({ speed });
  const clients = await clientsFor(sim);
  try {
    const elapsed = stopwatch(sim);
    for (const step of [
      runbook.listMemberships,
      runbook.register,
      runbook.projectNumber,
      runbook.meshIdLabel,
      runbook.enableMesh,
      runbook.manage,
    ]) {
      await clients.sh.run(step);
    }
    const planes = await awaitPlanesActive(clients.sh, 5000 / speed, TEN_MINUTES);
    if (!planes.dataPlane.at(-1)?.startsWith('ACTIVE')) throw new Error('the data plane never became ACTIVE');
    const meshActive = elapsed();
    for (const step of [runbook.credentials, runbook.label, runbook.restart, runbook.rolloutStatus]) {
      await clients.sh.run(step);
    }
    const rows = (await clients.sh.run(runbook.podContainers)).stdout.trim().split('\n');
    if (!rows.every((row) => row.includes('istio-proxy')))
      throw new Error(`pods without istio-proxy: ${rows.join(', ')}`);
    const done = elapsed();
    return {
      who: 'a person: gcloud + kubectl, describe every 5 s',
      meshActiveSimS: meshActive.simS,
      doneSimS: done.simS,
      doneWallS: done.wallS,
      ...calls(sim),
      actions: clients.sh.steps.length,
    };
  } finally {
    await clients.remove();
    await sim.close();
  }
}

async function byMeshops(speed: number, redisUrl: string): Promise<Row> {
  const sim = await startSim({ speed });
  const env = contractEnv(sim, { REDIS_URL: redisUrl });
  // Its production pace: backoff from 2 s ×1.5 up to 60 s, not the tests' fixed 100 ms.
  delete env.MESHOPS_POLL_INTERVAL_MS;
  const config = loadConfig(env, { redis: { prefix: `meshops-bench-runbook-${Date.now()}` } });
  const app = await startMeshops(config, { log: createLogger('error') });
  try {
    const elapsed = stopwatch(sim);
    const queued = await slash(app.url, `enable cluster ${CLUSTER} namespaces=default`);
    if (!queued.text.includes('Queued run')) throw new Error(`enable was not queued: ${queued.text}`);
    // The approval prompt comes once the data plane is ACTIVE and the plan is made.
    const prompt = await waitForPrompt(sim, CLUSTER, TEN_MINUTES);
    const meshActive = elapsed();
    if ((await click(app.url, 'UAPPROVER', prompt)) !== 200) throw new Error('the approval click failed');
    await waitFor(
      'the run to finish',
      () => threadOf(sim, CLUSTER).find((m) => m.text.startsWith(':tada: Done.')),
      TEN_MINUTES,
      100,
    );
    const done = elapsed();
    return {
      who: 'meshops: /mesh enable cluster, approved at once',
      meshActiveSimS: meshActive.simS,
      doneSimS: done.simS,
      doneWallS: done.wallS,
      ...calls(sim),
      actions: 2,
    };
  } finally {
    await app.stop();
    await sim.close();
  }
}

async function main(): Promise<void> {
  const speed = arg('speed', 1);
  const redis = process.env.REDIS_URL ? undefined : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? redis?.url ?? '';
  try {
    const rows = [await byHand(speed), await byMeshops(speed, redisUrl)];
    console.table(
      rows.map((r) => ({
        who: r.who,
        'mesh ACTIVE (sim s)': r.meshActiveSimS.toFixed(1),
        'pods injected (sim s)': r.doneSimS.toFixed(1),
        'wall s': r.doneWallS.toFixed(1),
        'Google calls': r.googleCalls,
        'Kubernetes calls': r.kubernetesCalls,
        actions: r.actions,
      })),
    );
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/runbook.json', `${JSON.stringify({ speed, rows }, null, 2)}\n`);
  } finally {
    await redis?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
