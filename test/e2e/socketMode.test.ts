/**
 * Socket Mode: with SLACK_APP_TOKEN (and no signing secret), the bot opens a WebSocket through
 * apps.connections.open instead of listening at /slack/events, and the same listeners answer:
 * `/mesh help`, a whole `enable cluster` with its Approve click, and a refused click.
 */
import type { SlackMessage } from '../../src/sim/index.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { buttonOf, threadOf, waitForPrompt, waitForReply } from '../support/flows.js';
import { APPROVER, CHANNEL, REQUESTER, STRANGER, startHarness, type Harness } from '../support/harness.js';
import { buttonClickBody, slashCommandFields } from '../support/slackRequests.js';
import { startSocketModeServer, type SocketModeServer } from '../support/socketMode.js';
import { waitFor } from '../support/wait.js';

const C1 = 'proj-a/us-central1/c1';

describe('Socket Mode', () => {
  let h: Harness;
  let socket: SocketModeServer;
  afterAll(async () => {
    await h?.stop();
    await socket?.close();
  });

  function command(text: string, user = REQUESTER) {
    return socket.slashCommand(slashCommandFields(text, user, CHANNEL));
  }

  function clickPayload(user: string, prompt: SlackMessage): Record<string, unknown> {
    const button = buttonOf(prompt, APPROVE_ACTION)!;
    const form = buttonClickBody({
      user,
      actionId: APPROVE_ACTION,
      value: button.value,
      blockId: button.blockId,
      channel: CHANNEL,
      messageTs: prompt.ts,
      threadTs: prompt.thread_ts!,
    });
    return JSON.parse(new URLSearchParams(form).get('payload')!) as Record<string, unknown>;
  }

  it('answers the same listeners over a WebSocket, with no HTTP endpoint for Slack', async () => {
    h = await startHarness(
      { scenario: 'default' },
      {
        env: { SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: 'xapp-1-A0MESHOPS-sim' },
        beforeStart: async (sim) => {
          socket = await startSocketModeServer(sim);
        },
      },
    );
    await socket.connected();
    const opened = h.sim.slack.calls.filter((c) => c.method === 'apps.connections.open');
    expect(opened.map((c) => c.error ?? 'ok')).toEqual(['ok']);

    const help = await command('help');
    expect(String(help?.text)).toContain('/mesh enable cluster');

    const queued = await command(`enable cluster ${C1} namespaces=shop`);
    expect(String(queued?.text)).toMatch(/^:inbox_tray: Queued run `r[0-9a-z]+`/);
    const prompt = await waitForPrompt(h.sim, C1);
    await socket.interactive(clickPayload(STRANGER, prompt));
    await waitFor('the stranger told', () =>
      h.sim.slack.ephemerals(CHANNEL).find((e) => e.user === STRANGER && e.text.includes('not an approver')),
    );
    await socket.interactive(clickPayload(APPROVER, prompt));
    await waitForReply(h.sim, ':tada: Done.', C1, 60_000);
    expect(threadOf(h.sim, C1).some((m) => m.text.startsWith(':syringe:'))).toBe(true);

    // Health and metrics are served; Slack's HTTP endpoint is not.
    expect((await fetch(`${h.app.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.app.url}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(socket.connections).toBe(1);
  }, 120_000);
});
