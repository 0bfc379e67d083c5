/**
 * How fast `/mesh enable cluster` is acknowledged (Slack allows 3 s; we aim for < 100 ms): signed
 * requests to the running app, sequential and 20 at a time, with and without a worker busy in the
 * same process. Prints a table and writes bench/results/ackLatency.json.
 *
 *   npm run bench            (starts its own redis-server, or uses REDIS_URL)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startMeshops } from '../src/main.js';
import { startSim } from '../src/sim/index.js';
import { startRedisServer } from '../test/support/globalSetup.js';
import { contractEnv, SIGNING_SECRET } from '../test/support/harness.js';
import { postSigned, slashCommandBody } from '../test/support/slackRequests.js';

interface Row {
  scenario: string;
  requests: number;
  concurrency: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  throughputPerSec: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(
  url: string,
  scenario: string,
  requests: number,
  concurrency: number,
  offset: number,
): Promise<Row> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < requests; i = next++) {
        const body = slashCommandBody(
          `enable cluster proj-a/us-central1/bench-${offset + i}`,
          'UBENCH',
          'CBENCH',
        );
        const t0 = performance.now();
        const res = await postSigned(url, body, { secret: SIGNING_SECRET });
        const text = await res.text();
        latencies.push(performance.now() - t0);
        if (!text.includes('Queued run')) throw new Error(`unexpected answer: ${text}`);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    scenario,
    requests,
    concurrency,
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    throughputPerSec: Math.round(requests / elapsed),
  };
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? undefined : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? redis!.url;
  const sim = await startSim({ speed: 100 });
  const rows: Row[] = [];
  let offset = 0;
  try {
    for (const worker of [false, true]) {
      const config = loadConfig(contractEnv(sim, { REDIS_URL: redisUrl }), {
        redis: { prefix: `meshops-bench-${Date.now()}` },
      });
      const app = await startMeshops(config, { log: createLogger('error'), worker });
      const label = worker ? 'handler + worker in process' : 'handler only';
      await measure(app.url, 'warm-up', 20, 1, (offset += 1000));
      rows.push(await measure(app.url, `${label}, sequential`, 300, 1, (offset += 1000)));
      rows.push(await measure(app.url, `${label}, 20 concurrent`, 1000, 20, (offset += 1000)));
      await app.stop();
    }
  } finally {
    await sim.close();
    await redis?.stop();
  }
  console.table(rows);
  mkdirSync('bench/results', { recursive: true });
  const file = 'bench/results/ackLatency.json';
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2));
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
