import type { MeshSettings } from '../../workflows/meshYaml.js';
import { describeSettings } from '../../workflows/meshConfig.js';
import type { ClusterRef } from '../../workflows/ports.js';
import { clusterKey } from '../../workflows/run.js';
import { admitDryRun, admitRun, isReply } from '../admission.js';
import {
  clusterArgument,
  dryRunOf,
  dryRunOption,
  invalid,
  isInvalid,
  parseOptions,
  show,
  type OptionReader,
} from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

const usage = 'config PROJECT/LOCATION/CLUSTER [access-log=on|off] [tracing=SAMPLING] [dry-run=true]';

const accessLogOption: OptionReader<boolean> = (value) =>
  value === 'on' || value === 'off' ? value === 'on' : invalid('`access-log=` takes on or off');

/** Istio's sampling is a percentage with at most two decimals (0.01 % steps), 0 to 100. */
const tracingOption: OptionReader<number> = (value) => {
  const sampling = /^\d{1,3}(\.\d{1,2})?$/.test(value) ? Number(value) : NaN;
  return sampling >= 0 && sampling <= 100
    ? sampling
    : invalid(
        `\`tracing=\` takes the sampling percentage, 0 to 100 (e.g. \`tracing=1\` or \`tracing=0.5\`), not ${show(value)}`,
      );
};

/** `/mesh config REF …`: after approval, the managed mesh's MeshConfig edited (access logs, tracing sampling). */
export const configVerb = defineVerb<{ cluster: ClusterRef; settings: MeshSettings; dryRun?: true }>({
  name: 'config',
  usage,
  summary:
    "after approval (the prompt shows the diff): edit `data.mesh` of the managed mesh's ConfigMap for the cluster's release channel (istio-asm-managed, -rapid or -stable in istio-system), every other key kept",
  example: 'config my-proj/us-central1/prod-1 access-log=on tracing=1',
  parse([ref, ...rest], aliases) {
    const cluster = clusterArgument(ref, aliases, usage);
    if (isInvalid(cluster)) return cluster;
    const options = parseOptions(rest, {
      'access-log': accessLogOption,
      tracing: tracingOption,
      ...dryRunOption,
    });
    if (isInvalid(options)) return options;
    const settings: MeshSettings = {
      ...(options['access-log'] !== undefined ? { accessLog: options['access-log'] } : {}),
      ...(options.tracing !== undefined ? { tracingSampling: options.tracing } : {}),
    };
    if (Object.keys(settings).length === 0)
      return invalid(`what should change? Give \`access-log=on|off\`, \`tracing=SAMPLING\` or both`);
    return { cluster, settings, ...dryRunOf(options) };
  },
  async handle(command, request, deps) {
    const options = { namespaces: [], restart: false, ...command.settings };
    const what = `${describeSettings(command.settings)} in the mesh config of \`${clusterKey(command.cluster)}\``;
    if (command.dryRun) return admitDryRun('mesh-config', command.cluster, options, what, request, deps);
    const admitted = await admitRun('mesh-config', command.cluster, options, request, deps);
    if (isReply(admitted)) return admitted;
    return ephemeral(
      `:inbox_tray: Queued run \`${admitted.id}\`: ${what} (after approval; the prompt shows the diff). Progress follows in a thread in this channel.`,
    );
  },
});
