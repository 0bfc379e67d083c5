/**
 * The `/mesh` verbs, one file each, and what they share: reading a command line into one of them,
 * and the usage and help, generated from the same list so they never disagree with it.
 */
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { HandlerDeps } from './deps.js';
import { MAX_COMMAND_LENGTH, isInvalid, show } from './grammar.js';
import { ephemeral, type EphemeralReply } from './reply.js';
import { defineVerb, type ParsedCommand, type RegisteredVerb } from './verb.js';
import { cancelVerb } from './verbs/cancel.js';
import { configVerb } from './verbs/config.js';
import { disableVerb } from './verbs/disable.js';
import { enableVerb } from './verbs/enable.js';
import { listVerb } from './verbs/list.js';
import { injectVerb, uninjectVerb } from './verbs/namespaces.js';
import { statusVerb } from './verbs/status.js';
import { unwatchVerb, watchVerb } from './verbs/watch.js';

const helpVerb = defineVerb<null>({
  name: 'help',
  usage: 'help',
  summary: 'this message',
  example: 'help',
  parse: () => null,
  handle: () =>
    Promise.resolve(
      ephemeral(
        `*meshops* puts GKE clusters onto Cloud Service Mesh through the Fleet API, and asks an approver before any namespace gets sidecars.\n${usage()}`,
      ),
    ),
});

/** In the order the help lists them: a cluster's life first, then looking, then the rest. */
export const verbs: readonly RegisteredVerb[] = [
  enableVerb,
  injectVerb,
  uninjectVerb,
  disableVerb,
  configVerb,
  statusVerb,
  watchVerb,
  unwatchVerb,
  listVerb,
  cancelVerb,
  helpVerb,
];

export function usage(): string {
  return [
    '*Usage*',
    ...verbs.map((v) => `• \`/mesh ${v.usage}\` — ${v.summary}`),
    'A cluster is `PROJECT/LOCATION/CLUSTER` (e.g. `my-proj/us-central1/prod-1`), `projects/P/locations/L/clusters/C`, or an alias from the config.',
  ].join('\n');
}

/** A line that is not a command: why, and the verb it tried to be (when it named one). */
export type ReadCommand = ParsedCommand | { invalid: string; verb?: string };

/** `/mesh …` text → the verb's command, or a reason it is not one. Pure. */
export function parseMeshCommand(text: string, aliases: Record<string, string> = {}): ReadCommand {
  if (text.length > MAX_COMMAND_LENGTH) {
    return { invalid: `the command is ${text.length} characters long; the limit is ${MAX_COMMAND_LENGTH}` };
  }
  const [name, ...args] = text.trim().split(/\s+/).filter(Boolean);
  const verb = verbs.find((v) => v.name === (name ?? 'help'));
  if (!verb) return { invalid: `unknown command ${show(name ?? '')}` };
  const read = verb.read(args, aliases);
  return isInvalid(read) ? { ...read, verb: verb.name } : read;
}

/**
 * What a malformed command is answered with besides its reason: the right form of the verb it
 * tried, or the forms of all of them, short, and where the whole help is.
 */
export function usageFor(verbName: string | undefined): string {
  const verb = verbs.find((v) => v.name === verbName);
  if (verb)
    return `Usage: \`/mesh ${verb.usage}\` — e.g. \`/mesh ${verb.example}\`. \`/mesh help\` lists every command.`;
  const forms = verbs.map((v) => `\`/mesh ${v.usage}\``);
  return `Commands: ${forms.join(' · ')}. \`/mesh help\` says what each does.`;
}

/** What the user is told when queuing failed; ioredis' own wording means nothing to them. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const redisDown =
    (error instanceof Error && error.name === 'MaxRetriesPerRequestError') ||
    /ECONNREFUSED|Connection is closed|Stream isn't writeable/.test(message);
  return redisDown ? 'its queue, Redis, is unreachable' : message;
}

/** `/mesh …`: read the command, run its verb, and ack with the verb's ephemeral answer. */
export function meshCommand(deps: HandlerDeps) {
  return async ({ command, ack }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsed = parseMeshCommand(command.text, deps.aliases);
    let reply: EphemeralReply;
    if (isInvalid(parsed)) {
      reply = ephemeral(`:warning: ${parsed.invalid}. Nothing was started.\n${usageFor(parsed.verb)}`);
    } else {
      try {
        reply = await parsed.run(
          {
            userId: command.user_id,
            channelId: command.channel_id,
            triggerId: command.trigger_id,
            responseUrl: command.response_url,
          },
          deps,
        );
      } catch (error) {
        deps.log.error({ err: error, user: command.user_id, text: command.text }, '/mesh failed');
        reply = ephemeral(
          `:x: meshops could not queue this (${reasonOf(error)}). Nothing was started; try again in a minute.`,
        );
      }
    }
    await ack(reply);
  };
}
