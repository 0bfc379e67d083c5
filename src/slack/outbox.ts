import type { MessageContent, OutgoingMessage } from '../store/messages.js';

/**
 * The one way a message leaves meshops for Slack: queued under its idempotency key, paced per
 * channel, sent once (src/jobs/outbox.ts does the sending).
 */
export interface Outbox {
  /** Queues a message; a key already queued or sent is not queued again. */
  send(message: OutgoingMessage): Promise<void>;
  /** Newer content for the message with this key (chat.update); only the newest version is sent. */
  update(key: string, content: MessageContent, version: number): Promise<void>;
  /** The ts Slack gave the message with this key; null while it is not sent. */
  sentTs(key: string): Promise<string | null>;
  /** Drops the messages of a chain that are not sent yet; returns how many. */
  cancel(chain: string, reason: string): Promise<number>;
}
