import { accessRefusal, auditRefusal, projectRefusal } from './access.js';
import type { ClusterRef } from '../workflows/ports.js';
import { fleetProjectFor } from '../workflows/fleetHost.js';
import { startRun } from '../workflows/registry.js';
import { clusterKey, type RunRecord, type WorkflowKind } from '../workflows/run.js';
import type { HandlerDeps } from './deps.js';
import { ephemeral, type EphemeralReply } from './reply.js';
import type { CommandRequest } from './verb.js';

/** The answer to a request Slack delivered again: what the first delivery started, if anything. */
async function replayAnswer(claimant: string, deps: HandlerDeps): Promise<EphemeralReply> {
  return (await deps.runs.get(claimant))
    ? ephemeral(`This request was already received: run \`${claimant}\`.`)
    : ephemeral('This request was already received, and it started nothing. Nothing was changed.');
}

/** Where a run goes and what it does, as a verb hands it to admission. */
interface RunRequest {
  kind: WorkflowKind;
  /** The cluster, or (a batch) the scope named after the run's id that it locks instead. */
  target: ClusterRef | ((runId: string) => ClusterRef);
  options: RunRecord['options'];
  dryRun?: boolean;
}

/**
 * A new run, admitted: the trigger claimed (a replayed request starts nothing twice), the record
 * written and the cluster locked (one run per cluster; a dry run locks nothing), all in one Redis
 * round trip, then the job enqueued. Returns the run (and the active run that holds the cluster, for a
 * dry run admitted beside it), or the answer that says why nothing started.
 */
async function admit(
  { kind, target, options, dryRun }: RunRequest,
  request: CommandRequest,
  deps: HandlerDeps,
): Promise<{ run: RunRecord; holder?: string } | EphemeralReply> {
  const { runs, locks, triggers, queue, clock, log } = deps;
  const id = deps.newRunId();
  const cluster = typeof target === 'function' ? target(id) : target;
  const refused = await hostAwareRefusal(request, cluster, options, deps);
  if (refused) {
    // A replay (Slack retries after 3 s) is answered as one, not judged and audited again.
    const claimed = await triggers.claim(request.triggerId, id);
    if (claimed !== id) return replayAnswer(claimed, deps);
    await auditRefusal(request, cluster, refused, deps);
    return ephemeral(`:no_entry: Not started: ${refused}. Nothing was changed.`);
  }
  const run = startRun(kind, {
    id,
    now: clock.now(),
    requester: { userId: request.userId, channelId: request.channelId },
    cluster,
    options,
    ...(dryRun ? { dryRun } : {}),
  });
  const admitted = await runs.admit(run, request.triggerId);
  if (admitted.state === 'replay') return replayAnswer(admitted.claimant, deps);
  if (admitted.state === 'busy') {
    const other = await runs.get(admitted.holder);
    const where = other ? ` in <#${other.slack.channel}>` : '';
    return ephemeral(
      `A run is already going for \`${clusterKey(cluster)}\`: run \`${admitted.holder}\`${where}. Follow its thread; one run per cluster at a time. \`dry-run=true\` shows what a run would do, beside it.`,
    );
  }
  try {
    await queue.enqueue(id);
  } catch (error) {
    await locks.unlock(run);
    await runs.remove(run);
    throw error;
  }
  log.info(
    { runId: id, kind, cluster: clusterKey(cluster), requester: request.userId, options, dryRun },
    'run queued',
  );
  return { run: admitted.run, ...(admitted.holder ? { holder: admitted.holder } : {}) };
}

/**
 * accessRefusal for the cluster and, for every fleet host project its clusters join (`fleet=` or config
 * fleet.hostProjects), the host project too: the run changes the host's fleet. A batch's clusters are
 * known by their targets' projects (a target's project is never a pattern), each resolving to its own host.
 */
async function hostAwareRefusal(
  request: CommandRequest,
  cluster: ClusterRef,
  options: RunRecord['options'],
  deps: HandlerDeps,
): Promise<string | null> {
  const refused = await accessRefusal(request, cluster, deps);
  if (refused) return refused;
  // The requester and the channel passed above; what is left to judge per host is its project.
  const { fleet, targets } = options as { fleet?: string; targets?: string[] };
  if (!targets) {
    const host = fleetProjectFor(cluster, deps.hostProjects, fleet);
    return host === cluster.project ? null : projectRefusal(host, deps);
  }
  const membersOf = new Map<string, string[]>();
  for (const project of new Set(targets.map((t) => t.split('/')[0]!))) {
    const host = fleetProjectFor({ project }, deps.hostProjects, fleet);
    if (host !== project) membersOf.set(host, [...(membersOf.get(host) ?? []), project]);
  }
  const refusedHosts = [...membersOf].filter(([host]) => projectRefusal(host, deps) !== null);
  if (refusedHosts.length === 0) return null;
  const why = fleet ? `fleet=${fleet}` : 'config fleet.hostProjects';
  return `the batch's clusters join the fleets of fleet host projects meshops may not change: ${refusedHosts
    .map(([host, members]) => `\`${host}\` (for ${members.map((p) => `\`${p}\``).join(', ')})`)
    .join(', ')} (${why}; config access.projects: ${deps.access.projects.map((p) => `\`${p}\``).join(', ')})`;
}

/**
 * A run admitted (see `admit`), or the answer that says why nothing started. `dryRun`: a batch's dry
 * run (its members are dry runs; a single cluster's goes through admitDryRun, which says so).
 */
export async function admitRun(
  kind: WorkflowKind,
  target: RunRequest['target'],
  options: RunRecord['options'],
  request: CommandRequest,
  deps: HandlerDeps,
  { dryRun }: { dryRun?: boolean } = {},
): Promise<RunRecord | EphemeralReply> {
  const admitted = await admit({ kind, target, options, ...(dryRun ? { dryRun } : {}) }, request, deps);
  return isReply(admitted) ? admitted : admitted.run;
}

/**
 * A dry run of `kind` on `cluster`, admitted beside any run that holds the cluster; the answer says
 * what it will do (`what`: "managed Cloud Service Mesh on `P/L/C`") and that it changes nothing.
 */
export async function admitDryRun(
  kind: WorkflowKind,
  cluster: ClusterRef,
  options: RunRecord['options'],
  what: string,
  request: CommandRequest,
  deps: HandlerDeps,
): Promise<EphemeralReply> {
  const admitted = await admit({ kind, target: cluster, options, dryRun: true }, request, deps);
  if (isReply(admitted)) return admitted;
  const beside = admitted.holder
    ? ` Run \`${admitted.holder}\` is going on this cluster: the plan reads the world as it is now, and holds nothing up.`
    : '';
  return ephemeral(
    `:test_tube: Queued dry run \`${admitted.run.id}\`: ${what}. It reads everything, runs every check and changes nothing; the plan follows in a thread in this channel.${beside}`,
  );
}

export function isReply(value: object): value is EphemeralReply {
  return 'response_type' in value;
}
