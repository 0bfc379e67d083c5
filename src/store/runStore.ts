import type { Redis } from 'ioredis';
import { MeshopsError } from '../errors.js';
import { clusterKey, isTerminal, type RunRecord } from '../workflows/run.js';

/** Writes `json` at version ARGV[2] only if the stored version is still ARGV[1]. */
const compareAndSet = `
local current = redis.call('HGET', KEYS[1], 'v')
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3])
return 1`;

/** Takes the cluster lock if it is free or still held by the run named in ARGV[2] (a finished one). */
const takeLock = `
local holder = redis.call('GET', KEYS[1])
if (not holder) or holder == ARGV[1] or holder == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return holder`;

const createRecord = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '1', 'json', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1`;

const releaseLock = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class VersionConflict extends MeshopsError {
  constructor(runId: string) {
    super('CONFLICT', `run ${runId} was changed by someone else; re-read it`, { retryable: true });
  }
}

/**
 * Run records in Redis: one hash per run (`v` = version, `json` = the record), written with
 * compare-and-set so a worker and an approval click never overwrite each other.
 */
export class RunStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private runKey(id: string): string {
    return `${this.prefix}:run:${id}`;
  }

  private lockKey(run: Pick<RunRecord, 'cluster'>): string {
    return `${this.prefix}:lock:cluster:${clusterKey(run.cluster)}`;
  }

  /** Stores a new record at version 1 and indexes it by creation time. */
  async create(run: RunRecord): Promise<RunRecord> {
    const stored = { ...run, version: 1 };
    const created = await this.redis.eval(
      createRecord,
      2,
      this.runKey(run.id),
      `${this.prefix}:index:runs`,
      JSON.stringify(stored),
      String(run.createdAt),
      run.id,
    );
    if (created !== 1) throw new MeshopsError('ALREADY_EXISTS', `run ${run.id} already exists`);
    return stored;
  }

  async get(id: string): Promise<RunRecord | null> {
    const json = await this.redis.hget(this.runKey(id), 'json');
    return json ? (JSON.parse(json) as RunRecord) : null;
  }

  async require(id: string): Promise<RunRecord> {
    const run = await this.get(id);
    if (!run) throw new MeshopsError('NOT_FOUND', `run ${id} not found`);
    return run;
  }

  /** Saves `run` if nobody saved since it was read; returns it at its new version. */
  async save(run: RunRecord): Promise<RunRecord> {
    const next = { ...run, version: run.version + 1 };
    const ok = await this.redis.eval(
      compareAndSet,
      1,
      this.runKey(run.id),
      String(run.version),
      String(next.version),
      JSON.stringify(next),
    );
    if (ok !== 1) throw new VersionConflict(run.id);
    return next;
  }

  /**
   * Read-modify-write with compare-and-set, retried on conflict. `change` returns the new record,
   * or null to leave it as it is.
   */
  async update(id: string, change: (run: RunRecord) => RunRecord | null): Promise<RunRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.require(id);
      const changed = change(current);
      if (!changed) return current;
      try {
        return await this.save(changed);
      } catch (error) {
        if (!(error instanceof VersionConflict)) throw error;
      }
    }
    throw new MeshopsError('CONFLICT', `run ${id} kept changing under us; try again`, { retryable: true });
  }

  /**
   * One active run per cluster. Returns the id of the run that holds the lock afterwards: `run.id`
   * when taken, else the other run's id. A lock left by a finished run is taken over.
   */
  async lockCluster(run: RunRecord): Promise<string> {
    const key = this.lockKey(run);
    const holder = await this.redis.get(key);
    let finished = '';
    if (holder && holder !== run.id) {
      const other = await this.get(holder);
      if (!other || isTerminal(other)) finished = holder;
    }
    return (await this.redis.eval(takeLock, 1, key, run.id, finished)) as string;
  }

  async unlockCluster(run: RunRecord): Promise<void> {
    await this.redis.eval(releaseLock, 1, this.lockKey(run), run.id);
  }

  async remove(run: RunRecord): Promise<void> {
    await this.redis.multi().del(this.runKey(run.id)).zrem(`${this.prefix}:index:runs`, run.id).exec();
  }

  /** Remembers which run a Slack trigger started, so a replayed request starts nothing new. */
  async claimTrigger(triggerId: string, runId: string): Promise<string> {
    const key = `${this.prefix}:trigger:${triggerId}`;
    const set = await this.redis.set(key, runId, 'EX', 86_400, 'NX');
    if (set === 'OK') return runId;
    return (await this.redis.get(key)) ?? runId;
  }
}
