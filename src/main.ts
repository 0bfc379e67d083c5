/**
 * The one composition root: reads config, builds every client and adapter, wires handlers and
 * workers, starts. Nothing else constructs an SDK client or reads the environment; its Google and
 * Kubernetes part is src/cloudAdapters.ts, loaded only where workers run.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { Queue, Worker, type Processor, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { connectRedis, type RedisClient } from './store/redisClient.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { redisWarnings } from './store/redisHealth.js';
import { stopWorkers } from './jobs/stopWorkers.js';
import {
  ConfigError,
  isLocalMode,
  loadConfig,
  redactedUrl,
  redisUrlGiven,
  StartupError,
  type Config,
} from './config.js';
import { redisAnswers, startPrivateRedis, type PrivateRedis } from './local/redisServer.js';
import { consoleRoutes } from './console/server.js';
import { addSecondApprover, CONSOLE_APPROVERS } from './console/workspace.js';
import { registerHandlers } from './handlers/index.js';
import {
  createOutboxProcessor,
  OUTBOX_QUEUE,
  outboxWorkerSettings,
  QueuedOutbox,
  type OutboxJobData,
} from './jobs/outbox.js';
import { createQueryProcessor, QUERY_QUEUE, QueryQueue, type QueryJobData } from './jobs/queries.js';
import { afterRun } from './jobs/afterRun.js';
import { RedisBatches } from './jobs/batches.js';
import { queueOptions } from './jobs/queueOptions.js';
import { createRunProcessor } from './jobs/runProcessor.js';
import { startWorkerThread } from './jobs/thread.js';
import { createWatchProcessor, WATCH_QUEUE, WatchScheduler, type WatchJobData } from './jobs/watchers.js';
import { RUN_QUEUE, RunQueue, type RunJobData } from './jobs/runQueue.js';
import { anyGlobMatches } from './glob.js';
import { SlackDirectory } from './slack/directory.js';
import { AuditLog } from './store/audit.js';
import { createLogger, type Logger } from './log.js';
import { serveRoutes, slackReceiver, type Listening, type Route } from './slack/receivers.js';
import { slackLogger } from './slack/slackLogger.js';
import { RunNotifier } from './slack/notifier.js';
import { recordChanges } from './cloud/dryRun.js';
import { deleteKeysUnder, Keys } from './store/keys.js';
import { ClusterLocks } from './store/locks.js';
import { MessageStore } from './store/messages.js';
import { RunStore } from './store/runs.js';
import { Triggers } from './store/triggers.js';
import { WatchStore } from './store/watches.js';
import type { Sim } from './sim/index.js';
import type { Policy, WorkflowDeps } from './workflows/engine.js';
import type { Clock } from './workflows/ports.js';

export interface StartOptions {
  log?: Logger;
  clock?: Clock;
  /** Run the workflow worker in this process (default: unless the role is web, or `workerThread`). */
  worker?: boolean;
  /**
   * MESHOPS_ROLE=all as a process runs it (main() sets it): the workers on a thread of their own,
   * so acks never wait behind workflow steps. In-process callers (tests) keep them on this thread.
   */
  workerThread?: boolean;
  /** Listen for Slack on config.http.port (default true). */
  http?: boolean;
  /** Local mode: serve the web console at / on the emulator. */
  console?: { sim: Pick<Sim, 'slack' | 'controlUrl'> };
  /** Local mode on a shared Redis: delete every key under the prefix when stopping. */
  deleteKeysOnStop?: boolean;
  /** Warn about Redis eviction and persistence (default true); local mode's own Redis keeps nothing on purpose. */
  redisChecks?: boolean;
}

export interface Meshops {
  /** http://127.0.0.1:PORT, where /slack/events and /healthz answer. */
  url: string;
  stop(): Promise<void>;
}

/** Jobs in flight get this long to finish their step when meshops stops (Kubernetes allows 30 s by default). */
const WORKER_STOP_GRACE_MS = 10_000;

export function newRunId(): string {
  return `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

function policyFrom(config: Config): Policy {
  const { polling, timeouts, approvals, fleet, mesh, restart } = config;
  return {
    pollDelayMs: (polls) =>
      polling.intervalMs ?? Math.min(polling.maxMs, polling.initialMs * polling.factor ** polls),
    operationTimeoutMs: timeouts.operationMs,
    provisioningTimeoutMs: timeouts.provisioningMs,
    verifyTimeoutMs: timeouts.verifyMs,
    approvalTimeoutMs: approvals.timeoutMs,
    approvers: approvals.approvers,
    approvalsNeeded: (project) => (anyGlobMatches(approvals.twoApprovers, project) ? 2 : 1),
    membershipLocation: fleet.membershipLocation,
    hostProjects: fleet.hostProjects,
    enableServices: fleet.enableServices,
    meshChannel: mesh.channel,
    caPool: mesh.caPool,
    removeMeshIdOnDisable: fleet.removeMeshIdOnDisable,
    kubeAccess: config.kube.access,
    restartKinds: [
      ...(restart.statefulSets ? (['StatefulSet'] as const) : []),
      ...(restart.daemonSets ? (['DaemonSet'] as const) : []),
    ],
  };
}

async function buildWorkflowDeps(
  config: Config,
  clock: Clock,
  outbox: QueuedOutbox,
  batches: WorkflowDeps['batches'],
): Promise<WorkflowDeps> {
  // Loaded here, where workers start: a receiver alone never loads the Google and Kubernetes SDKs.
  const { buildCloudAdapters } = await import('./cloudAdapters.js');
  return {
    batches,
    dryRun: recordChanges,
    ...buildCloudAdapters(config.google, undefined, config.polling.intervalMs ?? config.polling.initialMs),
    notifier: new RunNotifier(outbox),
    clock,
    policy: policyFrom(config),
  };
}

function textRoute(path: string, answer: () => Promise<[number, string, string?]>) {
  return {
    path,
    method: ['GET'],
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      answer()
        .then(([status, body, type]) => {
          res.writeHead(status, { 'Content-Type': type ?? 'text/plain; charset=utf-8' });
          res.end(body);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          res.end(error instanceof Error ? error.message : String(error));
        });
    },
  };
}

export async function startMeshops(config: Config, options: StartOptions = {}): Promise<Meshops> {
  const log = options.log ?? createLogger();
  const clock = options.clock ?? { now: () => Date.now() };
  const { prefix } = config.redis;
  const { botToken, signingSecret, appToken } = config.slack;
  // The worker role only sends messages; the Slack receiver needs a way to hear Slack too.
  const receivesSlack = config.role !== 'worker';
  if (!botToken || (receivesSlack && !signingSecret && !appToken)) {
    throw new ConfigError(
      receivesSlack
        ? 'slack.botToken (SLACK_BOT_TOKEN) and either slack.signingSecret (SLACK_SIGNING_SECRET, Slack over HTTP) or slack.appToken (SLACK_APP_TOKEN, Socket Mode) are required'
        : 'slack.botToken (SLACK_BOT_TOKEN) is required: the worker role posts to Slack',
    );
  }

  // Handlers fail fast when Redis is away (the user is told at once); workers wait for it to come back.
  const { url: redisUrl, cluster } = config.redis;
  const commands = connectRedis(redisUrl, cluster, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  const workerRedis = connectRedis(redisUrl, cluster, { maxRetriesPerRequest: null });
  const closers: Array<() => Promise<unknown>> = [];
  // Until the first answer, a refused connection is the start-up error below, not a log line per retry.
  const quiet = () => undefined;
  for (const connection of [commands, workerRedis]) connection.on('error', quiet);
  try {
    await commands.ping();
  } catch (error) {
    commands.disconnect();
    workerRedis.disconnect();
    const cause = (error as Error & { lastNodeError?: Error }).lastNodeError ?? (error as Error);
    throw new StartupError(
      `Redis is not reachable at ${redactedUrl(config.redis.url)} (REDIS_URL): ${cause.message}. Start one (apt-get install redis-server, or docker compose up redis) or set REDIS_URL to a Redis that runs.`,
    );
  }
  // Once per process (not again from the workers' thread, which serves no HTTP), and not for a private Redis.
  const checked = (options.http ?? true) && options.redisChecks !== false;
  const warnings = checked ? await redisWarnings(commands).catch(() => []) : [];
  for (const warning of warnings) log.warn({ redis: 'config' }, warning);
  for (const connection of [commands, workerRedis]) {
    connection.off('error', quiet);
    connection.on('error', (error: Error) => log.warn({ err: error }, 'redis connection error'));
  }

  const keys = new Keys(prefix);
  /** A producer of one queue on one connection; its errors go to our log, and it is closed with us. */
  const openQueue = <T>(name: string, connection: RedisClient): Queue<T> => {
    const opened = new Queue<T>(name, queueOptions(connection, prefix));
    opened.on('error', (error: Error) => log.warn({ err: error, queue: name }, 'queue error'));
    closers.push(() => opened.close());
    return opened;
  };
  const queue = openQueue<RunJobData>(RUN_QUEUE, commands);
  const outboxQueue = openQueue<OutboxJobData>(OUTBOX_QUEUE, commands);
  const queryQueue = openQueue<QueryJobData>(QUERY_QUEUE, commands);
  const watchQueue = openQueue<WatchJobData>(WATCH_QUEUE, commands);
  // Tests and demos shorten every poll with MESHOPS_POLL_INTERVAL_MS, the watcher's too.
  const watchIntervalMs = config.polling.intervalMs ?? config.watch.intervalMs;
  const slackLog = slackLogger(log);
  const commandStore = { runs: new RunStore(commands, keys), messages: new MessageStore(commands, keys) };
  const commandOutbox = new QueuedOutbox(outboxQueue, commandStore.messages);

  const workers: Worker[] = [];
  const threaded = (options.workerThread ?? false) && config.role === 'all' && options.worker === undefined;
  if (threaded) closers.unshift(await startWorkerThread(config, log));
  if (options.worker ?? (config.role !== 'web' && !threaded)) {
    const runs = new RunStore(workerRedis, keys);
    const messages = new MessageStore(workerRedis, keys);
    // The workers' own producer waits for Redis rather than failing fast.
    const workerOutboxQueue = openQueue<OutboxJobData>(OUTBOX_QUEUE, workerRedis);
    const outbox = new QueuedOutbox(workerOutboxQueue, messages);
    const batches = new RedisBatches(
      runs,
      new RunQueue(openQueue<RunJobData>(RUN_QUEUE, workerRedis), config.worker),
      clock,
    );
    const workflow = await buildWorkflowDeps(config, clock, outbox, batches);
    const watches = new WatchStore(workerRedis, keys);
    const watchScheduler = new WatchScheduler(
      openQueue<WatchJobData>(WATCH_QUEUE, workerRedis),
      watchIntervalMs,
    );
    const processor = createRunProcessor({
      store: runs,
      locks: new ClusterLocks(workerRedis, keys),
      workflow,
      log,
      onFinished: afterRun({
        watches,
        scheduler: watchScheduler,
        outbox,
        notifier: workflow.notifier,
        clock,
        watchAfterEnable: config.watch.afterEnable,
      }),
    });
    /** A worker of one queue; being picked up again after a crash is normal: the records say where to resume. */
    const startWorker = <T>(
      name: string,
      process: Processor<T>,
      concurrency: number,
      settings?: WorkerOptions['settings'],
    ): Worker<T> => {
      const worker = new Worker<T>(name, process, {
        connection: workerRedis,
        prefix,
        concurrency,
        lockDuration: config.worker.lockDurationMs,
        stalledInterval: config.worker.stalledIntervalMs,
        maxStalledCount: 1000,
        ...(settings ? { settings } : {}),
      });
      worker.on('error', (error) => log.error({ err: error, queue: name }, 'worker error'));
      worker.on('stalled', (jobId) =>
        log.warn({ job: jobId, queue: name }, 'job stalled (its worker died?); another worker takes it over'),
      );
      worker.on('failed', (job, error) =>
        log.warn({ job: job?.id, queue: name, err: error }, 'job attempt failed'),
      );
      workers.push(worker as Worker);
      return worker;
    };
    startWorker(RUN_QUEUE, processor, config.worker.concurrency);
    // The outbox's client paces and retries itself: rate-limited calls come back at once, never retried inside.
    const outboxWeb = new WebClient(botToken, {
      slackApiUrl: config.slack.apiUrl,
      logger: slackLog,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    });
    startWorker(
      OUTBOX_QUEUE,
      createOutboxProcessor({ store: messages, outbox, web: outboxWeb, pacing: config.outbox, log }),
      config.outbox.concurrency,
      outboxWorkerSettings,
    );
    // A message recorded just before a crash, whose job was never added, is found and sent.
    await workerOutboxQueue.upsertJobScheduler(
      'outbox-sweep',
      { every: 15_000 },
      { name: 'sweep', data: { kind: 'sweep' }, opts: { removeOnComplete: true, removeOnFail: true } },
    );
    startWorker(
      QUERY_QUEUE,
      createQueryProcessor({
        reader: workflow,
        hostProjects: config.fleet.hostProjects,
        runs,
        messages,
        audit: new AuditLog(workerRedis, keys),
        outbox,
        web: new WebClient(botToken, { slackApiUrl: config.slack.apiUrl, logger: slackLog }),
        clock,
        log,
      }),
      config.worker.concurrency,
    );
    startWorker(
      WATCH_QUEUE,
      createWatchProcessor({
        reader: workflow,
        hostProjects: config.fleet.hostProjects,
        watches,
        outbox,
        scheduler: watchScheduler,
        clock,
        log,
        deepEvery: config.watch.deepEvery,
        sampleLimit: config.watch.sampleLimit,
      }),
      config.watch.concurrency,
    );
    closers.unshift(() => stopWorkers(workers, WORKER_STOP_GRACE_MS, log));
  }

  let url = '';
  let boundTo = '';
  /** /healthz, /readyz (Redis answers) and /metrics, whatever the role. */
  const healthRoutes = (): Route[] => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return [
      textRoute('/healthz', () => Promise.resolve([200, 'ok'])),
      textRoute('/readyz', () =>
        commands.ping().then(
          (): [number, string] => [200, 'ready'],
          (): [number, string] => [503, 'redis not reachable'],
        ),
      ),
      textRoute('/metrics', async () => [200, await registry.metrics(), registry.contentType]),
    ];
  };
  /** A taken port is the operator's to fix: say which setting. */
  const listened = (starting: Promise<Listening>): Promise<Listening> =>
    starting.catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      throw new StartupError(
        `port ${config.http.port} is already in use (PORT): stop what listens there, or set PORT to a free port`,
      );
    });
  if ((options.http ?? true) && receivesSlack) {
    const routes = healthRoutes();
    // The console signs HTTP requests to /slack/events: it is for local mode, which never has an app token.
    if (options.console && signingSecret) {
      routes.push(
        ...consoleRoutes({
          sim: options.console.sim,
          signingSecret,
          approvers: config.approvals.approvers,
          botUrl: () => url,
        }),
      );
    }
    const receiving = slackReceiver(config.slack, routes, slackLog);
    const app = new App({
      token: botToken,
      receiver: receiving.receiver,
      logger: slackLog,
      clientOptions: { slackApiUrl: config.slack.apiUrl },
    });
    registerHandlers(app, {
      runs: commandStore.runs,
      locks: new ClusterLocks(commands, keys),
      triggers: new Triggers(commands, keys),
      outbox: commandOutbox,
      notifier: new RunNotifier(commandOutbox),
      queue: new RunQueue(queue, config.worker),
      queries: new QueryQueue(queryQueue),
      watches: new WatchStore(commands, keys),
      watchScheduler: new WatchScheduler(watchQueue, watchIntervalMs),
      notifyChannel: config.notify.channel,
      clock,
      log,
      approvals: config.approvals,
      access: config.access,
      directory: new SlackDirectory(
        async (usergroup) => (await app.client.usergroups.users.list({ usergroup })).users ?? [],
        clock,
        log,
      ),
      audit: new AuditLog(commands, keys),
      aliases: config.aliases,
      hostProjects: config.fleet.hostProjects,
      newRunId,
    });
    app.error((error) => {
      log.error({ err: error }, 'unhandled error in a Slack listener');
      return Promise.resolve();
    });
    const listening = await listened(receiving.start(app, config.http.port, config.http.host));
    url = listening.url;
    boundTo = listening.boundTo;
    closers.unshift(() => listening.stop());
    log.info(
      { slack: receiving.mode },
      receiving.mode === 'socket' ? 'Slack over Socket Mode' : 'Slack over HTTP at /slack/events',
    );
  } else if (options.http ?? true) {
    // The worker role: probes and metrics, and nothing Slack could send to.
    const listening = await listened(serveRoutes(healthRoutes(), config.http.port, config.http.host));
    url = listening.url;
    boundTo = listening.boundTo;
    closers.unshift(() => listening.stop());
    log.info('worker role: no Slack receiver here; /healthz, /readyz and /metrics only');
  }

  if (options.http ?? true) {
    const worker = workers.length > 0 ? 'this thread' : threaded ? 'own thread' : false;
    log.info({ url, boundTo, role: config.role, worker }, 'meshops started');
  } else {
    log.info({ role: config.role, workers: workers.length }, 'workers started');
  }
  return {
    url,
    async stop() {
      for (const close of closers) await close();
      if (options.deleteKeysOnStop) {
        const deleted = await deleteKeysUnder(commands, prefix);
        log.info({ prefix, deleted }, 'local mode: deleted the keys of this start');
      }
      await Promise.all([commands.quit(), workerRedis.quit()]);
    },
  };
}

/** A client that tries once: probing whether a Redis answers, without ioredis' reconnecting. */
function probeClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
}

/**
 * Local mode's Redis: the configured one if it answers or REDIS_URL names it; otherwise a private
 * redis-server from PATH, stopped with meshops (undefined: the configured one is used).
 */
async function localRedis(config: Config, log: Logger): Promise<PrivateRedis | undefined> {
  const wanted = redactedUrl(config.redis.url);
  if (redisUrlGiven() || (await redisAnswers(() => probeClient(config.redis.url)))) return undefined;
  const own = await startPrivateRedis(probeClient, wanted);
  // process.exit skips the async stop: a start-up failure or a crash must not leave the server behind.
  process.once('exit', () => own.killNow());
  log.info(
    { redis: own.url },
    `local mode: nothing answers at ${wanted} and REDIS_URL is not set, so meshops started a private redis-server (a temporary directory, nothing saved); it stops with meshops`,
  );
  return own;
}

/** How a person points gcloud and kubectl at the local world: lines to print, and the files' clean-up. */
interface LocalClients {
  help: string[];
  remove: () => Promise<void>;
}

/** Local mode: the emulator stands in for Google and Slack, on this machine. */
async function localConfig(
  config: Config,
  log: Logger,
): Promise<{ config: Config; sim: Sim; redis: PrivateRedis | undefined; clients: LocalClients }> {
  const redis = await localRedis(config, log);
  const { startSim } = await import('./sim/index.js');
  const { clientHelp, prepareClientFiles } = await import('./sim/clientConfig.js');
  const sim = await startSim({ speed: 20 });
  addSecondApprover(sim);
  const files = await prepareClientFiles(sim);
  const signingSecret = randomBytes(16).toString('hex');
  // The emulated world is new at every start, so its runs must not meet an earlier start's records.
  const prefix = `${config.redis.prefix}-local-${randomBytes(4).toString('hex')}`;
  log.info({ urls: sim.urls }, 'local mode: no Slack or Google credentials, using the built-in emulator');
  if (!redis)
    log.info(
      { redis: redactedUrl(config.redis.url), prefix },
      `local mode: this start keeps its keys under the prefix ${prefix} in this Redis, and deletes them when it stops`,
    );
  return {
    sim,
    redis,
    clients: { help: clientHelp(sim, files), remove: files.remove },
    config: {
      ...config,
      slack: { ...config.slack, botToken: sim.slackToken, signingSecret, apiUrl: sim.urls.slack },
      redis: { ...config.redis, prefix, ...(redis ? { url: redis.url } : {}) },
      google: {
        ...config.google,
        accessToken: sim.token,
        gkehubUrl: sim.urls.gkehub,
        containerUrl: sim.urls.container,
        serviceusageUrl: sim.urls.serviceusage,
        resourcemanagerUrl: sim.urls.resourcemanager,
        connectgatewayUrl: sim.urls.connectgateway,
      },
      // The emulator's workspace: U0ALICE and U0CAROL approve (S0APPROVERS), U0BOB is an engineer.
      approvals: {
        ...config.approvals,
        approvers: config.approvals.approvers.length ? config.approvals.approvers : CONSOLE_APPROVERS,
      },
      polling: { ...config.polling, intervalMs: config.polling.intervalMs ?? 1000 },
      // The console can click as the approver: only this machine may reach it, unless config says otherwise.
      http: { ...config.http, host: config.http.host ?? '127.0.0.1' },
      // The emulated world lives in this process: so must the receiver and the workers.
      role: 'all',
    },
  };
}

async function main(): Promise<void> {
  const log = createLogger();
  let config = loadConfig();
  let sim: Sim | undefined;
  let privateRedis: PrivateRedis | undefined;
  let clients: LocalClients | undefined;
  if (isLocalMode(config)) {
    const local = await localConfig(config, log);
    config = local.config;
    sim = local.sim;
    privateRedis = local.redis;
    clients = local.clients;
  }
  const meshops = await startMeshops(config, {
    log,
    workerThread: true,
    ...(sim ? { console: { sim }, deleteKeysOnStop: !privateRedis, redisChecks: !privateRedis } : {}),
  });
  if (sim)
    log.info(
      { console: meshops.url.replace('127.0.0.1', 'localhost') + '/' },
      'local mode: open the web console',
    );
  // For a person at a terminal, not the log pipeline: lines to paste into a shell.
  if (clients) process.stdout.write(`${clients.help.join('\n')}\n`);
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    meshops
      .stop()
      .then(() => sim?.close())
      .then(() => clients?.remove())
      .then(() => privateRedis?.stop())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

// The worker thread imports this module too: only the process's own main thread runs main().
if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // A bad setting (exit 2) or a world unlike the settings (exit 1): one line, the setting, the fix.
    if (error instanceof ConfigError || error instanceof StartupError) {
      process.stderr.write(`meshops: ${error.message}\n`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    }
    process.stderr.write(
      `meshops failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
