import { admitRun, isReply } from '../admission.js';
import { clusterKey } from '../../workflows/run.js';
import type { ClusterRef } from '../../workflows/ports.js';
import {
  booleanOption,
  clusterArgument,
  invalid,
  isInvalid,
  namespaceNames,
  parseOptions,
  type Invalid,
} from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

export interface EnableClusterCommand {
  kind: 'enable-cluster';
  cluster: ClusterRef;
  namespaces: string[];
  restart: boolean;
}

const usage = 'enable cluster PROJECT/LOCATION/CLUSTER [namespaces=a,b] [restart=true|false]';

function namespaces(value: string): string[] | Invalid {
  return namespaceNames(value.split(',').filter(Boolean), value);
}

/**
 * `/mesh enable cluster`: writes the run record and enqueues its job; the worker does the rest.
 * Idempotent on the trigger id, and one active run per cluster.
 */
export const enableVerb = defineVerb<EnableClusterCommand>({
  name: 'enable',
  usage,
  summary:
    'register the cluster in the fleet, turn on managed Cloud Service Mesh, and (after approval) inject the namespaces',
  example: 'enable cluster my-proj/us-central1/prod-1 namespaces=default,shop',
  parse([noun, ref, ...rest], aliases) {
    if (noun !== 'cluster')
      return invalid('`enable` takes `cluster`: `/mesh enable cluster PROJECT/LOCATION/CLUSTER`');
    const cluster = clusterArgument(ref, aliases, 'enable cluster PROJECT/LOCATION/CLUSTER');
    if (isInvalid(cluster)) return cluster;
    const options = parseOptions(rest, { namespaces, restart: booleanOption('restart') });
    if (isInvalid(options)) return options;
    return {
      kind: 'enable-cluster',
      cluster,
      namespaces: options.namespaces ?? [],
      restart: options.restart ?? true,
    };
  },
  async handle(command, request, deps) {
    const admitted = await admitRun(
      'enable-cluster',
      command.cluster,
      { namespaces: command.namespaces, restart: command.restart },
      request,
      deps,
    );
    if (isReply(admitted)) return admitted;
    const injected = command.namespaces.length
      ? ` then sidecar injection for ${command.namespaces.map((n) => `\`${n}\``).join(', ')} (after approval)`
      : '';
    return ephemeral(
      `:inbox_tray: Queued run \`${admitted.id}\`: managed Cloud Service Mesh on \`${clusterKey(command.cluster)}\`${injected}. Progress follows in a thread in this channel.`,
    );
  },
});
