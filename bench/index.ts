/**
 * Every benchmark of issue 18 in one run, side by side on this machine: ack latency against a bare
 * Bolt app, the watcher at fleet scale, fleet onboarding as a scaling curve (one cluster alone, then
 * batches of 10, 100 and 1,000), 1,000 single commands, the 1,000-cluster batch with two worker
 * processes, and seed 000's runbook done cluster after cluster through the same adapters. Prints one
 * table, writes bench/results/summary.json and a plot of the curve (bench/results/scaling.svg, and a
 * PNG of it when Chromium is installed).
 *
 *   npm run bench            # about 8 minutes here
 *   npm run bench -- --quick # 100 clusters at most, under 2 minutes
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { startRedisServer } from '../test/support/globalSetup.js';
import {
  buildBot,
  defaultFleetSettings,
  fleetRows,
  onboard,
  printTable,
  round,
  type FleetSettings,
  type Outcome,
} from './fleet.js';
import { plotScaling, type ScalingPoint } from './plot.js';
import { byRunbook } from './runbookFleet.js';

const quick = process.argv.includes('--quick');

const plan = quick
  ? {
      sizes: [10, 100],
      commands: 100,
      twoWorkers: 0,
      runbook: 3,
      ack: ['--rounds', '1', '--inflight', '100'],
      watchers: null,
    }
  : {
      sizes: [10, 100, 1000],
      commands: 1000,
      twoWorkers: 1000,
      runbook: 20,
      ack: ['--rounds', '2', '--inflight', '1000'],
      watchers: ['--clusters', '1000', '--intervals', '2'],
    };

/** The comparison with the runbook is at this many clusters (extrapolated when fewer are run). */
const RUNBOOK_AT = 100;

function runScript(script: string, args: string[]): void {
  console.error(`\n== ${script} ${args.join(' ')}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${script} exited with ${result.status}`);
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

interface AckRow {
  condition: string;
  target: string;
  p99Ms: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  runScript('bench/ackLatency.ts', plan.ack);
  const ack = readJson<{ rows: AckRow[]; ratios: Array<{ condition: string; p99Ratio: number }> }>(
    'bench/results/ackLatency.json',
  );
  if (plan.watchers) runScript('bench/watchers.ts', plan.watchers);

  buildBot();
  const redisServer = await startRedisServer();
  const batch: FleetSettings = { ...defaultFleetSettings, mode: 'batch' };
  const fleet: Record<string, Outcome> = {};
  try {
    const run = async (label: string, settings: FleetSettings, count: number) => {
      console.error(`\n== fleet: ${label}`);
      fleet[label] = await onboard(settings, count, redisServer.url, `bench-${label.replace(/\W+/g, '-')}`);
      return fleet[label];
    };
    const single = await run('1 cluster', batch, 1);
    for (const size of plan.sizes) await run(`batch of ${size}`, batch, size);
    await run(`${plan.commands} commands`, { ...defaultFleetSettings, mode: 'commands' }, plan.commands);
    if (plan.twoWorkers)
      await run(`batch of ${plan.twoWorkers}, 2 workers`, { ...batch, workers: 2 }, plan.twoWorkers);

    console.error(`\n== runbook: ${plan.runbook} clusters one after another`);
    const runbook = await byRunbook(plan.runbook, defaultFleetSettings.projects, defaultFleetSettings.speed);
    const perCluster = runbook.wallMs / runbook.clusters;
    const runbookAt = perCluster * RUNBOOK_AT;
    const meshopsAt = fleet[`batch of ${RUNBOOK_AT}`]!.wallMs;

    console.log('\n## Fleet onboarding (emulator ×20, runs poll every 500 ms, approvals clicked at once)\n');
    const labels = Object.keys(fleet).filter((l) => l !== '1 cluster');
    const table = labels.map((label) => fleetRows(single, fleet[label]!));
    printTable(
      ['measure', '1 cluster', ...labels],
      table[0]!.map((row, r) => [row[0], row[1], ...table.map((t) => t[r]![2])]),
    );

    console.log(`\n## Side by side with seed 000's runbook at ${RUNBOOK_AT} clusters\n`);
    const spread = [...runbook.perClusterMs].sort((a, b) => a - b);
    printTable(
      ['who', `${RUNBOOK_AT} clusters`, 'per cluster', 'Google calls per cluster'],
      [
        [
          `a person, one cluster after another (measured ${runbook.clusters}${runbook.clusters < RUNBOOK_AT ? ', extrapolated' : ''})`,
          `${round(runbookAt / 1000)} s`,
          `${round(perCluster / 1000, 2)} s (min ${round(spread[0]! / 1000, 2)}, max ${round(spread.at(-1)! / 1000, 2)})`,
          String(round(runbook.googleCallsPerCluster)),
        ],
        [
          `meshops, one batch`,
          `${round(meshopsAt / 1000)} s`,
          `${round(meshopsAt / RUNBOOK_AT / 1000, 2)} s`,
          String(round(fleet[`batch of ${RUNBOOK_AT}`]!.googleCallsPerCluster)),
        ],
        ['ratio', `${round(runbookAt / meshopsAt, 1)}× faster`, '', ''],
      ],
    );

    console.log('\n## Ack p99 against a bare Bolt app\n');
    printTable(
      ['condition', 'meshops p99', 'bare Bolt p99', 'ratio'],
      ack.ratios.map(({ condition, p99Ratio }) => {
        const p99 = (target: string) =>
          ack.rows.find((r) => r.condition === condition && r.target === target)?.p99Ms ?? 0;
        return [condition, `${round(p99('meshops'))} ms`, `${round(p99('bare Bolt'))} ms`, `${p99Ratio}×`];
      }),
    );

    const points: ScalingPoint[] = [single, ...plan.sizes.map((size) => fleet[`batch of ${size}`]!)].map(
      (o) => ({
        clusters: o.clusters,
        wallS: o.wallMs / 1000,
        googleCallsPerCluster: o.googleCallsPerCluster,
        slackCallsPerCluster: o.slackCallsPerCluster,
        peakRssMb: o.peakRssMb,
        runbookS: (perCluster * o.clusters) / 1000,
      }),
    );
    mkdirSync('bench/results', { recursive: true });
    const plotted = await plotScaling(points, 'bench/results/scaling');
    const summary = {
      date: new Date().toISOString(),
      node: process.version,
      quick,
      minutes: round((Date.now() - started) / 60_000, 1),
      fleet,
      runbook: {
        ...runbook,
        extrapolatedTo: RUNBOOK_AT,
        extrapolatedMs: runbookAt,
        meshopsBatchMs: meshopsAt,
      },
      ack,
      ...(plan.watchers && existsSync('bench/results/watchers.json')
        ? { watchers: readJson<unknown>('bench/results/watchers.json') }
        : {}),
      plots: plotted,
    };
    writeFileSync(
      `bench/results/summary${quick ? '-quick' : ''}.json`,
      `${JSON.stringify(summary, null, 2)}\n`,
    );
    console.log(
      `\nwritten: bench/results/summary${quick ? '-quick' : ''}.json, ${plotted.join(', ')}; ${summary.minutes} minutes in all`,
    );
  } finally {
    await redisServer.stop();
  }
}

await main();
