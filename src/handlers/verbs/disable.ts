import type { ClusterRef } from '../../workflows/ports.js';
import { clusterKey } from '../../workflows/run.js';
import { admitDryRun, admitRun, isReply } from '../admission.js';
import {
  booleanOption,
  clusterArgument,
  dryRunOf,
  dryRunOption,
  invalid,
  isInvalid,
  fleetAsked,
  fleetOption,
  parseOptions,
} from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

const usage =
  'disable cluster PROJECT/LOCATION/CLUSTER [unregister=true] [restart=true|false] [fleet=HOST_PROJECT] [dry-run=true]';

/** `/mesh disable cluster`: after approval, injection off, management manual, maybe unregistered. */
export const disableVerb = defineVerb<{
  cluster: ClusterRef;
  unregister: boolean;
  restart: boolean;
  fleet?: string;
  dryRun?: true;
}>({
  name: 'disable',
  usage,
  summary:
    'after approval: sidecar injection off where the managed mesh injects, management MANAGEMENT_MANUAL, and with unregister=true the membership deleted',
  example: 'disable cluster my-proj/us-central1/prod-1 unregister=true',
  parse([noun, ref, ...rest], aliases) {
    if (noun !== 'cluster') return invalid(`\`disable\` takes \`cluster\`: \`/mesh ${usage}\``);
    const cluster = clusterArgument(ref, aliases, usage);
    if (isInvalid(cluster)) return cluster;
    const options = parseOptions(rest, {
      unregister: booleanOption('unregister'),
      restart: booleanOption('restart'),
      ...fleetOption,
      ...dryRunOption,
    });
    if (isInvalid(options)) return options;
    return {
      cluster,
      unregister: options.unregister ?? false,
      restart: options.restart ?? true,
      ...fleetAsked(options),
      ...dryRunOf(options),
    };
  },
  async handle(command, request, deps) {
    const options = {
      namespaces: [],
      restart: command.restart,
      unregister: command.unregister,
      ...fleetAsked(command),
    };
    const what = `managed Cloud Service Mesh off for \`${clusterKey(command.cluster)}\`${command.unregister ? ', then unregistered from the fleet' : ''}`;
    if (command.dryRun) return admitDryRun('disable-cluster', command.cluster, options, what, request, deps);
    const admitted = await admitRun('disable-cluster', command.cluster, options, request, deps);
    if (isReply(admitted)) return admitted;
    return ephemeral(
      `:inbox_tray: Queued run \`${admitted.id}\`: ${what} (after approval, which lists what will change). Progress follows in a thread in this channel.`,
    );
  },
});
