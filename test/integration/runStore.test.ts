import type { Redis } from 'ioredis';
import { RunStore, VersionConflict } from '../../src/store/runStore.js';
import { newRun, type RunRecord } from '../../src/workflows/run.js';
import { connect, testPrefix } from '../support/redis.js';

function run(id: string, name = 'c1'): RunRecord {
  return newRun({
    id,
    now: Date.now(),
    requester: { userId: 'U1', channelId: 'C1' },
    cluster: { project: 'proj-a', location: 'us-central1', name },
    options: { namespaces: [], restart: true },
  });
}

describe('RunStore on a real Redis', () => {
  let redis: Redis;
  let store: RunStore;

  beforeAll(() => {
    redis = connect();
  });
  beforeEach(() => {
    store = new RunStore(redis, testPrefix());
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
    expect(await store.lockCluster(a)).toBe('b1');
    expect(await store.lockCluster(b)).toBe('b1');
    expect(await store.lockCluster(run('b3', 'other'))).toBe('b3');
    await store.save({ ...a, status: 'succeeded' });
    await store.create(run('b4'));
    expect(await store.lockCluster(b)).toBe('b2');
    await store.unlockCluster(a); // not the holder any more: must not release b2's lock
    expect(await store.lockCluster((await store.get('b4'))!)).toBe('b2');
  });

  it('claims a trigger id once', async () => {
    expect(await store.claimTrigger('t1', 'r1')).toBe('r1');
    expect(await store.claimTrigger('t1', 'r2')).toBe('r1');
  });
});
