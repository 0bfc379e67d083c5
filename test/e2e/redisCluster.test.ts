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
import { deleteKeysUnder, Keys } from '../../src/store/keys.js';
import { connectRedis } from '../../src/store/redisClient.js';
import { ask, click, enableAndApprove, hasButtons, roots } from '../support/flows.js';
import { startRedisServer, type TestRedis } from '../support/globalSetup.js';
import { APPROVER, CHANNEL, REQUESTER, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { writeConfigFile } from '../support/child.js';

/** meshops on the Redis at `url`, over three clusters of one project. */
function startOn(url: string, redis: { prefix: string; cluster?: boolean }): Promise<Harness> {
  return startHarness(
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
    { env: { REDIS_URL: url }, config: { redis }, captureLogs: true },
  );
}

/** A run, then a batch of two; returns once the batch's summary is out. */
async function runAndBatch(h: Harness): Promise<void> {
  await enableAndApprove(h.app.url, h.sim, 'slot-a/us-central1/c1', 'default');

  const list = await ask(h.app.url, h.sim, 'enable cluster slot-a/-/c2 slot-a/-/c3 namespaces=default');
  expect(await click(h.app.url, REQUESTER, list, CONFIRM_ACTION)).toBe(200);
  const prompt = await waitFor(
    'the batch prompt',
    () =>
      h.sim.slack
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
      h.sim.slack
        .thread(CHANNEL, batchRoot.ts)
        .find((m) => m.text.includes('2 of 2 cluster(s) on Cloud Service Mesh')),
    90_000,
  );
}

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
    h = await startOn(server.url, { prefix });
    await runAndBatch(h);
    expect(loadConfig(h.env, { redis: { prefix } }).redis.prefix).toBe(prefix);

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

/**
 * Three primaries sharing the 16,384 slots, as Memorystore for Redis Cluster is: meshops connects to
 * one of them with the Cluster client (`redis.cluster: true`) while its prefix's slot lives on
 * another, so every command is redirected (MOVED) and followed.
 */
describe('on a Redis Cluster of three primaries', () => {
  const servers: TestRedis[] = [];
  const clients: Redis[] = [];
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.stop();
    for (const client of clients) await client.quit();
    for (const server of servers) await server.stop();
  });

  it('with redis.cluster: true, a run and a batch finish on the primary that holds the prefix', async () => {
    for (let i = 0; i < 3; i++) {
      servers.push(
        await startRedisServer(undefined, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
        ]),
      );
      clients.push(new Redis(servers[i]!.url));
    }
    const ranges = [
      ['0', '5460'],
      ['5461', '10922'],
      ['10923', '16383'],
    ];
    for (const [i, client] of clients.entries()) await client.call('CLUSTER', 'ADDSLOTSRANGE', ...ranges[i]!);
    for (const server of servers.slice(1)) {
      await clients[0]!.call('CLUSTER', 'MEET', '127.0.0.1', new URL(server.url).port);
    }
    await waitFor(
      'the cluster to be ok on every node',
      async () => {
        for (const client of clients) {
          if (!/cluster_state:ok/.test(String(await client.call('CLUSTER', 'INFO')))) return false;
        }
        return true;
      },
      30_000,
    );
    // A prefix whose slot is not on the node meshops is pointed at.
    let prefix = '';
    let owner = 0;
    for (;;) {
      prefix = `{meshops-${randomBytes(3).toString('hex')}}`;
      const slot = Number(await clients[0]!.call('CLUSTER', 'KEYSLOT', prefix));
      owner = ranges.findIndex(([from, to]) => slot >= Number(from) && slot <= Number(to));
      if (owner !== 0) break;
    }

    expect(() =>
      loadConfig({ MESHOPS_CONFIG: writeConfigFile({ redis: { cluster: true, prefix: 'meshops' } }) }),
    ).toThrow(/redis\.prefix: on a Redis Cluster .* hash-tagged/);
    // A plain client on that node is sent elsewhere: what the Cluster client has to follow.
    await expect(clients[0]!.set(`${prefix}:probe`, '1')).rejects.toThrow(/MOVED/);
    h = await startOn(servers[0]!.url, { prefix, cluster: true });
    await runAndBatch(h);

    // Every key is on the owner of the prefix's slot; the other primaries hold nothing.
    const keys = await clients[owner]!.keys(`${prefix}*`);
    expect(keys.some((k) => k.startsWith(`${prefix}:runs:`))).toBe(true);
    for (const [i, client] of clients.entries()) {
      if (i !== owner) expect(await client.dbsize()).toBe(0);
    }
    expect(h.logs.filter((line) => /CROSSSLOT|MOVED|ERR/.test(line))).toEqual([]);

    // Local mode's clean-up finds the keys through the Cluster client too.
    await h.stop();
    h = undefined;
    const cluster = connectRedis(servers[0]!.url, true);
    try {
      expect(await deleteKeysUnder(cluster, prefix)).toBeGreaterThan(20);
      expect(await clients[owner]!.dbsize()).toBe(0);
    } finally {
      await cluster.quit();
    }
  }, 180_000);
});
