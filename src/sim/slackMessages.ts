/** Slack messages as the recorder keeps them, and the wire helpers every Slack method shares. */
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

export const slackTeam = {
  team: 'meshops-sim',
  team_id: 'T0SIM',
  user: 'meshops',
  user_id: 'U0BOT',
  bot_id: 'B0BOT',
};

/** Message metadata (`metadata` on chat.postMessage): an app's own typed payload on a message. */
export interface SlackMetadata {
  event_type: string;
  event_payload: JsonObject;
}

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
  metadata?: SlackMetadata;
  /** 'tombstone': a thread parent someone deleted; its replies stay and it can no longer be edited. */
  subtype?: 'tombstone';
}

export type SlackArgs = Record<string, JsonValue>;
export type SlackResult = { ok: true; body: JsonObject } | { ok: false; error: string; extra?: JsonObject };

export function fail(error: string, extra?: JsonObject): SlackResult {
  return extra ? { ok: false, error, extra } : { ok: false, error };
}

export function str(args: SlackArgs, key: string): string | undefined {
  const value = args[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

export function bool(args: SlackArgs, key: string): boolean {
  const value = args[key];
  return value === true || value === 'true' || value === '1';
}

/**
 * `metadata` as sent: @slack/web-api puts it in the form body as a JSON string, a JSON body carries the
 * object. Undefined when absent; a string when it is refused, naming Slack's error.
 */
export function parseMetadata(value: JsonValue | undefined): SlackMetadata | undefined | string {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return 'invalid_metadata_format';
    }
  }
  if (!isJsonObject(parsed)) return 'invalid_metadata_format';
  const { event_type: eventType, event_payload: payload } = parsed;
  if (typeof eventType !== 'string' || eventType === '' || !isJsonObject(payload)) {
    return 'invalid_metadata_schema';
  }
  return { event_type: eventType, event_payload: payload };
}

/** A message as Slack's methods return it; `metadata` only when the caller asks (include_all_metadata). */
export function messageObject(message: SlackMessage, withMetadata = false): JsonObject {
  return {
    type: 'message',
    text: message.text,
    user: message.user,
    bot_id: slackTeam.bot_id,
    app_id: 'A0SIM',
    team: slackTeam.team_id,
    ts: message.ts,
    ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    ...(message.subtype ? { subtype: message.subtype } : {}),
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(message.edits > 0 ? { edited: { user: message.user, ts: message.ts } } : {}),
    ...(withMetadata && message.metadata
      ? {
          metadata: {
            event_type: message.metadata.event_type,
            event_payload: message.metadata.event_payload,
          },
        }
      : {}),
  };
}
