/**
 * How fast `/mesh` is acknowledged (Slack allows 3 s; we aim for the framework's floor): bursts of
 * 200 concurrent signed slash commands, a mix of `help`, `status REF` and `enable cluster REF`, sent
 * to meshops and, side by side in the same run, to a bare Bolt app that acks at once (its floor on
 * this machine, bench/bareBolt.ts). Both are child processes; the emulator and this driver run here.
 * Three conditions: meshops idle; while 1,000 runs it admitted a moment ago are in flight (the
 * workers at their busiest, in the same process with MESHOPS_ROLE=all); and the 1,000 admissions
 * themselves, sent 20 at a time as from 20 channels. In every condition the bursts to meshops and to
 * the bare app alternate, so both see the same machine load. Prints a table and writes
 * bench/results/ackLatency.json.
 *
 *   npm run bench:ack -- [--rounds 3] [--inflight 1000] [--burst 200] [--roles all|split]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { startSim } from '../src/sim/index.js';
import { Keys } from '../src/store/keys.js';
import { startMeshopsProcess, writeConfigFile, type MeshopsProcess } from '../test/support/child.js';
import { startRedisServer } from '../test/support/globalSetup.js';
import { fleetWorld, refOf } from './fleetWorld.js';
import { contractEnv, fastOutbox, REQUESTER, SIGNING_SECRET } from '../test/support/harness.js';
import { postSigned, slashCommandBody } from '../test/support/slackRequests.js';

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const rounds = Number(arg('rounds', '3'));
const inFlight = Number(arg('inflight', '1000'));
const burst = Number(arg('burst', '200'));
/** `split`: the bursts go to a MESHOPS_ROLE=web process and the runs to a MESHOPS_ROLE=worker one. */
const roles = arg('roles', 'all') as 'all' | 'split';
const PROJECTS = 10;

interface Sample {
  ms: number;
  ok: boolean;
}

interface Row {
  condition: string;
  target: string;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failed: number;
}

/** What the first request that was not answered got instead: printed at the end. */
let firstFailure: string | undefined;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function summarize(condition: string, target: string, samples: Sample[]): Row {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    condition,
    target,
    requests: samples.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    failed: samples.filter((s) => !s.ok).length,
  };
}

/** Sends `texts` as signed slash commands, `concurrency` at a time; each answer's latency and whether it was an answer. */
async function send(
  url: string,
  texts: string[],
  concurrency: number,
  channel = 'C0BENCH',
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, texts.length) }, async () => {
      for (let i = next++; i < texts.length; i = next++) {
        const body = slashCommandBody(texts[i]!, REQUESTER, `${channel}${i % 20}`);
        const t0 = performance.now();
        let ok = false;
        try {
          const res = await postSigned(url, body, { secret: SIGNING_SECRET });
          const answer = (await res.json()) as { text?: string };
          ok = res.ok && typeof answer.text === 'string' && !answer.text.startsWith(':x:');
          if (!ok) firstFailure ??= `${res.status} ${answer.text ?? ''}`;
        } catch (error) {
          firstFailure ??= String(error);
        }
        samples.push({ ms: performance.now() - t0, ok });
      }
    }),
  );
  return samples;
}

async function main(): Promise<void> {
  // Clusters for the runs in flight, then for each burst's `enable`s (a third of every burst).
  const enablesPerBurst = Math.ceil(burst / 3);
  const spare = enablesPerBurst * rounds * 3;
  const { projects, clusters } = fleetWorld(inFlight + spare, PROJECTS);
  const background = clusters.slice(0, inFlight);
  let fresh = inFlight;
  const redisServer = await startRedisServer();
  const sim = await startSim({ speed: 20, scenario: { projects, clusters } });
  const prefix = `bench-ack-${Date.now()}`;
  const env = contractEnv(sim, {
    REDIS_URL: redisServer.url,
    MESHOPS_CONFIG: writeConfigFile({ redis: { prefix }, outbox: fastOutbox }),
    MESHOPS_POLL_INTERVAL_MS: '500',
  });
  const processes: MeshopsProcess[] = [];
  const redis = new Redis(redisServer.url);
  const rows: Row[] = [];
  try {
    const bare = await startMeshopsProcess(env, 30_000, [], {
      script: 'bench/bareBolt.ts',
      ready: 'bare bolt started',
    });
    processes.push(bare);
    const bot = await startMeshopsProcess(roles === 'split' ? { ...env, MESHOPS_ROLE: 'web' } : env, 60_000);
    processes.push(bot);
    if (roles === 'split')
      processes.push(await startMeshopsProcess({ ...env, MESHOPS_ROLE: 'worker' }, 60_000));

    /** One burst's commands: help, status of a cluster in flight, enable of a cluster not yet touched. */
    const burstTexts = (): string[] =>
      Array.from({ length: burst }, (_, i) => {
        if (i % 3 === 0) return `enable cluster ${refOf(clusters[fresh++]!)} namespaces=default`;
        if (i % 3 === 1) return `status ${refOf(background[i % background.length]!)}`;
        return 'help';
      });
    /** Alternating bursts to meshops and the bare app, `rounds` of each. */
    const sideBySide = async (condition: string): Promise<void> => {
      const mine: Sample[] = [];
      const floor: Sample[] = [];
      for (let r = 0; r < rounds; r++) {
        const m = await send(bot.url, burstTexts(), burst);
        const f = await send(bare.url, Array<string>(burst).fill('help'), burst);
        const p99 = (s: Sample[]) => summarize('', '', s).p99Ms;
        console.error(`${condition}, round ${r + 1}: p99 meshops ${p99(m)} ms, bare Bolt ${p99(f)} ms`);
        mine.push(...m);
        floor.push(...f);
      }
      rows.push(summarize(condition, 'meshops', mine), summarize(condition, 'bare Bolt', floor));
    };

    await send(bot.url, ['help', 'help', 'help'], 1);
    await send(bare.url, ['help', 'help', 'help'], 1);
    await sideBySide('idle');

    // The 1,000 admissions, 20 at a time, with the bare app probed alongside at the same pace.
    const keys = new Keys(prefix);
    const [admissions, floorDuring] = await Promise.all([
      send(
        bot.url,
        background.map((c) => `enable cluster ${refOf(c)} namespaces=default`),
        20,
        'C0FLEET',
      ),
      send(
        bare.url,
        background.map(() => 'help'),
        20,
      ),
    ]);
    rows.push(summarize(`${inFlight} enables, 20 at a time`, 'meshops', admissions));
    rows.push(summarize(`${inFlight} enables, 20 at a time`, 'bare Bolt', floorDuring));
    const active = await redis.zcard(keys.activeRuns());
    await sideBySide(`${active} runs in flight`);
    const stillActive = await redis.zcard(keys.activeRuns());
    console.error(`runs in flight: ${active} when the bursts began, ${stillActive} when they ended`);
  } finally {
    for (const p of processes) await p.kill('SIGTERM');
    await redis.quit();
    await sim.close();
    await redisServer.stop();
  }
  const ratios = rows
    .filter((r) => r.target === 'meshops')
    .map((r) => {
      const floor = rows.find((f) => f.condition === r.condition && f.target === 'bare Bolt')!;
      return { condition: r.condition, p99Ratio: round(r.p99Ms / floor.p99Ms) };
    });
  console.table(rows);
  console.table(ratios);
  if (firstFailure) console.error(`first failed request: ${firstFailure}`);
  mkdirSync('bench/results', { recursive: true });
  const file = 'bench/results/ackLatency.json';
  writeFileSync(
    file,
    JSON.stringify(
      { at: new Date().toISOString(), node: process.version, roles, burst, rounds, rows, ratios },
      null,
      2,
    ),
  );
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
