import type { ClusterRef } from '../../workflows/ports.js';
import { watchChain } from '../../jobs/watchers.js';
import { clusterKey } from '../../workflows/run.js';
import { clusterAndChannel } from '../grammar.js';
import { ephemeral } from '../reply.js';
import { defineVerb } from '../verb.js';

/**
 * `/mesh watch`: from now on the channel is told when the cluster's managed mesh changes.
 * Stored in Redis with a job scheduler; the first read sets the baseline.
 */
export const watchVerb = defineVerb<{ cluster: ClusterRef; channel: string | null }>({
  name: 'watch',
  usage: 'watch PROJECT/LOCATION/CLUSTER [#channel]',
  summary: 'be told in a channel when the managed mesh of a cluster is upgraded or its health changes',
  example: 'watch my-proj/us-central1/prod-1 #platform',
  parse: (args, aliases) => clusterAndChannel(args, aliases, 'watch'),
  async handle({ cluster, channel }, request, { watches, watchScheduler, notifyChannel, clock, log }) {
    const ref = clusterKey(cluster);
    const where = channel ?? notifyChannel ?? request.channelId;
    const added = await watches.add(ref, { channel: where, by: request.userId, since: clock.now() });
    await watchScheduler.start(ref);
    if (!added) return ephemeral(`<#${where}> already watches \`${ref}\`. \`/mesh list\` shows every watch.`);
    log.info({ cluster: ref, channel: where, by: request.userId }, 'watch started');
    return ephemeral(
      `:eyes: <#${where}> now watches \`${ref}\`: it is told when Google upgrades its control plane or proxies, changes its implementation, or its health changes. The first read sets the baseline. \`/mesh unwatch ${ref}\` stops it.`,
    );
  },
});

/** `/mesh unwatch`: the channel (or the only channel) watching the cluster stops being told. */
export const unwatchVerb = defineVerb<{ cluster: ClusterRef; channel: string | null }>({
  name: 'unwatch',
  usage: 'unwatch PROJECT/LOCATION/CLUSTER [#channel]',
  summary: 'stop the notifications for a cluster (in this channel, or the one named)',
  example: 'unwatch my-proj/us-central1/prod-1',
  parse: (args, aliases) => clusterAndChannel(args, aliases, 'unwatch'),
  async handle({ cluster, channel }, request, { watches, watchScheduler, outbox, log }) {
    const ref = clusterKey(cluster);
    const watch = await watches.get(ref);
    if (!watch) return ephemeral(`Nobody watches \`${ref}\`; nothing to stop.`);
    const named = channel ?? (watch.channels.length === 1 ? watch.channels[0]!.channel : request.channelId);
    const left = await watches.remove(ref, named);
    if (left === null) {
      const where = watch.channels.map((c) => `<#${c.channel}>`).join(', ');
      return ephemeral(
        `<#${named}> does not watch \`${ref}\` (${where} do). Name one: \`/mesh unwatch ${ref} #channel\`.`,
      );
    }
    if (left.length === 0 && (await watches.clustersOfProject(cluster.project)).length === 0) {
      await watchScheduler.stop(cluster.project);
    }
    // What was found but not sent yet is not sent either: the channel asked for silence.
    await outbox.cancel(watchChain(ref, named), 'unwatched');
    log.info({ cluster: ref, channel: named, by: request.userId }, 'watch stopped');
    const still = left.length ? ` Still watching it: ${left.map((c) => `<#${c.channel}>`).join(', ')}.` : '';
    return ephemeral(`:no_bell: <#${named}> no longer watches \`${ref}\`.${still}`);
  },
});
