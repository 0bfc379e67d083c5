/**
 * Kill -9 the only meshops process while the control plane is provisioning, start another, and the
 * run finishes: one root message, one membership, no step message twice.
 */
import type { SlackMessage } from '../../src/sim/index.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { startMeshopsProcess, writeConfigFile, type MeshopsProcess } from '../support/child.js';
import { APPROVER, CHANNEL, REQUESTER, SIGNING_SECRET, contractEnv } from '../support/harness.js';
import { listMemberships } from '../support/inspect.js';
import { testPrefix } from '../support/redis.js';
import { buttonClickBody, postSigned, slashCommandBody } from '../support/slackRequests.js';
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
    const env = contractEnv(sim, {
      MESHOPS_CONFIG: writeConfigFile({
        redis: { prefix: testPrefix() },
        worker: { lockDurationMs: 2000, stalledIntervalMs: 1000 },
        google: { retry: { attempts: 4, baseDelayMs: 50, maxDelayMs: 500 } },
      }),
      MESHOPS_POLL_INTERVAL_MS: '200',
    });
    const first = await startMeshopsProcess(env);
    processes.push(first);

    const res = await postSigned(
      first.url,
      slashCommandBody('enable cluster proj-a/us-central1/c1 namespaces=default,shop', REQUESTER, CHANNEL),
      { secret: SIGNING_SECRET },
    );
    expect(res.status).toBe(200);
    const thread = (): SlackMessage[] => {
      const root = sim.slack.messages(CHANNEL).find((m) => !m.thread_ts);
      return root ? sim.slack.thread(CHANNEL, root.ts) : [];
    };
    await waitFor(
      'the control plane provisioning',
      () => thread().find((m) => m.text.includes('Control plane: *PROVISIONING*')),
      30_000,
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
    const prompt = await waitFor(
      'the approval prompt',
      () => thread().find((m) => JSON.stringify(m.blocks ?? []).includes(APPROVE_ACTION)),
      60_000,
    );
    const runId = /run `(r[0-9a-z]+)`/.exec(JSON.stringify(prompt.blocks))?.[1] ?? '';
    const click = buttonClickBody({
      user: APPROVER,
      actionId: APPROVE_ACTION,
      value: runId,
      channel: CHANNEL,
      messageTs: prompt.ts,
    });
    expect((await postSigned(second.url, click, { secret: SIGNING_SECRET })).status).toBe(200);
    await waitFor(
      'the success summary',
      () => thread().find((m) => m.text.startsWith(':tada: Done.')),
      60_000,
    );
    expect(second.output.join('')).toContain('run job stalled');

    expect(sim.slack.messages(CHANNEL).filter((m) => !m.thread_ts)).toHaveLength(1);
    expect(await listMemberships(sim, 'proj-a')).toHaveLength(1);
    const texts = thread().map((m) => m.text);
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
