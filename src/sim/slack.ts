import type { SimClock } from './clock.js';
import { bearerToken, listen, type RunningServer, type SimRequest, type SimResponse } from './http.js';
import { blockKitLimits, blockProblems } from './blockKit.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

export const slackTeam = {
  team: 'meshops-sim',
  team_id: 'T0SIM',
  user: 'meshops',
  user_id: 'U0BOT',
  bot_id: 'B0BOT',
};

export interface SlackMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: JsonValue[];
  reply_broadcast?: boolean;
  /** How many times chat.update changed it. */
  edits: number;
  /** The bot user that posted it. */
  user: string;
}

export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: JsonValue[];
  thread_ts?: string;
}

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  /** The `error` Slack answered, if the call failed. */
  error?: string;
}

export interface SlackUser {
  id: string;
  name: string;
  real_name: string;
  is_bot?: boolean;
  is_admin?: boolean;
  tz?: string;
}

type SlackArgs = Record<string, JsonValue>;

const booleanArgs = ['reply_broadcast', 'unfurl_links', 'unfurl_media', 'mrkdwn', 'as_user', 'link_names'];
type SlackResult = { ok: true; body: JsonObject } | { ok: false; error: string; extra?: JsonObject };

function fail(error: string, extra?: JsonObject): SlackResult {
  return extra ? { ok: false, error, extra } : { ok: false, error };
}

function str(args: SlackArgs, key: string): string | undefined {
  const value = args[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function bool(args: SlackArgs, key: string): boolean {
  const value = args[key];
  return value === true || value === 'true' || value === '1';
}

/** The Slack Web API as the bot sees it: every call recorded, messages kept with their edits. */
export class SlackRecorder {
  readonly calls: SlackCall[] = [];
  readonly users = new Map<string, SlackUser>();
  /** Usergroup ID → member user IDs. */
  readonly usergroups = new Map<string, string[]>();
  private readonly posted: SlackMessage[] = [];
  private readonly ephemeralMessages: SlackEphemeral[] = [];
  private readonly rateLimits = new Map<string, { remaining: number; retryAfterSeconds: number }>();
  private readonly listeners = new Set<(call: SlackCall) => void>();
  private lastTsMicros = 0;
  /** Workspace URL that auth.test answers. */
  url = 'https://meshops-sim.slack.com/';

  constructor(
    private readonly clock: SimClock,
    readonly token: string,
  ) {
    for (const user of [
      { id: slackTeam.user_id, name: slackTeam.user, real_name: 'meshops', is_bot: true },
      { id: 'U0ALICE', name: 'alice', real_name: 'Alice Platform', is_admin: true },
      { id: 'U0BOB', name: 'bob', real_name: 'Bob Developer' },
    ]) {
      this.users.set(user.id, user);
    }
    this.usergroups.set('S0APPROVERS', ['U0ALICE']);
  }

  /** Channel messages and thread replies in post order, as they are now. */
  messages(channel?: string): SlackMessage[] {
    return this.posted.filter((m) => channel === undefined || m.channel === channel).map((m) => ({ ...m }));
  }

  ephemerals(channel?: string): SlackEphemeral[] {
    return this.ephemeralMessages
      .filter((m) => channel === undefined || m.channel === channel)
      .map((m) => ({ ...m }));
  }

  /** Replies in the thread of `ts` (not the parent itself). */
  thread(channel: string, ts: string): SlackMessage[] {
    return this.messages(channel).filter((m) => m.thread_ts === ts && m.ts !== ts);
  }

  /** The next `times` calls of `method` answer HTTP 429 with Retry-After. */
  rateLimit(method: string, times: number, retryAfterSeconds: number): void {
    this.rateLimits.set(method, { remaining: times, retryAfterSeconds });
  }

  /** Called after every recorded call (e.g. to refresh a console); returns an unsubscribe function. */
  subscribe(listener: (call: SlackCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private nextTs(): string {
    // Slack's ts is seconds.microseconds and unique per channel; keep it strictly increasing everywhere.
    const micros = Math.max(this.clock.now() * 1000, this.lastTsMicros + 100);
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  private record(method: string, args: SlackArgs, error?: string): void {
    const recorded: Record<string, unknown> = { ...args };
    // The WebClient sends blocks as a JSON string inside the form; record them as the bot built them.
    for (const key of ['blocks', 'attachments']) {
      const value = args[key];
      if (typeof value === 'string') {
        try {
          recorded[key] = JSON.parse(value) as unknown;
        } catch {
          // Recorded as sent; the call itself answered invalid_blocks_format.
        }
      }
    }
    // Form bodies carry booleans as strings; record them as the booleans the bot meant.
    for (const key of booleanArgs) {
      if (recorded[key] === 'true' || recorded[key] === 'false') recorded[key] = recorded[key] === 'true';
    }
    const call: SlackCall = { method, args: recorded, at: this.clock.now(), ...(error ? { error } : {}) };
    this.calls.push(call);
    for (const listener of this.listeners) listener(call);
  }

  /** Runs one Web API call; `token` is what the request authenticated with. */
  call(method: string, args: SlackArgs, token: string | undefined): SimResponse {
    if (token !== this.token) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const limit = this.rateLimits.get(method);
    if (limit && limit.remaining > 0) {
      limit.remaining -= 1;
      this.record(method, args, 'ratelimited');
      return {
        status: 429,
        headers: { 'retry-after': String(limit.retryAfterSeconds) },
        body: { ok: false, error: 'ratelimited' },
      };
    }
    const result = this.dispatch(method, args);
    this.record(method, args, result.ok ? undefined : result.error);
    const body: JsonObject = result.ok
      ? { ok: true, ...result.body }
      : { ok: false, error: result.error, ...result.extra };
    return { status: 200, body };
  }

  private dispatch(method: string, args: SlackArgs): SlackResult {
    switch (method) {
      case 'auth.test':
        return { ok: true, body: { url: this.url, ...slackTeam, is_enterprise_install: false } };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'usergroups.users.list': {
        const members = this.usergroups.get(str(args, 'usergroup') ?? '');
        return members ? { ok: true, body: { users: [...members] } } : fail('no_such_subteam');
      }
      case 'users.info': {
        const user = this.users.get(str(args, 'user') ?? '');
        return user ? { ok: true, body: { user: userObject(user) } } : fail('user_not_found');
      }
      default:
        return fail('unknown_method');
    }
  }

  private content(args: SlackArgs): { text: string; blocks?: JsonValue[] } | SlackResult {
    const text = str(args, 'text') ?? '';
    if (text.length > blockKitLimits.messageText) return fail('msg_too_long');
    let blocks = args.blocks;
    if (typeof blocks === 'string') {
      try {
        blocks = JSON.parse(blocks) as JsonValue;
      } catch {
        return fail('invalid_blocks_format');
      }
    }
    if (blocks === undefined) return { text };
    const problems = blockProblems(blocks);
    if (problems.length > 0 || !Array.isArray(blocks)) {
      return fail('invalid_blocks', { errors: problems, response_metadata: { messages: problems } });
    }
    return { text, blocks };
  }

  private postMessage(args: SlackArgs): SlackResult {
    const channel = str(args, 'channel');
    if (!channel) return fail('channel_not_found');
    const content = this.content(args);
    if ('ok' in content) return content;
    if (content.text === '' && !content.blocks && args.attachments === undefined) return fail('no_text');
    const requestedThread = str(args, 'thread_ts');
    // A reply to a reply lands in the parent's thread.
    const parent = requestedThread
      ? this.posted.find((m) => m.channel === channel && m.ts === requestedThread)
      : undefined;
    const threadTs = parent?.thread_ts ?? requestedThread;
    const message: SlackMessage = {
      channel,
      ts: this.nextTs(),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      text: content.text,
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(threadTs && bool(args, 'reply_broadcast') ? { reply_broadcast: true } : {}),
      edits: 0,
      user: slackTeam.user_id,
    };
    this.posted.push(message);
    return { ok: true, body: { channel, ts: message.ts, message: messageObject(message) } };
  }

  private update(args: SlackArgs): SlackResult {
    const channel = str(args, 'channel');
    const ts = str(args, 'ts');
    if (!channel) return fail('channel_not_found');
    const message = this.posted.find((m) => m.channel === channel && m.ts === ts);
    if (!message) return fail('message_not_found');
    const content = this.content(args);
    if ('ok' in content) return content;
    // Slack keeps the previous blocks when an update sends none.
    if (args.text !== undefined) message.text = content.text;
    if (content.blocks) message.blocks = content.blocks;
    message.edits += 1;
    return {
      ok: true,
      body: { channel, ts: message.ts, text: message.text, message: messageObject(message) },
    };
  }

  private postEphemeral(args: SlackArgs): SlackResult {
    const channel = str(args, 'channel');
    const user = str(args, 'user');
    if (!channel) return fail('channel_not_found');
    if (!user) return fail('user_not_in_channel');
    const content = this.content(args);
    if ('ok' in content) return content;
    const threadTs = str(args, 'thread_ts');
    this.ephemeralMessages.push({
      channel,
      user,
      text: content.text,
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return { ok: true, body: { message_ts: this.nextTs() } };
  }
}

function messageObject(message: SlackMessage): JsonObject {
  return {
    type: 'message',
    text: message.text,
    user: message.user,
    bot_id: slackTeam.bot_id,
    app_id: 'A0SIM',
    team: slackTeam.team_id,
    ts: message.ts,
    ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.edits > 0 ? { edited: { user: message.user, ts: message.ts } } : {}),
  };
}

function userObject(user: SlackUser): JsonObject {
  return {
    id: user.id,
    team_id: slackTeam.team_id,
    name: user.name,
    deleted: false,
    real_name: user.real_name,
    tz: user.tz ?? 'Asia/Tokyo',
    is_admin: user.is_admin ?? false,
    is_bot: user.is_bot ?? false,
    profile: { real_name: user.real_name, display_name: user.name },
  };
}

/** Slack's Web API accepts form-encoded or JSON bodies, and query parameters. */
function parseArgs(req: SimRequest): SlackArgs {
  const args: SlackArgs = Object.fromEntries(req.query);
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/json')) {
    const parsed: unknown = req.rawBody.trim() === '' ? {} : JSON.parse(req.rawBody);
    if (isJsonObject(parsed)) Object.assign(args, parsed);
  } else {
    for (const [key, value] of new URLSearchParams(req.rawBody)) args[key] = value;
  }
  return args;
}

export function startSlackServer(
  recorder: SlackRecorder,
  host: string,
  port: number,
): Promise<RunningServer> {
  return listen(
    (req) => {
      const method = /^\/api\/([\w.]+)$/.exec(req.path)?.[1];
      if (!method) return { status: 404, body: { ok: false, error: 'unknown_method' } };
      let args: SlackArgs;
      try {
        args = parseArgs(req);
      } catch {
        return { status: 200, body: { ok: false, error: 'invalid_json' } };
      }
      const token = bearerToken(req.headers) ?? str(args, 'token');
      delete args.token;
      return recorder.call(method, args, token);
    },
    { host, port },
  );
}
