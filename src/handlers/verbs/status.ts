import type { ClusterRef } from '../../workflows/ports.js';
import { clusterKey } from '../../workflows/run.js';
import { auditRefusal, projectRefusal } from '../access.js';
import {
  clusterArgument,
  fleetAsked,
  fleetOption,
  invalid,
  isInvalid,
  parseOptions,
  runIdPattern,
  show,
} from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

const usage = 'status PROJECT/LOCATION/CLUSTER [fleet=HOST_PROJECT] | RUN_ID';

type StatusCommand = { cluster: ClusterRef; fleet?: string } | { runId: string };

/** `/mesh status`: acked at once; a worker reads the mesh (or the run) and answers through the response_url. */
export const statusVerb = defineVerb<StatusCommand>({
  name: 'status',
  usage,
  summary:
    'membership, control and data plane state, conditions, injected namespaces, proxy versions and the last run; for a run id, its steps and its whole plan',
  example: 'status my-proj/us-central1/prod-1',
  parse([ref, ...rest], aliases) {
    // Only options may follow the cluster; a second word is a second cluster or run id.
    const extra = rest.filter((arg) => !arg.includes('='));
    if (extra.length)
      return invalid(`\`status\` takes one cluster or run id; ${show(extra.join(' '))} is extra`);
    if (ref && !(ref in aliases) && runIdPattern.test(ref)) {
      if (rest.length) return invalid(`\`status RUN_ID\` takes no options; ${show(rest.join(' '))} is extra`);
      return { runId: ref };
    }
    const cluster = clusterArgument(ref, aliases, usage);
    if (isInvalid(cluster)) return cluster;
    const options = parseOptions(rest, fleetOption);
    if (isInvalid(options)) return options;
    return { cluster, ...fleetAsked(options) };
  },
  async handle(command, request, deps) {
    const { queries, log } = deps;
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
    // A fleet named on the command is a project meshops reads with its own identity: only one it may
    // work in (config access.projects), as for the verbs that change a host's fleet. Config's hosts are
    // the operator's choice and need no check; a status read needs no requester or channel check.
    const refused = command.fleet ? projectRefusal(command.fleet, deps) : null;
    if (refused) {
      await auditRefusal(request, cluster, refused, deps);
      return ephemeral(`:no_entry: Not looked at: ${refused}. Nothing was read.`);
    }
    await queries.status({ cluster: ref, ...fleetAsked(command), ...answer });
    log.info({ cluster: ref, user: request.userId, fleet: command.fleet }, 'status asked');
    return ephemeral(
      `:mag: Looking at \`${ref}\`${command.fleet ? ` in the fleet of ${command.fleet}` : ''}… the answer follows here in a few seconds (only you see it).`,
    );
  },
});
