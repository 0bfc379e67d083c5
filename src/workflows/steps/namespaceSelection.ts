/**
 * What a run's `namespaces` mean: names, and patterns such as `team-*` for teams with more
 * namespaces than a command can spell. A pattern never selects a system namespace (kube-system,
 * istio-system, gke-…): those are injected only when named.
 */
import { MeshopsError } from '../../errors.js';
import { globMatches } from '../../glob.js';

/** Namespaces one run may change: its prompt summarises them, `status RUN_ID` lists them all. */
export const MAX_NAMESPACES = 1000;

const SYSTEM_NAMESPACES = ['kube-*', 'istio-system', 'asm-system', 'gke-*', 'gmp-*', 'config-management-*'];

export function isPattern(entry: string): boolean {
  return entry.includes('*');
}

export interface Selection {
  /** The namespaces selected, in the order asked (a pattern's matches sorted), each once. */
  names: string[];
  /** Names that do not exist and patterns that match nothing. */
  missing: string[];
}

export function selectNamespaces(asked: readonly string[], existing: readonly string[]): Selection {
  const present = new Set(existing);
  const selectable = [...existing]
    .filter((name) => !SYSTEM_NAMESPACES.some((system) => globMatches(system, name)))
    .sort();
  const names = new Set<string>();
  const missing: string[] = [];
  for (const entry of asked) {
    const matched = isPattern(entry)
      ? selectable.filter((name) => globMatches(entry, name))
      : present.has(entry)
        ? [entry]
        : [];
    if (matched.length === 0) missing.push(entry);
    for (const name of matched) names.add(name);
  }
  return { names: [...names], missing };
}

/**
 * The namespaces `asked` selects among `existing`, or why not: a name that does not exist, a
 * pattern that matches nothing, more than one run takes. `after` ends the message (what was done).
 */
export function resolveNamespaces(
  asked: readonly string[],
  existing: readonly string[],
  cluster: string,
  after = '',
): string[] {
  const { names, missing } = selectNamespaces(asked, existing);
  if (missing.length) {
    throw new MeshopsError('NOT_FOUND', `${missingNamespaces(missing, cluster)}${after}`, {
      hint: 'check the names and patterns (`kubectl get namespaces`), create them first, or leave them out of namespaces=',
    });
  }
  if (names.length > MAX_NAMESPACES) {
    throw new MeshopsError(
      'INVALID_ARGUMENT',
      `${asked.map((n) => `\`${n}\``).join(', ')} select ${names.length} namespaces; one run takes at most ${MAX_NAMESPACES}${after}`,
      { hint: 'narrow the patterns, or split the namespaces over several runs' },
    );
  }
  return names;
}

function missingNamespaces(missing: readonly string[], cluster: string): string {
  const listed = missing.map((n) => `\`${n}\``).join(', ');
  const patterns = missing.some(isPattern);
  if (missing.length === 1) {
    return patterns
      ? `no namespace in ${cluster} matches ${listed}`
      : `namespace ${listed} does not exist in ${cluster}`;
  }
  return `namespaces ${listed} ${patterns ? 'do not exist or match nothing' : 'do not exist'} in ${cluster}`;
}
