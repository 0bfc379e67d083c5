/**
 * The revision watcher at fleet scale: N watched clusters in P fleet projects on the emulator,
 * one meshops process reading them every interval. Measures, over steady-state intervals (after
 * the first, which reads everything deeply), the API calls per watched cluster per interval
 * (Google and Kubernetes, from the emulator's request log) and the Redis bytes per watched
 * cluster (used_memory of a Redis of its own, before and after; and the watch keys themselves).
 * Prints a table and writes bench/results/watchers.json.
 *
 *   npm run bench:watchers -- [--clusters 1000] [--projects 10] [--interval 20000] [--intervals 10]
 *
 * Ten intervals, so that the deep reads (every tenth read) are in the average.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { WATCH_QUEUE, WatchScheduler, type WatchJobData } from '../src/jobs/watchers.js';
import { loadConfig } from '../src/config.js';
import { queueOptions } from '../src/jobs/queueOptions.js';
import { createLogger } from '../src/log.js';
import { startMeshops } from '../src/main.js';
import { startSim, type ClusterSpec, type ProjectSpec, type Sim } from '../src/sim/index.js';
import { Keys } from '../src/store/keys.js';
import { WatchStore } from '../src/store/watches.js';
import { startRedisServer } from '../test/support/globalSetup.js';
import { contractEnv } from '../test/support/harness.js';

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const clusters = arg('clusters', 1000);
const projectCount = arg('projects', 10);
const intervalMs = arg('interval', 20_000);
const intervals = arg('intervals', 10);
const perProject = Math.ceil(clusters / projectCount);

async function hub(sim: Sim, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(new URL(path, sim.urls.gkehub), {
    method,
    headers: { Authorization: `Bearer ${sim.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

/** Every cluster registered and managed, as /mesh enable would leave it, through the GKE Hub API. */
async function onboard(sim: Sim, projects: ProjectSpec[], specs: ClusterSpec[]): Promise<void> {
  for (const project of projects) {
    const mine = specs.filter((c) => c.project === project.id);
    await Promise.all(
      mine.map((c) =>
        hub(
          sim,
          'POST',
          `v1/projects/${c.project}/locations/us-central1/memberships?membershipId=${c.name}`,
          {
            endpoint: {
              gkeCluster: {
                resourceLink: `//container.googleapis.com/projects/${c.project}/locations/${c.location}/clusters/${c.name}`,
              },
            },
          },
        ),
      ),
    );
    sim.clock.advance(sim.world.timings.membershipCreate);
    await hub(sim, 'POST', `v1/projects/${project.id}/locations/global/features?featureId=servicemesh`, {});
    const membershipSpecs = Object.fromEntries(
      mine.map((c) => [
        `projects/${c.project}/locations/us-central1/memberships/${c.name}`,
        { mesh: { management: 'MANAGEMENT_AUTOMATIC' } },
      ]),
    );
    await hub(
      sim,
      'PATCH',
      `v1/projects/${project.id}/locations/global/features/servicemesh?updateMask=membershipSpecs`,
      {
        membershipSpecs,
      },
    );
  }
  sim.clock.advance(sim.world.timings.dataPlaneProvisioningAfter + 1000);
}

async function main(): Promise<void> {
  const redisServer = await startRedisServer();
  const projects: ProjectSpec[] = Array.from({ length: projectCount }, (_, p) => ({
    id: `fleet-${String(p).padStart(2, '0')}`,
    number: String(200000000000 + p),
  }));
  const specs: ClusterSpec[] = projects
    .flatMap((p) =>
      Array.from({ length: perProject }, (_, i) => ({
        project: p.id,
        location: 'us-central1',
        name: `c${i}`,
        namespaces: [
          {
            name: 'default',
            labels: { 'istio-injection': 'enabled' },
            deployments: [{ name: 'web', replicas: 2 }],
          },
          { name: 'kube-system' },
          { name: 'istio-system' },
        ],
      })),
    )
    .slice(0, clusters);
  const started = performance.now();
  const sim = await startSim({ scenario: { projects, clusters: specs } });
  await onboard(sim, projects, specs);
  const setupMs = performance.now() - started;
  console.error(`emulator up with ${clusters} onboarded clusters in ${Math.round(setupMs)} ms`);

  const redis = new Redis(redisServer.url);
  const prefix = 'bench';
  const env = contractEnv(sim, { REDIS_URL: redisServer.url });
  delete (env as Record<string, string | undefined>).MESHOPS_POLL_INTERVAL_MS;
  const config = loadConfig(env, {
    redis: { prefix },
    watch: { intervalMs, deepEvery: 10, sampleLimit: 500, afterEnable: true, concurrency: 50 },
  });
  const app = await startMeshops(config, { log: createLogger('warn') });
  const memory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
  const before = await memory();

  // What /mesh watch does, for every cluster.
  const keys = new Keys(prefix);
  const watches = new WatchStore(redis, keys);
  const queue = new Queue<WatchJobData>(WATCH_QUEUE, queueOptions(redis, prefix));
  const scheduler = new WatchScheduler(queue, intervalMs);
  for (const c of specs) {
    const cluster = `${c.project}/${c.location}/${c.name}`;
    await watches.add(cluster, { channel: 'CBENCH', by: 'UBENCH', since: Date.now() });
    await scheduler.start(cluster);
  }

  const reads = async () => (await watches.list(clusters + 10)).reduce((sum, w) => sum + w.memory!.reads, 0);
  const readOnce = async () => (await watches.list(clusters + 10)).filter((w) => w.memory !== null).length;
  const until = Date.now() + intervalMs * 3;
  for (let read = await readOnce(); read < clusters; read = await readOnce()) {
    if (Date.now() > until)
      throw new Error(`only ${read} of ${clusters} clusters were read within three intervals`);
    console.error(`${read} of ${clusters} clusters read once`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  // Steady state from here: count calls and reads over whole intervals.
  const google = () =>
    sim.requests.count({ api: 'gkehub' }) +
    sim.requests.count({ api: 'container' }) +
    sim.requests.count({ api: 'resourcemanager' });
  const kube = () => sim.requests.count({ api: 'kubernetes' });
  const [g0, k0, r0, t0] = [google(), kube(), await reads(), performance.now()];
  await new Promise((r) => setTimeout(r, intervalMs * intervals));
  const [g1, k1, r1, t1] = [google(), kube(), await reads(), performance.now()];
  const elapsedIntervals = (t1 - t0) / intervalMs;
  const after = await memory();

  let watchBytes = 0;
  for (const c of specs)
    watchBytes += Number(await redis.memory('USAGE', keys.watch(`${c.project}/${c.location}/${c.name}`)));
  const messages = sim.slack.messages('CBENCH').length;
  // Where the bytes are: every key, grouped by its name with the cluster and ids taken out.
  const groups = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const group = key
        .replace(/fleet-\d+\/us-central1\/c\d+/g, '*')
        .replace(/:\d+$/g, ':N')
        .replace(/repeat:[0-9a-f]+:\d+/g, 'repeat:*');
      const entry = groups.get(group) ?? { keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += Number(await redis.memory('USAGE', key));
      groups.set(group, entry);
    }
  } while (cursor !== '0');
  const breakdown = [...groups].sort(([, a], [, b]) => b.bytes - a.bytes).slice(0, 12);

  const perClusterPerInterval = (n: number) => n / clusters / elapsedIntervals;
  const result = {
    date: new Date().toISOString(),
    machine: `${process.platform} ${process.arch}, node ${process.version}`,
    clusters,
    projects: projectCount,
    intervalMs,
    measuredIntervals: Math.round(elapsedIntervals * 100) / 100,
    setupSeconds: Math.round(setupMs / 100) / 10,
    readsPerClusterPerInterval: Math.round(perClusterPerInterval(r1 - r0) * 100) / 100,
    googleCallsPerClusterPerInterval: Math.round(perClusterPerInterval(g1 - g0) * 1000) / 1000,
    kubernetesCallsPerClusterPerInterval: Math.round(perClusterPerInterval(k1 - k0) * 100) / 100,
    callsPerClusterPerInterval: Math.round(perClusterPerInterval(g1 - g0 + k1 - k0) * 100) / 100,
    redisBytesPerCluster: Math.round((after - before) / clusters),
    watchKeyBytesPerCluster: Math.round(watchBytes / clusters),
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
    messagesPosted: messages,
    redisKeys: Object.fromEntries(breakdown),
  };
  const rows: Array<[string, string, string]> = [
    ['watched clusters (projects)', `${clusters} (${projectCount})`, ''],
    ['interval / intervals measured', `${intervalMs} ms / ${result.measuredIntervals}`, ''],
    ['reads per cluster per interval', String(result.readsPerClusterPerInterval), '≈ 1'],
    ['API calls per cluster per interval', String(result.callsPerClusterPerInterval), '≤ 3'],
    ['  of which Google', String(result.googleCallsPerClusterPerInterval), ''],
    ['  of which Kubernetes', String(result.kubernetesCallsPerClusterPerInterval), ''],
    ['Redis bytes per watched cluster (used_memory)', String(result.redisBytesPerCluster), '≤ 2048'],
    ['  of which the watch record', String(result.watchKeyBytesPerCluster), ''],
    ['messages posted (no change: expect 0)', String(messages), '0'],
    ['RSS of bench + emulator + meshops (MB)', String(result.rssMb), ''],
  ];
  console.log(`\n${'what'.padEnd(48)} ${'measured'.padEnd(22)} target`);
  for (const [what, value, target] of rows) console.log(`${what.padEnd(48)} ${value.padEnd(22)} ${target}`);
  console.log('\nRedis keys by kind (bytes, keys):');
  for (const [group, { keys: n, bytes }] of breakdown)
    console.log(`  ${group.padEnd(60)} ${String(bytes).padStart(10)} ${n}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/watchers.json', `${JSON.stringify(result, null, 2)}\n`);

  await queue.close();
  await redis.quit();
  await app.stop();
  await sim.close();
  await redisServer.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
