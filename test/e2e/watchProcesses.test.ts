/**
 * Two meshops processes on one Redis watch the same cluster; one is SIGKILLed while a read is in
 * flight and started again. Each change is told exactly once in each watching channel.
 */
import { startSim, type Sim, type SlackMessage } from '../../src/sim/index.js';
import { processEnv, startMeshopsProcess, type MeshopsProcess } from '../support/child.js';
import { enableAndApprove, slash } from '../support/flows.js';
import { CHANNEL } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';
const WATCH = 'C0WATCH';

describe('the watcher in two processes, one killed mid-read', () => {
  let sim: Sim;
  const processes: MeshopsProcess[] = [];

  afterAll(async () => {
    for (const p of processes) await p.kill('SIGTERM');
    await sim?.close();
  });

  function told(channel: string): SlackMessage[] {
    return sim.slack.messages(channel).filter((m) => !m.thread_ts && m.text.startsWith('The mesh of'));
  }

  function count(channel: string, text: string): number {
    return told(channel).filter((m) => JSON.stringify(m.blocks).includes(text)).length;
  }

  function waitForBoth(text: string): Promise<unknown> {
    return waitFor(
      `"${text}" in both channels`,
      () => count(WATCH, text) >= 1 && count(CHANNEL, text) >= 1,
      60_000,
    );
  }

  it('tells each change once, across processes and a kill', async () => {
    sim = await startSim({ speed: 100, scenario: 'upgrades' });
    const env = processEnv(sim, { worker: { concurrency: 20 } });
    const a = await startMeshopsProcess(env);
    const b = await startMeshopsProcess(env);
    processes.push(a, b);

    await enableAndApprove(a.url, sim, C1, 'default,shop,legacy');
    expect((await slash(b.url, `watch ${C1} <#${WATCH}|mesh-watch>`)).text).toContain('now watches');
    // Let the first reads set the baseline in both channels' watch.
    await new Promise((r) => setTimeout(r, 1500));

    sim.world.upgradeMesh(C1, { implementation: 'UPDATING' });
    await waitForBoth('Google is moving this cluster');

    // Hold reads of the data plane object in flight, so the kill lands mid-read: with a read due
    // every 200 ms and each held 2.5 s, both processes hold several when A is killed.
    sim.faults.slow({ api: 'kubernetes', latencyMs: 2500, times: 12, pathIncludes: 'dataplanecontrols' });
    await waitFor('reads in flight', () => sim.faults.slowed.length >= 8, 10_000);
    sim.world.degradeMesh(C1);
    await a.kill('SIGKILL');
    await waitForBoth('Mesh health degraded');
    // A's reads were taken over by B once their lock ran out.
    await waitFor('a stalled read taken over', () =>
      b.output.join('').includes('"queue":"watches","msg":"job stalled'),
    );

    const again = await startMeshopsProcess(env);
    processes.push(again);
    sim.world.recoverMesh(C1);
    await waitForBoth('Mesh healthy again');
    sim.world.upgradeMesh(C1, { implementation: 'TRAFFIC_DIRECTOR' });
    await waitForBoth('The managed control plane is now `TRAFFIC_DIRECTOR`');

    // A few more reads by both processes: nothing is told twice.
    await new Promise((r) => setTimeout(r, 2000));
    for (const text of [
      'Google is moving this cluster',
      'Mesh health degraded',
      'Mesh healthy again',
      'The managed control plane is now `TRAFFIC_DIRECTOR`',
    ]) {
      expect([text, count(WATCH, text), count(CHANNEL, text)]).toEqual([text, 1, 1]);
    }
    expect(told(WATCH)).toHaveLength(4);
    expect(told(CHANNEL)).toHaveLength(4);
  });
});
