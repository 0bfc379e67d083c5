/**
 * The whole product on one machine, as the tests use it: the emulator (Google APIs, clusters,
 * Slack) over real HTTP, a real Redis, and meshops started from its composition root with the
 * runtime contract's environment variables.
 */
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startMeshops, type Meshops } from '../../src/main.js';
import { startSim, type Sim, type SimOptions } from '../../src/sim/index.js';
import { testPrefix, testRedisUrl } from './redis.js';

export const SIGNING_SECRET = 'e2e-signing-secret';
export const REQUESTER = 'UREQUESTER';
export const APPROVER = 'UAPPROVER';
export const SECOND_APPROVER = 'UAPPROVER2';
export const STRANGER = 'USTRANGER';
export const CHANNEL = 'C0MESH';

/** The outbox paced far above Slack's limit, for tests that are not about pacing. */
export const fastOutbox = {
  concurrency: 8,
  messagesPerSecond: 100,
  burst: 50,
  updatesPerSecond: 100,
  updateBurst: 50,
};

export interface Harness {
  sim: Sim;
  config: Config;
  env: Record<string, string>;
  app: Meshops;
  logs: string[];
  stop(): Promise<void>;
}

/** The runtime contract's variables pointing at `sim` and a Redis, as a deployment would set them. */
export function contractEnv(
  sim: Sim,
  extra: Record<string, string> = {},
  redisUrl: string = extra.REDIS_URL ?? testRedisUrl(),
): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: sim.slackToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sim.urls.slack,
    PORT: '0',
    REDIS_URL: redisUrl,
    MESHOPS_GCP_ACCESS_TOKEN: sim.token,
    MESHOPS_GKEHUB_URL: sim.urls.gkehub,
    MESHOPS_CONTAINER_URL: sim.urls.container,
    MESHOPS_SERVICEUSAGE_URL: sim.urls.serviceusage,
    MESHOPS_RESOURCEMANAGER_URL: sim.urls.resourcemanager,
    MESHOPS_CONNECTGATEWAY_URL: sim.urls.connectgateway,
    // The requester is an approver too, so their own click tests the no-self-approval rule.
    MESHOPS_APPROVERS: `${APPROVER},${SECOND_APPROVER},${REQUESTER}`,
    MESHOPS_POLL_INTERVAL_MS: '100',
    ...extra,
  };
}

export interface HarnessOptions {
  /** Runtime-contract variables to set or replace (they win over config, as in production). */
  env?: Record<string, string>;
  /** Settings merged over config/default.yaml, as a MESHOPS_CONFIG file would be. */
  config?: Record<string, unknown>;
  /** Serve the local web console, as local mode does. */
  console?: boolean;
  /** Keep every log line (at debug level) in `Harness.logs` instead of printing. */
  captureLogs?: boolean;
  /** Runs once the emulator is up and before meshops starts (e.g. a Socket Mode server to point it at). */
  beforeStart?: (sim: Sim) => Promise<void>;
}

export async function startHarness(
  simOptions: SimOptions = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const sim = await startSim({ speed: 100, ...simOptions });
  await options.beforeStart?.(sim);
  const env = contractEnv(sim, options.env);
  const config = loadConfig(env, {
    redis: { prefix: testPrefix() },
    google: { retry: { attempts: 4, baseDelayMs: 50, maxDelayMs: 500 } },
    // Slack's pace (about 1 message/s/channel) is tested on its own; elsewhere it would only slow the suite.
    outbox: fastOutbox,
    ...options.config,
  });
  const logs: string[] = [];
  const log = options.captureLogs
    ? createLogger('debug', { write: (line: string) => void logs.push(line) })
    : createLogger(process.env.MESHOPS_TEST_LOG ?? 'silent');
  const app = await startMeshops(config, { log, ...(options.console ? { console: { sim } } : {}) });
  return {
    sim,
    config,
    env,
    app,
    logs,
    async stop() {
      await app.stop();
      await sim.close();
    },
  };
}
