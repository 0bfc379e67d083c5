/**
 * The local web console: a page that looks and acts like a Slack channel, on the emulator, with the
 * emulated fleet beside it. What you type and click becomes a real signed Slack request to the bot's
 * /slack/events; what you see in the channel is what the bot posted to the emulated Slack Web API; the
 * fleet panel reads and steers the emulator only through its own control endpoint (src/sim/control.ts),
 * over HTTP: /console/fleet relays GET /_sim/state, /console/fleet/* the POSTs (and DELETE) beside it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sim } from '../sim/index.js';
import { REASON_ACTION, REASON_BLOCK } from '../slack/render.js';
import { buttonClickBody, signedHeaders, slashCommandBody } from '../slack/requests.js';
import { consolePage } from './page.js';

export const CONSOLE_CHANNEL = 'C0PLATFORM';

export interface ConsoleOptions {
  sim: Pick<Sim, 'slack' | 'controlUrl'>;
  signingSecret: string;
  approvers: string[];
  /** Where the bot listens, known once it has started. */
  botUrl: () => string;
}

interface Route {
  path: string;
  method: string[];
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

const MAX_BODY = 16_384;

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) reject(new Error('request too large'));
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parsed: unknown = JSON.parse((await readText(req)) || '{}');
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(body) : String(body));
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function consoleRoutes({ sim, signingSecret, approvers, botUrl }: ConsoleOptions): Route[] {
  const forward = async (body: string) => {
    const res = await fetch(`${botUrl()}/slack/events`, {
      method: 'POST',
      headers: signedHeaders(signingSecret, body),
      body,
    });
    const answer = await res.text();
    return { status: res.status, answer: answer ? (JSON.parse(answer) as unknown) : null };
  };
  const post =
    (handle: (input: Record<string, unknown>) => Promise<unknown>) =>
    (req: IncomingMessage, res: ServerResponse) => {
      readJson(req)
        .then(handle)
        .then((result) => send(res, 200, result))
        .catch((error: unknown) =>
          send(res, 400, { error: error instanceof Error ? error.message : String(error) }),
        );
    };

  /** The emulator's answer as it gave it (status and JSON body): what it refuses, it says why. */
  const relay =
    (simPath: string) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const method = req.method ?? 'GET';
      readText(req)
        .then((body) =>
          fetch(new URL(`_sim/${simPath}`, sim.controlUrl), {
            method,
            ...(method === 'POST' ? { headers: { 'Content-Type': 'application/json' }, body } : {}),
          }),
        )
        .then(async (answer) => send(res, answer.status, await answer.json()))
        .catch((error: unknown) =>
          send(res, 502, {
            error: `the emulator's control endpoint did not answer: ${error instanceof Error ? error.message : String(error)}`,
          }),
        );
    };

  return [
    { path: '/', method: ['GET'], handler: (_req, res) => send(res, 200, consolePage, 'text/html') },
    { path: '/console/fleet', method: ['GET'], handler: relay('state') },
    { path: '/console/fleet/speed', method: ['POST'], handler: relay('speed') },
    { path: '/console/fleet/mesh', method: ['POST'], handler: relay('mesh') },
    { path: '/console/fleet/faults', method: ['POST', 'DELETE'], handler: relay('faults') },
    {
      path: '/console/state',
      method: ['GET'],
      handler: (req, res) => {
        const user = new URL(req.url ?? '/', 'http://console').searchParams.get('user') ?? '';
        send(res, 200, {
          channel: { id: CONSOLE_CHANNEL, name: 'platform' },
          users: [...sim.slack.users.values()]
            .filter((u) => !u.is_bot)
            .map((u) => ({ id: u.id, real_name: u.real_name, approver: approvers.includes(u.id) })),
          messages: sim.slack.messages(CONSOLE_CHANNEL),
          ephemerals: sim.slack.ephemerals(CONSOLE_CHANNEL).filter((e) => e.user === user),
        });
      },
    },
    {
      path: '/console/command',
      method: ['POST'],
      handler: post(async (input) => {
        const line = text(input.text).trim();
        if (!line.startsWith('/mesh')) throw new Error('this console speaks only /mesh …');
        const user = text(input.user);
        // As Slack does with an escaping command: #platform becomes <#C0PLATFORM|platform>.
        const command = line
          .replace(/^\/mesh\s*/, '')
          .replace(/(^|\s)#platform\b/g, `$1<#${CONSOLE_CHANNEL}|platform>`);
        return forward(
          slashCommandBody(
            command,
            user,
            CONSOLE_CHANNEL,
            undefined,
            sim.slack.responseUrl(user, CONSOLE_CHANNEL),
          ),
        );
      }),
    },
    {
      path: '/console/click',
      method: ['POST'],
      handler: post((input) =>
        forward(
          buttonClickBody({
            user: text(input.user),
            actionId: text(input.actionId),
            value: text(input.value),
            blockId: text(input.blockId),
            channel: CONSOLE_CHANNEL,
            messageTs: text(input.messageTs),
            ...(text(input.reason)
              ? { inputs: { [REASON_BLOCK]: { [REASON_ACTION]: text(input.reason) } } }
              : {}),
            ...(text(input.threadTs) ? { threadTs: text(input.threadTs) } : {}),
          }),
        ),
      ),
    },
  ];
}
