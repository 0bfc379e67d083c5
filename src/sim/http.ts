import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { JsonValue } from './json.js';

/** A parsed request as the API handlers see it. */
export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  params: Record<string, string>;
}

export interface SimResponse {
  status: number;
  body: JsonValue;
  headers?: Record<string, string>;
  /**
   * Set: the answer is a stream (a Kubernetes watch) and `body` is not sent. Called once the status line and
   * headers are out; it writes chunks and ends the response itself.
   */
  stream?: (res: ServerResponse) => void;
}

export type Handler = (req: SimRequest) => SimResponse;

export function ok(body: JsonValue): SimResponse {
  return { status: 200, body };
}

export function param(req: SimRequest, name: string): string {
  const value = req.params[name];
  if (value === undefined) throw new Error(`route has no parameter {${name}}`);
  return value;
}

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/**
 * Routes are templates like `/v1/projects/{project}/clusters/{cluster}:setResourceLabels`; a parameter never
 * spans a `/` or a `:`, so Google's custom verbs after a colon stay distinct routes.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, template: string, handler: Handler): this {
    const source = template
      .split(/(\{[a-zA-Z]+\})/)
      .map((part) => {
        const name = /^\{([a-zA-Z]+)\}$/.exec(part)?.[1];
        return name ? `(?<${name}>[^/:]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), handler });
    return this;
  }

  /** Whether some route serves this path with another method (405 rather than 404). */
  servesPath(path: string): boolean {
    return this.routes.some((route) => route.pattern.test(path));
  }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      for (const [key, value] of Object.entries(found.groups ?? {})) params[key] = decodeURIComponent(value);
      return { handler: route.handler, params };
    }
    return undefined;
  }
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function toSimRequest(req: IncomingMessage, rawBody: string): SimRequest {
  const url = new URL(req.url ?? '/', 'http://sim.invalid');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    rawBody,
    params: {},
  };
}

export function send(res: ServerResponse, response: SimResponse): void {
  if (response.stream) {
    res.writeHead(response.status, {
      'content-type': 'application/json',
      'transfer-encoding': 'chunked',
      ...response.headers,
    });
    res.flushHeaders();
    response.stream(res);
    return;
  }
  const payload = JSON.stringify(response.body);
  res.writeHead(response.status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(payload),
    ...response.headers,
  });
  res.end(payload);
}

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  return value?.startsWith('Bearer ') ? value.slice('Bearer '.length).trim() : undefined;
}

/** Holds a slowed call; unref'd so a held call never keeps a closing process alive. */
export function holdFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

export type RequestListener = (req: SimRequest) => Promise<SimResponse> | SimResponse;

export interface ListenOptions {
  host: string;
  port: number;
  tls?: { key: string; cert: string };
  /**
   * Called when a request arrives (path and raw query string); the function it returns is called with
   * the status the request was answered with, whatever answered it (handler, fault, auth check, crash).
   */
  observe?: (request: { method: string; path: string; query: string }) => (status: number) => void;
  /**
   * Asked on every new connection and every request: true resets the connection at once, before TLS or
   * HTTP on a new one (a private endpoint as seen from outside its network), and tells `onRefused`.
   */
  refuse?: () => boolean;
  onRefused?: () => void;
}

function rawQuery(url: string | undefined): string {
  const index = (url ?? '').indexOf('?');
  return index < 0 ? '' : (url ?? '').slice(index + 1);
}

export async function listen(listener: RequestListener, options: ListenOptions): Promise<RunningServer> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // A connection kept alive from before the endpoint turned private is refused from then on too.
    if (options.refuse?.()) {
      options.onRefused?.();
      req.socket.destroy();
      return;
    }
    let answered = options.observe?.({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://sim.invalid').pathname,
      query: rawQuery(req.url),
    });
    const reply = (response: SimResponse): void => {
      // Once only: a reply that fails to send is answered again with a 500.
      answered?.(response.status);
      answered = undefined;
      send(res, response);
    };
    readBody(req)
      .then((rawBody) => listener(toSimRequest(req, rawBody)))
      .then(reply)
      .catch((error: unknown) => {
        reply({
          status: 500,
          body: { error: { code: 500, message: String(error), status: 'INTERNAL' } },
        });
      });
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, handle) : createHttpServer(handle);
  const { refuse, onRefused } = options;
  if (refuse) {
    server.on('connection', (socket: Socket) => {
      if (!refuse()) return;
      onRefused?.();
      socket.resetAndDestroy();
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Clients keep connections alive; without this, close() would wait for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
