/**
 * Redis Cluster refuses a command or script whose keys are in different slots (CROSSSLOT), even on
 * one node that serves every slot. On such a node, a hash-tagged prefix (`{meshops…}`) puts every
 * key of meshops and of its BullMQ queues in one slot: a run goes from the command to `Done`, and a
 * batch of three finishes. Without the tag, the same admission is refused, which is what the test
 * would see if a key were named outside the prefix.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { CONFIRM_ACTION } from '../../src/slack/renderBatch.js';
import { RunStore } from '../../src/store/runs.js';
import { Keys } from '../../src/store/keys.js';
import { ask, click, enableAndApprove, hasButtons, roots } from '../support/flows.js';
import { startRedisServer, type TestRedis } from '../support/globalSetup.js';
import { APPROVER, CHANNEL, REQUESTER, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

describe('on a Redis Cluster node', () => {
  let server: TestRedis;
  let redis: Redis;
  let h: Harness | undefined;
  const prefix = `{meshops-${randomBytes(3).toString('hex')}}`;

  beforeAll(async () => {
    server = await startRedisServer(undefined, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
    ]);
    redis = new Redis(server.url);
    await redis.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitFor('the cluster to be ok', async () =>
      /cluster_state:ok/.test(String(await redis.call('CLUSTER', 'INFO'))),
    );
  });
  afterAll(async () => {
    await h?.stop();
    await redis?.quit();
    await server?.stop();
  });

  it('refuses keys of two slots in one script: the prefix without braces would not do', async () => {
    const store = new RunStore(redis, new Keys('meshops-untagged'));
    await expect(
      store.admit(
        // Only the keys matter: the script is refused before it runs.
        { id: 'r1', cluster: { project: 'p', location: 'l', name: 'n' }, createdAt: 0 } as never,
        'trigger-1',
      ),
    ).rejects.toThrow(/CROSSSLOT/);
  });

  it('with a hash-tagged prefix, a run and a batch finish, and every key is in one slot', async () => {
    h = await startHarness(
      {
        scenario: {
          projects: [{ id: 'slot-a', number: '320000000001' }],
          clusters: ['c1', 'c2', 'c3'].map((name) => ({
            project: 'slot-a',
            location: 'us-central1',
            name,
            releaseChannel: 'REGULAR' as const,
            namespaces: [
              { name: 'default', deployments: [{ name: 'web', replicas: 1 }] },
              { name: 'istio-system' },
            ],
          })),
        },
      },
      { env: { REDIS_URL: server.url }, config: { redis: { prefix } }, captureLogs: true },
    );
    expect(loadConfig(h.env, { redis: { prefix } }).redis.prefix).toBe(prefix);
    await enableAndApprove(h.app.url, h.sim, 'slot-a/us-central1/c1', 'default');

    const list = await ask(h.app.url, h.sim, 'enable cluster slot-a/-/c2 slot-a/-/c3 namespaces=default');
    expect(await click(h.app.url, REQUESTER, list, CONFIRM_ACTION)).toBe(200);
    const prompt = await waitFor(
      'the batch prompt',
      () =>
        h!.sim.slack
          .messages(CHANNEL)
          .find(
            (m) =>
              m.thread_ts &&
              hasButtons(m) &&
              JSON.stringify(m.blocks).includes('Sidecar injection on 2 cluster(s)'),
          ),
      60_000,
    );
    expect(await click(h.app.url, APPROVER, prompt)).toBe(200);
    const batchRoot = roots(h.sim).at(-1)!;
    await waitFor(
      'the batch summary',
      () =>
        h!.sim.slack
          .thread(CHANNEL, batchRoot.ts)
          .find((m) => m.text.includes('2 of 2 cluster(s) on Cloud Service Mesh')),
      90_000,
    );

    // Every key meshops and BullMQ wrote is in the prefix's one slot.
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(20);
    expect(keys.some((k) => k.startsWith(`${prefix}:runs:`))).toBe(true);
    const slots = new Set(await Promise.all(keys.map((k) => redis.call('CLUSTER', 'KEYSLOT', k))));
    expect(slots.size).toBe(1);
    // …and none outside it (counted apart: keys come and go while the bot runs).
    expect((await redis.keys('*')).filter((k) => !k.startsWith(prefix))).toEqual([]);
    // Nothing in the background (outbox, watchers, compaction) was refused either.
    expect(h.logs.filter((line) => /CROSSSLOT|ERR/.test(line))).toEqual([]);
  }, 180_000);
});
