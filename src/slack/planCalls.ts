/** How a planned change reads, in a dry run's plan and in an approval prompt: the call, and the command it rehearses. */
import type { PlannedCall } from '../workflows/ports.js';
import { clusterKey, type RunRecord } from '../workflows/run.js';

/**
 * The command a dry run rehearsed, as one types it to do it for real: every option that changes what
 * the run does, so a copy of it does the same (a `fleet=` dropped would put the cluster in another fleet).
 */
export function commandOf(run: RunRecord): string {
  const ref = clusterKey(run.cluster);
  const restart = run.options.restart ? '' : ' restart=false';
  const fleet = run.options.fleet ? ` fleet=${run.options.fleet}` : '';
  const namespaces = run.options.namespaces.length ? ` namespaces=${run.options.namespaces.join(',')}` : '';
  switch (run.kind) {
    case 'enable-cluster':
      return `/mesh enable cluster ${ref}${namespaces}${restart}${fleet}`;
    case 'inject':
    case 'uninject':
      return `/mesh ${run.kind} ${ref} ${run.options.namespaces.join(' ')}${restart}${fleet}`;
    case 'disable-cluster':
      return `/mesh disable cluster ${ref}${run.options.unregister ? ' unregister=true' : ''}${restart}${fleet}`;
    case 'enable-batch': {
      const labels = Object.entries(run.options.labels).map(([key, value]) => ` label:${key}=${value}`);
      return `/mesh enable cluster ${run.options.targets.join(' ')}${labels.join('')}${namespaces}${restart}${fleet}`;
    }
    case 'mesh-config': {
      const { accessLog, tracingSampling } = run.options;
      const access = accessLog === undefined ? '' : ` access-log=${accessLog ? 'on' : 'off'}`;
      const tracing = tracingSampling === undefined ? '' : ` tracing=${tracingSampling}`;
      return `/mesh config ${ref}${access}${tracing}`;
    }
  }
}

/** One call as the plan lists it: method and path in one code span, then the API and what it changes. */
export function callLine(call: PlannedCall): string {
  return `• \`${call.method} ${call.path}\` (${call.api}) — ${call.change}`;
}
