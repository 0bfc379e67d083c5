import { accessRefusal, auditRefusal } from './access.js';
import type { ClusterRef } from '../workflows/ports.js';
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

/**
 * A new run, admitted: the trigger claimed (a replayed request starts nothing twice), the record
 * written and the cluster locked (one run per cluster), all in one Redis round trip, then the job
 * enqueued. Returns the run, or the answer that says why nothing started.
 */
export async function admitRun(
  kind: WorkflowKind,
  /** The cluster, or (a batch) the scope named after the run's id that it locks instead. */
  target: ClusterRef | ((runId: string) => ClusterRef),
  options: RunRecord['options'],
  request: CommandRequest,
  deps: HandlerDeps,
): Promise<RunRecord | EphemeralReply> {
  const { runs, locks, triggers, queue, clock, log } = deps;
  const id = deps.newRunId();
  const cluster = typeof target === 'function' ? target(id) : target;
  const refused = await accessRefusal(request, cluster, deps);
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
  });
  const admitted = await runs.admit(run, request.triggerId);
  if (admitted.state === 'replay') return replayAnswer(admitted.claimant, deps);
  if (admitted.state === 'busy') {
    const other = await runs.get(admitted.holder);
    const where = other ? ` in <#${other.slack.channel}>` : '';
    return ephemeral(
      `A run is already going for \`${clusterKey(cluster)}\`: run \`${admitted.holder}\`${where}. Follow its thread; one run per cluster at a time.`,
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
    { runId: id, kind, cluster: clusterKey(cluster), requester: request.userId, options },
    'run queued',
  );
  return admitted.run;
}

export function isReply(value: RunRecord | EphemeralReply): value is EphemeralReply {
  return 'response_type' in value;
}
