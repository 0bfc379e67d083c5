/** What a person does in the channel, as signed Slack requests, and what they see there. */
import type { SlackMessage, Sim } from '../../src/sim/index.js';
import { APPROVE_ACTION } from '../../src/slack/render.js';
import { CHANNEL, REQUESTER, SIGNING_SECRET } from './harness.js';
import { buttonClickBody, postSigned, slashCommandBody } from './slackRequests.js';
import { waitFor } from './wait.js';

/** Types `/mesh TEXT` and returns the HTTP status and the ephemeral answer. */
export async function slash(
  url: string,
  text: string,
  user = REQUESTER,
): Promise<{ status: number; text: string }> {
  const res = await postSigned(url, slashCommandBody(text, user, CHANNEL), { secret: SIGNING_SECRET });
  const body = await res.text();
  return { status: res.status, text: body ? ((JSON.parse(body) as { text?: string }).text ?? '') : '' };
}

export function hasButtons(message: SlackMessage): boolean {
  return JSON.stringify(message.blocks ?? []).includes(APPROVE_ACTION);
}

export function runIdOf(prompt: SlackMessage): string {
  return /run `(r[0-9a-z]+)`/.exec(JSON.stringify(prompt.blocks))?.[1] ?? '';
}

/** Clicks a button of the approval prompt as `user`; returns the HTTP status. */
export async function click(
  url: string,
  user: string,
  prompt: SlackMessage,
  action = APPROVE_ACTION,
): Promise<number> {
  const body = buttonClickBody({
    user,
    actionId: action,
    value: runIdOf(prompt),
    channel: CHANNEL,
    messageTs: prompt.ts,
    ...(prompt.thread_ts ? { threadTs: prompt.thread_ts } : {}),
  });
  return (await postSigned(url, body, { secret: SIGNING_SECRET })).status;
}

export function roots(sim: Sim): SlackMessage[] {
  return sim.slack.messages(CHANNEL).filter((m) => !m.thread_ts);
}

/** The root message about `cluster` (or the first one) and its replies, in order. */
export function threadOf(sim: Sim, cluster?: string): SlackMessage[] {
  const root = roots(sim).find((m) => cluster === undefined || m.text.includes(cluster));
  return root ? [root, ...sim.slack.thread(CHANNEL, root.ts)] : [];
}

export function waitForPrompt(sim: Sim, cluster?: string, timeoutMs = 30_000): Promise<SlackMessage> {
  return waitFor('the approval prompt', () => threadOf(sim, cluster).find(hasButtons), timeoutMs);
}

export function waitForReply(
  sim: Sim,
  prefix: string,
  cluster?: string,
  timeoutMs = 30_000,
): Promise<SlackMessage> {
  return waitFor(
    `a reply starting ${prefix}`,
    () => threadOf(sim, cluster).find((m) => m.text.startsWith(prefix)),
    timeoutMs,
  );
}
