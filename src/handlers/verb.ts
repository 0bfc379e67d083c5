import type { HandlerDeps } from './deps.js';
import { isInvalid, type Invalid } from './grammar.js';
import type { EphemeralReply } from './reply.js';

/** Who typed the command, where, and how to answer later. */
export interface CommandRequest {
  userId: string;
  channelId: string;
  /** Slack's id of this very invocation: a replayed request carries the same one. */
  triggerId: string;
  /** Where a worker can answer later (ephemeral, up to 5 times in 30 minutes). */
  responseUrl: string;
}

/** What every verb file exports: how it is written, how it is read, and what it does. */
export interface Verb<C> {
  /** The first word: `/mesh NAME …`. */
  name: string;
  /** The form after `/mesh`, e.g. `status REF`. */
  usage: string;
  summary: string;
  example: string;
  /** Pure: the arguments after the verb → the command, or why it is not one. */
  parse(args: string[], aliases: Record<string, string>): C | Invalid;
  /** Authorize, record, enqueue: never waits on Google. Its answer is the ack. */
  handle(command: C, request: CommandRequest, deps: HandlerDeps): Promise<EphemeralReply>;
}

/** A verb with its command type hidden, so verbs of different commands fit in one registry. */
export interface RegisteredVerb {
  name: string;
  usage: string;
  summary: string;
  example: string;
  read(args: string[], aliases: Record<string, string>): ParsedCommand | Invalid;
}

export interface ParsedCommand {
  verb: string;
  command: unknown;
  run(request: CommandRequest, deps: HandlerDeps): Promise<EphemeralReply>;
}

export function defineVerb<C>(verb: Verb<C>): RegisteredVerb {
  return {
    name: verb.name,
    usage: verb.usage,
    summary: verb.summary,
    example: verb.example,
    read(args, aliases) {
      const command = verb.parse(args, aliases);
      if (isInvalid(command)) return command;
      return {
        verb: verb.name,
        command,
        run: (request, deps) => verb.handle(command, request, deps),
      };
    },
  };
}
