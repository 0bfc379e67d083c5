import type { Config } from '../config.js';
import type { RunQueue } from '../jobs/runQueue.js';
import type { Logger } from '../log.js';
import type { RunStore } from '../store/runStore.js';
import type { Clock } from '../workflows/ports.js';

/** What a handler may touch: Redis (records, queue) and nothing slow. Handlers never call Google. */
export interface HandlerDeps {
  store: RunStore;
  queue: RunQueue;
  clock: Clock;
  log: Logger;
  approvals: Config['approvals'];
  aliases: Record<string, string>;
  newRunId(): string;
}
