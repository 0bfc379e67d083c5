import { startRun } from '../../workflows/registry.js';
import { clusterKey } from '../../workflows/run.js';
import type { ClusterRef } from '../../workflows/ports.js';
import {
  booleanOption,
  clusterArgument,
  invalid,
  isInvalid,
  namespaceName,
  parseOptions,
  show,
} from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

export interface EnableClusterCommand {
  kind: 'enable-cluster';
  cluster: ClusterRef;
  namespaces: string[];
  restart: boolean;
}

const usage = 'enable cluster PROJECT/LOCATION/CLUSTER [namespaces=a,b] [restart=true|false]';

function namespaces(value: string): string[] | ReturnType<typeof invalid> {
  const names = [...new Set(value.split(',').filter(Boolean))];
  const bad = names.find((ns) => !namespaceName.test(ns));
  if (bad !== undefined || names.length === 0) {
    return invalid(`${show(bad ?? value)} is not a namespace name (lowercase letters, digits and -)`);
  }
  if (names.length > 50) return invalid('at most 50 namespaces per run');
  return names;
}

/**
 * `/mesh enable cluster`: writes the run record and enqueues its job; the worker does the rest.
 * Idempotent on the trigger id, and one active run per cluster.
 */
export const enableVerb = defineVerb<EnableClusterCommand>({
  name: 'enable',
  usage,
  summary:
    'register the cluster in the fleet, turn on managed Cloud Service Mesh, and (after approval) inject the namespaces',
  example: 'enable cluster my-proj/us-central1/prod-1 namespaces=default,shop',
  parse([noun, ref, ...rest], aliases) {
    if (noun !== 'cluster')
      return invalid('`enable` takes `cluster`: `/mesh enable cluster PROJECT/LOCATION/CLUSTER`');
    const cluster = clusterArgument(ref, aliases, 'enable cluster PROJECT/LOCATION/CLUSTER');
    if (isInvalid(cluster)) return cluster;
    const options = parseOptions(rest, { namespaces, restart: booleanOption('restart') });
    if (isInvalid(options)) return options;
    return {
      kind: 'enable-cluster',
      cluster,
      namespaces: options.namespaces ?? [],
      restart: options.restart ?? true,
    };
  },
  async handle(command, request, deps) {
    const { runs, locks, triggers, queue, clock, log } = deps;
    const id = deps.newRunId();
    const cluster = clusterKey(command.cluster);
    const claimed = await triggers.claim(request.triggerId, id);
    if (claimed !== id) return ephemeral(`This request was already received: run \`${claimed}\`.`);

    const run = startRun('enable-cluster', {
      id,
      now: clock.now(),
      requester: { userId: request.userId, channelId: request.channelId },
      cluster: command.cluster,
      options: { namespaces: command.namespaces, restart: command.restart },
    });
    // Record first, then the lock: a lock whose holder has no record is known to be stale.
    await runs.create(run);
    const holder = await locks.lock(run);
    if (holder !== id) {
      await runs.remove(run);
      const other = await runs.get(holder);
      const where = other ? ` in <#${other.slack.channel}>` : '';
      return ephemeral(
        `A run is already going for \`${cluster}\`: run \`${holder}\`${where}. Follow its thread; one run per cluster at a time.`,
      );
    }
    try {
      await queue.enqueue(id);
    } catch (error) {
      await locks.unlock(run);
      await runs.remove(run);
      throw error;
    }
    log.info({ runId: id, cluster, requester: request.userId, namespaces: command.namespaces }, 'run queued');
    const injected = command.namespaces.length
      ? ` then sidecar injection for ${command.namespaces.map((n) => `\`${n}\``).join(', ')} (after approval)`
      : '';
    return ephemeral(
      `:inbox_tray: Queued run \`${id}\`: managed Cloud Service Mesh on \`${cluster}\`${injected}. Progress follows in a thread in this channel.`,
    );
  },
});
