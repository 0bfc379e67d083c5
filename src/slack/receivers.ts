/**
 * How Slack's requests reach the listeners: over HTTP at /slack/events (signed requests, a public
 * URL), or over Socket Mode when SLACK_APP_TOKEN is set (a WebSocket the bot opens, no public URL).
 * The listeners are the same either way; so are /healthz, /readyz and /metrics, served by the
 * HTTP receiver itself or, in Socket Mode, by a small server of their own.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, SocketModeReceiver, type App, type Logger, type Receiver } from '@slack/bolt';
import type { Config } from '../config.js';

export interface Route {
  path: string;
  method: string[];
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface Listening {
  /** http://127.0.0.1:PORT of the routes (and of /slack/events over HTTP). */
  url: string;
  /** The address the server is bound to, e.g. `127.0.0.1` or `::` (every interface). */
  boundTo: string;
  stop(): Promise<void>;
}

export interface SlackReceiving {
  receiver: Receiver;
  mode: 'http' | 'socket';
  /** `host` null: every interface (a deployment); local mode passes 127.0.0.1. */
  start(app: App, port: number, host: string | null): Promise<Listening>;
}

function urlOf(address: AddressInfo | string | null): string {
  return `http://127.0.0.1:${(address as AddressInfo).port}`;
}

function boundTo(address: AddressInfo | string | null): string {
  return (address as AddressInfo).address;
}

/** The routes alone, for Socket Mode and the worker role: exact paths, 404 otherwise. */
export function serveRoutes(routes: Route[], port: number, host: string | null): Promise<Listening> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://meshops').pathname;
    const route = routes.find((r) => r.path === path && r.method.includes(req.method ?? 'GET'));
    if (route) return route.handler(req, res);
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host ? { host } : {}) }, () =>
      resolve({
        url: urlOf(server.address()),
        boundTo: boundTo(server.address()),
        stop: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}

export function slackReceiver(slack: Config['slack'], routes: Route[], logger: Logger): SlackReceiving {
  if (slack.appToken) {
    const receiver = new SocketModeReceiver({
      appToken: slack.appToken,
      logger,
      // apps.connections.open goes where every other Web API call goes (SLACK_API_URL).
      installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
    });
    return {
      receiver,
      mode: 'socket',
      async start(app, port, host) {
        await app.start();
        const routesServer = await serveRoutes(routes, port, host);
        return {
          url: routesServer.url,
          boundTo: routesServer.boundTo,
          async stop() {
            await app.stop();
            await routesServer.stop();
          },
        };
      },
    };
  }
  const receiver = new HTTPReceiver({
    signingSecret: slack.signingSecret ?? '',
    endpoints: '/slack/events',
    logger,
    customRoutes: routes,
  });
  return {
    receiver,
    mode: 'http',
    async start(app, port, host) {
      const server = (await app.start({ port, ...(host ? { host } : {}) })) as {
        address(): AddressInfo | string | null;
      };
      return {
        url: urlOf(server.address()),
        boundTo: boundTo(server.address()),
        stop: () => app.stop().then(() => undefined),
      };
    },
  };
}
