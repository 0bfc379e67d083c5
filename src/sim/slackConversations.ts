/** conversations.history, conversations.replies and chat.getPermalink over the recorder's messages. */
import type { JsonObject } from './json.js';
import {
  bool,
  fail,
  messageObject,
  str,
  type SlackArgs,
  type SlackMessage,
  type SlackResult,
} from './slackMessages.js';

const historyLimit = { default: 100, max: 999 };
const repliesLimit = { default: 1000, max: 1000 };

/** A ts as one integer of microseconds, so that comparisons are exact (a double is not, at 16 digits). */
function tsMicros(ts: string): bigint | undefined {
  const match = /^(\d+)(?:\.(\d{0,6}))?$/.exec(ts);
  if (!match) return undefined;
  return BigInt(match[1] ?? '0') * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

function limitOf(args: SlackArgs, bounds: { default: number; max: number }): number {
  const raw = Number(str(args, 'limit') ?? bounds.default);
  if (!Number.isInteger(raw) || raw < 1) return bounds.default;
  return Math.min(raw, bounds.max);
}

/** Slack's cursors are base64 of `next_ts:TS`: the page starts at that message. */
function encodeCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString('base64');
}

function decodeCursor(cursor: string): bigint | undefined {
  const match = /^next_ts:(\d+\.\d{6})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return match?.[1] === undefined ? undefined : tsMicros(match[1]);
}

interface Window {
  test(message: SlackMessage): boolean;
  cursor?: bigint;
}

/** oldest / latest / inclusive / cursor of a request, or the error Slack answers for them. */
function windowOf(args: SlackArgs): Window | SlackResult {
  const oldest = tsMicros(str(args, 'oldest') ?? '0');
  if (oldest === undefined) return fail('invalid_ts_oldest');
  const rawLatest = str(args, 'latest');
  const latest = rawLatest === undefined || rawLatest === '' ? undefined : tsMicros(rawLatest);
  if (rawLatest !== undefined && rawLatest !== '' && latest === undefined) return fail('invalid_ts_latest');
  const inclusive = bool(args, 'inclusive');
  const rawCursor = str(args, 'cursor') ?? '';
  const cursor = rawCursor === '' ? undefined : decodeCursor(rawCursor);
  if (rawCursor !== '' && cursor === undefined) return fail('invalid_cursor');
  return {
    test(message) {
      const ts = tsMicros(message.ts) ?? 0n;
      const afterOldest = inclusive ? ts >= oldest : ts > oldest;
      const beforeLatest = latest === undefined || (inclusive ? ts <= latest : ts < latest);
      return afterOldest && beforeLatest;
    },
    ...(cursor === undefined ? {} : { cursor }),
  };
}

function isWindow(value: Window | SlackResult): value is Window {
  return 'test' in value;
}

function micros(message: SlackMessage): bigint {
  return tsMicros(message.ts) ?? 0n;
}

/** What Slack adds to a thread's parent in history and replies. */
function threadSummary(parent: SlackMessage, channelMessages: SlackMessage[]): JsonObject {
  const replies = channelMessages.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
  const last = replies.at(-1);
  if (!last) return {};
  const users = [...new Set(replies.map((m) => m.user))];
  return {
    thread_ts: parent.ts,
    reply_count: replies.length,
    reply_users_count: users.length,
    reply_users: users,
    latest_reply: last.ts,
  };
}

function render(message: SlackMessage, channelMessages: SlackMessage[], args: SlackArgs): JsonObject {
  const object = messageObject(message, bool(args, 'include_all_metadata'));
  if (message.thread_ts === undefined) return { ...object, ...threadSummary(message, channelMessages) };
  // A reply also sent to the channel is a thread_broadcast in history.
  return message.reply_broadcast ? { ...object, subtype: 'thread_broadcast' } : object;
}

function page(
  ordered: SlackMessage[],
  limit: number,
): { items: SlackMessage[]; next: SlackMessage | undefined } {
  return { items: ordered.slice(0, limit), next: ordered[limit] };
}

function pageBody(messages: JsonObject[], next: SlackMessage | undefined): JsonObject {
  return {
    messages,
    has_more: next !== undefined,
    response_metadata: { next_cursor: next ? encodeCursor(next.ts) : '' },
  };
}

/** Newest first; top-level messages and replies broadcast to the channel, as Slack shows a channel. */
export function history(channelMessages: SlackMessage[] | undefined, args: SlackArgs): SlackResult {
  if (!channelMessages) return fail('channel_not_found');
  const window = windowOf(args);
  if (!isWindow(window)) return window;
  const { cursor } = window;
  const ordered = channelMessages
    .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.reply_broadcast === true)
    .filter((m) => window.test(m) && (cursor === undefined || micros(m) <= cursor))
    .sort((a, b) => (micros(b) > micros(a) ? 1 : micros(b) < micros(a) ? -1 : 0));
  const { items, next } = page(ordered, limitOf(args, historyLimit));
  return {
    ok: true,
    body: pageBody(
      items.map((m) => render(m, channelMessages, args)),
      next,
    ),
  };
}

/**
 * The thread of `ts` (its parent, or any reply in it): the parent first on every page, as Slack does,
 * then the replies oldest first; oldest / latest / limit / cursor apply to the replies.
 */
export function replies(channelMessages: SlackMessage[] | undefined, args: SlackArgs): SlackResult {
  if (!channelMessages) return fail('channel_not_found');
  const ts = str(args, 'ts');
  const found = channelMessages.find((m) => m.ts === ts);
  if (!found) return fail('thread_not_found');
  const parentTs = found.thread_ts ?? found.ts;
  const parent = channelMessages.find((m) => m.ts === parentTs) ?? found;
  const window = windowOf(args);
  if (!isWindow(window)) return window;
  const { cursor } = window;
  const ordered = channelMessages
    .filter((m) => m.thread_ts === parentTs && m.ts !== parentTs)
    .filter((m) => window.test(m) && (cursor === undefined || micros(m) >= cursor))
    .sort((a, b) => (micros(a) > micros(b) ? 1 : micros(a) < micros(b) ? -1 : 0));
  const { items, next } = page(ordered, limitOf(args, repliesLimit));
  const messages = [parent, ...items].map((m) => render(m, channelMessages, args));
  return { ok: true, body: pageBody(messages, next) };
}

/** `https://WORKSPACE/archives/CHANNEL/pTS`, with the thread named for a reply. */
export function permalink(
  channelMessages: SlackMessage[] | undefined,
  args: SlackArgs,
  workspaceUrl: string,
): SlackResult {
  const channel = str(args, 'channel') ?? '';
  if (!channelMessages) return fail('channel_not_found');
  const ts = str(args, 'message_ts');
  const message = channelMessages.find((m) => m.ts === ts);
  if (!message) return fail('message_not_found');
  const base = workspaceUrl.endsWith('/') ? workspaceUrl : `${workspaceUrl}/`;
  const link = `${base}archives/${channel}/p${message.ts.replace('.', '')}`;
  const thread =
    message.thread_ts !== undefined && message.thread_ts !== message.ts
      ? `?thread_ts=${message.thread_ts}&cid=${channel}`
      : '';
  return { ok: true, body: { channel, permalink: `${link}${thread}` } };
}
