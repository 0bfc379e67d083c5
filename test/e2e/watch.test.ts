/**
 * Revision-upgrade notifications end to end: a watched cluster's managed mesh changes in the
 * emulator (Google's doing), the watcher reads it over HTTP, and the watching channel gets exactly
 * one message per change, with before → after and what to check.
 */
import { Redis } from 'ioredis';
import type { SlackMessage } from '../../src/sim/index.js';
import { Keys } from '../../src/store/keys.js';
import { WatchStore } from '../../src/store/watches.js';
import { enableAndApprove, slash, threadOf } from '../support/flows.js';
import { CHANNEL, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';
const WATCH = 'C0WATCH';

describe('revision-upgrade notifications', () => {
  let h: Harness;
  let redis: Redis;
  let watches: WatchStore;

  beforeAll(async () => {
    h = await startHarness({ scenario: 'upgrades' });
    redis = new Redis(h.config.redis.url);
    watches = new WatchStore(redis, new Keys(h.config.redis.prefix));
    await enableAndApprove(h.app.url, h.sim, C1, 'default,shop,legacy');
  });
  afterAll(async () => {
    await redis.quit();
    await h?.stop();
  });

  /** The watcher's messages in a channel (top-level, from the watcher), oldest first. */
  function told(channel = WATCH): SlackMessage[] {
    return h.sim.slack.messages(channel).filter((m) => !m.thread_ts && m.text.startsWith('The mesh of'));
  }

  function all(channel = WATCH): string {
    return told(channel)
      .map((m) => JSON.stringify(m.blocks))
      .join('\n');
  }

  async function readAfter(count: number): Promise<void> {
    const start = (await watches.get(C1))?.version ?? 0;
    await waitFor(
      `${count} more reads of ${C1}`,
      async () => ((await watches.get(C1))?.version ?? 0) >= start + count,
    );
  }

  function waitForText(text: string, channel = WATCH): Promise<string> {
    return waitFor(
      `"${text}" in ${channel}`,
      () => (all(channel).includes(text) ? all(channel) : undefined),
      30_000,
    );
  }

  function occurrences(text: string, channel = WATCH): number {
    return told(channel).filter((m) => JSON.stringify(m.blocks).includes(text)).length;
  }

  it('a successful enable watches its cluster in its channel; /mesh watch adds another channel', async () => {
    await waitFor('the watch reply in the run thread', () =>
      threadOf(h.sim, C1).find((m) => m.text.startsWith(`:eyes: <#${CHANNEL}> now watches`)),
    );
    const ack = await slash(h.app.url, `watch ${C1} <#${WATCH}|mesh-watch>`);
    expect(ack.text).toContain(`<#${WATCH}> now watches \`${C1}\``);
    const again = await slash(h.app.url, `watch ${C1} <#${WATCH}|mesh-watch>`);
    expect(again.text).toContain('already watches');
    const record = await watches.get(C1);
    expect(record?.channels.map((c) => [c.channel, c.auto ?? false])).toEqual([
      [CHANNEL, true],
      [WATCH, false],
    ]);
    await readAfter(3);
    expect(told()).toEqual([]);
  });

  it('30 minutes of simulated time with no change posts nothing, and looks only', async () => {
    const mutations = h.sim.requests.mutations().length;
    for (let minute = 0; minute < 30; minute++) {
      h.sim.clock.advance(60_000);
      await readAfter(1);
    }
    expect(told()).toEqual([]);
    expect(told(CHANNEL)).toEqual([]);
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
  });

  it('the implementation moving to Traffic Director, said plainly', async () => {
    h.sim.world.upgradeMesh(C1, { implementation: 'UPDATING' });
    await waitForText('Google is moving this cluster');
    h.sim.world.upgradeMesh(C1, { implementation: 'TRAFFIC_DIRECTOR' });
    const text = await waitForText('The managed control plane is now `TRAFFIC_DIRECTOR`');
    expect(text).toContain('no per-cluster control-plane revision');
  });

  it('a proxy roll-out: started, finished, with the opted-out workload named as staying behind', async () => {
    h.sim.world.upgradeMesh(C1, { proxyVersion: '1.24.2-asm.1', podIntervalMs: 20_000 });
    const text = await waitForText('Proxy roll-out to `1.24.2-asm.1` finished');
    expect(text).toContain('Proxy roll-out started: `1.23.6-asm.14` → `1.24.2-asm.1`, 5 pod(s) to restart');
    expect(text).toContain('`legacy/batch`');
    expect(h.sim.world.rolloutStatus(C1)).toMatchObject({ target: '1.24.2-asm.1', done: 5 });
  });

  it('a failed roll-out names the pods, the reason and what to check', async () => {
    h.sim.world.upgradeMesh(C1, {
      proxyVersion: '1.24.3-asm.2',
      podIntervalMs: 20_000,
      failWorkloads: ['shop/cart'],
    });
    const text = await waitForText('Proxy upgrade to `1.24.3-asm.2` failed on');
    expect(text).toMatch(/`shop\/cart-[a-z0-9-]+`/);
    expect(text).toContain('PodDisruptionBudget shop/cart');
    expect(text).toContain('kubectl get pods -A -l dataplane-upgrade=failed');
  });

  it('health degraded with its condition and link, then recovered', async () => {
    h.sim.world.degradeMesh(C1);
    const text = await waitForText('Mesh health degraded');
    expect(text).toContain('MESH_IAM_PERMISSION_DENIED');
    expect(text).toContain('troubleshoot-with-feature-state-condition#mesh_iam_permission_denied|docs');
    h.sim.world.recoverMesh(C1);
    await waitForText('Mesh healthy again');
  });

  it('a release channel change: the channel, the new revision ready, the proxies rolled to it', async () => {
    h.sim.world.setReleaseChannel(C1, 'RAPID');
    await waitForText('GKE release channel: `REGULAR` → `RAPID`');
    await waitForText('Control-plane revision `asm-managed-rapid` is ready');
    await waitForText('Proxy roll-out started: `1.24.3-asm.2` → `1.24.2-asm.1`');
    // The cart pods the failed roll-out left on 1.24.2-asm.1 stay; the other three move, and that roll-out ends too.
    await waitFor('the second roll-out to 1.24.2-asm.1 finished', () =>
      occurrences('Proxy roll-out to `1.24.2-asm.1` finished') === 2 ? true : undefined,
    );
  });

  it('told each change exactly once, in both watching channels, and /mesh list shows the watches', async () => {
    await readAfter(5);
    for (const text of [
      'Google is moving this cluster',
      'The managed control plane is now `TRAFFIC_DIRECTOR`',
      'Proxy roll-out started: `1.23.6-asm.14` → `1.24.2-asm.1`',
      'Mesh health degraded',
      'Mesh healthy again',
      'GKE release channel: `REGULAR` → `RAPID`',
      'Control-plane revision `asm-managed-rapid` is ready',
    ]) {
      expect([text, occurrences(text)]).toEqual([text, 1]);
      expect([text, occurrences(text, CHANNEL)]).toEqual([text, 1]);
    }
    // Two roll-outs went to 1.24.2-asm.1 (the first one, and the RAPID channel's): each told once.
    const finished = 'Proxy roll-out to `1.24.2-asm.1` finished';
    expect([occurrences(finished), occurrences(finished, CHANNEL)]).toEqual([2, 2]);
    // Each pod whose upgrade failed is named in one message (the two cart pods fail one after the other).
    const failed = told().flatMap((m) =>
      [...JSON.stringify(m.blocks).matchAll(/failed on `(shop\/cart-[a-z0-9-]+)`/g)].map((x) => x[1]),
    );
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(failed).size).toBe(failed.length);
    const mutations = h.sim.requests.mutations().length;
    const list = await slash(h.app.url, 'list');
    expect(h.sim.requests.mutations()).toHaveLength(mutations);
    expect(list.text).toContain(`\`${C1}\` in <#${CHANNEL}> (after enable), <#${WATCH}> — last change`);
    expect(list.text).toContain('*Runs in flight* (0)');
  });

  it('/mesh unwatch stops one channel; the other keeps watching', async () => {
    const ack = await slash(h.app.url, `unwatch ${C1} <#${WATCH}|mesh-watch>`);
    expect(ack.text).toContain(`<#${WATCH}> no longer watches \`${C1}\`. Still watching it: <#${CHANNEL}>.`);
    const before = told().length;
    h.sim.world.degradeMesh(C1);
    await waitFor(
      'the degradation told in the other channel',
      () => occurrences('Mesh health degraded', CHANNEL) === 2,
    );
    expect(told()).toHaveLength(before);
    const last = await slash(h.app.url, `unwatch ${C1}`);
    expect(last.text).toContain(`<#${CHANNEL}> no longer watches`);
    expect(await watches.get(C1)).toBeNull();
  });
});
