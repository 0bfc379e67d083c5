/**
 * An HTTPS CONNECT proxy for real command-line clients (gcloud): it answers `CONNECT x.googleapis.com:443`
 * itself, presents a `*.googleapis.com` certificate from the sim's CA, and forwards each decrypted request to
 * the emulated API behind that host name. gcloud then believes it talks to Google, with nothing but its own
 * `proxy/*` and `core/custom_ca_certs_file` settings changed: no /etc/hosts, no root, no port 443.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { RunningServer } from './http.js';

export interface ClientProxyOptions {
  host: string;
  port: number;
  /** The `*.googleapis.com` certificate and its key. */
  tls: { key: string; cert: string };
  /** Host name (e.g. 'container.googleapis.com') → the emulated API's base URL. */
  upstreams: Record<string, string>;
}

function hostOf(authority: string | undefined): string {
  return (authority ?? '').replace(/:\d+$/, '').toLowerCase();
}

function forward(upstreams: Record<string, string>, req: IncomingMessage, res: ServerResponse): void {
  const base = upstreams[hostOf(req.headers.host)];
  if (!base) {
    res
      .writeHead(502, { 'content-type': 'text/plain' })
      .end(`meshops sim: no emulator for ${req.headers.host}\n`);
    return;
  }
  const target = new URL(req.url ?? '/', base);
  const upstream = request(
    target,
    { method: req.method, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`meshops sim: ${error.message}\n`);
  });
  req.pipe(upstream);
}

export async function startClientProxy(options: ClientProxyOptions): Promise<RunningServer> {
  const { upstreams } = options;
  // Decrypted tunnels are handed to this server as if they were connections of its own.
  const inner = createServer((req, res) => forward(upstreams, req, res));
  const outer = createServer((req, res) => {
    // Plain-HTTP proxying (an absolute URL) is not what gcloud does; say so rather than guess.
    res.writeHead(405, { 'content-type': 'text/plain' }).end('meshops sim proxy: use CONNECT\n');
  });
  const tunnels = new Set<Socket>();
  outer.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const host = hostOf(req.url);
    if (!upstreams[host]) {
      socket.end(`HTTP/1.1 403 Forbidden\r\n\r\nmeshops sim proxy: ${host} is not emulated\n`);
      return;
    }
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const tls = new TLSSocket(socket, { isServer: true, key: options.tls.key, cert: options.tls.cert });
    tls.on('error', () => socket.destroy());
    inner.emit('connection', tls);
  });
  await new Promise<void>((resolve, reject) => {
    outer.once('error', reject);
    outer.listen(options.port, options.host, () => {
      outer.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (outer.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of tunnels) socket.destroy();
        inner.close();
        outer.close(() => resolve());
        outer.closeAllConnections();
      });
      return closing;
    },
  };
}
