/**
 * The local web console: a page that looks and acts like a Slack channel, on the emulator. What
 * you type and click becomes a real signed Slack request to the bot's /slack/events; what you see
 * is what the bot posted to the emulated Slack Web API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sim } from '../sim/index.js';
import { REASON_ACTION, REASON_BLOCK } from '../slack/render.js';
import { buttonClickBody, signedHeaders, slashCommandBody } from '../slack/requests.js';
import { consolePage } from './page.js';

export const CONSOLE_CHANNEL = 'C0PLATFORM';

export interface ConsoleOptions {
  sim: Pick<Sim, 'slack' | 'world'>;
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

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) reject(new Error('request too large'));
    });
    req.on('end', () => {
      try {
        const parsed: unknown = JSON.parse(text || '{}');
        resolve(typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {});
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(body) : String(body));
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** What Google can do to a cluster's managed mesh on its own, for a newcomer to see a notification arrive. */
const worldActions: Record<string, { label: string; run: (world: Sim['world'], cluster: string) => string }> =
  {
    proxy: {
      label: 'Roll out a new proxy version',
      run: (world, cluster) => {
        const current = world.rolloutStatus(cluster).target;
        const [, major = '1', minor = '23', rest = '6-asm.14'] = /^(\d+)\.(\d+)\.(.*)$/.exec(current) ?? [];
        const next = `${major}.${Number(minor) + 1}.${rest}`;
        world.upgradeMesh(cluster, { proxyVersion: next, podIntervalMs: 30_000 });
        return `Google rolls the proxies of ${cluster} to ${next}, one pod at a time.`;
      },
    },
    modernize: {
      label: 'Move the control plane to Traffic Director',
      run: (world, cluster) => {
        world.upgradeMesh(cluster, { implementation: 'UPDATING' });
        setTimeout(() => world.upgradeMesh(cluster, { implementation: 'TRAFFIC_DIRECTOR' }), 8000).unref();
        return `Google migrates ${cluster} from ISTIOD to TRAFFIC_DIRECTOR (UPDATING for a few seconds).`;
      },
    },
    rapid: {
      label: 'Switch the GKE release channel to RAPID',
      run: (world, cluster) => {
        world.setReleaseChannel(cluster, 'RAPID');
        return `${cluster} moves to the RAPID channel: a new managed revision, then new proxies.`;
      },
    },
    degrade: {
      label: 'Degrade the control plane',
      run: (world, cluster) => {
        world.degradeMesh(cluster);
        return `The control plane of ${cluster} turns DEGRADED (MESH_IAM_PERMISSION_DENIED).`;
      },
    },
    recover: {
      label: 'Recover',
      run: (world, cluster) => {
        world.recoverMesh(cluster);
        return `The control plane of ${cluster} is healthy again.`;
      },
    },
  };

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

  return [
    { path: '/', method: ['GET'], handler: (_req, res) => send(res, 200, consolePage, 'text/html') },
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
          clusters: sim.world.clusters.map((c) => c.ref),
          actions: Object.entries(worldActions).map(([id, a]) => ({ id, label: a.label })),
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
      path: '/console/world',
      method: ['POST'],
      handler: post((input) => {
        const action = worldActions[text(input.action)];
        const cluster = text(input.cluster);
        if (!action) throw new Error(`no such action ${text(input.action)}`);
        if (!sim.world.cluster(cluster)) throw new Error(`no cluster ${cluster}`);
        return Promise.resolve({ done: action.run(sim.world, cluster) });
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
