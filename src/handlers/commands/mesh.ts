import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { HandlerDeps } from '../deps.js';
import { parseMeshCommand, usage } from '../parse.js';
import { ephemeral, type EphemeralReply } from '../reply.js';
import { enableClusterCommand } from './enableCluster.js';
import { helpCommand } from './help.js';

/** What the user is told when queuing failed; ioredis' own wording means nothing to them. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const redisDown =
    (error instanceof Error && error.name === 'MaxRetriesPerRequestError') ||
    /ECONNREFUSED|Connection is closed|Stream isn't writeable/.test(message);
  return redisDown ? 'its queue, Redis, is unreachable' : message;
}

/** `/mesh …`: parse, dispatch to the one file per command, and ack with its ephemeral answer. */
export function meshCommand(deps: HandlerDeps) {
  return async ({ command, ack }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsed = parseMeshCommand(command.text, deps.aliases);
    let reply: EphemeralReply;
    try {
      switch (parsed.kind) {
        case 'help':
          reply = helpCommand();
          break;
        case 'invalid':
          reply = ephemeral(`:warning: ${parsed.reason}. Nothing was started.\n${usage}`);
          break;
        case 'not-yet':
          reply = ephemeral(
            `\`/mesh ${parsed.verb}\` is not available in this version yet. Nothing was started.\n${usage}`,
          );
          break;
        case 'enable-cluster':
          reply = await enableClusterCommand(
            parsed,
            { userId: command.user_id, channelId: command.channel_id, triggerId: command.trigger_id },
            deps,
          );
          break;
      }
    } catch (error) {
      deps.log.error({ err: error, user: command.user_id, text: command.text }, '/mesh failed');
      reply = ephemeral(
        `:x: meshops could not queue this (${reasonOf(error)}). Nothing was started; try again in a minute.`,
      );
    }
    await ack(reply);
  };
}
