import { clusterKey, newRun } from '../../workflows/run.js';
import type { HandlerDeps } from '../deps.js';
import type { MeshCommand } from '../parse.js';
import { ephemeral, type EphemeralReply } from '../reply.js';

export interface CommandContext {
  userId: string;
  channelId: string;
  /** Slack's id of this very invocation: a replayed request carries the same one. */
  triggerId: string;
}

/**
 * Writes the run record and enqueues its job; the worker does the rest. Idempotent on the
 * trigger id, and one active run per cluster.
 */
export async function enableClusterCommand(
  command: Extract<MeshCommand, { kind: 'enable-cluster' }>,
  context: CommandContext,
  deps: HandlerDeps,
): Promise<EphemeralReply> {
  const { store, queue, clock, log } = deps;
  const id = deps.newRunId();
  const cluster = clusterKey(command.cluster);
  const claimed = await store.claimTrigger(context.triggerId, id);
  if (claimed !== id) return ephemeral(`This request was already received: run \`${claimed}\`.`);

  const run = newRun({
    id,
    now: clock.now(),
    requester: { userId: context.userId, channelId: context.channelId },
    cluster: command.cluster,
    options: { namespaces: command.namespaces, restart: command.restart },
  });
  // Record first, then the lock: a lock whose holder has no record is known to be stale.
  await store.create(run);
  const holder = await store.lockCluster(run);
  if (holder !== id) {
    await store.remove(run);
    const other = await store.get(holder);
    const where = other ? ` in <#${other.slack.channel}>` : '';
    return ephemeral(
      `A run is already going for \`${cluster}\`: run \`${holder}\`${where}. Follow its thread; one run per cluster at a time.`,
    );
  }
  try {
    await queue.enqueue(id);
  } catch (error) {
    await store.unlockCluster(run);
    await store.remove(run);
    throw error;
  }
  log.info({ runId: id, cluster, requester: context.userId, namespaces: command.namespaces }, 'run queued');
  const namespaces = command.namespaces.length
    ? ` then sidecar injection for ${command.namespaces.map((n) => `\`${n}\``).join(', ')} (after approval)`
    : '';
  return ephemeral(
    `:inbox_tray: Queued run \`${id}\`: managed Cloud Service Mesh on \`${cluster}\`${namespaces}. Progress follows in a thread in this channel.`,
  );
}
