import type { Config } from '../config.js';
import type { QueryQueue } from '../jobs/queries.js';
import type { RunQueue } from '../jobs/runQueue.js';
import type { WatchScheduler } from '../jobs/watchers.js';
import type { Logger } from '../log.js';
import type { SlackDirectory } from '../slack/directory.js';
import type { Outbox } from '../slack/outbox.js';
import type { AuditLog } from '../store/audit.js';
import type { ClusterLocks } from '../store/locks.js';
import type { RunStore } from '../store/runs.js';
import type { Triggers } from '../store/triggers.js';
import type { WatchStore } from '../store/watches.js';
import type { Clock, Notifier } from '../workflows/ports.js';

/** What a handler may touch: Redis (records, queues, the outbox) and nothing slow. Handlers never call Google. */
export interface HandlerDeps {
  runs: RunStore;
  locks: ClusterLocks;
  triggers: Triggers;
  queue: RunQueue;
  queries: QueryQueue;
  watches: WatchStore;
  watchScheduler: WatchScheduler;
  /** Where `/mesh watch` without a channel sends notifications (MESHOPS_NOTIFY_CHANNEL); else the channel typed in. */
  notifyChannel: string | null;
  outbox: Outbox;
  /** A run's thread, as the runner tells it (a cancel says so there). */
  notifier: Notifier;
  clock: Clock;
  log: Logger;
  approvals: Config['approvals'];
  /** Who may ask for what (empty lists let everyone). */
  access: Config['access'];
  /** Resolves user groups in approvers and requesters. */
  directory: SlackDirectory;
  /** Every decision, refused click, cancel and refused request, per cluster. */
  audit: AuditLog;
  aliases: Record<string, string>;
  /** config fleet.hostProjects: a cluster joining a host's fleet needs access to the host project too. */
  hostProjects: Config['fleet']['hostProjects'];
  newRunId(): string;
}
