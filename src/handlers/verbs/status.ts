import type { ClusterRef } from '../../workflows/ports.js';
import { clusterKey } from '../../workflows/run.js';
import { clusterArgument, invalid, isInvalid, runIdPattern, show } from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

const usage = 'status PROJECT/LOCATION/CLUSTER | RUN_ID';

type StatusCommand = { cluster: ClusterRef } | { runId: string };

/** `/mesh status`: acked at once; a worker reads the mesh (or the run) and answers through the response_url. */
export const statusVerb = defineVerb<StatusCommand>({
  name: 'status',
  usage,
  summary:
    'membership, control and data plane state, conditions, injected namespaces, proxy versions and the last run; for a run id, its steps and its whole plan',
  example: 'status my-proj/us-central1/prod-1',
  parse([ref, ...rest], aliases) {
    if (rest.length)
      return invalid(`\`status\` takes one cluster or run id; ${show(rest.join(' '))} is extra`);
    if (ref && !(ref in aliases) && runIdPattern.test(ref)) return { runId: ref };
    const cluster = clusterArgument(ref, aliases, usage);
    if (isInvalid(cluster)) return cluster;
    return { cluster };
  },
  async handle(command, request, { queries, log }) {
    const answer = {
      channel: request.channelId,
      user: request.userId,
      responseUrl: request.responseUrl,
      trigger: request.triggerId,
    };
    if ('runId' in command) {
      await queries.run({ runId: command.runId, ...answer });
      log.info({ runId: command.runId, user: request.userId }, 'run status asked');
      return ephemeral(
        `:mag: Looking up run \`${command.runId}\`… the answer follows here (only you see it).`,
      );
    }
    const { cluster } = command;
    const ref = clusterKey(cluster);
    await queries.status({ cluster: ref, ...answer });
    log.info({ cluster: ref, user: request.userId }, 'status asked');
    return ephemeral(
      `:mag: Looking at \`${ref}\`… the answer follows here in a few seconds (only you see it).`,
    );
  },
});
