/**
 * Slack's side of the wire: what Slack POSTs to /slack/events for a slash command or a button click,
 * and its v0 signature. The local console sends these to the bot, exactly as Slack would.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Slack's v0 request signature over `v0:TIMESTAMP:BODY`. */
export function signSlackRequest(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function signedHeaders(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': String(timestamp),
    'X-Slack-Signature': signSlackRequest(secret, timestamp, body),
  };
}

function triggerId(): string {
  return `${Date.now()}.${randomBytes(6).toString('hex')}`;
}

/** The fields Slack sends for `/mesh TEXT`: a form body over HTTP, the payload of an envelope over Socket Mode. */
export function slashCommandFields(
  text: string,
  user: string,
  channel: string,
  trigger = triggerId(),
  responseUrl = 'http://127.0.0.1:9/commands/response',
): Record<string, string> {
  return {
    team_id: 'T0SIM',
    team_domain: 'meshops-sim',
    channel_id: channel,
    channel_name: 'platform',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/mesh',
    text,
    api_app_id: 'A0MESHOPS',
    response_url: responseUrl,
    trigger_id: trigger,
  };
}

export function slashCommandBody(...args: Parameters<typeof slashCommandFields>): string {
  return new URLSearchParams(slashCommandFields(...args)).toString();
}

/** A block_actions payload as Slack sends it when a button in a bot message is clicked. */
export function buttonClickBody(input: {
  user: string;
  actionId: string;
  value: string;
  channel: string;
  messageTs: string;
  threadTs?: string;
  /** The actions block the button is in; Slack sends it with the click. */
  blockId: string;
  /** The message's input fields as typed: block id → action id → value. */
  inputs?: Record<string, Record<string, string>>;
}): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0SIM', domain: 'meshops-sim' },
    user: { id: input.user, username: input.user.toLowerCase(), team_id: 'T0SIM' },
    api_app_id: 'A0MESHOPS',
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: input.channel,
      is_ephemeral: false,
    },
    trigger_id: triggerId(),
    channel: { id: input.channel, name: 'platform' },
    message: {
      type: 'message',
      ts: input.messageTs,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
      text: '',
    },
    state: {
      values: Object.fromEntries(
        Object.entries(input.inputs ?? {}).map(([block, fields]) => [
          block,
          Object.fromEntries(
            Object.entries(fields).map(([action, value]) => [action, { type: 'plain_text_input', value }]),
          ),
        ]),
      ),
    },
    response_url: 'http://127.0.0.1:9/actions/response',
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId,
        value: input.value,
        text: { type: 'plain_text', text: input.actionId },
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
