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
    locks = new ClusterLocks(redis, keys);
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

  it('admits in one step: one run per cluster, a replayed trigger starts nothing, a finished holder is taken over', async () => {
    const a = await store.admit(run('b1'), 't-b1');
    expect(a).toMatchObject({ state: 'admitted', run: { id: 'b1', version: 1 } });
    expect(await store.get('b1')).toMatchObject({ id: 'b1', version: 1 });
    // Slack delivers the same request again: the first run is named, nothing new is written.
    expect(await store.admit(run('b1x'), 't-b1')).toEqual({ state: 'replay', claimant: 'b1' });
    expect(await store.get('b1x')).toBeNull();
    // Another request for the same cluster while b1 runs: refused, its trigger remembered as starting nothing.
    expect(await store.admit(run('b2'), 't-b2')).toEqual({ state: 'busy', holder: 'b1' });
    expect(await store.get('b2')).toBeNull();
    expect(await store.admit(run('b2y'), 't-b2')).toEqual({ state: 'replay', claimant: 'b2' });
    expect(await store.admit(run('b3', 'other'), 't-b3')).toMatchObject({ state: 'admitted' });
    expect((await store.active()).map((r) => r.id)).toEqual(['b1', 'b3']);
    // Once b1 has finished, its lock is taken over by the next run of the cluster.
    await store.save({ ...(await store.require('b1')), status: 'succeeded' });
    expect(await store.admit(run('b4'), 't-b4')).toMatchObject({ state: 'admitted' });
    const b4 = await store.require('b4');
    await locks.unlock(await store.require('b1')); // not the holder any more: must not release b4's lock
    expect(await store.admit(run('b5'), 't-b5')).toEqual({ state: 'busy', holder: 'b4' });
    await locks.unlock(b4);
    expect(await store.admit(run('b6'), 't-b6')).toMatchObject({ state: 'admitted' });
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
