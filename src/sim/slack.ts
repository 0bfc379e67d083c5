import type { SimClock } from './clock.js';
import { bearerToken, listen, type RunningServer, type SimRequest, type SimResponse } from './http.js';
import { blockKitLimits, blockProblems } from './blockKit.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import type { RequestLog } from './requestLog.js';
import { history, permalink, replies } from './slackConversations.js';
import {
  bool,
  fail,
  messageObject,
  parseMetadata,
  slackTeam,
  str,
  type SlackArgs,
  type SlackMessage,
  type SlackMetadata,
  type SlackResult,
} from './slackMessages.js';
import { ChannelPacer, type ChannelRate } from './slackPacing.js';
import { isResponseUrlPath, ResponseUrls, type ResponseUrlGrant } from './slackResponseUrl.js';

export { slackTeam } from './slackMessages.js';
export type { SlackMessage, SlackMetadata } from './slackMessages.js';
export type { ChannelRate } from './slackPacing.js';

export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: JsonValue[];
  thread_ts?: string;
  /** Set when it came through a response_url rather than chat.postEphemeral. */
  via?: 'response_url';
}

export interface SlackCall {
  /** The Web API method, or 'response_url' for a post to a response_url. */
  method: string;
  args: Record<string, unknown>;
  /** Sim clock. */
  at: number;
  /** Date.now(): pacing is about real time. */
  wallAt: number;
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

const booleanArgs = [
  'reply_broadcast',
  'unfurl_links',
  'unfurl_media',
  'mrkdwn',
  'as_user',
  'link_names',
  'inclusive',
  'include_all_metadata',
];

/** The channel the local web console shows (src/console), known before anything is posted in it. */
const consoleChannel = 'C0PLATFORM';

/** The Slack Web API as the bot sees it: every call recorded, messages kept with their edits. */
export class SlackRecorder {
  readonly calls: SlackCall[] = [];
  readonly users = new Map<string, SlackUser>();
  /** Usergroup ID → member user IDs. */
  readonly usergroups = new Map<string, string[]>();
  /**
   * Channels conversations.* and chat.getPermalink know; posting to a channel adds it (the sim lets the bot
   * post anywhere), and tests may add more.
   */
  readonly channels = new Set<string>([consoleChannel]);
  private readonly posted: SlackMessage[] = [];
  private readonly ephemeralMessages: SlackEphemeral[] = [];
  private readonly rateLimits = new Map<string, { remaining: number; retryAfterSeconds: number }>();
  private readonly listeners = new Set<(call: SlackCall) => void>();
  private readonly responseUrls = new ResponseUrls(slackTeam.team_id);
  /** The ephemeral each response_url posted last: what its replace_original / delete_original act on. */
  private readonly lastEphemeral = new WeakMap<ResponseUrlGrant, SlackEphemeral>();
  private pacer: ChannelPacer | undefined;
  private lastTsMicros = 0;
  /** Workspace URL that auth.test answers and permalinks start with. */
  url = 'https://meshops-sim.slack.com/';
  /** Where the Slack server listens, e.g. 'http://127.0.0.1:41239/'; set when it starts. */
  serverUrl: string | undefined;
  /** The app-level token (xapp-…) apps.connections.open takes: Socket Mode. */
  readonly appToken = 'xapp-1-A0MESHOPS-sim';
  /** The WebSocket URL apps.connections.open hands out; a Socket Mode server sets it (test/support/socketMode.ts). */
  socketModeUrl: string | undefined;

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

  /** Ephemerals in post order, of one channel and / or one user. */
  ephemerals(channel?: string, user?: string): SlackEphemeral[] {
    return this.ephemeralMessages
      .filter(
        (m) => (channel === undefined || m.channel === channel) && (user === undefined || m.user === user),
      )
      .map((m) => ({ ...m }));
  }

  /** Replies in the thread of `ts` (not the parent itself). */
  thread(channel: string, ts: string): SlackMessage[] {
    return this.messages(channel).filter((m) => m.thread_ts === ts && m.ts !== ts);
  }

  /**
   * A person deletes a message in Slack's client. A thread parent with replies becomes a tombstone ("This
   * message was deleted.") and its thread stays; anything else is gone. Either way chat.update on it
   * answers message_not_found from then on.
   */
  deleteMessage(channel: string, ts: string): void {
    const message = this.posted.find((m) => m.channel === channel && m.ts === ts);
    if (!message) throw new Error(`no message ${ts} in ${channel}`);
    if (this.posted.some((m) => m.channel === channel && m.thread_ts === ts && m.ts !== ts)) {
      message.text = 'This message was deleted.';
      message.subtype = 'tombstone';
      delete message.blocks;
      delete message.metadata;
    } else {
      this.posted.splice(this.posted.indexOf(message), 1);
    }
  }

  /**
   * How long chat.postMessage's answer takes after the message shows in the channel (0 by default):
   * a person can click a button before the poster knows the message's ts, as on real Slack.
   */
  postAnswerLagMs = 0;

  private readonly postListeners = new Set<(message: SlackMessage) => void>();

  /** `listener` hears of every message as it is posted (a scripted person reacting at once). Returns an unsubscribe. */
  onPost(listener: (message: SlackMessage) => void): () => void {
    this.postListeners.add(listener);
    return () => this.postListeners.delete(listener);
  }

  addChannel(channel: string): void {
    this.channels.add(channel);
  }

  private downUntil = 0;

  /** Slack's Web API is down for `ms` of wall-clock time: every call answers HTTP 503 and changes nothing. */
  outage(ms: number): void {
    this.downUntil = Date.now() + ms;
  }

  /** The next `times` calls of `method` answer HTTP 429 with Retry-After. */
  rateLimit(method: string, times: number, retryAfterSeconds: number): void {
    this.rateLimits.set(method, { remaining: times, retryAfterSeconds });
  }

  /**
   * Paces chat.postMessage per channel as Slack does (null: no pacing, the default): beyond `burst` posts,
   * about `perSecond` a second go through and the rest answer 429 with Retry-After.
   */
  enforceChannelRate(rate: ChannelRate | null): void {
    this.pacer = rate === null ? undefined : new ChannelPacer(rate);
  }

  /**
   * A fresh response_url for a slash command or interaction by `user` in `channel`, served by the Slack
   * server; `messageTs` is the message an interaction came from (what replace_original acts on).
   */
  responseUrl(user: string, channel: string, options: { messageTs?: string } = {}): string {
    if (this.serverUrl === undefined) throw new Error('the sim Slack server is not listening yet');
    const { path } = this.responseUrls.issue(user, channel, this.clock.now(), options.messageTs);
    return `${this.serverUrl}${path}`;
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
    // The WebClient sends blocks (and metadata) as a JSON string inside the form; record them as the bot
    // built them.
    for (const key of ['blocks', 'attachments', 'metadata']) {
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
    const call: SlackCall = {
      method,
      args: recorded,
      at: this.clock.now(),
      wallAt: Date.now(),
      ...(error ? { error } : {}),
    };
    this.calls.push(call);
    for (const listener of this.listeners) listener(call);
  }

  private rateLimited(method: string, args: SlackArgs, retryAfterSeconds: number): SimResponse {
    this.record(method, args, 'ratelimited');
    return {
      status: 429,
      headers: { 'retry-after': String(retryAfterSeconds) },
      body: { ok: false, error: 'ratelimited' },
    };
  }

  /** Runs one Web API call; `token` is what the request authenticated with. */
  call(method: string, args: SlackArgs, token: string | undefined): SimResponse {
    if (method === 'apps.connections.open') return this.openConnection(args, token);
    if (token === this.appToken) return { status: 200, body: { ok: false, error: 'not_allowed_token_type' } };
    if (token !== this.token) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    if (Date.now() < this.downUntil) {
      this.record(method, args, 'http_503');
      return { status: 503, body: { ok: false, error: 'service_unavailable' } };
    }
    const limit = this.rateLimits.get(method);
    if (limit && limit.remaining > 0) {
      limit.remaining -= 1;
      return this.rateLimited(method, args, limit.retryAfterSeconds);
    }
    const channel = str(args, 'channel');
    if (method === 'chat.postMessage' && this.pacer && channel) {
      const wait = this.pacer.take(channel);
      if (wait > 0) return this.rateLimited(method, args, wait);
    }
    const result = this.dispatch(method, args);
    this.record(method, args, result.ok ? undefined : result.error);
    const body: JsonObject = result.ok
      ? { ok: true, ...result.body }
      : { ok: false, error: result.error, ...result.extra };
    return { status: 200, body };
  }

  /** Socket Mode's handshake: only an app-level token may open a connection, and it gets a WebSocket URL. */
  private openConnection(args: SlackArgs, token: string | undefined): SimResponse {
    const error =
      token === this.token
        ? 'not_allowed_token_type'
        : token !== this.appToken
          ? 'invalid_auth'
          : !this.socketModeUrl
            ? 'socket_mode_not_enabled'
            : undefined;
    this.record('apps.connections.open', args, error);
    if (error) return { status: 200, body: { ok: false, error } };
    return { status: 200, body: { ok: true, url: this.socketModeUrl! } };
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
      case 'chat.getPermalink':
        return permalink(this.channelMessages(args), args, this.url);
      case 'conversations.history':
        return history(this.channelMessages(args), args);
      case 'conversations.replies':
        return replies(this.channelMessages(args), args);
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

  /** The messages of the request's channel in post order; undefined when the channel is not known. */
  private channelMessages(args: SlackArgs): SlackMessage[] | undefined {
    const channel = str(args, 'channel');
    if (channel === undefined || !this.channels.has(channel)) return undefined;
    return this.posted.filter((m) => m.channel === channel);
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

  private post(
    channel: string,
    content: { text: string; blocks?: JsonValue[] },
    options: { threadTs?: string; broadcast: boolean; metadata?: SlackMetadata },
  ): SlackMessage {
    // A reply to a reply lands in the parent's thread.
    const parent = options.threadTs
      ? this.posted.find((m) => m.channel === channel && m.ts === options.threadTs)
      : undefined;
    const threadTs = parent?.thread_ts ?? options.threadTs;
    const message: SlackMessage = {
      channel,
      ts: this.nextTs(),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      text: content.text,
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(threadTs && options.broadcast ? { reply_broadcast: true } : {}),
      edits: 0,
      user: slackTeam.user_id,
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    this.posted.push(message);
    this.channels.add(channel);
    for (const listener of this.postListeners) listener({ ...message });
    return message;
  }

  private postMessage(args: SlackArgs): SlackResult {
    const channel = str(args, 'channel');
    if (!channel) return fail('channel_not_found');
    const content = this.content(args);
    if ('ok' in content) return content;
    if (content.text === '' && !content.blocks && args.attachments === undefined) return fail('no_text');
    const metadata = parseMetadata(args.metadata);
    if (typeof metadata === 'string') return fail(metadata);
    const threadTs = str(args, 'thread_ts');
    const message = this.post(channel, content, {
      ...(threadTs ? { threadTs } : {}),
      broadcast: bool(args, 'reply_broadcast'),
      ...(metadata ? { metadata } : {}),
    });
    return { ok: true, body: { channel, ts: message.ts, message: messageObject(message) } };
  }

  private update(args: SlackArgs): SlackResult {
    const channel = str(args, 'channel');
    const ts = str(args, 'ts');
    if (!channel) return fail('channel_not_found');
    const message = this.posted.find((m) => m.channel === channel && m.ts === ts);
    if (!message || message.subtype === 'tombstone') return fail('message_not_found');
    const content = this.content(args);
    if ('ok' in content) return content;
    const metadata = parseMetadata(args.metadata);
    if (typeof metadata === 'string') return fail(metadata);
    // Slack keeps the previous blocks (and metadata) when an update sends none.
    if (args.text !== undefined) message.text = content.text;
    if (content.blocks) message.blocks = content.blocks;
    if (metadata) message.metadata = metadata;
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
    this.channels.add(channel);
    return { ok: true, body: { message_ts: this.nextTs() } };
  }

  /**
   * A POST to a response_url: JSON `{text, blocks?, response_type?, replace_original?, delete_original?,
   * thread_ts?}`. Answered 200 `{ok:true}`; 404 once used 5 times or 30 minutes old; 400 for bad content.
   */
  respond(path: string, body: SlackArgs): SimResponse {
    const grant = this.responseUrls.lookup(path, this.clock.now());
    const args: SlackArgs =
      typeof grant === 'string' ? body : { ...body, channel: grant.channel, user: grant.user };
    if (typeof grant === 'string') {
      this.record('response_url', args, grant);
      return { status: 404, body: { ok: false, error: grant } };
    }
    const result = this.useResponseUrl(grant, body);
    this.record('response_url', args, result.ok ? undefined : result.error);
    if (!result.ok) return { status: 400, body: { ok: false, error: result.error, ...result.extra } };
    grant.uses += 1;
    return { status: 200, body: { ok: true } };
  }

  private useResponseUrl(grant: ResponseUrlGrant, body: SlackArgs): SlackResult {
    const source =
      grant.messageTs === undefined
        ? undefined
        : this.posted.find((m) => m.channel === grant.channel && m.ts === grant.messageTs);
    if (bool(body, 'delete_original')) return this.deleteOriginal(grant, source);
    const content = this.content(body);
    if ('ok' in content) return content;
    if (content.text === '' && !content.blocks) return fail('no_text');
    if (bool(body, 'replace_original')) {
      if (source) {
        source.text = content.text;
        if (content.blocks) source.blocks = content.blocks;
        source.edits += 1;
        return { ok: true, body: {} };
      }
      const previous = this.lastEphemeral.get(grant);
      const index = previous ? this.ephemeralMessages.indexOf(previous) : -1;
      if (previous && index >= 0) {
        const replaced = this.ephemeralFrom(grant, content, previous.thread_ts);
        this.ephemeralMessages[index] = replaced;
        this.lastEphemeral.set(grant, replaced);
        return { ok: true, body: {} };
      }
    }
    const threadTs = str(body, 'thread_ts');
    if (str(body, 'response_type') === 'in_channel') {
      this.post(grant.channel, content, { ...(threadTs ? { threadTs } : {}), broadcast: false });
    } else {
      const ephemeral = this.ephemeralFrom(grant, content, threadTs);
      this.ephemeralMessages.push(ephemeral);
      this.lastEphemeral.set(grant, ephemeral);
    }
    return { ok: true, body: {} };
  }

  private ephemeralFrom(
    grant: ResponseUrlGrant,
    content: { text: string; blocks?: JsonValue[] },
    threadTs: string | undefined,
  ): SlackEphemeral {
    return {
      channel: grant.channel,
      user: grant.user,
      text: content.text,
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      via: 'response_url',
    };
  }

  private deleteOriginal(grant: ResponseUrlGrant, source: SlackMessage | undefined): SlackResult {
    if (source) {
      this.posted.splice(this.posted.indexOf(source), 1);
      return { ok: true, body: {} };
    }
    const previous = this.lastEphemeral.get(grant);
    const index = previous ? this.ephemeralMessages.indexOf(previous) : -1;
    if (index >= 0) {
      this.ephemeralMessages.splice(index, 1);
      this.lastEphemeral.delete(grant);
      return { ok: true, body: {} };
    }
    return fail('message_not_found');
  }
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

/** A response_url takes JSON, or a form whose `payload` field is the JSON (as incoming webhooks do). */
function parseResponseBody(req: SimRequest): SlackArgs | undefined {
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  const raw = contentType.startsWith('application/x-www-form-urlencoded')
    ? (new URLSearchParams(req.rawBody).get('payload') ?? '')
    : req.rawBody;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function serveResponseUrl(recorder: SlackRecorder, req: SimRequest): SimResponse {
  if (req.method !== 'POST') return { status: 405, body: { ok: false, error: 'invalid_method' } };
  const body = parseResponseBody(req);
  if (!body) return { status: 400, body: { ok: false, error: 'invalid_payload' } };
  return recorder.respond(req.path, body);
}

export function startSlackServer(
  recorder: SlackRecorder,
  host: string,
  port: number,
  requests?: RequestLog,
): Promise<RunningServer> {
  return listen(
    (req) => {
      if (isResponseUrlPath(req.path)) return serveResponseUrl(recorder, req);
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
      const answer = recorder.call(method, args, token);
      // The message is in the channel (and clickable) before its answer reaches the poster.
      const lag = method === 'chat.postMessage' ? recorder.postAnswerLagMs : 0;
      return lag > 0 ? new Promise((resolve) => setTimeout(() => resolve(answer), lag)) : answer;
    },
    { host, port, ...(requests ? { observe: (request) => requests.begin('slack', request) } : {}) },
  ).then((server) => {
    // Clients cannot connect to a wildcard address: response_urls name loopback instead.
    const advertised = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const authority = advertised.includes(':') ? `[${advertised}]` : advertised;
    recorder.serverUrl ??= `http://${authority}:${server.port}/`;
    return server;
  });
}
