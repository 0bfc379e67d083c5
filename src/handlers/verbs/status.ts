import type { ClusterRef } from '../../workflows/ports.js';
import { clusterKey } from '../../workflows/run.js';
import { clusterArgument, invalid, isInvalid, show } from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

const usage = 'status PROJECT/LOCATION/CLUSTER';

/** `/mesh status`: acked at once; a worker reads the mesh and answers through the response_url. */
export const statusVerb = defineVerb<{ cluster: ClusterRef }>({
  name: 'status',
  usage,
  summary:
    'membership, control and data plane state, conditions, injected namespaces, proxy versions and the last run',
  example: 'status my-proj/us-central1/prod-1',
  parse([ref, ...rest], aliases) {
    const cluster = clusterArgument(ref, aliases, usage);
    if (isInvalid(cluster)) return cluster;
    if (rest.length) return invalid(`\`status\` takes only a cluster; ${show(rest.join(' '))} is extra`);
    return { cluster };
  },
  async handle({ cluster }, request, { queries, log }) {
    const ref = clusterKey(cluster);
    await queries.status({
      cluster: ref,
      channel: request.channelId,
      user: request.userId,
      responseUrl: request.responseUrl,
      trigger: request.triggerId,
    });
    log.info({ cluster: ref, user: request.userId }, 'status asked');
    return ephemeral(
      `:mag: Looking at \`${ref}\`… the answer follows here in a few seconds (only you see it).`,
    );
  },
});
