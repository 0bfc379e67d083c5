import { accessRefusal, auditRefusal } from '../access.js';
import { admitDryRun, admitRun, isReply } from '../admission.js';
import type { HandlerDeps } from '../deps.js';
import type { EphemeralReply } from '../reply.js';
import type { CommandRequest } from '../verb.js';
import { clusterKey } from '../../workflows/run.js';
import type { ClusterRef } from '../../workflows/ports.js';
import {
  booleanOption,
  clusterArgument,
  dryRunOf,
  dryRunOption,
  fleetAsked,
  fleetOption,
  invalid,
  isInvalid,
  namespaceNames,
  location as locationPattern,
  parseOptions,
  projectId,
  show,
  type Invalid,
} from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

export interface EnableClusterCommand {
  kind: 'enable-cluster';
  cluster: ClusterRef;
  namespaces: string[];
  restart: boolean;
  fleet?: string;
  dryRun?: true;
}

/** Several clusters, or patterns: one batch, its list confirmed first. */
export interface EnableBatchCommand {
  kind: 'enable-batch';
  targets: string[];
  labels: Record<string, string>;
  namespaces: string[];
  restart: boolean;
  fleet?: string;
  /** Plan every cluster the targets match, as a dry run each; no confirmation, no approval, no change. */
  dryRun?: true;
}

const usage =
  'enable cluster PROJECT/LOCATION/CLUSTER [more clusters or patterns: PROJECT/-/prod-*] [label:KEY=VALUE] [namespaces=a,b] [restart=true|false] [fleet=HOST_PROJECT] [dry-run=true]';

/** Targets in one command: more is a fleet to describe with patterns. */
const MAX_TARGETS = 50;

function namespaces(value: string): string[] | Invalid {
  return namespaceNames(value.split(',').filter(Boolean), value);
}

const namePattern = /^[a-z0-9*][-a-z0-9*]{0,39}$/;
const labelFilter = /^label:([a-z][-_a-z0-9]{0,62})=([-_a-z0-9]{0,63})$/;

/** `P/L/NAME` with `-` for every location or `*` in the name; null when it is not a pattern. */
function pattern(text: string): string | Invalid | null {
  const parts = text.split('/');
  if (parts.length !== 3 || !(parts[1] === '-' || parts[2]!.includes('*'))) return null;
  const [project, location, name] = parts as [string, string, string];
  if (!projectId.test(project)) return invalid(`${show(project)} is not a valid project ID`);
  if (location !== '-' && !locationPattern.test(location))
    return invalid(`${show(location)} is not a location (a region, a zone, or - for every location)`);
  if (!namePattern.test(name))
    return invalid(`${show(name)} is not a cluster name or pattern such as \`prod-*\``);
  return text;
}

/** The targets of a batch as the workflow matches them: `P/L/NAME` (patterns kept, references resolved). */
function batchTargets(written: string[], aliases: Record<string, string>): string[] | Invalid {
  const targets: string[] = [];
  for (const text of written) {
    const asPattern = pattern(text);
    if (asPattern !== null) {
      if (isInvalid(asPattern)) return asPattern;
      targets.push(asPattern);
      continue;
    }
    // A stray word after the first cluster reads as a mistyped option sooner than a cluster.
    if (targets.length > 0 && !text.includes('/') && !Object.hasOwn(aliases, text))
      return invalid(
        `${show(text)} is not an option (namespaces=, restart=, fleet=, dry-run=) nor a cluster reference`,
      );
    const cluster = clusterArgument(text, aliases, usage);
    if (isInvalid(cluster)) return cluster;
    targets.push(clusterKey(cluster));
  }
  return [...new Set(targets)];
}

/**
 * `/mesh enable cluster`: writes the run record and enqueues its job; the worker does the rest.
 * Idempotent on the trigger id, and one active run per cluster. Several clusters, patterns or
 * label filters make a batch: the worker resolves them and shows the list to confirm.
 */
export const enableVerb = defineVerb<EnableClusterCommand | EnableBatchCommand>({
  name: 'enable',
  usage,
  summary:
    'register the cluster(s) in the fleet, turn on managed Cloud Service Mesh, and (after one approval) inject the namespaces; `dry-run=true` plans it, for one cluster or a batch, and changes nothing',
  example: 'enable cluster my-proj/us-central1/prod-1 namespaces=default,shop',
  parse([noun, ...rest], aliases) {
    if (noun !== 'cluster')
      return invalid('`enable` takes `cluster`: `/mesh enable cluster PROJECT/LOCATION/CLUSTER`');
    // `key=value` and anything that looks like a flag are options (parseOptions says which it knows).
    const isOption = (a: string) => !a.startsWith('label:') && (a.includes('=') || a.startsWith('-'));
    const labelArgs = rest.filter((a) => a.startsWith('label:'));
    const optionArgs = rest.filter(isOption);
    const written = rest.filter((a) => !isOption(a) && !a.startsWith('label:'));
    if (written.length === 0) return invalid(`which cluster? \`/mesh ${usage}\``);
    if (written.length > MAX_TARGETS)
      return invalid(
        `${written.length} clusters and patterns is more than one command takes (${MAX_TARGETS}): use patterns such as \`my-proj/-/prod-*\``,
      );
    const options = parseOptions(optionArgs, {
      namespaces,
      restart: booleanOption('restart'),
      ...fleetOption,
      ...dryRunOption,
    });
    if (isInvalid(options)) return options;
    const labels: Record<string, string> = {};
    for (const arg of labelArgs) {
      const match = labelFilter.exec(arg);
      if (!match)
        return invalid(
          `${show(arg)} is not a label filter: use \`label:KEY=VALUE\` (lowercase, as GKE labels are)`,
        );
      labels[match[1]!] = match[2]!;
    }
    const common = {
      namespaces: options.namespaces ?? [],
      restart: options.restart ?? true,
      ...fleetAsked(options),
    };
    const only = written.length === 1 && labelArgs.length === 0 ? written[0]! : null;
    if (only !== null && pattern(only) === null) {
      const cluster = clusterArgument(only, aliases, usage);
      if (isInvalid(cluster)) return cluster;
      return { kind: 'enable-cluster', cluster, ...common, ...dryRunOf(options) };
    }
    const targets = batchTargets(written, aliases);
    if (isInvalid(targets)) return targets;
    // A batch dry run: the clusters resolved as the batch would, then a dry run of each.
    return { kind: 'enable-batch', targets, labels, ...common, ...dryRunOf(options) };
  },
  async handle(command, request, deps) {
    if (command.kind === 'enable-batch') return admitBatch(command, request, deps);
    const options = { namespaces: command.namespaces, restart: command.restart, ...fleetAsked(command) };
    const injected = command.namespaces.length
      ? ` then sidecar injection for ${command.namespaces.map((n) => `\`${n}\``).join(', ')} (after approval)`
      : '';
    const what = `managed Cloud Service Mesh on \`${clusterKey(command.cluster)}\`${injected}`;
    if (command.dryRun) return admitDryRun('enable-cluster', command.cluster, options, what, request, deps);
    const admitted = await admitRun('enable-cluster', command.cluster, options, request, deps);
    if (isReply(admitted)) return admitted;
    return ephemeral(
      `:inbox_tray: Queued run \`${admitted.id}\`: ${what}. Progress follows in a thread in this channel.`,
    );
  },
});

/**
 * A batch is admitted like a run, locking only its own scope; every project it names, and every fleet host
 * project those resolve to (admission judges those), must be one meshops may change.
 */
async function admitBatch(
  command: EnableBatchCommand,
  request: CommandRequest,
  deps: HandlerDeps,
): Promise<EphemeralReply> {
  const projects = [...new Set(command.targets.map((t) => t.split('/')[0]!))];
  for (const project of projects.slice(1)) {
    const scope = { project, location: '-', name: '*' };
    const refused = await accessRefusal(request, scope, deps);
    if (refused) {
      await auditRefusal(request, scope, refused, deps);
      return ephemeral(`:no_entry: Not started: ${refused}. Nothing was changed.`);
    }
  }
  const admitted = await admitRun(
    'enable-batch',
    (id) => ({ project: projects[0]!, location: '-', name: id }),
    {
      namespaces: command.namespaces,
      restart: command.restart,
      ...fleetAsked(command),
      targets: command.targets,
      labels: command.labels,
      responseUrl: request.responseUrl,
    },
    request,
    deps,
    command.dryRun ? { dryRun: true } : {},
  );
  if (isReply(admitted)) return admitted;
  if (command.dryRun)
    return ephemeral(
      `:test_tube: Queued dry run of batch \`${admitted.id}\`: looking for the clusters ${command.targets.map((t) => `\`${t}\``).join(', ')} match, then a dry run of each. It reads everything, runs every check and changes nothing; nothing to confirm or approve. The plans follow in a thread in this channel.`,
    );
  return ephemeral(
    `:mag: Batch \`${admitted.id}\`: looking for the clusters ${command.targets.map((t) => `\`${t}\``).join(', ')} match… the list follows here (only you see it), with a button to start them.`,
  );
}
