/** How a planned change reads, in a dry run's plan and in an approval prompt: the call, and the command it rehearses. */
import type { PlannedCall } from '../workflows/ports.js';
import { clusterKey, type RunRecord } from '../workflows/run.js';

/** The command a dry run rehearsed, as one types it to do it for real. */
export function commandOf(run: RunRecord): string {
  const ref = clusterKey(run.cluster);
  const restart = run.options.restart ? '' : ' restart=false';
  switch (run.kind) {
    case 'enable-cluster': {
      const namespaces = run.options.namespaces.length
        ? ` namespaces=${run.options.namespaces.join(',')}`
        : '';
      return `/mesh enable cluster ${ref}${namespaces}${restart}`;
    }
    case 'inject':
    case 'uninject':
      return `/mesh ${run.kind} ${ref} ${run.options.namespaces.join(' ')}${restart}`;
    case 'disable-cluster':
      return `/mesh disable cluster ${ref}${run.options.unregister ? ' unregister=true' : ''}${restart}`;
    case 'enable-batch': {
      const labels = Object.entries(run.options.labels).map(([k, v]) => ` label:${k}=${v}`);
      const namespaces = run.options.namespaces.length
        ? ` namespaces=${run.options.namespaces.join(',')}`
        : '';
      const fleet = run.options.fleet ? ` fleet=${run.options.fleet}` : '';
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
