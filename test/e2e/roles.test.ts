/**
 * MESHOPS_ROLE splits the bot in two processes on one Redis: `web` answers Slack and queues, and runs
 * no worker; `worker` runs the queues and answers only the probes. A command acked by the web process
 * waits in Redis until a worker process is there, then runs to the end; neither does the other's job.
 */
import { ConfigError, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startMeshops, type Meshops } from '../../src/main.js';
import { startSim, type Sim } from '../../src/sim/index.js';
import { click, slash, waitForPrompt, waitForReply } from '../support/flows.js';
import { APPROVER, CHANNEL, REQUESTER, SIGNING_SECRET, contractEnv, fastOutbox } from '../support/harness.js';
import { testPrefix } from '../support/redis.js';
import { postSigned, slashCommandBody } from '../support/slackRequests.js';

describe('the web and worker roles', () => {
  let sim: Sim;
  const started: Meshops[] = [];
  afterAll(async () => {
    for (const meshops of started) await meshops.stop();
    await sim?.close();
  });

  it('acks in the web process, runs in the worker process, and neither does the other’s part', async () => {
    sim = await startSim({ speed: 100, scenario: 'default' });
    const prefix = testPrefix();
    const configFor = (role: string, extra: Record<string, string> = {}) =>
      loadConfig(contractEnv(sim, { MESHOPS_ROLE: role, ...extra }), {
        redis: { prefix },
        outbox: fastOutbox,
      });
    const log = createLogger('silent');
    const web = await startMeshops(configFor('web'), { log });
    started.push(web);

    expect((await slash(web.url, 'enable cluster proj-a/us-central1/c1 namespaces=shop')).text).toMatch(
      /Queued run/,
    );
    // No worker anywhere yet: the run waits in Redis, nothing is posted, nothing is changed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(sim.slack.messages(CHANNEL)).toEqual([]);
    expect(sim.requests.count({ api: 'gkehub' })).toBe(0);

    // A worker needs no signing secret: it never hears from Slack.
    const worker = await startMeshops(configFor('worker', { SLACK_SIGNING_SECRET: '' }), { log });
    started.push(worker);
    const prompt = await waitForPrompt(sim, undefined, 60_000);
    expect(await click(web.url, APPROVER, prompt)).toBe(200);
    await waitForReply(sim, ':tada: Done.', undefined, 60_000);

    // The worker answers the probes, but has no Slack endpoint to forge requests to.
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${worker.url}/metrics`)).text()).toContain('process_cpu_seconds_total');
    const forged = await postSigned(worker.url, slashCommandBody('help', REQUESTER, CHANNEL), {
      secret: SIGNING_SECRET,
    });
    expect(forged.status).toBe(404);
  });

  it('a web role without a way to hear Slack is a config error, naming the settings', async () => {
    sim ??= await startSim({ speed: 100, scenario: 'default' });
    const config = loadConfig(contractEnv(sim, { MESHOPS_ROLE: 'web', SLACK_SIGNING_SECRET: '' }), {
      redis: { prefix: testPrefix() },
    });
    await expect(startMeshops(config, { log: createLogger('silent') })).rejects.toThrow(ConfigError);
    await expect(startMeshops(config, { log: createLogger('silent') })).rejects.toThrow(
      /SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN/,
    );
    expect(() => loadConfig(contractEnv(sim, { MESHOPS_ROLE: 'both' }))).toThrow(/role/);
  });
});
