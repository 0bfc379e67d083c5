import type { RedisClient } from './redisClient.js';
import type { Keys } from './keys.js';

export type AuditAction =
  'approved' | 'rejected' | 'click-refused' | 'cancelled' | 'cancel-refused' | 'request-refused';

/** One line of a cluster's audit trail: who did what to which run, and why it was refused if it was. */
export interface AuditEntry {
  at: number;
  action: AuditAction;
  user: string;
  runId?: string;
  /** A refusal's reason, or a rejection's. */
  reason?: string;
}

/** Entries kept per cluster. */
const KEEP = 500;

/**
 * Every decision, refused click and cancel, pushed onto a capped Redis list per cluster, newest first
 * (a list: a stream's first entry alone costs about 4 KB, a list's about 150 bytes). The run record
 * says what happened to the run; this says who tried what, including what did not count.
 */
export class AuditLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async append(cluster: string, entry: AuditEntry): Promise<void> {
    const key = this.keys.audit(cluster);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(entry))
      .ltrim(key, 0, KEEP - 1)
      .exec();
  }

  /** The newest `count` entries, newest first. */
  async recent(cluster: string, count: number): Promise<AuditEntry[]> {
    const rows = await this.redis.lrange(this.keys.audit(cluster), 0, count - 1);
    return rows.map((row) => JSON.parse(row) as AuditEntry);
  }
}
