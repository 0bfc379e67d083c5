import { anyGlobMatches } from '../glob.js';
import { mention } from '../slack/render.js';
import type { ClusterRef } from '../workflows/ports.js';
import { clusterKey } from '../workflows/run.js';
import type { HandlerDeps } from './deps.js';
import type { CommandRequest } from './verb.js';

/**
 * Who may ask for a change (config `access`): requesters by user or user group, the channels the
 * bot takes commands in, the projects it may change. An empty list lets everyone. Returns why
 * not, or null; the caller audits a refusal (auditRefusal), once per request.
 */
export async function accessRefusal(
  request: CommandRequest,
  cluster: ClusterRef,
  deps: HandlerDeps,
): Promise<string | null> {
  const { requesters, channels } = deps.access;
  let why: string | null = null;
  if (requesters.length && !(await deps.directory.includes(requesters, request.userId))) {
    why = `you may not ask meshops for changes (config access.requesters: ${requesters.map(mention).join(', ')})`;
  } else if (channels.length && !channels.includes(request.channelId)) {
    why = `meshops takes change requests only in ${channels.map((c) => `<#${c}>`).join(', ')} (config access.channels)`;
  } else {
    why = projectRefusal(cluster.project, deps);
  }
  return why;
}

/** Why meshops may not work in `project` (config access.projects), or null. */
export function projectRefusal(project: string, deps: Pick<HandlerDeps, 'access'>): string | null {
  const { projects } = deps.access;
  if (!projects.length || anyGlobMatches(projects, project)) return null;
  return `project \`${project}\` is not one meshops may change (config access.projects: ${projects.map((p) => `\`${p}\``).join(', ')})`;
}

/** A refused request in the cluster's audit trail: changes nothing else. */
export async function auditRefusal(
  request: CommandRequest,
  cluster: ClusterRef,
  why: string,
  deps: HandlerDeps,
): Promise<void> {
  deps.log.info({ user: request.userId, cluster: clusterKey(cluster), why }, 'request refused');
  await deps.audit.append(clusterKey(cluster), {
    at: deps.clock.now(),
    action: 'request-refused',
    user: request.userId,
    reason: why,
  });
}
