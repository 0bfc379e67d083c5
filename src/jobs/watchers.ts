/**
 * The revision watcher: a BullMQ job scheduler per watched fleet project (interval from config,
 * offset by a hash of the project so a fleet's reads spread over the interval). Each run reads
 * the project once (its clusters, memberships and servicemesh feature: every membership's state)
 * and then each watched cluster of it: a snapshot, compared with the memory kept in Redis; for
 * what changed it queues one message per watching channel, in the same atomic commit as the new
 * memory, so a change is told once, also across restarts and across processes sharing the Redis.
 *
 * Why per project and not per cluster: a BullMQ job scheduler keeps its next job as a hash whose
 * opts exceed Redis' listpack limit, about 1.7 KB per scheduler with its index entries (measured in
 * bench/watchers.ts); a watch must cost under 2 KB in all.
 */
import { fleetProjectFor, type HostProjectRule } from '../workflows/fleetHost.js';
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
  project: string;
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

/** One job scheduler per fleet project with watched clusters. */
export class WatchScheduler {
  constructor(
    private readonly queue: Queue<WatchJobData>,
    readonly intervalMs: number,
  ) {}

  private id(project: string): string {
    return `watch|${project}`;
  }

  /** Makes sure the cluster's project is read every interval (idempotent). */
  async start(cluster: string): Promise<void> {
    const { project } = refOf(cluster);
    await this.queue.upsertJobScheduler(
      this.id(project),
      { every: this.intervalMs, offset: spread(project, this.intervalMs) },
      { name: 'watch', data: { project }, opts: { removeOnComplete: true, removeOnFail: 50 } },
    );
  }

  /** Stops reading a project (when its last watched cluster is unwatched). */
  async stop(project: string): Promise<void> {
    await this.queue.removeJobScheduler(this.id(project));
  }
}

export interface WatchDeps {
  reader: SnapshotReader;
  /** config fleet.hostProjects: where a project's memberships and mesh feature are read. */
  hostProjects: HostProjectRule[];
  watches: WatchStore;
  outbox: QueuedOutbox;
  scheduler: WatchScheduler;
  clock: Clock;
  log: Logger;
  /** Every how many reads the deep parts are read when nothing is going on. */
  deepEvery: number;
  sampleLimit: number;
  /** Clusters of one project read at the same time. */
  parallel?: number;
}

export function createWatchProcessor(deps: WatchDeps) {
  const { reader, watches, outbox, scheduler, clock, log } = deps;

  /** One read of one watched cluster, and its commit. */
  async function readCluster(cluster: string, reads: ProjectReads): Promise<void> {
    const watch = await watches.get(cluster);
    if (!watch) return;
    const ref = refOf(cluster);
    const now = clock.now();
    const snapshot = await takeSnapshot(reader, ref, fleetContextOf(reads, ref), {
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
  }

  return async function processWatch(job: Job<WatchJobData>): Promise<void> {
    const { project } = job.data;
    const clusters = await watches.clustersOfProject(project);
    if (clusters.length === 0) {
      // The last cluster was unwatched while this read was due: the scheduler goes too.
      await scheduler.stop(project);
      return;
    }
    const reads = await readProject(reader, project, fleetProjectFor({ project }, deps.hostProjects));
    // A few clusters at a time; one that cannot be read does not keep the others from being read.
    const queue = [...clusters];
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: Math.min(deps.parallel ?? 16, queue.length) }, async () => {
        for (let cluster = queue.shift(); cluster !== undefined; cluster = queue.shift()) {
          try {
            await readCluster(cluster, reads);
          } catch (error) {
            failures.push(cluster);
            log.warn({ cluster, err: error }, 'could not read a watched cluster; trying again next interval');
          }
        }
      }),
    );
    if (failures.length)
      log.warn({ project, failed: failures.length }, 'some watched clusters were not read');
  };
}
