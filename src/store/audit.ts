import type { Redis } from 'ioredis';
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

/** Entries kept per cluster (approximately: the stream is trimmed with `MAXLEN ~`). */
const KEEP = 500;

/**
 * Every decision, refused click and cancel, appended to a capped Redis stream per cluster. The
 * run record says what happened to the run; this says who tried what, including what did not count.
 */
export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async append(cluster: string, entry: AuditEntry): Promise<void> {
    const fields = Object.entries(entry).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    await this.redis.xadd(this.keys.audit(cluster), 'MAXLEN', '~', KEEP, '*', ...fields);
  }

  /** The newest `count` entries, newest first. */
  async recent(cluster: string, count: number): Promise<AuditEntry[]> {
    const rows = await this.redis.xrevrange(this.keys.audit(cluster), '+', '-', 'COUNT', count);
    return rows.map(([, flat]) => {
      const raw: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) raw[flat[i]!] = flat[i + 1]!;
      return {
        at: Number(raw.at),
        action: raw.action as AuditAction,
        user: raw.user ?? '',
        ...(raw.runId ? { runId: raw.runId } : {}),
        ...(raw.reason ? { reason: raw.reason } : {}),
      };
    });
  }
}
