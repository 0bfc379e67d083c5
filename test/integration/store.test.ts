import type { Redis } from 'ioredis';
import { Keys } from '../../src/store/keys.js';
import { ClusterLocks } from '../../src/store/locks.js';
import { RunStore, VersionConflict } from '../../src/store/runs.js';
import { Triggers } from '../../src/store/triggers.js';
import { startRun } from '../../src/workflows/registry.js';
import type { RunRecord } from '../../src/workflows/run.js';
import { connect, testPrefix } from '../support/redis.js';

function run(id: string, name = 'c1'): RunRecord {
  return startRun('enable-cluster', {
    id,
    now: Date.now(),
    requester: { userId: 'U1', channelId: 'C1' },
    cluster: { project: 'proj-a', location: 'us-central1', name },
    options: { namespaces: [], restart: true },
  });
}

describe('run records, locks and triggers on a real Redis', () => {
  let redis: Redis;
  let store: RunStore;
  let locks: ClusterLocks;
  let triggers: Triggers;

  beforeAll(() => {
    redis = connect();
  });
  beforeEach(() => {
    const keys = new Keys(testPrefix());
    store = new RunStore(redis, keys);
    locks = new ClusterLocks(redis, keys, store);
    triggers = new Triggers(redis, keys);
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('creates once, reads back, and refuses a second create', async () => {
    const created = await store.create(run('a1'));
    expect(created.version).toBe(1);
    expect(await store.get('a1')).toEqual(created);
    await expect(store.create(run('a1'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('compare-and-set: a stale writer loses and nothing of it is stored', async () => {
    const created = await store.create(run('a2'));
    const first = await store.save({ ...created, status: 'running' });
    expect(first.version).toBe(2);
    await expect(store.save({ ...created, status: 'failed' })).rejects.toBeInstanceOf(VersionConflict);
    expect((await store.get('a2'))?.status).toBe('running');
  });

  it('update() retries on conflict so concurrent writers both land', async () => {
    await store.create(run('a3'));
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.update('a3', (r) => ({ ...r, facts: { ...r.facts, [`k${i}`]: i } })),
      ),
    );
    const final = await store.require('a3');
    expect(final.version).toBe(11);
    expect(Object.keys(final.facts)).toHaveLength(10);
  });

  it('one lock per cluster; a finished holder is taken over', async () => {
    const a = await store.create(run('b1'));
    const b = await store.create(run('b2'));
    expect(await locks.lock(a)).toBe('b1');
    expect(await locks.lock(b)).toBe('b1');
    expect(await locks.lock(run('b3', 'other'))).toBe('b3');
    await store.save({ ...a, status: 'succeeded' });
    await store.create(run('b4'));
    expect(await locks.lock(b)).toBe('b2');
    await locks.unlock(a); // not the holder any more: must not release b2's lock
    expect(await locks.lock((await store.get('b4'))!)).toBe('b2');
  });

  it('claims a trigger id once', async () => {
    expect(await triggers.claim('t1', 'r1')).toBe('r1');
    expect(await triggers.claim('t1', 'r2')).toBe('r1');
  });

  it('lists active runs until they finish, and finds the latest run of a cluster', async () => {
    const older = await store.create({ ...run('c1'), createdAt: 1000 });
    const newer = await store.create({ ...run('c2'), createdAt: 2000 });
    await store.create({ ...run('c3', 'other'), createdAt: 3000 });
    expect((await store.active()).map((r) => r.id)).toEqual(['c1', 'c2', 'c3']);
    await store.save({ ...newer, status: 'failed' });
    expect((await store.active()).map((r) => r.id)).toEqual(['c1', 'c3']);
    expect((await store.latestOfCluster('proj-a/us-central1/c1'))?.id).toBe('c2');
    expect(await store.latestOfCluster('proj-a/us-central1/nothing')).toBeNull();
    await store.remove(older);
    expect((await store.active()).map((r) => r.id)).toEqual(['c3']);
    expect((await store.latestOfCluster('proj-a/us-central1/c1'))?.id).toBe('c2');
  });
});
