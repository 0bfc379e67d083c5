import { accessRefusal } from './access.js';
import type { ClusterRef } from '../workflows/ports.js';
import { startRun } from '../workflows/registry.js';
import { clusterKey, type RunRecord, type WorkflowKind } from '../workflows/run.js';
import type { HandlerDeps } from './deps.js';
import { ephemeral, type EphemeralReply } from './reply.js';
import type { CommandRequest } from './verb.js';

/**
 * A new run, admitted: the trigger claimed (a replayed request starts nothing twice), the record
 * written, the cluster locked (one run per cluster) and the job enqueued. Returns the run, or the
 * answer that says why nothing started.
 */
export async function admitRun(
  kind: WorkflowKind,
  cluster: ClusterRef,
  options: RunRecord['options'],
  request: CommandRequest,
  deps: HandlerDeps,
): Promise<RunRecord | EphemeralReply> {
  const { runs, locks, triggers, queue, clock, log } = deps;
  // The trigger first: a replay (Slack retries after 3 s) is answered, not judged and audited again.
  const id = deps.newRunId();
  const claimed = await triggers.claim(request.triggerId, id);
  if (claimed !== id) {
    return (await runs.get(claimed))
      ? ephemeral(`This request was already received: run \`${claimed}\`.`)
      : ephemeral('This request was already received, and it started nothing. Nothing was changed.');
  }
  const refused = await accessRefusal(request, cluster, deps);
  if (refused) return ephemeral(`:no_entry: Not started: ${refused}. Nothing was changed.`);
  const run = startRun(kind, {
    id,
    now: clock.now(),
    requester: { userId: request.userId, channelId: request.channelId },
    cluster,
    options,
  });
  // Record first, then the lock: a lock whose holder has no record is known to be stale.
  await runs.create(run);
  const holder = await locks.lock(run);
  if (holder !== id) {
    await runs.remove(run);
    const other = await runs.get(holder);
    const where = other ? ` in <#${other.slack.channel}>` : '';
    return ephemeral(
      `A run is already going for \`${clusterKey(cluster)}\`: run \`${holder}\`${where}. Follow its thread; one run per cluster at a time.`,
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
  return run;
}

export function isReply(value: RunRecord | EphemeralReply): value is EphemeralReply {
  return 'response_type' in value;
}
