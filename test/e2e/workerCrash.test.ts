/**
 * Kill -9 the only meshops process while the control plane is provisioning, start another, and the
 * run finishes: one root message, one membership, no step message twice.
 */
import { startSim, type Sim } from '../../src/sim/index.js';
import { processEnv, startMeshopsProcess, type MeshopsProcess } from '../support/child.js';
import { click, roots, slash, threadOf, waitForPrompt, waitForReply } from '../support/flows.js';
import { APPROVER } from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';
import { waitFor } from '../support/wait.js';

const HOUR = 3_600_000;

describe('a worker killed mid-run', () => {
  let sim: Sim;
  const processes: MeshopsProcess[] = [];

  afterAll(async () => {
    for (const p of processes) await p.kill('SIGTERM');
    await sim?.close();
  });

  it('resumes from the run record in a new process', async () => {
    // The control plane stays PROVISIONING for an hour of simulated time, until the test moves the clock.
    sim = await startSim({
      speed: 100,
      scenario: 'default',
      timings: { controlPlaneActiveAfter: HOUR, dataPlaneProvisioningAfter: HOUR + 30_000 },
    });
    const env = processEnv(sim);
    const first = await startMeshopsProcess(env);
    processes.push(first);

    expect(
      (await slash(first.url, 'enable cluster proj-a/us-central1/c1 namespaces=default,shop')).status,
    ).toBe(200);
    await waitFor('the control plane provisioning', () =>
      threadOf(sim).find((m) => m.text.includes('Control plane: *PROVISIONING*')),
    );

    // Hold the next poll of the feature in flight, so the kill lands while the job is active
    // (locked by the dying worker): only BullMQ's stalled check can hand it on.
    sim.faults.slow({
      api: 'gkehub',
      latencyMs: 10_000,
      method: 'GET',
      pathIncludes: 'features/servicemesh',
    });
    await waitFor('a poll in flight', () => sim.faults.slowed.length === 1, 10_000);
    await first.kill('SIGKILL');
    sim.clock.advance(HOUR);

    const second = await startMeshopsProcess(env);
    processes.push(second);
    const prompt = await waitForPrompt(sim, undefined, 60_000);
    expect(await click(second.url, APPROVER, prompt)).toBe(200);
    await waitForReply(sim, ':tada: Done.', undefined, 60_000);
    expect(second.output.join('')).toContain('"queue":"runs","msg":"job stalled');

    expect(roots(sim)).toHaveLength(1);
    expect(await listMemberships(sim, 'proj-a')).toHaveLength(1);
    const texts = threadOf(sim).map((m) => m.text);
    for (const prefix of [
      ':mag:',
      ':link:',
      ':label:',
      ':gear:',
      ':satellite: Control plane: *PROVISIONING*',
      ':clipboard:',
      ':syringe:',
      ':tada:',
    ]) {
      expect(texts.filter((t) => t.startsWith(prefix))).toHaveLength(1);
    }
    expect(
      sim.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.reply_broadcast),
    ).toHaveLength(1);
  });
});
