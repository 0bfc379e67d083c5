/**
 * `/mesh …` text → a command, or a reason it is not one. Pure: no I/O, so every malformed input can
 * be tested directly. Anything not understood becomes an error with the usage; nothing is guessed.
 */
import type { ClusterRef } from '../workflows/ports.js';

export type MeshCommand =
  | { kind: 'help' }
  | { kind: 'enable-cluster'; cluster: ClusterRef; namespaces: string[]; restart: boolean }
  | { kind: 'not-yet'; verb: string }
  | { kind: 'invalid'; reason: string };

export const MAX_COMMAND_LENGTH = 1000;

/** Verbs from DESIGN.md that this version does not run yet: they get a clear answer, not a usage error. */
const plannedVerbs = new Set([
  'inject',
  'uninject',
  'disable',
  'status',
  'list',
  'cancel',
  'watch',
  'unwatch',
]);

const projectId = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const location = /^[a-z]+-[a-z]+[0-9]+(-[a-z])?$/;
const clusterName = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function show(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return `\`${shown.replace(/`/g, "'")}\``;
}

export function parseClusterRef(text: string, aliases: Record<string, string>): ClusterRef | string {
  const resolved = aliases[text] ?? text;
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

function parseEnableCluster(args: string[], aliases: Record<string, string>): MeshCommand {
  const [noun, ref, ...options] = args;
  if (noun !== 'cluster')
    return {
      kind: 'invalid',
      reason: '`enable` takes `cluster`: `/mesh enable cluster PROJECT/LOCATION/CLUSTER`',
    };
  if (!ref)
    return { kind: 'invalid', reason: 'which cluster? `/mesh enable cluster PROJECT/LOCATION/CLUSTER`' };
  const cluster = parseClusterRef(ref, aliases);
  if (typeof cluster === 'string') return { kind: 'invalid', reason: cluster };
  let namespaces: string[] = [];
  let restart = true;
  const seen = new Set<string>();
  for (const option of options) {
    const match = /^([a-z]+)=(.*)$/.exec(option);
    if (!match)
      return {
        kind: 'invalid',
        reason: `${show(option)} is not an option: use namespaces=a,b or restart=true|false`,
      };
    const [, key, value] = match as unknown as [string, string, string];
    if (seen.has(key)) return { kind: 'invalid', reason: `\`${key}=\` is given twice` };
    seen.add(key);
    if (key === 'namespaces') {
      namespaces = [...new Set(value.split(',').filter(Boolean))];
      const bad = namespaces.find((ns) => !namespaceName.test(ns));
      if (bad !== undefined || namespaces.length === 0) {
        return {
          kind: 'invalid',
          reason: `${show(bad ?? value)} is not a namespace name (lowercase letters, digits and -)`,
        };
      }
      if (namespaces.length > 50) return { kind: 'invalid', reason: 'at most 50 namespaces per run' };
    } else if (key === 'restart') {
      if (value !== 'true' && value !== 'false')
        return { kind: 'invalid', reason: '`restart=` takes true or false' };
      restart = value === 'true';
    } else {
      return {
        kind: 'invalid',
        reason: `unknown option \`${key}=\`: use namespaces=a,b or restart=true|false`,
      };
    }
  }
  return { kind: 'enable-cluster', cluster, namespaces, restart };
}

export function parseMeshCommand(text: string, aliases: Record<string, string> = {}): MeshCommand {
  if (text.length > MAX_COMMAND_LENGTH) {
    return {
      kind: 'invalid',
      reason: `the command is ${text.length} characters long; the limit is ${MAX_COMMAND_LENGTH}`,
    };
  }
  const args = text.trim().split(/\s+/).filter(Boolean);
  const [verb, ...rest] = args;
  if (!verb || verb === 'help') return { kind: 'help' };
  if (verb === 'enable') return parseEnableCluster(rest, aliases);
  if (plannedVerbs.has(verb)) return { kind: 'not-yet', verb };
  return { kind: 'invalid', reason: `unknown command ${show(verb)}` };
}

export const usage = [
  '*Usage*',
  '• `/mesh enable cluster PROJECT/LOCATION/CLUSTER [namespaces=a,b] [restart=true|false]` — register the cluster in the fleet, turn on managed Cloud Service Mesh, and (after approval) inject the namespaces',
  '• `/mesh help` — this message',
  'A cluster is `PROJECT/LOCATION/CLUSTER` (e.g. `my-proj/us-central1/prod-1`), `projects/P/locations/L/clusters/C`, or an alias from the config.',
].join('\n');
