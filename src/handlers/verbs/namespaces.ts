import type { ClusterRef } from '../../workflows/ports.js';
import { clusterKey } from '../../workflows/run.js';
import type { InjectionMode } from '../../workflows/steps/injection.js';
import { admitDryRun, admitRun, isReply } from '../admission.js';
import {
  booleanOption,
  clusterArgument,
  dryRunOf,
  dryRunOption,
  invalid,
  isInvalid,
  namespaceNames,
  fleetAsked,
  fleetOption,
  parseOptions,
} from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb, type RegisteredVerb } from '../verb.js';

interface NamespacesCommand {
  cluster: ClusterRef;
  namespaces: string[];
  restart: boolean;
  fleet?: string;
  dryRun?: true;
}

const NAMESPACES_OPTION = 'namespaces=';

/** `/mesh inject REF ns…` and `/mesh uninject REF ns…`: approval first, then label, restart, verify. */
function namespacesVerb(mode: InjectionMode): RegisteredVerb {
  const usage = `${mode} PROJECT/LOCATION/CLUSTER NAMESPACE…|namespaces=a,b [restart=true|false] [fleet=HOST_PROJECT] [dry-run=true]`;
  return defineVerb<NamespacesCommand>({
    name: mode,
    usage,
    summary:
      mode === 'inject'
        ? 'turn sidecar injection on for namespaces of a cluster on the mesh (after approval), restart and verify'
        : 'turn sidecar injection off for namespaces (after approval), restart and verify no pod has istio-proxy',
    example: `${mode} my-proj/us-central1/prod-1 shop payments`,
    parse([ref, ...rest], aliases) {
      const cluster = clusterArgument(ref, aliases, usage);
      if (isInvalid(cluster)) return cluster;
      // The names one by one, or `namespaces=a,b` as enable cluster (and meshops' own hints) write them.
      const listedOption = (arg: string) => arg.startsWith(NAMESPACES_OPTION);
      const names = [
        ...rest.filter((arg) => !arg.includes('=')),
        ...rest
          .filter(listedOption)
          .flatMap((arg) => arg.slice(NAMESPACES_OPTION.length).split(','))
          .filter(Boolean),
      ];
      if (names.length === 0) return invalid(`which namespaces? \`/mesh ${usage}\``);
      const namespaces = namespaceNames(names);
      if (isInvalid(namespaces)) return namespaces;
      const options = parseOptions(
        rest.filter((arg) => arg.includes('=') && !listedOption(arg)),
        { restart: booleanOption('restart'), ...fleetOption, ...dryRunOption },
      );
      if (isInvalid(options)) return options;
      return {
        cluster,
        namespaces,
        restart: options.restart ?? true,
        ...fleetAsked(options),
        ...dryRunOf(options),
      };
    },
    async handle(command, request, deps) {
      const options = { namespaces: command.namespaces, restart: command.restart, ...fleetAsked(command) };
      const names = command.namespaces.map((n) => `\`${n}\``).join(', ');
      const what = `sidecar injection ${mode === 'inject' ? 'on' : 'off'} for ${names} in \`${clusterKey(command.cluster)}\``;
      if (command.dryRun) return admitDryRun(mode, command.cluster, options, what, request, deps);
      const admitted = await admitRun(mode, command.cluster, options, request, deps);
      if (isReply(admitted)) return admitted;
      return ephemeral(
        `:inbox_tray: Queued run \`${admitted.id}\`: ${what} (after approval). Progress follows in a thread in this channel.`,
      );
    },
  });
}

export const injectVerb = namespacesVerb('inject');
export const uninjectVerb = namespacesVerb('uninject');
