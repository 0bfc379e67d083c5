/**
 * Questions that need Google's answer (`/mesh status`): the handler acks at once and enqueues
 * one job; a worker reads the world and answers through the command's response_url. Reads only.
 */
import { fleetProjectFor, type HostProjectRule } from '../workflows/fleetHost.js';
import type { Job, Queue } from 'bullmq';
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';
import type { Outbox } from '../slack/outbox.js';
import { asMeshopsError } from '../errors.js';
import { runStatusMessage, statusFailedMessage, statusMessage, type LastRun } from '../slack/status.js';
import type { AuditLog } from '../store/audit.js';
import type { MessageContent, MessageStore } from '../store/messages.js';
import type { RunStore } from '../store/runs.js';
import { runMessageKey } from '../slack/notifier.js';
import type { Clock } from '../workflows/ports.js';
import type { RunRecord } from '../workflows/run.js';
import {
  fleetContextOf,
  readProject,
  refOf,
  takeSnapshot,
  type SnapshotReader,
} from '../workflows/snapshot.js';

export const QUERY_QUEUE = 'queries';

/**
 * `responseUrl` is Slack's one-off answer address of the command: it lives in the job only until
 * the answer is queued (the job is removed when it completes), and is never logged.
 */
export interface StatusQuery {
  kind: 'status';
  cluster: string;
  /** `fleet=HOST_PROJECT` on the command: the fleet read, over config fleet.hostProjects. */
  fleet?: string;
  channel: string;
  user: string;
  responseUrl: string;
  /** The trigger id of the command: the answer's idempotency key. */
  trigger: string;
}

/** `/mesh status RUN_ID`: a run's record, answered the same way (the run may be long and its plan big). */
export interface RunQuery extends Omit<StatusQuery, 'kind' | 'cluster' | 'fleet'> {
  kind: 'run';
  runId: string;
}

export type QueryJobData = StatusQuery | RunQuery;

export class QueryQueue {
  constructor(private readonly queue: Queue<QueryJobData>) {}

  status(query: Omit<StatusQuery, 'kind'>): Promise<void> {
    return this.add({ kind: 'status', ...query });
  }

  run(query: Omit<RunQuery, 'kind'>): Promise<void> {
    return this.add({ kind: 'run', ...query });
  }

  private async add(query: QueryJobData): Promise<void> {
    await this.queue.add(query.kind, query, {
      jobId: `${query.kind}|${query.trigger}`,
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 3600 },
    });
  }
}

/** Audit entries `/mesh status` shows (the stream keeps more). */
const AUDIT_SHOWN = 8;

export interface QueryDeps {
  reader: SnapshotReader;
  /** config fleet.hostProjects: where a cluster's memberships and mesh feature are read. */
  hostProjects: HostProjectRule[];
  runs: RunStore;
  messages: MessageStore;
  audit: AuditLog;
  outbox: Outbox;
  web: WebClient;
  clock: Clock;
  log: Logger;
}

export function createQueryProcessor(deps: QueryDeps) {
  const { reader, runs, messages, audit, outbox, web, clock, log } = deps;

  /** The cluster's last run and, if its thread is in Slack, a link to it. */
  async function lastRun(cluster: string): Promise<LastRun | null> {
    const run = await runs.latestOfCluster(cluster);
    return run ? withPermalink(run) : null;
  }

  async function withPermalink(run: RunRecord): Promise<LastRun> {
    const ts = await messages.ts(runMessageKey(run.id, 'root'));
    if (!ts) return { run };
    try {
      const link = await web.chat.getPermalink({ channel: run.slack.channel, message_ts: ts });
      return { run, ...(link.permalink ? { permalink: link.permalink } : {}) };
    } catch (error) {
      log.warn({ runId: run.id, err: error }, 'no permalink for the run thread');
      return { run };
    }
  }

  function answer(query: QueryJobData, content: MessageContent): Promise<void> {
    return outbox.send({
      key: `${query.kind}/${query.trigger}`,
      op: 'respond',
      channel: query.channel,
      user: query.user,
      responseUrl: query.responseUrl,
      content,
      keepSeconds: 3600,
    });
  }

  async function answerRun(query: RunQuery): Promise<void> {
    const run = await runs.get(query.runId);
    const content: MessageContent = run
      ? runStatusMessage(run, (await withPermalink(run)).permalink)
      : {
          text: `Run \`${query.runId}\` is not known to meshops (finished runs are kept for a while, then forgotten).`,
        };
    await answer(query, content);
    log.info({ runId: query.runId, user: query.user }, 'run status answered');
  }

  return async function processQuery(job: Job<QueryJobData>): Promise<void> {
    const query = job.data;
    if (query.kind === 'run') return answerRun(query);
    const ref = refOf(query.cluster);
    const fleet = fleetProjectFor(ref, deps.hostProjects, query.fleet);
    let snapshot;
    try {
      const reads = await readProject(reader, ref.project, fleet);
      snapshot = await takeSnapshot(reader, ref, fleetContextOf(reads, ref), {
        now: clock.now(),
        deep: true,
        meshConfig: true,
      });
    } catch (error) {
      // Tried again while that can help; then the person who asked is told why, never left waiting.
      const failure = asMeshopsError(error);
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (failure.retryable && !last) throw error;
      await answer(query, statusFailedMessage(query.cluster, failure));
      log.warn(
        { cluster: query.cluster, user: query.user, err: error },
        'status could not be read; told the user',
      );
      return;
    }
    const content = statusMessage(
      snapshot,
      await lastRun(query.cluster),
      clock.now(),
      await audit.recent(query.cluster, AUDIT_SHOWN),
      // Named when it is not the cluster's own, or when fleet= said so over config (the hint repeats it).
      fleet === ref.project && !query.fleet ? undefined : fleet,
    );
    await answer(query, content);
    log.info({ cluster: query.cluster, user: query.user }, 'status answered');
  };
}
