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
import { enableVerb } from './verbs/enable.js';
import { plannedVerb } from './verbs/planned.js';
import { listVerb } from './verbs/list.js';
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

export const verbs: readonly RegisteredVerb[] = [
  enableVerb,
  statusVerb,
  watchVerb,
  unwatchVerb,
  listVerb,
  cancelVerb,
  plannedVerb('inject', 'inject REF NAMESPACE…', 'label namespaces for sidecar injection (approval first)'),
  plannedVerb('uninject', 'uninject REF NAMESPACE…', 'remove sidecar injection from namespaces'),
  plannedVerb('disable', 'disable cluster REF [unregister=true]', 'turn managed mesh off for a cluster'),
  helpVerb,
];

export function usage(): string {
  const available = verbs.filter((v) => !v.planned);
  const planned = verbs.filter((v) => v.planned);
  return [
    '*Usage*',
    ...available.map((v) => `• \`/mesh ${v.usage}\` — ${v.summary}`),
    ...(planned.length ? [`Coming later: ${planned.map((v) => `\`${v.name}\``).join(', ')}.`] : []),
    'A cluster is `PROJECT/LOCATION/CLUSTER` (e.g. `my-proj/us-central1/prod-1`), `projects/P/locations/L/clusters/C`, or an alias from the config.',
  ].join('\n');
}

export type ReadCommand = ParsedCommand | { invalid: string };

/** `/mesh …` text → the verb's command, or a reason it is not one. Pure. */
export function parseMeshCommand(text: string, aliases: Record<string, string> = {}): ReadCommand {
  if (text.length > MAX_COMMAND_LENGTH) {
    return { invalid: `the command is ${text.length} characters long; the limit is ${MAX_COMMAND_LENGTH}` };
  }
  const [name, ...args] = text.trim().split(/\s+/).filter(Boolean);
  const verb = verbs.find((v) => v.name === (name ?? 'help'));
  if (!verb) return { invalid: `unknown command ${show(name ?? '')}` };
  return verb.read(args, aliases);
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
      reply = ephemeral(`:warning: ${parsed.invalid}. Nothing was started.\n${usage()}`);
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
