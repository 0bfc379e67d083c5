/**
 * Fleet onboarding: N emulated clusters in P projects, each onboarded by its own `/mesh enable cluster`
 * from one of C channels, against one meshops process (a child process, so its memory is its own),
 * approvals clicked by a scripted approver as soon as the prompts appear. First one cluster alone (its
 * critical path), then all N at once. Reports wall time over the critical path, Google calls per cluster
 * (mutations and reads), Slack calls per cluster, ack latency of the commands, the bot's peak RSS, and
 * Redis memory per run in flight and per finished run. Prints a table and writes bench/results/fleet.json.
 *
 *   npm run bench:fleet -- [--clusters 100] [--projects 10] [--channels 20] [--pacing fast|slack] [--speed 20] [--mode commands|batch] [--workers 0] [--program built|tsx]
 *
 * `--mode batch` onboards the N as one batch instead: one command over every project (`fleet-PP/-/*`),
 * Start clicked on the resolved list, one approval.
 * `--program tsx` runs the bot from src under tsx instead of the built dist/ (about 150 MB more RSS).
 * `--workers N` runs a `web` process and N `worker` processes on one Redis (default 0: one process).
 * `--pacing slack` keeps the outbox at Slack's pace (about one message per second per channel, as
 * config/default.yaml does in production); `fast` lifts it, to see what meshops itself costs.
 * Runs poll every 500 ms (polling.initialMs, factor 1); the watcher keeps its default interval; the
 * emulator runs `speed` times real time.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { startSim, type Sim } from '../src/sim/index.js';
import { APPROVE_ACTION } from '../src/slack/render.js';
import { Keys } from '../src/store/keys.js';
import { RunStore } from '../src/store/runs.js';
import { startMeshopsProcess, writeConfigFile, type MeshopsProcess } from '../test/support/child.js';
import { buttonOf } from '../test/support/flows.js';
import { waitFor } from '../test/support/wait.js';
import { CONFIRM_ACTION } from '../src/slack/renderBatch.js';
import { startRedisServer } from '../test/support/globalSetup.js';
import { fleetWorld } from './fleetWorld.js';
import { APPROVER, contractEnv, fastOutbox, REQUESTER, SIGNING_SECRET } from '../test/support/harness.js';
import { buttonClickBody, postSigned, slashCommandBody } from '../test/support/slackRequests.js';

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

/** How one onboarding is run. */
export interface FleetSettings {
  projects: number;
  channels: number;
  pacing: 'fast' | 'slack';
  /** The emulator runs this many times real time. */
  speed: number;
  /** 0: one process receives Slack and runs the workers; N: a `web` process and N `worker` processes. */
  workers: number;
  /** `commands`: one `/mesh enable cluster` per cluster; `batch`: one command over every project (`fleet-PP/-/*`). */
  mode: 'commands' | 'batch';
  /** `built`: the bot as production runs it (`node dist/src/main.js`, see buildBot); `tsx`: from src under tsx. */
  program: 'built' | 'tsx';
}

export const defaultFleetSettings: FleetSettings = {
  projects: 10,
  channels: 20,
  pacing: 'fast',
  speed: 20,
  workers: 0,
  mode: 'commands',
  program: 'built',
};

const programs = {
  built: { script: 'dist/src/main.js', ready: 'meshops started' },
  tsx: { script: 'src/main.ts', ready: 'meshops started' },
};

/** Compiles src to dist (what `npm start` runs), so the bot measured is the one that ships. */
export function buildBot(): void {
  const built = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error(`npm run build exited with ${built.status}`);
}

const POLL_MS = 500;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Peak and current resident memory of a process, from /proc (Linux). */
function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** The bot's V8 heap in use and its memory outside the heap (buffers, TLS), from its /metrics. */
async function heapOf(url: string): Promise<{ usedMb: number; externalMb: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20;
  return { usedMb: value('nodejs_heap_size_used_bytes'), externalMb: value('nodejs_external_memory_bytes') };
}

/** Redis bytes by kind of key (run, msg, BullMQ queue…), from MEMORY USAGE of every key under `prefix`. */
async function keyBreakdown(
  redis: Redis,
  prefix: string,
): Promise<Record<string, { keys: number; kb: number }>> {
  const out: Record<string, { keys: number; kb: number }> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const parts = key.slice(prefix.length + 1).split(':');
      // BullMQ's keys are PREFIX:QUEUE:ID or PREFIX:QUEUE:KIND.
      const kind =
        ['runs', 'outbox', 'queries', 'watches'].includes(parts[0] ?? '') && parts.length > 1
          ? `bullmq ${parts[0]}:${/^[a-z-]+$/.test(parts[1] ?? '') ? parts[1] : 'job'}`
          : (parts[0] ?? key);
      const entry = (out[kind] ??= { keys: 0, kb: 0 });
      entry.keys += 1;
      entry.kb += Number((await redis.call('MEMORY', 'USAGE', key)) ?? 0) / 1024;
    }
  } while (cursor !== '0');
  return out;
}

/** How many runs a meshops process finished, from its log. */
function finishedRuns(p: MeshopsProcess): number {
  return p.output
    .join('')
    .split('\n')
    .filter((line) => line.includes('"msg":"run finished"')).length;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
}

export interface Outcome {
  clusters: number;
  wallMs: number;
  /** Until the last Slack message of the last run was delivered. */
  slackDoneMs: number;
  failed: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  googleCallsPerCluster: number;
  googleMutationsPerCluster: number;
  kubernetesCallsPerCluster: number;
  slackCallsPerCluster: number;
  /** Of the process that runs the workflows (the first worker process, with several). */
  idleRssMb: number;
  peakRssMb: number;
  /** The other worker processes, when there are several. */
  otherWorkers: Array<{ idleRssMb: number; peakRssMb: number }>;
  /** Runs each worker process finished (its "run finished" log lines). */
  runsFinishedBy: number[];
  idleHeap: { usedMb: number; externalMb: number };
  peakHeap: { usedMb: number; externalMb: number };
  redisPerRunInFlightKb: number;
  redisPerFinishedRunKb: number;
  /** What the finished runs left in Redis, by kind of key. */
  redisKeys: Record<string, { keys: number; kb: number }>;
}

/**
 * One `/mesh enable cluster` over `targets` as a batch: the requester waits for the resolved list
 * (through the command's response_url) and clicks Start. Returns the batch's id.
 */
async function startBatch(
  sim: Sim,
  url: string,
  targets: string[],
  channel: string,
  acks: number[],
): Promise<string[]> {
  const text = `enable cluster ${targets.join(' ')} namespaces=default`;
  const sent = performance.now();
  const res = await postSigned(
    url,
    slashCommandBody(text, REQUESTER, channel, undefined, sim.slack.responseUrl(REQUESTER, channel)),
    {
      secret: SIGNING_SECRET,
    },
  );
  acks.push(performance.now() - sent);
  const body = (await res.json()) as { text?: string };
  const id = /Batch `(r[0-9a-z]+)`/.exec(body.text ?? '')?.[1];
  if (!id) throw new Error(`no batch for ${text}: ${body.text}`);
  const list = await waitFor(
    'the resolved list',
    () => sim.slack.ephemerals(channel).find((e) => e.via === 'response_url' && buttonOf(e, CONFIRM_ACTION)),
    120_000,
  );
  const button = buttonOf(list, CONFIRM_ACTION)!;
  const click = buttonClickBody({
    user: REQUESTER,
    actionId: CONFIRM_ACTION,
    value: button.value,
    blockId: button.blockId,
    channel,
    messageTs: '',
  });
  await postSigned(url, click, { secret: SIGNING_SECRET });
  return [id];
}

/** The approver, clicking Approve on each prompt as soon as it is posted. */
function approveAsPosted(sim: Sim, url: string): () => void {
  return sim.slack.onPost((message) => {
    const button = buttonOf(message, APPROVE_ACTION);
    if (!button) return;
    const body = buttonClickBody({
      user: APPROVER,
      actionId: APPROVE_ACTION,
      value: button.value,
      blockId: button.blockId,
      channel: message.channel,
      messageTs: message.ts,
      ...(message.thread_ts ? { threadTs: message.thread_ts } : {}),
    });
    void postSigned(url, body, { secret: SIGNING_SECRET });
  });
}

export async function onboard(
  settings: FleetSettings,
  count: number,
  redisUrl: string,
  prefix: string,
): Promise<Outcome> {
  const { speed, pacing, mode } = settings;
  const { projects, clusters } = fleetWorld(count, settings.projects);
  const sim = await startSim({ speed, scenario: { projects, clusters } });
  const channels = Array.from({ length: Math.min(settings.channels, count) }, (_, i) => `C0FLEET${i}`);
  for (const channel of channels) sim.slack.addChannel(channel);
  const config = {
    redis: { prefix },
    ...(pacing === 'fast' ? { outbox: fastOutbox } : {}),
    google: { retry: { attempts: 6, baseDelayMs: 200, maxDelayMs: 5000 } },
    // Every run polls every POLL_MS; the watcher a finished enable starts keeps its 5-minute interval
    // (MESHOPS_POLL_INTERVAL_MS would shorten that too, and a thousand watched clusters would then be
    // read every half second).
    polling: { intervalMs: null, initialMs: POLL_MS, factor: 1, maxMs: POLL_MS },
  };
  const env = contractEnv(sim, {
    REDIS_URL: redisUrl,
    MESHOPS_CONFIG: writeConfigFile(config),
    MESHOPS_POLL_INTERVAL_MS: '',
  });
  const redis = new Redis(redisUrl);
  const store = new RunStore(redis, new Keys(prefix));
  let bot: MeshopsProcess | undefined;
  const workers: MeshopsProcess[] = [];
  try {
    // e.g. BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the bot.
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const program = programs[settings.program];
    bot = await startMeshopsProcess(
      settings.workers > 0 ? { ...env, MESHOPS_ROLE: 'web' } : env,
      60_000,
      nodeArgs,
      program,
    );
    for (let i = 0; i < settings.workers; i++) {
      workers.push(await startMeshopsProcess({ ...env, MESHOPS_ROLE: 'worker' }, 60_000, nodeArgs, program));
    }
    // The processes whose memory is measured: those that run the workflows.
    const measured = workers.length ? workers : [bot];
    const pid = measured[0]!.child.pid!;
    const metricsUrl = measured[0]!.url;
    await new Promise((r) => setTimeout(r, 1000));
    const idle = memoryOf(pid);
    const idleOthers = measured.slice(1).map((p) => memoryOf(p.child.pid!));
    const redisBefore = await usedMemory(redis);
    sim.requests.clear();

    const stopApproving = approveAsPosted(sim, bot.url);
    let summaries = 0;
    const stopCounting = sim.slack.onPost((message) => {
      if (/^:(tada|x):/.test(message.text)) summaries += 1;
    });
    const started = performance.now();
    const acks: number[] = [];
    const asBatch = mode === 'batch' && count > 1;
    const runIds = asBatch
      ? await startBatch(
          sim,
          bot.url,
          [...new Set(clusters.map((c) => `${c.project}/-/*`))],
          channels[0]!,
          acks,
        )
      : await Promise.all(
          clusters.map(async (cluster, i) => {
            const channel = channels[i % channels.length]!;
            const text = `enable cluster ${cluster.project}/${cluster.location}/${cluster.name} namespaces=default`;
            const sent = performance.now();
            const res = await postSigned(bot!.url, slashCommandBody(text, REQUESTER, channel), {
              secret: SIGNING_SECRET,
            });
            acks.push(performance.now() - sent);
            const body = (await res.json()) as { text?: string };
            const id = /run `(r[0-9a-z]+)`/.exec(body.text ?? '')?.[1];
            if (!id) throw new Error(`no run queued for ${text}: ${body.text}`);
            return id;
          }),
        );

    let peakInFlightBytes = 0;
    const idleHeap = await heapOf(metricsUrl);
    let peakHeap = idleHeap;
    let wallMs = 0;
    const keys = new Keys(prefix);
    for (;;) {
      // The index of active runs empties as they finish.
      const open = await redis.zcard(keys.activeRuns());
      if (open > count / 2) {
        peakInFlightBytes = Math.max(peakInFlightBytes, (await usedMemory(redis)) - redisBefore);
        const heap = await heapOf(metricsUrl);
        if (heap.usedMb > peakHeap.usedMb) peakHeap = heap;
      }
      if (open === 0) {
        wallMs = performance.now() - started;
        break;
      }
      if (performance.now() - started > 20 * 60_000) throw new Error(`${open} runs still open after 20 min`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // A batch's own runs are its members.
    const batch = asBatch ? await store.get(runIds[0]!) : null;
    const members = batch?.kind === 'enable-batch' ? (batch.facts.members ?? []) : [];
    const childIds = asBatch ? members.flatMap((m) => (m.runId ? [m.runId] : [])) : runIds;
    const records = await Promise.all(childIds.map((id) => store.get(id)));
    const failed = records.filter((run) => run?.status !== 'succeeded').length + (count - records.length);
    // Slack is caught up when every run's summary (a batch's one summary) is out.
    while (summaries < (asBatch ? 1 : count) && performance.now() - started < 30 * 60_000) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const slackDoneMs = performance.now() - started;
    stopApproving();
    stopCounting();
    const memory = memoryOf(pid);
    const finishedBy = measured.map(finishedRuns);
    const redisAfter = await usedMemory(redis);
    const totals = sim.requests.totals();
    const google = totals.filter((t) => t.api !== 'kubernetes' && t.api !== 'slack');
    const sum = (rows: typeof totals) => rows.reduce((n, t) => n + t.count, 0);
    return {
      clusters: count,
      wallMs,
      slackDoneMs,
      failed,
      ackP50Ms: percentile(acks, 50),
      ackP99Ms: percentile(acks, 99),
      ackMaxMs: Math.max(...acks),
      googleCallsPerCluster: sum(google) / count,
      googleMutationsPerCluster: sum(google.filter((t) => t.method !== 'GET')) / count,
      kubernetesCallsPerCluster: sum(totals.filter((t) => t.api === 'kubernetes')) / count,
      slackCallsPerCluster: sim.slack.calls.length / count,
      idleRssMb: idle.rssMb,
      peakRssMb: memory.peakMb,
      otherWorkers: measured.slice(1).map((p, i) => ({
        idleRssMb: idleOthers[i]!.rssMb,
        peakRssMb: memoryOf(p.child.pid!).peakMb,
      })),
      runsFinishedBy: finishedBy,
      idleHeap,
      peakHeap,
      redisPerRunInFlightKb: peakInFlightBytes / count / 1024,
      redisPerFinishedRunKb: (redisAfter - redisBefore) / count / 1024,
      redisKeys: await keyBreakdown(redis, prefix),
    };
  } finally {
    await bot?.kill('SIGTERM');
    for (const worker of workers) await worker.kill('SIGTERM');
    await redis.quit();
    await sim.close();
  }
}

export function round(value: number, digits = 1): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

/** The table of one onboarding of `fleet.clusters` against one cluster alone. */
export function fleetRows(single: Outcome, fleet: Outcome): Array<[string, string, string]> {
  const rows: Array<[string, string, string]> = [
    ['wall time', `${round(single.wallMs / 1000)} s`, `${round(fleet.wallMs / 1000)} s`],
    ['wall time / one cluster alone', '1.0×', `${round(fleet.wallMs / single.wallMs, 2)}×`],
    [
      'until Slack showed every summary',
      `${round(single.slackDoneMs / 1000)} s`,
      `${round(fleet.slackDoneMs / 1000)} s`,
    ],
    ['failed runs', String(single.failed), String(fleet.failed)],
    [
      'ack p50 / p99 / max',
      '—',
      `${round(fleet.ackP50Ms)} / ${round(fleet.ackP99Ms)} / ${round(fleet.ackMaxMs)} ms`,
    ],
    [
      'Google calls per cluster (mutations)',
      `${round(single.googleCallsPerCluster)} (${round(single.googleMutationsPerCluster)})`,
      `${round(fleet.googleCallsPerCluster)} (${round(fleet.googleMutationsPerCluster)})`,
    ],
    [
      'Kubernetes calls per cluster',
      `${round(single.kubernetesCallsPerCluster)}`,
      `${round(fleet.kubernetesCallsPerCluster)}`,
    ],
    [
      'Slack calls per cluster',
      `${round(single.slackCallsPerCluster)}`,
      `${round(fleet.slackCallsPerCluster)}`,
    ],
    [
      'bot RSS idle → peak',
      `${round(single.idleRssMb)} → ${round(single.peakRssMb)} MB`,
      `${round(fleet.idleRssMb)} → ${round(fleet.peakRssMb)} MB`,
    ],
    [
      'bot RSS per run in flight',
      '—',
      `${round(((fleet.peakRssMb - fleet.idleRssMb) * 1024) / fleet.clusters)} KB`,
    ],
    [
      'bot V8 heap used / external, idle → busiest',
      `${round(single.idleHeap.usedMb)} / ${round(single.idleHeap.externalMb)} MB`,
      `${round(fleet.idleHeap.usedMb)} / ${round(fleet.idleHeap.externalMb)} → ${round(fleet.peakHeap.usedMb)} / ${round(fleet.peakHeap.externalMb)} MB`,
    ],
    ['Redis per run in flight', '—', `${round(fleet.redisPerRunInFlightKb)} KB`],
    [
      'Redis per finished run',
      `${round(single.redisPerFinishedRunKb)} KB`,
      `${round(fleet.redisPerFinishedRunKb)} KB`,
    ],
  ];
  if (fleet.otherWorkers.length) {
    rows.push(
      [
        'other worker processes, RSS idle → peak',
        '—',
        fleet.otherWorkers.map((w) => `${round(w.idleRssMb)} → ${round(w.peakRssMb)} MB`).join(', '),
      ],
      ['runs finished by each worker process', '—', fleet.runsFinishedBy.join(' / ')],
    );
  }
  return rows;
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const clusterCount = Number(arg('clusters', '100'));
  const settings: FleetSettings = {
    projects: Number(arg('projects', String(defaultFleetSettings.projects))),
    channels: Number(arg('channels', String(defaultFleetSettings.channels))),
    pacing: arg('pacing', defaultFleetSettings.pacing) as FleetSettings['pacing'],
    speed: Number(arg('speed', String(defaultFleetSettings.speed))),
    workers: Number(arg('workers', String(defaultFleetSettings.workers))),
    mode: arg('mode', defaultFleetSettings.mode) as FleetSettings['mode'],
    program: arg('program', defaultFleetSettings.program) as FleetSettings['program'],
  };
  if (settings.program === 'built') buildBot();
  const { mode } = settings;
  const redisServer = await startRedisServer();
  try {
    console.error(
      `one cluster alone, then ${clusterCount} (${mode}); outbox pacing: ${settings.pacing}; emulator ×${settings.speed}; worker processes: ${settings.workers || 'none (one process)'}`,
    );
    const single = await onboard(settings, 1, redisServer.url, 'bench-fleet-1');
    const fleet = await onboard(settings, clusterCount, redisServer.url, `bench-fleet-${clusterCount}`);
    console.log('');
    printTable(['measure', '1 cluster', `${clusterCount} clusters`], fleetRows(single, fleet));
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/fleet-${mode}${settings.workers > 1 ? `-${settings.workers}workers` : ''}.json`;
    writeFileSync(
      file,
      JSON.stringify(
        { date: new Date().toISOString(), ...settings, pollMs: POLL_MS, single, fleet },
        null,
        2,
      ),
    );
    console.log(`\nwhat ${clusterCount} finished runs left in Redis, by kind of key:`);
    for (const [kind, { keys, kb }] of Object.entries(fleet.redisKeys).sort((a, b) => b[1].kb - a[1].kb)) {
      console.log(
        `  ${kind.padEnd(24)} ${String(keys).padStart(6)} keys ${round(kb / clusterCount, 2)} KB per run`,
      );
    }
    console.log(`\nwritten to ${file}`);
  } finally {
    await redisServer.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
