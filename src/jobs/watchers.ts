/**
 * The revision watcher: a BullMQ job scheduler per watched cluster (interval from config, offset
 * by a hash of the cluster so a fleet's reads spread over the interval). Each read takes a
 * snapshot, compares it with the memory kept in Redis and, for what changed, queues one message
 * per watching channel, in the same atomic commit as the new memory: a change is told once, also
 * across restarts and across processes sharing the Redis. One read of a project's clusters,
 * memberships and feature serves every watched cluster of that project for most of an interval.
 */
import type { Job, Queue } from 'bullmq';
import type { Logger } from '../log.js';
import { meshChangeMessage, meshEventSummary } from '../slack/watchEvents.js';
import type { OutgoingMessage } from '../store/messages.js';
import type { WatchStore } from '../store/watches.js';
import { needsDeepRead, nextWatch } from '../workflows/meshWatch.js';
import type { Clock } from '../workflows/ports.js';
import {
  fleetContextOf,
  readProject,
  refOf,
  takeSnapshot,
  type ProjectReads,
  type SnapshotReader,
} from '../workflows/snapshot.js';
import type { QueuedOutbox } from './outbox.js';

export const WATCH_QUEUE = 'watches';

export interface WatchJobData {
  cluster: string;
}

/** Watch messages are kept two days: long enough to never send one twice. */
const WATCH_MESSAGE_SECONDS = 2 * 86_400;

/** The order in which one channel hears of one cluster. */
export function watchChain(cluster: string, channel: string): string {
  return `watch/${cluster}/${channel}`;
}

/** FNV-1a: the same cluster always reads at the same point of the interval. */
function spread(cluster: string, interval: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < cluster.length; i++) hash = Math.imul(hash ^ cluster.charCodeAt(i), 0x01000193) >>> 0;
  return hash % interval;
}

export class WatchScheduler {
  constructor(
    private readonly queue: Queue<WatchJobData>,
    readonly intervalMs: number,
  ) {}

  private id(cluster: string): string {
    return `watch|${cluster}`;
  }

  async start(cluster: string): Promise<void> {
    await this.queue.upsertJobScheduler(
      this.id(cluster),
      { every: this.intervalMs, offset: spread(cluster, this.intervalMs) },
      { name: 'watch', data: { cluster }, opts: { removeOnComplete: true, removeOnFail: 50 } },
    );
  }

  async stop(cluster: string): Promise<void> {
    await this.queue.removeJobScheduler(this.id(cluster));
  }
}

export interface WatchDeps {
  reader: SnapshotReader;
  watches: WatchStore;
  outbox: QueuedOutbox;
  scheduler: WatchScheduler;
  clock: Clock;
  log: Logger;
  /** Every how many reads the deep parts are read when nothing is going on. */
  deepEvery: number;
  sampleLimit: number;
}

export function createWatchProcessor(deps: WatchDeps) {
  const { reader, watches, outbox, scheduler, clock, log } = deps;
  const projects = new Map<string, { at: number; reads: Promise<ProjectReads> }>();

  /** One read of a project per most of an interval, shared by its clusters (in this process). */
  function readsOf(project: string): Promise<ProjectReads> {
    const cached = projects.get(project);
    if (cached && clock.now() - cached.at < scheduler.intervalMs * 0.8) return cached.reads;
    const reads = readProject(reader, project);
    projects.set(project, { at: clock.now(), reads });
    reads.catch(() => projects.delete(project));
    return reads;
  }

  return async function processWatch(job: Job<WatchJobData>): Promise<void> {
    const { cluster } = job.data;
    const watch = await watches.get(cluster);
    if (!watch) {
      // Unwatched while this read was due: the scheduler goes too.
      await scheduler.stop(cluster);
      return;
    }
    const ref = refOf(cluster);
    const now = clock.now();
    const snapshot = await takeSnapshot(reader, ref, fleetContextOf(await readsOf(ref.project), ref), {
      now,
      deep: (quick) => needsDeepRead(watch.memory, quick, deps.deepEvery),
      sampleLimit: deps.sampleLimit,
    });
    const { memory, events } = nextWatch(watch.memory, snapshot);
    const version = watch.version + 1;
    const messages: OutgoingMessage[] = [];
    if (events.length) {
      const content = meshChangeMessage(cluster, events);
      for (const { channel } of watch.channels) {
        messages.push({
          key: `watch/${cluster}/${channel}/${version}`,
          op: 'post',
          channel,
          chain: watchChain(cluster, channel),
          content,
          keepSeconds: WATCH_MESSAGE_SECONDS,
        });
      }
    }
    const change = events.length ? { at: now, summary: events.map(meshEventSummary).join('; ') } : null;
    if (!(await watches.commit(cluster, watch.version, memory, messages, change, now))) {
      log.info({ cluster }, 'another read of this cluster committed first; nothing to tell from this one');
      return;
    }
    for (const message of messages) await outbox.addSend(message.key);
    if (change) log.info({ cluster, changes: change.summary, channels: messages.length }, 'mesh changed');
  };
}
