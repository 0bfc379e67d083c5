/** What a person does in the channel, as signed Slack requests, and what they see there. */
import type { SlackEphemeral, SlackMessage, Sim } from '../../src/sim/index.js';
import { APPROVE_ACTION, REASON_ACTION, REASON_BLOCK } from '../../src/slack/render.js';
import { CHANNEL, REQUESTER, SIGNING_SECRET } from './harness.js';
import { buttonClickBody, postSigned, slashCommandBody } from './slackRequests.js';
import { waitFor } from './wait.js';

/**
 * Types `/mesh TEXT` and returns the HTTP status and the ephemeral answer. With `sim`, the command
 * carries a response_url the emulated Slack serves, so later answers land in its ephemerals.
 */
export async function slash(
  url: string,
  text: string,
  user = REQUESTER,
  sim?: Sim,
): Promise<{ status: number; text: string }> {
  const request = slashCommandBody(text, user, CHANNEL, undefined, sim?.slack.responseUrl(user, CHANNEL));
  const res = await postSigned(url, request, { secret: SIGNING_SECRET });
  const body = await res.text();
  return { status: res.status, text: body ? ((JSON.parse(body) as { text?: string }).text ?? '') : '' };
}

export function hasButtons(message: SlackMessage): boolean {
  return JSON.stringify(message.blocks ?? []).includes(APPROVE_ACTION);
}

export function runIdOf(prompt: SlackMessage): string {
  return /run `(r[0-9a-z]+)`/.exec(JSON.stringify(prompt.blocks))?.[1] ?? '';
}

/** The button with `actionId` in a message's blocks, and the id of the block it is in. */
export function buttonOf(
  message: Pick<SlackMessage, 'blocks'>,
  actionId: string,
): { blockId: string; value: string } | null {
  for (const block of (message.blocks ?? []) as Array<{ block_id?: string; elements?: unknown[] }>) {
    for (const element of (block.elements ?? []) as Array<{ action_id?: string; value?: string }>) {
      if (element.action_id === actionId)
        return { blockId: block.block_id ?? '', value: element.value ?? '' };
    }
  }
  return null;
}

/**
 * Clicks a button of the approval prompt as `user`, as Slack sends it: the block id and value the
 * message carries, the message's ts, and what was typed in the reason field. Returns the HTTP status.
 */
export async function click(
  url: string,
  user: string,
  prompt: SlackMessage | SlackEphemeral,
  action = APPROVE_ACTION,
  options: { reason?: string; from?: SlackMessage } = {},
): Promise<number> {
  const button = buttonOf(prompt, action);
  if (!button) throw new Error(`the message has no ${action} button`);
  const from = options.from ?? prompt;
  const body = buttonClickBody({
    user,
    actionId: action,
    value: button.value,
    blockId: button.blockId,
    channel: CHANNEL,
    // An ephemeral message (a response_url's answer) has no ts of its own.
    messageTs: 'ts' in from ? from.ts : '',
    ...(from.thread_ts ? { threadTs: from.thread_ts } : {}),
    ...(options.reason ? { inputs: { [REASON_BLOCK]: { [REASON_ACTION]: options.reason } } } : {}),
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

/** The newest root message mentioning `text`, and its replies. */
export function latestThreadOf(sim: Sim, text: string): SlackMessage[] {
  const root = roots(sim)
    .filter((m) => m.text.includes(text))
    .at(-1);
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

/** Runs `/mesh enable cluster` on `cluster` to the end, approving as APPROVER. */
export async function enableAndApprove(
  url: string,
  sim: Sim,
  cluster: string,
  namespaces = 'default,shop',
  approver = 'UAPPROVER',
): Promise<void> {
  const queued = await slash(url, `enable cluster ${cluster} namespaces=${namespaces}`);
  if (!queued.text.includes('Queued run')) throw new Error(`enable was not queued: ${queued.text}`);
  const prompt = await waitForPrompt(sim, cluster);
  if ((await click(url, approver, prompt)) !== 200) throw new Error('the approval click failed');
  await waitFor('the run to succeed', () =>
    threadOf(sim, cluster).find((m) => m.text.startsWith(':tada: Done.')),
  );
}

/** The answers a user got through the response_url of their commands, oldest first. */
export function responses(sim: Sim, user = REQUESTER): SlackEphemeral[] {
  return sim.slack.ephemerals(CHANNEL).filter((e) => e.user === user && e.via === 'response_url');
}

/** Types a command and waits for the worker's answer through its response_url. */
export async function ask(url: string, sim: Sim, text: string, user = REQUESTER): Promise<SlackEphemeral> {
  const before = responses(sim, user).length;
  const ack = await slash(url, text, user, sim);
  if (ack.status !== 200) throw new Error(`/mesh ${text} answered HTTP ${ack.status}`);
  return waitFor(`the answer to /mesh ${text}`, () => responses(sim, user)[before]);
}

/** Every prefix starts one of `texts`, and they first appear in this order. */
export function expectInOrder(texts: string[], prefixes: string[]): void {
  const positions = prefixes.map((prefix) => texts.findIndex((t) => t.startsWith(prefix)));
  expect(prefixes.filter((_, i) => positions[i]! < 0)).toEqual([]);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
}
