/**
 * A local Socket Mode server that speaks Slack's envelope: the bot's SocketModeClient gets its URL
 * from the emulator's apps.connections.open, connects, is greeted with `hello`, and receives
 * slash commands and interactions as envelopes it must acknowledge by `envelope_id` (with the
 * response payload for a slash command, as Slack shows it to the user).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Sim } from '../../src/sim/index.js';

export interface SocketModeServer {
  /** Resolves once a client is connected and greeted. */
  connected(): Promise<void>;
  /** How many connections the bot has opened. */
  connections: number;
  /** Sends a slash command (`/mesh TEXT`) and resolves with the ack's payload. */
  slashCommand(fields: Record<string, string>): Promise<Record<string, unknown> | undefined>;
  /** Sends a block_actions payload; resolves when acked. */
  interactive(payload: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startSocketModeServer(sim: Sim): Promise<SocketModeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  sim.slack.socketModeUrl = `ws://127.0.0.1:${port}/link/?ticket=${randomUUID()}&app_id=A0MESHOPS`;

  let socket: WebSocket | undefined;
  let greeted: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (greeted = resolve));
  const pending = new Map<string, (payload: Record<string, unknown> | undefined) => void>();
  const state = { connections: 0 };
  let pinger: NodeJS.Timeout | undefined;

  wss.on('connection', (ws) => {
    socket = ws;
    state.connections += 1;
    ws.on('message', (data: Buffer) => {
      const ack = JSON.parse(data.toString()) as { envelope_id?: string; payload?: Record<string, unknown> };
      if (!ack.envelope_id) return;
      pending.get(ack.envelope_id)?.(ack.payload);
      pending.delete(ack.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'applink-sim', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0MESHOPS' },
      }),
    );
    // Slack pings the client; the client answers with pongs (ws does it for it).
    pinger = setInterval(() => ws.ping(), 2000);
    greeted();
  });

  function send(type: string, payload: Record<string, unknown>, acceptsResponse: boolean) {
    if (!socket) throw new Error('no Socket Mode client is connected');
    const envelopeId = randomUUID();
    const acked = new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`envelope ${envelopeId} (${type}) was not acked within 3 s`)),
        3000,
      );
      pending.set(envelopeId, (payload) => {
        clearTimeout(timer);
        resolve(payload);
      });
    });
    socket.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        accepts_response_payload: acceptsResponse,
        payload,
        retry_attempt: 0,
        retry_reason: '',
      }),
    );
    return acked;
  }

  return {
    connected: () => ready,
    get connections() {
      return state.connections;
    },
    slashCommand: (fields) => send('slash_commands', fields, true),
    interactive: async (payload) => {
      await send('interactive', payload, false);
    },
    async close() {
      clearInterval(pinger);
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
