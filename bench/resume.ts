/**
 * Resume after a crash: how long a run whose job was active (its lock held) when its only worker
 * was SIGKILLed waits before a new process carries it on. Side by side, in one run: BullMQ's
 * defaults, meshops' earlier settings and config/default.yaml's. The kill lands while the run's
 * poll of the feature is held in flight by the emulator, so only BullMQ's stalled check (lock
 * expired, then the next check) can hand the job on; the new process starts right after the kill.
 * Prints a table and writes bench/results/resume.json.
 *
 *   npm run bench:resume -- [--trials 3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { startSim } from '../src/sim/index.js';
import { processEnv, startMeshopsProcess } from '../test/support/child.js';
import { slash, threadOf } from '../test/support/flows.js';
import { startRedisServer } from '../test/support/globalSetup.js';
import { waitFor } from '../test/support/wait.js';

const HOUR = 3_600_000;

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

interface Setting {
  name: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

interface Trial {
  /** SIGKILL → the run's next request (its poll again, from the new process). */
  resumeMs: number;
  /** SIGKILL → the new process listening. */
  startMs: number;
}

async function trial(setting: Setting, redisUrl: string, prefix: string): Promise<Trial> {
  const sim = await startSim({
    speed: 100,
    scenario: 'default',
    timings: { controlPlaneActiveAfter: HOUR, dataPlaneProvisioningAfter: HOUR + 30_000 },
  });
  const env = processEnv(sim, {
    prefix,
    redisUrl,
    worker: { lockDurationMs: setting.lockDurationMs, stalledIntervalMs: setting.stalledIntervalMs },
  });
  const first = await startMeshopsProcess(env);
  let second: Awaited<ReturnType<typeof startMeshopsProcess>> | undefined;
  try {
    await slash(first.url, 'enable cluster proj-a/us-central1/c1 namespaces=default');
    await waitFor(
      'the control plane provisioning',
      () => threadOf(sim).find((m) => m.text.includes('Control plane: *PROVISIONING*')),
      30_000,
    );
    // Hold the next poll in flight: the job is active, locked by the worker about to die.
    sim.faults.slow({
      api: 'gkehub',
      latencyMs: 120_000,
      method: 'GET',
      pathIncludes: 'features/servicemesh',
    });
    await waitFor('a poll in flight', () => sim.faults.slowed.length === 1, 10_000);
    let resumedAt = 0;
    const stop = sim.requests.onArrival((arrival) => {
      if (!resumedAt && arrival.method === 'GET' && arrival.path.endsWith('features/servicemesh')) {
        resumedAt = Date.now();
      }
    });
    const killedAt = Date.now();
    await first.kill('SIGKILL');
    second = await startMeshopsProcess(env);
    const startMs = Date.now() - killedAt;
    await waitFor('the run to resume', () => resumedAt > 0, 180_000, 20);
    stop();
    return { resumeMs: resumedAt - killedAt, startMs };
  } finally {
    await first.kill('SIGKILL');
    await second?.kill('SIGTERM');
    await sim.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const trials = arg('trials', 3);
  const defaults = loadConfig({}).worker;
  const settings: Setting[] = [
    { name: "BullMQ's defaults", lockDurationMs: 30_000, stalledIntervalMs: 30_000 },
    { name: 'meshops before (30 s / 15 s)', lockDurationMs: 30_000, stalledIntervalMs: 15_000 },
    {
      name: 'config/default.yaml',
      lockDurationMs: defaults.lockDurationMs,
      stalledIntervalMs: defaults.stalledIntervalMs,
    },
  ];
  const redis = await startRedisServer();
  const rows: Array<Setting & { trials: Trial[] }> = [];
  try {
    let n = 0;
    for (const setting of settings) {
      const results: Trial[] = [];
      for (let i = 0; i < trials; i++) results.push(await trial(setting, redis.url, `bench-resume-${n++}`));
      rows.push({ ...setting, trials: results });
    }
  } finally {
    await redis.stop();
  }
  console.log('\nResume after SIGKILL of the only worker, its job active (new process started at once)\n');
  console.log(
    '| setting | lock / stalled check | trials | resume median | resume max | process start median |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) {
    const resumes = row.trials.map((t) => t.resumeMs);
    console.log(
      `| ${row.name} | ${row.lockDurationMs / 1000} s / ${row.stalledIntervalMs / 1000} s | ${row.trials.length} | ${(median(resumes) / 1000).toFixed(1)} s | ${(Math.max(...resumes) / 1000).toFixed(1)} s | ${(median(row.trials.map((t) => t.startMs)) / 1000).toFixed(1)} s |`,
    );
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/resume.json',
    `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`,
  );
  console.log('\nwrote bench/results/resume.json');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
