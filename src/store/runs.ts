import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { RedisClient } from './redisClient.js';
import { MeshopsError } from '../errors.js';
import { clusterKey, isTerminal, type RunRecord } from '../workflows/run.js';
import type { Keys } from './keys.js';

/**
 * Writes `json` at version ARGV[2] only if the stored version is still ARGV[1]; a record that has
 * become terminal leaves the index of active runs in the same step.
 */
const compareAndSet = `
local current = redis.call('HGET', KEYS[1], 'v')
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'json', ARGV[3])
if ARGV[4] == '1' then redis.call('ZREM', KEYS[2], ARGV[5]) end
return 1`;

const createRecord = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '1', 'json', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
return 1`;

/**
 * Admission in one step: claim the Slack trigger (a replay starts nothing), take the cluster's lock
 * unless an active run holds it (a finished holder's lock is taken over), create and index the record.
 * A dry run (ARGV[5] = '0') takes no lock and is never busy: it changes nothing, so it neither waits
 * for nor holds up a real run; it is told which active run holds the cluster, if one does.
 * KEYS: trigger, run, runsByTime, activeRuns, runsOfCluster, clusterLock.
 * ARGV: run id, record JSON, createdAt, trigger TTL (s), '1' to lock the cluster.
 */
const admitRun = `
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4], 'NX') then
  return {'replay', redis.call('GET', KEYS[1]) or ''}
end
local holder = redis.call('GET', KEYS[6])
local active = holder and holder ~= ARGV[1] and redis.call('ZSCORE', KEYS[4], holder)
if active and ARGV[5] == '1' then return {'busy', holder} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists', ''} end
redis.call('HSET', KEYS[2], 'v', '1', 'json', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
if ARGV[5] == '1' then redis.call('SET', KEYS[6], ARGV[1]) end
return {'admitted', active and holder or ''}`;

/** How long a Slack trigger_id is remembered: Slack retries within minutes, replays are refused for a day. */
const TRIGGER_TTL_SECONDS = 86_400;

export type Admission =
  /** `holder`: the active run that holds the cluster, when a dry run was admitted beside it. */
  | { state: 'admitted'; run: RunRecord; holder?: string }
  /** The trigger was claimed before, by this run id (whose record may not exist: it started nothing). */
  | { state: 'replay'; claimant: string }
  /** Another active run holds the cluster. */
  | { state: 'busy'; holder: string };

/**
 * A record as stored: JSON while the run goes on; once it has finished (read now and then, by status
 * and the audit of late clicks) deflated, about a third of the size.
 */
function encode(run: RunRecord): string {
  const json = JSON.stringify(run);
  return isTerminal(run) ? `z:${deflateRawSync(json).toString('base64')}` : json;
}

function decode(stored: string): RunRecord {
  const json = stored.startsWith('z:')
    ? inflateRawSync(Buffer.from(stored.slice(2), 'base64')).toString('utf8')
    : stored;
  return JSON.parse(json) as RunRecord;
}

export class VersionConflict extends MeshopsError {
  constructor(runId: string) {
    super('CONFLICT', `run ${runId} was changed by someone else; re-read it`, { retryable: true });
  }
}

/**
 * Run records in Redis: one hash per run (`v` = version, `json` = the record), written with
 * compare-and-set so a worker and an approval click never overwrite each other; indexed by time,
 * by cluster and (while not finished) as active.
 */
export class RunStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Stores a new record at version 1 and indexes it. */
  async create(run: RunRecord): Promise<RunRecord> {
    const stored = { ...run, version: 1 };
    const created = await this.redis.eval(
      createRecord,
      4,
      this.keys.run(run.id),
      this.keys.runsByTime(),
      this.keys.activeRuns(),
      this.keys.runsOfCluster(clusterKey(run.cluster)),
      encode(stored),
      String(run.createdAt),
      run.id,
    );
    if (created !== 1) throw new MeshopsError('ALREADY_EXISTS', `run ${run.id} already exists`);
    return stored;
  }

  /**
   * Admits a new run in one Redis round trip (see admitRun): the trigger claimed, the cluster locked
   * (not for a dry run), the record created at version 1 and indexed, or nothing written but the
   * trigger's claim.
   */
  async admit(run: RunRecord, triggerId: string): Promise<Admission> {
    const stored = { ...run, version: 1 };
    const [state, other] = (await this.redis.eval(
      admitRun,
      6,
      this.keys.trigger(triggerId),
      this.keys.run(run.id),
      this.keys.runsByTime(),
      this.keys.activeRuns(),
      this.keys.runsOfCluster(clusterKey(run.cluster)),
      this.keys.clusterLock(clusterKey(run.cluster)),
      run.id,
      encode(stored),
      String(run.createdAt),
      String(TRIGGER_TTL_SECONDS),
      run.dryRun ? '0' : '1',
    )) as [string, string];
    if (state === 'replay') return { state, claimant: other };
    if (state === 'busy') return { state, holder: other };
    if (state !== 'admitted') throw new MeshopsError('ALREADY_EXISTS', `run ${run.id} already exists`);
    return { state, run: stored, ...(other ? { holder: other } : {}) };
  }

  async get(id: string): Promise<RunRecord | null> {
    const json = await this.redis.hget(this.keys.run(id), 'json');
    return json ? decode(json) : null;
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
      2,
      this.keys.run(run.id),
      this.keys.activeRuns(),
      String(run.version),
      String(next.version),
      encode(next),
      isTerminal(next) ? '1' : '0',
      run.id,
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

  /** Takes back a record whose run never started (its admission failed half-way). */
  async remove(run: RunRecord): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.run(run.id))
      .zrem(this.keys.runsByTime(), run.id)
      .zrem(this.keys.activeRuns(), run.id)
      .zrem(this.keys.runsOfCluster(clusterKey(run.cluster)), run.id)
      .exec();
  }

  /** Runs not finished yet, oldest first (at most `limit`). */
  async active(limit = 50): Promise<RunRecord[]> {
    return this.records(await this.redis.zrange(this.keys.activeRuns(), 0, limit - 1));
  }

  /** The most recent run of a cluster, if any. */
  async latestOfCluster(cluster: string): Promise<RunRecord | null> {
    const [id] = await this.redis.zrange(this.keys.runsOfCluster(cluster), 0, 0, 'REV');
    return id ? this.get(id) : null;
  }

  /** The records of `ids` in one round trip, in order; null where there is none. */
  async many(ids: string[]): Promise<Array<RunRecord | null>> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.run(id), 'json');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([, json]) => (typeof json === 'string' ? decode(json) : null));
  }

  private async records(ids: string[]): Promise<RunRecord[]> {
    return (await this.many(ids)).filter((run): run is RunRecord => run !== null);
  }
}
