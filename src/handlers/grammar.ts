/**
 * The shared grammar of `/mesh …`: cluster references, aliases, channels and `key=value` options.
 * Pure: every malformed input becomes a reason the user reads; nothing is guessed.
 */
import { MAX_NAMESPACES } from '../workflows/steps/namespaceSelection.js';
import type { ClusterRef } from '../workflows/ports.js';

/** Slack shows at most 4,000 characters of a message; a command longer than that was not typed to be read. */
export const MAX_COMMAND_LENGTH = 4000;

export const projectId = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
export const location = /^[a-z]+-[a-z]+[0-9]+(-[a-z])?$/;
const clusterName = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
export const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** `team-*`, `*-apps`: namespaces of that shape when the run plans (never a system namespace). */
const namespacePattern = /^(?=[-a-z0-9]*\*)[-a-z0-9*]{1,63}$/;

/** A reason a verb's arguments were not understood. */
export interface Invalid {
  invalid: string;
}

export function invalid(reason: string): Invalid {
  return { invalid: reason };
}

export function isInvalid(value: unknown): value is Invalid {
  return typeof value === 'object' && value !== null && 'invalid' in value;
}

/** Quotes user input in a reason, short and without breaking the code span. */
export function show(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return `\`${shown.replace(/`/g, "'")}\``;
}

export function parseClusterRef(text: string, aliases: Record<string, string>): ClusterRef | string {
  // Own keys only: `__proto__` or `constructor` typed as a cluster must not resolve to Object's.
  const resolved = Object.hasOwn(aliases, text) ? (aliases[text] ?? text) : text;
  const full = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(resolved);
  const parts = full ? full.slice(1) : resolved.split('/');
  if (parts.length !== 3) {
    return `${show(text)} is not a cluster reference: use PROJECT/LOCATION/CLUSTER, projects/P/locations/L/clusters/C or an alias`;
  }
  const [project, loc, name] = parts as [string, string, string];
  if (!projectId.test(project)) return `${show(project)} is not a valid project ID`;
  if (!location.test(loc))
    return `${show(loc)} is not a valid location (a region such as us-central1 or a zone such as us-central1-a)`;
  if (!clusterName.test(name)) return `${show(name)} is not a valid cluster name`;
  return { project, location: loc, name };
}

/** What meshops' run ids look like (`newRunId`): `r`, base-36 time, random hex. */
export const runIdPattern = /^r[0-9a-z]{4,40}$/;

/** Namespace names, deduplicated; at least one, each a valid name. */
export function namespaceNames(names: string[], written = names.join(' ')): string[] | Invalid {
  const unique = [...new Set(names)];
  const bad = unique.find((ns) => !namespaceName.test(ns) && !namespacePattern.test(ns));
  if (bad !== undefined || unique.length === 0) {
    return invalid(
      `${show(bad ?? written)} is not a namespace name (lowercase letters, digits and -) or a pattern such as \`team-*\``,
    );
  }
  if (unique.length > MAX_NAMESPACES)
    return invalid(
      `${unique.length} namespaces is more than one run takes (at most ${MAX_NAMESPACES}): split them over several runs`,
    );
  return unique;
}

/** The one cluster argument of a verb, with `usage` in the reason when it is missing. */
export function clusterArgument(
  ref: string | undefined,
  aliases: Record<string, string>,
  usage: string,
): ClusterRef | Invalid {
  if (!ref) return invalid(`which cluster? \`/mesh ${usage}\``);
  // A pattern where one cluster is meant: say where patterns go, not that `-` is no location.
  const parts = ref.split('/');
  if (parts.length === 3 && (parts[1] === '-' || parts[2]!.includes('*')))
    return invalid(
      `${show(ref)} is a pattern: only \`enable cluster\` takes patterns (a batch; \`dry-run=true\` plans one). Give one PROJECT/LOCATION/CLUSTER: \`/mesh ${usage}\``,
    );
  const cluster = parseClusterRef(ref, aliases);
  return typeof cluster === 'string' ? invalid(cluster) : cluster;
}

/**
 * A channel as Slack sends it in a command's text when the command escapes channels
 * (`<#C0123|platform>`), or a bare channel ID.
 */
export function parseChannel(text: string): string | Invalid {
  const escaped = /^<#([CG][A-Z0-9]+)(\|[^>]*)?>$/.exec(text);
  if (escaped) return escaped[1]!;
  if (/^[CG][A-Z0-9]{2,}$/.test(text)) return text;
  return invalid(`${show(text)} is not a channel: pick one with # so Slack sends its ID`);
}

/** How one option's value is read: the value, or a reason it is not one. */
export type OptionReader<T> = (value: string) => T | Invalid;

/**
 * `key=value` options, each at most once, each known. Returns the values read, by key, or the
 * first reason one was not understood (naming the options there are).
 */
export function parseOptions<R extends Record<string, OptionReader<unknown>>>(
  args: string[],
  readers: R,
): { [K in keyof R]?: Exclude<ReturnType<R[K]>, Invalid> } | Invalid {
  const known = Object.keys(readers)
    .map((k) => `${k}=`)
    .join(', ');
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const match = /^([a-z-]+)=(.*)$/.exec(arg);
    if (!match) return invalid(`${show(arg)} is not an option: use ${known}`);
    const [, key, value] = match as unknown as [string, string, string];
    const read = Object.hasOwn(readers, key) ? readers[key] : undefined;
    if (!read) return invalid(`unknown option \`${key}=\`: use ${known}`);
    if (Object.hasOwn(out, key)) return invalid(`\`${key}=\` is given twice`);
    const parsed = read(value);
    if (isInvalid(parsed)) return parsed;
    out[key] = parsed;
  }
  return out as { [K in keyof R]?: Exclude<ReturnType<R[K]>, Invalid> };
}

export function booleanOption(key: string): OptionReader<boolean> {
  return (value) =>
    value === 'true' || value === 'false' ? value === 'true' : invalid(`\`${key}=\` takes true or false`);
}

/** `dry-run=true`: read everything, run every check, post the plan, change nothing. */
export const dryRunOption = { 'dry-run': booleanOption('dry-run') };

/** `fleet=HOST_PROJECT`: the cluster is (or joins) the fleet of a fleet host project, not its own project's. */
export const fleetOption = {
  fleet: (value: string): string | Invalid =>
    projectId.test(value) ? value : invalid(`\`fleet=\` takes a project ID: ${show(value)} is not one`),
};

/** `{ fleet }` when the options name a fleet host (absent otherwise). */
export function fleetAsked(options: { fleet?: string }): { fleet?: string } {
  return options.fleet ? { fleet: options.fleet } : {};
}

/** `{ dryRun: true }` when the options ask for a dry run (absent otherwise, as the command reads without it). */
export function dryRunOf(options: { 'dry-run'?: boolean }): { dryRun?: true } {
  return options['dry-run'] ? { dryRun: true } : {};
}

/** `VERB REF [#channel]`: a cluster and, if given, a channel. */
export function clusterAndChannel(
  [ref, channelArg, ...rest]: string[],
  aliases: Record<string, string>,
  verb: string,
): { cluster: ClusterRef; channel: string | null } | Invalid {
  const cluster = clusterArgument(ref, aliases, `${verb} PROJECT/LOCATION/CLUSTER`);
  if (isInvalid(cluster)) return cluster;
  if (rest.length)
    return invalid(`\`${verb}\` takes a cluster and a channel; ${show(rest.join(' '))} is extra`);
  if (!channelArg) return { cluster, channel: null };
  const channel = parseChannel(channelArg);
  return isInvalid(channel) ? channel : { cluster, channel };
}
